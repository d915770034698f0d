// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IBackstop} from "../interfaces/IBackstop.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {ILiquidator} from "../interfaces/ILiquidator.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title Backstop
/// @notice The steps after the auction: latent insolvency made visible, bare debts covered at par,
/// and (issue 16) the waterfall for auctions nobody bid on. Kept apart from the Liquidator so each
/// stays well under EIP-170. It holds MODULE_ROLE in the vault; it never holds funds itself.
contract Backstop is IBackstop, AccessControl, ReentrancyGuard {
    /// @inheritdoc IBackstop
    ICollateralVault public immutable vault;
    /// @inheritdoc IBackstop
    IMarginEngine public immutable engine;
    /// @inheritdoc IBackstop
    IOptionMarket public immutable market;
    /// @inheritdoc IBackstop
    ILiquidator public immutable liquidator;
    /// @inheritdoc IBackstop
    AccountId public immutable insuranceAccount;

    constructor(
        address admin,
        ICollateralVault vault_,
        IMarginEngine engine_,
        IOptionMarket market_,
        ILiquidator liquidator_
    ) {
        if (
            admin == address(0) ||
            address(vault_) == address(0) ||
            address(engine_) == address(0) ||
            address(market_) == address(0) ||
            address(liquidator_) == address(0)
        ) revert BackstopZeroAddress();
        vault = vault_;
        engine = engine_;
        market = market_;
        liquidator = liquidator_;
        insuranceAccount = liquidator_.insuranceAccount();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- actions

    /// @inheritdoc IBackstop
    function absorbDebt(AccountId account) external nonReentrant {
        _checkNotProtected(account);
        int256 cash = vault.cashOf(account);
        if (cash >= 0 || !_holdsNothing(account)) revert BackstopNotAnEmptyDebtor(account);
        uint256 debt = uint256(-cash);
        _payFromInsurance(account, debt);
        emit DebtAbsorbed(account, debt);
        // Interaction last: the account now holds exactly nothing (cash 0), so it is not below
        // maintenance and the liquidator's permissionless `terminateAuction` ends its auction
        // (`AuctionEnded(account, false)`). Without it, the next deposit's hook or a keeper would.
        if (liquidator.auctionOf(account).active) liquidator.terminateAuction(account);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IBackstop
    function latentInsolvency(AccountId[] calldata accounts) external view returns (LatentInsolvency memory r) {
        (AccountId settlement, AccountId fee) = (market.settlementAccount(), market.feeAccount());
        Shortfall[] memory list = new Shortfall[](accounts.length);
        AccountId[] memory unpriced = new AccountId[](accounts.length);
        uint256 count;
        uint256 unpricedCount;
        for (uint256 i; i < accounts.length; ++i) {
            AccountId account = accounts[i];
            if (account == insuranceAccount || account == settlement || account == fee) continue;
            uint256 gasBefore = gasleft();
            try engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
                if (state.equityMM < 0) {
                    uint256 shortfall = uint256(-state.equityMM);
                    list[count++] = Shortfall(account, shortfall);
                    r.totalShortfallWad += shortfall;
                }
            } catch {
                // Out of gas leaves at most 1/64 of what the call had: that is the caller's
                // budget, not the account's prices, so revert and let the caller split the list.
                if (gasleft() <= gasBefore / 63) revert BackstopOutOfGas(account);
                unpriced[unpricedCount++] = account;
            }
        }
        // Shrinks both lists to what was found: only their length words change, inside memory
        // this function allocated, so it stays memory-safe.
        assembly ("memory-safe") {
            mstore(list, count)
            mstore(unpriced, unpricedCount)
        }
        r.count = count;
        r.accounts = list;
        r.unpriced = unpriced;
    }

    /// @inheritdoc IBackstop
    function badDebt() public view returns (uint256) {
        return vault.badDebt();
    }

    // ---------------------------------------------------------------- internal

    /// @dev The protocol's own accounts take no backstop step (`BackstopProtectedAccount`).
    function _checkNotProtected(AccountId account) private view {
        if (account == insuranceAccount || account == market.settlementAccount() || account == market.feeAccount()) {
            revert BackstopProtectedAccount(account);
        }
    }

    /// @dev Whether the account holds no collateral and no position (cash aside).
    function _holdsNothing(AccountId account) private view returns (bool) {
        (uint256[] memory balances, ) = vault.balancesOf(account);
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] != 0) return false;
        }
        (SeriesId[] memory seriesIds, ) = market.positionsOf(account);
        return seriesIds.length == 0;
    }

    /// @dev The insurance fund pays `account` `amount` cash units; what it did not hold becomes bad debt.
    function _payFromInsurance(AccountId account, uint256 amount) private {
        int256 held = vault.cashOf(insuranceAccount);
        vault.moveCash(insuranceAccount, account, amount);
        uint256 covered = held > 0 ? uint256(held) : 0;
        if (amount > covered) emit BadDebtIncurred(account, amount - covered, badDebt());
    }
}
