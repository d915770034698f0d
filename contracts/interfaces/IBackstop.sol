// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "./ICollateralVault.sol";
import {ILiquidator} from "./ILiquidator.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {IOptionMarket} from "./IOptionMarket.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title IBackstop
/// @notice What happens to a loss the auctions did not clear (issue 16): it shows the latent
/// insolvency the auctions have not realised yet, and has the insurance fund cover a bare cash
/// debt at par (`absorbDebt`). The waterfall after an unbid auction (fund takeover at the
/// bankruptcy price within a budget, then auto-deleveraging) belongs here too. Every step refuses
/// the protocol's own accounts and accounts its condition does not hold for, with a specific error,
/// and announces what it moved. It holds MODULE_ROLE in the vault and the market; it never holds
/// funds itself and needs nothing from the liquidator but its public entry points.
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

    /// @notice The takeover budget (`docs/backstop.md`), WAD (USD), set by the risk manager within
    /// hard bounds: `maxLossPerTakeoverWad ≤ maxLossPerWindowWad ≤ MAX_LOSS_PER_WINDOW`.
    /// @param maxLossPerTakeoverWad Most one takeover may cost the fund.
    /// @param maxLossPerWindowWad Most the fund may lose in any 24 h: every fund outflow is booked
    /// against it (takeover losses, payments to bidders of insolvent accounts, absorbed debts), and
    /// a takeover that would take the booked total past it is refused. Only takeovers are refused:
    /// the payments are booked whatever their size (`docs/backstop.md`, "What the budget bounds").
    struct TakeoverBudget {
        uint128 maxLossPerTakeoverWad;
        uint128 maxLossPerWindowWad;
    }

    /// @notice What a takeover of an account would do now, WAD.
    /// @param valueWad The account's mark value V: what the fund's value changes by.
    /// @param lossToFundWad `−V` when V < 0, else 0.
    /// @param budgetLeftWad What the budget allows one takeover to cost now (`budgetLeft()`).
    struct TakeoverPreview {
        int256 valueWad;
        uint256 lossToFundWad;
        uint256 budgetLeftWad;
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
    /// @notice No auction is open on the account: none was started, or it ended. (An auction that
    /// lapsed but is still open qualifies: it has run far longer than its `duration`.)
    error BackstopNoAuction(AccountId account);
    /// @notice The account's auction has not yet been offered for its full `duration` since its
    /// clock start (bids do not move it): a step may run from `readyAt`.
    error BackstopAuctionNotLapsed(AccountId account, uint256 readyAt);
    /// @notice The account is not below maintenance.
    error BackstopAccountHealthy(AccountId account, IMarginEngine.Health health);
    /// @notice The takeover would cost the fund `needed` (WAD) and the budget allows `left`.
    error BackstopBudgetExceeded(uint256 needed, uint256 left);
    /// @notice The fund's account would end the takeover below initial margin by `-excessIM` (WAD).
    error BackstopFundBelowInitialMargin(int256 excessIM);
    /// @notice A budget outside its hard bounds.
    error BackstopInvalidBudget(TakeoverBudget budget);
    /// @notice Deleveraging refused: the fund can take the account over within its budget.
    error BackstopTakeoverAvailable(AccountId account);
    /// @notice Deleveraging refused: the account's mark value is not below zero, so it has no
    /// loss to share.
    error BackstopNotInsolvent(AccountId account, int256 markValueWad);
    /// @notice The account holds no position in the series.
    error BackstopNoPosition(AccountId account, SeriesId seriesId);
    /// @notice More holders than one call takes.
    error BackstopTooManyHolders(uint256 count, uint256 max);
    /// @notice A listed holder does not hold the side opposite the account's in the series.
    error BackstopNotAnOppositeHolder(AccountId holder);
    /// @notice The listed holders' opposite positions add up to `sum`, not the open interest.
    error BackstopHoldersIncomplete(uint256 sum, uint256 openInterest);
    /// @notice Holder `index` is not after holder `index − 1` in the order (key descending, then
    /// account id strictly ascending).
    error BackstopHoldersNotSorted(uint256 index);
    /// @notice The holder would end its close below maintenance by `-excessMM` (WAD): it is skipped.
    error BackstopHolderBelowMaintenance(AccountId holder, int256 excessMM);
    /// @notice Deleveraging closed nothing: every listed holder was skipped (below maintenance
    /// after its close, or the insurance fund). Nothing changed; resending it is a waste.
    error BackstopNothingClosed(AccountId account, SeriesId seriesId);
    /// @notice A call ran out of gas at `account`: deleveraging at a holder's close (or the
    /// takeover's simulation, the account itself), or `latentInsolvency` valuing an account. The
    /// call's gas, not a price or a refusal, failed: send it with more gas (or read fewer accounts
    /// per call; the SDK's `getLatentInsolvency` splits the chunk).
    error BackstopOutOfGas(AccountId account);
    /// @notice `simulateTakeover` and `deleverageStep` are the backstop's own steps.
    error BackstopOnlySelf(address caller);
    /// @notice `payFromFund` is the liquidator's: it pays the bidders of insolvent accounts.
    error BackstopOnlyLiquidator(address caller);
    /// @notice The liquidator's backstop is now `current`: this one was replaced (`Liquidator.setBackstop`)
    /// and takes no step any more (review rv16w2 D).
    error BackstopReplaced(address current);

    // ---------------------------------------------------------------- events

    /// @notice The insurance fund covered `account`'s bare cash debt of `amount` cash units at par.
    /// When an auction ran on the account, the Liquidator's `AuctionEnded(account, false)` follows
    /// in the same transaction: with this event before it, it means emptied, not restored.
    event DebtAbsorbed(AccountId indexed account, uint256 amount);
    /// @notice A fund payment (an absorbed debt, a payment to a bidder of an insolvent account, a
    /// taken-over debt) went beyond the fund's cash: the vault wrote `amount` cash units off against
    /// every cash creditor (`LossSocialized`), and `totalBadDebt` is `badDebt()` after it. Both
    /// numbers are the vault's realised measure, read before and after. Every fund payment goes
    /// through the Backstop, so this is the only contract that emits it.
    event BadDebtIncurred(AccountId indexed account, uint256 amount, uint256 totalBadDebt);
    /// @notice The insurance fund took `account` whole at its mark value `valueWad`, which cost it
    /// `lossToFundWad`; `budgetLeftWad` is what the budget allows the next takeover (WAD).
    event AccountTakenOver(AccountId indexed account, int256 valueWad, uint256 lossToFundWad, uint256 budgetLeftWad);
    /// @notice `holder` closed `contracts` of `seriesId` against bankrupt `account` at `priceWad`
    /// per contract, giving up `lossWad` against the mark.
    event Deleveraged(
        AccountId indexed account,
        AccountId indexed holder,
        SeriesId indexed seriesId,
        uint256 contracts,
        uint256 priceWad,
        uint256 lossWad
    );
    /// @notice `holder` was skipped and keeps its position: its close reverted with the error whose
    /// selector is `reason` (`BackstopHolderBelowMaintenance`), or it is the insurance fund
    /// (`BackstopProtectedAccount`: the fund is never a counterparty of deleveraging).
    event DeleverageSkipped(AccountId indexed account, AccountId indexed holder, bytes4 reason);
    event TakeoverBudgetSet(TakeoverBudget budget);

    // ---------------------------------------------------------------- actions

    /// @notice Covers the cash debt of an account that holds nothing else (no collateral, no
    /// position) from the insurance fund, at par: there is nothing to auction, so no bidder earns
    /// a discount on it. What the fund cannot cover becomes bad debt (`BadDebtIncurred`). An
    /// auction still open on the account is then ended through the liquidator's permissionless
    /// `terminateAuction` (the account, emptied of its debt, is no longer below maintenance), so
    /// the liquidator needs no entry point for the backstop. The payment is booked in the takeover
    /// budget's window, never refused for it (the debt is already owed). Only while this is the
    /// liquidator's backstop (`BackstopReplaced`). Permissionless.
    function absorbDebt(AccountId account) external;

    /// @notice The insurance fund pays `to` (the bidder) `amount` cash units for a bid on insolvent
    /// `account`: the Liquidator's only way to pay from the fund (`BackstopOnlyLiquidator`), so
    /// that every fund payment, and every `BadDebtIncurred`, comes from the Backstop. The payment
    /// is booked in the takeover budget's window, never refused for it (a bid is the market's
    /// exit for the account), so a later takeover sees it. What the fund's cash does not cover is
    /// bad debt (`BadDebtIncurred`).
    function payFromFund(AccountId account, AccountId to, uint256 amount) external;

    /// @notice Step 1 of the waterfall: the insurance fund takes the whole of `account` (every
    /// collateral balance, its signed cash, every position) at its mark value V, with no discount,
    /// and ends its auction. Runs only while an auction is open on the account (running, or lapsed
    /// but not yet restarted or ended) and its clock started at least `duration` ago
    /// (`BackstopNoAuction`, `BackstopAuctionNotLapsed`), the account is still below maintenance
    /// (`BackstopAccountHealthy`), not a protocol account (`BackstopProtectedAccount`), and every
    /// price it needs is valid, the fund's own collateral's included (the oracle's error). The fund
    /// absorbs `−V` when V < 0 and gains V otherwise; the loss must fit `budgetLeft()`
    /// (`BackstopBudgetExceeded`: the window counts every fund outflow booked in it) and the
    /// fund must end at or above initial margin (`BackstopFundBelowInitialMargin`). The account's
    /// debt is paid from the fund's cash: what that cash does not cover is written off at once
    /// (`BadDebtIncurred`), as for any fund payment. A fund already holding positions in as many
    /// series as the market allows refuses with the market's `MarketTooManyPositions`, which is
    /// not a refusal for budget (governance unwinds the fund: `InsuranceFund.unwind`). The fund's
    /// own collateral prices are checked only when its margin check fails, before that refusal
    /// (review rv16w2 C). Only while this is the liquidator's backstop (`BackstopReplaced`).
    /// Permissionless.
    function takeover(AccountId account) external returns (TakeoverPreview memory);

    /// @notice Step 2 of the waterfall: closes `account`'s position in `seriesId` against its
    /// opposite holders at the bankruptcy price (`bankruptcyPrice`), from the top of `holders`,
    /// each holder closing as much as it holds or is left. Only when the takeover of `account` is
    /// refused for budget (`BackstopBudgetExceeded`, `BackstopFundBelowInitialMargin`; a full fund's
    /// `MarketTooManyPositions` is not budget and bubbles), found by running it (`BackstopTakeoverAvailable` if it
    /// would pass; its other refusals bubble), and the account's mark value is below zero
    /// (`BackstopNotInsolvent`). `holders` must be every opposite holder of the live series
    /// (Σ |positions| = open interest), at most `MAX_HOLDERS`, sorted by `deleverageKey`
    /// descending then account id strictly ascending. A holder that would end below maintenance,
    /// and the insurance fund, keep their positions (`DeleverageSkipped`); a call that closes
    /// nothing reverts (`BackstopNothingClosed`). Only while this is the liquidator's backstop
    /// (`BackstopReplaced`). Permissionless.
    /// @return closed The contracts of the account's position closed.
    function deleverage(
        AccountId account,
        SeriesId seriesId,
        AccountId[] calldata holders
    ) external returns (uint256 closed);

    /// @notice The takeover of `account`, run and always reverted: with `BackstopTakeoverAvailable`
    /// when it would pass, else with its refusal. Callable only by the backstop (`BackstopOnlySelf`).
    function simulateTakeover(AccountId account) external;

    /// @notice One holder's close of `deleverage`, callable only by the backstop
    /// (`BackstopOnlySelf`): reverts `BackstopHolderBelowMaintenance` if the holder would end below
    /// maintenance, which undoes it.
    function deleverageStep(
        AccountId account,
        AccountId holder,
        SeriesId seriesId,
        bool accountIsLong,
        uint256 contracts,
        uint256 priceWad
    ) external;

    /// @notice Sets the takeover budget (risk manager, within hard bounds; `TakeoverBudgetSet`).
    function setTakeoverBudget(TakeoverBudget calldata budget) external;

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

    /// @notice What `takeover(account)` would move now: V, the loss to the fund and the budget
    /// left before it (no trigger, budget or IM check).
    function previewTakeover(AccountId account) external view returns (TakeoverPreview memory);

    /// @notice The bankruptcy price per contract at which `deleverage` closes `account`'s position
    /// in `seriesId` now, and its distance from the mark (`BackstopMath.shadeDown`).
    function bankruptcyPrice(
        AccountId account,
        SeriesId seriesId
    ) external view returns (uint256 priceWad, uint256 shadeWad);

    /// @notice `holder`'s key in the deleveraging order of `seriesId`: the mark value of its
    /// position over its maintenance equity (`BackstopMath.deleverageKey`).
    function deleverageKey(AccountId holder, SeriesId seriesId) external view returns (uint256);

    /// @notice What the budget allows one takeover to cost now, WAD.
    function budgetLeft() external view returns (uint256);

    /// @notice The fund losses booked in the current hour and the 24 before it, WAD: takeover
    /// losses, payments to bidders of insolvent accounts and absorbed debts (each at most
    /// `type(uint192).max` an hour: a bucket saturates).
    function windowLoss() external view returns (uint256);

    function takeoverBudget() external view returns (TakeoverBudget memory);

    function vault() external view returns (ICollateralVault);

    function engine() external view returns (IMarginEngine);

    function market() external view returns (IOptionMarket);

    function liquidator() external view returns (ILiquidator);

    /// @notice The insurance fund's account in the vault (the liquidator's).
    function insuranceAccount() external view returns (AccountId);
}
