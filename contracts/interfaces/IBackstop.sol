// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "./ICollateralVault.sol";
import {ILiquidator} from "./ILiquidator.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {IOptionMarket} from "./IOptionMarket.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title IBackstop
/// @notice What happens to a loss the auctions did not clear (issue 16): it shows the latent
/// insolvency the auctions have not realised yet, and has the insurance fund cover a bare cash
/// debt at par (`absorbDebt`). The waterfall after an unbid auction (fund takeover at the
/// bankruptcy price within a budget, then auto-deleveraging) belongs here too. Every step refuses
/// the protocol's own accounts and accounts its condition does not hold for, with a specific error,
/// and announces what it moved. It holds MODULE_ROLE in the vault; it never holds funds itself and
/// needs nothing from the liquidator but its public entry points.
interface IBackstop {
    /// @notice One account with maintenance equity below zero.
    /// @param account The account.
    /// @param shortfallWad `−equityMM`, WAD (USD): what the insurance fund would owe if the account
    /// were closed at its maintenance value now.
    struct Shortfall {
        AccountId account;
        uint256 shortfallWad;
    }

    /// @notice The latent insolvency among a list of accounts.
    /// @param count How many of them have maintenance equity below zero (`accounts.length`).
    /// @param totalShortfallWad The sum of their shortfalls, WAD.
    /// @param accounts Those accounts, in the order given, each with its shortfall.
    /// @param unpriced The accounts whose margin could not be valued (the engine reverted: a price
    /// one of their positions needs is stale, out of bounds or unreadable), in the order given;
    /// neither counted nor hidden.
    struct LatentInsolvency {
        uint256 count;
        uint256 totalShortfallWad;
        Shortfall[] accounts;
        AccountId[] unpriced;
    }

    // ---------------------------------------------------------------- errors

    error BackstopZeroAddress();
    /// @notice The insurance, settlement and fee accounts are the protocol's own: no backstop step
    /// acts on them (covering the insurance account's debt from itself would be a no-op that
    /// hides bad debt; the settlement account's debt is a transient of settlement order).
    error BackstopProtectedAccount(AccountId account);
    /// @notice `absorbDebt` needs an account with nothing left but a cash debt (no collateral, no
    /// position, cash below zero); anything else is auctioned.
    error BackstopNotAnEmptyDebtor(AccountId account);
    /// @notice `latentInsolvency` ran out of gas valuing `account`: the call's budget, not the
    /// account's prices, failed, so it reverts rather than list the account as unpriced. Read
    /// fewer accounts per call (the SDK's `getLatentInsolvency` splits the chunk).
    error BackstopOutOfGas(AccountId account);

    // ---------------------------------------------------------------- events

    /// @notice The insurance fund covered `account`'s bare cash debt of `amount` cash units at par.
    /// When an auction ran on the account, the Liquidator's `AuctionEnded(account, false)` follows
    /// in the same transaction: with this event before it, it means emptied, not restored.
    event DebtAbsorbed(AccountId indexed account, uint256 amount);
    /// @notice The insurance fund paid more than it held: `amount` cash units of new bad debt
    /// (the same event as `ILiquidator.BadDebtIncurred`, from another address: a consumer of bad
    /// debt increments watches both).
    event BadDebtIncurred(AccountId indexed account, uint256 amount, uint256 totalBadDebt);

    // ---------------------------------------------------------------- actions

    /// @notice Covers the cash debt of an account that holds nothing else (no collateral, no
    /// position) from the insurance fund, at par: there is nothing to auction, so no bidder earns
    /// a discount on it. What the fund cannot cover becomes bad debt (`BadDebtIncurred`). An
    /// auction still open on the account is then ended through the liquidator's permissionless
    /// `terminateAuction` (the account, emptied of its debt, is no longer below maintenance), so
    /// the liquidator needs no entry point for the backstop. Permissionless.
    function absorbDebt(AccountId account) external;

    // ---------------------------------------------------------------- views

    /// @notice The accounts among `accounts` whose maintenance equity is below zero, each with its
    /// shortfall, their count and the total. Each account is valued on its own
    /// (`engine.accountMargin` in a `try`, as the liquidator's `onAccountChanged` does): one whose
    /// valuation reverts (a stale or out-of-bounds feed its positions need) is listed in
    /// `unpriced` and the others are still reported; running out of gas reverts
    /// (`BackstopOutOfGas`). The protocol's own accounts (insurance, settlement, fee; those
    /// `absorbDebt` and the liquidator refuse) are left out: the insurance account's negative
    /// equity is the bad debt already realised (`badDebt()`), the settlement account's debt a
    /// transient of settlement order. The chain cannot enumerate accounts: the caller supplies
    /// them (the keeper's indexer has every account that ever held collateral or a position); the
    /// SDK's `getLatentInsolvency` reads long lists in chunks sized by gas.
    /// Caveat: collateral whose feed is stale counts as zero (the engine's rule for margin), so
    /// during such an outage a solvent account with a cash debt against that collateral shows its
    /// whole debt as a shortfall; read the figure with the oracle's health.
    function latentInsolvency(AccountId[] calldata accounts) external view returns (LatentInsolvency memory);

    /// @notice Bad debt so far, cash units: the vault's `badDebt()` (losses written off against the
    /// cash creditors, plus any loss held apart), the same figure as `ILiquidator.badDebt()`.
    function badDebt() external view returns (uint256);

    function vault() external view returns (ICollateralVault);

    function engine() external view returns (IMarginEngine);

    function market() external view returns (IOptionMarket);

    function liquidator() external view returns (ILiquidator);

    /// @notice The insurance fund's account in the vault (the liquidator's).
    function insuranceAccount() external view returns (AccountId);
}
