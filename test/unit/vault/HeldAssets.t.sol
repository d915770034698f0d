// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {VaultFixture} from "../../helpers/VaultFixture.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";

/// @notice The vault's per-account mask of collateral held (`CollateralVault._held`, session 42):
/// `balancesOf`, which every margin check reads, reads only the balances whose bit is set. A bit
/// left clear over a balance would hide that collateral from every check (the account read under
/// margin and liquidated with collateral it holds); a bit left set only costs a read. So every
/// write of a balance must keep its bit in step: a first deposit, a withdrawal to zero, and both
/// sides of a module's `moveCollateral`, on any asset, including one listed after the accounts
/// traded. These tests compare `balancesOf` with `collateralOf`, which reads the balance itself.
contract HeldAssetsTest is VaultFixture {
    AccountId internal a;
    AccountId internal b;
    AccountId internal c;

    function setUp() public override {
        super.setUp();
        a = _account(alice, 0);
        b = _account(bob, 0);
        c = _account(alice, 1);
    }

    function test_firstDepositIsReportedAndAWithdrawalToZeroClearsIt() public {
        _fundAndDeposit(alice, a, wbtc, 3e8);
        _assertBalancesReported(a);
        assertEq(_reported(a, 1), 3e8);
        assertEq(_reported(a, 0), 0);
        // A top-up and a partial withdrawal keep it; the whole balance withdrawn reads 0.
        _fundAndDeposit(alice, a, wbtc, 1e8);
        vm.prank(alice);
        vault.withdraw(a, address(wbtc), 1, alice);
        assertEq(_reported(a, 1), 4e8 - 1);
        vm.prank(alice);
        vault.withdraw(a, address(wbtc), 4e8 - 1, alice);
        assertEq(_reported(a, 1), 0);
        _assertBalancesReported(a);
        // Deposited again after reaching zero: reported again.
        _fundAndDeposit(alice, a, wbtc, 5);
        assertEq(_reported(a, 1), 5);
    }

    function test_moveCollateralReportsBothSides() public {
        _fundAndDeposit(alice, a, weth, 3e18);
        vm.startPrank(module);
        // Part of it: both hold WETH. Then the rest: only the payee does.
        vault.moveCollateral(a, b, address(weth), 1e18);
        assertEq(_reported(a, 0), 2e18);
        assertEq(_reported(b, 0), 1e18);
        vault.moveCollateral(a, b, address(weth), 2e18);
        vm.stopPrank();
        assertEq(_reported(a, 0), 0);
        assertEq(_reported(b, 0), 3e18);
        _assertBalancesReported(a);
        _assertBalancesReported(b);
    }

    function test_anAssetListedLaterIsReportedAtItsPlace() public {
        _fundAndDeposit(alice, a, weth, 1e18);
        // Fill the vault's eight collateral places; the last one takes the mask's top bit.
        MockERC20 last;
        vm.startPrank(admin);
        for (uint256 i; i < 6; ++i) {
            last = new MockERC20("T", "T", 18);
            vault.listAsset(address(last), 0.1e18, 0.05e18, type(uint128).max);
        }
        vm.stopPrank();
        _fundAndDeposit(alice, a, last, 7);
        (uint256[] memory collateral, ) = vault.balancesOf(a);
        assertEq(collateral.length, 8);
        assertEq(collateral[0], 1e18);
        assertEq(collateral[7], 7);
        _assertBalancesReported(a);
        vm.prank(module);
        vault.moveCollateral(a, b, address(last), 7);
        _assertBalancesReported(a);
        _assertBalancesReported(b);
        assertEq(_reported(b, 7), 7);
    }

    function test_aDelistedAssetIsStillReported() public {
        _fundAndDeposit(alice, a, weth, 2e18);
        vm.prank(admin);
        vault.delistAsset(address(weth));
        // Delisting leaves the balance and its place: the engine values it at 0, the owner withdraws it.
        assertEq(_reported(a, 0), 2e18);
        vm.prank(alice);
        vault.withdraw(a, address(weth), 2e18, alice);
        assertEq(_reported(a, 0), 0);
    }

    /// @dev Random deposits, withdrawals and moves over three accounts and both assets, each
    /// followed by the comparison of every account's `balancesOf` with `collateralOf`.
    function testFuzz_balancesOfMatchesEveryBalance(uint256 seed) public {
        AccountId[3] memory accounts = [a, b, c];
        for (uint256 step; step < 24; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            AccountId from = accounts[seed % 3];
            AccountId to = accounts[(seed >> 8) % 3];
            MockERC20 token = (seed >> 16) % 2 == 0 ? weth : wbtc;
            uint256 held = vault.collateralOf(from, address(token));
            // Whole or part: a third of the actions take the whole balance, so bits clear often.
            uint256 amount = (seed >> 24) % 3 == 0 ? held : 1 + ((seed >> 32) % 1e12);
            uint256 action = (seed >> 96) % 3;
            if (action == 0 || held == 0) {
                _fundAndDeposit(_ownerOf(from), from, token, 1 + ((seed >> 32) % 1e12));
            } else if (action == 1) {
                vm.prank(_ownerOf(from));
                vault.withdraw(from, address(token), amount > held ? held : amount, _ownerOf(from));
            } else if (!(from == to)) {
                vm.prank(module);
                vault.moveCollateral(from, to, address(token), amount > held ? held : amount);
            }
            for (uint256 i; i < 3; ++i) _assertBalancesReported(accounts[i]);
        }
    }

    function _reported(AccountId account, uint256 place) private view returns (uint256) {
        (uint256[] memory collateral, ) = vault.balancesOf(account);
        return collateral[place];
    }

    function _ownerOf(AccountId account) private view returns (address) {
        return account == b ? bob : alice;
    }
}
