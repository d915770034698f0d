// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice A vault with USDC (6 decimals) as cash, WETH (18) and WBTC (8) listed at the
/// DESIGN.md starting haircuts, and roles split over distinct addresses.
abstract contract VaultFixture is Test {
    address internal admin = makeAddr("admin");
    address internal riskManager = makeAddr("riskManager");
    address internal guardian = makeAddr("guardian");
    address internal module = makeAddr("module");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    CollateralVault internal vault;
    MockERC20 internal usdc;
    MockERC20 internal weth;
    MockERC20 internal wbtc;

    uint256 internal constant CASH_CAP = 1e12 * 1e6;
    uint256 internal constant WETH_CAP = 1e9 * 1e18;
    uint256 internal constant WBTC_CAP = 1e7 * 1e8;

    function setUp() public virtual {
        usdc = new MockERC20("USD Coin", "USDC", 6);
        weth = new MockERC20("Wrapped Ether", "WETH", 18);
        wbtc = new MockERC20("Wrapped Bitcoin", "WBTC", 8);
        vault = new CollateralVault(admin, address(usdc), CASH_CAP);
        vm.startPrank(admin);
        vault.grantRole(Roles.RISK_MANAGER_ROLE, riskManager);
        vault.grantRole(Roles.GUARDIAN_ROLE, guardian);
        vault.grantRole(Roles.MODULE_ROLE, module);
        vault.listAsset(address(weth), 0.10e18, 0.05e18, WETH_CAP);
        vault.listAsset(address(wbtc), 0.12e18, 0.06e18, WBTC_CAP);
        vm.stopPrank();
    }

    function _account(address owner, uint96 subId) internal pure returns (AccountId) {
        return AccountLib.accountId(owner, subId);
    }

    /// @dev `assertEq` for the id value types (forge-std knows only their underlying `uint256`).
    function assertEq(AccountId left, AccountId right) internal pure {
        assertEq(AccountId.unwrap(left), AccountId.unwrap(right));
    }

    function assertEq(AccountId left, AccountId right, string memory err) internal pure {
        assertEq(AccountId.unwrap(left), AccountId.unwrap(right), err);
    }

    function assertEq(SeriesId left, SeriesId right) internal pure {
        assertEq(SeriesId.unwrap(left), SeriesId.unwrap(right));
    }

    function assertEq(SeriesId left, SeriesId right, string memory err) internal pure {
        assertEq(SeriesId.unwrap(left), SeriesId.unwrap(right), err);
    }

    /// @dev `balancesOf`, which every margin check reads, reports one balance per collateral asset,
    /// each as `collateralOf` reads it: the vault's mask of assets held (`_held`) hides none.
    function _assertBalancesReported(AccountId account) internal view {
        (uint256[] memory reported, ) = vault.balancesOf(account);
        address[] memory assets = vault.collateralAssets();
        assertEq(reported.length, assets.length, "one balance per asset");
        for (uint256 i; i < assets.length; ++i) {
            assertEq(reported[i], vault.collateralOf(account, assets[i]), "balancesOf hides or invents a balance");
        }
    }

    function _fundAndDeposit(address owner, AccountId account, MockERC20 token, uint256 amount) internal {
        token.mint(owner, amount);
        vm.startPrank(owner);
        token.approve(address(vault), amount);
        vault.deposit(account, address(token), amount);
        vm.stopPrank();
    }
}
