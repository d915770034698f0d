// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {VaultFixture} from "../helpers/VaultFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";

/// @notice Drives the vault with bounded random deposits, withdrawals and module moves
/// across a small population of owners and subaccounts. It holds MODULE_ROLE.
contract VaultHandler is Test {
    CollateralVault internal immutable vault;
    MockERC20[3] internal tokens;
    address[3] internal owners;
    AccountId[6] public accounts;

    /// @notice Tokens minted into the system per token index: all that can ever exist.
    uint256[3] public minted;
    uint256 public failedWithdrawals;
    /// @notice Withdrawals that succeeded from an account owing cash: must stay zero.
    uint256 public debtorWithdrawals;

    constructor(CollateralVault vault_, MockERC20 usdc, MockERC20 weth, MockERC20 wbtc) {
        vault = vault_;
        tokens = [usdc, weth, wbtc];
        owners = [makeAddr("owner0"), makeAddr("owner1"), makeAddr("owner2")];
        for (uint256 i; i < 6; ++i) {
            accounts[i] = AccountLib.accountId(owners[i % 3], uint96(i / 3));
        }
    }

    function deposit(uint256 accountSeed, uint256 tokenSeed, uint256 amount) external {
        AccountId account = accounts[accountSeed % 6];
        uint256 t = tokenSeed % 3;
        amount = bound(amount, 1, 1e30);
        address holder = AccountLib.ownerOf(account);
        tokens[t].mint(holder, amount);
        minted[t] += amount;
        vm.startPrank(holder);
        tokens[t].approve(address(vault), amount);
        vault.deposit(account, address(tokens[t]), amount);
        vm.stopPrank();
    }

    function withdraw(uint256 accountSeed, uint256 tokenSeed, uint256 amount) external {
        AccountId account = accounts[accountSeed % 6];
        uint256 t = tokenSeed % 3;
        address holder = AccountLib.ownerOf(account);
        uint256 balance = t == 0 ? _positive(vault.cashOf(account)) : vault.collateralOf(account, address(tokens[t]));
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(holder);
        // Debtors and illiquid cash withdrawals are refused; those refusals are expected.
        bool inDebt = vault.cashOf(account) < 0;
        try vault.withdraw(account, address(tokens[t]), amount, holder) {
            if (inDebt) ++debtorWithdrawals;
        } catch {
            ++failedWithdrawals;
        }
    }

    function moveCash(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        AccountId from = accounts[fromSeed % 6];
        AccountId to = accounts[toSeed % 6];
        if (from == to) return;
        amount = bound(amount, 1, 1e24);
        vault.moveCash(from, to, amount);
    }

    function moveCollateral(uint256 fromSeed, uint256 toSeed, uint256 tokenSeed, uint256 amount) external {
        AccountId from = accounts[fromSeed % 6];
        AccountId to = accounts[toSeed % 6];
        address asset = address(tokens[1 + (tokenSeed % 2)]);
        uint256 balance = vault.collateralOf(from, asset);
        if (from == to || balance == 0) return;
        vault.moveCollateral(from, to, asset, bound(amount, 1, balance));
    }

    function token(uint256 i) external view returns (MockERC20) {
        return tokens[i];
    }

    function owner(uint256 i) external view returns (address) {
        return owners[i];
    }

    function _positive(int256 x) private pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }
}

contract CollateralVaultInvariantTest is VaultFixture {
    VaultHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new VaultHandler(vault, usdc, weth, wbtc);
        vm.startPrank(admin);
        vault.grantRole(Roles.MODULE_ROLE, address(handler));
        vm.stopPrank();
        vm.startPrank(riskManager);
        vault.configureAsset(address(usdc), true, 0, 0, type(uint256).max);
        vault.configureAsset(address(weth), true, 0.1e18, 0.05e18, type(uint256).max);
        vault.configureAsset(address(wbtc), true, 0.12e18, 0.06e18, type(uint256).max);
        vm.stopPrank();
        targetContract(address(handler));
    }

    /// @dev Collateral tokens held equal the sum of account balances, and the tracked total.
    function invariant_collateralReconciles() public view {
        for (uint256 t = 1; t < 3; ++t) {
            address asset = address(handler.token(t));
            uint256 sum;
            for (uint256 i; i < 6; ++i) {
                sum += vault.collateralOf(handler.accounts(i), asset);
            }
            assertEq(handler.token(t).balanceOf(address(vault)), sum, "tokens != sum of balances");
            assertEq(vault.assetConfig(asset).totalSupplied, sum, "totalSupplied drifted");
        }
    }

    /// @dev `balancesOf`, which every margin check reads, reports every collateral balance as
    /// `collateralOf` does: the vault's mask of assets held (`_held`) never hides a balance.
    function invariant_balancesOfReportsEveryBalance() public view {
        for (uint256 i; i < 6; ++i) _assertBalancesReported(handler.accounts(i));
    }

    /// @dev Cash tokens held equal the sum of signed cash balances, to the wei.
    function invariant_cashReconciles() public view {
        int256 sum;
        uint256 credit;
        uint256 debt;
        for (uint256 i; i < 6; ++i) {
            int256 cash = vault.cashOf(handler.accounts(i));
            sum += cash;
            if (cash > 0) credit += uint256(cash);
            else debt += uint256(-cash);
        }
        assertEq(int256(usdc.balanceOf(address(vault))), sum, "cash tokens != signed sum");
        assertEq(vault.totalCashCredit(), credit, "credit total drifted");
        assertEq(vault.totalCashDebt(), debt, "debt total drifted");
    }

    /// @dev No sequence of actions creates value: every token is in a wallet or the vault.
    function invariant_noValueCreated() public view {
        for (uint256 t; t < 3; ++t) {
            MockERC20 tok = handler.token(t);
            uint256 held = tok.balanceOf(address(vault));
            for (uint256 o; o < 3; ++o) {
                held += tok.balanceOf(handler.owner(o));
            }
            assertEq(held, handler.minted(t), "value created or lost");
            assertEq(tok.totalSupply(), handler.minted(t), "supply drift");
        }
    }

    /// @dev An account that owes cash never got tokens out while owing (collateral-only rule).
    function invariant_debtorsNeverWithdraw() public view {
        assertEq(handler.debtorWithdrawals(), 0, "a debtor withdrew");
    }
}
