// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CollateralVault} from "../../../contracts/vault/CollateralVault.sol";
import {ICollateralVault} from "../../../contracts/interfaces/ICollateralVault.sol";
import {CashIndex} from "../../../contracts/libraries/CashIndex.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice Review rv15b (regressions). A: a loss held apart (`unabsorbedLoss` > 0) leaves claims
/// no token backs, so while it is there a cash deposit may not create or raise a claim (it would be
/// theirs to withdraw first-come); repayments, the insurance account, `repayUnabsorbedLoss`,
/// withdrawals and collateral stay open. C: a cash asset above `MAX_CASH_ASSET_DECIMALS` is refused, since
/// 104-bit share totals at the floors would cap its cash below a plausible supply.
contract CashReviewRV15bLossTest is VaultFixture {
    AccountId internal aliceMain;
    AccountId internal bobMain;
    AccountId internal carolMain;
    AccountId internal daveMain;
    AccountId internal fund;
    AccountId internal settlement;
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");

    function setUp() public override {
        super.setUp();
        vm.warp(1_767_225_600);
        aliceMain = _account(alice, 0);
        bobMain = _account(bob, 0);
        carolMain = _account(carol, 0);
        daveMain = _account(dave, 0);
        fund = _account(makeAddr("insuranceFund"), 0);
        settlement = _account(makeAddr("market"), 0);
        vm.startPrank(admin);
        vault.setInsuranceAccount(fund);
        vault.setSettlementAccount(settlement);
        vm.stopPrank();
    }

    /// @dev The review's path: Carol (short) is settled first and owes 3,000 to the settlement
    /// account; the empty fund absorbs her debt; the whole loss is held apart (its counter-claim is
    /// outside the index); then Bob's long is paid 3,000, a claim no token backs.
    function _lossAgainstTheSettlementAccount() internal {
        vm.startPrank(module);
        vault.moveCash(carolMain, settlement, 3_000e6);
        vault.moveCash(fund, carolMain, 3_000e6);
        vault.moveCash(settlement, bobMain, 3_000e6);
        vm.stopPrank();
        assertEq(vault.unabsorbedLoss(), 3_000e6, "the whole loss is held apart");
        assertEq(vault.cashOf(bobMain), 3_000e6, "bob's claim");
    }

    function _deposit(address from, AccountId account, address token, uint256 amount) internal {
        MockERC20(token).mint(from, amount);
        vm.startPrank(from);
        MockERC20(token).approve(address(vault), amount);
        vault.deposit(account, token, amount);
        vm.stopPrank();
    }

    function _expectDepositRefused(AccountId account, uint256 amount) internal {
        usdc.mint(dave, amount);
        vm.startPrank(dave);
        usdc.approve(address(vault), amount);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultLossHeldApart.selector, vault.unabsorbedLoss()));
        vault.deposit(account, address(usdc), amount);
        vm.stopPrank();
    }

    /// A (review's repro): Dave's deposit can no longer be taken by Bob's unbacked claim: it is refused.
    function test_A_newcomersDepositIsRefusedWhileALossIsHeldApart() public {
        _lossAgainstTheSettlementAccount();
        _expectDepositRefused(daveMain, 100e6);
        // A top-up of an account that already holds a claim raises it: refused too.
        _expectDepositRefused(bobMain, 1);
        // Nothing arrived, so Bob has nothing to take.
        assertEq(vault.cashLiquidity(), 0);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInsufficientLiquidity.selector, 0, 1e6));
        vault.withdraw(bobMain, address(usdc), 1e6, bob);
    }

    /// A: a debtor may repay up to its whole debt; a payment beyond it (a new claim) is refused whole.
    function test_A_aDebtorMayRepayButNotBuyAClaim() public {
        _lossAgainstTheSettlementAccount();
        vm.prank(module);
        vault.moveCash(daveMain, aliceMain, 500e6);
        _expectDepositRefused(aliceMain, 1);
        _expectDepositRefused(daveMain, 500e6 + 1);
        _deposit(dave, daveMain, address(usdc), 200e6);
        assertEq(vault.cashOf(daveMain), -300e6, "part repaid");
        _deposit(dave, daveMain, address(usdc), 300e6);
        assertEq(vault.cashOf(daveMain), 0, "all repaid");
        _expectDepositRefused(daveMain, 1);
    }

    /// A: recapitalisation stays open (the insurance account, the settlement account,
    /// `repayUnabsorbedLoss`), so do collateral deposits and withdrawals; repaying the loss in full
    /// reopens cash deposits, and a newcomer's deposit is then withdrawable in full.
    function test_A_recapitalisationReopensDeposits() public {
        _lossAgainstTheSettlementAccount();
        _deposit(alice, aliceMain, address(weth), 1e18);
        assertEq(vault.collateralOf(aliceMain, address(weth)), 1e18, "collateral is unaffected");
        _deposit(alice, fund, address(usdc), 1_000e6);
        assertEq(vault.cashOf(fund), 1_000e6, "the insurance account may be topped up");
        _deposit(alice, settlement, address(usdc), 1e6);
        // Bob withdraws what there is: withdrawals stay open.
        vm.prank(bob);
        vault.withdraw(bobMain, address(usdc), 1_001e6, bob);
        // Recapitalise: deposits reopen once the loss is repaid in full, not before.
        usdc.mint(alice, 3_000e6);
        vm.startPrank(alice);
        usdc.approve(address(vault), 3_000e6);
        vault.repayUnabsorbedLoss(2_999e6);
        vm.stopPrank();
        _expectDepositRefused(daveMain, 100e6);
        vm.prank(alice);
        vault.repayUnabsorbedLoss(1e6);
        assertEq(vault.unabsorbedLoss(), 0, "repaid");
        uint256 daveBefore = usdc.balanceOf(dave);
        _deposit(dave, daveMain, address(usdc), 100e6);
        // Bob takes the rest of his claim, and Dave still gets his own deposit back.
        uint256 bobHeld = uint256(vault.cashOf(bobMain));
        vm.prank(bob);
        vault.withdraw(bobMain, address(usdc), bobHeld, bob);
        assertEq(usdc.balanceOf(bob), 3_000e6, "bob paid in full, after the recapitalisation");
        vm.prank(dave);
        vault.withdraw(daveMain, address(usdc), 100e6, dave);
        assertEq(usdc.balanceOf(dave), daveBefore + 100e6, "dave got his deposit back");
    }

    /// A, with B: after a loss to `LAST_SUPPLY_INDEX` a later loss is held apart whole, and deposits
    /// close then too, rather than let the first to withdraw leave whole (docs/cash.md "Residuals").
    function test_A_afterTheLastFloorALaterLossClosesDeposits() public {
        _deposit(alice, aliceMain, address(usdc), 10e6);
        vm.startPrank(module);
        vault.moveCash(carolMain, settlement, 3_000e6);
        vault.moveCash(fund, carolMain, 3_000e6);
        vm.stopPrank();
        assertEq(vault.cashMarket().supplyIndex, CashIndex.LAST_SUPPLY_INDEX, "pinned at the last floor");
        _expectDepositRefused(daveMain, 1_000e6);
    }

    /// C: the constructor refuses a cash asset above `MAX_CASH_ASSET_DECIMALS`.
    function test_C_cashAboveEightDecimalsIsRefused() public {
        MockERC20 dai = new MockERC20("Dai", "DAI", 18);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidDecimals.selector, address(dai), 18));
        new CollateralVault(admin, address(dai), type(uint256).max);
        MockERC20 nine = new MockERC20("Nine", "NINE", 9);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.VaultInvalidDecimals.selector, address(nine), 9));
        new CollateralVault(admin, address(nine), type(uint256).max);
    }

    /// C: at the bound, 100 billion tokens still fit the share totals at `LAST_SUPPLY_INDEX`.
    function test_C_eightDecimalCashHoldsAHundredBillionAtTheLastFloor() public {
        MockERC20 eight = new MockERC20("Eight", "EIGHT", 8);
        CollateralVault v = new CollateralVault(admin, address(eight), type(uint256).max);
        assertEq(v.MAX_CASH_ASSET_DECIMALS(), 8);
        vm.startPrank(admin);
        v.grantRole(Roles.MODULE_ROLE, module);
        v.setInsuranceAccount(fund);
        v.setSettlementAccount(settlement);
        vm.stopPrank();
        eight.mint(alice, 10e8);
        vm.startPrank(alice);
        eight.approve(address(v), 10e8);
        v.deposit(aliceMain, address(eight), 10e8);
        vm.stopPrank();
        vm.startPrank(module);
        v.moveCash(carolMain, settlement, 3_000e8);
        v.moveCash(fund, carolMain, 3_000e8);
        assertEq(v.cashMarket().supplyIndex, CashIndex.LAST_SUPPLY_INDEX, "pinned at the last floor");
        v.moveCash(bobMain, daveMain, 100e9 * 1e8);
        vm.stopPrank();
        assertEq(v.cashOf(daveMain), int256(100e9 * 1e8), "a hundred billion tokens credited");
    }
}
