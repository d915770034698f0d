// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {OracleBoundsFixture} from "../../helpers/OracleBoundsFixture.sol";

/// @notice Review rv51 of bb37ff8 ("a price read takes one feed slot"): the inner box of a feed's
/// bounds, read from storage (`vm.load`) and checked against the exact bounds at its own edges,
/// the packing at its edges, the slot layout, the error order and the one-slot read.
contract Rv51InnerBoxTest is OracleBoundsFixture {
    /// @dev `_spotFeeds` follows AccessControl's `_roles` (slot 0); `_volFeeds` follows it.
    uint256 private constant _SPOT_FEEDS_SLOT = 1;
    uint256 private constant _VOL_FEEDS_SLOT = 2;

    // ---------------------------------------------------------------- helpers

    function _slot0(uint256 mapSlot, address asset) private view returns (uint256) {
        return uint256(vm.load(address(oracle), keccak256(abi.encode(asset, mapSlot))));
    }

    function _slot1(uint256 mapSlot, address asset) private view returns (uint256) {
        return uint256(vm.load(address(oracle), bytes32(uint256(keccak256(abi.encode(asset, mapSlot))) + 1)));
    }

    /// @dev An independent decoding of an inner-box float: 25-bit mantissa, exponent above it.
    function _value(uint256 packed) private pure returns (uint256) {
        return (packed & ((1 << 25) - 1)) << (packed >> 25);
    }

    /// @dev The packed box as stored (raw) for `asset`'s spot feed.
    function _rawBox(address asset) private view returns (uint256 packedMin, uint256 packedMax) {
        uint256 w = _slot0(_SPOT_FEEDS_SLOT, asset);
        packedMin = uint32(w >> 192);
        packedMax = uint32(w >> 224);
    }

    function _box(address asset) private view returns (uint256 lo, uint256 hi) {
        (uint256 pMin, uint256 pMax) = _rawBox(asset);
        return (_value(pMin), _value(pMax));
    }

    function _bitLength(uint256 x) private pure returns (uint256 n) {
        while (x != 0) (x, n) = (x >> 1, n + 1);
    }

    /// @dev The spacing of inner-box floats at `x` (1 below 2^25).
    function _ulp(uint256 x) private pure returns (uint256) {
        uint256 n = _bitLength(x);
        return n <= 25 ? 1 : 1 << (n - 25);
    }

    /// @dev Every price at and around the box's edges and the bounds' edges is judged exactly.
    function _assertEdges(uint256 minWad, uint256 maxWad) private {
        _setWad(minWad, maxWad);
        (uint256 lo, uint256 hi) = _box(address(weth));
        uint256[6] memory points = [lo, hi, minWad, maxWad, lo == 0 ? 0 : lo - 1, hi + 1];
        for (uint256 i; i < points.length; ++i) {
            uint256 p = points[i];
            _assertJudgedExactly(p, minWad, maxWad);
            if (p > 0) _assertJudgedExactly(p - 1, minWad, maxWad);
            _assertJudgedExactly(p + 1, minWad, maxWad);
        }
    }

    // ---------------------------------------------------------------- the packing

    /// @dev The box as stored: inward, tight (less than one float step from the bound), canonical,
    /// a zero maximum (only) packed to 0.
    function testFuzz_boxIsInwardTightAndCanonical(uint128 a, uint128 b, bool noMax) public {
        (uint256 minWad, uint256 maxWad) = a <= b ? (uint256(a), uint256(b)) : (uint256(b), uint256(a));
        if (noMax) maxWad = 0;
        _setWad(minWad, maxWad);
        (uint256 pMin, uint256 pMax) = _rawBox(address(weth));
        (uint256 lo, uint256 hi) = (_value(pMin), _value(pMax));
        assertGe(lo, minWad, "innerMin below the minimum");
        assertLt(lo - minWad, _ulp(minWad), "innerMin not the least float at or above");
        if (maxWad == 0) {
            assertEq(pMax, 0, "no maximum must pack to 0");
        } else {
            assertLe(hi, maxWad, "innerMax above the maximum");
            assertLt(maxWad - hi, _ulp(maxWad), "innerMax not the greatest float at or below");
            assertGt(hi, 0, "a nonzero maximum packed to 0 (none)");
        }
        // Canonical: an exponent above 0 has its 25th mantissa bit set; exponent at most 104.
        if (pMin >> 25 != 0) assertGe(pMin & ((1 << 25) - 1), 1 << 24);
        if (pMax >> 25 != 0) assertGe(pMax & ((1 << 25) - 1), 1 << 24);
        assertLe(pMin >> 25, 104);
        assertLe(pMax >> 25, 103);
    }

    /// @dev `bound` as the minimum (no maximum) packs to `up`, as the maximum (no minimum) to `down`.
    function _checkPacked(uint256 bound_, uint256 up, uint256 down) private {
        _setWad(bound_, 0);
        (uint256 lo, ) = _box(address(weth));
        assertEq(lo, up, "innerMin");
        _setWad(0, bound_);
        (, uint256 hi) = _box(address(weth));
        assertEq(hi, down, "innerMax");
    }

    function test_packingEdges() public {
        uint256 m25 = (1 << 25) - 1;
        _checkPacked(0, 0, 0);
        _checkPacked(1, 1, 1);
        _checkPacked(m25, m25, m25);
        _checkPacked(1 << 25, 1 << 25, 1 << 25);
        _checkPacked((1 << 25) + 1, (1 << 25) + 2, 1 << 25);
        _checkPacked((1 << 26) - 1, 1 << 26, (1 << 26) - 2);
        _checkPacked((1 << 64) - 1, 1 << 64, (1 << 64) - (1 << 39));
        _checkPacked(1 << 127, 1 << 127, 1 << 127);
        _checkPacked((1 << 127) + 1, (1 << 127) + (1 << 103), 1 << 127);
        _checkPacked(uint256(type(uint128).max) - 1, 1 << 128, (1 << 128) - (1 << 103));
        _checkPacked(type(uint128).max, 1 << 128, (1 << 128) - (1 << 103));
        // 2^128 - 1 rounds up with a carry: mantissa 2^24 at exponent 104.
        _setWad(type(uint128).max, 0);
        (uint256 pMin, ) = _rawBox(address(weth));
        assertEq(pMin, (uint256(104) << 25) | (1 << 24));
    }

    // ---------------------------------------------------------------- the judgement

    function testFuzz_theBoxEdgesAreJudgedExactly(uint128 a, uint128 b, bool noMax) public {
        (uint256 minWad, uint256 maxWad) = a <= b ? (uint256(a), uint256(b)) : (uint256(b), uint256(a));
        if (noMax) maxWad = 0;
        _assertEdges(minWad, maxWad);
    }

    function test_theBoxEdgesAreJudgedExactly_atTheEdgeValues() public {
        uint256[10] memory v = [
            uint256(1),
            (1 << 25) - 1,
            1 << 25,
            (1 << 25) + 1,
            (1 << 26) - 1,
            (1 << 30) + 1,
            3000e18 + 1,
            (1 << 127) + 1,
            uint256(type(uint128).max) - 1,
            uint256(type(uint128).max)
        ];
        for (uint256 i; i < v.length; ++i) {
            _assertEdges(v[i], 0); // a minimum only
            _assertEdges(0, v[i]); // a maximum only
            _assertEdges(v[i], v[i]); // min == max: an empty box above 2^25
            for (uint256 j = i + 1; j < v.length; ++j) _assertEdges(v[i], v[j]);
        }
    }

    /// @dev The price one wei below a minimum that is not a float: the rounded-down float is at or
    /// below it, so a box rounded down (not up) would accept it.
    function test_oneWeiBelowAMinimumIsRefused() public {
        uint256 minWad = 3000e18 + 1;
        _setWad(minWad, 0);
        boundsFeed.updateAnswer(int256(minWad - 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(boundsFeed),
                minWad - 1,
                minWad,
                uint256(0)
            )
        );
        oracle.spot(address(weth));
    }

    /// @dev The mirror: one wei above a maximum that is not a float.
    function test_oneWeiAboveAMaximumIsRefused() public {
        uint256 maxWad = 3000e18 + 1;
        _setWad(0, maxWad);
        boundsFeed.updateAnswer(int256(maxWad + 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(boundsFeed),
                maxWad + 1,
                uint256(0),
                maxWad
            )
        );
        oracle.spot(address(weth));
    }

    /// @dev vol() takes the same path: one wei outside either bound of a volatility feed.
    function test_volFeedBoxEdges() public {
        MockV3Aggregator v = new MockV3Aggregator(18, 1);
        uint256 minWad = 0.1e18 + 1;
        uint256 maxWad = 5e18 - 1;
        vm.prank(admin);
        oracle.setVolFeed(address(weth), IChainlinkOracle.FeedConfig(address(v), uint32(SPOT_MAX_AGE), minWad, maxWad));
        v.updateAnswer(int256(minWad));
        assertEq(oracle.vol(address(weth)), minWad);
        v.updateAnswer(int256(maxWad));
        assertEq(oracle.vol(address(weth)), maxWad);
        v.updateAnswer(int256(minWad - 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(v),
                minWad - 1,
                minWad,
                maxWad
            )
        );
        oracle.vol(address(weth));
        v.updateAnswer(int256(maxWad + 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(v),
                maxWad + 1,
                minWad,
                maxWad
            )
        );
        oracle.vol(address(weth));
        // The box is in the first slot of the vol feed too.
        uint256 w = _slot0(_VOL_FEEDS_SLOT, address(weth));
        assertEq(address(uint160(w)), address(v));
        assertGe(_value(uint32(w >> 192)), minWad);
        assertLe(_value(uint32(w >> 224)), maxWad);
    }

    // ---------------------------------------------------------------- layout and reads

    function test_layoutIsTwoSlotsAsDocumented() public {
        MockV3Aggregator f = new MockV3Aggregator(8, 3000e8);
        uint256 minWad = 100e18 + 7;
        uint256 maxWad = 10_000e18 - 7;
        vm.prank(admin);
        oracle.setSpotFeed(address(weth), IChainlinkOracle.FeedConfig(address(f), 2 hours - 1, minWad, maxWad));
        uint256 w0 = _slot0(_SPOT_FEEDS_SLOT, address(weth));
        uint256 w1 = _slot1(_SPOT_FEEDS_SLOT, address(weth));
        assertEq(address(uint160(w0)), address(f), "aggregator");
        assertEq(uint24(w0 >> 160), 2 hours - 1, "maxAge");
        assertEq(uint8(w0 >> 184), 8, "decimals");
        assertEq(uint128(w1), minWad, "minAnswerWad");
        assertEq(w1 >> 128, maxWad, "maxAnswerWad");
        IChainlinkOracle.FeedConfig memory c = oracle.spotFeed(address(weth));
        assertEq(c.maxAge, 2 hours - 1);
        assertEq(c.minAnswerWad, minWad);
        assertEq(c.maxAnswerWad, maxWad);
        // The largest maxAge a vol feed may have (2 days) reads back whole through 24 bits.
        vm.prank(admin);
        oracle.setVolFeed(address(weth), IChainlinkOracle.FeedConfig(address(f), 2 days, minWad, maxWad));
        assertEq(oracle.volFeed(address(weth)).maxAge, 2 days);
        vm.warp(block.timestamp + 2 days);
        assertEq(oracle.vol(address(weth)), 3000e18);
        vm.warp(block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(f), START, uint256(2 days))
        );
        oracle.vol(address(weth));
    }

    /// @dev With no maximum (innerMax 0) a price inside the box still reads one slot: a read that
    /// skipped the `innerMax != 0` guard would take the exact bounds for every such feed.
    function test_noMaximumInsideTheBoxReadsOneSlot() public {
        _setWad(100e18, 0);
        boundsFeed.updateAnswer(3000e18);
        vm.record();
        assertEq(oracle.spot(address(weth)), 3000e18);
        (bytes32[] memory reads, ) = vm.accesses(address(oracle));
        assertGt(reads.length, 0);
        for (uint256 i = 1; i < reads.length; ++i) assertEq(reads[i], reads[0], "a second oracle slot was read");
        _setWad(0, 0);
        vm.record();
        assertEq(oracle.spot(address(weth)), 3000e18);
        (reads, ) = vm.accesses(address(oracle));
        for (uint256 i = 1; i < reads.length; ++i) assertEq(reads[i], reads[0], "a second oracle slot was read");
    }

    /// @dev Inside the box only the first slot is read, once (review rv51 P3-1 allowed two reads;
    /// since session 34 one is asserted).
    function test_insideTheBoxReadsOnlyTheFirstSlot() public {
        _setWad(100e18, 10_000e18);
        boundsFeed.updateAnswer(3000e18);
        vm.record();
        oracle.spot(address(weth));
        (bytes32[] memory reads, ) = vm.accesses(address(oracle));
        emit log_named_uint("SLOADs of the oracle inside the box", reads.length);
        assertGt(reads.length, 0);
        assertEq(reads.length, 1, "SLOADs of the oracle");
        bytes32 first = keccak256(abi.encode(address(weth), _SPOT_FEEDS_SLOT));
        for (uint256 i; i < reads.length; ++i) assertEq(reads[i], first, "not the feed's first slot");
    }

    // ---------------------------------------------------------------- error order

    function test_errorOrderIsUnchanged() public {
        MockV3Aggregator f = new MockV3Aggregator(18, int256(50e18));
        // Not set: OracleFeedNotSet before anything.
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedNotSet.selector, address(0xBEEF)));
        oracle.spot(address(0xBEEF));
        // Out of bounds and stale: stale first, with the exact maxAge.
        vm.prank(admin);
        oracle.setSpotFeed(address(weth), IChainlinkOracle.FeedConfig(address(f), uint32(SPOT_MAX_AGE), 100e18, 0));
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(f), START, uint256(SPOT_MAX_AGE))
        );
        oracle.spot(address(weth));
        // Zero and negative answers: OracleInvalidPrice before the bounds, with and without a box.
        int256[3] memory answers = [int256(0), -1, type(int256).min];
        uint256[2] memory mins = [uint256(0), 100e18];
        for (uint256 i; i < answers.length; ++i) {
            for (uint256 j; j < mins.length; ++j) {
                vm.prank(admin);
                oracle.setSpotFeed(
                    address(weth),
                    IChainlinkOracle.FeedConfig(address(f), uint32(SPOT_MAX_AGE), mins[j], 0)
                );
                f.updateAnswer(answers[i]);
                vm.expectRevert(
                    abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(f), answers[i])
                );
                oracle.spot(address(weth));
            }
        }
    }

    /// @dev An answer that scales to 0 (36 decimals, below 1e18) with no bounds: a box of [0, none]
    /// must not accept the 0.
    function test_anAnswerScaledToZeroIsInvalidWithNoBounds() public {
        MockV3Aggregator f = new MockV3Aggregator(36, 1e18 - 1);
        vm.prank(admin);
        oracle.setSpotFeed(address(weth), IChainlinkOracle.FeedConfig(address(f), uint32(SPOT_MAX_AGE), 0, 0));
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(f), 1e18 - 1));
        oracle.spot(address(weth));
    }

    // ---------------------------------------------------------------- no panic

    /// @dev No governance config and no answer makes a read panic: it returns or reverts with an
    /// oracle error.
    function testFuzz_noConfigPanics(uint128 a, uint128 b, uint8 decimals, int256 answer) public {
        decimals = uint8(bound(decimals, 0, 36));
        (uint256 minWad, uint256 maxWad) = a <= b ? (uint256(a), uint256(b)) : (uint256(b), uint256(a));
        MockV3Aggregator f = new MockV3Aggregator(decimals, answer);
        vm.prank(admin);
        oracle.setSpotFeed(
            address(weth),
            IChainlinkOracle.FeedConfig(address(f), uint32(SPOT_MAX_AGE), minWad, maxWad)
        );
        try oracle.spot(address(weth)) returns (uint256 read) {
            assertGe(read, minWad);
            if (maxWad != 0) assertLe(read, maxWad);
            assertGt(read, 0);
        } catch (bytes memory reason) {
            bytes4 s = bytes4(reason);
            assertTrue(
                s == IChainlinkOracle.OraclePriceOutOfBounds.selector ||
                    s == IChainlinkOracle.OracleInvalidPrice.selector,
                "unexpected revert"
            );
        }
    }

    /// @dev Gas of a read inside the box and of one at the exact minimum (the slow path), logged.
    function test_gasInsideAndAtTheEdge() public {
        uint256 minWad = (1 << 70) + 1;
        _setWad(minWad, 0);
        boundsFeed.updateAnswer(int256(minWad + (1 << 60)));
        uint256 g = gasleft();
        oracle.spot(address(weth));
        uint256 inside = g - gasleft();
        _setWad(minWad, 0); // cold again is not possible in one test: compare warm to warm
        boundsFeed.updateAnswer(int256(minWad));
        g = gasleft();
        oracle.spot(address(weth));
        uint256 edge = g - gasleft();
        emit log_named_uint("spot inside the box (warm)", inside);
        emit log_named_uint("spot between box and bound (warm)", edge);
        assertLt(edge, inside + 2_000, "the slow path costs far more");
    }
}
