// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MockReentrantToken} from "../../../contracts/mocks/MockReentrantToken.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice The audit checklist's reentrancy line (`docs/security.md`): a listed token that
/// calls back into the vault in the middle of a transfer finds every entry point locked, so
/// a deposit cannot be credited twice and a withdrawal cannot be taken twice.
contract ReentrancyTest is VaultFixture {
    MockReentrantToken internal evil;
    AccountId internal aliceMain;

    function setUp() public override {
        super.setUp();
        evil = new MockReentrantToken();
        vm.prank(admin);
        vault.listAsset(address(evil), 0.1e18, 0.05e18, type(uint128).max);
        aliceMain = _account(alice, 0);
        evil.mint(alice, 100e18);
        vm.startPrank(alice);
        evil.approve(address(vault), type(uint256).max);
        vault.deposit(aliceMain, address(evil), 10e18);
        vm.stopPrank();
    }

    function test_depositCannotReenterWithdraw() public {
        evil.arm(address(vault), abi.encodeCall(vault.withdraw, (aliceMain, address(evil), 10e18, alice)));
        vm.prank(alice);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vault.deposit(aliceMain, address(evil), 1e18);
        assertEq(vault.collateralOf(aliceMain, address(evil)), 10e18);
    }

    function test_withdrawCannotReenterWithdraw() public {
        evil.arm(address(vault), abi.encodeCall(vault.withdraw, (aliceMain, address(evil), 5e18, alice)));
        vm.prank(alice);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vault.withdraw(aliceMain, address(evil), 5e18, alice);
        assertEq(vault.collateralOf(aliceMain, address(evil)), 10e18);
        assertEq(evil.balanceOf(address(vault)), 10e18);
    }

    function test_withdrawCannotReenterDeposit() public {
        evil.arm(address(vault), abi.encodeCall(vault.deposit, (aliceMain, address(evil), 1e18)));
        vm.prank(alice);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vault.withdraw(aliceMain, address(evil), 5e18, alice);
    }

    /// Review r15 F5: `accrueInterest` is locked too, so a token's callback cannot accrue a second
    /// time from a stale state in the middle of a deposit.
    function test_depositCannotReenterAccrueInterest() public {
        evil.arm(address(vault), abi.encodeCall(vault.accrueInterest, ()));
        vm.prank(alice);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vault.deposit(aliceMain, address(evil), 1e18);
    }
}
