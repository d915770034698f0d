// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {AccountLib} from "../../../contracts/libraries/AccountLib.sol";
import {AuctionMath} from "../../../contracts/libraries/AuctionMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {LiquidationFixture} from "../../helpers/LiquidationFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice Regression tests for the external review's findings 3, 7, 9 and 11 against the
/// liquidator, issue 16's insolvent discount and review rv16's F1 (`docs/security.md`): each reproduces the attack
/// and fails on the old code.
contract LiquidatorFindingsTest is LiquidationFixture {
    address internal erin;
    uint256 internal erinKey;
    AccountId internal erinAccount;

    function setUp() public override {
        super.setUp();
        (erin, erinKey) = makeAddrAndKey("erin");
        erinAccount = _account(erin, 1);
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
    }

    // ------------------------------------------------------------ finding 3

    /// @dev Finding 3: an auction whose account recovered through a deposit stayed open, and
    /// the first bid after a later dip took the account at the grown (end) discount.
    function test_finding3_depositThatRestoresTheAccountEndsTheAuction() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 20 minutes);
        _refreshFeeds();
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, 0.30e18, "end discount reached");

        // Carol deposits enough to be back above maintenance: the vault tells the liquidator.
        usdc.mint(carol, 3_000e6);
        vm.startPrank(carol);
        usdc.approve(address(vault), 3_000e6);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vault.deposit(carolAccount, address(usdc), 3_000e6);
        vm.stopPrank();
        assertFalse(liquidator.auctionOf(carolAccount).active, "the deposit ended the auction");

        // Days later the account dips again: a new auction, at the start discount.
        vm.warp(block.timestamp + 3 days);
        _refreshFeeds();
        _moveUntil(carolAccount, IMarginEngine.Health.LIQUIDATABLE);
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, 0.05e18, "starts over");
    }

    /// @dev Finding 3: a trade that restores the account (buying back part of the short) ends
    /// its auction too.
    function test_finding3_tradeThatRestoresTheAccountEndsTheAuction() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        uint256 markWad = engine.mark(call30);
        IOptionMarket.Order memory buyBack = IOptionMarket.Order(
            bobAccount,
            call30,
            -5e18,
            markWad,
            AccountId.wrap(0),
            77,
            block.timestamp
        );
        bytes memory sig = _signOrder(bobKey, buyBack);
        vm.prank(carol);
        market.fill(buyBack, sig, carolAccount, 5e18);
        assertLt(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        assertFalse(liquidator.auctionOf(carolAccount).active, "the fill ended the auction");
    }

    /// @dev Finding 3 after the hook skip (issue 19): a fill asks the account hook only for a side
    /// the vault has marked (`markAuctioned`, reported by the premium's `moveCash`). The marked
    /// side is the taker here and the premium flows taker → maker (the marks come back swapped).
    function test_finding3_fillAsksTheHookOnlyForTheMarkedSide() public {
        _fillUnderAuction(bobKey, bobAccount, carolAccount, -5e18, engine.mark(call30), 0);
        assertFalse(liquidator.auctionOf(carolAccount).active, "the fill ended the auction");
    }

    /// @dev The same recovery with the marked account as the maker, buying back (the premium
    /// flows maker → taker): the hook ends the auction; the unmarked taker is not asked.
    function test_finding3_makerFillThatRestoresTheAccountEndsTheAuction() public {
        _fillUnderAuction(carolKey, carolAccount, bobAccount, 5e18, engine.mark(call30), 0);
        assertFalse(liquidator.auctionOf(carolAccount).active, "the maker's fill ended the auction");
    }

    /// @dev A fill at a price of 0 moves no cash, so no mark is reported: both sides are asked,
    /// and a marked account's auction still ends (a zero-premium trade can restore an account too).
    function test_finding3_zeroPremiumFillAsksTheHookForBothSides() public {
        _fillUnderAuction(bobKey, bobAccount, carolAccount, -5e18, 0, 1);
        assertFalse(liquidator.auctionOf(carolAccount).active, "the zero-premium fill ended the auction");
    }

    /// @dev Puts Carol's account under auction, then fills an order of `makerAccount` (`size`
    /// contracts of `call30` at `priceWad`) with `takerAccount`, one of them Carol's, expecting the
    /// hook once for Carol and `bobCalls` times for Bob's account.
    function _fillUnderAuction(
        uint256 makerKey,
        AccountId makerAccount,
        AccountId takerAccount,
        int256 size,
        uint256 priceWad,
        uint64 bobCalls
    ) internal {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        IOptionMarket.Order memory order = IOptionMarket.Order(
            makerAccount,
            call30,
            size,
            priceWad,
            AccountId.wrap(0),
            78,
            block.timestamp
        );
        bytes memory sig = _signOrder(makerKey, order);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (carolAccount)), 1);
        vm.expectCall(address(liquidator), abi.encodeCall(IAccountHook.onAccountChanged, (bobAccount)), bobCalls);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vm.prank(AccountLib.ownerOf(takerAccount));
        market.fill(order, sig, takerAccount, 5e18);
    }

    /// @dev Finding 3: a recovery by a price move alone that nobody reported. The auction lapses
    /// once it has sat at the end discount for `duration` without a bid, and a bid after the
    /// account dips again restarts it at the start discount.
    function test_finding3_unreportedRecoveryLapsesAndRestartsAtTheStartDiscount() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        int256 dipPrice = ethUsd.latestAnswer();
        _setPrice(ethUsd, 3_000e8); // recovers; nobody calls terminateAuction
        // Feeds tick every 20 minutes (no outage): two durations later the auction has lapsed.
        for (uint256 i; i < 6; ++i) {
            vm.warp(block.timestamp + 20 minutes);
            _refreshFeeds();
        }
        (bool running, ) = liquidator.auctionClock(carolAccount);
        assertFalse(running, "lapsed");
        _setPrice(ethUsd, dipPrice);
        ILiquidator.BidPreview memory p = liquidator.previewBid(carolAccount, 0.01e18);
        assertEq(p.discountWad, 0.05e18, "restarts at the start discount, not 30 %");
        uint256 nonce = market.accountNonce(carolAccount);
        vm.expectEmit(address(liquidator));
        emit ILiquidator.AuctionEnded(carolAccount, false);
        vm.prank(dave);
        ILiquidator.BidPreview memory done = liquidator.bid(carolAccount, daveAccount, 0.01e18, p.payment, nonce);
        assertEq(done.discountWad, 0.05e18);
        assertEq(liquidator.auctionOf(carolAccount).startTime, block.timestamp, "a new auction");
    }

    /// @dev A running auction does not lapse while bids keep landing at the end discount.
    function test_finding3_auctionWithRecentBidsDoesNotLapse() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 25 minutes);
        _refreshFeeds();
        _bid(carolAccount, 0.01e18); // the smallest bid allowed (W6)
        vm.warp(block.timestamp + 14 minutes);
        _refreshFeeds();
        (bool running, ) = liquidator.auctionClock(carolAccount);
        assertTrue(running);
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, 0.30e18);
    }

    /// @dev The hook never makes a deposit fail: without a valid price it leaves the auction.
    function test_finding3_hookNeverBlocksADepositWithoutPrices() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 2 hours); // every feed stale
        _fundAndDeposit(carol, carolAccount, usdc, 3_000e6);
        assertTrue(liquidator.auctionOf(carolAccount).active, "no price: the auction stays");
        _refreshFeeds();
        liquidator.onAccountChanged(carolAccount); // anyone may report it
        assertFalse(liquidator.auctionOf(carolAccount).active);
        liquidator.onAccountChanged(carolAccount); // no auction: a no-op
    }

    function test_setAccountHook_setOnceByTheAdmin() public {
        vm.startPrank(admin);
        vm.expectRevert(ICollateralVault.VaultAccountHookAlreadySet.selector);
        vault.setAccountHook(IAccountHook(address(1)));
        vm.expectRevert(IOptionMarket.MarketAccountHookAlreadySet.selector);
        market.setAccountHook(IAccountHook(address(1)));
        vm.stopPrank();
        assertEq(address(vault.accountHook()), address(liquidator));
        assertEq(address(market.accountHook()), address(liquidator));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), bytes32(0))
        );
        vault.setAccountHook(IAccountHook(address(1)));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), bytes32(0))
        );
        market.setAccountHook(IAccountHook(address(1)));
    }

    // ------------------------------------------------------------ finding 7

    /// @dev Finding 7: an auction still running when the account holds only a cash debt paid
    /// the bidder a discount on the debt from the insurance fund; the backstop's `absorbDebt`
    /// covers it at par and ends the auction.
    function test_finding7_bidOnABareCashDebtReverts() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        // Nobody bids; the short expires deep in the money and settling it leaves carol with
        // nothing but a cash debt (the market no longer lets an insolvent account trade its
        // shorts away into one: docs/margin-gate.md).
        uint256 expiry = SeriesLib.expiryOf(call30);
        vm.warp(expiry + 30);
        _setPrice(ethUsd, 9_000e8);
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        market.settle(carolAccount, call30);
        assertLt(vault.cashOf(carolAccount), 0, "only a debt left");
        assertTrue(liquidator.auctionOf(carolAccount).active, "still insolvent: the auction runs");

        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorNothingToSell.selector, carolAccount));
        liquidator.previewBid(carolAccount, 1e18);
        uint256 nonce = market.accountNonce(carolAccount);
        vm.prank(dave);
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorNothingToSell.selector, carolAccount));
        liquidator.bid(carolAccount, daveAccount, 1e18, type(int256).max, nonce);

        int256 debt = vault.cashOf(carolAccount);
        int256 fundBefore = vault.cashOf(insurance.account());
        backstop.absorbDebt(carolAccount);
        assertEq(vault.cashOf(insurance.account()), fundBefore + debt, "covered at par");
        assertFalse(liquidator.auctionOf(carolAccount).active);
    }

    /// @dev The premise of the liquidator's `_holdsNothing` shortcut (session 46): it skips the
    /// market's book when the valuation shows a maintenance requirement, so an account with neither
    /// collateral nor positions must have none, in both modes, whatever its cash (here a bare
    /// debt, and a cash balance on a PORTFOLIO account); and such an account is still refused. Its
    /// mark value is its cash, which is why the shortcut cannot use it.
    function test_holdsNothing_bareAccountsHaveNoRequirement() public {
        _underwater(carolKey, carolAccount);
        uint256 expiry = SeriesLib.expiryOf(call30);
        vm.warp(expiry + 30);
        _setPrice(ethUsd, 9_000e8);
        oracle.postSettlementPrice(address(weth), expiry, uint80(ethUsd.latestRound()), new uint80[](0));
        market.settle(carolAccount, call30);
        int256 debt = vault.cashOf(carolAccount);
        assertLt(debt, 0, "only a debt left");
        IMarginEngine.MarginState memory state = engine.accountMargin(carolAccount);
        assertEq(state.requirementMM, 0, "a bare debt has no requirement");
        assertEq(state.markValue, debt * 1e12, "its mark value is the debt (USDC, 6 decimals)");
        assertEq(uint8(state.health), uint8(IMarginEngine.Health.INSOLVENT), "under water");
        vm.expectRevert(abi.encodeWithSelector(ILiquidator.LiquidatorNothingToSell.selector, carolAccount));
        liquidator.startAuction(carolAccount);

        vm.prank(erin);
        engine.setMarginMode(erinAccount, IMarginEngine.MarginMode.PORTFOLIO);
        _fundAndDeposit(erin, erinAccount, usdc, 1_000e6);
        state = engine.accountMargin(erinAccount);
        assertEq(state.requirementMM, 0, "PORTFOLIO, cash alone: no requirement");
        assertEq(state.markValue, 1_000e18, "its mark value is its cash");
    }

    /// @dev The shortcut itself (session 46): an account under water with a short has a
    /// maintenance requirement, so opening its auction reads its book once, in the valuation, and
    /// not again to see that it holds something (review helper-164: nothing else pinned it).
    function test_holdsNothing_aShortIsSeenWithoutReadingTheBookAgain() public {
        _underwater(carolKey, carolAccount);
        vm.expectCall(address(market), abi.encodeCall(IOptionMarket.positionsOf, (carolAccount)), 1);
        liquidator.startAuction(carolAccount);
        assertTrue(liquidator.auctionOf(carolAccount).active);
    }

    // ------------------------------------------------------------ finding 9

    /// @dev Finding 9: while the prices were stale nobody could bid, yet the discount kept
    /// growing; the first bid after recovery bought at the end discount. The clock now restarts
    /// when the feeds are live again.
    function test_finding9_staleFeedsDoNotCountTowardsTheDiscount() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        uint256 started = block.timestamp;
        vm.warp(block.timestamp + 2 hours); // no round for 2 h: ETH/USD stale after 1 h 15 min
        vm.expectRevert();
        liquidator.previewBid(carolAccount, 0.01e18);
        _refreshFeeds();
        (bool running, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertTrue(running);
        assertEq(clockStart, block.timestamp, "the clock restarts when prices are live again");
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, 0.05e18, "not the 30 % of 2 h");

        vm.warp(block.timestamp + 450);
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, 0.175e18, "then it runs");
        _bid(carolAccount, 0.01e18);
        ILiquidator.Auction memory a = liquidator.auctionOf(carolAccount);
        assertEq(a.clockStart, clockStart, "the moved clock is stored");
        assertEq(a.startTime, started);
    }

    /// @dev Feeds that tick within their `maxAge` leave the clock alone.
    function test_finding9_liveFeedsKeepTheClock() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        uint256 started = block.timestamp;
        for (uint256 i; i < 3; ++i) {
            vm.warp(block.timestamp + 5 minutes);
            _refreshFeeds();
        }
        (, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertEq(clockStart, started);
        assertEq(liquidator.previewBid(carolAccount, 0.01e18).discountWad, 0.30e18);
    }

    /// @dev A stale volatility feed is an outage too (the account's options need it).
    function test_finding9_staleVolFeedCounts() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        for (uint256 i; i < 2; ++i) {
            vm.warp(block.timestamp + 50 minutes);
            ethUsd.updateAnswer(ethUsd.latestAnswer()); // spot ticks, vol does not
        }
        ethVol.updateAnswer(ethVol.latestAnswer());
        (, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertEq(clockStart, block.timestamp);
    }

    // ------------------------------------------------------------ finding 11

    /// @dev Finding 11: each of a run of small bids bought back, at the discount, the cash the
    /// previous bids had paid in, so many small bids took much more than one bid for the same
    /// share of the positions. Two identical accounts: one sold in one bid, one in twenty.
    function test_finding11_manySmallBidsTakeNoMoreThanOne() public {
        (int256 whole, int256 split) = _wholeVersusSplit(20, 0.30e18, 20 minutes);
        assertApproxEqAbs(split, whole, 20 * 3e12, "split and whole bids take the same");
    }

    /// @dev Split and whole bids on the same auction give the same result to rounding, for any
    /// number of slices, share of the account and discount.
    function testFuzz_finding11_splitAndWholeBidsAgree(uint256 slices, uint256 shareSeed, uint256 wait) public {
        slices = bound(slices, 2, 12);
        (int256 whole, int256 split) = _wholeVersusSplit(
            slices,
            bound(shareSeed, 0.05e18, 0.9e18),
            bound(wait, 0, 20 minutes)
        );
        assertApproxEqAbs(split, whole, slices * 3e12);
    }

    // ------------------------------------------------------------ issue 16, item 4

    /// @dev Issue 16: the discount grew with time on insolvent accounts too, and the fund pays the
    /// bidder of one `|V| + d·|H|`, so the longer nobody bid, the more the fund paid (after 15
    /// minutes, 30 % of the holdings on top of the shortfall instead of 5 %). While the account is
    /// insolvent the discount now stays at the start discount: the same auction 15 minutes later
    /// costs the fund no more (a little less here: the short calls lost time value).
    function test_issue16_insolventAuctionDoesNotPayMoreWithTime() public {
        _shortCalls(carolKey, carolAccount, 10e18, 8_000e6);
        _moveUntil(carolAccount, IMarginEngine.Health.INSOLVENT);
        liquidator.startAuction(carolAccount);
        ILiquidator.BidPreview memory early = liquidator.previewBid(carolAccount, 1e18);
        assertLt(early.payment, 0, "the fund pays the bidder");
        assertEq(early.discountWad, 0.05e18);

        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        (bool running, uint256 clockStart) = liquidator.auctionClock(carolAccount);
        assertTrue(running);
        assertEq(liquidator.discountAt(clockStart), 0.3e18, "the clock reached the end discount");
        IMarginEngine.MarginState memory state = engine.accountMargin(carolAccount);
        assertEq(uint8(state.health), uint8(IMarginEngine.Health.INSOLVENT));
        // The old rule: the clock's discount, 30 %.
        ILiquidator.BidPreview memory old = AuctionMath.quoteBid(
            liquidator.auctionParams(),
            state,
            vault.cashOf(carolAccount),
            6,
            0.3e18,
            1e18
        );
        ILiquidator.BidPreview memory late = liquidator.previewBid(carolAccount, 1e18);
        assertLt(old.payment, early.payment, "the old rule: the fund paid more later");
        assertEq(late.discountWad, 0.05e18, "no escalation while insolvent");
        assertGe(late.payment, early.payment, "the fund pays no more later");

        int256 fundBefore = vault.cashOf(insurance.account());
        ILiquidator.BidPreview memory done = _bid(carolAccount, 1e18);
        assertEq(vault.cashOf(insurance.account()), fundBefore + done.payment, "the bid pays the preview");
    }

    /// @dev The cap follows the state at the bid, both ways: a solvent account below maintenance
    /// still sees its discount grow to the end discount, and a fall into insolvency brings the
    /// discount back to the start discount, whatever the clock says.
    function test_issue16_capAppliesOnlyWhileInsolvent() public {
        _underwater(carolKey, carolAccount);
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        assertEq(uint8(engine.accountMargin(carolAccount).health), uint8(IMarginEngine.Health.LIQUIDATABLE));
        assertEq(liquidator.previewBid(carolAccount, 1e18).discountWad, 0.3e18, "solvent: the discount grew");
        _moveUntil(carolAccount, IMarginEngine.Health.INSOLVENT);
        assertEq(liquidator.previewBid(carolAccount, 1e18).discountWad, 0.05e18, "insolvent: back to the start");
    }

    // ------------------------------------------------------------ review rv16, F1

    /// @dev Review rv16 F1: the cap keyed on `equityMM < 0`. An account below zero only through
    /// collateral haircuts (V ≥ 0 > equityMM: the fund can never pay on it) got the start discount
    /// on a whole bid, while a first slice at that discount paid cash in, lifted equityMM over zero,
    /// and the rest went at the clock's 30 % in the same block: split and whole bids disagreed, and
    /// the owner lost up to (haircut − start discount) × collateral. The cap now keys on V < 0,
    /// which no bid changes, so every slice gets the whole bid's discount.
    function test_rv16F1_haircutOnlyAccountSplitBidsGetTheWholeBidsDiscount() public {
        _haircutInsolvent();
        liquidator.startAuction(erinAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        _tuneHaircutInsolvent(); // theta moved the marks a little: back between the two bounds
        IMarginEngine.MarginState memory s = engine.accountMargin(erinAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.INSOLVENT));
        assertGe(s.markValue, 0, "V >= 0: the fund can never pay on this account");
        (, uint256 clockStart) = liquidator.auctionClock(erinAccount);
        assertEq(liquidator.discountAt(clockStart), 0.3e18, "clock at the end discount");
        int256 fundBefore = vault.cashOf(insurance.account());

        uint256 snap = vm.snapshotState();
        ILiquidator.BidPreview memory whole = _bid(erinAccount, 1e18);
        int256 ownerWhole = engine.accountMargin(erinAccount).markValue;
        vm.revertToState(snap);

        // Split: a first slice large enough to lift equityMM over zero at the start discount,
        // then the rest.
        int256 pWad = s.markValue - int256((5 * uint256(s.markValue - _cashWad(erinAccount))) / 100);
        uint256 f1 = (uint256(-s.equityMM) * 1e18) / uint256(pWad - s.equityMM) + 0.02e18;
        ILiquidator.BidPreview memory first = _bid(erinAccount, f1);
        assertGe(engine.accountMargin(erinAccount).markValue, 0, "no bid moves an account across V = 0");
        ILiquidator.BidPreview memory second = _bid(erinAccount, 1e18);
        int256 ownerSplit = engine.accountMargin(erinAccount).markValue;

        assertEq(whole.discountWad, 0.3e18, "V >= 0: the clock's discount");
        assertEq(first.discountWad, whole.discountWad, "first slice: the whole bid's discount");
        assertEq(second.discountWad, whole.discountWad, "second slice: the whole bid's discount");
        assertGe(ownerSplit, ownerWhole, "the split leaves the owner no less than the whole bid");
        assertGe(vault.cashOf(insurance.account()), fundBefore, "the fund never paid");
    }

    /// @dev Review rv16 F1 at a governed haircut (WBTC at 40 % / 30 %, inside MAX_HAIRCUT_WAD):
    /// Erin's mark value is $12k on $60k of WBTC, equityMM about −$6k. One `bidMany` of two
    /// requests (a slice that lifted equityMM over zero at 5 %, then the rest at 30 %) took $7.7k
    /// more from her than the whole bid at the same instant. Now both requests and the whole bid
    /// get the same discount.
    function test_rv16F1_highHaircutSplitInOneBidManyMatchesTheWholeBid() public {
        vm.prank(riskManager);
        vault.configureAsset(address(wbtc), true, 0.4e18, 0.3e18, type(uint128).max);
        _fundAndDeposit(erin, erinAccount, wbtc, 1e8);
        _trade(erinKey, erinAccount, bobAccount, call30, -10e18, 100e18);
        _setMarkValue(erinAccount, 12_000e18);
        liquidator.startAuction(erinAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        _setMarkValue(erinAccount, 12_000e18);
        IMarginEngine.MarginState memory s = engine.accountMargin(erinAccount);
        assertEq(uint8(s.health), uint8(IMarginEngine.Health.INSOLVENT));
        int256 fundBefore = vault.cashOf(insurance.account());

        uint256 snap = vm.snapshotState();
        ILiquidator.BidPreview memory whole = _bid(erinAccount, 1e18);
        int256 ownerWhole = engine.accountMargin(erinAccount).markValue;
        vm.revertToState(snap);

        int256 pWad = s.markValue - int256((5 * uint256(s.markValue - _cashWad(erinAccount))) / 100);
        uint256 f1 = (uint256(-s.equityMM) * 1e18) / uint256(pWad - s.equityMM) + 0.01e18;
        ILiquidator.BidRequest[] memory requests = new ILiquidator.BidRequest[](2);
        requests[0] = ILiquidator.BidRequest(erinAccount, f1, type(int256).max, type(uint256).max);
        requests[1] = ILiquidator.BidRequest(erinAccount, 1e18, type(int256).max, type(uint256).max);
        vm.prank(dave);
        ILiquidator.BidOutcome[] memory out = liquidator.bidMany(requests, daveAccount);
        assertTrue(out[0].landed, "first request landed");
        int256 ownerSplit = engine.accountMargin(erinAccount).markValue;

        assertEq(out[0].preview.discountWad, whole.discountWad, "first request: the whole bid's discount");
        if (out[1].landed) assertEq(out[1].preview.discountWad, whole.discountWad, "second: the same");
        assertGe(ownerSplit, ownerWhole, "the split takes no more from the owner than the whole bid");
        assertGe(vault.cashOf(insurance.account()), fundBefore, "the fund never paid");
    }

    // ------------------------------------------------------------ helpers

    /// @dev Carol and Erin hold the same short and go under together. Dave takes `share` of
    /// the largest fraction that keeps Carol liquidatable in one bid and the same share of Erin
    /// in `slices` bids (each a slice of what is left), after `wait`. Returns Dave's mark-value
    /// gain from each.
    function _wholeVersusSplit(
        uint256 slices,
        uint256 share,
        uint256 wait
    ) internal returns (int256 whole, int256 split) {
        _shortCalls(carolKey, carolAccount, 10e18, 8_000e6);
        _shortCalls(erinKey, erinAccount, 10e18, 8_000e6);
        _moveUntil(carolAccount, IMarginEngine.Health.LIQUIDATABLE);
        // Deeper, so a slice does not restore the account to above maintenance at once.
        _setPrice(ethUsd, ethUsd.latestAnswer() + 60e8);
        liquidator.startAuction(carolAccount);
        liquidator.startAuction(erinAccount);
        vm.warp(block.timestamp + wait);
        _refreshFeeds();

        uint256 total = (_stillLiquidatableFraction(carolAccount) * share) / 1e18;
        int256 before = engine.accountMargin(daveAccount).markValue;
        _bid(carolAccount, total);
        int256 mid = engine.accountMargin(daveAccount).markValue;
        whole = mid - before;

        // Each slice at least the minimum material bid (review rv16w W6: 1 %): fewer, larger slices.
        if (total / slices < 0.01e18) slices = total / 0.01e18 > 1 ? total / 0.01e18 : 1;
        uint256 step = total / slices;
        uint256 taken;
        for (uint256 i; i < slices; ++i) {
            uint256 slice = i + 1 == slices ? total - taken : step;
            // A fraction of what is left: slice / (1 − taken).
            _bid(erinAccount, (slice * 1e18) / (1e18 - taken));
            taken += slice;
        }
        split = engine.accountMargin(daveAccount).markValue - mid;
        assertApproxEqAbs(
            market.positionOf(carolAccount, call30),
            market.positionOf(erinAccount, call30),
            slices * 1e6
        );
    }

    /// @dev The largest fraction (from 1.1 %, above the minimum bid) after which the account is still liquidatable.
    function _stillLiquidatableFraction(AccountId account) internal view returns (uint256 f) {
        f = liquidator.previewBid(account, 1e18).fractionWad;
        while (f > 0.011e18) {
            ILiquidator.BidPreview memory p = liquidator.previewBid(account, f);
            if (p.equityMMAfter < int256(p.requirementMMAfter)) return f;
            f = (f * 9) / 10;
        }
    }

    function _bid(AccountId account, uint256 fraction) internal returns (ILiquidator.BidPreview memory done) {
        ILiquidator.BidPreview memory p = liquidator.previewBid(account, fraction);
        uint256 nonce = market.accountNonce(account);
        vm.prank(dave);
        done = liquidator.bid(account, daveAccount, fraction, p.payment, nonce);
        assertEq(abi.encode(done), abi.encode(p));
    }

    /// @dev Erin: 1 WBTC, 10 short ETH calls, cash set so that 0.05·|H| < V < 0.06·collateral
    /// (below zero through the 6 % WBTC maintenance haircut only, and a positive price at 5 %).
    function _haircutInsolvent() internal {
        _fundAndDeposit(erin, erinAccount, wbtc, 1e8);
        _trade(erinKey, erinAccount, bobAccount, call30, -10e18, 100e18);
        _tuneHaircutInsolvent();
    }

    function _tuneHaircutInsolvent() internal {
        IMarginEngine.MarginState memory s = engine.accountMargin(erinAccount);
        int256 h = s.markValue - _cashWad(erinAccount); // collateral and positions
        _setMarkValue(erinAccount, ((5 * h) / 100 + (6 * int256(60_000e18)) / 100) / 2);
        s = engine.accountMargin(erinAccount);
        assertLt(s.equityMM, 0);
        assertGt(s.markValue, (5 * (s.markValue - _cashWad(erinAccount))) / 100);
    }

    /// @dev Moves cash between `account` and Bob so that the account's mark value is `target` (WAD).
    function _setMarkValue(AccountId account, int256 target) internal {
        int256 move = (engine.accountMargin(account).markValue - target) / 1e12;
        vm.prank(module);
        if (move > 0) vault.moveCash(account, bobAccount, uint256(move));
        else if (move < 0) vault.moveCash(bobAccount, account, uint256(-move));
    }

    function _cashWad(AccountId account) internal view returns (int256) {
        return vault.cashOf(account) * 1e12;
    }

    /// @dev The account's owner posts `cash` USDC and sells `size` 3200 calls to Bob at 100.
    function _shortCalls(uint256 key, AccountId account, uint256 size, uint256 cash) internal {
        _fundAndDeposit(vm.addr(key), account, usdc, cash);
        _trade(key, account, bobAccount, call30, -int256(size), 100e18);
    }

    function _underwater(uint256 key, AccountId account) internal {
        _shortCalls(key, account, 10e18, 8_000e6);
        _moveUntil(account, IMarginEngine.Health.LIQUIDATABLE);
    }

    function _moveUntil(AccountId account, IMarginEngine.Health target) internal {
        for (int256 price = 3_000e8; engine.accountMargin(account).health < target; price += 10e8) {
            _setPrice(ethUsd, price);
        }
    }
}
