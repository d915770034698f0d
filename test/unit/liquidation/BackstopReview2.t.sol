// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {IBackstop} from "../../../contracts/interfaces/IBackstop.sol";
import {IChainlinkOracle} from "../../../contracts/interfaces/IChainlinkOracle.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {Backstop} from "../../../contracts/liquidation/Backstop.sol";
import {InsuranceFund} from "../../../contracts/liquidation/InsuranceFund.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {BackstopFixture} from "../../helpers/BackstopFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Review rv16w2 of r16/waterfall: regression tests, built on the reviewer's repros, asserting
/// the fixed behaviour (A: the fund's unwind never pays past its cash nor far from the mark, and its
/// settlements past cash are socialised and announced by the vault only; C: a stale feed for a
/// collateral of the fund no longer halts takeovers it affords; D: a replaced Backstop is inert).
contract BackstopReview2Test is BackstopFixture {
    address internal mallory = makeAddr("mallory");

    bytes32 internal constant BAD_DEBT_TOPIC = keccak256("BadDebtIncurred(uint256,uint256,uint256)");
    bytes32 internal constant LOSS_SOCIALIZED_TOPIC = keccak256("LossSocialized(uint256,uint256,uint256)");

    // ------------------------------------------------------------ A: unwind within the fund's cash and the band

    /// @dev A (regression): a colluding seller's order at ~100x the mark is refused for its price
    /// (`InsuranceFundPriceOutOfBand`); at the band's edge it is refused for the fund's cash
    /// (`InsuranceFundCashShort`). Nothing is written off, nothing leaves the fund.
    function test_rv16w2A_unwindFarFromTheMarkOrPastTheCashIsRefused() public {
        _fundCapitalInWbtc();
        _takeOverCarol();
        int256 fundCash = vault.cashOf(fund);
        assertGt(fundCash, 0);
        assertLt(fundCash, 10_000e6);
        (address seller, uint256 sellerKey) = makeAddrAndKey("colluding seller");
        AccountId sellerAccount = _account(seller, 1);
        _fundAndDeposit(seller, sellerAccount, usdc, 20_000e6);
        uint256 m = engine.mark(call30);
        uint256 bound = (m * (1e18 + insurance.MAX_UNWIND_DEVIATION_WAD())) / 1e18;
        IOptionMarket.Order memory sell = _order(sellerAccount, -10e18, 100_000e18); // ~100x the mark
        bytes memory sig = _signOrder(sellerKey, sell);
        uint256 badBefore = vault.badDebt();
        vm.expectRevert(
            abi.encodeWithSelector(InsuranceFund.InsuranceFundPriceOutOfBand.selector, call30, 100_000e18, m, bound)
        );
        vm.prank(admin);
        insurance.unwind(sell, sig, 10e18);
        // At the band's edge the price passes, but 10 contracts cost more than the fund's cash.
        IOptionMarket.Order memory edge = _order(sellerAccount, -10e18, bound);
        edge.nonce = 2;
        bytes memory edgeSig = _signOrder(sellerKey, edge);
        vm.expectPartialRevert(InsuranceFund.InsuranceFundCashShort.selector);
        vm.prank(admin);
        insurance.unwind(edge, edgeSig, 10e18);
        assertEq(vault.badDebt(), badBefore, "nothing written off");
        assertEq(vault.cashOf(fund), fundCash, "nothing paid");
        assertEq(market.positionOf(fund, call30), -10e18);
    }

    /// @dev A (regression), the honest case: buying the short back at the mark needs more than the
    /// fund's cash (its capital is WBTC): refused with the exact need. Once the fund holds the cash
    /// (here a USDC deposit; in production the admin sells or withdraws WBTC first), the same
    /// unwind passes and writes nothing off.
    function test_rv16w2A_honestUnwindPastTheCashIsRefusedUntilTheCashIsThere() public {
        _fundCapitalInWbtc();
        _takeOverCarol();
        (address seller, uint256 sellerKey) = makeAddrAndKey("market maker");
        AccountId sellerAccount = _account(seller, 1);
        _fundAndDeposit(seller, sellerAccount, usdc, 50_000e6);
        uint256 m = engine.mark(call30);
        IOptionMarket.Order memory sell = _order(sellerAccount, -10e18, m);
        bytes memory sig = _signOrder(sellerKey, sell);
        int256 cash = vault.cashOf(fund);
        uint256 premium = (10 * m + 1e12 - 1) / 1e12; // 6-decimal cash, rounded up against the fund
        uint256 fee = (premium * market.takerFeeWad() + 1e18 - 1) / 1e18;
        if (market.feeAccount().isZero()) fee = 0;
        assertGt(premium + fee, uint256(cash));
        vm.expectRevert(abi.encodeWithSelector(InsuranceFund.InsuranceFundCashShort.selector, cash, premium + fee));
        vm.prank(admin);
        insurance.unwind(sell, sig, 10e18);

        _fundAndDeposit(alice, fund, usdc, 100_000e6);
        uint256 badBefore = vault.badDebt();
        vm.prank(admin);
        assertEq(insurance.unwind(sell, sig, 10e18), premium);
        assertEq(vault.badDebt(), badBefore, "nothing written off");
        assertEq(market.positionOf(fund, call30), 0);
        assertEq(vault.collateralOf(fund, address(wbtc)), 20e8);
    }

    /// @dev A (regression): the fund sells within the band only: a bid below `m·(1 − d)` for a long
    /// the fund holds is refused.
    function test_rv16w2A_theFundSellsNoLowerThanTheBand() public {
        (address buyer, uint256 buyerKey) = makeAddrAndKey("buyer");
        AccountId buyerAccount = _account(buyer, 1);
        _fundAndDeposit(buyer, buyerAccount, usdc, 100_000e6);
        // The fund holds bob's 4 long calls (as a takeover of bob would leave them).
        vm.prank(address(backstop));
        market.moduleSlicePositions(bobAccount, fund, 1e18);
        uint256 m = engine.mark(call30);
        uint256 bound = m - (m * insurance.MAX_UNWIND_DEVIATION_WAD()) / 1e18;
        IOptionMarket.Order memory buy = _order(buyerAccount, 1e18, bound - 1);
        bytes memory sig = _signOrder(buyerKey, buy);
        vm.expectRevert(
            abi.encodeWithSelector(InsuranceFund.InsuranceFundPriceOutOfBand.selector, call30, bound - 1, m, bound)
        );
        vm.prank(admin);
        insurance.unwind(buy, sig, 1e18);
        buy.priceWad = bound;
        sig = _signOrder(buyerKey, buy);
        vm.prank(admin);
        insurance.unwind(buy, sig, 1e18);
        assertEq(market.positionOf(fund, call30), 3e18);
    }

    /// @dev A (pinned, documented in docs/backstop.md and docs/security.md): the permissionless
    /// settlement of a short the fund holds pays the settlement account past the fund's cash. There
    /// is no Backstop hook on `settle`: the excess is socialised by the vault, announced only by its
    /// `LossSocialized` (not `BadDebtIncurred`), and not booked in the window.
    function test_rv16w2A_settlementOfTheFundsShortPastItsCashIsAnnouncedByTheVaultOnly() public {
        _fundCapitalInWbtc();
        _takeOverCarol();
        uint40 expiry = uint40(SeriesLib.expiryOf(call30));
        vm.warp(expiry + 30);
        uint256 windowBefore = backstop.windowLoss();
        ethUsd.updateAnswer(ethUsd.latestAnswer() + 1_000e8);
        uint80 round = uint80(ethUsd.latestRound());
        oracle.postSettlementPrice(address(weth), expiry, round, new uint80[](0));
        uint256 badBefore = vault.badDebt();
        vm.recordLogs();
        market.settle(fund, call30);
        (uint256 badDebtEvents, uint256 socialized) = _lossEvents();
        assertGt(vault.badDebt(), badBefore, "bad debt realised by settle");
        assertEq(socialized, vault.badDebt() - badBefore, "the vault's LossSocialized carries all of it");
        assertEq(badDebtEvents, 0, "no BadDebtIncurred");
        assertEq(backstop.windowLoss(), windowBefore, "not booked in the window");
    }

    // ------------------------------------------------------------ C: a stale dust collateral no longer halts the backstop

    /// @dev C (regression): the fund holds 1 sat of WBTC whose feed is stale. Its $2M of USDC covers
    /// the takeover, so its margin check passes and the satoshi's price is never read: the takeover
    /// passes, and with the budget at zero deleveraging runs too.
    function test_rv16w2C_oneStaleSatoshiInTheFundNoLongerHaltsTheBackstop() public {
        _dustSatoshiInTheFund();
        _pushInsolvent();
        liquidator.startAuction(carolAccount);
        _ethOnlyFreshAfter(2 hours); // BTC now stale
        backstop.takeover(carolAccount);
        assertEq(market.positionOf(fund, call30), -10e18);
    }

    /// @dev C (regression): the same stale satoshi, with the budget at zero: deleveraging runs.
    function test_rv16w2C_oneStaleSatoshiInTheFundNoLongerHaltsDeleveraging() public {
        _dustSatoshiInTheFund();
        _pushInsolvent();
        liquidator.startAuction(carolAccount);
        _ethOnlyFreshAfter(2 hours);
        _setBudget(0, 0);
        assertGt(backstop.deleverage(carolAccount, call30, _sortedHolders()), 0);
    }

    /// @dev C (regression), F3's guarantee kept: when the fund does fail its margin check while a
    /// collateral it holds has no valid price, the oracle's error is raised, not the budget refusal
    /// (which would open deleveraging on a missing price).
    function test_rv16w2C_aStaleCollateralStillNeverPassesForABudgetRefusal() public {
        _fundCapitalInWbtc(); // the fund's capital is WBTC only
        _pushInsolvent();
        liquidator.startAuction(carolAccount);
        _ethOnlyFreshAfter(2 hours); // BTC now stale: the engine counts the fund's WBTC as zero
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        backstop.takeover(carolAccount);
        AccountId[] memory holders = _sortedHolders();
        vm.expectPartialRevert(IChainlinkOracle.OracleStalePrice.selector);
        backstop.deleverage(carolAccount, call30, holders);
    }

    // ------------------------------------------------------------ D: a replaced Backstop is inert

    /// @dev D (regression): after `setBackstop(fresh)` the old Backstop refuses `takeover`,
    /// `deleverage` and `absorbDebt` (`BackstopReplaced`), so only one window is live. The new
    /// window starts empty (documented: the swap procedure in docs/backstop.md).
    function test_rv16w2D_aReplacedBackstopTakesNoStep() public {
        _pushInsolvent();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        vm.startPrank(admin);
        Backstop fresh = new Backstop(admin, vault, engine, market, liquidator, _takeoverBudget());
        vault.grantRole(Roles.MODULE_ROLE, address(fresh));
        market.grantRole(Roles.MODULE_ROLE, address(fresh));
        liquidator.setBackstop(fresh);
        vm.stopPrank();
        bytes memory replaced = abi.encodeWithSelector(IBackstop.BackstopReplaced.selector, address(fresh));
        AccountId[] memory holders = _sortedHolders();
        vm.expectRevert(replaced);
        backstop.takeover(carolAccount);
        vm.expectRevert(replaced);
        backstop.deleverage(carolAccount, call30, holders);
        vm.expectRevert(replaced);
        backstop.absorbDebt(carolAccount);
        // A fresh Backstop that is not (yet) the liquidator's is inert too.
        Backstop spare = new Backstop(admin, vault, engine, market, liquidator, _takeoverBudget());
        vm.expectRevert(abi.encodeWithSelector(IBackstop.BackstopReplaced.selector, address(fresh)));
        spare.takeover(carolAccount);
        assertEq(fresh.windowLoss(), 0, "the new window starts empty");
        fresh.takeover(carolAccount);
        assertEq(market.positionOf(fund, call30), -10e18);
    }

    // ------------------------------------------------------------ helpers

    function _takeOverCarol() internal {
        _pushInsolvent();
        liquidator.startAuction(carolAccount);
        vm.warp(block.timestamp + 15 minutes);
        _refreshFeeds();
        backstop.takeover(carolAccount);
        assertEq(market.positionOf(fund, call30), -10e18);
    }

    function _order(AccountId account, int256 size, uint256 price) internal view returns (IOptionMarket.Order memory) {
        return
            IOptionMarket.Order({
                account: account,
                seriesId: call30,
                size: size,
                priceWad: price,
                taker: AccountId.wrap(0),
                nonce: 1,
                deadline: block.timestamp + 3 days
            });
    }

    function _lossEvents() internal returns (uint256 badDebtEvents, uint256 socialized) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics.length == 0) continue;
            if (logs[i].topics[0] == BAD_DEBT_TOPIC) ++badDebtEvents;
            if (logs[i].topics[0] == LOSS_SOCIALIZED_TOPIC && logs[i].emitter == address(vault)) {
                (uint256 amount, ) = abi.decode(logs[i].data, (uint256, uint256));
                socialized += amount;
            }
        }
    }

    function _dustSatoshiInTheFund() internal {
        AccountId dust = _account(mallory, 2);
        _fundAndDeposit(mallory, dust, wbtc, 1);
        vm.prank(module); // what `Backstop._moveAll` does when it takes over an account holding WBTC
        vault.moveCollateral(dust, fund, address(wbtc), 1);
    }

    function _badDebtEvents() internal returns (uint256 n) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics.length != 0 && logs[i].topics[0] == BAD_DEBT_TOPIC) ++n;
        }
    }

    function _ethOnlyFreshAfter(uint256 dt) internal {
        for (uint256 t; t < dt; t += 20 minutes) {
            vm.warp(block.timestamp + 20 minutes);
            ethUsd.updateAnswer(ethUsd.latestAnswer());
            ethVol.updateAnswer(ethVol.latestAnswer());
        }
    }

    function _fundCapitalInWbtc() internal {
        vm.prank(module);
        vault.moveCash(fund, bobAccount, 2_000_000e6);
        _fundAndDeposit(address(insurance), fund, wbtc, 20e8);
    }

    function _sortedHolders() internal view returns (AccountId[] memory holders) {
        holders = new AccountId[](3);
        (holders[0], holders[1], holders[2]) = (bobAccount, daveAccount, erinAccount);
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                uint256 ki = backstop.deleverageKey(holders[i], call30);
                uint256 kj = backstop.deleverageKey(holders[j], call30);
                if (kj > ki || (kj == ki && AccountId.unwrap(holders[j]) < AccountId.unwrap(holders[i]))) {
                    (holders[i], holders[j]) = (holders[j], holders[i]);
                }
            }
        }
    }
}
