// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {KinkRateModel} from "../../../contracts/rates/KinkRateModel.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

contract KinkRateModelTest is VaultFixture {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant YEAR = 365 days;

    KinkRateModel internal model;

    function setUp() public override {
        super.setUp();
        model = new KinkRateModel(_params(0.02e18, 0.1e18, 1e18, 0.8e18));
        // A rate model needs the insurance account first (it takes the interest past the cap).
        vm.prank(admin);
        vault.setInsuranceAccount(_account(makeAddr("insurance"), 0));
    }

    function _params(
        uint256 base,
        uint256 slope1,
        uint256 slope2,
        uint256 kink
    ) internal pure returns (KinkRateModel.Params memory) {
        return KinkRateModel.Params(uint64(base), uint64(slope1), uint64(slope2), uint64(kink));
    }

    function test_curve() public view {
        // 2 % at zero, 12 % at the 80 % kink, 112 % when fully used, linear in between.
        assertEq(model.borrowRatePerYear(1_000e6, 0), 0.02e18);
        assertEq(model.borrowRatePerYear(1_000e6, 400e6), 0.07e18);
        assertEq(model.borrowRatePerYear(1_000e6, 800e6), 0.12e18);
        assertEq(model.borrowRatePerYear(1_000e6, 900e6), 0.62e18);
        assertEq(model.borrowRatePerYear(1_000e6, 1_000e6), 1.12e18);
        // Debt with nothing supplied is full utilisation, never a division by zero.
        assertEq(model.borrowRatePerYear(0, 1), 1.12e18);
        assertEq(model.borrowRatePerYear(0, 0), 0.02e18);
        assertEq(model.borrowRate(1_000e6, 800e6), uint256(0.12e18) / YEAR);
    }

    /// @dev The rate never falls as utilisation rises, and never passes the vault's cap.
    function testFuzz_monotoneAndCapped(
        uint64 base,
        uint64 slope1,
        uint64 slope2,
        uint64 kink,
        uint128 supply,
        uint128 debtA,
        uint128 debtB
    ) public {
        kink = uint64(bound(kink, model.MIN_KINK(), model.MAX_KINK()));
        base = uint64(bound(base, 0, 5e18));
        slope1 = uint64(bound(slope1, 0, 5e18 - base));
        slope2 = uint64(bound(slope2, 0, 5e18 - base - slope1));
        KinkRateModel fuzzed = new KinkRateModel(KinkRateModel.Params(base, slope1, slope2, kink));
        (uint128 low, uint128 high) = debtA <= debtB ? (debtA, debtB) : (debtB, debtA);
        assertLe(fuzzed.borrowRate(supply, low), fuzzed.borrowRate(supply, high));
        assertLe(fuzzed.borrowRate(supply, high), vault.MAX_RATE_PER_SECOND());
    }

    /// @dev Parameters are bounded and fixed at construction, with their event: a change is a new
    /// model (issue 15 item 2), set by the timelocked admin on the vault.
    function test_constructor_boundedAndEmitted() public {
        KinkRateModel.Params[3] memory bad = [
            _params(0, 0.1e18, 1e18, 0.04e18), // kink below 5 %
            _params(0, 0.1e18, 1e18, 0.995e18), // kink above 99 %
            _params(1e18, 2e18, 2.1e18, 0.8e18) // 510 % at full use
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(KinkRateModel.RateModelInvalidParams.selector, bad[i]));
            new KinkRateModel(bad[i]);
        }
        KinkRateModel.Params memory good = _params(0, 0.05e18, 0.5e18, 0.9e18);
        vm.expectEmit(false, false, false, true);
        emit KinkRateModel.RateParamsSet(good);
        KinkRateModel fresh = new KinkRateModel(good);
        assertEq(abi.encode(fresh.params()), abi.encode(good));
    }

    /// @dev New parameters price only the time after them: setting the new model on the vault
    /// accrues at the old one first.
    function test_newModel_accruesTheVaultFirst() public {
        AccountId lender = _account(alice, 0);
        _fundAndDeposit(alice, lender, usdc, 1_000e6);
        vm.prank(module);
        vault.moveCash(_account(bob, 0), _account(bob, 1), 500e6);
        vm.prank(admin);
        vault.setRateModel(model);
        uint256 oldRate = vault.borrowRate();
        vm.warp(block.timestamp + 30 days);
        int256 owed = vault.cashOf(_account(bob, 0));
        KinkRateModel steeper = new KinkRateModel(_params(0.5e18, 1e18, 3e18, 0.5e18));
        vm.prank(admin);
        vault.setRateModel(steeper);
        ICollateralVault.CashMarket memory m = vault.cashMarket();
        assertEq(m.lastAccrual, block.timestamp);
        assertEq(address(m.rateModel), address(steeper));
        assertEq(vault.cashOf(_account(bob, 0)), owed, "the past was priced at the old parameters");
        assertGt(vault.borrowRate(), oldRate);
    }
}
