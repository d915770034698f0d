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
    /// @dev Every spot feed's `maxAge` must fit under the settlement delay: USDC's 25 h does.
    uint256 internal constant DELAY = 1 days + 1 hours;
    uint256 internal constant FALLBACK = 2 days;
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
        oracle = new ChainlinkOracle(address(this), address(sequencer), GRACE, DELAY, FALLBACK);

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

    /// @dev No hints: a feed with a single phase (or a plain aggregator).
    function _noHints() internal pure returns (uint80[] memory) {
        return new uint80[](0);
    }

    function _hints(uint80 a) internal pure returns (uint80[] memory h) {
        h = new uint80[](1);
        h[0] = a;
    }

    function _hints(uint80 a, uint80 b) internal pure returns (uint80[] memory h) {
        h = new uint80[](2);
        h[0] = a;
        h[1] = b;
    }

    function _expectNotFirst(uint80 roundId, uint80 earlierRoundId) internal {
        _expectNotFirst(roundId, _noHints(), earlierRoundId);
    }

    function _expectNotFirst(uint80 roundId, uint80[] memory hints, uint80 earlierRoundId) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFirstAfterExpiry.selector, roundId, earlierRoundId)
        );
        oracle.postSettlementPrice(WBTC, E, roundId, hints);
    }

    function _expectHintInvalid(uint80 roundId, uint80[] memory hints, uint256 index, uint256 phase) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleSettlementHintInvalid.selector, index, hints[index], phase)
        );
        oracle.postSettlementPrice(WBTC, E, roundId, hints);
    }

    // ================================================================ constructor and admin

    function test_constructor_setsConfig() public view {
        assertEq(oracle.sequencerFeed(), address(sequencer));
        assertEq(oracle.sequencerGracePeriod(), GRACE);
        assertEq(oracle.maxSettlementDelay(), DELAY);
        assertEq(oracle.settlementFallbackWait(), FALLBACK);
        assertTrue(oracle.hasRole(oracle.DEFAULT_ADMIN_ROLE(), address(this)));
    }

    function test_constructor_rejectsBadConfig() public {
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(0), address(0), 0, DELAY, FALLBACK);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(sequencer), 1 days + 1, DELAY, FALLBACK);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(0), 0, 1 minutes - 1, FALLBACK);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(0), 0, 2 days + 1, 7 days);
        // The fallback wait is at least the delay and at most a week.
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(0), 0, 2 hours, 2 hours - 1);
        vm.expectRevert(IChainlinkOracle.OracleInvalidConfig.selector);
        new ChainlinkOracle(address(this), address(0), 0, 2 hours, 7 days + 1);
        // The bounds themselves are accepted.
        new ChainlinkOracle(address(this), address(sequencer), 1 days, 1 minutes, 1 minutes);
        new ChainlinkOracle(address(this), address(0), 0, 2 days, 7 days);
    }

    function test_l1_noSequencerFeed() public {
        ChainlinkOracle l1 = new ChainlinkOracle(address(this), address(0), 0, DELAY, FALLBACK);
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
        oracle.setVolFeed(WETH, _cfg(address(ethFeed), 2 days)); // spot feeds stop at the settlement delay
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
        oracle.postSettlementPrice(unknown, E, 1, _noHints());
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

    /// @dev The read takes exactly the ABI's five words: 159 bytes of return data are a failed read,
    /// 160 a price, and words past the fifth are ignored (the read is assembly since issue 19).
    function test_feedReturnLengthBoundary() public {
        LengthAggregator feed = new LengthAggregator(8, 60_000e8, T0);
        oracle.setSpotFeed(WBTC, _cfg(address(feed), 1 hours));
        feed.setLength(159);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, address(feed)));
        oracle.spot(WBTC);
        feed.setLength(0);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleFeedReverted.selector, address(feed)));
        oracle.spot(WBTC);
        feed.setLength(160);
        assertEq(oracle.spot(WBTC), 60_000e18);
        feed.setLength(224);
        assertEq(oracle.spot(WBTC), 60_000e18);
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
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());

        sequencer.setLatest(0, E + 30 minutes, E + 30 minutes);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleGracePeriodNotOver.selector, E + 30 minutes, GRACE)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());

        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 62_000e18);
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
        emit IChainlinkOracle.SettlementPricePosted(WBTC, E, 62_000e18, _r(1, 3), E + 10 minutes, STRANGER);
        vm.prank(STRANGER); // permissionless
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 62_000e18);

        (uint256 price, bool posted) = oracle.settlementPrice(WBTC, E);
        assertEq(price, 62_000e18);
        assertTrue(posted);
    }

    function test_settle_roundExactlyAtExpiry() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 1);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E);
        vm.warp(E);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
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
        uint256 first = oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());

        vm.recordLogs();
        // Same call, and even a call with invalid arguments or a broken feed: the stored price, no event.
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), first);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 4), _noHints()), first);
        btcFeed.setRevert(true);
        assertEq(oracle.postSettlementPrice(WBTC, E, 0, _noHints()), first);
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
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
    }

    function test_settle_roundBeforeExpiry() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleRoundBeforeExpiry.selector, _r(1, 2), E - 30 minutes, E)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
    }

    function test_settle_cherryPickedLaterRound() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(1, 4), _r(1, 3));
    }

    function test_settle_hintsOnSinglePhaseFeed() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        // A feed with one phase takes no hints.
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleSettlementHintsLength.selector, 1, 0));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _hints(_r(1, 2)));
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 62_000e18);
    }

    function test_settle_gapInPhaseIsNotProvable() public {
        _btcRounds();
        btcFeed.deleteRound(_r(1, 2));
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(1, 3), _r(1, 2)); // the missing predecessor proves nothing
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        _expectNotFirst(_r(1, 3), _r(1, 2));
    }

    function test_settle_firstRoundOfPhaseNeedsNoPredecessor() public {
        // The feed's very first round comes after expiry: nothing earlier exists.
        btcFeed.setPhaseRound(1, 1, 62_000e8, E + 10 minutes);
        btcFeed.setPhaseRound(1, 2, 63_000e8, E + 40 minutes);
        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 1), _noHints()), 62_000e18);
    }

    function test_settle_noRoundAfterExpiryYet() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 2 hours);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E - 30 minutes);
        vm.warp(E + 10 minutes);
        // A real proxy reverts on an unknown round ...
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(1, 3)));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
        // ... others return zeros: both read as "not found".
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(1, 3)));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
        // The latest existing round is before expiry.
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleRoundBeforeExpiry.selector, _r(1, 2), E - 30 minutes, E)
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
    }

    function test_settle_lateRoundWaitsForFallback() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + DELAY + 1);
        vm.warp(E + FALLBACK - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OracleSettlementFallbackNotOpen.selector,
                _r(1, 2),
                E + DELAY + 1,
                E + FALLBACK
            )
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
        (, bool posted) = oracle.settlementPrice(WBTC, E);
        assertFalse(posted);

        vm.warp(E + FALLBACK);
        vm.expectEmit(address(oracle));
        emit IChainlinkOracle.SettlementPricePosted(WBTC, E, 61_000e18, _r(1, 2), E + DELAY + 1, STRANGER);
        vm.prank(STRANGER); // the fallback is permissionless too
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
    }

    function test_settle_fallbackStillNeedsTheProof() public {
        // Only the true first round, however late, can go through the fallback.
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + DELAY + 1);
        btcFeed.setPhaseRound(1, 3, 62_000e8, E + DELAY + 2 hours);
        vm.warp(E + FALLBACK);
        _expectNotFirst(_r(1, 3), _r(1, 2));
    }

    function test_settle_exactlyAtMaxDelay() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + DELAY);
        vm.warp(E + DELAY);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
    }

    // ------------------------------------------------ finding 4: a series can freeze forever

    /// @dev The configuration shipped before the fix: a 1 h settlement delay over a 1 h heartbeat.
    /// The round before expiry lands at E - 1 s, the next heartbeat 1 h later and 5 s late: on the old
    /// code no price could ever be posted (`OracleSettlementTooLate` forever) and the series froze.
    function test_finding4_lateHeartbeatRoundSettlesAfterFallbackWait() public {
        ChainlinkOracle shipped = new ChainlinkOracle(address(this), address(0), 0, 1 hours, 1 days);
        MockFaultyAggregator feed = new MockFaultyAggregator(8);
        shipped.setSpotFeed(WBTC, _cfg(address(feed), 1 hours));
        feed.setPhaseRound(1, 1, 60_000e8, E - 1);
        feed.setPhaseRound(1, 2, 61_000e8, E - 1 + 1 hours + 5 seconds);

        vm.warp(E + 1 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OracleSettlementFallbackNotOpen.selector,
                _r(1, 2),
                E + 1 hours + 4 seconds,
                E + 1 days
            )
        );
        shipped.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());

        vm.warp(E + 1 days);
        assertEq(shipped.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
        (uint256 price, bool posted) = shipped.settlementPrice(WBTC, E);
        assertEq(price, 61_000e18);
        assertTrue(posted);
    }

    /// @dev The new deployment defaults (2 h delay, 1 day fallback): the same late heartbeat round
    /// settles at once, on the normal path.
    function test_finding4_deployDefaultsSettleLateHeartbeatAtOnce() public {
        ChainlinkOracle fixed_ = new ChainlinkOracle(address(this), address(0), 0, 2 hours, 1 days);
        MockFaultyAggregator feed = new MockFaultyAggregator(8);
        fixed_.setSpotFeed(WBTC, _cfg(address(feed), 1 hours + 15 minutes));
        feed.setPhaseRound(1, 1, 60_000e8, E - 1);
        feed.setPhaseRound(1, 2, 61_000e8, E - 1 + 1 hours + 5 seconds);
        vm.warp(E + 1 hours + 5 seconds);
        assertEq(fixed_.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
    }

    /// @dev A spot feed whose `maxAge` exceeds the settlement delay is exactly the freeze: refused.
    function test_finding4_setSpotFeedRejectsMaxAgeAboveDelay() public {
        ChainlinkOracle shipped = new ChainlinkOracle(address(this), address(0), 0, 1 hours, 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OracleFeedMaxAgeAboveSettlementDelay.selector,
                WETH,
                1 hours + 15 minutes,
                1 hours
            )
        );
        shipped.setSpotFeed(WETH, _cfg(address(ethFeed), 1 hours + 15 minutes));
        shipped.setSpotFeed(WETH, _cfg(address(ethFeed), 1 hours)); // equal is fine
        // Volatility feeds never settle anything: not checked.
        shipped.setVolFeed(WETH, _cfg(address(ethFeed), 2 days));
    }

    /// @dev Whatever the delay of the first round and the time of the post: the normal path takes a
    /// round within the delay at once, the fallback any proven round from `expiry + wait` on.
    function testFuzz_finding4_neverFreezes(uint256 lateness, uint256 postedAfter) public {
        lateness = bound(lateness, 0, 3 days);
        postedAfter = bound(postedAfter, lateness, lateness + 3 days);
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 1);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + lateness);
        vm.warp(E + postedAfter);
        if (lateness > DELAY && postedAfter < FALLBACK) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IChainlinkOracle.OracleSettlementFallbackNotOpen.selector,
                    _r(1, 2),
                    E + lateness,
                    E + FALLBACK
                )
            );
            oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
            vm.warp(E + (lateness > FALLBACK ? lateness : FALLBACK));
        }
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
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
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
    }

    function test_settle_invalidAnswer() public {
        _btcRounds();
        btcFeed.setPhaseRound(1, 3, -5, E + 10 minutes);
        vm.warp(E + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(btcFeed), -5));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
    }

    // ---------------------------------------------------------------- review 3, R5

    /// @dev The first round after expiry answers a negative price: before the fallback opens it
    /// reverts with its own error; from then on the next valid round of its phase is the price,
    /// proven from the same anchor (which a later round still cannot replace).
    function test_R5_invalidFirstRoundSettlesAtTheNextValidRoundOnceTheFallbackOpens() public {
        _btcRounds();
        btcFeed.setPhaseRound(1, 3, -5, E + 10 minutes);
        vm.warp(E + FALLBACK - 1);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(btcFeed), -5));
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());

        vm.warp(E + FALLBACK);
        _expectNotFirst(_r(1, 4), _r(1, 3));
        vm.expectEmit(address(oracle));
        emit IChainlinkOracle.SettlementPricePosted(WBTC, E, 63_000e18, _r(1, 4), E + 40 minutes, STRANGER);
        vm.prank(STRANGER);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 63_000e18);
        (uint256 price, bool posted) = oracle.settlementPrice(WBTC, E);
        assertEq(price, 63_000e18);
        assertTrue(posted);
    }

    /// @dev A first round outside the bounds may be the genuine price (a crash below the floor): it
    /// is not skipped, even after the wait (review rv43). Once governance widens the bounds, it
    /// posts as it is.
    function test_R5_outOfBoundsFirstRoundWaitsForWiderBounds() public {
        _btcRounds(); // (1,3) 62,000: above the 61,500 bound; (1,4) 63,000
        oracle.setSpotFeed(WBTC, _cfg(address(btcFeed), 1 hours, 0, 61_500e18));
        vm.warp(E + FALLBACK + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(btcFeed),
                62_000e18,
                0,
                61_500e18
            )
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
        oracle.setSpotFeed(WBTC, _cfg(address(btcFeed), 1 hours, 0, 70_000e18));
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 62_000e18);
    }

    /// @dev The walk stops at the first round that answers a price, and the bounds apply to it as
    /// to a first round: one below the floor may be a genuine crash, so it is refused until the
    /// bounds are widened, never skipped for a later round inside them (review rv44).
    function test_R5_walkStopsAtTheFirstPriceAndTheBoundsApplyToIt() public {
        _btcRounds();
        btcFeed.setPhaseRound(1, 3, 0, E + 10 minutes);
        btcFeed.setPhaseRound(1, 4, 50_000e8, E + 40 minutes); // below the 58,000 floor
        btcFeed.setPhaseRound(1, 5, 59_000e8, E + 6 hours);
        oracle.setSpotFeed(WBTC, _cfg(address(btcFeed), 1 hours, 58_000e18, 0));
        vm.warp(E + FALLBACK);
        vm.expectRevert(
            abi.encodeWithSelector(
                IChainlinkOracle.OraclePriceOutOfBounds.selector,
                address(btcFeed),
                50_000e18,
                58_000e18,
                0
            )
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
        oracle.setSpotFeed(WBTC, _cfg(address(btcFeed), 1 hours, 40_000e18, 0));
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 50_000e18);
    }

    /// @dev An answer that scales below 1 wei (a feed with more than 18 decimals) is no price
    /// either: it walks as a negative one does (review rv44).
    function test_R5_anAnswerBelowOneWeiOnceScaledWalks() public {
        MockFaultyAggregator feed24 = new MockFaultyAggregator(24);
        oracle.setSpotFeed(WBTC, _cfg(address(feed24), 1 hours));
        feed24.setPhaseRound(1, 1, 60_000e24, E - 30 minutes);
        feed24.setPhaseRound(1, 2, 1, E + 1 minutes);
        feed24.setPhaseRound(1, 3, 61_000e24, E + 30 minutes);
        vm.warp(E + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleInvalidPrice.selector, address(feed24), 1));
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
        vm.warp(E + FALLBACK);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 61_000e18);
    }

    /// @dev A missing round in the zeros mode (`updatedAt` 0) is not found either: the walk waits
    /// rather than skipping it (review rv43).
    function test_R5_zerosModeMissingRoundIsNotFound() public {
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        btcFeed.setPhaseRound(1, 1, 61_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 0, E + 1 minutes);
        btcFeed.setPhaseRound(1, 4, 62_000e8, E + 2 hours); // (1,3) missing: never on a real aggregator
        vm.warp(E + FALLBACK);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(1, 3)));
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
    }

    /// @dev A migration during the incident: the anchor's aggregator stopped after its invalid round
    /// and the proxy moved to a new phase. The walk does not cross phases; it says no valid round
    /// can be proven (not "wait"), and the admin re-points the feed (review rv43).
    function test_R5_migrationEndsTheWalkAtItsPhase() public {
        btcFeed.setPhaseRound(1, 2, 61_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 3, 0, E + 10 minutes);
        btcFeed.setPhaseRound(2, 1, 62_000e8, E + 20 minutes);
        vm.warp(E + FALLBACK);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleNoValidSettlementRound.selector, _r(1, 3), _r(1, 3))
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _hints(_r(2, 0)));
    }

    /// @dev A phase's last possible round has no successor in the phase: nothing is read past it.
    function test_R5_lastRoundOfAPhaseHasNoSuccessor() public {
        uint64 max = type(uint64).max;
        btcFeed.setPhaseRound(1, max - 1, 61_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, max, 0, E + 1 minutes);
        vm.warp(E + FALLBACK);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleNoValidSettlementRound.selector, _r(1, max), _r(1, max))
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, max), _noHints());
    }

    /// @dev No valid round yet after an invalid first one: wait for the next (the round not found).
    function test_R5_waitsForTheNextRound() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 0, E + 10 minutes);
        vm.warp(E + FALLBACK);
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(1, 3)));
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
        btcFeed.setPhaseRound(1, 3, 60_500e8, E + FALLBACK);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()), 60_500e18);
    }

    /// @dev A feed broken past `MAX_LIVE_ROUNDS` invalid rounds proves nothing: the admin re-points it.
    function test_R5_tooManyInvalidRoundsReverts() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        uint64 last = 2 + uint64(oracle.MAX_LIVE_ROUNDS());
        for (uint64 n = 2; n <= last; ++n) btcFeed.setPhaseRound(1, n, -1, E + n * 1 minutes);
        btcFeed.setPhaseRound(1, last + 1, 61_000e8, E + 1 hours);
        vm.warp(E + FALLBACK);
        vm.expectRevert(
            abi.encodeWithSelector(IChainlinkOracle.OracleNoValidSettlementRound.selector, _r(1, 2), _r(1, last))
        );
        oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints());
    }

    /// @dev Whatever mix of valid and invalid rounds follows expiry, once the fallback opens the
    /// price is the first valid one (within `MAX_LIVE_ROUNDS` after the anchor) and nothing else;
    /// before it, an invalid anchor posts nothing.
    function testFuzz_R5_theFirstValidRoundAfterExpiryIsThePrice(uint256 seed, uint8 count) public {
        count = uint8(bound(count, 1, 20));
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        int256 expected;
        uint256 expectedAt;
        for (uint64 n; n < count; ++n) {
            uint256 draw = uint256(keccak256(abi.encode(seed, n)));
            // About half the rounds are invalid: zero or negative.
            int256 answer = draw % 2 == 0 ? -int256(draw % 3) : int256(50_000e8 + ((draw >> 8) % 20_000e8));
            uint256 at = E + n * 10 minutes;
            btcFeed.setPhaseRound(1, 2 + n, answer, at);
            if (expected == 0 && answer > 0 && n <= oracle.MAX_LIVE_ROUNDS()) (expected, expectedAt) = (answer, at);
        }
        vm.warp(E + FALLBACK - 1);
        try oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()) returns (uint256 price) {
            // Before the fallback only a valid first round posts, at its own answer.
            assertTrue(expectedAt == E, "posted before the fallback from an invalid first round");
            assertEq(price, uint256(expected) * 1e10);
            return;
        } catch {
            assertTrue(expectedAt != E || expected == 0, "a valid first round was refused");
        }
        vm.warp(E + FALLBACK);
        try oracle.postSettlementPrice(WBTC, E, _r(1, 2), _noHints()) returns (uint256 price) {
            assertTrue(expected != 0, "posted without a valid round");
            assertEq(price, uint256(expected) * 1e10);
        } catch {
            assertEq(expected, 0, "a valid round after the anchor was refused");
        }
    }

    function test_settle_ignoresStalenessOfLatest() public {
        // Settlement reads a historical round: the latest answer being stale does not matter.
        _btcRounds();
        vm.warp(E + 1 days);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints()), 62_000e18);
    }

    function test_settle_phaseBoundary_valid() public {
        _btcRoundsAcrossPhases();
        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(2, 1), _hints(_r(1, 2))), 62_000e18);
    }

    function test_settle_phaseBoundary_valid_zerosMode() public {
        _btcRoundsAcrossPhases();
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(2, 1), _hints(_r(1, 2))), 62_000e18);
    }

    function test_settle_phaseBoundary_invalid() public {
        _btcRoundsAcrossPhases();
        vm.warp(E + 2 hours);
        _expectHintInvalid(_r(2, 1), _hints(_r(1, 1)), 0, 1); // (1,2) is before expiry too: not the last
        _expectHintInvalid(_r(2, 1), _hints(_r(1, 0)), 0, 1); // "none before expiry" is false
        _expectHintInvalid(_r(2, 1), _hints(_r(1, 7)), 0, 1); // does not exist
        _expectHintInvalid(_r(2, 1), _hints(_r(2, 0)), 0, 1); // not phase 1
        _expectNotFirst(_r(2, 2), _hints(_r(1, 2)), _r(2, 1)); // (2,1) comes first
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleSettlementHintsLength.selector, 0, 1));
        oracle.postSettlementPrice(WBTC, E, _r(2, 1), _noHints());
    }

    function test_settle_phaseBoundary_invalid_zerosMode() public {
        _btcRoundsAcrossPhases();
        btcFeed.setMissingRoundMode(MockFaultyAggregator.MissingRoundMode.Zeros);
        vm.warp(E + 2 hours);
        _expectHintInvalid(_r(2, 1), _hints(_r(1, 1)), 0, 1);
        _expectHintInvalid(_r(2, 1), _hints(_r(1, 7)), 0, 1);
        _expectNotFirst(_r(2, 2), _hints(_r(1, 2)), _r(2, 1));
    }

    function test_settle_phaseBoundary_cherryPickedNextPhase() public {
        // Phase 1 has the real first round (1,3) after expiry; phase 2 starts later.
        _btcRounds();
        btcFeed.setPhaseRound(2, 1, 70_000e8, E + 50 minutes);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(2, 1), _hints(_r(1, 2)), _r(1, 3)); // (1,3) comes first
        _expectHintInvalid(_r(2, 1), _hints(_r(1, 4)), 0, 1); // (1,4) is after expiry
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 3), _hints(_r(2, 0))), 62_000e18);
    }

    function test_settle_phaseBoundary_skippedPhase() public {
        // Phase 2 has no rounds at all (a proxy may skip one): its hint says "none before expiry".
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 2 hours);
        btcFeed.setPhaseRound(3, 1, 62_000e8, E + 10 minutes);
        vm.warp(E + 2 hours);
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(3, 1), _hints(_r(1, 1), _r(2, 0))), 62_000e18);
    }

    function test_settle_phaseNotYetCurrentIsNotHistory() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        // Phase 1 is the latest: a round id in phase 2 is not part of the feed yet.
        vm.expectRevert(abi.encodeWithSelector(IChainlinkOracle.OracleRoundNotFound.selector, _r(2, 1)));
        oracle.postSettlementPrice(WBTC, E, _r(2, 1), _noHints());
    }

    // ------------------------------------------------ finding 5: phases that overlap in time

    /// @dev Case (a): the new phase 2 reports at E + 10 min, the old phase 1 still reports at E + 30 min.
    /// Old code: (2,1) could not be proven (its cross-phase predecessor (1,2) is after expiry) and
    /// (1,2) was accepted with its in-phase predecessor. Now only (2,1), the first in time, is provable.
    function test_finding5a_oldPhaseLaterRoundIsRejected() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 40 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + 30 minutes);
        btcFeed.setPhaseRound(2, 1, 62_000e8, E + 10 minutes);
        btcFeed.setPhaseRound(2, 2, 63_000e8, E + 70 minutes);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(1, 2), _hints(_r(2, 0)), _r(2, 1));
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(2, 1), _hints(_r(1, 1))), 62_000e18);
    }

    /// @dev Case (b): both phases have a round shortly after expiry, (1,2) at E + 5 min and (2,2) at
    /// E + 8 min. Old code: both were provable and the first caller chose the price. Now only (1,2).
    function test_finding5b_onlyTheEarlierOfTwoPhasesIsProvable() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + 5 minutes);
        btcFeed.setPhaseRound(2, 1, 62_000e8, E - 10 minutes);
        btcFeed.setPhaseRound(2, 2, 70_000e8, E + 8 minutes);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(2, 2), _hints(_r(1, 1)), _r(1, 2));
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _hints(_r(2, 1))), 61_000e18);
    }

    /// @dev Two phases with a round at the same second: the lower phase wins, so one price only.
    function test_finding5_tieGoesToLowerPhase() public {
        btcFeed.setPhaseRound(1, 1, 60_000e8, E - 30 minutes);
        btcFeed.setPhaseRound(1, 2, 61_000e8, E + 5 minutes);
        btcFeed.setPhaseRound(2, 1, 62_000e8, E - 10 minutes);
        btcFeed.setPhaseRound(2, 2, 70_000e8, E + 5 minutes);
        vm.warp(E + 2 hours);
        _expectNotFirst(_r(2, 2), _hints(_r(1, 1)), _r(1, 2));
        assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, 2), _hints(_r(2, 1))), 61_000e18);
    }

    function test_settle_perExpiry() public {
        _btcRounds();
        vm.warp(E + 2 hours);
        oracle.postSettlementPrice(WBTC, E, _r(1, 3), _noHints());
        // An expiry between (1,3) and (1,4) settles on (1,4) independently.
        uint256 e2 = E + 20 minutes;
        assertEq(oracle.postSettlementPrice(WBTC, e2, _r(1, 4), _noHints()), 63_000e18);
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
        maxAge = uint32(bound(maxAge, 60, DELAY)); // a spot feed's maxAge fits under the settlement delay
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

    /// @dev Over a fixed single-phase history, exactly one round proves the settlement round.
    function testFuzz_settle_onlyTrueFirstRound(uint64 n) public {
        // Rounds 1..6 every 20 minutes from E-50m: (1,3) at E-10m, (1,4) at E+10m is the first after expiry.
        for (uint64 i = 1; i <= 6; ++i) {
            btcFeed.setPhaseRound(1, i, int256(uint256(60_000e8 + i)), E - 70 minutes + i * 20 minutes);
        }
        n = uint64(bound(n, 0, 7));
        vm.warp(E + 3 hours);
        if (n == 4) {
            assertEq(oracle.postSettlementPrice(WBTC, E, _r(1, n), _noHints()), (60_000e8 + 4) * 1e10);
        } else {
            vm.expectRevert();
            oracle.postSettlementPrice(WBTC, E, _r(1, n), _noHints());
        }
    }

    uint256 internal constant FUZZ_PHASES = 3;
    uint256 internal constant FUZZ_ROUNDS = 3;
    /// @dev The fuzzed history: `_times[phase][n]` for `n` in 1..`_count[phase]`; `_current` is the
    /// highest phase with a round (the feed's latest). In storage to keep the stack shallow.
    uint256[FUZZ_ROUNDS + 1][FUZZ_PHASES + 1] internal _times;
    uint256[FUZZ_PHASES + 1] internal _count;
    uint256 internal _current;

    /// @dev The last round of phase `q` before expiry, 0 if none.
    function _lastBefore(uint256 q) internal view returns (uint256 last) {
        for (uint256 m = 1; m <= _count[q]; ++m) if (_times[q][m] < E) last = m;
    }

    /// @dev The `combo`-th hint list for a round in phase `p` (each other phase: any of its rounds or
    /// "none"), and whether it is the true one.
    function _hintsFor(uint256 p, uint256 combo) internal view returns (uint80[] memory hints, bool trueHints) {
        hints = new uint80[](_current - 1);
        trueHints = true;
        uint256 k;
        for (uint256 q = 1; q <= _current; ++q) {
            if (q == p) continue;
            uint256 h = combo % (_count[q] + 1);
            combo /= _count[q] + 1;
            hints[k++] = _r(uint16(q), uint64(h));
            if (h != _lastBefore(q)) trueHints = false;
        }
    }

    function _combos(uint256 p) internal view returns (uint256 combos) {
        combos = 1;
        for (uint256 q = 1; q <= _current; ++q) if (q != p) combos *= _count[q] + 1;
    }

    /// @dev Finding 5, the class: up to three phases with up to three rounds each at random times on a
    /// 10-minute grid around expiry (so phases overlap and tie). Over every round and every hint list
    /// (each hint any round of its phase, or "none"), a post succeeds only for the first round in time
    /// (ties: lower phase) with the true hints, and then at that round's price.
    function testFuzz_finding5_onlyFirstRoundInTimeAcrossPhases(uint256 seed) public {
        uint80 winner;
        uint256 winnerTime = type(uint256).max;
        for (uint256 q = 1; q <= FUZZ_PHASES; ++q) {
            _count[q] = uint256(keccak256(abi.encode(seed, q))) % (FUZZ_ROUNDS + 1);
            uint256 t = E - 40 minutes;
            for (uint256 n = 1; n <= _count[q]; ++n) {
                t += (uint256(keccak256(abi.encode(seed, q, n))) % 3) * 10 minutes; // 0, 10 or 20 min later
                _times[q][n] = t;
                btcFeed.setPhaseRound(uint16(q), uint64(n), int256(60_000e8 + q * 100 + n), t);
                if (t >= E && t < winnerTime) {
                    winnerTime = t; // strict: an equal time in a later phase or round does not win
                    winner = _r(uint16(q), uint64(n));
                }
            }
            if (_count[q] != 0) _current = q;
        }
        vm.assume(winner != 0); // some round at or after expiry exists
        vm.warp(E + 3 hours);

        for (uint256 p = 1; p <= _current; ++p) {
            for (uint256 n = 1; n <= _count[p]; ++n) {
                uint80 candidate = _r(uint16(p), uint64(n));
                uint256 combos = _combos(p);
                for (uint256 c; c < combos; ++c) {
                    (uint80[] memory hints, bool trueHints) = _hintsFor(p, c);
                    if (candidate == winner && trueHints) continue; // posted last: it would mask the rest
                    try oracle.postSettlementPrice(WBTC, E, candidate, hints) returns (uint256) {
                        fail();
                    } catch {}
                }
            }
        }
        (, bool posted) = oracle.settlementPrice(WBTC, E);
        assertFalse(posted);

        uint256 winnerPhase = winner >> 64;
        uint80[] memory winnerHints = new uint80[](_current - 1);
        uint256 j;
        for (uint256 q = 1; q <= _current; ++q) {
            if (q != winnerPhase) winnerHints[j++] = _r(uint16(q), uint64(_lastBefore(q)));
        }
        uint256 expected = (60_000e8 + winnerPhase * 100 + uint64(winner)) * 1e10;
        assertEq(oracle.postSettlementPrice(WBTC, E, winner, winnerHints), expected);
    }
}

/// @dev A feed whose `latestRoundData` answers the ABI's five words cut or padded to `length` bytes
/// (padding words are all ones, so a read past the fifth word would show).
contract LengthAggregator {
    uint8 public immutable decimals;
    int256 private immutable _answer;
    uint256 private immutable _updatedAt;
    uint256 public length = 160;

    constructor(uint8 decimals_, int256 answer, uint256 updatedAt) {
        decimals = decimals_;
        _answer = answer;
        _updatedAt = updatedAt;
    }

    function setLength(uint256 length_) external {
        length = length_;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        int256 answer = _answer;
        uint256 updatedAt = _updatedAt;
        uint256 n = length;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 1)
            mstore(add(m, 0x20), answer)
            mstore(add(m, 0x40), updatedAt)
            mstore(add(m, 0x60), updatedAt)
            mstore(add(m, 0x80), 1)
            mstore(add(m, 0xa0), not(0))
            mstore(add(m, 0xc0), not(0))
            return(m, n)
        }
    }
}
