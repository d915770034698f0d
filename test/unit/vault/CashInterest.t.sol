// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Vm} from "forge-std/Vm.sol";

import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IRateModel} from "../../../contracts/interfaces/IRateModel.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {MockRateModel} from "../../../contracts/mocks/MockRateModel.sol";
import {KinkRateModel} from "../../../contracts/rates/KinkRateModel.sol";
import {CollateralVault} from "../../../contracts/vault/CollateralVault.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice Issue 15 at the vault: cash on an index, interest from a pluggable rate model that can
/// never block an exit, and losses shared pro rata. The fixture's `module` stands in for the
/// market and the liquidator (it moves cash; from the insurance account it pays out of the fund).
contract CashInterestTest is VaultFixture {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant TEN_PERCENT = uint256(0.1e18) / 365 days;

    AccountId internal aliceMain;
    AccountId internal bobMain;
    AccountId internal carolMain;
    AccountId internal fund;
    MockRateModel internal model;

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        aliceMain = _account(alice, 0);
        bobMain = _account(bob, 0);
        carolMain = _account(makeAddr("carol"), 0);
        fund = _account(makeAddr("insuranceFund"), 0);
        model = new MockRateModel(TEN_PERCENT);
        vm.prank(admin);
        vault.setInsuranceAccount(fund);
    }

    /// @dev Alice lends 1,000 USDC; Bob borrows 600 of it (the module pays them to Carol).
    function _borrow() internal {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        vm.prank(module);
        vault.moveCash(bobMain, carolMain, 600e6);
    }

    function _setModel(IRateModel rateModel) internal {
        vm.prank(admin);
        vault.setRateModel(rateModel);
    }

    function _sum(AccountId[4] memory accounts) internal view returns (int256 sum) {
        for (uint256 i; i < accounts.length; ++i) sum += vault.cashOf(accounts[i]);
    }

    function _everyone() internal view returns (AccountId[4] memory) {
        return [aliceMain, bobMain, carolMain, fund];
    }

    // ------------------------------------------------------------ zero rate

    /// @dev The default, the built-in zero rate: shares are amounts, indices stay 1, nothing accrues.
    function test_zeroRate_sharesAreAmountsAndNothingAccrues() public {
        _borrow();
        vm.warp(block.timestamp + 365 days);
        vm.recordLogs();
        vault.accrueInterest();
        assertEq(vm.getRecordedLogs().length, 0, "no InterestAccrued at the zero rate");
        assertEq(vault.cashOf(bobMain), -600e6);
        assertEq(vault.cashSharesOf(bobMain), -600e6);
        assertEq(vault.cashOf(aliceMain), 1_000e6);
        ICollateralVault.CashMarket memory m = vault.cashMarket();
        assertEq(m.supplyIndex, WAD);
        assertEq(m.debtIndex, WAD);
        assertEq(address(m.rateModel), address(0));
        assertEq(vault.borrowRate(), 0);
        assertEq(int256(usdc.balanceOf(address(vault))), _sum(_everyone()), "books balance to the wei");
    }

    // ------------------------------------------------------------ interest

    function test_interest_debtorsPayCreditorsEarn() public {
        _borrow();
        _setModel(model);
        vm.warp(block.timestamp + 365 days);
        // A year at 10 %: Bob owes about 600 × (e^0.1 − 1) more, Alice and Carol earn it pro rata.
        int256 bob = vault.cashOf(bobMain);
        assertApproxEqAbs(bob, -663.1e6, 0.01e6);
        uint256 interest = uint256(-bob) - 600e6;
        int256 creditors = vault.cashOf(aliceMain) + vault.cashOf(carolMain) - 1_600e6;
        assertLe(uint256(creditors), interest, "creditors earned more than debtors paid");
        assertApproxEqAbs(uint256(creditors), interest, 2);
        assertEq(vault.totalCashDebt(), uint256(-bob));
        // The total rounds once, the two claims once each.
        assertApproxEqAbs(vault.totalCashCredit(), uint256(vault.cashOf(aliceMain) + vault.cashOf(carolMain)), 1);
        // The tokens on hand still cover every claim.
        assertGe(int256(usdc.balanceOf(address(vault))), _sum(_everyone()));
    }

    /// @dev What every reader sees (a view accrual) is exactly what the next state change stores.
    function testFuzz_viewAccrualIsStateAccrual(uint256 rate, uint256 elapsed, uint256 lent) public {
        rate = bound(rate, 0, vault.MAX_RATE_PER_SECOND());
        elapsed = bound(elapsed, 1, 5 * 365 days);
        lent = bound(lent, 1, 1_000e6);
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        vm.prank(module);
        vault.moveCash(bobMain, carolMain, lent);
        model.setRate(rate);
        _setModel(model);
        vm.warp(block.timestamp + elapsed);
        int256[4] memory seen;
        AccountId[4] memory accounts = _everyone();
        for (uint256 i; i < 4; ++i) seen[i] = vault.cashOf(accounts[i]);
        (uint256 credit, uint256 debt) = (vault.totalCashCredit(), vault.totalCashDebt());
        vault.accrueInterest();
        for (uint256 i; i < 4; ++i) assertEq(vault.cashOf(accounts[i]), seen[i]);
        assertEq(vault.totalCashCredit(), credit);
        assertEq(vault.totalCashDebt(), debt);
        assertEq(vault.cashMarket().lastAccrual, block.timestamp);
    }

    function test_interest_accruesOncePerBlock() public {
        _borrow();
        _setModel(model);
        vm.warp(block.timestamp + 1 days);
        vm.recordLogs();
        vm.startPrank(module);
        vault.moveCash(aliceMain, carolMain, 1e6);
        vault.moveCash(carolMain, aliceMain, 1e6);
        vm.stopPrank();
        vault.accrueInterest();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 accruals;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == ICollateralVault.InterestAccrued.selector) ++accruals;
        }
        assertEq(accruals, 1);
    }

    /// @dev Accrual is a function of time and state only: a stranger's call is the same as a user's.
    function test_accrueInterest_isOpenToAnyone() public {
        _borrow();
        _setModel(model);
        vm.warp(block.timestamp + 30 days);
        int256 bobBefore = vault.cashOf(bobMain);
        vm.prank(makeAddr("stranger"));
        vault.accrueInterest();
        assertEq(vault.cashOf(bobMain), bobBefore);
        assertEq(vault.cashMarket().lastAccrual, block.timestamp);
    }

    function test_interest_isMonotone() public {
        _borrow();
        _setModel(model);
        ICollateralVault.CashMarket memory last = vault.cashMarket();
        for (uint256 i; i < 20; ++i) {
            vm.warp(block.timestamp + 1 + i * 3_000);
            model.setRate((i * TEN_PERCENT) % vault.MAX_RATE_PER_SECOND());
            vault.accrueInterest();
            ICollateralVault.CashMarket memory m = vault.cashMarket();
            assertGe(m.debtIndex, last.debtIndex);
            assertGe(m.supplyIndex, last.supplyIndex);
            last = m;
        }
    }

    function test_reserve_shareOfInterestGoesToTheFund() public {
        _borrow();
        _setModel(model);
        vm.prank(riskManager);
        vm.expectEmit(address(vault));
        emit ICollateralVault.ReserveShareSet(0.2e18);
        vault.setReserveShare(0.2e18);
        vm.warp(block.timestamp + 365 days);
        uint256 interest = uint256(-vault.cashOf(bobMain)) - 600e6;
        uint256 reserve = uint256(vault.cashOf(fund));
        assertApproxEqAbs(reserve, interest / 5, 2);
        // The pending reserve a view shows is what the accrual writes.
        vault.accrueInterest();
        assertEq(uint256(vault.cashOf(fund)), reserve);
        assertGt(vault.cashSharesOf(fund), 0);
        assertGe(int256(usdc.balanceOf(address(vault))), _sum(_everyone()));
    }

    // ------------------------------------------------------------ manipulation

    /// @dev A flash deposit (in and out within a block) cannot lower the rate charged: the rate of
    /// a period is the model's answer at the first touch, on the totals that held since the last.
    function test_flashDepositDoesNotMoveTheRate() public {
        _borrow();
        KinkRateModel kink = new KinkRateModel(KinkRateModel.Params(0.02e18, 0.1e18, 1e18, 0.8e18));
        _setModel(kink);
        vm.warp(block.timestamp + 1 days);
        uint256 snapshot = vm.snapshotState();
        // Without the flash deposit: the rate the next day's accrual charges.
        vault.accrueInterest();
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        uint256 honest = vault.cashMarket().lastRate;
        vm.revertToState(snapshot);
        // With it: the first touch of the block accrues, then a huge deposit and its withdrawal.
        _fundAndDeposit(bob, _account(bob, 9), usdc, 1e12);
        // All of it back but the unit that buying shares above index 1 rounds away.
        uint256 back = uint256(vault.cashOf(_account(bob, 9)));
        assertGe(back, 1e12 - 1);
        vm.prank(bob);
        vault.withdraw(_account(bob, 9), address(usdc), back, bob);
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        // The depositor's leftover dust share may move utilisation by a part in 1e12: a wei of rate.
        assertApproxEqAbs(vault.cashMarket().lastRate, honest, 1, "the flash deposit changed the rate");
    }

    /// @dev Tokens sent to the vault directly are nobody's claim: no balance, total, rate or
    /// share price moves (the indices never read the token balance), so there is no inflation attack.
    function test_donationChangesNoBalanceAndNoRate() public {
        _borrow();
        _setModel(model);
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        bytes memory market = abi.encode(vault.cashMarket());
        int256 aliceCash = vault.cashOf(aliceMain);
        uint256 credit = vault.totalCashCredit();
        usdc.mint(address(this), 1e15);
        usdc.transfer(address(vault), 1e15);
        assertEq(abi.encode(vault.cashMarket()), market);
        assertEq(vault.cashOf(aliceMain), aliceCash);
        assertEq(vault.totalCashCredit(), credit);
        assertEq(vault.borrowRate(), TEN_PERCENT);
        // Nor does it lend liquidity to anyone: withdrawals are bounded by claims, not by tokens.
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICollateralVault.VaultInsufficientBalance.selector,
                aliceMain,
                address(usdc),
                uint256(aliceCash),
                uint256(aliceCash) + 1
            )
        );
        vault.withdraw(aliceMain, address(usdc), uint256(aliceCash) + 1, alice);
    }

    /// @dev While the fund owes (a loss beyond the floor), the reserve goes to the creditors: no
    /// supply shares are added to a debt.
    /// Review r15 F2: the fund never owes on the index after a loss, so the reserve always buys
    /// it supply shares (never added to a debt), and the books stay backed.
    function test_reserve_theFundNeverOwesAfterALoss() public {
        _borrow();
        _setModel(model);
        vm.prank(riskManager);
        vault.setReserveShare(0.2e18);
        vm.prank(module);
        vault.moveCash(fund, carolMain, 5_000e6);
        assertEq(vault.cashSharesOf(fund), 0, "the fund's debt was cleared");
        vm.warp(block.timestamp + 30 days);
        vault.accrueInterest();
        assertGt(vault.cashSharesOf(fund), 0, "the reserve bought shares");
        assertGe(int256(usdc.balanceOf(address(vault))), _sum(_everyone()));
    }

    // ------------------------------------------------------------ a model that fails

    /// @dev Whatever the model does, withdrawals, repayments and module moves go on at the last
    /// good rate, with an event.
    function test_failingModel_neverBlocksAndFallsBackToTheLastGoodRate() public {
        _borrow();
        _setModel(model);
        MockRateModel.Mode[6] memory modes = [
            MockRateModel.Mode.Revert,
            MockRateModel.Mode.Empty,
            MockRateModel.Mode.Short,
            MockRateModel.Mode.Bomb,
            MockRateModel.Mode.Huge,
            MockRateModel.Mode.BurnGas
        ];
        for (uint256 i; i < modes.length; ++i) {
            model.setMode(modes[i]);
            vm.warp(block.timestamp + 1 days);
            uint256 debtIndex = vault.cashMarket().debtIndex;
            // A withdrawal by a creditor, with a generous gas limit.
            vm.expectEmit(address(vault));
            emit ICollateralVault.RateModelFallback(address(model), TEN_PERCENT);
            vm.prank(alice);
            uint256 gasBefore = gasleft();
            vault.withdraw(aliceMain, address(usdc), 1e6, alice);
            assertLt(gasBefore - gasleft(), 200_000, "a failing model costs at most its gas cap");
            ICollateralVault.CashMarket memory m = vault.cashMarket();
            assertEq(m.lastRate, TEN_PERCENT, "still the last good rate");
            assertGt(m.debtIndex, debtIndex, "interest kept accruing at it");
            // A repayment and a module move go through too.
            vm.warp(block.timestamp + 1 hours);
            _fundAndDeposit(bob, bobMain, usdc, 1e6);
            vm.warp(block.timestamp + 1 hours);
            vm.prank(module);
            vault.moveCash(carolMain, bobMain, 1e6);
        }
        // Back to a good answer, the model's rate is used again.
        model.setMode(MockRateModel.Mode.Fixed);
        model.setRate(2 * TEN_PERCENT);
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        assertEq(vault.cashMarket().lastRate, 2 * TEN_PERCENT);
    }

    /// @dev No gas limit makes the vault fall back while the model works: a call the caller
    /// starved either reverts (out of gas, or `VaultRateModelOutOfGas`) or accrues at the model's rate.
    function test_starvingTheModelNeverForcesTheFallback() public {
        _borrow();
        KinkRateModel kink = new KinkRateModel(KinkRateModel.Params(0.02e18, 0.1e18, 1e18, 0.8e18));
        _setModel(kink);
        uint256 expected = kink.borrowRate(vault.totalCashCredit(), vault.totalCashDebt());
        assertGt(expected, 0);
        vm.warp(block.timestamp + 1 days);
        uint256 landed;
        for (uint256 gas = 3_000; gas < 80_000; gas += 250) {
            uint256 snapshot = vm.snapshotState();
            (bool ok, bytes memory reason) = address(vault).call{gas: gas}(
                abi.encodeCall(ICollateralVault.accrueInterest, ())
            );
            if (ok) {
                assertEq(vault.cashMarket().lastRate, expected, "accrued at a rate other than the model's");
                ++landed;
            } else if (reason.length != 0) {
                assertEq(bytes4(reason), ICollateralVault.VaultRateModelOutOfGas.selector);
            }
            vm.revertToState(snapshot);
        }
        assertGt(landed, 0);
    }

    // ------------------------------------------------------------ governance

    function test_setRateModel_badInputChangesNothing() public {
        _borrow();
        _setModel(model);
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        bytes memory before = abi.encode(vault.cashMarket());

        bytes32 adminRole = vault.DEFAULT_ADMIN_ROLE();
        vm.prank(riskManager);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, riskManager, adminRole)
        );
        vault.setRateModel(IRateModel(address(0)));

        address eoa = makeAddr("notAContract");
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultRateModelNotContract.selector, eoa));
        vault.setRateModel(IRateModel(eoa));

        MockRateModel bad = new MockRateModel(0);
        MockRateModel.Mode[4] memory failing = [
            MockRateModel.Mode.Revert,
            MockRateModel.Mode.Empty,
            MockRateModel.Mode.Short,
            MockRateModel.Mode.Bomb
        ];
        for (uint256 i; i < failing.length; ++i) {
            bad.setMode(failing[i]);
            vm.prank(admin);
            vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultRateModelFailed.selector, address(bad)));
            vault.setRateModel(bad);
        }
        bad.setMode(MockRateModel.Mode.Fixed);
        uint256 max = vault.MAX_RATE_PER_SECOND();
        bad.setRate(max + 1);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultRateOutOfRange.selector, max + 1, max));
        vault.setRateModel(bad);
        assertEq(abi.encode(vault.cashMarket()), before, "a refused model changed the market");

        // A good one is taken, with its first answer; zero goes back to the zero rate.
        bad.setRate(max);
        vm.prank(admin);
        vm.expectEmit(address(vault));
        emit ICollateralVault.RateModelSet(address(bad), max);
        vault.setRateModel(bad);
        assertEq(vault.borrowRate(), max);
        _setModel(IRateModel(address(0)));
        assertEq(vault.borrowRate(), 0);
    }

    /// @dev Changing the model charges the time before the change at the old model's rate.
    function test_setRateModel_accruesAtTheOldRateFirst() public {
        _borrow();
        _setModel(model);
        vm.warp(block.timestamp + 365 days);
        int256 owed = vault.cashOf(bobMain);
        _setModel(IRateModel(address(0)));
        assertEq(vault.cashOf(bobMain), owed);
        vm.warp(block.timestamp + 365 days);
        assertEq(vault.cashOf(bobMain), owed, "no interest at the zero rate");
    }

    function test_setReserveShare_boundsRolesAndTheFund() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                admin,
                Roles.RISK_MANAGER_ROLE
            )
        );
        vault.setReserveShare(0.1e18);
        uint256 max = vault.MAX_RESERVE_SHARE();
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidReserveShare.selector, max + 1, max));
        vault.setReserveShare(max + 1);
        vm.prank(riskManager);
        vault.setReserveShare(max);
        assertEq(vault.reserveShareWad(), max);
    }

    function test_setInsuranceAccount_onceByTheAdmin() public {
        assertEq(vault.insuranceAccount(), fund);
        vm.startPrank(admin);
        vm.expectRevert(ICollateralVault.VaultInsuranceAccountAlreadySet.selector);
        vault.setInsuranceAccount(aliceMain);
        vm.stopPrank();
        // A fresh vault needs the account before it can pay a reserve.
        CollateralVault fresh = new CollateralVault(admin, address(usdc), CASH_CAP);
        vm.startPrank(admin);
        fresh.grantRole(Roles.RISK_MANAGER_ROLE, riskManager);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        fresh.setInsuranceAccount(AccountId.wrap(0));
        vm.stopPrank();
        vm.prank(riskManager);
        vm.expectRevert(ICollateralVault.VaultInsuranceAccountNotSet.selector);
        fresh.setReserveShare(0.1e18);
        // Nor a rate model (review rv15e, re-review P3): suppliers earn at most the borrow rate,
        // the excess buys the insurance account shares, and account 0 would strand them. The zero
        // model (no interest) stays allowed.
        vm.startPrank(admin);
        vm.expectRevert(ICollateralVault.VaultInsuranceAccountNotSet.selector);
        fresh.setRateModel(model);
        fresh.setRateModel(IRateModel(address(0)));
        vm.stopPrank();
        assertEq(address(fresh.cashMarket().rateModel), address(0), "no model set");
        bytes32 adminRole = fresh.DEFAULT_ADMIN_ROLE();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, adminRole)
        );
        fresh.setInsuranceAccount(aliceMain);
    }

    /// @dev Only a module moves cash, so only a module's payment out of the fund can socialise a loss.
    function test_onlyAModuleCanSocialiseALoss() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.MODULE_ROLE)
        );
        vault.moveCash(fund, aliceMain, 100e6);
        assertEq(vault.lossSocialized(), 0);
        assertEq(vault.cashMarket().supplyIndex, WAD);
    }

    // ------------------------------------------------------------ losses shared pro rata

    /// @dev The fund holds 100 and pays 400: the 300 it lacks is written off against every
    /// creditor at once, and the payee gets all 400.
    function test_loss_everyCreditorLosesTheSameFraction() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _fundAndDeposit(bob, bobMain, usdc, 2_000e6);
        _fundAndDeposit(alice, fund, usdc, 100e6);
        // The payee, Carol, is a creditor too: her 0 stays 0 before she is paid.
        vm.prank(module);
        vm.expectEmit(address(vault));
        // 300 of 3,000 other supply: the index falls 10 %.
        emit ICollateralVault.LossSocialized(fund, 300e6, 0.9e18);
        vault.moveCash(fund, carolMain, 400e6);
        assertEq(vault.cashOf(aliceMain), 900e6);
        assertEq(vault.cashOf(bobMain), 1_800e6);
        // Paid in full, to the one unit that buying shares at 0.9 rounds away (for the vault).
        int256 paid = vault.cashOf(carolMain);
        assertApproxEqAbs(paid, 400e6, 1);
        assertLe(paid, 400e6);
        assertEq(vault.cashOf(fund), 0);
        assertEq(vault.lossSocialized(), 300e6);
        assertEq(vault.badDebt(), 300e6);
        // Withdrawals stay open, and everyone can leave with what they are owed.
        vm.prank(carol());
        vault.withdraw(carolMain, address(usdc), uint256(paid), carol());
        vm.prank(bob);
        vault.withdraw(bobMain, address(usdc), 1_800e6, bob);
        vm.prank(alice);
        vault.withdraw(aliceMain, address(usdc), 900e6, alice);
        assertLe(usdc.balanceOf(address(vault)), 1, "one unit of dust at most");
    }

    /// @dev No order of withdrawals, before or after the loss, changes any creditor's share of it:
    /// whoever stays bears the same fraction, and after it each leaves with the same amount first
    /// or last.
    function testFuzz_loss_orderOfWithdrawalsIsIrrelevant(
        uint256 a,
        uint256 b,
        uint256 c,
        uint256 early,
        uint256 loss
    ) public {
        a = bound(a, 1e6, 1e15);
        b = bound(b, 1e6, 1e15);
        c = bound(c, 1e6, 1e15);
        AccountId[3] memory creditors = [aliceMain, bobMain, carolMain];
        address[3] memory owners = [alice, bob, carol()];
        uint256[3] memory deposits = [a, b, c];
        for (uint256 i; i < 3; ++i) _fundAndDeposit(owners[i], creditors[i], usdc, deposits[i]);
        // A withdrawal before the loss: that creditor leaves with part of its claim untouched.
        early = bound(early, 0, a);
        if (early != 0) {
            vm.prank(alice);
            vault.withdraw(aliceMain, address(usdc), early, alice);
        }
        uint256 supply = vault.totalCashCredit();
        loss = bound(loss, 1, supply / 2);
        vm.prank(module);
        vault.moveCash(fund, _account(module, 1), loss);
        uint256 index = vault.cashMarket().supplyIndex;
        // Every remaining creditor kept index of its claim.
        uint256[3] memory claims;
        for (uint256 i; i < 3; ++i) {
            uint256 before = i == 0 ? a - early : deposits[i];
            claims[i] = uint256(vault.cashOf(creditors[i]));
            assertEq(claims[i], (before * index) / WAD, "a creditor's share of the loss differs");
        }
        // Withdraw in order 0, 1, 2 and in order 2, 1, 0: each gets its claim either way.
        uint256 snapshot = vm.snapshotState();
        for (uint256 i; i < 3; ++i) _withdrawAll(owners[i], creditors[i], claims[i]);
        vm.revertToState(snapshot);
        for (uint256 i = 3; i > 0; --i) _withdrawAll(owners[i - 1], creditors[i - 1], claims[i - 1]);
    }

    /// Review r15 F2, rv15b B: a loss beyond every claim ends the cash epoch (every claim written off
    /// in full, the index back at 1e18), and the rest is written off again once the payee is
    /// credited, pro rata; the fund owes nothing on the index, so nothing accrues on it.
    function test_loss_beyondTheFloorIsWrittenOffAgainstThePayeeToo() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        vm.prank(module);
        vault.moveCash(fund, carolMain, 5_000e6);
        assertEq(vault.cashEpoch(), 1, "a new epoch");
        assertEq(vault.cashMarket().supplyIndex, 0.2e18, "the payee bears the 4,000 left of 5,000");
        assertEq(vault.cashOf(aliceMain), 0, "alice's claim was written off in full");
        assertEq(vault.cashOf(carolMain), 1_000e6, "carol holds what the tokens back");
        assertEq(vault.cashOf(fund), 0);
        assertEq(vault.badDebt(), vault.lossSocialized() + vault.unabsorbedLoss());
        assertEq(vault.badDebt(), 5_000e6);
        assertGe(int256(usdc.balanceOf(address(vault))), vault.cashOf(aliceMain) + vault.cashOf(carolMain));
    }

    function _withdrawAll(address owner, AccountId account, uint256 claim) internal {
        if (claim == 0) return;
        uint256 before = usdc.balanceOf(owner);
        vm.prank(owner);
        vault.withdraw(account, address(usdc), claim, owner);
        assertEq(usdc.balanceOf(owner) - before, claim);
    }

    function carol() internal returns (address) {
        return makeAddr("carol");
    }

    /// Review r15 F7: no `InterestAccrued` when nothing could accrue (nobody owes).
    function test_noInterestEventWhenNothingAccrues() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        _setModel(model);
        vm.warp(block.timestamp + 1 days);
        vm.recordLogs();
        vault.accrueInterest();
        assertEq(vm.getRecordedLogs().length, 0, "no event for an accrual of nothing");
    }
}
