// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../../../contracts/interfaces/IPledgeOracle.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";
import {SviHarness} from "../../../contracts/test/SviHarness.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {PositionParityHarness} from "./StandardPositionParity.t.sol";
import {ChosenSurfaceOracle} from "./MarkVolParity.t.sol";

/// @dev The engine's `_mark` beside an independent copy of 789af0e's parent: the surface read
/// through a `Surface` struct and the smile evaluated by a verbatim copy of the parent's
/// `SviMath.totalVariance(Params)` (its own range check and formula), so neither the engine's
/// byte offsets (`_SURFACE_*`, `_smileVariance`) nor `SviMath`'s new stack form is on the
/// reference's side.
contract SurfaceInPlaceHarness is PositionParityHarness {
    uint256 private constant _IND_SLOTS = 8;
    uint256 private constant _PARAM_LIMIT = 1 << 64;
    uint256 private constant _K_LIMIT = 1 << 72;

    constructor(
        MarginEngine engine_,
        ICollateralVault vault_,
        IPledgeOracle oracle_
    ) PositionParityHarness(engine_, vault_, oracle_) {}

    function currentMarks(SeriesId[] calldata ids, bool[] calldata longs) external view returns (uint256[] memory out) {
        PriceCache memory cache = _newCache();
        out = new uint256[](5 * ids.length + 2);
        for (uint256 i; i < ids.length; ++i) {
            bool settled;
            (out[5 * i], out[5 * i + 1], settled, out[5 * i + 3], out[5 * i + 4]) = _mark(ids[i], cache, longs[i]);
            out[5 * i + 2] = settled ? 1 : 0;
        }
        out[5 * ids.length] = uint256(uint160(cache.surface.unusableAsset));
        out[5 * ids.length + 1] = cache.surface.unusableExpiry;
    }

    function independentMarks(
        SeriesId[] calldata ids,
        bool[] calldata longs
    ) external view returns (uint256[] memory out) {
        PriceCache memory cache = _newCache();
        out = new uint256[](5 * ids.length + 2);
        for (uint256 i; i < ids.length; ++i) {
            bool settled;
            (out[5 * i], out[5 * i + 1], settled, out[5 * i + 3], out[5 * i + 4]) = _indMark(ids[i], cache, longs[i]);
            out[5 * i + 2] = settled ? 1 : 0;
        }
        out[5 * ids.length] = uint256(uint160(cache.surface.unusableAsset));
        out[5 * ids.length + 1] = cache.surface.unusableExpiry;
    }

    /// @dev The parent's `SviMath.totalVariance(Params)`, verbatim but for the names.
    function _indTotalVariance(SviMath.Params memory p, int256 k) private pure returns (int256 w) {
        if ((_iabs(p.a) | _iabs(p.b) | _iabs(p.rho) | _iabs(p.m) | _iabs(p.sigma)) >= _PARAM_LIMIT) {
            revert SviMath.SviInputOutOfRange();
        }
        if (_iabs(k) >= _K_LIMIT) revert SviMath.SviInputOutOfRange();
        unchecked {
            int256 x = k - p.m;
            uint256 root27 = FixedPointMathLib.sqrt(uint256(x * x + p.sigma * p.sigma) * 1e18);
            int256 inner27 = int256(root27) + (p.rho * x) / 1e9;
            w = p.a + (p.b * inner27) / 1e27;
        }
    }

    function _iabs(int256 x) private pure returns (uint256) {
        unchecked {
            return x < 0 ? uint256(-x) : uint256(x);
        }
    }

    function _indMark(
        SeriesId seriesId,
        PriceCache memory cache,
        bool isLong
    ) private view returns (uint256 markWad, uint256 spotWad, bool settled, uint256 volWad, uint256 addOnWad) {
        // Every per-index array of the cache has `_underlyingCount() + 1` entries: a held series'
        // index is below that (a series is listed on a listed underlying, and none is ever
        // unlisted), so this one check covers the unchecked reads (`_at`) of the whole mark. An id
        // passed to a view (`mark`) may name no underlying at all.
        if (SeriesLib.underlyingIndexOf(seriesId) >= cache.spot.length) {
            revert IMarginEngine.EngineUnderlyingNotListed(address(0));
        }
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (block.timestamp >= expiry) {
            (markWad, spotWad, settled) = _indExpiredMark(seriesId, expiry, cache);
            return (markWad, spotWad, settled, 0, 0);
        }
        // The series' fields are decoded where used (a shift each), not held: the legacy pipeline,
        // which compiles this file for the tests, runs out of stack slots otherwise.
        spotWad = _spot(SeriesLib.underlyingIndexOf(seriesId), cache);
        // Series have 0 < strike ≤ 1e30 and the oracle never returns a zero spot, where `callPrice`
        // would give the intrinsic value and `lnMoneyness` reverts; elsewhere both have one domain.
        int256 lnMoneyness = BlackScholes.lnMoneyness(spotWad, SeriesLib.strikeOf(seriesId));
        (volWad, addOnWad) = _indMarkVol(
            cache,
            SeriesLib.underlyingIndexOf(seriesId),
            expiry,
            spotWad,
            lnMoneyness,
            isLong
        );
        markWad = _indLivePrice(seriesId, expiry, spotWad, volWad, lnMoneyness);
    }

    /// @dev The Black–Scholes price of one contract of live `seriesId` (expiry after the block).
    function _indLivePrice(
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

    /// @dev `_indMark` at or after expiry: the intrinsic value at the settlement price if posted
    /// (settled, no spot), else at spot.
    function _indExpiredMark(
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
    function _indMarkVol(
        PriceCache memory cache,
        uint16 index,
        uint256 expiry,
        uint256 spotWad,
        int256 lnMoneyness,
        bool isLong
    ) private view returns (uint256 volWad, uint256 addOnWad) {
        if (_indSurfaceMode(index, cache) == 1) return (_indFlatVol(index, cache), 0);
        uint256 confidenceWad;
        (volWad, confidenceWad) = _indSurfaceVol(cache, index, expiry, lnMoneyness, isLong);
        uint256 perSpot = FixedPointMathLib.mulWadUp(spotWad, cache.surface.addOnWad[index]);
        addOnWad = FixedPointMathLib.mulWadUp(perSpot, MarginMath.WAD - confidenceWad);
    }

    /// @dev `_indMarkVol` on a surface underlying: the vol and the confidence its add-on uses (0 when
    /// FALLBACK, the series then recorded in the cache).
    function _indSurfaceVol(
        PriceCache memory cache,
        uint16 index,
        uint256 expiry,
        int256 lnMoneyness,
        bool isLong
    ) private view returns (uint256 volWad, uint256 confidenceWad) {
        SurfaceCache memory sc = cache.surface;
        IVolSurfaceOracle.Surface memory s = _indSurfaceOf(index, expiry, cache);
        uint256 timestamp = s.timestamp;
        bool mature = s.mature;
        confidenceWad = s.confidenceWad;
        if (mature) {
            SviMath.Params memory p = SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma);
            // Unchecked: timestamp ≤ the block < expiry, so the divisor is ≥ 1 s, as in the oracle.
            unchecked {
                volWad = SviMath.volFromVariance(_indTotalVariance(p, -lnMoneyness), expiry - timestamp);
            }
        }
        // The oracle never reports a time after the block, so the sum cannot pass it by accident.
        if (!mature || timestamp == 0 || timestamp + sc.maxAge < block.timestamp) {
            uint256 feed = _indFlatVol(index, cache);
            if (!mature || (isLong ? volWad > feed : volWad < feed)) volWad = feed;
            confidenceWad = 0;
            // Since session 27 (docs/security.md M10) the record skips a long where initial margin
            // does not count it, in the parent as in `_mark`: the one change made to the copy.
            if (sc.unusableExpiry == 0 && (!isLong || _fallbackLongsCount())) {
                (sc.unusableAsset, sc.unusableExpiry) = (_assetOf(index, cache), expiry);
            }
        }
    }

    /// @dev The surface of (underlying `index`, `expiry`), `markSurface` read at most once per check
    /// while it stays cached: `_IND_SLOTS` entries, direct-mapped by (expiry day + index), each
    /// keyed on both the index and the expiry (an expiry is < 2**40), so a lookup can only return
    /// the surface it asks for (another underlying's surface at the same expiry, or another expiry in
    /// the same slot, is a miss). A miss reads the oracle and replaces the entry: a book spread over
    /// colliding expiries costs one read per series, as without a cache, never a wrong mark.
    function _indSurfaceOf(
        uint16 index,
        uint256 expiry,
        PriceCache memory cache
    ) private view returns (IVolSurfaceOracle.Surface memory s) {
        uint256[] memory entries = cache.surface.surfaces;
        uint256 key;
        uint256 slot;
        // Unchecked: expiry < 2**40 and index < 2**16.
        unchecked {
            key = (uint256(index) << 40) | expiry;
            slot = ((expiry / 1 days + index) % _IND_SLOTS) * 2;
        }
        uint256 at;
        if (entries[slot] == key) {
            at = entries[slot + 1];
            // `at` is the address `s` had when it was stored below: a live, unmodified Surface.
            assembly ("memory-safe") {
                s := at
            }
            return s;
        }
        s = cache.surface.oracle.markSurface(_assetOf(index, cache), expiry);
        assembly ("memory-safe") {
            at := s
        }
        (entries[slot], entries[slot + 1]) = (key, at);
    }

    /// @dev How underlying `index` marks its live series: 1 at the flat vol feed, 2 on the surface.
    function _indSurfaceMode(uint16 index, PriceCache memory cache) private view returns (uint8 mode) {
        SurfaceCache memory sc = cache.surface;
        mode = uint8(_at(sc.mode, index));
        if (mode != 0) return mode;
        uint256 addOnWad;
        (sc.oracle, sc.maxAge, addOnWad) = _readSurfaceParams(index);
        mode = 1;
        if (address(sc.oracle) != address(0) && sc.oracle.isListed(_assetOf(index, cache))) {
            mode = 2;
            sc.addOnWad[index] = addOnWad;
            if (sc.surfaces.length == 0) sc.surfaces = new uint256[](2 * _IND_SLOTS);
        }
        _setAt(sc.mode, index, mode);
    }

    /// @dev The flat vol feed of underlying `index`, read once per check.
    function _indFlatVol(uint16 index, PriceCache memory cache) private view returns (uint256 volWad) {
        volWad = _at(cache.vol, index);
        if (volWad == 0) {
            volWad = _oracle.vol(_assetOf(index, cache));
            _setAt(cache.vol, index, volWad);
        }
    }
}

/// @title Review rv47 of 789af0e ("Engine: read the cached vol surface in place")
/// @notice The commit's differential cover (`MarkVolParity.t.sol`) draws smiles with b = ρ = m = 0
/// and σ fixed, and its reference evaluates them through the same (new) `SviMath.totalVariance`,
/// so a swapped or shifted word among b, ρ, m, σ, or a term dropped from the stack form's range
/// check, passes it. Here:
///  - books on fully random smiles (every parameter drawn, now and then one at or past the 2**64
///    range bound), FRESH, stale, immature and missing, long and short, marked by the engine's
///    `_mark` and by an independent copy of the parent (struct fields by name, the parent's
///    `totalVariance` verbatim): every mark, vol, add-on, FALLBACK record and revert equal;
///  - `SviMath.totalVariance`'s stack form (through both overloads' harness) against the parent's
///    `totalVariance(Params)`, at the bounds of every parameter and of k.
contract Rv47SurfaceInPlaceTest is PledgeFixture {
    SurfaceInPlaceHarness internal harness;
    ChosenSurfaceOracle internal surfaces;
    SviHarness internal svi;

    function setUp() public override {
        super.setUp();
        harness = new SurfaceInPlaceHarness(engine, vault, oracle);
        surfaces = new ChosenSurfaceOracle();
        svi = new SviHarness();
    }

    function _word(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function _range(uint256 r, int256 lo, int256 hi) private pure returns (int256) {
        return lo + int256(r % uint256(hi - lo + 1));
    }

    /// @dev A value at or just inside the range bound, either sign.
    function _edge(uint256 r) private pure returns (int256 v) {
        int256 limit = int256(uint256(1) << 64);
        uint256 pick = r % 5;
        v =
            pick == 0
                ? limit
                : pick == 1
                    ? limit - 1
                    : pick == 2
                        ? limit + 1
                        : pick == 3
                            ? type(int256).max
                            : type(int256).min;
        if (pick < 3 && (r >> 8) & 1 == 1) v = -v;
    }

    function _randomSurface(uint256 r) private view returns (IVolSurfaceOracle.Surface memory s) {
        s.a = _range(_word(r, 1), -0.5e18, 2e18);
        s.b = _range(_word(r, 2), 0, 1.9e18);
        s.rho = _range(_word(r, 3), -0.999e18, 0.999e18);
        s.m = _range(_word(r, 4), -0.5e18, 0.5e18);
        s.sigma = _range(_word(r, 5), 1, 1e18);
        uint256 e = _word(r, 6);
        if (e % 8 == 0) {
            int256 v = _edge(e >> 8);
            uint256 which = (e >> 100) % 5;
            if (which == 0) s.a = v;
            else if (which == 1) s.b = v;
            else if (which == 2) s.rho = v;
            else if (which == 3) s.m = v;
            else s.sigma = v;
        }
        uint256 t = _word(r, 7);
        s.timestamp = t % 6 == 0 ? 0 : block.timestamp - ((t >> 8) % 2 hours);
        s.confidenceWad = _word(r, 8) % 1e18;
        s.maturesAt = _word(r, 9) % block.timestamp; // a word the engine must not take for another
        s.mature = _word(r, 10) % 4 != 0;
    }

    function _mockUnderlying(address asset, uint256 r) private {
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (asset)), abi.encode(100e18 + (r % 100_000e18)));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (asset)), abi.encode(0.05e18 + ((r >> 72) % 3e18)));
        surfaces.set(asset, (r >> 240) % 5 != 0, _randomSurface(r));
    }

    function _book(uint256 seed) private view returns (SeriesId[] memory ids, bool[] memory longs) {
        uint256 n = 1 + (seed % 10);
        ids = new SeriesId[](n);
        longs = new bool[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = _word(seed, 100 + i);
            uint16 index = r % 2 == 0 ? ethIndex : btcIndex;
            uint256 spot = index == ethIndex ? 3_000e18 : 60_000e18;
            // Live series, 1 s to ~60 days out; strikes from spot/4 to 4·spot.
            uint40 expiry = uint40(block.timestamp + 1 + ((r >> 130) % 60) * 1 days + ((r >> 140) % 3));
            uint256 strike = spot / 4 + ((r >> 2) % (4 * spot));
            ids[i] = SeriesLib.id(SeriesLib.Series(index, expiry, (r >> 1) & 1 == 1, uint128(strike)));
            longs[i] = (r >> 3) & 1 == 1;
        }
    }

    /// forge-config: default.fuzz.runs = 512
    function testFuzz_marksOnRandomSmilesMatchAnIndependentParent(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        uint256 r = _word(seed, 1);
        _mockUnderlying(address(weth), r);
        _mockUnderlying(address(wbtc), _word(seed, 2));
        harness.setSurface(IVolSurfaceOracle(address(surfaces)), 0.01e18 + ((r >> 16) % 0.19e18));
        (SeriesId[] memory ids, bool[] memory longs) = _book(seed);
        (bool ok, bytes memory out) = address(harness).staticcall(abi.encodeCall(harness.currentMarks, (ids, longs)));
        (bool wantOk, bytes memory want) = address(harness).staticcall(
            abi.encodeCall(harness.independentMarks, (ids, longs))
        );
        assertEq(ok, wantOk, "reverts where the parent did not, or not where it did");
        assertEq(out, want, "marks, vols, add-ons, FALLBACK record or revert data differ from the parent's");
    }

    /// @dev One FRESH, mature smile with every parameter non-zero and distinct: the engine's vol is
    /// the parent's and differs from the vol with any two of b, ρ, m, σ swapped (so the test above
    /// can see a swapped word).
    function test_distinctParameters_eachWordMatters() public {
        vm.warp(block.timestamp + 40 days);
        IVolSurfaceOracle.Surface memory s;
        (s.a, s.b, s.rho, s.m, s.sigma) = (0.02e18, 0.3e18, -0.4e18, 0.1e18, 0.2e18);
        s.timestamp = block.timestamp - 60;
        s.confidenceWad = 0.7e18;
        s.maturesAt = block.timestamp - 1 days;
        s.mature = true;
        surfaces.set(address(weth), true, s);
        harness.setSurface(IVolSurfaceOracle(address(surfaces)), 0.02e18);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(3_000e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.8e18));
        SeriesId[] memory ids = new SeriesId[](2);
        bool[] memory longs = new bool[](2);
        // `ChosenSurfaceOracle` reads an expiry divisible by 3 s (every 08:00 one) as immature.
        ids[0] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(10) + 1, true, 3_600e18));
        ids[1] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(10) + 1, false, 2_400e18));
        longs[0] = true;
        uint256[] memory got = harness.currentMarks(ids, longs);
        uint256[] memory want = harness.independentMarks(ids, longs);
        assertEq(abi.encode(got), abi.encode(want));
        // FRESH: the add-on is spot·addOn·(1 − confidence), so the confidence word was read.
        uint256 addOn = FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(3_000e18, 0.02e18), 0.3e18);
        assertEq(got[4], addOn, "the per-contract add-on at confidence 0.7");
        assertEq(got[9], addOn, "the per-contract add-on at confidence 0.7");
        assertTrue(got[3] != 0.8e18 && got[8] != 0.8e18, "the smile's vols, not the feed's");
        assertEq(got[10], 0, "no FALLBACK record");
        // Each pair swapped moves the vol.
        int256[4] memory w = [s.b, s.rho, s.m, s.sigma];
        for (uint256 i; i < 4; ++i) {
            for (uint256 j = i + 1; j < 4; ++j) {
                int256[4] memory v = w;
                (v[i], v[j]) = (v[j], v[i]);
                IVolSurfaceOracle.Surface memory t = s;
                (t.b, t.rho, t.m, t.sigma) = (v[0], v[1], v[2], v[3]);
                surfaces.set(address(weth), true, t);
                uint256[] memory other = harness.independentMarks(ids, longs);
                assertTrue(other[8] != got[8] || other[3] != got[3], "a swap the parity cannot see");
            }
        }
    }

    // ------------------------------------------------------------ SviMath's stack form

    /// @dev The parent's `totalVariance(Params)`, as an external call for `staticcall`.
    function parentTotalVariance(SviMath.Params calldata p, int256 k) external pure returns (int256 w) {
        uint256 limit = 1 << 64;
        if ((_abs(p.a) | _abs(p.b) | _abs(p.rho) | _abs(p.m) | _abs(p.sigma)) >= limit) {
            revert SviMath.SviInputOutOfRange();
        }
        if (_abs(k) >= 1 << 72) revert SviMath.SviInputOutOfRange();
        unchecked {
            int256 x = k - p.m;
            uint256 root27 = FixedPointMathLib.sqrt(uint256(x * x + p.sigma * p.sigma) * 1e18);
            int256 inner27 = int256(root27) + (p.rho * x) / 1e9;
            w = p.a + (p.b * inner27) / 1e27;
        }
    }

    function _abs(int256 x) private pure returns (uint256) {
        unchecked {
            return x < 0 ? uint256(-x) : uint256(x);
        }
    }

    function _sameAsParent(SviMath.Params memory p, int256 k) private view {
        (bool ok, bytes memory out) = address(svi).staticcall(abi.encodeCall(svi.totalVariance, (p, k)));
        (bool wantOk, bytes memory want) = address(this).staticcall(abi.encodeCall(this.parentTotalVariance, (p, k)));
        assertEq(ok, wantOk, "reverts where the parent did not, or not where it did");
        assertEq(out, want, "w or revert data");
    }

    /// @dev Each parameter, and k, at and around its bound, both signs.
    function test_stackForm_rangeBoundsOfEveryParameter() public view {
        int256 limit = int256(uint256(1) << 64);
        int256[7] memory edges = [
            limit - 1,
            limit,
            limit + 1,
            -(limit - 1),
            -limit,
            type(int256).max,
            type(int256).min
        ];
        for (uint256 which; which < 5; ++which) {
            for (uint256 e; e < edges.length; ++e) {
                SviMath.Params memory p = SviMath.Params(0.04e18, 0.2e18, -0.3e18, 0.05e18, 0.1e18);
                if (which == 0) p.a = edges[e];
                else if (which == 1) p.b = edges[e];
                else if (which == 2) p.rho = edges[e];
                else if (which == 3) p.m = edges[e];
                else p.sigma = edges[e];
                _sameAsParent(p, 0.1e18);
                bool inRange = e == 0 || e == 3;
                (bool ok, ) = address(svi).staticcall(abi.encodeCall(svi.totalVariance, (p, 0.1e18)));
                assertEq(ok, inRange, "the bound is |x| < 2**64");
            }
        }
        int256 kLimit = int256(uint256(1) << 72);
        SviMath.Params memory q = SviMath.Params(0.04e18, 0.2e18, -0.3e18, 0.05e18, 0.1e18);
        int256[4] memory ks = [kLimit - 1, kLimit, -(kLimit - 1), -kLimit];
        for (uint256 i; i < 4; ++i) _sameAsParent(q, ks[i]);
    }

    /// forge-config: default.fuzz.runs = 1024
    function testFuzz_stackFormEqualsTheParent(
        int256 a,
        int256 b,
        int256 rho,
        int256 m,
        int256 sigma,
        int256 k
    ) public view {
        // Mostly in range, so the formula (not only the bound) is compared.
        if (uint256(a) % 4 != 0) {
            a = a % (int256(1) << 64);
            b = b % (int256(1) << 64);
            rho = rho % (int256(1) << 64);
            m = m % (int256(1) << 64);
            sigma = sigma % (int256(1) << 64);
            k = k % (int256(1) << 72);
        }
        _sameAsParent(SviMath.Params(a, b, rho, m, sigma), k);
    }
}
