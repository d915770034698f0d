// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, Vm} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {ChainlinkOracle} from "../../../contracts/oracle/ChainlinkOracle.sol";
import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {MockFaultyAggregator} from "../../../contracts/mocks/MockFaultyAggregator.sol";

contract ChainlinkOracleTest is Test {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant GRACE = 1 hours;
    uint256 internal constant DELAY = 1 hours;
    uint32 internal constant ETH_MAX_AGE = 1 hours + 10 minutes;
    uint32 internal constant USDC_MAX_AGE = 1 days + 1 hours;
    /// @dev Settlement expiry used throughout: one day after T0.
    uint256 internal constant E = T0 + 1 days;

    address internal constant WETH = address(0xE7);
    address internal constant USDC = address(0xC0);
    address internal constant WBTC = address(0xB7);
    address internal constant STRANGER = address(0xBAD);

    ChainlinkOracle internal oracle;
    MockFaultyAggregator internal sequencer;
    MockV3Aggregator internal ethFeed;
    MockV3Aggregator internal usdcFeed;
    MockFaultyAggregator internal btcFeed;

    function setUp() public {
        vm.warp(T0);
        sequencer = new MockFaultyAggregator(0);
        sequencer.setLatest(0, T0 - 2 hours, T0 - 2 hours); // up for two hours: past the grace period
        oracle = new ChainlinkOracle(address(this), address(sequencer), GRACE, DELAY);

        ethFeed = new MockV3Aggregator(8, 2000e8);
        usdcFeed = new MockV3Aggregator(8, 1e8);
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), ETH_MAX_AGE));
        oracle.setSpotFeed(USDC, _cfg(address(usdcFeed), USDC_MAX_AGE));

        btcFeed = new MockFaultyAggregator(8);
        oracle.setSpotFeed(WBTC, _cfg(address(btcFeed), 1 hours));
    }

    // ================================================================ helpers

    function _cfg(address aggregator, uint32 maxAge) internal pure returns (IChainlinkOracle.FeedConfig memory) {
        return IChainlinkOracle.FeedConfig({aggregator: aggregator, maxAge: maxAge, minAnswerWad: 0, maxAnswerWad: 0});
    }

    function _cfg(
        address aggregator,
        uint32 maxAge,
        uint256 minWad,
        uint256 maxWad
    ) internal pure returns (IChainlinkOracle.FeedConfig memory) {
        return
            IChainlinkOracle.FeedConfig({
                aggregator: aggregator,
                maxAge: maxAge,
                minAnswerWad: minWad,
                maxAnswerWad: maxWad
            });
    }

    /// @dev Computed locally: an external call here would be consumed by a pending `vm.expectRevert`.
    function _r(uint16 phase, uint64 n) internal pure returns (uint80) {
        return (uint80(phase) << 64) | n;
    }

    /// @dev Phase 1: rounds at E-2h, E-30m, E+10m, E+40m. The first round at/after expiry is (1,3).
    function _btcRounds() internal {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 2 hours);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 3, 62_000e8, E + 10 minutes);
        btcFeed.setPhaseRound(1, 4, 63_000e8, E + 40 minutes);
    }

    /// @dev Phase 1 ends before expiry at (1,2); phase 2 starts after it with (2,1).
    function _btcRoundsAcrossPhases() internal {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 2 hours);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(2, 1, 62_000e8, E + 10 minutes);
        btcFeed.setPhaseRound(2, 2, 63_000e8, E + 40 minutes);
    }

    function _expectNotFirst(uint80 roundId, uint80 previousRoundId) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFirstAfterExpiry.selector, roundId, previousRoundId)
        );
        oracle.postSettlementPrice(WBTC, E, roundId, previousRoundId);
    }

    // ================================================================ constructor and admin

    function test_constructor_setsConfig() public view {
        assertEq(oracle.sequencerFeed(), address(sequencer));
        assertEq(oracle.sequencerGracePeriod(), GRACE);
        assertEq(oracle.maxSettlementDelay(), DELAY);
        assertTrue(oracle.hasRole(oracle.DEFAULT_ADMIN_ROLE(), address(this)));
    }

    function test_constructor_rejectsBadConfig() public {
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(0), address(0), 0, DELAY);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(sequencer), 1 days + 1, DELAY);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(0), 0, 1 minutes - 1);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(0), 0, 1 days + 1);
        // The bounds themselves are accepted.
        new ChainlinkOracle(address(this), address(sequencer), 1 days, 1 minutes);
        new ChainlinkOracle(address(this), address(0), 0, 1 days);
    }

    function test_l1_noSequencerFeed() public {
        ChainlinkOracle l1 = new ChainlinkOracle(address(this), address(0), 0, DELAY);
        l1.setSpotFeed(WETH, _cfg(address(ethFeed), ETH_MAX_AGE));
        sequencer.setLatest(1, T0, T0); // irrelevant on L1
        assertEq(l1.spot(WETH), 2000e18);
    }

    function test_setSpotFeed_onlyAdmin() public {
        vm.prank(STRANGER);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, bytes32(0))
        );
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), ETH_MAX_AGE));
    }

    function test_setVolFeed_onlyAdmin() public {
        vm.prank(STRANGER);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, bytes32(0))
        );
        oracle.setVolFeed(WETH, _cfg(address(ethFeed), ETH_MAX_AGE));
    }

    function test_setSpotFeed_emitsAndStores() public {
        IChainlinkOracle.FeedConfig memory cfg = _cfg(address(ethFeed), 2 hours, 100e18, 10_000e18);
        vm.expectEmit(address(oracle));
        emit IChainlinkOracle.SpotFeedSet(WETH, cfg);
        oracle.setSpotFeed(WETH, cfg);
        IChainlinkOracle.FeedConfig memory stored = oracle.spotFeed(WETH);
        assertEq(stored.aggregator, address(ethFeed));
        assertEq(stored.maxAge, 2 hours);
        assertEq(stored.minAnswerWad, 100e18);
        assertEq(stored.maxAnswerWad, 10_000e18);
    }

    function test_setVolFeed_emitsAndStores() public {
        IChainlinkOracle.FeedConfig memory cfg = _cfg(address(ethFeed), 2 hours);
        vm.expectEmit(address(oracle));
        emit IChainlinkOracle.VolFeedSet(WETH, cfg);
        oracle.setVolFeed(WETH, cfg);
        assertEq(oracle.volFeed(WETH).aggregator, address(ethFeed));
    }

    function test_setFeed_rejectsOutOfBoundsConfig() public {
        bytes memory err = abi.encodeWithSelector(IChainlinkOracle.OracleInvalidFeedConfig.selector, WETH);
        vm.expectRevert(err);
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 59));
        vm.expectRevert(err);
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 2 days + 1));
        vm.expectRevert(err);
        oracle.setSpotFeed(WETH, _cfg(address(0), 1 hours));
        vm.expectRevert(err);
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 1 hours, 2, 1)); // min > max
        vm.expectRevert(err);
        oracle.setVolFeed(WETH, _cfg(address(ethFeed), 59));
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidFeedConfig.selector, address(0)));
        oracle.setSpotFeed(address(0), _cfg(address(ethFeed), 1 hours));
        // Bounds and one-sided sanity limits are accepted.
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 60));
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 2 days));
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 1 hours, 5, 0));
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 1 hours, 0, 5));
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), 1 hours, 5, 5));
    }

    function test_setFeed_rejectsBadDecimals() public {
        MockFaultyAggregator feed = new MockFaultyAggregator(37);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidFeedConfig.selector, WETH));
        oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));
        feed.setDecimals(36);
        oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));
    }

    function test_setFeed_rejectsRevertingOrCodelessAggregator() public {
        MockFaultyAggregator feed = new MockFaultyAggregator(8);
        feed.setRevert(true);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, address(feed)));
        oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));
        // An EOA "answers" with empty data: caught as malformed, not as a decoding panic.
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, STRANGER));
        oracle.setSpotFeed(WETH, _cfg(STRANGER, 1 hours));
    }

    function test_feedNotSet() public {
        address unknown = address(0x1234);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedNotSet.selector, unknown));
        oracle.spot(unknown);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedNotSet.selector, WETH));
        oracle.vol(WETH);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedNotSet.selector, unknown));
        oracle.postSettlementPrice(unknown, E, 1, 0);
    }

    // ================================================================ spot and vol

    function test_spot_normalisesEightDecimals() public view {
        assertEq(oracle.spot(WETH), 2000e18);
        assertEq(oracle.spot(USDC), 1e18);
    }

    function test_vol_readsVolFeed() public {
        MockV3Aggregator volFeed = new MockV3Aggregator(8, 0.8e8);
        oracle.setVolFeed(WETH, _cfg(address(volFeed), 1 days));
        assertEq(oracle.vol(WETH), 0.8e18);
    }

    function test_decimals_normalisedTo18() public {
        uint8[6] memory decs = [uint8(0), 6, 8, 18, 24, 36];
        for (uint256 i; i < decs.length; ++i) {
            MockV3Aggregator feed = new MockV3Aggregator(decs[i], int256(1234 * uint256(10) ** decs[i]));
            oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));
            assertEq(oracle.spot(WETH), 1234e18, "decimals");
        }
        // Above 18 decimals the extra digits round down.
        MockV3Aggregator fine = new MockV3Aggregator(24, 1_234_567_891);
        oracle.setSpotFeed(WETH, _cfg(address(fine), 1 hours));
        assertEq(oracle.spot(WETH), 1234);
    }

    function test_decimals_answerVanishingBelowOneWeiIsInvalid() public {
        MockV3Aggregator feed = new MockV3Aggregator(36, 1e17);
        oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(feed), 1e17));
        oracle.spot(WETH);
    }

    function test_decimals_overflowingAnswerIsInvalid() public {
        MockV3Aggregator feed = new MockV3Aggregator(0, type(int256).max);
        oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(feed), type(int256).max)
        );
        oracle.spot(WETH);
    }

    function test_stale_revertsAfterMaxAge() public {
        vm.warp(T0 + ETH_MAX_AGE);
        assertEq(oracle.spot(WETH), 2000e18); // exactly maxAge old is still fresh
        vm.warp(T0 + ETH_MAX_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(ethFeed), T0, ETH_MAX_AGE)
        );
        oracle.spot(WETH);
    }

    function test_stale_perFeedHeartbeat() public {
        // Two hours later: the 1 h ETH feed is stale, the 24 h stablecoin feed is not.
        vm.warp(T0 + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(ethFeed), T0, ETH_MAX_AGE)
        );
        oracle.spot(WETH);
        assertEq(oracle.spot(USDC), 1e18);

        vm.warp(T0 + USDC_MAX_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(usdcFeed), T0, USDC_MAX_AGE)
        );
        oracle.spot(USDC);

        ethFeed.updateAnswer(2100e8); // a fresh round revives the feed
        assertEq(oracle.spot(WETH), 2100e18);
    }

    function test_stale_zeroOrFutureUpdatedAt() public {
        btcFeed.setLatest(60_000e8, T0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(btcFeed), 0, 1 hours)
        );
        oracle.spot(WBTC);

        btcFeed.setLatest(60_000e8, T0, T0 + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(btcFeed), T0 + 1, 1 hours)
        );
        oracle.spot(WBTC);
    }

    function test_invalidPrice_zero() public {
        ethFeed.updateAnswer(0);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(ethFeed), 0));
        oracle.spot(WETH);
    }

    function test_invalidPrice_negative() public {
        ethFeed.updateAnswer(-1);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(ethFeed), -1));
        oracle.spot(WETH);
    }

    function test_revertingFeed() public {
        btcFeed.setLatest(60_000e8, T0, T0);
        assertEq(oracle.spot(WBTC), 60_000e18);
        btcFeed.setRevert(true);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, address(btcFeed)));
        oracle.spot(WBTC);
    }

    function test_malformedFeed() public {
        btcFeed.setLatest(60_000e8, T0, T0);
        btcFeed.setMalformed(true);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, address(btcFeed)));
        oracle.spot(WBTC);
    }

    function test_bounds() public {
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), ETH_MAX_AGE, 100e18, 10_000e18));
        ethFeed.updateAnswer(100e8);
        assertEq(oracle.spot(WETH), 100e18); // bounds are inclusive
        ethFeed.updateAnswer(10_000e8);
        assertEq(oracle.spot(WETH), 10_000e18);

        ethFeed.updateAnswer(99e8);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(ethFeed),
                99e18,
                100e18,
                10_000e18
            )
        );
        oracle.spot(WETH);

        ethFeed.updateAnswer(10_001e8);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(ethFeed),
                10_001e18,
                100e18,
                10_000e18
            )
        );
        oracle.spot(WETH);
    }

    // ================================================================ sequencer

    function test_sequencer_down() public {
        oracle.setVolFeed(WETH, _cfg(address(new MockV3Aggregator(8, 0.8e8)), 1 days));
        sequencer.setLatest(1, T0 - 10 minutes, T0 - 10 minutes);
        vm.expectRevert(IChainlinkOracle.OracleSequencerDown.selector);
        oracle.spot(WETH);
        vm.expectRevert(IChainlinkOracle.OracleSequencerDown.selector);
        oracle.vol(WETH);
    }

    function test_sequencer_startedAtZeroIsDown() public {
        sequencer.setLatest(0, 0, T0);
        vm.expectRevert(IChainlinkOracle.OracleSequencerDown.selector);
        oracle.spot(WETH);
    }

    function test_sequencer_gracePeriod() public {
        uint256 upSince = T0 - 30 minutes;
        sequencer.setLatest(0, upSince, upSince);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleGracePeriodNotOver.selector, upSince, GRACE));
        oracle.spot(WETH);

        // Exactly at the end of the grace period it is still not over.
        vm.warp(upSince + GRACE);
        ethFeed.updateAnswer(2000e8);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleGracePeriodNotOver.selector, upSince, GRACE));
        oracle.spot(WETH);

        vm.warp(upSince + GRACE + 1);
        assertEq(oracle.spot(WETH), 2000e18);
    }

    function test_sequencer_futureStartedAtIsInGrace() public {
        sequencer.setLatest(0, T0 + 1, T0);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleGracePeriodNotOver.selector, T0 + 1, GRACE));
        oracle.spot(WETH);
    }

    function test_sequencer_revertingFeed() public {
        sequencer.setRevert(true);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, address(sequencer)));
        oracle.spot(WETH);
    }

    function test_sequencer_blocksSettlementPosting() public {
        _btcRounds();
        vm.warp(E + 1 hours);
        sequencer.setLatest(1, E, E);
        vm.expectRevert(IChainlinkOracle.OracleSequencerDown.selector);
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));

        sequencer.setLatest(0, E + 30 minutes, E + 30 minutes);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleGracePeriodNotOver.selector, E + 30 minutes, GRACE)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));

        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2)), 62_000e18);
    }

    // ================================================================ settlement

    function test_mock_roundIdEncoding() public view {
        assertEq(btcFeed.roundIdOf(2, 7), _r(2, 7));
        assertEq(_r(1, 1), 18446744073709551617);
    }

    function test_settle_firstRoundAfterExpiry() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        (uint256 before, bool postedBefore) = oracle.settlementPrice(WBTC, E);
        assertEq(before, 0);
        assertFalse(postedBefore);

        vm.expectEmit(address(oracle));
        emit IChainlinkOracle.SettlementPricePosted(WBTC, E, 62_000e18, _r(1, 3), STRANGER);
        vm.prank(STRANGER); // permissionless
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2)), 62_000e18);

        (uint256 price, bool posted) = oracle.settlementPrice(WBTC, E);
        assertEq(price, 62_000e18);
        assertTrue(posted);
    }

    function test_settle_roundExactlyAtExpiry() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 1);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E);
        vm.warp(E);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _r(1, 1)), 61_000e18);
    }

    function test_settle_predecessorAtExpiryIsNotBefore() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + 1);
        vm.warp(E + 1);
        _expectNotFirst(_r(1, 2), _r(1, 1));
    }

    function test_settle_idempotent() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        uint256 first = oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));

        vm.recordLogs();
        // Same call, and even a call with invalid arguments or a broken feed: the stored price, no event.
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2)), first);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 4), _r(1, 3)), first);
        btcFeed.setRevert(true);
        assertEq(oracle.postSettlementPrice(WBTC, E, 0, 0), first);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 0);
        (uint256 price, bool posted) = oracle.settlementPrice(WBTC, E);
        assertEq(price, first);
        assertTrue(posted);
    }

    function test_settle_expiryInFuture() public {
        _btcRounds();
        vm.warp(E - 1);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleExpiryNotReached.selector, E));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));
    }

    function test_settle_roundBeforeExpiry() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleRoundBeforeExpiry.selector, _r(1, 2), E - 30 minutes, E)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _r(1, 1));
    }

    function test_settle_cherryPickedLaterRound() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(1, 4), _r(1, 3));
    }

    function test_settle_wrongPredecessor() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(1, 3), _r(1, 1)); // before expiry but not adjacent
        _expectNotFirst(_r(1, 4), _r(1, 2)); // skips the real first round (1,3)
        _expectNotFirst(_r(1, 3), _r(1, 3));
        _expectNotFirst(_r(1, 3), _r(1, 9)); // predecessor does not exist
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        _expectNotFirst(_r(1, 3), _r(1, 9));
    }

    function test_settle_gapInPhaseIsNotProvable() public {
        _btcRounds();
        btcFeed.deleteRound(_r(1, 2));
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(1, 3), _r(1, 1));
        _expectNotFirst(_r(1, 3), _r(1, 2));
    }

    function test_settle_noRoundAfterExpiryYet() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 2 hours);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E - 30 minutes);
        vm.warp(E + 10 minutes);
        // A real proxy reverts on an unknown round ...
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(1, 3)));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));
        // ... others return zeros: both read as "not found".
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(1, 3)));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));
        // The latest existing round is before expiry.
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleRoundBeforeExpiry.selector, _r(1, 2), E - 30 minutes, E)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _r(1, 1));
    }

    function test_settle_tooLate() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + DELAY + 1);
        vm.warp(E + 3 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleSettlementTooLate.selector, _r(1, 2), E + DELAY + 1, E)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _r(1, 1));
        (, bool posted) = oracle.settlementPrice(WBTC, E);
        assertFalse(posted);
    }

    function test_settle_exactlyAtMaxDelay() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + DELAY);
        vm.warp(E + 3 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _r(1, 1)), 61_000e18);
    }

    function test_settle_bounds() public {
        _btcRounds();
        oracle.setSpotFeed(WBTC, _cfg(address(btcFeed), 1 hours, 0, 61_500e18));
        vm.warp(E + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(btcFeed),
                62_000e18,
                0,
                61_500e18
            )
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));
    }

    function test_settle_invalidAnswer() public {
        _btcRounds();
        btcFeed.setPhaseRound(1, 3, -5, E + 10 minutes);
        vm.warp(E + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(btcFeed), -5));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));
    }

    function test_settle_ignoresStalenessOfLatest() public {
        // Settlement reads a historical round: the latest answer being stale does not matter.
        _btcRounds();
        vm.warp(E + 1 days);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2)), 62_000e18);
    }

    function test_settle_phaseBoundary_valid() public {
        _btcRoundsAcrossPhases();
        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(2, 1), _r(1, 2)), 62_000e18);
    }

    function test_settle_phaseBoundary_valid_zerosMode() public {
        _btcRoundsAcrossPhases();
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(2, 1), _r(1, 2)), 62_000e18);
    }

    function test_settle_phaseBoundary_invalid() public {
        _btcRoundsAcrossPhases();
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(2, 1), _r(1, 1)); // (1,2) exists: (1,1) is not the last round of phase 1
        _expectNotFirst(_r(2, 2), _r(1, 2)); // (2,1) exists: (2,2) is not the first round of phase 2
        _expectNotFirst(_r(2, 1), _r(2, 0)); // aggregator round 0 does not exist
    }

    function test_settle_phaseBoundary_invalid_zerosMode() public {
        _btcRoundsAcrossPhases();
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(2, 1), _r(1, 1));
        _expectNotFirst(_r(2, 2), _r(1, 2));
        _expectNotFirst(_r(2, 1), _r(2, 0));
    }

    function test_settle_phaseBoundary_cherryPickedNextPhase() public {
        // Phase 1 has the real first round (1,3) after expiry; phase 2 starts later.
        _btcRounds();
        btcFeed.setPhaseRound(2, 1, 70_000e8, E + 50 minutes);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(2, 1), _r(1, 4)); // predecessor after expiry
        _expectNotFirst(_r(2, 1), _r(1, 2)); // (1,2) is not the last round of phase 1
    }

    function test_settle_phaseBoundary_skippedPhase() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 2 hours);
        btcFeed.setPhaseRound(3, 1, 62_000e8, E + 10 minutes);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(3, 1), _r(1, 1)); // only phase - 1 may hold the predecessor
    }

    function test_settle_perExpiry() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _r(1, 2));
        // An expiry between (1,3) and (1,4) settles on (1,4) independently.
        uint256 e2 = E + 20 minutes;
        assertEq(oracle.postSettlementPrice(WBTC, e2, _r(1, 4), _r(1, 3)), 63_000e18);
        (uint256 p1, ) = oracle.settlementPrice(WBTC, E);
        (uint256 p2, ) = oracle.settlementPrice(WBTC, e2);
        assertEq(p1, 62_000e18);
        assertEq(p2, 63_000e18);
    }

    // ================================================================ fuzz

    function testFuzz_decimalsNormalisation(uint8 decimals, uint256 answer) public {
        decimals = uint8(bound(decimals, 0, 36));
        answer = bound(answer, 1, 1e40);
        MockFaultyAggregator feed = new MockFaultyAggregator(decimals);
        feed.setLatest(int256(answer), T0, T0);
        oracle.setSpotFeed(WETH, _cfg(address(feed), 1 hours));

        uint256 expected =
            decimals <= 18 ? answer * uint256(10) ** (18 - decimals) : answer / uint256(10) ** (decimals - 18);
        if (expected == 0) {
            vm.expectRevert(
                abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(feed), int256(answer))
            );
        }
        uint256 got = oracle.spot(WETH);
        if (expected != 0) assertEq(got, expected);
    }

    function testFuzz_stalenessBoundary(uint32 maxAge, uint256 elapsed) public {
        maxAge = uint32(bound(maxAge, 60, 2 days));
        elapsed = bound(elapsed, 0, 3 days);
        oracle.setSpotFeed(WETH, _cfg(address(ethFeed), maxAge));
        vm.warp(T0 + elapsed);
        if (elapsed > maxAge) {
            vm.expectRevert(
                abi.encodeWithSelector(IChainlinkOracle.OracleStalePrice.selector, address(ethFeed), T0, maxAge)
            );
        }
        oracle.spot(WETH);
    }

    /// @dev Over a fixed history, exactly one (round, predecessor) pair proves the settlement round.
    function testFuzz_settle_onlyTrueFirstRound(uint64 n, uint64 m) public {
        // Rounds 1..6 every 20 minutes from E-50m: (1,3) at E-10m, (1,4) at E+10m is the first after expiry.
        for (uint64 i = 1; i <= 6; ++i) {
            btcFeed.setPhaseRound(1, i, int256(uint256(60_000e8 + i)), E - 70 minutes + i * 20 minutes);
        }
        n = uint64(bound(n, 1, 7));
        m = uint64(bound(m, 0, 7));
        vm.warp(E + 3 hours);
        if (n == 4 && m == 3) {
            assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, n), _r(1, m)), (60_000e8 + 4) * 1e10);
        } else {
            vm.expectRevert();
            oracle.postSettlementPrice(WBTC, E, _r(1, n), _r(1, m));
        }
    }
}
