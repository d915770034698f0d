// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {MockFaultyAggregator} from "../../../contracts/mocks/MockFaultyAggregator.sol";
import {LiveSinceFixture} from "../../helpers/LiveSinceFixture.sol";

/// @notice Review rv52 of the walk's box judge (`_isValidAnswer`): the cases the box alone would
/// get wrong and that LiveSinceBox's fuzz does not reach deterministically. A round that answers
/// no price (zero, negative, scaled to zero, past uint256 once scaled) ends the run even with no
/// minimum (an empty-below box `[0, hi]` contains 0); with no maximum a round below the minimum
/// ends it (the box is `[lo, ∞)`, not `[0, lo]`); a re-set feed leaves no stale box.
contract Rv52LiveSinceJudgeTest is LiveSinceFixture {
    function _set(MockFaultyAggregator feed, bool isVol, uint256 minWad, uint256 maxWad) private {
        IChainlinkOracle.FeedConfig memory c = IChainlinkOracle.FeedConfig(address(feed), MAX_AGE, minWad, maxWad);
        if (isVol) oracle.setVolFeed(WETH, c);
        else oracle.setSpotFeed(WETH, c);
    }

    /// @dev Answers that are no price for a feed of `decimals`.
    function _nonPrices(uint8 decimals) private pure returns (int256[] memory a) {
        a = new int256[](decimals == 36 ? 4 : 3);
        a[0] = 0;
        a[1] = -1;
        a[2] = decimals == 0 ? int256(1e60) : type(int256).min; // 1e60 * 1e18 overflows uint256
        if (decimals == 36) a[3] = 1e17; // 1e-19 of a unit: scaled to 0
    }

    function test_aNonPriceEndsTheRunWithNoMinimum() public {
        uint8[3] memory decs = [uint8(0), 18, 36];
        uint256[2] memory maxes = [uint256(0), 10_000e18];
        for (uint256 v; v < 2; ++v) {
            bool isVol = v == 1;
            MockFaultyAggregator feed = isVol ? vol : spot;
            if (isVol) {
                spot.setDecimals(18);
                _set(spot, false, 0, 0);
                _rounds(spot, 1e18, 1e18, 1e18);
            }
            for (uint256 d; d < decs.length; ++d) {
                feed.setDecimals(decs[d]);
                int256 good = decs[d] == 0 ? int256(1) : int256(10 ** decs[d]);
                int256[] memory bad = _nonPrices(decs[d]);
                for (uint256 m; m < maxes.length; ++m) {
                    _set(feed, isVol, 0, maxes[m]);
                    _rounds(feed, good, good, good);
                    assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes, "control");
                    for (uint256 i; i < bad.length; ++i) {
                        _rounds(feed, good, good, bad[i]);
                        assertEq(oracle.liveSince(WETH, 0), T0 - 30 minutes, "a walked non-price is live");
                        _rounds(feed, good, bad[i], good);
                        assertEq(oracle.liveSince(WETH, 0), T0, "a walked non-price is live (middle)");
                        _rounds(feed, bad[i], good, good);
                        assertEq(oracle.liveSince(WETH, 0), T0, "a latest non-price is live");
                    }
                }
            }
        }
    }

    /// @dev No maximum: the box is `[lo, ∞)`. A round below the minimum, far or by one wei, ends
    /// the run, for the latest round and a walked one, spot and vol (the box taken as `[0, lo]`
    /// or `[0, 0]` would accept them).
    function test_noMaximumBelowTheMinimumEndsTheRun() public {
        uint256 minWad = 100e18 + 1;
        int256[3] memory below = [int256(1), int256(50e18), int256(minWad - 1)];
        for (uint256 v; v < 2; ++v) {
            bool isVol = v == 1;
            MockFaultyAggregator feed = isVol ? vol : spot;
            if (isVol) {
                _set(spot, false, 0, 0);
                _rounds(spot, 1e18, 1e18, 1e18);
            }
            _set(feed, isVol, minWad, 0);
            _rounds(feed, 1e30, int256(minWad), 1e30);
            assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes, "the exact minimum, and far above it");
            for (uint256 i; i < below.length; ++i) {
                _rounds(feed, 1e30, 1e30, below[i]);
                assertEq(oracle.liveSince(WETH, 0), T0 - 30 minutes, "a walked round below the minimum");
                _rounds(feed, below[i], 1e30, 1e30);
                assertEq(oracle.liveSince(WETH, 0), T0, "a latest round below the minimum");
            }
        }
    }

    /// @dev With no maximum the walk still reads each feed's first slot only, inside the box.
    function test_noMaximumWalkReadsEachFeedsFirstSlotOnly() public {
        _set(spot, false, 100e18, 0);
        _set(vol, true, 0, 0);
        _rounds(spot, 3_000e18, 3_000e18, 3_000e18);
        _rounds(vol, 1e18, 1e18, 1e18);
        vm.record();
        assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes);
        (bytes32[] memory reads, ) = vm.accesses(address(oracle));
        for (uint256 i; i < reads.length; ++i) {
            assertTrue(
                reads[i] == _feedSlot(SPOT_FEEDS_SLOT, 0) || reads[i] == _feedSlot(VOL_FEEDS_SLOT, 0),
                "a slot other than a feed's first was read"
            );
        }
    }

    /// @dev Re-setting a feed rewrites both slots: no box or bound of the earlier config is left.
    function test_reSetFeedLeavesNoStaleBox() public {
        _set(spot, false, 100e18 + 1, 10_000e18 - 1);
        assertTrue(vm.load(address(oracle), _feedSlot(SPOT_FEEDS_SLOT, 1)) != bytes32(0));
        _set(spot, false, 0, 0);
        bytes32 head = vm.load(address(oracle), _feedSlot(SPOT_FEEDS_SLOT, 0));
        // aggregator (160) | maxAge (24) | decimals (8) | innerMin (32) | innerMax (32), low to high.
        assertEq(uint256(head) >> 192, 0, "stale box");
        assertEq(address(uint160(uint256(head))), address(spot));
        assertEq(uint24(uint256(head) >> 160), MAX_AGE);
        assertEq(uint8(uint256(head) >> 184), 18);
        assertEq(vm.load(address(oracle), _feedSlot(SPOT_FEEDS_SLOT, 1)), bytes32(0), "stale bounds");
        _rounds(spot, 1e30, 1, 1e30);
        assertEq(oracle.liveSince(WETH, 0), T0 - 60 minutes);
        assertEq(oracle.spot(WETH), 1e30);
    }
}
