// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockRateModel} from "../../../contracts/mocks/MockRateModel.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice Review of issue 15: measures rounding drift over many tiny cash operations at indices
/// away from 1 (user-chosen amounts designed to round in the user's favour). Passes if the dust
/// always favours the vault; logs the dust per operation.
contract CashReviewR15DustTest is VaultFixture {
    AccountId internal a;
    AccountId internal b;
    AccountId internal fund;

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        a = _account(alice, 0);
        b = _account(bob, 0);
        fund = _account(makeAddr("fund"), 0);
        vm.startPrank(admin);
        vault.setInsuranceAccount(fund);
        vault.setRateModel(new MockRateModel(uint256(5e18) / 365 days));
        vm.stopPrank();
        _fundAndDeposit(alice, a, usdc, 1_000_000e6);
        vm.prank(module);
        vault.moveCash(b, fund, 900_000e6); // bob borrows at 90 % utilisation, 500 %/yr
        vm.warp(block.timestamp + 97 days); // indices well away from 1 (debt ~x3.8)
        vault.accrueInterest();
    }

    function testFuzz_manyTinyOpsNeverFavourTheUser(uint256 seed) public {
        usdc.mint(alice, 1e12);
        vm.prank(alice);
        usdc.approve(address(vault), type(uint256).max);
        uint256 ops;
        for (uint256 i; i < 150; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            uint256 amt = 1 + (seed % 7);
            if (seed % 5 == 0) vm.warp(block.timestamp + 1 + (seed % 100));
            if (seed % 3 == 0) {
                vm.prank(alice);
                vault.deposit(a, address(usdc), amt);
            } else if (seed % 3 == 1) {
                vm.prank(alice);
                vault.withdraw(a, address(usdc), amt, alice);
            } else {
                vm.prank(module);
                if (seed % 2 == 0) vault.moveCash(a, b, amt);
                else vault.moveCash(b, a, amt);
            }
            ++ops;
            int256 claims = vault.cashOf(a) + vault.cashOf(b) + vault.cashOf(fund);
            int256 held = int256(usdc.balanceOf(address(vault)));
            assertGe(held, claims, "tokens cover claims");
        }
        int256 dust = int256(usdc.balanceOf(address(vault))) - (vault.cashOf(a) + vault.cashOf(b) + vault.cashOf(fund));
        emit log_named_int("dust (units) after 150 ops", dust);
    }
}
