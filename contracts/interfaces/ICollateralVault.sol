// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountHook} from "./IAccountHook.sol";
import {IRateModel} from "./IRateModel.sol";
import {IRiskCheck} from "./IRiskCheck.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title ICollateralVault
/// @notice Custody of every account's posted collateral and its signed cash balance.
/// @dev Balances are kept in each token's native units so the books reconcile to the
/// wei: for every collateral asset `balanceOf(vault) == Σ collateralOf(·, asset)`. Cash is kept
/// on an index (`CashMarket`, `docs/cash.md`): positive balances are supply shares, negative
/// ones debt shares, interest on debt comes from a pluggable rate model and a loss the
/// insurance fund cannot cover lowers the supply index. For the cash asset
/// `balanceOf(vault) ≥ Σ cashOf(·)` (debts counted negative), equal with a zero rate, the
/// difference being rounding dust that always favours the vault.
/// Only modules (OptionMarket, Liquidator, …) move value between accounts; they are
/// responsible for margin-checking the accounts they touch.
interface ICollateralVault {
    /// @notice A listed asset's risk parameters.
    /// @param listed Set once when listed; never unset, so balances stay reachable.
    /// @param enabled Whether new deposits are accepted. Withdrawals never depend on it.
    /// @param delisted Set for good by the admin (`delistAsset`): no deposits, never re-enabled,
    /// valued at zero by the margin engine; withdrawals keep working.
    /// @param decimals The token's decimals, read once at listing.
    /// @param initialHaircutWad Share of the value ignored for initial margin (WAD).
    /// @param maintenanceHaircutWad Share ignored for maintenance margin (WAD), ≤ initial.
    /// @param supplyCap Largest total deposited, native units (0 = deposits closed). A collateral
    /// asset's total is stored in 128 bits: a cap above 2^128 − 1 reads as no cap, and a deposit
    /// that would take the total past it reverts `VaultAmountTooLarge`.
    /// @param totalSupplied Total currently held for accounts, native units (collateral assets only).
    struct AssetConfig {
        bool listed;
        bool enabled;
        bool delisted;
        uint8 decimals;
        uint64 initialHaircutWad;
        uint64 maintenanceHaircutWad;
        uint256 supplyCap;
        uint256 totalSupplied;
    }

    /// @notice The cash asset's index state, as stored (three slots). An account's cash is
    /// `shares × supplyIndex / 1e18` (rounded down) when its shares are positive, and
    /// `shares × debtIndex / 1e18` (rounded up) when they are negative; both indices start at 1e18.
    /// @param supplyIndex Cash units per 1e18 supply shares: grows with interest, falls with a loss.
    /// @param debtIndex Cash units per 1e18 debt shares: grows with interest, never falls.
    /// @param totalSupplyShares Σ positive shares.
    /// @param totalDebtShares Σ negative shares, as a positive number.
    /// @param rateModel Where the borrow rate comes from; zero is the built-in zero rate.
    /// @param lastAccrual When interest last accrued (only while a rate model is set).
    /// @param lastRate The rate that accrual used, per second WAD: the fallback when the model fails.
    /// @param epoch The cash epoch: a loss that would cut the supply index below
    /// `CashIndex.MIN_SUPPLY_INDEX` ends the epoch and starts the next one at index 1e18
    /// (`CashEpochReset`); positive shares written in an older epoch convert at each closing rate.
    struct CashMarket {
        uint128 supplyIndex;
        uint128 debtIndex;
        uint128 totalSupplyShares;
        uint128 totalDebtShares;
        IRateModel rateModel;
        uint40 lastAccrual;
        uint56 lastRate;
        uint16 epoch;
    }

    // ---------------------------------------------------------------- errors

    /// @notice An amount of zero was given.
    error VaultZeroAmount();
    /// @notice A zero address was given where one is required.
    error VaultZeroAddress();
    /// @notice `asset` is not listed.
    error VaultAssetNotListed(address asset);
    /// @notice `asset` is listed already.
    error VaultAssetAlreadyListed(address asset);
    /// @notice `asset` is listed but disabled for deposits.
    error VaultAssetDisabled(address asset);
    /// @notice The asset list is full.
    error VaultTooManyAssets(uint256 max);
    /// @notice Haircuts outside the hard bounds, or maintenance above initial.
    error VaultInvalidHaircuts(uint256 initialHaircutWad, uint256 maintenanceHaircutWad);
    /// @notice The token's decimals are above the supported maximum (`MAX_DECIMALS`, or
    /// `MAX_CASH_ASSET_DECIMALS` for the cash asset).
    error VaultInvalidDecimals(address asset, uint8 decimals);
    /// @notice The deposit would take the asset over its supply cap.
    error VaultSupplyCapExceeded(address asset, uint256 totalAfter, uint256 cap);
    /// @notice The vault received a different amount than was sent (fee-on-transfer).
    error VaultTransferAmountMismatch(address asset, uint256 expected, uint256 received);
    /// @notice `caller` is neither the owner of `account` nor an operator it approved.
    error VaultUnauthorized(AccountId account, address caller);
    /// @notice The account holds less of `asset` than asked for.
    error VaultInsufficientBalance(AccountId account, address asset, uint256 balance, uint256 amount);
    /// @notice The vault holds fewer cash tokens than asked for (others owe it the rest).
    error VaultInsufficientLiquidity(uint256 available, uint256 amount);
    /// @notice `asset` is delisted: it takes no deposits and cannot be enabled again.
    error VaultAssetDelisted(address asset);
    /// @notice The cash asset cannot be delisted.
    error VaultCashNotDelistable();
    /// @notice Deposits are paused by the guardian.
    error VaultPaused();
    /// @notice The risk check is set already (it can be set once).
    error VaultRiskCheckAlreadySet();
    /// @notice The account hook is set once; it cannot be replaced.
    error VaultAccountHookAlreadySet();
    /// @notice Without a risk check, an account with a cash debt cannot withdraw.
    error VaultCashDebt(AccountId account, int256 cash);
    /// @notice A module moved value from an account to itself.
    error VaultSelfTransfer(AccountId account);
    /// @notice An amount does not fit the vault's signed bookkeeping.
    error VaultAmountTooLarge(uint256 amount);
    /// @notice The rate model given is neither zero (the zero rate) nor a contract.
    error VaultRateModelNotContract(address model);
    /// @notice The rate model given reverted, or did not answer with one word, when asked for a rate.
    error VaultRateModelFailed(address model);
    /// @notice The rate model given answered a rate per second above `maxRate`.
    error VaultRateOutOfRange(uint256 ratePerSecondWad, uint256 maxRate);
    /// @notice The rate model ran out of the gas the caller left it; send the call with more gas.
    error VaultRateModelOutOfGas();
    /// @notice The reserve share is above its hard bound.
    error VaultInvalidReserveShare(uint256 shareWad, uint256 maxShareWad);
    /// @notice A reserve share needs the insurance account, which is not set.
    error VaultInsuranceAccountNotSet();
    /// @notice The insurance account is set once; it cannot be replaced.
    error VaultInsuranceAccountAlreadySet();
    /// @notice The settlement account is set once; it cannot be replaced.
    error VaultSettlementAccountAlreadySet();
    /// @notice A protocol account was given where it may not be (the settlement account as the
    /// insurance account or the reverse, a settlement account already holding cash, or a
    /// withdrawal from the settlement account).
    error VaultProtocolAccount(AccountId account);
    /// @notice While a loss is held apart (`unabsorbedLoss()` > 0) a cash deposit may not create or
    /// raise a claim: the claims already there are not all backed, so a new deposit would be
    /// withdrawable first-come by them. Repaying a debt (up to all of it), the insurance account
    /// and `repayUnabsorbedLoss` stay open.
    error VaultLossHeldApart(uint256 unabsorbedLoss);
    /// @notice A cash deposit of `amount` would buy (or repay) no share at the index: the tokens
    /// would be taken for nothing.
    error VaultZeroShares(uint256 amount);

    // ---------------------------------------------------------------- events

    /// @notice An owner approved or revoked an operator for all its subaccounts.
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    /// @notice A new asset was listed.
    event AssetListed(address indexed asset, uint8 decimals, bool isCash);
    /// @notice An asset's parameters changed.
    event AssetConfigured(
        address indexed asset,
        bool enabled,
        uint256 initialHaircutWad,
        uint256 maintenanceHaircutWad,
        uint256 supplyCap
    );
    /// @notice Tokens were deposited into `account`.
    event Deposited(AccountId indexed account, address indexed asset, address indexed from, uint256 amount);
    /// @notice Tokens were withdrawn from `account` to `to`.
    event Withdrawn(AccountId indexed account, address indexed asset, address indexed to, uint256 amount);
    /// @notice A module moved collateral between accounts.
    event CollateralMoved(AccountId indexed from, AccountId indexed to, address indexed asset, uint256 amount);
    /// @notice A module moved cash between accounts; `from` may go negative.
    event CashMoved(AccountId indexed from, AccountId indexed to, uint256 amount);
    /// @notice `asset` was delisted for good (admin): valued at zero, no deposits, withdrawals only.
    event AssetDelisted(address indexed asset);
    /// @notice The margin engine was plugged in as the withdrawal risk check.
    event RiskCheckSet(address riskCheck);
    /// @notice The account hook (the liquidator) was set.
    event AccountHookSet(address hook);
    /// @notice Interest accrued on cash at `ratePerSecondWad`: debts grew by `interest` cash units
    /// (rounded down) and the reserve bought `reserveShares` supply shares for the insurance
    /// account (`cashMarket()` has the new indices).
    event InterestAccrued(uint256 ratePerSecondWad, uint256 interest, uint256 reserveShares);
    /// @notice The rate model answered nothing usable (a revert, not one word, or above the cap):
    /// interest accrued at the last good rate, `fallbackRate`, instead.
    event RateModelFallback(address indexed model, uint256 fallbackRate);
    /// @notice The admin set the rate model (zero: the zero rate); `ratePerSecondWad` is its first answer.
    event RateModelSet(address indexed model, uint256 ratePerSecondWad);
    /// @notice The risk manager set the share of interest that goes to the insurance fund.
    event ReserveShareSet(uint256 shareWad);
    /// @notice The admin set the insurance account: the reserve's payee, whose uncovered payments
    /// are shared by every cash creditor.
    event InsuranceAccountSet(AccountId indexed account);
    /// @notice The insurance account paid `amount` cash units more than it held: the loss was
    /// written off against every creditor at once, and the supply index fell to `supplyIndex` (or,
    /// when it ended the epoch, 1e18 in the new epoch's shares: `CashEpochReset`).
    event LossSocialized(AccountId indexed account, uint256 amount, uint256 supplyIndex);
    /// @notice A loss would have cut the supply index below `CashIndex.MIN_SUPPLY_INDEX`: of the
    /// epoch's `claims` cash units, `written` were written off (all of the loss, or every claim),
    /// and cash epoch `epoch` began at supply index 1e18. What is left is re-denominated, not lost:
    /// every share of the old epoch is worth `shares × closingRate / 1e18` shares of the new one
    /// (rounded down; `closingRate` is what is left per old share, WAD, 0 when the loss took every
    /// claim), and the new supply total is the old one converted. Debts are untouched.
    event CashEpochReset(uint256 epoch, uint256 claims, uint256 written, uint256 closingRate);
    /// @notice A loss larger than every cash creditor's claim could absorb: `amount` cash units
    /// are held as `unabsorbedLoss()`, outside the index (no interest, not lent-out cash).
    event LossUnabsorbed(AccountId indexed account, uint256 amount, uint256 unabsorbedLoss);
    /// @notice `amount` tokens paid `unabsorbedLoss()` down to `unabsorbedLoss`.
    event UnabsorbedLossRepaid(address indexed from, uint256 amount, uint256 unabsorbedLoss);
    /// @notice An index would have passed `MAX_INDEX`: the period since the last accrual earned
    /// nothing (`cashMarket().lastAccrual` moved on).
    event InterestStopped(uint256 ratePerSecondWad, uint256 elapsed);
    /// @notice The admin set the settlement account, whose cash is a raw balance outside the index.
    event SettlementAccountSet(AccountId indexed account);

    // ---------------------------------------------------------------- accounts

    /// @notice Approves or revokes `operator` for every subaccount of the caller.
    function setOperator(address operator, bool approved) external;

    /// @notice Whether `caller` may act for `account` (its owner or an approved operator).
    function isAuthorized(AccountId account, address caller) external view returns (bool);

    /// @notice Whether `owner` approved `operator`.
    function isOperator(address owner, address operator) external view returns (bool);

    // ---------------------------------------------------------------- custody

    /// @notice Deposits `amount` native units of `asset` from the caller into `account`.
    /// Anyone may deposit cash into any account; only the owner or an operator may deposit
    /// other collateral (`VaultUnauthorized`), so no stranger can plant an asset whose feed may
    /// fail in someone else's account. Refuses fee-on-transfer tokens. While a loss is held apart
    /// (`unabsorbedLoss()` > 0), a cash deposit that would leave `account` with a positive claim
    /// reverts `VaultLossHeldApart` (a repayment up to the whole debt, the insurance account and
    /// the settlement account stay open), until `repayUnabsorbedLoss` repays it.
    function deposit(AccountId account, address asset, uint256 amount) external;

    /// @notice `deposit` after an EIP-2612 permit. A permit that fails (for example
    /// because it was front-run) is ignored when the allowance already suffices.
    function depositWithPermit(
        AccountId account,
        address asset,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Withdraws `amount` native units of `asset` from `account` to `to`.
    /// Caller must be the owner or an operator; the account must pass the risk check
    /// afterwards. Never paused.
    function withdraw(AccountId account, address asset, uint256 amount, address to) external;

    // ---------------------------------------------------------------- modules

    /// @notice Moves `amount` of collateral `asset` from `from` to `to`. Modules only.
    function moveCollateral(AccountId from, AccountId to, address asset, uint256 amount) external;

    /// @notice Moves `amount` cash units from `from` to `to`; `from` may go negative.
    /// Modules only. When `from` is the insurance account and this leaves it owing, the debt is
    /// written off against every creditor at once (`LossSocialized`) before `to` is credited; a
    /// loss beyond what a cut to `CashIndex.MIN_SUPPLY_INDEX` absorbs ends the cash epoch
    /// (`CashEpochReset`), and what even every claim cannot absorb, the payee's included, is held
    /// apart (`LossUnabsorbed`). Returns whether each account carries the auction mark
    /// (`markAuctioned`): the market skips the account hook for an unmarked account, which no
    /// auction can be running on; and `writtenOff`, the debt written off (0 unless the insurance
    /// account paid more than it held), by which `badDebt()` rose: the backstop announces it
    /// without reading `badDebt()` before the move.
    function moveCash(
        AccountId from,
        AccountId to,
        uint256 amount
    ) external returns (bool fromMarked, bool toMarked, uint256 writtenOff);

    /// @notice Accrues interest on cash up to now. Anyone may call it: what it stores is a
    /// function of time and the vault's state only, and every cash action does it first anyway.
    function accrueInterest() external;

    /// @notice Marks `account` as auctioned (modules: the liquidator, when it opens an auction
    /// that outlives the call that opened it).
    /// Only a marked account can be under auction, so only its deposits call the account hook;
    /// the mark is never removed (an account auctioned once keeps paying for the call).
    function markAuctioned(AccountId account) external;

    // ---------------------------------------------------------------- governance

    /// @notice Lists `asset` (admin). The cash asset is listed at construction.
    function listAsset(
        address asset,
        uint256 initialHaircutWad,
        uint256 maintenanceHaircutWad,
        uint256 supplyCap
    ) external;

    /// @notice Changes a listed asset's parameters inside the hard bounds (risk manager). A
    /// delisted asset cannot be enabled again (`VaultAssetDelisted`).
    function configureAsset(
        address asset,
        bool enabled,
        uint256 initialHaircutWad,
        uint256 maintenanceHaircutWad,
        uint256 supplyCap
    ) external;

    /// @notice Delists a collateral asset for good (admin, behind the timelock), for a feed that
    /// died or a token that must go: it takes no more deposits, cannot be re-enabled, and the
    /// margin engine values it at zero, so no account depends on its price; balances stay
    /// withdrawable. Reverts with `VaultCashNotDelistable` for the cash asset.
    function delistAsset(address asset) external;

    /// @notice Plugs in the margin engine as the withdrawal check. Admin, once.
    function setRiskCheck(IRiskCheck riskCheck) external;

    /// @notice Sets, once, the hook told after a deposit (`IAccountHook.onAccountChanged`) into
    /// an account marked as auctioned (`markAuctioned`), so a deposit that restores an account
    /// ends its auction. Admin only; reverts with
    /// `VaultZeroAddress` for the zero address and `VaultAccountHookAlreadySet` once set.
    function setAccountHook(IAccountHook hook) external;

    /// @notice Sets the rate model (admin, i.e. the timelock), after accruing at the old one.
    /// Zero means the built-in zero rate. Any other address must be a contract that answers a
    /// rate at most `MAX_RATE_PER_SECOND` now: `VaultRateModelNotContract`, `VaultRateModelFailed`,
    /// `VaultRateOutOfRange`; and the insurance account must be set first
    /// (`VaultInsuranceAccountNotSet`): it takes the interest past the suppliers' cap.
    function setRateModel(IRateModel model) external;

    /// @notice Sets the share of interest paid to the insurance fund (risk manager), after
    /// accruing at the old one; at most `MAX_RESERVE_SHARE` (`VaultInvalidReserveShare`), and not
    /// above zero before the insurance account is set (`VaultInsuranceAccountNotSet`).
    function setReserveShare(uint256 shareWad) external;

    /// @notice Sets, once, the insurance fund's account (admin): it receives the reserve, and what
    /// it pays beyond its balance is shared pro rata by every cash creditor. `VaultZeroAddress`,
    /// `VaultInsuranceAccountAlreadySet`.
    function setInsuranceAccount(AccountId account) external;

    /// @notice Sets, once, the option market's settlement account (admin). Its cash is a raw
    /// signed balance outside the index: it accrues no interest, owes none, bears no loss and is
    /// not counted in utilisation, but counts in `liquidity` (Σ supply − Σ debt + it − the
    /// unabsorbed loss is what the vault holds). It must hold no cash when set.
    /// `VaultZeroAddress`, `VaultSettlementAccountAlreadySet`, `VaultProtocolAccount`.
    function setSettlementAccount(AccountId account) external;

    /// @notice Pays `amount` cash tokens from the caller toward `unabsorbedLoss()` (at most all of
    /// it): recapitalisation after a loss larger than every creditor's claim.
    function repayUnabsorbedLoss(uint256 amount) external;

    /// @notice Pauses deposits (guardian). Withdrawals and module moves are never paused.
    function pause() external;

    /// @notice Resumes deposits (guardian).
    function unpause() external;

    /// @notice Whether deposits are paused.
    function paused() external view returns (bool);

    // ---------------------------------------------------------------- views

    /// @notice The settlement asset whose balance is signed.
    function cashAsset() external view returns (address);

    /// @notice Listed non-cash collateral assets, in listing order.
    function collateralAssets() external view returns (address[] memory);

    /// @notice A listed asset's configuration (the cash asset included).
    function assetConfig(address asset) external view returns (AssetConfig memory);

    /// @notice `account`'s balance of collateral `asset`, native units.
    function collateralOf(AccountId account, address asset) external view returns (uint256);

    /// @notice `account`'s signed cash balance, native units of the cash asset, with interest
    /// accrued to now: a credit rounded down, a debt rounded up.
    /// A credit written in an older cash epoch is converted at each closing rate since (`CashEpochReset`).
    function cashOf(AccountId account) external view returns (int256);

    /// @notice `account`'s signed cash shares as stored (positive: supply, negative: debt), before
    /// the interest since `cashMarket().lastAccrual` and, for the insurance account, its reserve.
    /// Supply shares written in an older cash epoch (`cashEpoch()`) read converted into the current
    /// epoch's, at each closing rate since (`CashEpochReset`), rounded down.
    function cashSharesOf(AccountId account) external view returns (int256);

    /// @notice Every collateral balance of `account`, aligned with `collateralAssets()`, and its
    /// cash with interest accrued to now (as `cashOf`).
    function balancesOf(AccountId account) external view returns (uint256[] memory collateral, int256 cash);

    /// @notice Sum of all negative cash balances, as a positive number of cash units, with
    /// interest accrued to now (rounded up).
    function totalCashDebt() external view returns (uint256);

    /// @notice Sum of all positive cash balances, cash units, with interest accrued to now
    /// (rounded down).
    function totalCashCredit() external view returns (uint256);

    /// @notice The cash index state as stored, before the interest since `lastAccrual`.
    function cashMarket() external view returns (CashMarket memory);

    /// @notice The current cash epoch (`CashEpochReset`; `cashMarket().epoch`): 0 until a loss
    /// would cut the supply index below `CashIndex.MIN_SUPPLY_INDEX`.
    function cashEpoch() external view returns (uint256);

    /// @notice The rate per second (WAD) the next accrual will charge: the rate model's answer on
    /// the stored totals, or the last good rate when it answers nothing usable; 0 with no model.
    function borrowRate() external view returns (uint256 ratePerSecondWad);

    /// @notice The share of interest paid to the insurance fund, WAD.
    function reserveShareWad() external view returns (uint256);

    /// @notice The insurance fund's account (zero until set).
    function insuranceAccount() external view returns (AccountId);

    /// @notice The settlement account (zero until set).
    function settlementAccount() external view returns (AccountId);

    /// @notice The part of losses no creditor's claim could absorb, still unpaid, cash units: held
    /// outside the index (no interest) and subtracted from the cash creditors may withdraw.
    function unabsorbedLoss() external view returns (uint256);

    /// @notice The cash creditors may withdraw now: Σ supply − Σ debt + the settlement account's
    /// raw balance − `unabsorbedLoss()`, never below zero, with interest accrued to now.
    function cashLiquidity() external view returns (uint256);

    /// @notice Every loss written off against the creditors so far, cash units.
    function lossSocialized() external view returns (uint256);

    /// @notice Bad debt so far: the losses written off against the creditors plus
    /// `unabsorbedLoss()` (what no claim could absorb, not yet repaid), cash units.
    function badDebt() external view returns (uint256);

    /// @notice The withdrawal risk check (zero until the margin engine is plugged in).
    function riskCheck() external view returns (IRiskCheck);

    /// @notice The hook told after every deposit (zero until set).
    function accountHook() external view returns (IAccountHook);
}
