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
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {PositionParityHarness} from "./StandardPositionParity.t.sol";

/// @dev `SviMath.totalVariance(Params)` as it stood before 789af0e (its own range check and
/// formula, verbatim): the references below evaluate smiles with it, so the engine's own
/// `SviMath` code is not on the reference's side (review rv47).
function refTotalVariance(SviMath.Params memory p, int256 k) pure returns (int256 w) {
    if ((_refAbs(p.a) | _refAbs(p.b) | _refAbs(p.rho) | _refAbs(p.m) | _refAbs(p.sigma)) >= 1 << 64) {
        revert SviMath.SviInputOutOfRange();
    }
    if (_refAbs(k) >= 1 << 72) revert SviMath.SviInputOutOfRange();
    unchecked {
        int256 x = k - p.m;
        uint256 root27 = FixedPointMathLib.sqrt(uint256(x * x + p.sigma * p.sigma) * 1e18);
        int256 inner27 = int256(root27) + (p.rho * x) / 1e9;
        w = p.a + (p.b * inner27) / 1e27;
    }
}

function _refAbs(int256 x) pure returns (uint256) {
    unchecked {
        return x < 0 ? uint256(-x) : uint256(x);
    }
}

/// @dev A vol-surface oracle listing the underlyings the test chooses, one stored surface each;
/// a series whose expiry is a multiple of 3 s reads its surface as immature.
contract ChosenSurfaceOracle {
    mapping(address => bool) public isListed;
    mapping(address => IVolSurfaceOracle.Surface) internal _surfaces;

    function set(address asset, bool listed, IVolSurfaceOracle.Surface calldata s) external {
        isListed[asset] = listed;
        _surfaces[asset] = s;
    }

    function markSurface(address asset, uint256 expiry) external view returns (IVolSurfaceOracle.Surface memory s) {
        s = _surfaces[asset];
        if (expiry % 3 == 0) s.mature = false;
    }
}

/// @dev `MarginValuation._mark` beside its parent in d1c3b4f (338ffa3^, copied below as `_refMark`
/// and its private helpers, unchanged but for their names, the FALLBACK record's side rule of
/// session 27 and the smile evaluated by `refTotalVariance`): both mark one book, in order, with their own fresh cache shared across the book,
/// and report the cache's FALLBACK record.
contract MarkParityHarness is PositionParityHarness {
    uint256 private constant _REF_SLOTS = 8;

    constructor(
        MarginEngine engine_,
        ICollateralVault vault_,
        IPledgeOracle oracle_
    ) PositionParityHarness(engine_, vault_, oracle_) {}

    /// @notice Each series' (mark, spot, settled, vol, add-on) with the current `_mark`, then the
    /// check's FALLBACK record (asset, expiry).
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

    /// @notice `currentMarks` with the parent's `_mark`.
    function parentMarks(SeriesId[] calldata ids, bool[] calldata longs) external view returns (uint256[] memory out) {
        PriceCache memory cache = _newCache();
        out = new uint256[](5 * ids.length + 2);
        for (uint256 i; i < ids.length; ++i) {
            bool settled;
            (out[5 * i], out[5 * i + 1], settled, out[5 * i + 3], out[5 * i + 4]) = _refMark(ids[i], cache, longs[i]);
            out[5 * i + 2] = settled ? 1 : 0;
        }
        out[5 * ids.length] = uint256(uint160(cache.surface.unusableAsset));
        out[5 * ids.length + 1] = cache.surface.unusableExpiry;
    }

    // ------------------------------------------------ d1c3b4f's MarginValuation, renamed

    function _refMark(
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
            (markWad, spotWad, settled) = _refExpiredMark(seriesId, expiry, cache);
            return (markWad, spotWad, settled, 0, 0);
        }
        // The series' fields are decoded where used (a shift each), not held: the legacy pipeline,
        // which compiles this file for the tests, runs out of stack slots otherwise.
        spotWad = _spot(SeriesLib.underlyingIndexOf(seriesId), cache);
        // Series have 0 < strike ≤ 1e30 and the oracle never returns a zero spot, where `callPrice`
        // would give the intrinsic value and `lnMoneyness` reverts; elsewhere both have one domain.
        int256 lnMoneyness = BlackScholes.lnMoneyness(spotWad, SeriesLib.strikeOf(seriesId));
        (volWad, addOnWad) = _refMarkVol(
            cache,
            SeriesLib.underlyingIndexOf(seriesId),
            expiry,
            spotWad,
            lnMoneyness,
            isLong
        );
        markWad = _refLivePrice(seriesId, expiry, spotWad, volWad, lnMoneyness);
    }

    /// @dev The Black–Scholes price of one contract of live `seriesId` (expiry after the block).
    function _refLivePrice(
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

    /// @dev `_refMark` at or after expiry: the intrinsic value at the settlement price if posted
    /// (settled, no spot), else at spot.
    function _refExpiredMark(
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
    function _refMarkVol(
        PriceCache memory cache,
        uint16 index,
        uint256 expiry,
        uint256 spotWad,
        int256 lnMoneyness,
        bool isLong
    ) private view returns (uint256 volWad, uint256 addOnWad) {
        if (_refSurfaceMode(index, cache) == 1) return (_refFlatVol(index, cache), 0);
        uint256 confidenceWad;
        (volWad, confidenceWad) = _refSurfaceVol(cache, index, expiry, lnMoneyness, isLong);
        uint256 perSpot = FixedPointMathLib.mulWadUp(spotWad, cache.surface.addOnWad[index]);
        addOnWad = FixedPointMathLib.mulWadUp(perSpot, MarginMath.WAD - confidenceWad);
    }

    /// @dev `_refMarkVol` on a surface underlying: the vol and the confidence its add-on uses (0 when
    /// FALLBACK, the series then recorded in the cache).
    function _refSurfaceVol(
        PriceCache memory cache,
        uint16 index,
        uint256 expiry,
        int256 lnMoneyness,
        bool isLong
    ) private view returns (uint256 volWad, uint256 confidenceWad) {
        SurfaceCache memory sc = cache.surface;
        IVolSurfaceOracle.Surface memory s = _refSurfaceOf(index, expiry, cache);
        uint256 timestamp = s.timestamp;
        bool mature = s.mature;
        confidenceWad = s.confidenceWad;
        if (mature) {
            SviMath.Params memory p = SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma);
            // Unchecked: timestamp ≤ the block < expiry, so the divisor is ≥ 1 s, as in the oracle.
            unchecked {
                volWad = SviMath.volFromVariance(refTotalVariance(p, -lnMoneyness), expiry - timestamp);
            }
        }
        // The oracle never reports a time after the block, so the sum cannot pass it by accident.
        if (!mature || timestamp == 0 || timestamp + sc.maxAge < block.timestamp) {
            uint256 feed = _refFlatVol(index, cache);
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
    /// while it stays cached: `_REF_SLOTS` entries, direct-mapped by (expiry day + index), each
    /// keyed on both the index and the expiry (an expiry is < 2**40), so a lookup can only return
    /// the surface it asks for (another underlying's surface at the same expiry, or another expiry in
    /// the same slot, is a miss). A miss reads the oracle and replaces the entry: a book spread over
    /// colliding expiries costs one read per series, as without a cache, never a wrong mark.
    function _refSurfaceOf(
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
            slot = ((expiry / 1 days + index) % _REF_SLOTS) * 2;
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
    function _refSurfaceMode(uint16 index, PriceCache memory cache) private view returns (uint8 mode) {
        SurfaceCache memory sc = cache.surface;
        mode = uint8(_at(sc.mode, index));
        if (mode != 0) return mode;
        uint256 addOnWad;
        (sc.oracle, sc.maxAge, addOnWad) = _readSurfaceParams(index);
        mode = 1;
        if (address(sc.oracle) != address(0) && sc.oracle.isListed(_assetOf(index, cache))) {
            mode = 2;
            sc.addOnWad[index] = addOnWad;
            if (sc.surfaces.length == 0) sc.surfaces = new uint256[](2 * _REF_SLOTS);
        }
        _setAt(sc.mode, index, mode);
    }

    /// @dev The flat vol feed of underlying `index`, read once per check.
    function _refFlatVol(uint16 index, PriceCache memory cache) private view returns (uint256 volWad) {
        volWad = _at(cache.vol, index);
        if (volWad == 0) {
            volWad = _oracle.vol(_assetOf(index, cache));
            _setAt(cache.vol, index, volWad);
        }
    }
}

/// @title `_markVol`'s inline flat path against its parent (review rv34)
/// @notice 338ffa3 reads a flat underlying's cached mode and vol inside `_markVol` and calls out
/// only on a first read (`_readSurfaceMode`, `_flatVol`). Over fuzzed books — flat and surface
/// underlyings mixed, FRESH, immature, stale and missing surfaces, long and short sides, vol feeds
/// that return 0 or revert, expired and settled series — every mark, spot, vol, add-on and the
/// FALLBACK record must equal the parent's, and a revert must be the parent's, with its data.
contract MarkVolParityTest is PledgeFixture {
    MarkParityHarness internal harness;
    ChosenSurfaceOracle internal surfaces;

    function setUp() public override {
        super.setUp();
        harness = new MarkParityHarness(engine, vault, oracle);
        surfaces = new ChosenSurfaceOracle();
    }

    function _word(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// @dev Per underlying: spot; vol feed a value, 0 or a revert; listed on the surface oracle
    /// or not, with a surface FRESH, stale, immature or missing (timestamp 0).
    function _mockUnderlying(address asset, uint256 r) private {
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (asset)), abi.encode(100e18 + (r % 100_000e18)));
        uint256 feed = (r >> 64) % 8;
        if (feed == 0) vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (asset)), abi.encode(0));
        else if (feed == 1) vm.mockCallRevert(address(oracle), abi.encodeCall(oracle.vol, (asset)), "vol feed down");
        else
            vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (asset)), abi.encode(0.05e18 + ((r >> 72) % 3e18)));
        IVolSurfaceOracle.Surface memory s;
        s.a = int256(0.001e18 + ((r >> 100) % 1e18));
        s.sigma = 0.1e18;
        s.timestamp = (r >> 160) % 5 == 0 ? 0 : block.timestamp - ((r >> 170) % 2 hours);
        s.confidenceWad = (r >> 200) % 1e18;
        s.mature = (r >> 230) % 4 != 0;
        surfaces.set(asset, (r >> 240) % 3 != 0, s);
    }

    function _book(uint256 seed) private returns (SeriesId[] memory ids, bool[] memory longs) {
        uint256 n = 1 + (seed % 8);
        ids = new SeriesId[](n);
        longs = new bool[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = _word(seed, 100 + i);
            uint16 index = r % 2 == 0 ? ethIndex : btcIndex;
            bool expired = (r >> 120) % 6 == 0;
            uint40 expiry =
                expired
                    ? uint40(block.timestamp - 1 - ((r >> 130) % 30 days))
                    : uint40(block.timestamp + 1 + ((r >> 130) % 3) * 1 days + ((r >> 140) % 2));
            ids[i] = SeriesLib.id(
                SeriesLib.Series(index, expiry, (r >> 1) & 1 == 1, uint128(1_000e18 + ((r >> 2) % 80_000e18)))
            );
            longs[i] = (r >> 3) & 1 == 1;
            address asset = index == ethIndex ? address(weth) : address(wbtc);
            vm.mockCall(
                address(oracle),
                abi.encodeCall(oracle.settlementPrice, (asset, expiry)),
                abi.encode(1 + ((r >> 170) % 200_000e18), (r >> 250) & 1 == 1)
            );
        }
    }

    function _assertSame(SeriesId[] memory ids, bool[] memory longs) private view returns (bool ok) {
        bytes memory out;
        bytes memory want;
        (ok, out) = address(harness).staticcall(abi.encodeCall(harness.currentMarks, (ids, longs)));
        bool wantOk;
        (wantOk, want) = address(harness).staticcall(abi.encodeCall(harness.parentMarks, (ids, longs)));
        assertEq(ok, wantOk, "reverts where the parent did not, or not where it did");
        assertEq(out, want, "marks, vols, add-ons, FALLBACK record or revert data differ from the parent's");
    }

    function testFuzz_marksMatchTheParent(uint256 seed) public {
        vm.warp(block.timestamp + 40 days);
        uint256 r = _word(seed, 1);
        _mockUnderlying(address(weth), r);
        _mockUnderlying(address(wbtc), _word(seed, 2));
        harness.setSurface(
            (r >> 8) % 4 == 0 ? IVolSurfaceOracle(address(0)) : IVolSurfaceOracle(address(surfaces)),
            (r >> 16) % 0.2e18
        );
        (SeriesId[] memory ids, bool[] memory longs) = _book(seed);
        _assertSame(ids, longs);
    }

    /// @dev Three live ETH series on a flat underlying (a surface oracle that does not list it):
    /// the mode is read once per check (`isListed` once), and a vol feed returning 0 is read again
    /// at every series, as the parent did (0 is the cache's "not read"); a feed returning a vol is
    /// read once.
    function test_flatUnderlying_modeReadOnce_zeroVolReadEachTime() public {
        vm.warp(block.timestamp + 40 days);
        IVolSurfaceOracle.Surface memory s;
        surfaces.set(address(weth), false, s);
        harness.setSurface(IVolSurfaceOracle(address(surfaces)), 0.1e18);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(3_000e18));
        SeriesId[] memory ids = new SeriesId[](3);
        bool[] memory longs = new bool[](3);
        for (uint256 i; i < 3; ++i) {
            ids[i] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(7 + i), i % 2 == 0, 3_000e18));
            longs[i] = i == 1;
        }
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0));
        vm.expectCall(address(surfaces), abi.encodeCall(surfaces.isListed, (address(weth))), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), 3);
        uint256[] memory out = harness.currentMarks(ids, longs);
        for (uint256 i; i < 3; ++i) {
            assertEq(out[5 * i + 3], 0, "vol");
            assertEq(out[5 * i + 4], 0, "no add-on on a flat underlying");
        }
    }

    /// @dev The same book at a zero vol feed, on a flat underlying and on a listed one whose
    /// surface is immature (FALLBACK at the feed): the parent's marks, to the wei.
    function test_zeroVolFeed_matchesTheParent() public {
        vm.warp(block.timestamp + 40 days);
        IVolSurfaceOracle.Surface memory s;
        s.timestamp = block.timestamp;
        for (uint256 listed; listed < 2; ++listed) {
            surfaces.set(address(weth), listed == 1, s);
            harness.setSurface(IVolSurfaceOracle(address(surfaces)), 0.1e18);
            vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(3_000e18));
            vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0));
            SeriesId[] memory ids = new SeriesId[](3);
            bool[] memory longs = new bool[](3);
            for (uint256 i; i < 3; ++i) {
                ids[i] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(7 + i), i % 2 == 0, 3_000e18));
                longs[i] = i == 1;
            }
            assertTrue(_assertSame(ids, longs), "a zero vol feed reverted");
        }
    }

    function test_flatUnderlying_volReadOnce() public {
        vm.warp(block.timestamp + 40 days);
        harness.setSurface(IVolSurfaceOracle(address(0)), 0.1e18);
        vm.mockCall(address(oracle), abi.encodeCall(oracle.spot, (address(weth))), abi.encode(3_000e18));
        vm.mockCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), abi.encode(0.7e18));
        SeriesId[] memory ids = new SeriesId[](3);
        bool[] memory longs = new bool[](3);
        for (uint256 i; i < 3; ++i) {
            ids[i] = SeriesLib.id(SeriesLib.Series(ethIndex, _expiry(7 + i), i % 2 == 0, 3_000e18));
            longs[i] = i == 1;
        }
        vm.expectCall(address(oracle), abi.encodeCall(oracle.vol, (address(weth))), 1);
        uint256[] memory out = harness.currentMarks(ids, longs);
        for (uint256 i; i < 3; ++i) assertEq(out[5 * i + 3], 0.7e18, "the feed's vol");
    }
}
