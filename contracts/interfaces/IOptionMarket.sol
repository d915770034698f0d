// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SeriesLib} from "../libraries/SeriesLib.sol";
import {IAccountHook} from "./IAccountHook.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title IOptionMarket
/// @notice Option series, signed positions and trading by EIP-712 signed orders.
/// A position is a signed balance per (account, series), in WAD contracts (1e18 = one
/// option on one unit of the underlying); long > 0, short < 0. Σ over a series = 0.
interface IOptionMarket {
    /// @notice A maker's signed order.
    /// @param account The maker account; the signer is its owner or an approved operator
    /// (or the owner's ERC-1271 wallet).
    /// @param seriesId The series traded.
    /// @param size Signed size in WAD contracts: > 0 the maker buys, < 0 the maker sells.
    /// @param priceWad Limit price per contract, WAD USD. The fill happens at this price.
    /// @param taker The only account allowed to fill (an RFQ answer), or 0 for anyone.
    /// @param nonce Lets the maker cancel in bulk: orders with `nonce < minNonce(account)` are dead.
    /// @param deadline Last second at which the order can be filled.
    struct Order {
        AccountId account;
        SeriesId seriesId;
        int256 size;
        uint256 priceWad;
        AccountId taker;
        uint256 nonce;
        uint256 deadline;
    }

    // ---------------------------------------------------------------- errors

    error MarketZeroAddress();
    error MarketZeroAmount();
    error MarketUnauthorized(AccountId account, address caller);
    error MarketUnderlyingNotListed(uint16 underlyingIndex);
    error MarketInvalidStrike(uint256 strikeWad);
    /// @notice A new series' strike `strikeWad` is below `minStrikeWad`, spot / `MIN_STRIKE_DIVISOR`.
    error MarketStrikeBelowBand(uint256 strikeWad, uint256 minStrikeWad);
    error MarketInvalidExpiry(uint256 expiry);
    error MarketSeriesNotFound(SeriesId seriesId);
    error MarketSeriesExpired(SeriesId seriesId, uint256 expiry);
    error MarketInvalidSignature(bytes32 orderHash);
    error MarketOrderExpired(bytes32 orderHash, uint256 deadline);
    error MarketOrderCancelled(bytes32 orderHash);
    error MarketOrderNonceTooLow(bytes32 orderHash, uint256 nonce, uint256 minNonce);
    error MarketOverfill(bytes32 orderHash, uint256 remaining, uint256 requested);
    error MarketWrongTaker(bytes32 orderHash, AccountId taker);
    error MarketSelfTrade(AccountId account);
    error MarketInvalidNonce(uint256 current, uint256 requested);
    /// @notice Opening one more series would take `account` past the limit of its margin mode
    /// (`IMarginEngine.positionLimitOf`: 1 for an ISOLATED account).
    error MarketTooManyPositions(AccountId account, uint256 max);
    error MarketDifferentOwners(AccountId from, AccountId to);
    error MarketLengthMismatch();
    /// @notice A risk-reducing side that started at or above maintenance ends below IM with less
    /// excess over IM or over MM than before (`docs/margin-gate.md`).
    error MarketRiskIncreased(AccountId account, int256 excessBefore, int256 excessAfter);
    /// @notice A side that started below maintenance (liquidatable) ends below IM and still below
    /// maintenance: while liquidatable, an account may only change its positions in ways that
    /// restore it, so bids priced on it stay valid (`docs/security.md`, finding 8).
    error MarketStillLiquidatable(AccountId account, int256 maintenanceExcessBefore, int256 maintenanceExcessAfter);
    /// @notice A side that started below maintenance ends below IM with less maintenance equity
    /// than before: it paid value away (premium above the mark, fees) that its creditors would
    /// have had (`docs/security.md`, finding 10).
    error MarketMaintenanceEquityFell(AccountId account, int256 equityMMBefore, int256 equityMMAfter);
    /// @notice The fee account was named as a maker, taker, transfer party or receiver of a
    /// liquidation slice: it only ever receives fees (`docs/security.md`, finding 6).
    error MarketFeeAccountNotAllowed(AccountId account);
    /// @notice A new fee account holds positions or owes cash, or is the settlement account.
    error MarketInvalidFeeAccount(AccountId account);
    error MarketPausedNewRisk(AccountId account);
    /// @notice The engine's valuation of a side failed without a reason (out of gas): only a
    /// price failure, which reverts with the oracle's own error, counts as "no price".
    error MarketValuationFailed(AccountId account);
    error MarketInvalidFees(uint256 makerFeeWad, uint256 takerFeeWad);
    error MarketAmountTooLarge(uint256 amount);
    /// @notice A fill, transfer or liquidation slice would take the position of `account` in
    /// `seriesId` to `balance`, larger in size than `MAX_BALANCE` (2^90 − 1 WAD contracts), the most
    /// a book entry holds (`docs/performance.md`). Checked before anything is written.
    error MarketBalanceTooLarge(AccountId account, SeriesId seriesId, int256 balance);
    /// @notice A position transfer named the same account as source and destination.
    error MarketSelfTransfer(AccountId account);
    /// @notice A transfer moves more than `account` holds of `seriesId`, or the opposite side.
    error MarketInsufficientPosition(AccountId account, SeriesId seriesId, int256 balance, int256 amount);

    error MarketSeriesNotExpired(SeriesId seriesId, uint256 expiry);
    error MarketSettlementPriceMissing(SeriesId seriesId);
    error MarketNothingToSettle(AccountId account, SeriesId seriesId);
    error MarketInvalidFraction(uint256 fractionWad);
    /// @notice The account hook is set once; it cannot be replaced.
    error MarketAccountHookAlreadySet();
    /// @notice A fill would raise the open interest of `seriesId` past the per-series cap of its
    /// underlying; `room` is what the series could still take (cap − open interest before, or 0).
    error MarketSeriesOpenInterestCap(SeriesId seriesId, uint256 cap, uint256 room);
    /// @notice A fill would raise the open interest summed over every series of underlying
    /// `underlyingIndex` past its cap; `room` is what the underlying could still take.
    error MarketUnderlyingOpenInterestCap(uint16 underlyingIndex, uint256 cap, uint256 room);
    /// @notice Open-interest caps outside the bounds: each is 0 (no cap) or within
    /// [`MIN_OPEN_INTEREST_CAP`, `MAX_AMOUNT`], and a per-series cap is at most the underlying's.
    error MarketInvalidOpenInterestCaps(uint16 underlyingIndex, uint256 seriesCap, uint256 underlyingCap);

    // ---------------------------------------------------------------- events

    event SeriesCreated(
        SeriesId indexed seriesId,
        uint16 indexed underlyingIndex,
        uint256 expiry,
        uint256 strikeWad,
        bool isCall
    );
    event OrderFilled(
        bytes32 indexed orderHash,
        AccountId indexed maker,
        AccountId indexed taker,
        SeriesId seriesId,
        int256 makerDelta,
        uint256 priceWad,
        uint256 premium,
        uint256 makerFee,
        uint256 takerFee
    );
    event OrderCancelled(bytes32 indexed orderHash, AccountId indexed account);
    event MinNonceSet(AccountId indexed account, uint256 minNonce);
    event PositionChanged(AccountId indexed account, SeriesId indexed seriesId, int256 balance);
    event PositionsTransferred(AccountId indexed from, AccountId indexed to, SeriesId[] seriesIds, int256[] amounts);
    /// @notice The maker and taker fee rates changed.
    event FeesSet(uint256 makerFeeWad, uint256 takerFeeWad);
    /// @notice The account that receives fees changed (0: no fees are charged).
    event FeeAccountSet(AccountId indexed feeAccount);
    /// @notice An expired position was settled: `payoff` cash units paid to (> 0) or by (< 0) the account.
    event PositionSettled(AccountId indexed account, SeriesId indexed seriesId, int256 balance, int256 payoff);
    /// @notice A module moved `fractionWad` of every position of `from` to `to`.
    event PositionsSliced(AccountId indexed from, AccountId indexed to, uint256 fractionWad);
    /// @notice The account hook (the liquidator) was set.
    event AccountHookSet(address hook);
    /// @notice The open-interest caps of an underlying changed (WAD contracts; 0: no cap).
    event OpenInterestCapsSet(uint16 indexed underlyingIndex, uint256 seriesCap, uint256 underlyingCap);
    /// @notice An expired series left its underlying's open interest; `openInterest` is what it
    /// still had (longs not yet settled), which no longer counts against the underlying cap.
    event SeriesRetired(SeriesId indexed seriesId, uint256 openInterest);

    // ---------------------------------------------------------------- series

    /// @notice Creates a series for a listed underlying, on the expiry grid and within the
    /// horizon, struck at least at spot / `MIN_STRIKE_DIVISOR` (`MarketStrikeBelowBand`; it reads
    /// the spot, so it fails with the oracle's error without a valid price). Permissionless;
    /// creating an existing series returns its id, with no checks (spot may have moved since).
    function createSeries(SeriesLib.Series calldata series) external returns (SeriesId seriesId);

    // ---------------------------------------------------------------- trading

    /// @notice Fills `fillSize` (WAD contracts, unsigned) of `order` for `takerAccount` at the
    /// order's price. The caller must be authorized for `takerAccount`; neither side may be the
    /// fee account. Moves positions, premium and fees in cash, then passes both accounts
    /// through the margin gate (`docs/margin-gate.md`).
    /// @return premium The premium moved, in cash token units.
    function fill(
        Order calldata order,
        bytes calldata signature,
        AccountId takerAccount,
        uint256 fillSize
    ) external returns (uint256 premium);

    /// @notice Cancels one order. Caller must be authorized for `order.account`.
    function cancelOrder(Order calldata order) external;

    /// @notice Kills every order of `account` with a nonce below `minNonce` (which only grows).
    function setMinNonce(AccountId account, uint256 minNonce) external;

    /// @notice Moves positions between two subaccounts of one owner (neither the fee account).
    /// Both pass the margin gate (`docs/margin-gate.md`): at or above IM, unless the move only
    /// reduces their risk.
    function transferPositions(
        AccountId from,
        AccountId to,
        SeriesId[] calldata seriesIds,
        int256[] calldata amounts
    ) external;

    // ---------------------------------------------------------------- settlement

    /// @notice Settles `account`'s position in an expired series at the posted settlement
    /// price: `balance × intrinsic` moves in cash between the account and the market's
    /// settlement account (longs receive, rounded down; shorts pay, rounded up), and the
    /// position closes. Permissionless.
    /// @return payoff Cash units paid to (> 0) or by (< 0) the account.
    function settle(AccountId account, SeriesId seriesId) external returns (int256 payoff);

    /// @notice `settle` for many pairs; pairs with nothing to settle are skipped, so
    /// competing keepers never revert each other's batches.
    /// @return settled How many pairs were settled.
    function settleBatch(
        AccountId[] calldata accounts,
        SeriesId[] calldata seriesIds
    ) external returns (uint256 settled);

    /// @notice Takes each expired series out of its underlying's open interest, so the longs
    /// still waiting for settlement stop holding room under the underlying cap (a fill can never
    /// raise an expired series' open interest). Permissionless; needs no settlement price; the
    /// keeper calls it at expiry, in one batch. Each id must exist (`MarketSeriesNotFound`) and be
    /// expired (`MarketSeriesNotExpired`); ids already retired or with no open interest are
    /// skipped (no revert), so a batch survives one of its ids being retired first. Emits
    /// `SeriesRetired` per series retired and returns how many were. Settling its positions later
    /// lowers only the series' own `openInterest`.
    function retireExpired(SeriesId[] calldata seriesIds) external returns (uint256 retired);

    // ---------------------------------------------------------------- modules

    /// @notice Moves `fractionWad` of every position of `from` into `to` (each amount
    /// truncated toward zero; the whole position at 1e18). Modules only (the liquidator),
    /// which check margin themselves. `to` may not be the fee account.
    function moduleSlicePositions(
        AccountId from,
        AccountId to,
        uint256 fractionWad
    ) external returns (SeriesId[] memory seriesIds, int256[] memory amounts);

    /// @notice Moves `amount` contracts of `seriesId` from `from` to `to`: part of what `from`
    /// holds (same sign, no larger: `MarketInsufficientPosition`) of a live series. Modules only
    /// (the backstop's deleveraging, which moves a bankrupt account's position onto an opposite
    /// holder so both shrink), which check margin themselves. `to` may not be the fee account.
    function moduleMovePosition(AccountId from, AccountId to, SeriesId seriesId, int256 amount) external;

    // ---------------------------------------------------------------- governance

    /// @notice Sets maker and taker fees, shares of the premium, WAD (risk manager), capped at
    /// `MAX_MAKER_FEE_WAD` and `MAX_TAKER_FEE_WAD`.
    function setFees(uint256 makerFeeWad, uint256 takerFeeWad) external;

    /// @notice Sets the open-interest caps of underlying `underlyingIndex`, WAD contracts (risk
    /// manager): `seriesCap` bounds the open interest of each of its series, `underlyingCap` the sum
    /// over all of them; 0 means no cap (the default). Each is 0 or within
    /// [`MIN_OPEN_INTEREST_CAP`, `MAX_AMOUNT`], and a per-series cap is at most a set underlying
    /// cap (`MarketInvalidOpenInterestCaps`); the underlying must be listed
    /// (`MarketUnderlyingNotListed`, as in `createSeries`). Only a fill that raises open interest is held to
    /// them (`MarketSeriesOpenInterestCap`, `MarketUnderlyingOpenInterestCap`); closing, transfers,
    /// liquidation slices and settlement never raise it and never meet a cap, so lowering a cap
    /// below the open interest already there only stops new positions.
    function setOpenInterestCaps(uint16 underlyingIndex, uint256 seriesCap, uint256 underlyingCap) external;

    /// @notice Names the account that receives fees, or 0 for none (admin: the timelock). It
    /// must hold no positions and owe no cash, and may not be the settlement account; from
    /// then on it can never trade, hold positions or receive a liquidation slice, so it can
    /// never owe cash either.
    function setFeeAccount(AccountId feeAccount) external;

    /// @notice Sets, once, the hook told about both sides of every position transfer and the
    /// sides of a fill the vault reports marked as auctioned (`ICollateralVault.markAuctioned`),
    /// after the margin gate (`IAccountHook.onAccountChanged`), so a trade that restores an
    /// account ends its auction. Admin only; reverts with `MarketZeroAddress` for the zero
    /// address and `MarketAccountHookAlreadySet` once set.
    function setAccountHook(IAccountHook hook) external;

    /// @notice The hook told after fills and transfers (zero until set).
    function accountHook() external view returns (IAccountHook);

    /// @notice Pauses new risk (guardian). Risk-reducing fills and transfers still pass the
    /// margin gate as usual.
    function pause() external;

    /// @notice Lifts the pause (guardian).
    function unpause() external;

    // ---------------------------------------------------------------- views

    function positionOf(AccountId account, SeriesId seriesId) external view returns (int256);

    /// @notice Every open position of `account` (ids and signed balances, aligned).
    function positionsOf(
        AccountId account
    ) external view returns (SeriesId[] memory seriesIds, int256[] memory balances);

    function seriesExists(SeriesId seriesId) external view returns (bool);

    /// @notice Σ of long balances of a series (= Σ of short balances, negated).
    function openInterest(SeriesId seriesId) external view returns (uint256);

    /// @notice Σ of `openInterest` over every series of underlying `underlyingIndex` not yet
    /// retired (`retireExpired`): what its underlying cap is held against.
    function underlyingOpenInterest(uint16 underlyingIndex) external view returns (uint256);

    /// @notice Whether `retireExpired` has taken the expired series out of its underlying's open
    /// interest.
    function seriesRetired(SeriesId seriesId) external view returns (bool);

    /// @notice The open-interest caps of underlying `underlyingIndex`, WAD contracts; 0: no cap.
    /// @return seriesCap The most open interest any one of its series may reach by a fill.
    /// @return underlyingCap The most open interest all its series together may reach by a fill.
    function openInterestCaps(uint16 underlyingIndex) external view returns (uint128 seriesCap, uint128 underlyingCap);

    function orderHash(Order calldata order) external view returns (bytes32);

    /// @notice Filled size of an order, WAD contracts; `type(uint256).max` once cancelled.
    function filled(bytes32 orderHash) external view returns (uint256);

    function minNonce(AccountId account) external view returns (uint256);

    /// @notice A digest of `account`'s positions (an opaque value, not a counter): it changes with
    /// every position change, and is the same again only for exactly the same book. A bid names the
    /// value it priced, so it cannot land on an account whose positions changed under it.
    function accountNonce(AccountId account) external view returns (uint256);

    /// @notice The market's own vault account that pays and receives settlement payoffs.
    function settlementAccount() external view returns (AccountId);

    function makerFeeWad() external view returns (uint256);

    function takerFeeWad() external view returns (uint256);

    /// @notice The account that receives fees (0: none). It never trades or holds positions.
    function feeAccount() external view returns (AccountId);
}
