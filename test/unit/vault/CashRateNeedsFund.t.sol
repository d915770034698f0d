// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IRateModel} from "../../../contracts/interfaces/IRateModel.sol";
import {KinkRateModel} from "../../../contracts/rates/KinkRateModel.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";

/// @notice setRateModel needs the insurance account (rv15e re-review P3; review rv15r). Regression:
/// the original stranding replayed, and any order of setters never credits account 0.
contract CashRateNeedsFundTest is VaultFixture {
    AccountId internal constant ZERO = AccountId.wrap(0);
    AccountId internal aliceMain;
    AccountId internal bobMain;
    AccountId internal fund;
    AccountId internal settlement;
    IRateModel internal kink;

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        aliceMain = _account(alice, 0);
        bobMain = _account(bob, 0);
        fund = _account(makeAddr("insuranceFund"), 0);
        settlement = _account(makeAddr("market"), 0);
        kink = IRateModel(address(new KinkRateModel(KinkRateModel.Params(0.02e18, 0.1e18, 1e18, 0.8e18))));
        // The settlement account only: no insurance account yet (the rv15e re-review F1 setting).
        vm.prank(admin);
        vault.setSettlementAccount(settlement);
    }

    function _debtBeyondSupply() internal {
        _fundAndDeposit(alice, aliceMain, usdc, 10e6);
        vm.prank(module);
        vault.moveCash(bobMain, settlement, 1_000_000e6);
    }

    /// The F1 repro, replayed: the model is refused, the zero model accepted; nothing accrues and
    /// account 0 gets nothing; once the fund is set the cap's excess goes to it, never to account 0.
    function test_modelRefusedUntilTheFund_thenExcessToTheFund() public {
        _debtBeyondSupply();
        vm.startPrank(admin);
        vm.expectRevert(ICollateralVault.VaultInsuranceAccountNotSet.selector);
        vault.setRateModel(kink);
        vault.setRateModel(IRateModel(address(0)));
        vm.stopPrank();
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        assertEq(vault.cashSharesOf(ZERO), 0, "nothing to account 0");
        assertEq(vault.cashMarket().debtIndex, 1e18, "no interest without a model");

        vm.startPrank(admin);
        vault.setInsuranceAccount(fund);
        vault.setRateModel(kink);
        vm.stopPrank();
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        assertEq(vault.cashSharesOf(ZERO), 0, "still nothing to account 0");
        assertGt(vault.cashOf(fund), 3_000e6, "the cap's excess buys the fund shares");
        // Switching the model off stays possible (liveness), and so does a new one.
        vm.startPrank(admin);
        vault.setRateModel(IRateModel(address(0)));
        vault.setRateModel(kink);
        vm.stopPrank();
    }

    /// Any order of the admin's and risk manager's cash setters keeps "a model ⇒ a fund", and
    /// account 0 never holds a share.
    function testFuzz_anyOrderOfSettersNeverCreditsAccountZero(uint8[8] calldata ops) public {
        _debtBeyondSupply();
        for (uint256 i; i < ops.length; ++i) {
            uint8 op = ops[i] % 5;
            if (op == 0) {
                vm.prank(admin);
                try vault.setInsuranceAccount(fund) {} catch {}
            } else if (op == 1) {
                vm.prank(admin);
                try vault.setRateModel(kink) {} catch {}
            } else if (op == 2) {
                vm.prank(admin);
                vault.setRateModel(IRateModel(address(0))); // never refused
            } else if (op == 3) {
                vm.prank(riskManager);
                try vault.setReserveShare(0.1e18) {} catch {}
            } else {
                vm.warp(block.timestamp + 1 days);
                vault.accrueInterest();
            }
            if (address(vault.cashMarket().rateModel) != address(0)) {
                assertFalse(vault.insuranceAccount().isZero(), "a model runs only with a fund");
            }
            assertEq(vault.cashSharesOf(ZERO), 0, "account 0 holds no share");
        }
        vm.warp(block.timestamp + 1 days);
        vault.accrueInterest();
        assertEq(vault.cashSharesOf(ZERO), 0, "account 0 holds no share");
    }
}
