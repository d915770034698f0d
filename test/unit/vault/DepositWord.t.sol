// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";

/// @notice Issue 19 gas: a collateral deposit reads one word of its asset (the total and a copy of
/// the supply cap that is 0 unless the asset is listed, enabled and the vault unpaused), and sends
/// whatever that word refuses to the full checks for their error. These tests hold the copy to
/// every setter it mirrors, the errors to their old order, and the fast path to a reference model.
contract DepositWordTest is VaultFixture {
    AccountId internal aliceMain;

    function setUp() public override {
        super.setUp();
        aliceMain = _account(alice, 0);
        weth.mint(alice, 1e30);
        wbtc.mint(alice, 1e30);
        vm.startPrank(alice);
        weth.approve(address(vault), type(uint256).max);
        wbtc.approve(address(vault), type(uint256).max);
        vm.stopPrank();
    }

    function _deposit(MockERC20 token, uint256 amount) internal {
        vm.prank(alice);
        vault.deposit(aliceMain, address(token), amount);
    }

    function _expectDepositReverts(MockERC20 token, uint256 amount, bytes memory err) internal {
        vm.prank(alice);
        vm.expectRevert(err);
        vault.deposit(aliceMain, address(token), amount);
    }

    function test_pauseClosesAndUnpauseReopensEveryCollateralAsset() public {
        vm.prank(guardian);
        vault.pause();
        _expectDepositReverts(weth, 1, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        _expectDepositReverts(wbtc, 1, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        vm.prank(guardian);
        vault.unpause();
        _deposit(weth, 1);
        _deposit(wbtc, 1);
    }

    function test_assetListedWhilePausedOpensOnUnpause() public {
        vm.prank(guardian);
        vault.pause();
        MockERC20 link = new MockERC20("Chainlink", "LINK", 18);
        vm.prank(admin);
        vault.listAsset(address(link), 0.2e18, 0.1e18, 1e27);
        link.mint(alice, 1e18);
        vm.prank(alice);
        link.approve(address(vault), 1e18);
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(aliceMain, address(link), 1e18);
        // Configured while paused: still closed.
        vm.prank(riskManager);
        vault.configureAsset(address(link), true, 0.2e18, 0.1e18, 2e27);
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(aliceMain, address(link), 1e18);
        vm.prank(guardian);
        vault.unpause();
        vm.prank(alice);
        vault.deposit(aliceMain, address(link), 1e18);
        assertEq(vault.assetConfig(address(link)).totalSupplied, 1e18);
    }

    function test_disableDelistAndCapFollowTheConfig() public {
        _deposit(weth, 6e18);
        vm.prank(riskManager);
        vault.configureAsset(address(weth), false, 0.1e18, 0.05e18, WETH_CAP);
        _expectDepositReverts(weth, 1, abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, weth));
        vm.prank(riskManager);
        vault.configureAsset(address(weth), true, 0.1e18, 0.05e18, 5e18); // below what is held
        _expectDepositReverts(
            weth,
            1,
            abi.encodeWithSelector(ICollateralVault.VaultSupplyCapExceeded.selector, weth, 6e18 + 1, 5e18)
        );
        vm.prank(riskManager);
        vault.configureAsset(address(weth), true, 0.1e18, 0.05e18, 7e18);
        _deposit(weth, 1e18);
        _expectDepositReverts(
            weth,
            1,
            abi.encodeWithSelector(ICollateralVault.VaultSupplyCapExceeded.selector, weth, 7e18 + 1, 7e18)
        );
        vm.prank(admin);
        vault.delistAsset(address(weth));
        _expectDepositReverts(weth, 1, abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, weth));
        // Unpausing after a delisting does not reopen it.
        vm.startPrank(guardian);
        vault.pause();
        vault.unpause();
        vm.stopPrank();
        _expectDepositReverts(weth, 1, abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, weth));
        assertEq(vault.assetConfig(address(weth)).totalSupplied, 7e18);
    }

    function test_errorsKeepTheirOrder() public {
        vm.prank(guardian);
        vault.pause();
        // Paused comes first, even before a zero amount or an unlisted asset.
        _expectDepositReverts(weth, 0, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(aliceMain, address(0xBEEF), 0);
        vm.prank(guardian);
        vault.unpause();
        // Then the amount, the account, the listing, the caller, the cap.
        vm.prank(alice);
        vm.expectRevert(ICollateralVault.VaultZeroAmount.selector);
        vault.deposit(AccountId.wrap(0), address(0xBEEF), 0);
        vm.prank(alice);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        vault.deposit(AccountId.wrap(0), address(weth), 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, address(0xBEEF)));
        vault.deposit(_account(bob, 0), address(0xBEEF), 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultUnauthorized.selector, _account(bob, 0), alice));
        vault.deposit(_account(bob, 0), address(weth), WETH_CAP + 1);
    }

    function test_capAboveTheTotalsWidthReadsAsNoCap() public {
        MockERC20 big = new MockERC20("Big", "BIG", 18);
        vm.prank(admin);
        vault.listAsset(address(big), 0.5e18, 0.25e18, type(uint256).max);
        assertEq(vault.assetConfig(address(big)).supplyCap, type(uint256).max, "the cap as set");
        uint256 most = type(uint128).max;
        big.mint(alice, most + 1);
        vm.startPrank(alice);
        big.approve(address(vault), type(uint256).max);
        vault.deposit(aliceMain, address(big), most);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAmountTooLarge.selector, 1));
        vault.deposit(aliceMain, address(big), 1);
        vm.stopPrank();
        assertEq(vault.assetConfig(address(big)).totalSupplied, most);
        // A deposit of more than the totals' width is refused before any transfer.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAmountTooLarge.selector, type(uint256).max));
        vault.deposit(_account(alice, 1), address(big), type(uint256).max);
    }

    /// @dev The fast path against the checks it stands for: paused, enabled, the cap (up to the
    /// totals' width), the caller and the amount, in any mix.
    function testFuzz_depositMatchesTheFullChecks(
        bool paused,
        bool enabled,
        bool byOwner,
        uint256 held,
        uint256 cap,
        uint256 amount
    ) public {
        held = bound(held, 0, 1e24);
        if (held != 0) _deposit(weth, held);
        cap = bound(cap, 0, 2e24);
        amount = bound(amount, 0, 2e24);
        vm.prank(riskManager);
        vault.configureAsset(address(weth), enabled, 0.1e18, 0.05e18, cap);
        if (paused) {
            vm.prank(guardian);
            vault.pause();
        }
        address caller = byOwner ? alice : bob;
        weth.mint(bob, amount);
        vm.prank(bob);
        weth.approve(address(vault), amount);

        bytes memory err;
        if (paused) err = abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        else if (amount == 0) err = abi.encodeWithSelector(ICollateralVault.VaultZeroAmount.selector);
        else if (!enabled) err = abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, weth);
        else if (!byOwner) {
            err = abi.encodeWithSelector(ICollateralVault.VaultUnauthorized.selector, aliceMain, bob);
        } else if (held + amount > cap) {
            err = abi.encodeWithSelector(ICollateralVault.VaultSupplyCapExceeded.selector, weth, held + amount, cap);
        }
        vm.prank(caller);
        if (err.length != 0) vm.expectRevert(err);
        vault.deposit(aliceMain, address(weth), amount);
        assertEq(vault.assetConfig(address(weth)).totalSupplied, err.length == 0 ? held + amount : held);
        assertEq(vault.collateralOf(aliceMain, address(weth)), err.length == 0 ? held + amount : held);
    }
}
