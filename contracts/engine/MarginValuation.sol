// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {IVolSurfaceOracle} from "../interfaces/IVolSurfaceOracle.sol";
import {DynamicArrayLib} from "solady/src/utils/DynamicArrayLib.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {BlackScholes} from "../libraries/BlackScholes.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {SviMath} from "../libraries/SviMath.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title MarginValuation
/// @notice What every margin manager shares: prices read once per check, collateral priced in
/// WAD USD, the mark of a series and the health of a margin state. The registry (which asset is
/// underlying `index`) is read through virtual functions: the engine reads its own storage, the
/// portfolio manager asks the engine.
abstract contract MarginValuation {
    using DynamicArrayLib for uint256[];

    /// @dev Entries of a check's surface cache (`SurfaceCache.surfaces`): direct-mapped by day and index.
    uint256 private constant _SURFACE_SLOTS = 8;
    /// @dev Byte offsets of `IVolSurfaceOracle.Surface`'s fields in memory (one word each, in
    /// declaration order: a, b, ρ, m, σ, timestamp, confidenceWad, maturesAt, mature).
    uint256 private constant _SURFACE_TIMESTAMP = 0xa0;
    uint256 private constant _SURFACE_CONFIDENCE = 0xc0;
    uint256 private constant _SURFACE_MATURE = 0x100;

    ICollateralVault internal immutable _vault;
    IPledgeOracle internal immutable _oracle;
    uint8 internal immutable _cashDecimals;

    /// @dev Prices and underlying assets read once per check: one slot per underlying index,
    /// filled lazily (0 = not read yet; index 0 is never listed).
    struct PriceCache {
        uint256[] spot;
        uint256[] vol;
        address[] assets;
        SurfaceCache surface;
    }

    /// @dev The vol surface as one check reads it (`docs/vol-surface.md`, "Marks and margin"):
    /// the engine's surface parameters, read lazily with the first live series, per underlying
    /// index whether it marks on the surface (0 = not read yet, 1 = flat vol feed, 2 = surface)
    /// and its confidence add-on per contract at confidence 0, `spot × addOn` rounded up, before
    /// each series' (1 − confidence) factor (at the check's spot, which no check changes once
    /// read: computed once per underlying, not per series), the first live series met whose
    /// surface is FALLBACK and whose side the manager's initial margin counts
    /// (`_fallbackLongsCount`), and the
    /// surfaces read (`_surfaceAt`; allocated with the first surface underlying): per slot, word
    /// 2·slot is the key (index << 40) | expiry (0 when empty) and word 2·slot + 1 the memory address
    /// of its `IVolSurfaceOracle.Surface` (an address: an array of structs would allocate and zero
    /// 8 structs per check).
    struct SurfaceCache {
        IVolSurfaceOracle oracle;
        uint256 maxAge;
        uint256[] mode;
        uint256[] addOnWad;
        address unusableAsset;
        uint256 unusableExpiry;
        uint256[] surfaces;
    }

    /// @dev One collateral balance as a manager needs it: its listed-underlying index (0 if none),
    /// native amount, configuration and value with no haircut (0 when delisted or unpriceable).
    struct Holding {
        uint16 underlyingIndex;
        uint256 tokens;
        uint256 valueWad;
        ICollateralVault.AssetConfig config;
    }

    constructor(ICollateralVault vault_, IPledgeOracle oracle_) {
        _vault = vault_;
        _oracle = oracle_;
        _cashDecimals = vault_.assetConfig(vault_.cashAsset()).decimals;
    }

    // ---------------------------------------------------------------- registry

    /// @dev How many underlyings are listed (indices 1..count).
    function _underlyingCount() internal view virtual returns (uint256);

    /// @dev The asset of listed underlying `index`.
    function _readAsset(uint16 index) internal view virtual returns (address);

    /// @dev The underlying index of `asset`, 0 if it is not listed.
    function _readListedIndex(address asset) internal view virtual returns (uint16);

    /// @dev The engine's surface parameters for underlying `index`: the vol-surface oracle (zero:
    /// none), the largest age of a FRESH surface, and the underlying's confidence add-on.
    function _readSurfaceParams(
        uint16 index
    ) internal view virtual returns (IVolSurfaceOracle surface, uint256 maxAge, uint256 addOnWad);

    /// @dev Whether a long on a FALLBACK surface refuses new risk as a short does: true where
    /// initial margin counts a long's value (PORTFOLIO: its scenarios offset the shorts'), false
    /// where it does not (standard margin counts longs at zero, so no vol can move their initial
    /// margin, and refusing them only kept free cash in: review rv20 P3a, docs/security.md M10).
    function _fallbackLongsCount() internal pure virtual returns (bool);

    // ---------------------------------------------------------------- valuation

    /// @dev The signed cash of `account` in WAD and every collateral balance it holds, priced.
    function _holdings(
        AccountId account,
        PriceCache memory cache
    ) internal view returns (int256 cashWad, Holding[] memory holdings) {
        uint256[] memory balances;
        {
            int256 cash;
            (balances, cash) = _vault.balancesOf(account);
            cashWad = CashUnits.toWadDown(cash, _cashDecimals);
        }
        holdings = new Holding[](balances.length);
        address[] memory assets;
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] == 0) continue;
            if (assets.length == 0) assets = _vault.collateralAssets();
            holdings[i] = _holding(assets[i], balances[i], cache);
        }
    }

    /// @dev One collateral balance, priced. Collateral that is delisted or cannot be priced is
    /// worth zero rather than making the whole account impossible to value (finding 12): a dead
    /// feed holds no account hostage.
    function _holding(
        address asset,
        uint256 amount,
        PriceCache memory cache
    ) private view returns (Holding memory holding) {
        holding.config = _vault.assetConfig(asset);
        if (holding.config.delisted) return holding;
        uint16 u = _readListedIndex(asset);
        uint256 price = _collateralPrice(asset, u, cache);
        if (price == 0) return holding;
        holding.underlyingIndex = u;
        holding.tokens = amount;
        holding.valueWad = MarginMath.tokenValueDown(amount, holding.config.decimals, price);
    }

    /// @dev A holding's value with initial and with maintenance haircuts.
    function _haircutValues(Holding memory holding) internal pure returns (int256 im, int256 mm) {
        im = int256(MarginMath.applyHaircutDown(holding.valueWad, holding.config.initialHaircutWad));
        mm = int256(MarginMath.applyHaircutDown(holding.valueWad, holding.config.maintenanceHaircutWad));
    }

    /// @dev The mark of one contract of `seriesId`, held long if `isLong` (a FALLBACK vol depends on
    /// the side: review rv20 P1), as a `MarkResult` (`_mark`'s values).
    function _markOf(
        SeriesId seriesId,
        PriceCache memory cache,
        bool isLong
    ) internal view returns (IMarginEngine.MarkResult memory result) {
        (result.markWad, result.spotWad, result.settled, result.volWad, result.addOnWad) = _mark(
            seriesId,
            cache,
            isLong
        );
    }

    /// @dev The mark of one contract of `seriesId` and what it was computed from, on the stack (the
    /// fields of `IMarginEngine.MarkResult`, in order): the standard check calls it once per
    /// position, where a memory struct each would be an allocation each (memory is never freed).
    /// Before expiry: Black–Scholes with r = 0, from ln(S/K) computed once for the smile and the
    /// price (`callPriceLn` is `callPrice` to the wei; the put by parity, as `putPrice`). After
    /// expiry: intrinsic value at the settlement price if posted (settled), else at spot.
    function _mark(
        SeriesId seriesId,
        PriceCache memory cache,
        bool isLong
    ) internal view returns (uint256 markWad, uint256 spotWad, bool settled, uint256 volWad, uint256 addOnWad) {
        // Every per-index array of the cache has `_underlyingCount() + 1` entries: a held series'
        // index is below that (a series is listed on a listed underlying, and none is ever
        // unlisted), so this one check covers the unchecked reads (`_at`) of the whole mark. An id
        // passed to a view (`mark`) may name no underlying at all.
        if (SeriesLib.underlyingIndexOf(seriesId) >= cache.spot.length) {
            revert IMarginEngine.EngineUnderlyingNotListed(address(0));
        }
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (block.timestamp >= expiry) {
            (markWad, spotWad, settled) = _expiredMark(seriesId, expiry, cache);
            return (markWad, spotWad, settled, 0, 0);
        }
        // The series' fields are decoded where used (a shift each), not held: the legacy pipeline,
        // which compiles this file for the tests, runs out of stack slots otherwise.
        spotWad = _at(cache.spot, SeriesLib.underlyingIndexOf(seriesId));
        if (spotWad == 0) spotWad = _spot(SeriesLib.underlyingIndexOf(seriesId), cache);
        // Series have 0 < strike ≤ 1e30 and the oracle never returns a zero spot, where `callPrice`
        // would give the intrinsic value and `lnMoneyness` reverts; elsewhere both have one domain.
        int256 lnMoneyness = BlackScholes.lnMoneyness(spotWad, SeriesLib.strikeOf(seriesId));
        // The common case inline: a flat underlying whose mode and vol this check has read.
        if (_at(cache.surface.mode, SeriesLib.underlyingIndexOf(seriesId)) == 1) {
            volWad = _at(cache.vol, SeriesLib.underlyingIndexOf(seriesId));
        }
        if (volWad == 0) {
            (volWad, addOnWad) = _markVol(
                cache,
                SeriesLib.underlyingIndexOf(seriesId),
                expiry,
                spotWad,
                lnMoneyness,
                isLong
            );
        }
        markWad = _livePrice(seriesId, expiry, spotWad, volWad, lnMoneyness);
    }

    /// @dev The Black–Scholes price of one contract of live `seriesId` (expiry after the block).
    function _livePrice(
        SeriesId seriesId,
        uint256 expiry,
        uint256 spotWad,
        uint256 volWad,
        int256 lnMoneyness
    ) private view returns (uint256 markWad) {
        uint256 strike = SeriesLib.strikeOf(seriesId);
        // Unchecked: expiry > block.timestamp here, so the time to expiry cannot underflow; the call
        // lies in [max(S − K, 0), S] (`BlackScholes.putPrice`), so the put C + K − S is ≥ 0.
        unchecked {
            uint256 call = BlackScholes.callPriceLn(spotWad, strike, expiry - block.timestamp, volWad, lnMoneyness);
            markWad = SeriesLib.isCallOf(seriesId) ? call : call + strike - spotWad;
        }
    }

    /// @dev `_mark` at or after expiry: the intrinsic value at the settlement price if posted
    /// (settled, no spot), else at spot.
    function _expiredMark(
        SeriesId seriesId,
        uint256 expiry,
        PriceCache memory cache
    ) private view returns (uint256 markWad, uint256 spotWad, bool settled) {
        uint16 index = SeriesLib.underlyingIndexOf(seriesId);
        uint256 strike = SeriesLib.strikeOf(seriesId);
        bool isCall = SeriesLib.isCallOf(seriesId);
        (uint256 settlement, bool posted) = _oracle.settlementPrice(_assetOf(index, cache), expiry);
        if (posted) return (MarginMath.intrinsic(isCall, settlement, strike), 0, true);
        spotWad = _spot(index, cache);
        markWad = MarginMath.intrinsic(isCall, spotWad, strike);
    }

    /// @dev The vol of a live series and its confidence add-on per short contract
    /// (`docs/vol-surface.md`, "Marks and margin"). An underlying the engine's surface oracle does
    /// not list (or no surface set) marks at the flat vol feed with no add-on. On a listed one the
    /// surface is FRESH when posted, mature and at most `maxAge` old: the mark uses its vol, and the
    /// add-on is `spot × addOn × (1 − confidence)`. Otherwise it is FALLBACK: the vol is the flat vol
    /// feed (the ATM floor) if the surface is immature or missing, else the last mature posted vol
    /// bounded by the feed on the side that is conservative for the holder — at least the feed for
    /// a short, at most the feed for a long (review rv20 P1: a stale high smile must not lend
    /// against longs) —, the add-on is at confidence 0, and the series is recorded so a check for
    /// new risk can refuse it. The surface's vol is the oracle's `markVol` to the wei: its smile
    /// (`markSurface`, read once per (underlying, expiry) per check) at k = −ln(S/K), annualised
    /// over expiry − its timestamp (`SviMath.vol`); only a mature surface's is evaluated, since an
    /// immature one marks at the feed.
    function _markVol(
        PriceCache memory cache,
        uint16 index,
        uint256 expiry,
        uint256 spotWad,
        int256 lnMoneyness,
        bool isLong
    ) private view returns (uint256 volWad, uint256 addOnWad) {
        // `_mark` takes a flat underlying whose mode and vol this check has read inline: here are
        // the first read of either, and the surface.
        uint256 mode = _at(cache.surface.mode, index);
        if (mode == 0) mode = _readSurfaceMode(index, spotWad, cache);
        if (mode == 1) return (_flatVol(index, cache), 0);
        uint256 confidenceWad;
        (volWad, confidenceWad) = _surfaceVol(cache, index, expiry, lnMoneyness, isLong);
        addOnWad = FixedPointMathLib.mulWadUp(_at(cache.surface.addOnWad, index), MarginMath.WAD - confidenceWad);
    }

    /// @dev `_markVol` on a surface underlying: the vol and the confidence its add-on uses (0 when
    /// FALLBACK, the series then recorded in the cache).
    function _surfaceVol(
        PriceCache memory cache,
        uint16 index,
        uint256 expiry,
        int256 lnMoneyness,
        bool isLong
    ) private view returns (uint256 volWad, uint256 confidenceWad) {
        SurfaceCache memory sc = cache.surface;
        // The cached `IVolSurfaceOracle.Surface`, read in place by word (`_SURFACE_*`): a struct
        // variable, or a function returning one, would allocate and zero a new one per position.
        uint256 at = _surfaceAt(index, expiry, cache);
        uint256 postedAt;
        bool mature;
        assembly ("memory-safe") {
            postedAt := mload(add(at, _SURFACE_TIMESTAMP))
            confidenceWad := mload(add(at, _SURFACE_CONFIDENCE))
            mature := mload(add(at, _SURFACE_MATURE))
        }
        if (mature) {
            // Unchecked: postedAt ≤ the block < expiry, so the divisor is ≥ 1 s, as in the oracle.
            unchecked {
                volWad = SviMath.volFromVariance(_smileVariance(at, -lnMoneyness), expiry - postedAt);
            }
        }
        // The oracle never reports a time after the block, so the sum cannot pass it by accident.
        if (!mature || postedAt == 0 || postedAt + sc.maxAge < block.timestamp) {
            uint256 feed = _flatVol(index, cache);
            if (!mature || (isLong ? volWad > feed : volWad < feed)) volWad = feed;
            confidenceWad = 0;
            if (sc.unusableExpiry == 0 && (!isLong || _fallbackLongsCount())) {
                (sc.unusableAsset, sc.unusableExpiry) = (_assetOf(index, cache), expiry);
            }
        }
    }

    /// @dev The memory address of the surface of (underlying `index`, `expiry`), an
    /// `IVolSurfaceOracle.Surface` as decoded from `markSurface`, read at most once per check
    /// while it stays cached: `_SURFACE_SLOTS` entries, direct-mapped by (expiry day + index), each
    /// keyed on both the index and the expiry (an expiry is < 2**40), so a lookup can only return
    /// the surface it asks for (another underlying's surface at the same expiry, or another expiry in
    /// the same slot, is a miss). A miss reads the oracle and replaces the entry: a book spread over
    /// colliding expiries costs one read per series, as without a cache, never a wrong mark.
    function _surfaceAt(uint16 index, uint256 expiry, PriceCache memory cache) private view returns (uint256 at) {
        uint256[] memory entries = cache.surface.surfaces;
        uint256 key;
        uint256 slot;
        // Unchecked: expiry < 2**40 and index < 2**16.
        unchecked {
            key = (uint256(index) << 40) | expiry;
            slot = ((expiry / 1 days + index) % _SURFACE_SLOTS) * 2;
        }
        // `at` is the address a decoded Surface had when it was stored below: live and unmodified.
        if (entries[slot] == key) return entries[slot + 1];
        IVolSurfaceOracle.Surface memory s = cache.surface.oracle.markSurface(_assetOf(index, cache), expiry);
        assembly ("memory-safe") {
            at := s
        }
        (entries[slot], entries[slot + 1]) = (key, at);
    }

    /// @dev The total variance at log-moneyness `k` of the smile of the `Surface` at `at`: its
    /// first five words are a, b, ρ, m and σ (`SviMath.Params`' fields, in that order).
    function _smileVariance(uint256 at, int256 k) private pure returns (int256) {
        int256 a;
        int256 b;
        int256 rho;
        int256 m;
        int256 sigma;
        assembly ("memory-safe") {
            a := mload(at)
            b := mload(add(at, 0x20))
            rho := mload(add(at, 0x40))
            m := mload(add(at, 0x60))
            sigma := mload(add(at, 0x80))
        }
        return SviMath.totalVariance(a, b, rho, m, sigma, k);
    }

    /// @dev How underlying `index` marks its live series, read at its first live series in a
    /// check and cached (`SurfaceCache.mode`): 1 at the flat vol feed, 2 on the surface; on the
    /// surface also its add-on at `spotWad`, the check's spot of `index` (`SurfaceCache.addOnWad`).
    function _readSurfaceMode(
        uint16 index,
        uint256 spotWad,
        PriceCache memory cache
    ) private view returns (uint256 mode) {
        SurfaceCache memory sc = cache.surface;
        uint256 addOnWad;
        (sc.oracle, sc.maxAge, addOnWad) = _readSurfaceParams(index);
        mode = 1;
        if (address(sc.oracle) != address(0) && sc.oracle.isListed(_assetOf(index, cache))) {
            mode = 2;
            _setAt(sc.addOnWad, index, FixedPointMathLib.mulWadUp(spotWad, addOnWad));
            if (sc.surfaces.length == 0) sc.surfaces = DynamicArrayLib.malloc(2 * _SURFACE_SLOTS).zeroize();
        }
        _setAt(sc.mode, index, mode);
    }

    /// @dev The flat vol feed of underlying `index`, read once per check.
    function _flatVol(uint16 index, PriceCache memory cache) private view returns (uint256 volWad) {
        volWad = _at(cache.vol, index);
        if (volWad == 0) {
            volWad = _oracle.vol(_assetOf(index, cache));
            _setAt(cache.vol, index, volWad);
        }
    }

    /// @dev Reverts `EngineVolSurfaceUnusable` if the check behind `cache` met a live series whose
    /// surface is FALLBACK (in standard margin, a short one): new risk is refused on it, as on an
    /// unusable price.
    function _requireUsableSurface(PriceCache memory cache) internal pure {
        SurfaceCache memory sc = cache.surface;
        if (sc.unusableExpiry != 0) {
            revert IMarginEngine.EngineVolSurfaceUnusable(sc.unusableAsset, sc.unusableExpiry);
        }
    }

    function _spot(uint16 index, PriceCache memory cache) internal view returns (uint256 spotWad) {
        spotWad = _at(cache.spot, index);
        if (spotWad == 0) {
            spotWad = _oracle.spot(_assetOf(index, cache));
            _setAt(cache.spot, index, spotWad);
        }
    }

    function _assetOf(uint16 index, PriceCache memory cache) internal view returns (address asset) {
        asset = cache.assets[index];
        if (asset == address(0)) {
            asset = _readAsset(index);
            cache.assets[index] = asset;
        }
    }

    /// @dev The price of collateral `asset` (listed underlying `u`, or 0), or 0 if it cannot be
    /// priced: the oracle reverts on a stale, failing or out-of-bounds feed, never returns 0.
    function _collateralPrice(address asset, uint16 u, PriceCache memory cache) internal view returns (uint256) {
        if (u != 0 && cache.spot[u] != 0) return cache.spot[u];
        try _oracle.spot(asset) returns (uint256 price) {
            // An underlying's spot is read once per check, for its collateral and its series alike.
            if (u != 0) cache.spot[u] = price;
            return price;
        } catch {
            return 0;
        }
    }

    /// @dev `a[i]` without the bounds check, for the check's per-index cache arrays (length
    /// `_underlyingCount() + 1`) on an index below their length: a series' index once `_mark` has
    /// checked it, or an underlying the caller iterates below `cache.spot.length`. A checked read
    /// is ~40 gas more, several times a position.
    function _at(uint256[] memory a, uint256 i) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(a, shl(5, add(i, 1))))
        }
    }

    /// @dev `a[i] = v` without the bounds check, under `_at`'s condition.
    function _setAt(uint256[] memory a, uint256 i, uint256 v) internal pure {
        assembly ("memory-safe") {
            mstore(add(a, shl(5, add(i, 1))), v)
        }
    }

    /// @dev A check's empty cache. Its five per-index arrays (`spot`, `vol`, `assets`, `mode`,
    /// `addOnWad`; `_underlyingCount() + 1` words each, zeros) are laid out back to back in one
    /// allocation, zeroed by one copy (from past the calldata's end, which reads zeros): five `new`
    /// arrays paid the allocator, its overflow checks and a zeroing each. Written by hand: Solady's
    /// `DynamicArrayLib.malloc(n).zeroize()` (used for the check's other arrays) allocates one
    /// array at a time, and no library lays out several in one block. The count is below 2**16
    /// (`_underlyingCount`), so the size cannot wrap. The struct itself is the IR's zeroed return
    /// variable.
    function _newCache() internal view returns (PriceCache memory cache) {
        uint256 n = _underlyingCount() + 1;
        SurfaceCache memory sc = cache.surface;
        assembly ("memory-safe") {
            let size := shl(5, add(n, 1))
            let p := mload(0x40)
            calldatacopy(p, calldatasize(), mul(size, 5))
            mstore(0x40, add(p, mul(size, 5)))
            mstore(p, n)
            mstore(cache, p)
            p := add(p, size)
            mstore(p, n)
            mstore(add(cache, 0x20), p)
            p := add(p, size)
            mstore(p, n)
            mstore(add(cache, 0x40), p)
            p := add(p, size)
            mstore(p, n)
            mstore(add(sc, 0x40), p)
            p := add(p, size)
            mstore(p, n)
            mstore(add(sc, 0x60), p)
        }
    }

    function _health(IMarginEngine.MarginState memory state) internal pure returns (IMarginEngine.Health) {
        if (state.equityMM < 0) return IMarginEngine.Health.INSOLVENT;
        if (state.equityMM < int256(state.requirementMM)) return IMarginEngine.Health.LIQUIDATABLE;
        if (state.equityIM < int256(state.requirementIM)) return IMarginEngine.Health.MARGIN_CALL;
        return IMarginEngine.Health.HEALTHY;
    }
}
