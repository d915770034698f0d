// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ChainlinkOracle} from "../../../contracts/oracle/ChainlinkOracle.sol";
import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {MockFaultyAggregator} from "../../../contracts/mocks/MockFaultyAggregator.sol";

/// @notice `liveSince` (finding 9): since when an asset's prices have been continuously readable.
contract ChainlinkOracleLiveSinceTest is Test {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant GRACE = 1 hours;
    uint32 internal constant MAX_AGE = 1 hours;
    address internal constant WETH = address(0xE7);

    ChainlinkOracle internal oracle;
    MockFaultyAggregator internal sequencer;
    MockFaultyAggregator internal spot;
    MockFaultyAggregator internal vol;

    function setUp() public {
        vm.warp(T0);
        sequencer = new MockFaultyAggregator(0);
        sequencer.setLatest(0, T0 - 10 days, T0 - 10 days);
        oracle = new ChainlinkOracle(address(this), address(sequencer), GRACE, 2 hours, 1 days);
        spot = new MockFaultyAggregator(8);
        vol = new MockFaultyAggregator(8);
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(spot), MAX_AGE, 1e18, 1_000_000e18));
        // Rounds every 30 minutes for two days in phase 1, ending now; the vol feed likewise.
        for (uint64 n = 1; n <= 97; ++n) {
            spot.setPhaseRound(1, n, 2_000e8, T0 - 2 days + (n - 1) * 30 minutes);
        }
    }

    function test_liveFeed_walksBackToNotBefore() public view {
        assertEq(oracle.liveSince(WETH, T0 - 3 hours), T0 - 3 hours);
        assertEq(oracle.liveSince(WETH, T0 - 10 minutes), T0 - 10 minutes, "clamped to notBefore");
    }

    function test_gapLongerThanMaxAge_isAnOutage() public {
        // Round 92 is at T0 − 2 h 30; round 91 moved to T0 − 4 h: a 1 h 30 gap.
        spot.setPhaseRound(1, 91, 2_000e8, T0 - 4 hours);
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 150 minutes);
        // A gap of exactly maxAge is not an outage.
        spot.setPhaseRound(1, 91, 2_000e8, T0 - 210 minutes);
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 1 days);
        // A missing round ends the run (a real proxy reverts on it).
        spot.deleteRound(spot.roundIdOf(1, 85));
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 330 minutes);
        // A gap further back than MAX_LIVE_ROUNDS (16) rounds is not seen: the callers keep
        // `notBefore` recent (the liquidator's last check).
        spot.setPhaseRound(1, 85, 2_000e8, T0 - 360 minutes);
        spot.deleteRound(spot.roundIdOf(1, 80));
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 1 days);
    }

    function test_invalidRound_isAnOutage() public {
        spot.setPhaseRound(1, 95, 0, T0 - 1 hours); // answer 0
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 30 minutes);
        spot.setPhaseRound(1, 95, 2_000_000e8, T0 - 1 hours); // out of bounds
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 30 minutes);
    }

    function test_staleNow_answersNow() public {
        vm.warp(T0 + 1 hours + 1);
        assertEq(oracle.liveSince(WETH, T0 - 1 days), block.timestamp);
        assertEq(oracle.liveSince(address(0xDEAD), 0), block.timestamp, "no feed");
    }

    function test_phaseStartAndBound_answerConservatively() public {
        // The walk stops at the phase's first round (the previous phase is not walked).
        MockFaultyAggregator phased = new MockFaultyAggregator(8);
        for (uint64 n = 1; n <= 5; ++n) phased.setPhaseRound(3, n, 2_000e8, T0 - 2 hours + (n - 1) * 30 minutes);
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(phased), MAX_AGE, 0, 0));
        assertEq(oracle.liveSince(WETH, 0), T0 - 2 hours);
        // More than MAX_LIVE_ROUNDS rounds back, every gap live: a busy feed, live since
        // `notBefore` (review R2: answering the oldest round examined capped the auction discount).
        MockFaultyAggregator dense = new MockFaultyAggregator(8);
        for (uint64 n = 1; n <= 100; ++n) dense.setPhaseRound(2, n, 2_000e8, T0 - 100 minutes + n * 1 minutes);
        oracle.setSpotFeed(WETH, IChainlinkOracle.FeedConfig(address(dense), MAX_AGE, 0, 0));
        assertEq(oracle.MAX_LIVE_ROUNDS(), 16);
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 1 days);
        assertEq(oracle.liveSince(WETH, T0 - 90 minutes), T0 - 90 minutes);
        // Within the bound the walk still stops at `notBefore`.
        assertEq(oracle.liveSince(WETH, T0 - 10 minutes), T0 - 10 minutes);
    }

    function test_volFeed_counts() public {
        oracle.setVolFeed(WETH, IChainlinkOracle.FeedConfig(address(vol), MAX_AGE, 0, 0));
        vol.setPhaseRound(1, 1, 0.8e8, T0 - 4 hours);
        vol.setPhaseRound(1, 2, 0.8e8, T0 - 20 minutes); // a 3 h 40 gap
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 20 minutes);
    }

    function test_sequencerDownOrInGrace() public {
        sequencer.setLatest(1, T0 - 5 minutes, T0 - 5 minutes);
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0, "down: not live");
        sequencer.setLatest(0, T0 - 90 minutes, T0 - 90 minutes); // back up 90 min ago, grace 1 h
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0 - 30 minutes);
        sequencer.setLatest(0, T0 - 10 minutes, T0 - 10 minutes); // still in grace
        assertEq(oracle.liveSince(WETH, T0 - 1 days), T0);
    }
}
