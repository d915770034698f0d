// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {IRiskCheck} from "../../../contracts/interfaces/IRiskCheck.sol";
import {CollateralVault} from "../../../contracts/vault/CollateralVault.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {MockFeeOnTransferToken} from "../../../contracts/mocks/MockFeeOnTransferToken.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @dev A risk check that refuses a chosen account, to prove the hook is consulted.
contract RefusingRiskCheck is IRiskCheck {
    error Refused(AccountId account);
    AccountId public refused;

    function refuse(AccountId account) external {
        refused = account;
    }

    function checkWithdrawal(AccountId account) external view {
        if (account == refused) revert Refused(account);
    }
}

contract CollateralVaultTest is VaultFixture {
    AccountId internal aliceMain;
    AccountId internal aliceSub;
    AccountId internal bobMain;

    function setUp() public override {
        super.setUp();
        aliceMain = _account(alice, 0);
        aliceSub = _account(alice, 7);
        bobMain = _account(bob, 0);
    }

    // ------------------------------------------------------------ accounts

    function test_accountIdPacksOwnerAndSubId() public view {
        assertEq(AccountId.unwrap(aliceSub) >> 96, uint256(uint160(alice)));
        assertEq(uint96(AccountId.unwrap(aliceSub)), 7);
        assertTrue(vault.isAuthorized(aliceSub, alice));
        assertFalse(vault.isAuthorized(aliceSub, bob));
    }

    function test_operatorApprovalCoversEverySubaccount() public {
        vm.expectEmit(address(vault));
        emit ICollateralVault.OperatorSet(alice, bob, true);
        vm.prank(alice);
        vault.setOperator(bob, true);
        assertTrue(vault.isAuthorized(aliceMain, bob));
        assertTrue(vault.isAuthorized(aliceSub, bob));
        vm.prank(alice);
        vault.setOperator(bob, false);
        assertFalse(vault.isAuthorized(aliceSub, bob));
    }

    function test_setOperator_revertsOnZeroAddress() public {
        vm.prank(alice);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        vault.setOperator(address(0), true);
    }

    // ------------------------------------------------------------ deposit

    function test_depositCollateral() public {
        weth.mint(bob, 5e18);
        vm.startPrank(bob);
        weth.approve(address(vault), 5e18);
        // Only the owner or an operator may add non-cash collateral (finding 12).
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultUnauthorized.selector, aliceMain, bob));
        vault.deposit(aliceMain, address(weth), 5e18);
        vm.stopPrank();
        vm.prank(alice);
        vault.setOperator(bob, true);
        vm.startPrank(bob);
        vm.expectEmit(address(vault));
        emit ICollateralVault.Deposited(aliceMain, address(weth), bob, 5e18);
        vault.deposit(aliceMain, address(weth), 5e18);
        vm.stopPrank();
        assertEq(vault.collateralOf(aliceMain, address(weth)), 5e18);
        assertEq(vault.assetConfig(address(weth)).totalSupplied, 5e18);
        assertEq(weth.balanceOf(address(vault)), 5e18);
    }

    function test_depositCashIsSigned() public {
        _fundAndDeposit(alice, aliceMain, usdc, 1_000e6);
        assertEq(vault.cashOf(aliceMain), 1_000e6);
        assertEq(vault.totalCashCredit(), 1_000e6);
        (uint256[] memory collateral, int256 cash) = vault.balancesOf(aliceMain);
        assertEq(collateral.length, 2);
        assertEq(cash, 1_000e6);
    }

    function test_deposit_revertsOnZeroAmount() public {
        vm.expectRevert(ICollateralVault.VaultZeroAmount.selector);
        vault.deposit(aliceMain, address(weth), 0);
    }

    function test_deposit_revertsOnZeroAccount() public {
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        vault.deposit(AccountId.wrap(0), address(weth), 1);
    }

    function test_deposit_revertsOnUnlistedAsset() public {
        MockERC20 other = new MockERC20("Other", "OTH", 18);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, address(other)));
        vault.deposit(aliceMain, address(other), 1);
    }

    function test_deposit_revertsWhenDisabled() public {
        vm.prank(riskManager);
        vault.configureAsset(address(weth), false, 0.1e18, 0.05e18, WETH_CAP);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetDisabled.selector, address(weth)));
        vault.deposit(aliceMain, address(weth), 1);
    }

    function test_deposit_revertsOverCap() public {
        vm.prank(riskManager);
        vault.configureAsset(address(weth), true, 0.1e18, 0.05e18, 10e18);
        _fundAndDeposit(alice, aliceMain, weth, 6e18);
        weth.mint(alice, 5e18);
        vm.startPrank(alice);
        weth.approve(address(vault), 5e18);
        vm.expectRevert(
            abi.encodeWithSelector(ICollateralVault.VaultSupplyCapExceeded.selector, address(weth), 11e18, 10e18)
        );
        vault.deposit(aliceMain, address(weth), 5e18);
        vm.stopPrank();
        assertEq(vault.collateralOf(aliceMain, address(weth)), 6e18);
    }

    function test_deposit_cashCapCountsTokensOnHand() public {
        vm.prank(riskManager);
        vault.configureAsset(address(usdc), true, 0, 0, 100e6);
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        usdc.mint(alice, 1);
        vm.startPrank(alice);
        usdc.approve(address(vault), 1);
        vm.expectRevert(
            abi.encodeWithSelector(ICollateralVault.VaultSupplyCapExceeded.selector, address(usdc), 100e6 + 1, 100e6)
        );
        vault.deposit(aliceMain, address(usdc), 1);
        vm.stopPrank();
    }

    function test_deposit_refusesFeeOnTransferToken() public {
        MockFeeOnTransferToken fot = new MockFeeOnTransferToken();
        vm.prank(admin);
        vault.listAsset(address(fot), 0.5e18, 0.25e18, type(uint256).max);
        fot.mint(alice, 100e18);
        vm.startPrank(alice);
        fot.approve(address(vault), 100e18);
        vm.expectRevert(
            abi.encodeWithSelector(ICollateralVault.VaultTransferAmountMismatch.selector, address(fot), 100e18, 99e18)
        );
        vault.deposit(aliceMain, address(fot), 100e18);
        vm.stopPrank();
        assertEq(fot.balanceOf(alice), 100e18);
        assertEq(vault.collateralOf(aliceMain, address(fot)), 0);
    }

    function test_deposit_revertsWhenPaused() public {
        vm.prank(guardian);
        vault.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(aliceMain, address(weth), 1);
    }

    function test_depositWithPermit() public {
        (address signer, uint256 key) = makeAddrAndKey("permitSigner");
        AccountId account = _account(signer, 1);
        usdc.mint(signer, 50e6);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = _permitDigest(usdc, signer, 50e6, usdc.nonces(signer), deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        // Someone front-runs the permit: the deposit still goes through on the allowance.
        usdc.permit(signer, address(vault), 50e6, deadline, v, r, s);
        vm.prank(signer);
        vault.depositWithPermit(account, address(usdc), 50e6, deadline, v, r, s);
        assertEq(vault.cashOf(account), 50e6);
    }

    function test_depositWithPermit_badPermitAndNoAllowanceReverts() public {
        usdc.mint(alice, 50e6);
        vm.prank(alice);
        vm.expectRevert(); // ERC20InsufficientAllowance from the token
        vault.depositWithPermit(aliceMain, address(usdc), 50e6, block.timestamp, 27, bytes32(0), bytes32(0));
        assertEq(usdc.balanceOf(alice), 50e6);
    }

    // ------------------------------------------------------------ withdraw

    function test_withdrawCollateralByOwnerAndOperator() public {
        _fundAndDeposit(alice, aliceMain, weth, 10e18);
        vm.prank(alice);
        vault.withdraw(aliceMain, address(weth), 4e18, alice);
        vm.prank(alice);
        vault.setOperator(bob, true);
        vm.expectEmit(address(vault));
        emit ICollateralVault.Withdrawn(aliceMain, address(weth), bob, 1e18);
        vm.prank(bob);
        vault.withdraw(aliceMain, address(weth), 1e18, bob);
        assertEq(weth.balanceOf(alice), 4e18);
        assertEq(weth.balanceOf(bob), 1e18);
        assertEq(vault.collateralOf(aliceMain, address(weth)), 5e18);
        assertEq(vault.assetConfig(address(weth)).totalSupplied, 5e18);
    }

    function test_withdraw_revertsForStranger() public {
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultUnauthorized.selector, aliceMain, bob));
        vault.withdraw(aliceMain, address(weth), 1e18, bob);
    }

    function test_withdraw_revertsOverBalance() public {
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICollateralVault.VaultInsufficientBalance.selector,
                aliceMain,
                address(weth),
                1e18,
                1e18 + 1
            )
        );
        vault.withdraw(aliceMain, address(weth), 1e18 + 1, alice);
    }

    function test_withdraw_revertsOnBadInput() public {
        vm.startPrank(alice);
        vm.expectRevert(ICollateralVault.VaultZeroAmount.selector);
        vault.withdraw(aliceMain, address(weth), 0, alice);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        vault.withdraw(aliceMain, address(weth), 1, address(0));
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, address(0xdead)));
        vault.withdraw(aliceMain, address(0xdead), 1, alice);
        vm.stopPrank();
    }

    function test_withdraw_worksWhenPausedOrDisabled() public {
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        vm.prank(guardian);
        vault.pause();
        vm.prank(riskManager);
        vault.configureAsset(address(weth), false, 0.1e18, 0.05e18, 0);
        vm.prank(alice);
        vault.withdraw(aliceMain, address(weth), 1e18, alice);
        assertEq(weth.balanceOf(alice), 1e18);
    }

    function test_withdraw_debtorCannotWithdrawWithoutRiskCheck() public {
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        _fundAndDeposit(bob, bobMain, usdc, 100e6);
        vm.prank(module);
        vault.moveCash(aliceMain, bobMain, 10e6);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultCashDebt.selector, aliceMain, int256(-10e6)));
        vault.withdraw(aliceMain, address(weth), 1e18, alice);
    }

    function test_withdraw_cashLimitedByLiquidity() public {
        _fundAndDeposit(alice, aliceMain, usdc, 100e6);
        _fundAndDeposit(bob, bobMain, weth, 1e18);
        // Bob owes Alice 50: Alice holds a claim of 150 but the vault has 100 tokens.
        vm.prank(module);
        vault.moveCash(bobMain, aliceMain, 50e6);
        assertEq(vault.cashOf(aliceMain), 150e6);
        assertEq(vault.totalCashDebt(), 50e6);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInsufficientLiquidity.selector, 100e6, 150e6));
        vault.withdraw(aliceMain, address(usdc), 150e6, alice);
        vm.prank(alice);
        vault.withdraw(aliceMain, address(usdc), 100e6, alice);
        assertEq(usdc.balanceOf(address(vault)), 0);
        assertEq(vault.cashOf(aliceMain), 50e6);
    }

    function test_withdraw_consultsRiskCheck() public {
        RefusingRiskCheck check = new RefusingRiskCheck();
        vm.prank(admin);
        vault.setRiskCheck(check);
        _fundAndDeposit(alice, aliceMain, weth, 2e18);
        check.refuse(aliceMain);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RefusingRiskCheck.Refused.selector, aliceMain));
        vault.withdraw(aliceMain, address(weth), 1e18, alice);
        assertEq(vault.collateralOf(aliceMain, address(weth)), 2e18);
        check.refuse(AccountId.wrap(0));
        vm.prank(alice);
        vault.withdraw(aliceMain, address(weth), 1e18, alice);
    }

    function test_setRiskCheck_onceAndAdminOnly() public {
        RefusingRiskCheck check = new RefusingRiskCheck();
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, bytes32(0))
        );
        vault.setRiskCheck(check);
        vm.startPrank(admin);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        vault.setRiskCheck(IRiskCheck(address(0)));
        vault.setRiskCheck(check);
        vm.expectRevert(ICollateralVault.VaultRiskCheckAlreadySet.selector);
        vault.setRiskCheck(check);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ modules

    function test_moduleMovesValue() public {
        _fundAndDeposit(alice, aliceMain, weth, 3e18);
        vm.startPrank(module);
        vault.moveCollateral(aliceMain, bobMain, address(weth), 1e18);
        vm.expectEmit(address(vault));
        emit ICollateralVault.CashMoved(aliceMain, bobMain, 7e6);
        vault.moveCash(aliceMain, bobMain, 7e6);
        vm.stopPrank();
        assertEq(vault.collateralOf(bobMain, address(weth)), 1e18);
        assertEq(vault.cashOf(aliceMain), -7e6);
        assertEq(vault.cashOf(bobMain), 7e6);
        assertEq(vault.totalCashCredit() - vault.totalCashDebt(), 0);
    }

    function test_moduleMoves_revertOnBadInput() public {
        _fundAndDeposit(alice, aliceMain, weth, 1e18);
        vm.startPrank(module);
        vm.expectRevert(ICollateralVault.VaultZeroAmount.selector);
        vault.moveCash(aliceMain, bobMain, 0);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultSelfTransfer.selector, aliceMain));
        vault.moveCash(aliceMain, aliceMain, 1);
        uint256 tooLarge = vault.MAX_AMOUNT() + 1;
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAmountTooLarge.selector, tooLarge));
        vault.moveCash(aliceMain, bobMain, tooLarge);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICollateralVault.VaultInsufficientBalance.selector,
                aliceMain,
                address(weth),
                1e18,
                2e18
            )
        );
        vault.moveCollateral(aliceMain, bobMain, address(weth), 2e18);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetNotListed.selector, address(usdc)));
        vault.moveCollateral(aliceMain, bobMain, address(usdc), 1);
        vm.stopPrank();
    }

    function test_moduleMoves_onlyModules() public {
        bytes memory err = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            alice,
            Roles.MODULE_ROLE
        );
        vm.startPrank(alice);
        vm.expectRevert(err);
        vault.moveCash(bobMain, aliceMain, 1);
        vm.expectRevert(err);
        vault.moveCollateral(bobMain, aliceMain, address(weth), 1);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ governance

    function test_listAsset_boundsAndRoles() public {
        MockERC20 token = new MockERC20("T", "T", 18);
        vm.prank(riskManager);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, riskManager, bytes32(0))
        );
        vault.listAsset(address(token), 0.1e18, 0.05e18, 1);
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidHaircuts.selector, 0.1e18, 0.2e18));
        vault.listAsset(address(token), 0.1e18, 0.2e18, 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidHaircuts.selector, 0.95e18, 0.1e18));
        vault.listAsset(address(token), 0.95e18, 0.1e18, 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultAssetAlreadyListed.selector, address(weth)));
        vault.listAsset(address(weth), 0.1e18, 0.05e18, 1);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        vault.listAsset(address(0), 0.1e18, 0.05e18, 1);
        MockERC20 weird = new MockERC20("W", "W", 40);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidDecimals.selector, address(weird), 40));
        vault.listAsset(address(weird), 0.1e18, 0.05e18, 1);
        vm.stopPrank();
    }

    function test_listAsset_capsTheAssetCount() public {
        vm.startPrank(admin);
        for (uint256 i = vault.collateralAssets().length; i < vault.MAX_COLLATERAL_ASSETS(); ++i) {
            vault.listAsset(address(new MockERC20("T", "T", 18)), 0.1e18, 0.05e18, 1);
        }
        address extra = address(new MockERC20("X", "X", 18));
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultTooManyAssets.selector, 8));
        vault.listAsset(extra, 0.1e18, 0.05e18, 1);
        vm.stopPrank();
    }

    function test_configureAsset_cashHaircutMustStayZero() public {
        vm.prank(riskManager);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidHaircuts.selector, 1, 0));
        vault.configureAsset(address(usdc), true, 1, 0, CASH_CAP);
    }

    function test_configureAsset_emitsAndStores() public {
        vm.expectEmit(address(vault));
        emit ICollateralVault.AssetConfigured(address(wbtc), true, 0.2e18, 0.1e18, 5e8);
        vm.prank(riskManager);
        vault.configureAsset(address(wbtc), true, 0.2e18, 0.1e18, 5e8);
        ICollateralVault.AssetConfig memory config = vault.assetConfig(address(wbtc));
        assertEq(config.initialHaircutWad, 0.2e18);
        assertEq(config.maintenanceHaircutWad, 0.1e18);
        assertEq(config.supplyCap, 5e8);
        assertEq(config.decimals, 8);
    }

    function test_pause_guardianOnly() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.GUARDIAN_ROLE)
        );
        vault.pause();
        vm.startPrank(guardian);
        vault.pause();
        vault.unpause();
        vm.stopPrank();
        _fundAndDeposit(alice, aliceMain, weth, 1);
    }

    function test_constructor_rejectsZeroAddresses() public {
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        new CollateralVault(address(0), address(usdc), 1);
        vm.expectRevert(ICollateralVault.VaultZeroAddress.selector);
        new CollateralVault(admin, address(0), 1);
    }

    // ------------------------------------------------------------ fuzz

    /// @dev Deposit then withdraw any amount: balances and tokens come back exactly.
    function testFuzz_depositWithdrawRoundTrip(uint96 subId, uint256 amount, uint256 withdrawn) public {
        amount = bound(amount, 1, WETH_CAP);
        withdrawn = bound(withdrawn, 1, amount);
        AccountId account = _account(alice, subId);
        _fundAndDeposit(alice, account, weth, amount);
        vm.prank(alice);
        vault.withdraw(account, address(weth), withdrawn, alice);
        assertEq(vault.collateralOf(account, address(weth)), amount - withdrawn);
        assertEq(weth.balanceOf(alice), withdrawn);
        assertEq(weth.balanceOf(address(vault)), amount - withdrawn);
        assertEq(vault.assetConfig(address(weth)).totalSupplied, amount - withdrawn);
    }

    /// @dev A withdrawal above the balance always fails and changes nothing.
    function testFuzz_overWithdrawFailsAndChangesNothing(uint256 amount, uint256 extra) public {
        amount = bound(amount, 1, CASH_CAP / 2);
        extra = bound(extra, 1, CASH_CAP / 2);
        _fundAndDeposit(alice, aliceMain, usdc, amount);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICollateralVault.VaultInsufficientBalance.selector,
                aliceMain,
                address(usdc),
                amount,
                amount + extra
            )
        );
        vault.withdraw(aliceMain, address(usdc), amount + extra, alice);
        assertEq(vault.cashOf(aliceMain), int256(amount));
        assertEq(usdc.balanceOf(address(vault)), amount);
    }

    /// @dev Module cash moves keep credit − debt equal to the tokens held. Share totals are packed
    /// in 104 bits (`CashIndex.MAX_INDEX`): half of that per move keeps every total within it.
    function testFuzz_cashMovesReconcile(uint256 deposited, uint256 moved, uint256 back) public {
        deposited = bound(deposited, 1, CASH_CAP);
        moved = bound(moved, 1, type(uint104).max / 2);
        back = bound(back, 1, type(uint104).max / 2);
        _fundAndDeposit(alice, aliceMain, usdc, deposited);
        vm.startPrank(module);
        vault.moveCash(aliceMain, bobMain, moved);
        vault.moveCash(bobMain, aliceMain, back);
        vm.stopPrank();
        assertEq(vault.cashOf(aliceMain) + vault.cashOf(bobMain), int256(deposited));
        assertEq(vault.totalCashCredit() - vault.totalCashDebt(), usdc.balanceOf(address(vault)));
    }

    function _permitDigest(
        MockERC20 token,
        address owner,
        uint256 value,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                address(vault),
                value,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }
}
