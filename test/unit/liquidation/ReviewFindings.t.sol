// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice The adversarial review's proofs of concept (R1–R4), each turned into a regression
/// test that reproduces the attack and asserts it now fails.
contract ReviewFindingsTest is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    AccountId internal carolAccount;
    AccountId internal carolSibling;
    AccountId internal bobAccount;
    address internal dave = makeAddr("dave");
    AccountId internal daveAccount;

    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        carolAccount = _account(carol, 1);
        carolSibling = _account(carol, 2);
        bobAccount = _account(bob, 1);
        daveAccount = _account(dave, 1);
        _fundAndDeposit(bob, bobAccount, usdc, 10_000_000e6);
        _fundAndDeposit(dave, daveAccount, usdc, 10_000_000e6);
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
    }

    // ------------------------------------------------------------ R1

    /// @dev R1: 100 WETH backing one short BTC put; only ETH/USD goes stale, so the engine counts
    /// the WETH as zero. The auction neither starts nor takes a bid until ETH/USD is valid again.
    function test_reviewR1_staleCollateralFeedCannotHandTheCollateralToABidder() public {
        SeriesId btcPut = _createSeries(btcIndex, 30, 60_000e18, false);
        _fundAndDeposit(carol, carolAccount, weth, 100e18);
        _trade(carolKey, carolAccount, bobAccount, btcPut, -1e18, engine.mark(btcPut));
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.HEALTHY));

        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        btcUsd.updateAnswer(btcUsd.latestAnswer());
        btcVol.updateAnswer(btcVol.latestAnswer());
        assertGe(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));

        (, , , uint256 ethAt, ) = ethUsd.latestRoundData();
        bytes memory stale = abi.encodeWithSelector(
            IChainlinkOracle.OracleStalePrice.selector,
            address(ethUsd),
            ethAt,
            uint256(SPOT_MAX_AGE)
        );
        vm.expectRevert(stale);
        liquidator.previewBid(carolAccount, 1e18);
        vm.expectRevert(stale);
        liquidator.startAuction(carolAccount);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        vm.expectRevert(stale);
        liquidator.bid(carolAccount, daveAccount, 1e18, type(int256).max, nonce);
        assertEq(vault.collateralOf(daveAccount, address(weth)), 0, "the WETH stayed put");

        // With ETH/USD back the account is healthy: nothing to liquidate.
        ethUsd.updateAnswer(ethUsd.latestAnswer());
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.HEALTHY));
    }

    /// @dev R1: an auction already running when a collateral feed goes stale takes no bid either.
    function test_reviewR1_runningAuctionTakesNoBidWhileACollateralIsUnpriced() public {
        _fundAndDeposit(carol, carolAccount, wbtc, 1e6);
        _makeCarolLiquidatable();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        ethUsd.updateAnswer(ethUsd.latestAnswer());
        ethVol.updateAnswer(ethVol.latestAnswer());
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        liquidator.previewBid(carolAccount, 0.1e18);
        // BTC/USD back: the bid goes through, and the clock restarted at the end of the outage.
        btcUsd.updateAnswer(btcUsd.latestAnswer());
        (, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertEq(clockStart, block.timestamp);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.1e18, type(int256).max, type(uint256).max);
    }

    /// @dev R1: delisted collateral (a timelocked act for a dead feed) keeps counting as zero and
    /// does not block the auction: the account sells with it.
    function test_reviewR1_delistedCollateralCountsAsZeroAndDoesNotBlock() public {
        MockERC20 link = new MockERC20("Chainlink", "LINK", 18);
        MockV3Aggregator linkUsd = new MockV3Aggregator(8, 20e8);
        vm.startPrank(admin);
        vault.listAsset(address(link), 0.2e18, 0.1e18, 1e9 * 1e18);
        oracle.setSpotFeed(address(link), IChainlinkOracle.FeedConfig(address(linkUsd), SPOT_MAX_AGE, 0, 0));
        vm.stopPrank();
        _fundAndDeposit(carol, carolAccount, link, 1e18);
        _makeCarolLiquidatable();

        // LINK/USD dies; every other feed stays fresh.
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        _refreshFeeds();
        assertGe(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        liquidator.previewBid(carolAccount, 1e18);

        vm.prank(admin);
        vault.delistAsset(address(link));
        ILiquidator.BidPreview memory p = liquidator.previewBid(carolAccount, 1e18);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(
            carolAccount,
            daveAccount,
            1e18,
            p.payment,
            type(uint256).max
        );
        assertEq(done.payment, p.payment);
        assertGt(vault.collateralOf(daveAccount, address(link)), 0, "the delisted LINK went with the slice");
        // The vault's mask of assets held (session 42) followed the slice: what every margin check
        // reads (`balancesOf`) reports each side's balances as they are.
        _assertBalancesReported(daveAccount);
        _assertBalancesReported(carolAccount);
    }

    // ------------------------------------------------------------ R2

    /// @dev R2: ETH/USD ticks every 10 s for the whole auction (no outage): the discount reaches
    /// the end discount instead of stalling at ~23 %.
    function test_reviewR2_busyFeedNoLongerPinsTheAuctionDiscount() public {
        _makeCarolLiquidatable();
        liquidator.startAuction(carolAccount);
        uint256 start = block.timestamp;
        _tick(ethUsd, 90, 10);
        ethVol.updateAnswer(ethVol.latestAnswer());
        (, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertEq(clockStart, start, "no outage: the clock stays at the start");
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, liquidator.auctionParams().endDiscountWad);
    }

    /// @dev R2: a wei of WBTC on a busy BTC/USD feed no longer lets the owner pin the clock.
    function test_reviewR2_dustCollateralOnABusyFeedNoLongerPinsTheClock() public {
        _makeCarolLiquidatable();
        _fundAndDeposit(carol, carolAccount, wbtc, 1);
        liquidator.startAuction(carolAccount);
        _tick(btcUsd, 90, 10);
        ethUsd.updateAnswer(ethUsd.latestAnswer());
        ethVol.updateAnswer(ethVol.latestAnswer());
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, liquidator.auctionParams().endDiscountWad);
    }

    /// @dev R2: an outage after the last check still moves the clock to its end, and a bid stores
    /// the check time so the next walk starts there.
    function test_reviewR2_outageAfterTheLastCheckStillMovesTheClock() public {
        _makeCarolLiquidatable();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 60);
        _refreshFeeds();
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.01e18, type(int256).max, type(uint256).max);
        assertEq(liquidator.auctionOf(carolAccount).liveCheckedAt, block.timestamp);
        // ETH/USD misses its heartbeat, then comes back: the clock restarts at its return.
        vm.warp(block.timestamp + SPOT_MAX_AGE + 100);
        _refreshFeeds();
        uint256 back = block.timestamp;
        _tick(ethUsd, 5, 10);
        ethVol.updateAnswer(ethVol.latestAnswer());
        (, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertEq(clockStart, back);
    }

    /// @dev R2, cost side: a running auction's clock asks the engine for an underlying's asset
    /// once, however many of the account's series are on it, and walks each underlying once.
    function test_reviewR2_theClockReadsEachUnderlyingOnce() public {
        _fundAndDeposit(carol, carolAccount, usdc, 2_000e6);
        for (uint256 i; i < 3; ++i) {
            SeriesId another = _createSeries(ethIndex, 30, 3_600e18 + 100e18 * i, true);
            _trade(carolKey, carolAccount, bobAccount, another, -1e16, engine.mark(another));
        }
        _makeCarolLiquidatable(); // and short ten ETH calls more
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 60);
        _refreshFeeds();
        vm.expectCall(address(engine), abi.encodeCall(engine.underlying, (ethIndex)), 1);
        vm.expectCall(address(oracle), abi.encodeCall(oracle.liveSince, (address(weth), block.timestamp - 60)), 1);
        liquidator.previewBid(carolAccount, 0.01e18);
    }

    /// @dev R2, cost side: the walk of a busy feed stops after MAX_LIVE_ROUNDS (16) rounds.
    function test_reviewR2_gasOfTheWalk() public {
        uint256 start = block.timestamp;
        for (uint256 i; i < 90; ++i) {
            vm.warp(block.timestamp + 10);
            ethUsd.updateAnswer(ethUsd.latestAnswer());
            ethVol.updateAnswer(ethVol.latestAnswer());
        }
        uint256 g = gasleft();
        uint256 since = oracle.liveSince(address(weth), start);
        uint256 used = g - gasleft();
        emit log_named_uint("gas of liveSince, one underlying, 2 busy feeds", used);
        assertEq(since, start, "busy but live");
        assertLt(used, 200_000);
    }

    // ------------------------------------------------------------ R3

    /// @dev R3: the owner's 1-wei-fraction bid from a sibling, which bumped the nonce and voided
    /// every pending bid, is refused; a keeper's bid that skips the nonce check lands anyway.
    function test_reviewR3_ownerSiblingCannotSelfBidToVoidPendingBids() public {
        _makeCarolLiquidatable();
        _fundAndDeposit(carol, carolSibling, usdc, 1_000e6);
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 10 minutes);
        ILiquidator.BidPreview memory p = liquidator.previewBid(carolAccount, 0.5e18);
        uint256 nonce = market.accountNonce(carolAccount);

        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorSelfBid.selector, carolSibling));
        liquidator.bid(carolAccount, carolSibling, 1, type(int256).max, nonce);

        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(
            carolAccount,
            daveAccount,
            0.5e18,
            p.payment,
            type(uint256).max
        );
        assertEq(done.payment, p.payment);
        assertNotEq(market.accountNonce(carolAccount), nonce, "the bid changed the book's digest");
    }

    // ------------------------------------------------------------ R4

    /// @dev R4: a bare debt with one wei of WETH. The auction prices the cash at face value, so the
    /// insurance fund pays the debt (plus the wei's worth), not (1 + d) × the debt.
    function test_reviewR4_dustCollateralNoLongerDiscountsABareDebt() public {
        SeriesId call1 = _createSeries(ethIndex, 1, 3_200e18, true);
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _fundAndDeposit(carol, carolAccount, weth, 1);
        _trade(carolKey, carolAccount, bobAccount, call1, -10e18, 100e18);
        uint256 expiry = uint256(_expiry(1));
        vm.warp(expiry);
        ethUsd.updateAnswer(5_000e8);
        ethVol.updateAnswer(ethVol.latestAnswer());
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        market.settle(carolAccount, call1);
        int256 debt = -vault.cashOf(carolAccount);
        assertGt(debt, 8_000e6, "a cash debt");

        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        int256 insuranceBefore = vault.cashOf(insurance.account());
        ILiquidator.BidPreview memory p = liquidator.previewBid(carolAccount, 1e18);
        // Insolvent, so the start discount even after the whole duration (issue 16); the point
        // here holds at any discount: it applies to the wei of WETH, never to the debt.
        assertEq(p.discountWad, liquidator.auctionParams().startDiscountWad, "insolvent: the start discount");
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, p.payment, type(uint256).max);
        int256 insurancePaid = insuranceBefore - vault.cashOf(insurance.account());
        // The fund pays at most the debt (the wei of WETH is worth less than a cash unit).
        assertLe(insurancePaid, debt, "no discount on the debt");
        assertGe(insurancePaid, debt - 1);
    }

    // ------------------------------------------------------------ helpers

    /// @dev Carol: 8,000 USDC against 10 short 30-day 3,200 ETH calls, then ETH rises until
    /// she is below maintenance.
    function _makeCarolLiquidatable() internal {
        SeriesId call30 = _createSeries(ethIndex, 30, 3_200e18, true);
        _fundAndDeposit(carol, carolAccount, usdc, 8_000e6);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 100e18);
        for (
            int256 price = 3_000e8;
            engine.accountMargin(carolAccount).health < IMarginEngine.Health.LIQUIDATABLE;
            price += 10e8
        ) {
            ethUsd.updateAnswer(price);
        }
    }

    function _tick(MockV3Aggregator feed, uint256 rounds, uint256 every) internal {
        for (uint256 i; i < rounds; ++i) {
            vm.warp(block.timestamp + every);
            feed.updateAnswer(feed.latestAnswer());
        }
    }
}
