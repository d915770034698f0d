// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IAccountHook} from "../../../contracts/interfaces/IAccountHook.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";

/// @dev Counts the calls the vault makes to the account hook.
contract CountingHook is IAccountHook {
    uint256 public calls;

    function onAccountChanged(AccountId) external {
        ++calls;
    }
}

/// @notice Issue 15 gas: a deposit calls the account hook only for an account the liquidator
/// marked when it opened an auction (`markAuctioned`); the mark never changes a balance.
contract AuctionMarkTest is VaultFixture {
    CountingHook internal hook;
    AccountId internal aliceMain;

    function setUp() public override {
        super.setUp();
        hook = new CountingHook();
        vm.prank(admin);
        vault.setAccountHook(hook);
        aliceMain = _account(alice, 0);
    }

    function test_depositCallsTheHookOnlyForAMarkedAccount() public {
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        assertEq(hook.calls(), 0, "never auctioned: no call");
        vm.prank(module);
        vault.markAuctioned(aliceMain);
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        assertEq(hook.calls(), 2, "marked: every deposit calls it");
    }

    /// @notice `moveCash` reports each side's mark (the market skips the account hook for an
    /// unmarked side of a fill), before and after the payer's mark, in both directions.
    function test_moveCash_reportsBothMarks() public {
        AccountId bobMain = _account(bob, 0);
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        vm.startPrank(module);
        (bool fromMarked, bool toMarked, ) = vault.moveCash(aliceMain, bobMain, 10e6);
        assertFalse(fromMarked || toMarked, "neither marked");
        vault.markAuctioned(aliceMain);
        (fromMarked, toMarked, ) = vault.moveCash(aliceMain, bobMain, 10e6);
        assertTrue(fromMarked, "the payer's mark");
        assertFalse(toMarked, "the payee is not marked");
        (fromMarked, toMarked, ) = vault.moveCash(bobMain, aliceMain, 5e6);
        assertFalse(fromMarked, "the payer is not marked");
        assertTrue(toMarked, "the payee's mark");
        vm.stopPrank();
    }

    function test_markAuctioned_onlyModulesOnceAndBalancesUnchanged() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.MODULE_ROLE)
        );
        vault.markAuctioned(aliceMain);

        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        vm.startPrank(module);
        vault.markAuctioned(aliceMain);
        vault.markAuctioned(aliceMain); // a second mark changes nothing
        assertEq(vault.cashSharesOf(aliceMain), 100e6);
        // Into debt and back under the mark: shares and totals as without it.
        vault.moveCash(aliceMain, _account(bob, 0), 150e6);
        assertEq(vault.cashOf(aliceMain), -50e6);
        assertEq(vault.cashSharesOf(aliceMain), -50e6);
        assertEq(vault.totalCashDebt(), 50e6);
        vault.moveCash(_account(bob, 0), aliceMain, 50e6);
        vm.stopPrank();
        assertEq(vault.cashOf(aliceMain), 0);
        assertEq(vault.totalCashDebt(), 0);
        assertEq(vault.totalCashCredit(), 100e6);
        // The mark outlives a zero balance.
        _fundAndDeposit(alice, aliceMain, usdc, 1e6);
        assertEq(hook.calls(), 1);
        // A marked account that owes cash is still refused a withdrawal without a risk check.
        vm.prank(module);
        vault.moveCash(aliceMain, _account(bob, 0), 2e6);
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert();
        vault.withdraw(aliceMain, address(weth), 1e18, alice);
    }

    function test_pause_ownBitKeepsPausableAbi() public {
        vm.prank(guardian);
        vault.pause();
        assertTrue(vault.paused());
        vm.prank(guardian);
        vm.expectRevert(CollateralVaultErrors.EnforcedPause.selector);
        vault.pause();
        usdc.mint(alice, 1e6);
        vm.startPrank(alice);
        usdc.approve(address(vault), 1e6);
        vm.expectRevert(CollateralVaultErrors.EnforcedPause.selector);
        vault.deposit(aliceMain, address(usdc), 1e6);
        vm.stopPrank();
        vm.prank(guardian);
        vault.unpause();
        assertFalse(vault.paused());
        vm.prank(guardian);
        vm.expectRevert(CollateralVaultErrors.ExpectedPause.selector);
        vault.unpause();
    }
}

/// @dev The pause errors' selectors, as OpenZeppelin's `Pausable` declares them.
interface CollateralVaultErrors {
    error EnforcedPause();
    error ExpectedPause();
}
