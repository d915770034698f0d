// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Vm} from "forge-std/Vm.sol";

import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {IBackstop} from "../../../contracts/interfaces/IBackstop.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {Liquidator} from "../../../contracts/liquidation/Liquidator.sol";
import {IRateModel} from "../../../contracts/interfaces/IRateModel.sol";
import {KinkRateModel} from "../../../contracts/rates/KinkRateModel.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

contract LiquidatorTest is LiquidationFixture {
    // ------------------------------------------------------------ start

    function test_startAuction_refusesHealthyAndMarginCallAccounts() public {
        _shortCalls(10e18, 8_000e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILiquidator.LiquidatorAccountHealthy.selector,
                carolAccount,
                IMarginEngine.Health.HEALTHY
            )
        );
        liquidator.startAuction(carolAccount);
        _moveUntil(IMarginEngine.Health.MARGIN_CALL);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILiquidator.LiquidatorAccountHealthy.selector,
                carolAccount,
                IMarginEngine.Health.MARGIN_CALL
            )
        );
        liquidator.startAuction(carolAccount);
    }

    function test_startAuction_belowMaintenance() public {
        _underwater();
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionStarted(carolAccount, s.markValue, s.health, address(this));
        liquidator.startAuction(carolAccount);
        ILiquidator.Auction memory a = liquidator.auctionOf(carolAccount);
        assertTrue(a.active);
        assertEq(a.startTime, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorAuctionActive.selector, carolAccount));
        liquidator.startAuction(carolAccount);
    }

    // ------------------------------------------------------------ pricing

    function test_discountGrowsLinearlyThenFlat() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        uint256 start = block.timestamp;
        assertEq(liquidator.discountAt(start), 0.05e18);
        vm.warp(start + 450);
        assertEq(liquidator.discountAt(start), 0.175e18);
        vm.warp(start + 900);
        assertEq(liquidator.discountAt(start), 0.30e18);
        vm.warp(start + 5_000);
        assertEq(liquidator.discountAt(start), 0.30e18);
    }

    function test_bidMatchesPreviewAndRestoresTheAccount() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertLt(preview.maxFractionWad, 1e18, "a partial slice suffices");
        assertEq(preview.fractionWad, preview.maxFractionWad, "request capped at the maximum");
        assertGt(preview.payment, 0);

        int256 carolCashBefore = vault.cashOf(carolAccount);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(abi.encode(done), abi.encode(preview), "bid did exactly what the preview said");

        // The account is back above IM, by about the 15 % buffer, and the auction is over.
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertGe(s.equityIM, int256(s.requirementIM));
        assertApproxEqRel(s.equityIM, preview.equityIMAfter, 1e12);
        assertApproxEqRel(s.requirementIM, preview.requirementIMAfter, 1e12);
        assertFalse(liquidator.auctionOf(carolAccount).active);
        // Dave took the slice of the short and paid for it; insurance got its share.
        assertLt(market.positionOf(daveAccount, call30), 0);
        assertEq(market.positionOf(daveAccount, call30) + market.positionOf(carolAccount, call30), -10e18);
        assertGt(vault.cashOf(insurance.account()), 0);
        assertEq(vault.cashOf(insurance.account()), int256(preview.insuranceFee));
        assertGt(vault.cashOf(carolAccount), carolCashBefore - (carolCashBefore * int256(done.fractionWad)) / 1e18);
    }

    function test_bid_respectsPriceLimitNonceAndAuthorization() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.1e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.startPrank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(ILiquidator.LiquidatorPriceLimit.selector, preview.payment, preview.payment - 1)
        );
        liquidator.bid(carolAccount, daveAccount, 0.1e18, preview.payment - 1, nonce);
        vm.expectRevert(
            abi.encodeWithSelector(ILiquidator.LiquidatorAccountChanged.selector, carolAccount, nonce + 1, nonce)
        );
        liquidator.bid(carolAccount, daveAccount, 0.1e18, preview.payment, nonce + 1);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorUnauthorized.selector, bobAccount, dave));
        liquidator.bid(carolAccount, bobAccount, 0.1e18, preview.payment, nonce);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorInvalidFraction.selector, 0));
        liquidator.bid(carolAccount, daveAccount, 0, preview.payment, nonce);
        vm.stopPrank();
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorSelfBid.selector, carolAccount));
        liquidator.bid(carolAccount, carolAccount, 0.1e18, preview.payment, nonce);
    }

    function test_bid_bidderMustEndAboveInitialMargin() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        AccountId poor = _account(dave, 2); // no collateral at all
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.5e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        vm.expectPartialRevert(IMarginEngine.EngineBelowInitialMargin.selector);
        liquidator.bid(carolAccount, poor, 0.5e18, preview.payment, nonce);
    }

    function test_previewBid_healthyAccountWithoutAuction() public {
        _shortCalls(10e18, 8_000e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILiquidator.LiquidatorAccountHealthy.selector,
                carolAccount,
                IMarginEngine.Health.HEALTHY
            )
        );
        liquidator.previewBid(carolAccount, 1e18);
    }

    // ------------------------------------------------------------ start and bid in one transaction

    function test_bid_startsTheAuctionInTheSameTransaction() public {
        _underwater();
        assertFalse(liquidator.auctionOf(carolAccount).active);
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertEq(preview.discountWad, 0.05e18, "the starting discount");
        uint256 nonce = market.accountNonce(carolAccount);

        _expectStartAndBid(s, preview);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(abi.encode(done), abi.encode(preview), "bid did exactly what the preview said");
        // The one bid restored the account, so the auction it opened is already over.
        assertFalse(liquidator.auctionOf(carolAccount).active);
        assertGe(engine.accountMargin(carolAccount).equityIM, int256(engine.accountMargin(carolAccount).requirementIM));
    }

    function test_previewBid_withoutAuctionEqualsPreviewOnceStarted() public {
        _underwater();
        ILiquidator.BidPreview memory before = liquidator.previewBid(carolAccount, 0.3e18);
        liquidator.startAuction(carolAccount);
        assertEq(abi.encode(liquidator.previewBid(carolAccount, 0.3e18)), abi.encode(before));
    }

    function test_bid_partialSliceLeavesTheStartedAuctionRunning() public {
        _underwater();
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.01e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.01e18, preview.payment, nonce);
        ILiquidator.Auction memory a = liquidator.auctionOf(carolAccount);
        assertTrue(a.active);
        assertEq(a.startTime, block.timestamp);
        assertEq(a.bids, 1);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorAuctionActive.selector, carolAccount));
        liquidator.startAuction(carolAccount);
    }

    /// @dev A bid moves the slice of the account's cash and its price in one `moveCash` (session
    /// 41, issue 19: one cash move less for the usual, solvent liquidation). At index 1 each
    /// balance ends exactly where the slice and the price moved apart would leave it, and the vault
    /// announces two cash moves: the net one between the account and the bidder, then the fee.
    function test_bid_movesTheCashSliceAndThePriceAsOne() public {
        _underwater();
        int256 carolBefore = vault.cashOf(carolAccount);
        int256 daveBefore = vault.cashOf(daveAccount);
        assertGt(carolBefore, 0, "a cash credit to slice");
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.5e18);
        assertGt(preview.payment, 0, "the bidder pays");
        int256 credit = (carolBefore * int256(preview.fractionWad)) / 1e18;
        vm.recordLogs();
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, preview.fractionWad, preview.payment, type(uint256).max);

        assertEq(vault.cashOf(carolAccount), carolBefore - credit + preview.payment, "the account's cash");
        assertEq(
            vault.cashOf(daveAccount),
            daveBefore + credit - preview.payment - int256(preview.insuranceFee),
            "the bidder's cash"
        );
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 moves;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(vault) || logs[i].topics[0] != ICollateralVault.CashMoved.selector) continue;
            ++moves;
            uint256 amount = abi.decode(logs[i].data, (uint256));
            if (moves == 1) {
                // The slice's credit is larger than the price here (her short calls are worth less
                // than nothing at the discount): she pays the difference to Dave.
                assertEq(logs[i].topics[1], bytes32(AccountId.unwrap(carolAccount)), "the net move's payer");
                assertEq(logs[i].topics[2], bytes32(AccountId.unwrap(daveAccount)), "the net move's payee");
                assertEq(int256(amount), credit - preview.payment, "the net move");
            } else {
                assertEq(logs[i].topics[1], bytes32(AccountId.unwrap(daveAccount)), "the fee's payer");
                assertEq(logs[i].topics[2], bytes32(AccountId.unwrap(insurance.account())), "the fee's payee");
                assertEq(amount, preview.insuranceFee, "the fee");
            }
        }
        assertEq(moves, 2, "one net move and the fee");
    }

    /// @dev Review helper-153: the netted move against the moves it replaced (the slice's cash,
    /// then the price, then the fee, each a `moveCash` as the liquidator), replayed from a
    /// snapshot, on books whose slice is a credit or a debt (`deposit` moves Carol's cash across
    /// zero); her WETH outweighs her short calls, so the bidder pays the net in (the other way is
    /// `test_bid_movesTheCashSliceAndThePriceAsOne`'s). At index 1 every balance and total is the
    /// same to the unit; on an index above 1 neither the account nor the bidder ends with less
    /// (one share rounding instead of two), and the fee lands the same.
    function testFuzz_nettedBidMatchesTheMovesItReplaced(uint256 fraction, uint256 deposit, bool onIndex) public {
        SeriesId put28 = _createSeries(ethIndex, 30, 2_800e18, false);
        _fundAndDeposit(carol, carolAccount, weth, 3e18);
        // On an index, Carol keeps a debt (300.000001 and the fees), the one debt that moves it.
        deposit = bound(deposit, 0, onIndex ? 250e6 : 1_000e6);
        if (deposit != 0) _fundAndDeposit(carol, carolAccount, usdc, deposit);
        _trade(carolKey, carolAccount, bobAccount, put28, 2e18, 150.0000005e18);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 1e18);
        if (onIndex) _raiseTheCashIndex();
        _moveUntil(IMarginEngine.Health.LIQUIDATABLE);
        liquidator.startAuction(carolAccount);
        fraction = bound(fraction, 0.01e18, liquidator.previewBid(carolAccount, 1e18).maxFractionWad);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, fraction);
        assertGe(preview.payment, 0, "a solvent account: the fund pays nothing");

        uint256 snapshot = vm.snapshotState();
        int256[5] memory apart = _cashMovedApart(vault.cashOf(carolAccount), preview);
        vm.revertToState(snapshot);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, preview.fractionWad, preview.payment, type(uint256).max);
        int256[5] memory netted = _cashNow();

        if (!onIndex) {
            assertEq(abi.encode(netted), abi.encode(apart), "balances and totals as the moves apart left them");
        } else {
            assertGe(netted[0], apart[0], "the account ends with less");
            assertGe(netted[1], apart[1], "the bidder ends with less");
            assertEq(netted[2], apart[2], "the fee");
        }
    }

    function test_bid_withoutAuctionRefusesWhatStartAuctionRefuses() public {
        _shortCalls(10e18, 8_000e6);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.startPrank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILiquidator.LiquidatorAccountHealthy.selector,
                carolAccount,
                IMarginEngine.Health.HEALTHY
            )
        );
        liquidator.bid(carolAccount, daveAccount, 1e18, type(int256).max, nonce);
        vm.stopPrank();
        _moveUntil(IMarginEngine.Health.MARGIN_CALL);
        vm.prank(dave);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILiquidator.LiquidatorAccountHealthy.selector,
                carolAccount,
                IMarginEngine.Health.MARGIN_CALL
            )
        );
        liquidator.bid(carolAccount, daveAccount, 1e18, type(int256).max, nonce);
        // A protocol account is never auctioned, even through a bid.
        AccountId settlement = market.settlementAccount();
        uint256 settlementNonce = market.accountNonce(settlement);
        vm.prank(dave);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorProtectedAccount.selector, settlement));
        liquidator.bid(settlement, daveAccount, 1e18, type(int256).max, settlementNonce);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorProtectedAccount.selector, settlement));
        liquidator.previewBid(settlement, 1e18);
        assertFalse(liquidator.auctionOf(carolAccount).active);
    }

    function test_bid_withoutAuctionOnInsolventAccount() public {
        _insolvent();
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertEq(preview.fractionWad, 1e18);
        assertLt(preview.payment, 0);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(abi.encode(done), abi.encode(preview));
        assertEq(market.positionOf(carolAccount, call30), 0);
        assertFalse(liquidator.auctionOf(carolAccount).active);
    }

    /// @dev Issue 19 (gas): a bid that empties an account it opens the auction of records no
    /// auction and marks nothing in the vault, but announces both ends of the auction.
    function test_bid_emptyingStartRecordsNoAuctionAndMarksNothing() public {
        _insolvent();
        _bidOpeningAndEndingTheAuction(true);
        _assertNoRecordAndNoMark();
    }

    /// @dev Session 40 (gas): a partial bid that opens the auction and restores the account ends
    /// the auction it opened in the same call, so, like an emptying one, it records nothing and
    /// marks nothing, and announces both ends around its `Bid`.
    function test_bid_restoringStartRecordsNoAuctionAndMarksNothing() public {
        _underwater();
        _bidOpeningAndEndingTheAuction(false);
        assertLt(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        _assertNoRecordAndNoMark();
    }

    /// @dev Review helper-152 (a): a bid that restarts a lapsed auction and restores the account
    /// deletes the lapsed record; the events announce the old auction's end, the new one's start,
    /// the bid and the new one's end.
    function test_bid_lapsedRestartThatRestoresLeavesNoRecord() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 3 * liquidator.auctionParams().duration);
        _refreshFeeds();
        (bool running, ) = liquidator.auctionClock(carolAccount);
        assertFalse(running, "lapsed");
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertLt(preview.fractionWad, 1e18, "a partial bid");

        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        _expectStartAndBid(s, preview);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, type(uint256).max);
        assertEq(abi.encode(liquidator.auctionOf(carolAccount)), abi.encode(ILiquidator.Auction(false, 0, 0, 0, 0, 0)));
    }

    /// @dev Review helper-152 (b): a bid that restarts a lapsed auction which survives it leaves
    /// a fresh record, with this bid its first.
    function test_bid_lapsedRestartThatSurvivesRecordsAFreshAuction() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 3 * liquidator.auctionParams().duration);
        _refreshFeeds();
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.01e18);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.01e18, preview.payment, type(uint256).max);
        uint64 t = uint64(block.timestamp);
        assertEq(abi.encode(liquidator.auctionOf(carolAccount)), abi.encode(ILiquidator.Auction(true, t, 1, t, t, t)));
    }

    /// @dev Review helper-152 (c): the same from a batch step: a request that opens the auction and
    /// restores the account records nothing and marks nothing.
    function test_bidMany_restoringStartRecordsNoAuctionAndMarksNothing() public {
        _underwater();
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](1);
        requests[0] = ILiquidator.BidRequest(carolAccount, 1e18, type(int256).max, type(uint256).max);
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory outcomes = liquidator.bidMany(requests, daveAccount);
        assertTrue(outcomes[0].landed);
        assertLt(outcomes[0].preview.fractionWad, 1e18, "capped below the whole account");
        assertLt(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        _assertNoRecordAndNoMark();
    }

    /// @dev The partial counterpart: the auction a bid opens and leaves running is recorded and
    /// the account marked, so a deposit that cures it ends it (finding 3).
    function test_bid_partialStartMarksTheAccount() public {
        _underwater();
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 0.01e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 0.01e18, preview.payment, nonce);
        uint64 t = uint64(block.timestamp);
        assertEq(abi.encode(liquidator.auctionOf(carolAccount)), abi.encode(ILiquidator.Auction(true, t, 1, t, t, t)));
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (carolAccount)), 1);
        _fundAndDeposit(carol, carolAccount, usdc, 100_000e6);
        assertFalse(liquidator.auctionOf(carolAccount).active, "the deposit ended the auction");
    }

    /// @dev An emptying bid on an auction that lapsed: the old auction ends, a new one is
    /// announced and ends emptied, and no record is left.
    function test_bid_emptyingBidOnALapsedAuctionLeavesNoRecord() public {
        _insolvent();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 3 * liquidator.auctionParams().duration);
        _setPrice(ethUsd, 9_000e8); // a fresh round, so the feed is not stale
        (bool running, ) = liquidator.auctionClock(carolAccount);
        assertFalse(running, "lapsed");
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertEq(preview.fractionWad, 1e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionStarted(
            carolAccount,
            engine.accountMargin(carolAccount).markValue,
            IMarginEngine.Health.INSOLVENT,
            dave
        );
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(abi.encode(liquidator.auctionOf(carolAccount)), abi.encode(ILiquidator.Auction(false, 0, 0, 0, 0, 0)));
    }

    /// @dev Review rv35: a bid empties the account by the fraction it takes, not the one it asks
    /// for. A whole-account request capped at the maximum slice opens an auction and ends it
    /// restored (`AuctionEnded(account, false)`, which the indexer stores), both when
    /// the bid opens the auction and when one is running; the account keeps the rest.
    function test_bid_cappedWholeRequestIsNotAnEmptyingBid() public {
        _underwater();
        _bidOpeningAndEndingTheAuction(false);
        assertLt(market.positionOf(carolAccount, call30), 0, "the account keeps the rest of its short");
        assertFalse(liquidator.auctionOf(carolAccount).active);

        // Again on a running auction: under the price that pushes the rest below maintenance.
        _moveUntil(IMarginEngine.Health.LIQUIDATABLE);
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertLt(preview.fractionWad, 1e18, "capped at the maximum");
        uint256 nonce = market.accountNonce(carolAccount);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertLt(market.positionOf(carolAccount, call30), 0, "the account keeps the rest of its short");
    }

    // ------------------------------------------------------------ insolvency

    function test_insolventAccount_insurancePaysTheBidder() public {
        _insolvent(); // far past the account's equity
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.INSOLVENT));
        assertLt(s.markValue, 0);
        liquidator.startAuction(carolAccount);
        assertEq(liquidator.previewBid(carolAccount, 0.3e18).maxFractionWad, 1e18, "insolvent: all may go");
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertLt(preview.payment, 0);

        int256 insuranceBefore = vault.cashOf(insurance.account());
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(vault.cashOf(insurance.account()), insuranceBefore + preview.payment);
        assertEq(market.positionOf(carolAccount, call30), 0);
        assertEq(vault.cashOf(carolAccount), 0);
        assertEq(liquidator.badDebt(), 0);
        assertFalse(liquidator.auctionOf(carolAccount).active);
    }

    /// @dev Issue 15: what the fund cannot cover is explicit bad debt, written off against every
    /// cash creditor at once (the supply index falls), never left for the last to withdraw.
    function test_insolventAccount_uncoveredLossIsSharedProRata() public {
        _shortCalls(10e18, 8_000e6);
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000e6);
        _setPrice(ethUsd, 9_000e8);
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        uint256 owed = uint256(-preview.payment);
        uint256 loss = owed - 1_000e6;
        uint256 nonce = market.accountNonce(carolAccount);
        int256 bobBefore = vault.cashOf(bobAccount);
        // Every fund payment goes through the Backstop, which announces the bad debt (rv16w F6).
        vm.expectEmit(address(backstop));
        emit IBackstop.BadDebtIncurred(carolAccount, loss, loss);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(liquidator.badDebt(), loss);
        assertEq(vault.lossSocialized(), loss);
        // The fund ends at zero, not in debt: the loss sits with the creditors, pro rata.
        assertEq(vault.cashOf(insurance.account()), 0);
        uint256 index = vault.cashMarket().supplyIndex;
        assertLt(index, 1e18);
        // Bob held shares worth his balance at index 1: his claim fell by the index's fraction.
        assertEq(vault.cashOf(bobAccount), int256((uint256(bobBefore) * index) / 1e18));
        // Nothing is lost silently: the tokens cover every claim, the rest is dust (one unit an account).
        int256 held = int256(usdc.balanceOf(address(vault)));
        assertGe(held, _sumCash());
        assertLe(held - _sumCash(), 5);
    }

    function test_dustAccountGoesWhole() public {
        _shortCalls(0.05e18, 30e6);
        _setPrice(ethUsd, 3_600e8);
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        assertLe(s.markValue, 100e18);
        liquidator.startAuction(carolAccount);
        // Whatever fraction is asked for, a dust-sized account is taken whole.
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).fractionWad, 1e18);
    }

    // ------------------------------------------------------------ protocol accounts (review C1, C2)

    function test_protocolAccountsAreNeverAuctioned() public {
        AccountId[3] memory protectedAccounts = [insurance.account(), market.settlementAccount(), market.feeAccount()];
        vm.prank(admin);
        market.setFeeAccount(_account(admin, 9));
        protectedAccounts[2] = market.feeAccount();
        for (uint256 i; i < 3; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(ILiquidator.LiquidatorProtectedAccount.selector, protectedAccounts[i])
            );
            liquidator.startAuction(protectedAccounts[i]);
        }
    }

    /// @dev Review M1: an auction whose account recovered above maintenance takes no bids,
    /// however much its discount has grown, and anyone can end it.
    function test_recoveredAccountTakesNoBidsAndCanBeTerminated() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        int256 price = ethUsd.latestAnswer();
        _setPrice(ethUsd, price - 150e8);
        vm.warp(block.timestamp + 2 days);
        _refreshFeeds();
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.MARGIN_CALL));
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorAccountHealthy.selector, carolAccount, s.health));
        liquidator.previewBid(carolAccount, 1e18);
        liquidator.terminateAuction(carolAccount);
        assertFalse(liquidator.auctionOf(carolAccount).active);
    }

    // ------------------------------------------------------------ termination

    function test_terminateAuction_onlyOnceBackAboveIM() public {
        _underwater();
        liquidator.startAuction(carolAccount);
        vm.expectPartialRevert(ILiquidator.LiquidatorAccountStillUnderwater.selector);
        liquidator.terminateAuction(carolAccount);
        _setPrice(ethUsd, 3_000e8);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        liquidator.terminateAuction(carolAccount);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorNoAuction.selector, carolAccount));
        liquidator.terminateAuction(carolAccount);
    }

    // ------------------------------------------------------------ safety

    function test_guardianPauseNeverBlocksLiquidation() public {
        _underwater();
        vm.startPrank(guardian);
        market.pause();
        vault.pause();
        vm.stopPrank();
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        // A healthy account still withdraws while paused.
        vm.prank(dave);
        vault.withdraw(daveAccount, address(usdc), 1_000e6, dave);
    }

    function test_setAuctionParams_boundedAndRoleGated() public {
        ILiquidator.AuctionParams memory p = _auctionParams();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(this),
                Roles.RISK_MANAGER_ROLE
            )
        );
        liquidator.setAuctionParams(p);
        p.endDiscountWad = 0.04e18; // below the start
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorInvalidParams.selector, p));
        liquidator.setAuctionParams(p);
        p = _auctionParams();
        p.duration = 10;
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorInvalidParams.selector, p));
        liquidator.setAuctionParams(p);
        p = _auctionParams();
        p.insuranceShareWad = 0.2e18;
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionParamsSet(p);
        vm.prank(riskManager);
        liquidator.setAuctionParams(p);
        assertEq(liquidator.auctionParams().insuranceShareWad, 0.2e18);
    }

    function test_constructor_rejectsZeroAddresses() public {
        vm.expectRevert(ILiquidator.LiquidatorZeroAddress.selector);
        new Liquidator(admin, vault, engine, market, AccountId.wrap(0), _auctionParams());
    }

    // ------------------------------------------------------------ minimum material bid (W6)

    /// @dev Review rv16w W6 (regression): a bid must take at least 1 % of the account (or all it
    /// may take, when the largest fraction is less). Below it, `previewBid` and `bid` refuse with
    /// `LiquidatorBidTooSmall(fraction, minimum)`, nothing moves and the nonce stays; at it, the
    /// bid goes through. Fuzzed over the fraction and the price.
    function testFuzz_rv16wW6_aBidTakesAtLeastTheMinimum(uint256 fraction, uint256 price) public {
        _shortCalls(10e18, 8_000e6);
        _setPrice(ethUsd, int256(bound(price, 4_000e8, 9_000e8)));
        vm.assume(engine.accountMargin(carolAccount).health >= IMarginEngine.Health.LIQUIDATABLE);
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
        liquidator.startAuction(carolAccount);
        uint256 maxFraction = liquidator.previewBid(carolAccount, 1e18).maxFractionWad;
        uint256 minimum = maxFraction < 0.01e18 ? maxFraction : 0.01e18;
        fraction = bound(fraction, 1, 1e18);
        uint256 nonce = market.accountNonce(carolAccount);
        uint256 capped = fraction < maxFraction ? fraction : maxFraction;
        if (
            engine.accountMargin(carolAccount).markValue >= -100e18 &&
            engine.accountMargin(carolAccount).markValue <= 100e18
        ) {
            return; // dust-sized accounts go whole whatever the fraction
        }
        if (capped < minimum) {
            bytes memory tooSmall = abi.encodeWithSelector(ILiquidator.LiquidatorBidTooSmall.selector, capped, minimum);
            vm.expectRevert(tooSmall);
            liquidator.previewBid(carolAccount, fraction);
            vm.prank(dave);
            vm.expectRevert(tooSmall);
            liquidator.bid(carolAccount, daveAccount, fraction, type(int256).max, nonce);
            assertEq(market.accountNonce(carolAccount), nonce, "nothing moved");
        } else {
            vm.prank(dave);
            assertEq(liquidator.bid(carolAccount, daveAccount, fraction, type(int256).max, nonce).fractionWad, capped);
        }
    }

    // ------------------------------------------------------------ properties

    /// @dev A bid never leaves the liquidated account worse off per unit of remaining risk:
    /// equityMM / requirementMM does not fall, whatever the fraction and the time.
    function testFuzz_bidNeverWorsensEquityPerUnitOfRisk(uint256 fraction, uint256 wait, uint256 price) public {
        _shortCalls(10e18, 8_000e6);
        price = bound(price, 4_000e8, 5_200e8);
        _setPrice(ethUsd, int256(price));
        vm.assume(engine.accountMargin(carolAccount).health == IMarginEngine.Health.LIQUIDATABLE);
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + bound(wait, 0, 30 minutes));
        _refreshFeeds();
        fraction = bound(fraction, 0.01e18, 1e18); // at least the minimum material bid (W6)
        IMarginEngine.MarginState memory before = engine.accountMargin(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, fraction);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, fraction, preview.payment, nonce);
        IMarginEngine.MarginState memory afterBid = engine.accountMargin(carolAccount);
        if (afterBid.requirementMM == 0) return; // emptied
        // equityAfter / reqAfter ≥ equityBefore / reqBefore, cross-multiplied (with 1 wei per unit slack).
        assertGe(
            afterBid.equityMM * int256(before.requirementMM) + int256(before.requirementMM) * 1e6,
            before.equityMM * int256(afterBid.requirementMM)
        );
        assertEq(int256(usdc.balanceOf(address(vault))), _sumCash());
    }

    /// @dev Regression (CI counterexample, 2026-12-03): a slice of a cash debt rounded down, so
    /// the liquidated account kept up to one unit of debt more than its share and a bid left it
    /// worse per unit of risk. The bidder now takes the debt slice rounded up: exactly
    /// ceil(debt × f) moves, and equity per unit of risk does not fall.
    function testFuzz_debtSliceRoundsForTheAccount(uint256 fraction) public {
        SeriesId put28 = _createSeries(ethIndex, 30, 2_800e18, false);
        _fundAndDeposit(carol, carolAccount, weth, 3e18);
        // Puts bought on credit (a debt of 300.000001 and the fee), then calls sold for little.
        _trade(carolKey, carolAccount, bobAccount, put28, 2e18, 150.0000005e18);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 1e18);
        assertLt(vault.cashOf(carolAccount), 0, "Carol owes cash");
        _moveUntil(IMarginEngine.Health.LIQUIDATABLE);
        liquidator.startAuction(carolAccount);

        // Up to what restores the account (a larger ask is capped to it).
        fraction = bound(fraction, 0.01e18, liquidator.previewBid(carolAccount, 1e18).maxFractionWad - 1);
        uint256 debt = uint256(-vault.cashOf(carolAccount));
        vm.assume(mulmod(debt, fraction, 1e18) != 0); // a slice that rounds
        IMarginEngine.MarginState memory before = engine.accountMargin(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, fraction);
        assertEq(preview.fractionWad, fraction);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, fraction, preview.payment, nonce);

        uint256 slice = (debt * fraction + 1e18 - 1) / 1e18;
        int256 paid = preview.payment > 0 ? preview.payment : int256(0);
        assertEq(vault.cashOf(carolAccount), -int256(debt - slice) + paid, "the bidder took ceil(debt x f)");
        IMarginEngine.MarginState memory afterBid = engine.accountMargin(carolAccount);
        assertGe(
            afterBid.equityMM * int256(before.requirementMM) + int256(before.requirementMM) * 1e6,
            before.equityMM * int256(afterBid.requirementMM),
            "equity per unit of risk fell"
        );
    }

    /// @dev The same slice on cash at an index above 1 (review rv25, P2): the vault's share
    /// conversion rounds for the vault, so the account may keep up to ceil(index) + 1 cash units
    /// of debt beyond its share — never more — and the bidder still pays ceil(debt × f) in.
    function testFuzz_debtSliceOnAnIndexKeepsAtMostTheVaultsRounding(uint256 fraction) public {
        SeriesId put28 = _createSeries(ethIndex, 30, 2_800e18, false);
        _fundAndDeposit(carol, carolAccount, weth, 3e18);
        _trade(carolKey, carolAccount, bobAccount, put28, 2e18, 150.0000005e18);
        _trade(carolKey, carolAccount, bobAccount, call30, -10e18, 1e18);
        uint256 index = _raiseTheCashIndex();
        _moveUntil(IMarginEngine.Health.LIQUIDATABLE);
        liquidator.startAuction(carolAccount);

        fraction = bound(fraction, 0.01e18, liquidator.previewBid(carolAccount, 1e18).maxFractionWad - 1);
        uint256 debt = uint256(-vault.cashOf(carolAccount));
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, fraction);
        uint256 nonce = market.accountNonce(carolAccount);
        int256 daveBefore = vault.cashOf(daveAccount);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, fraction, preview.payment, nonce);

        uint256 slice = (debt * fraction + 1e18 - 1) / 1e18;
        int256 paid = preview.payment > 0 ? preview.payment : int256(0);
        int256 kept = (-int256(debt - slice) + paid) - vault.cashOf(carolAccount);
        assertLe(kept, int256((index + 1e18 - 1) / 1e18) + 1, "more than the vault's rounding");
        // Dave's cash fell by the slice he paid in plus the payment and fee, up to the same rounding.
        int256 daveSpent = daveBefore - vault.cashOf(daveAccount);
        assertGe(daveSpent, int256(slice) + paid + int256(preview.insuranceFee), "the bidder paid the slice");
    }

    /// @dev A bid on an account with no auction running: a healthy or margin-call account is
    /// never auctioned nor bid on (both refuse, nothing opens); one below maintenance is
    /// started and bid on exactly as `previewBid` said, in one transaction.
    function testFuzz_bidWithoutAuction_neverOnHealthyAndMatchesPreview(uint256 price, uint256 fraction) public {
        _shortCalls(10e18, 8_000e6);
        _setPrice(ethUsd, int256(bound(price, 2_500e8, 6_500e8)));
        fraction = bound(fraction, 0.01e18, 1e18); // at least the minimum material bid (W6)
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        uint256 nonce = market.accountNonce(carolAccount);
        if (s.health < IMarginEngine.Health.LIQUIDATABLE) {
            bytes memory healthy = abi.encodeWithSelector(
                ILiquidator.LiquidatorAccountHealthy.selector,
                carolAccount,
                s.health
            );
            vm.expectRevert(healthy);
            liquidator.previewBid(carolAccount, fraction);
            vm.prank(dave);
            vm.expectRevert(healthy);
            liquidator.bid(carolAccount, daveAccount, fraction, type(int256).max, nonce);
            assertFalse(liquidator.auctionOf(carolAccount).active, "a healthy account is never auctioned");
            return;
        }
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, fraction);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(
            carolAccount,
            daveAccount,
            fraction,
            preview.payment,
            nonce
        );
        assertEq(abi.encode(done), abi.encode(preview), "preview == bid");
        assertEq(done.discountWad, liquidator.auctionParams().startDiscountWad);
        assertEq(int256(usdc.balanceOf(address(vault))), _sumCash());
    }

    // ------------------------------------------------------------ portfolio accounts

    /// @notice A PORTFOLIO account (a call spread plus naked short calls) goes below MM on a
    /// rally; a CROSS bidder takes a slice at exactly the previewed terms and the account ends
    /// back above IM, its requirement recomputed from the scenarios of what is left.
    function test_portfolioAccount_auctionedAndRestored() public {
        vm.prank(carol);
        engine.setMarginMode(carolAccount, IMarginEngine.MarginMode.PORTFOLIO);
        SeriesId call34 = _createSeries(ethIndex, 30, 3_400e18, true);
        _fundAndDeposit(carol, carolAccount, usdc, 6_000e6);
        // The hedge first: the short leg alone would need more than Carol posted.
        _trade(carolKey, carolAccount, bobAccount, call34, 10e18, engine.mark(call34));
        _trade(carolKey, carolAccount, bobAccount, call30, -15e18, engine.mark(call30));
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.HEALTHY));
        _moveUntil(IMarginEngine.Health.LIQUIDATABLE);

        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        assertGt(preview.fractionWad, 0);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
        assertEq(abi.encode(done), abi.encode(preview), "bid did exactly what the preview said");
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        assertGe(s.equityIM, int256(s.requirementIM), "portfolio account not restored above IM");
        // The slice moved both legs in proportion, so the spread's hedge went with it.
        assertEq(market.positionOf(daveAccount, call30) * 10e18, market.positionOf(daveAccount, call34) * -15e18);
        assertEq(int256(usdc.balanceOf(address(vault))), _sumCash());
    }

    // ------------------------------------------------------------ helpers

    /// @dev Carol posts `cash` USDC and sells `size` 3200 calls to Bob at 100 each.
    function _shortCalls(uint256 size, uint256 cash) internal {
        _fundAndDeposit(carol, carolAccount, usdc, cash);
        _trade(carolKey, carolAccount, bobAccount, call30, -int256(size), 100e18);
    }

    /// @dev Dave bids for the whole of Carol, who has no auction running: the bid opens it and ends
    /// it in the same call, `emptied` (fraction 1) or restored (the largest fraction is partial),
    /// with `AuctionStarted`, `Bid` and `AuctionEnded(carol, emptied)` announced in that order.
    function _bidOpeningAndEndingTheAuction(bool emptied) internal {
        IMarginEngine.MarginState memory s = engine.accountMargin(carolAccount);
        ILiquidator.BidPreview memory preview = liquidator.previewBid(carolAccount, 1e18);
        if (emptied) assertEq(preview.fractionWad, 1e18, "the bid empties the account");
        else assertLt(preview.fractionWad, 1e18, "a partial bid: the largest fraction restores her");
        uint256 nonce = market.accountNonce(carolAccount);

        _expectStartAndBid(s, preview);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, emptied);
        vm.prank(dave);
        liquidator.bid(carolAccount, daveAccount, 1e18, preview.payment, nonce);
    }

    /// @dev Carol's auction left no record and no vault mark: a later deposit into her account does
    /// not call the account hook.
    function _assertNoRecordAndNoMark() internal {
        assertEq(abi.encode(liquidator.auctionOf(carolAccount)), abi.encode(ILiquidator.Auction(false, 0, 0, 0, 0, 0)));
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (carolAccount)), 0);
        _fundAndDeposit(carol, carolAccount, usdc, 100e6);
    }

    /// @dev Carol short 10 calls on 8,000 USDC with ETH at 9,000: worth less than nothing, with
    /// 100,000 USDC in the insurance fund to pay her bidder.
    function _insolvent() internal {
        _shortCalls(10e18, 8_000e6);
        _fundAndDeposit(alice, insurance.account(), usdc, 100_000e6);
        _setPrice(ethUsd, 9_000e8);
    }

    /// @dev Expects dave's bid on carol to open her auction (carol in state `s`) and land as `preview` says.
    function _expectStartAndBid(IMarginEngine.MarginState memory s, ILiquidator.BidPreview memory preview) internal {
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionStarted(carolAccount, s.markValue, s.health, dave);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.Bid(
            carolAccount,
            daveAccount,
            preview.fractionWad,
            preview.discountWad,
            preview.payment,
            preview.insuranceFee
        );
    }

    /// @dev Carol short 10 calls on 8,000 USDC, then ETH rises until she is below MM.
    function _underwater() internal {
        _shortCalls(10e18, 8_000e6);
        _moveUntil(IMarginEngine.Health.LIQUIDATABLE);
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
    }

    function _moveUntil(IMarginEngine.Health target) internal {
        for (int256 price = 3_000e8; engine.accountMargin(carolAccount).health < target; price += 10e8) {
            _setPrice(ethUsd, price);
        }
    }

    /// @dev The liquidator's cash moves of a bid of `preview` on Carol (cash `cash`) to Dave before
    /// session 41 netted them, made by hand; returns `_cashNow()` after them.
    function _cashMovedApart(int256 cash, ILiquidator.BidPreview memory preview) internal returns (int256[5] memory) {
        uint256 f = preview.fractionWad;
        vm.startPrank(address(liquidator));
        if (cash > 0) {
            uint256 credit = (uint256(cash) * f) / 1e18;
            if (credit != 0) vault.moveCash(carolAccount, daveAccount, credit);
        } else if (cash < 0) {
            vault.moveCash(daveAccount, carolAccount, (uint256(-cash) * f + 1e18 - 1) / 1e18);
        }
        if (preview.payment > 0) vault.moveCash(daveAccount, carolAccount, uint256(preview.payment));
        if (preview.insuranceFee != 0) vault.moveCash(daveAccount, insurance.account(), preview.insuranceFee);
        vm.stopPrank();
        return _cashNow();
    }

    /// @dev Carol's, Dave's and the insurance fund's cash, then the vault's credit and debt totals.
    function _cashNow() internal view returns (int256[5] memory) {
        return
            [
                vault.cashOf(carolAccount),
                vault.cashOf(daveAccount),
                vault.cashOf(insurance.account()),
                int256(vault.totalCashCredit()),
                int256(vault.totalCashDebt())
            ];
    }

    /// @dev Three days at the highest rate, then none, so the index stays where it got to: returns
    /// the debt index, above 1.01.
    function _raiseTheCashIndex() internal returns (uint256 index) {
        KinkRateModel model = new KinkRateModel(KinkRateModel.Params(uint64(5e18), 0, 0, 0.8e18));
        vm.prank(admin);
        vault.setRateModel(model);
        vm.warp(block.timestamp + 3 days);
        _refreshFeeds();
        vm.prank(admin);
        vault.setRateModel(IRateModel(address(0)));
        index = vault.cashMarket().debtIndex;
        assertGt(index, 1.01e18, "the debt index moved");
    }

    function _sumCash() internal view returns (int256 sum) {
        sum =
            vault.cashOf(carolAccount) +
            vault.cashOf(bobAccount) +
            vault.cashOf(daveAccount) +
            vault.cashOf(insurance.account()) +
            vault.cashOf(_account(dave, 2));
    }
}
