// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {IAccountHook} from "../interfaces/IAccountHook.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {AccountLib} from "../libraries/AccountLib.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {MarginGate} from "../libraries/MarginGate.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";
import {MarketLimits, MarketLimitsState} from "./MarketLimits.sol";

/// @title OptionMarket
/// @notice Series, signed positions and settlement of EIP-712 signed orders. Value moves
/// in the vault (which must grant this contract MODULE_ROLE); every touched account then
/// passes the margin gate described in `docs/margin-gate.md`.
/// @dev The reentrancy guard is transient (EIP-1153). The position book keeps one word per open
/// position, its series and balance (`_book`), so a valuation reads one slot per position; a series
/// is found by scanning the book, whose first entry also holds its count, so opening a position in
/// an empty book writes one word: see `docs/performance.md`, "`market.fill`" and "Where the gas goes".
contract OptionMarket is MarketLimitsState, IOptionMarket, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    /// @notice Highest maker fee, as a share of the premium (0.5 %).
    uint256 public constant MAX_MAKER_FEE_WAD = 0.005e18;
    /// @notice Highest taker fee, as a share of the premium (1 %).
    uint256 public constant MAX_TAKER_FEE_WAD = 0.01e18;
    /// @notice Highest strike accepted, WAD USD.
    uint256 public constant MAX_STRIKE_WAD = 1e30;
    /// @notice A new series' strike is at least spot / `MIN_STRIKE_DIVISOR` (rounded down) at its
    /// creation: a put's floor is a share of its strike, so a put struck near zero would cost
    /// nothing to hold and could squat open-interest caps or reach `MAX_BALANCE` for free
    /// (docs/security.md, "Strike band").
    uint256 public constant MIN_STRIKE_DIVISOR = 10;
    /// @notice Furthest expiry accepted, counted from now.
    uint256 public constant MAX_EXPIRY_HORIZON = 365 days;
    /// @notice Expiries fall at 08:00 UTC of a day, like Deribit's.
    uint256 public constant EXPIRY_TIME_OF_DAY = 8 hours;
    /// @notice Largest fill or transfer amount, WAD contracts, so signed arithmetic never overflows.
    uint256 public constant MAX_AMOUNT = uint256(uint128(type(int128).max));
    /// @notice Largest size of one position, WAD contracts (2^90 − 1, about 1.2e9 contracts): what a
    /// book entry's 91 balance bits hold. A change that would take a balance past it reverts
    /// `MarketBalanceTooLarge`.
    uint256 public constant MAX_BALANCE = (1 << 90) - 1;
    /// @notice EIP-712 type hash of `Order`.
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        abi.encodePacked(
            "Order(uint256 account,uint256 seriesId,int256 size,uint256 priceWad,",
            "uint256 taker,uint256 nonce,uint256 deadline)"
        )
    );

    uint256 private constant WAD = 1e18;
    /// @dev A book entry (`_book`) holds a series in its low 157 bits and the signed balance in the 91
    /// bits above them (157..247); the top 8 bits (`COUNT_SHIFT`) of an account's first entry hold its
    /// number of open series, and are 0 in every other entry.
    /// The series is its id with the strike cut to 100 bits: a listed strike is at most
    /// `MAX_STRIKE_WAD` (1e30 < 2^100, enforced by `createSeries`, and every position is on a listed
    /// series), so the id's bits 100..127 are zero and its bits 128..184 (call flag, expiry,
    /// underlying) move down to 100..156. The balance is two's complement, read back by shifting the
    /// count's bits out and then shifting right arithmetically (`_find`, `_positionsOf`):
    /// |balance| ≤ `MAX_BALANCE`.
    uint256 private constant BALANCE_SHIFT = 157;
    /// @dev Where the count starts in an account's first entry; below it, an entry's series and balance.
    uint256 private constant COUNT_SHIFT = 248;
    /// @dev Every bit of an entry but the count's.
    uint256 private constant ENTRY_MASK = (1 << COUNT_SHIFT) - 1;
    uint256 private constant STRIKE_BITS = 100;
    uint256 private constant STRIKE_MASK = (1 << STRIKE_BITS) - 1;
    /// @dev The id's bits 128..184 (call flag, expiry 40 bits, underlying 16 bits): 57 bits.
    uint256 private constant TAIL_MASK = (1 << 57) - 1;
    /// @dev One open series in the count bits of an account's first entry.
    uint256 private constant ONE_OPEN = 1 << COUNT_SHIFT;
    /// @dev Most open series per account (`_book`).
    uint256 private constant MAX_OPEN = 128;

    ICollateralVault public immutable vault;
    IMarginEngine public immutable engine;
    /// @dev The cash token's decimals, checked once by `CashUnits`.
    uint8 private immutable _cashDecimals;
    /// @dev Runs `setOpenInterestCaps`, `retireExpired` and `setFees` as this market (DELEGATECALL), for room;
    /// created here, so its code is fixed with the market's.
    address private immutable _limits;
    /// @dev The engine's price oracle (immutable there too), read for the strike band and settlement.
    IPledgeOracle private immutable _oracle;

    /// @inheritdoc IOptionMarket
    mapping(bytes32 orderHash => uint256) public filled;
    /// @inheritdoc IOptionMarket
    mapping(AccountId account => uint256) public minNonce;
    /// @inheritdoc IOptionMarket
    AccountId public immutable settlementAccount;
    /// @inheritdoc IOptionMarket
    AccountId public feeAccount;
    /// @inheritdoc IOptionMarket
    IAccountHook public accountHook;

    /// @dev A series' word: 0 while it does not exist, then its open interest plus one (`seriesExists`,
    /// `openInterest`), so the fill that checks it exists has read its open interest too.
    mapping(SeriesId seriesId => uint256) private _series;
    /// @dev An account's open positions at places 0 .. count − 1 (swap-and-pop; order not meaningful),
    /// one word each: the series and the signed balance (`BALANCE_SHIFT`), so `positionsOf` reads one
    /// slot per position where a list of ids and a balance per id were two. A series is found by
    /// scanning these entries (`_find`): no index by series is kept. A fixed array, so its entries are
    /// consecutive slots from one hash, with no length slot: the count is in the first entry's top
    /// bits, so an account's first position is one new word, and a change that opens or closes none
    /// writes only its own entry. No nonce is kept either: `accountNonce` is a digest of the entries.
    /// `MAX_OPEN` is `MarginEngine.MAX_CROSS_POSITIONS`, the largest position limit the engine gives
    /// (PORTFOLIO's cap is at most 48).
    mapping(AccountId account => uint256[MAX_OPEN]) private _book;

    /// @dev One account's side of a fill, as the margin gate judges it (`docs/margin-gate.md`):
    /// what the fill does to it and, when reducing, its state before.
    struct Side {
        AccountId account;
        MarginGate.Change change;
        MarginGate.Before state;
        uint256 place;
        int256 held;
    }

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (a TimelockController in production).
    /// @param vault_ The collateral vault; it must grant this market MODULE_ROLE.
    /// @param engine_ The margin engine that values the accounts.
    constructor(address admin, ICollateralVault vault_, IMarginEngine engine_) EIP712("Pledge OptionMarket", "1") {
        if (admin == address(0) || address(vault_) == address(0) || address(engine_) == address(0)) {
            revert MarketZeroAddress();
        }
        vault = vault_;
        engine = engine_;
        _cashDecimals = CashUnits.checkDecimals(vault_.assetConfig(vault_.cashAsset()).decimals);
        settlementAccount = AccountLib.accountId(address(this), 0);
        _limits = address(new MarketLimits(engine_));
        _oracle = engine_.oracle();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- series

    /// @inheritdoc IOptionMarket
    function createSeries(SeriesLib.Series calldata series) external nonReentrant returns (SeriesId seriesId) {
        seriesId = SeriesLib.id(series);
        if (_series[seriesId] != 0) return seriesId;

        uint16 index = series.underlyingIndex;
        // The engine never writes index 0 or an index past its count, so the asset alone says
        // whether the underlying is listed (the check `setConcentrationParams` and `MarketLimits` make).
        address asset = engine.underlying(index).asset;
        if (asset == address(0)) revert MarketUnderlyingNotListed(index);
        uint256 strike = series.strikeWad;
        if (strike == 0 || strike > MAX_STRIKE_WAD) revert MarketInvalidStrike(strike);
        uint256 expiry = series.expiry;
        if (
            expiry <= block.timestamp ||
            expiry > block.timestamp + MAX_EXPIRY_HORIZON ||
            expiry % 1 days != EXPIRY_TIME_OF_DAY
        ) revert MarketInvalidExpiry(expiry);
        // Read last, so bad input is refused without a price; without one (stale feed, sequencer
        // down) the oracle's error refuses the series: new series are not an exit.
        uint256 minStrike = _oracle.spot(asset) / MIN_STRIKE_DIVISOR;
        if (strike < minStrike) revert MarketStrikeBelowBand(strike, minStrike);

        _series[seriesId] = 1; // exists, open interest 0
        emit SeriesCreated(seriesId, index, expiry, series.strikeWad, series.isCall);
    }

    // ---------------------------------------------------------------- trading

    /// @inheritdoc IOptionMarket
    /// @dev The premium is `fillSize × priceWad / 1e18` converted to cash units with one
    /// rounding, chosen so the maker never does worse than its signed limit: DOWN when the
    /// maker pays (buys), UP when the maker receives (sells). Fees round UP.
    function fill(
        Order calldata order,
        bytes calldata signature,
        AccountId takerAccount,
        uint256 fillSize
    ) external nonReentrant returns (uint256 premium) {
        bytes32 hash = orderHash(order);
        _checkFill(order, hash, takerAccount, fillSize);
        _checkSignature(order.account, hash, signature);

        int256 makerDelta = order.size > 0 ? int256(fillSize) : -int256(fillSize);
        Side memory maker = _side(order.account, order.seriesId, makerDelta);
        Side memory taker = _side(takerAccount, order.seriesId, -makerDelta);

        // Effects. fillSize ≤ remaining was checked, so this cannot overflow the order size.
        filled[hash] += fillSize;
        uint256 openInterestBefore = openInterest(order.seriesId);
        // Each side's place and balance were found by `_side`; the sides are different accounts
        // (`MarketSelfTrade`), so applying the maker's leaves the taker's where it was found.
        _applyDelta(maker.account, order.seriesId, maker.place, maker.held, makerDelta, 0);
        _applyDelta(taker.account, order.seriesId, taker.place, taker.held, -makerDelta, 0);
        _checkOpenInterestCaps(order.seriesId, openInterestBefore);

        bool makerMarked;
        bool takerMarked;
        (premium, makerMarked, takerMarked) = _settleCash(hash, order, maker.account, taker.account, fillSize);

        _checkBoth(
            maker.account,
            _gate(maker.account, maker.change, maker.state),
            taker.account,
            _gate(taker.account, taker.change, taker.state)
        );
        // Only a side the vault has marked can be under auction: the hook has nothing to do for
        // the others (`ICollateralVault.markAuctioned`), so the call and its cold reads are skipped.
        if (makerMarked) _notifyHook(maker.account);
        if (takerMarked) _notifyHook(taker.account);
    }

    /// @inheritdoc IOptionMarket
    function cancelOrder(Order calldata order) external nonReentrant {
        _checkAuthorized(order.account);
        bytes32 hash = orderHash(order);
        filled[hash] = type(uint256).max;
        emit OrderCancelled(hash, order.account);
    }

    /// @inheritdoc IOptionMarket
    function setMinNonce(AccountId account, uint256 newMinNonce) external nonReentrant {
        _checkAuthorized(account);
        uint256 current = minNonce[account];
        if (newMinNonce <= current) revert MarketInvalidNonce(current, newMinNonce);
        minNonce[account] = newMinNonce;
        emit MinNonceSet(account, newMinNonce);
    }

    /// @inheritdoc IOptionMarket
    /// @dev Each amount moves part of what `from` holds: same sign as `from`'s balance and
    /// no larger in size (`MarketInsufficientPosition`), so the move never opens a new
    /// position pair. `from`'s side is therefore always reducing; `to`'s is reducing when
    /// every step shrinks its balance toward zero.
    function transferPositions(
        AccountId from,
        AccountId to,
        SeriesId[] calldata seriesIds,
        int256[] calldata amounts
    ) external nonReentrant {
        if (AccountLib.ownerOf(from) != AccountLib.ownerOf(to)) revert MarketDifferentOwners(from, to);
        if (from == to) revert MarketSelfTransfer(from);
        _checkNotFeeAccount(from);
        _checkNotFeeAccount(to);
        _checkAuthorized(from);
        uint256 n = seriesIds.length;
        if (n != amounts.length || n == 0) revert MarketLengthMismatch();

        // `to`'s excess is read up front (when the price allows) because whether its side
        // reduces risk is only known once duplicate ids have been applied in order.
        MarginGate.Before memory sourceBefore = _stateBefore(from);
        MarginGate.Before memory targetBefore = _stateBefore(to);
        (MarginGate.Change memory source, MarginGate.Change memory target) = _moveParts(from, to, seriesIds, amounts);
        emit PositionsTransferred(from, to, seriesIds, amounts);

        _checkBoth(from, _gate(from, source, sourceBefore), to, _gate(to, target, targetBefore));
        _notifyHook(from);
        _notifyHook(to);
    }

    /// @dev Applies a transfer's steps in order and says what they did to each side: `from` is
    /// always reducing (each step is checked to be part of what it holds); `to` is reducing only
    /// if every step moved its balance toward zero. Moving a long part out, or a short part onto
    /// a long, gives up a long.
    function _moveParts(
        AccountId from,
        AccountId to,
        SeriesId[] calldata seriesIds,
        int256[] calldata amounts
    ) private returns (MarginGate.Change memory source, MarginGate.Change memory target) {
        source.reducing = true;
        target.reducing = true;
        for (uint256 i; i < seriesIds.length; ++i) {
            SeriesId seriesId = seriesIds[i];
            int256 amount = amounts[i];
            if (amount == 0) revert MarketZeroAmount();
            if (SignedMath.abs(amount) > MAX_AMOUNT) revert MarketAmountTooLarge(SignedMath.abs(amount));
            // Found in the loop, after the previous step's writes: an id may appear more than once.
            (uint256 fromPlace, int256 held) = _find(from, seriesId);
            if (!MarginGate.isReducing(held, -amount)) revert MarketInsufficientPosition(from, seriesId, held, amount);
            _checkSeriesLive(seriesId);
            (uint256 toPlace, int256 received) = _find(to, seriesId);
            if (!MarginGate.isReducing(received, amount)) target.reducing = false;
            if (amount > 0) source.givesUpLong = true;
            if (amount < 0 && received > 0) target.givesUpLong = true;
            _applyDelta(from, seriesId, fromPlace, held, -amount, 0);
            _applyDelta(to, seriesId, toPlace, received, amount, 0);
        }
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IOptionMarket
    function settle(AccountId account, SeriesId seriesId) external nonReentrant returns (int256 payoff) {
        uint256 priceWad = _settlementPrice(seriesId);
        (uint256 place, int256 balance) = _find(account, seriesId);
        if (place == 0) revert MarketNothingToSettle(account, seriesId);
        payoff = _settle(account, seriesId, place, balance, priceWad);
    }

    /// @inheritdoc IOptionMarket
    function settleBatch(
        AccountId[] calldata accounts,
        SeriesId[] calldata seriesIds
    ) external nonReentrant returns (uint256 settled) {
        uint256 n = accounts.length;
        if (n != seriesIds.length || n == 0) revert MarketLengthMismatch();
        SeriesId lastSeries;
        uint256 priceWad;
        for (uint256 i; i < n; ++i) {
            SeriesId seriesId = seriesIds[i];
            // Batches are usually sorted by series: read each settlement price once.
            if (seriesId != lastSeries || i == 0) (lastSeries, priceWad) = (seriesId, _settlementPrice(seriesId));
            // Found after the previous settlements' writes: a pair may appear twice (then it is flat).
            (uint256 place, int256 balance) = _find(accounts[i], seriesId);
            if (place == 0) continue;
            _settle(accounts[i], seriesId, place, balance, priceWad);
            ++settled;
        }
    }

    /// @inheritdoc IOptionMarket
    /// @dev Runs in `MarketLimits` on this market's storage.
    function retireExpired(SeriesId[] calldata) external returns (uint256) {
        _delegateToLimits();
    }

    // ---------------------------------------------------------------- modules

    /// @inheritdoc IOptionMarket
    /// @dev `PositionChanged` is emitted for every `from` position first (its last book entry first),
    /// then for `to`'s in `from`'s book order; the returned arrays are in `from`'s book order.
    function moduleSlicePositions(
        AccountId from,
        AccountId to,
        uint256 fractionWad
    ) external onlyRole(Roles.MODULE_ROLE) returns (SeriesId[] memory seriesIds, int256[] memory amounts) {
        if (fractionWad == 0 || fractionWad > WAD) revert MarketInvalidFraction(fractionWad);
        if (from == to) revert MarketSelfTransfer(from);
        // The fee account never holds positions, so it can never be made a bidder.
        _checkNotFeeAccount(to);
        // Copy first: moving a whole position removes it from the book being read.
        int256[] memory held;
        (seriesIds, held) = _positionsOf(from);
        amounts = new int256[](seriesIds.length);
        // The receiver's position limit (a bidder's or the insurance fund's), asked once for every
        // series the slice opens for it: it depends only on the engine's mode and cap, and this
        // loop calls nothing that could change them (`_applyDelta` calls only the immutable
        // engine's views). A close within the slice frees a place: `_open` re-reads the count.
        uint256 toLimit = engine.positionLimitOf(to);
        uint256 n = seriesIds.length;
        // `from`'s side first, from the last entry down, with no scan: below WAD no position closes
        // (|amount| < |held|), so series i stays at place i + 1 with balance held[i]; at WAD every
        // one closes, and closing from the end leaves place i + 1 the last entry each time (a pop,
        // no swap). Only reducing, so it opens nothing and refuses nothing.
        for (uint256 i = n; i != 0;) {
            --i;
            // Truncation toward zero leaves any rounding remainder with `from`.
            int256 amount = fractionWad == WAD ? held[i] : (held[i] * int256(fractionWad)) / int256(WAD);
            amounts[i] = amount;
            if (amount != 0) _applyDelta(from, seriesIds[i], i + 1, held[i], -amount, 0);
        }
        // Then `to`'s, in `from`'s book order (the order its openings, closes and limit meet), each
        // series found in its book after the previous ones were applied.
        for (uint256 i; i < n; ++i) {
            int256 amount = amounts[i];
            if (amount == 0) continue;
            (uint256 place, int256 before) = _find(to, seriesIds[i]);
            _applyDelta(to, seriesIds[i], place, before, amount, toLimit);
        }
        emit PositionsSliced(from, to, fractionWad);
    }

    /// @inheritdoc IOptionMarket
    function moduleMovePosition(
        AccountId from,
        AccountId to,
        SeriesId seriesId,
        int256 amount
    ) external onlyRole(Roles.MODULE_ROLE) {
        if (from == to) revert MarketSelfTransfer(from);
        _checkNotFeeAccount(to);
        (uint256 fromPlace, int256 held) = _find(from, seriesId);
        // `isReducing` refuses a zero amount, a sign change and more than `from` holds.
        if (!MarginGate.isReducing(held, -amount)) revert MarketInsufficientPosition(from, seriesId, held, amount);
        _checkSeriesLive(seriesId);
        _applyDelta(from, seriesId, fromPlace, held, -amount, 0);
        (uint256 toPlace, int256 received) = _find(to, seriesId);
        _applyDelta(to, seriesId, toPlace, received, amount, 0);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IOptionMarket
    function setAccountHook(IAccountHook hook) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(hook) == address(0)) revert MarketZeroAddress();
        if (address(accountHook) != address(0)) revert MarketAccountHookAlreadySet();
        accountHook = hook;
        emit AccountHookSet(address(hook));
    }

    /// @inheritdoc IOptionMarket
    /// @dev Runs in `MarketLimits` on this market's storage; the role is checked there.
    function setFees(uint256, uint256) external {
        _delegateToLimits();
    }

    /// @inheritdoc IOptionMarket
    /// @dev Runs in `MarketLimits` on this market's storage; the role is checked there.
    function setOpenInterestCaps(uint16, uint256, uint256) external {
        _delegateToLimits();
    }

    /// @inheritdoc IOptionMarket
    function setFeeAccount(AccountId newFeeAccount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // The fee account only ever receives cash: it must start with nothing it could owe.
        if (
            !newFeeAccount.isZero() &&
            (newFeeAccount == settlementAccount || _book[newFeeAccount][0] != 0 || vault.cashOf(newFeeAccount) < 0)
        ) revert MarketInvalidFeeAccount(newFeeAccount);
        feeAccount = newFeeAccount;
        emit FeeAccountSet(newFeeAccount);
    }

    /// @inheritdoc IOptionMarket
    function pause() external onlyRole(Roles.GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IOptionMarket
    function unpause() external onlyRole(Roles.GUARDIAN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IOptionMarket
    function positionOf(AccountId account, SeriesId seriesId) external view returns (int256) {
        (, int256 held) = _find(account, seriesId);
        return held;
    }

    /// @inheritdoc IOptionMarket
    /// @dev One storage read per position (`_book`); the first entry also gives the count.
    function positionsOf(
        AccountId account
    ) external view returns (SeriesId[] memory seriesIds, int256[] memory balances) {
        return _positionsOf(account);
    }

    /// @inheritdoc IOptionMarket
    function seriesExists(SeriesId seriesId) external view returns (bool) {
        return _series[seriesId] != 0;
    }

    /// @inheritdoc IOptionMarket
    function openInterest(SeriesId seriesId) public view returns (uint256) {
        uint256 word = _series[seriesId];
        return word == 0 ? 0 : word - 1;
    }

    /// @inheritdoc IOptionMarket
    /// @dev A keccak-256 digest of the account's book entries, in book order: every position change
    /// writes an entry (its series and balance, or the count), so the digest changes with it. A book
    /// that returns to exactly the same entries has the same digest again, which is what the
    /// liquidator's check needs: the positions a bid priced are the positions it takes.
    function accountNonce(AccountId account) external view returns (uint256 digest) {
        uint256[MAX_OPEN] storage book = _book[account];
        uint256 count = book[0] >> COUNT_SHIFT;
        // The entries copied past the free-memory pointer (scratch, not allocated) and hashed.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            for {
                let i := 0
            } lt(i, count) {
                i := add(i, 1)
            } {
                mstore(add(ptr, shl(5, i)), sload(add(book.slot, i)))
            }
            digest := keccak256(ptr, shl(5, count))
        }
    }

    /// @inheritdoc IOptionMarket
    function makerFeeWad() external view returns (uint256) {
        return _makerFeeWad;
    }

    /// @inheritdoc IOptionMarket
    function takerFeeWad() external view returns (uint256) {
        return _takerFeeWad;
    }

    /// @inheritdoc IOptionMarket
    function underlyingOpenInterest(uint16 underlyingIndex) external view returns (uint256) {
        return _underlyingOpenInterest[underlyingIndex];
    }

    /// @inheritdoc IOptionMarket
    function openInterestCaps(uint16 underlyingIndex) external view returns (uint128 seriesCap, uint128 underlyingCap) {
        OpenInterestCaps memory caps = _openInterestCaps[underlyingIndex];
        return (caps.seriesCap, caps.underlyingCap);
    }

    /// @inheritdoc IOptionMarket
    function seriesRetired(SeriesId seriesId) external view returns (bool) {
        return _seriesRetired[seriesId];
    }

    /// @inheritdoc IOptionMarket
    /// @dev The EIP-712 digest: it binds the chain id and this contract, so it is also the
    /// key of `filled` and cannot collide across chains or market instances.
    function orderHash(Order calldata order) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ORDER_TYPEHASH, order)));
    }

    // ---------------------------------------------------------------- internal

    /// @dev The posted settlement price of an expired series, or a specific revert.
    function _settlementPrice(SeriesId seriesId) private view returns (uint256 priceWad) {
        uint256 expiry = _checkExpired(seriesId);
        address asset = engine.underlying(SeriesLib.underlyingIndexOf(seriesId)).asset;
        bool posted;
        (priceWad, posted) = _oracle.settlementPrice(asset, expiry);
        if (!posted) revert MarketSettlementPriceMissing(seriesId);
    }

    /// @dev The expiry of an existing series that has expired, or a specific revert.
    function _checkExpired(SeriesId seriesId) private view returns (uint256 expiry) {
        if (_series[seriesId] == 0) revert MarketSeriesNotFound(seriesId);
        expiry = SeriesLib.expiryOf(seriesId);
        if (block.timestamp < expiry) revert MarketSeriesNotExpired(seriesId, expiry);
    }

    /// @dev Closes a position at `priceWad`; longs receive rounded down, shorts pay rounded up,
    /// so the settlement account never pays out more than it takes in over a series.
    function _settle(
        AccountId account,
        SeriesId seriesId,
        uint256 place,
        int256 balance,
        uint256 priceWad
    ) private returns (int256 payoff) {
        uint256 strike = SeriesLib.strikeOf(seriesId);
        uint256 intrinsic =
            SeriesLib.isCallOf(seriesId)
                ? (priceWad > strike ? priceWad - strike : 0)
                : (strike > priceWad ? strike - priceWad : 0);
        bool isLong = balance > 0;
        uint256 cash =
            isLong
                ? CashUnits.mulWadToCashDown(SignedMath.abs(balance), intrinsic, _cashDecimals)
                : CashUnits.mulWadToCashUp(SignedMath.abs(balance), intrinsic, _cashDecimals);
        _applyDelta(account, seriesId, place, balance, -balance, 0);
        payoff = isLong ? int256(cash) : -int256(cash);
        emit PositionSettled(account, seriesId, balance, payoff);
        if (cash != 0) {
            if (isLong) vault.moveCash(settlementAccount, account, cash);
            else vault.moveCash(account, settlementAccount, cash);
        }
    }

    function _checkFill(Order calldata order, bytes32 hash, AccountId takerAccount, uint256 fillSize) private view {
        if (fillSize == 0) revert MarketZeroAmount();
        if (fillSize > MAX_AMOUNT) revert MarketAmountTooLarge(fillSize);
        _checkAuthorized(takerAccount);
        uint256 done = filled[hash];
        if (done == type(uint256).max) revert MarketOrderCancelled(hash);
        if (block.timestamp > order.deadline) revert MarketOrderExpired(hash, order.deadline);
        uint256 floor = minNonce[order.account];
        if (order.nonce < floor) revert MarketOrderNonceTooLow(hash, order.nonce, floor);
        if (!order.taker.isZero() && order.taker != takerAccount) revert MarketWrongTaker(hash, order.taker);
        if (order.account == takerAccount) revert MarketSelfTrade(takerAccount);
        _checkNotFeeAccount(order.account);
        _checkNotFeeAccount(takerAccount);
        _checkSeriesLive(order.seriesId);
        // `done` never exceeds |size|: every fill is checked against the remainder.
        uint256 remaining = SignedMath.abs(order.size) - done;
        if (fillSize > remaining) revert MarketOverfill(hash, remaining, fillSize);
    }

    /// @dev Valid if the owner's key signed, or an operator the owner approved in the vault
    /// signed with its key, or the owner is a contract whose ERC-1271 check approves. The ECDSA
    /// test comes first and does not look at the owner's code, so an EOA that delegated its
    /// code (EIP-7702) to a contract without ERC-1271 still signs with its own key.
    function _checkSignature(AccountId account, bytes32 hash, bytes calldata signature) private view {
        address owner = AccountLib.ownerOf(account);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && (signer == owner || vault.isOperator(owner, signer))) return;
        if (owner.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(owner, hash, signature)) {
            return;
        }
        revert MarketInvalidSignature(hash);
    }

    function _checkSeriesLive(SeriesId seriesId) private view {
        if (_series[seriesId] == 0) revert MarketSeriesNotFound(seriesId);
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (block.timestamp >= expiry) revert MarketSeriesExpired(seriesId, expiry);
    }

    /// @dev The fee account only ever receives fees: it never trades, holds positions or owes cash.
    function _checkNotFeeAccount(AccountId account) private view {
        if (account == feeAccount && !account.isZero()) revert MarketFeeAccountNotAllowed(account);
    }

    function _checkAuthorized(AccountId account) private view {
        if (!vault.isAuthorized(account, msg.sender)) revert MarketUnauthorized(account, msg.sender);
    }

    /// @dev One side of a fill: reducing when the position moves toward zero without crossing
    /// it, then giving up a long when that position is a long. Only a reducing side is read before.
    /// The balance bound is checked here, before the fill writes anything.
    function _side(AccountId account, SeriesId seriesId, int256 delta) private view returns (Side memory side) {
        (uint256 place, int256 held) = _find(account, seriesId);
        _checkBalance(account, seriesId, held + delta);
        side.account = account;
        (side.place, side.held) = (place, held);
        side.change.reducing = MarginGate.isReducing(held, delta);
        side.change.givesUpLong = side.change.reducing && held > 0;
        if (side.change.reducing) side.state = _stateBefore(account);
    }

    /// @dev Values a side before the action (`try`: without a valid price it records its cash
    /// instead, and the side is unpriced).
    function _stateBefore(AccountId account) private view returns (MarginGate.Before memory state) {
        try engine.accountMargin(account) returns (IMarginEngine.MarginState memory margin) {
            state.priced = true;
            state.margin = _margin(margin);
        } catch (bytes memory reason) {
            // A price failure reverts with the oracle's custom error. Empty revert data is what
            // running out of gas leaves: a caller starving the valuation must not turn a priced
            // account into an "unpriced" one and skip the rules for liquidatable accounts.
            if (reason.length == 0) revert MarketValuationFailed(account);
            state.cash = vault.cashOf(account);
        }
    }

    /// @dev A reducing side after the action: valued again if it was priced before (at the same
    /// prices: one transaction), else its cash and whether it holds a short, which need no price.
    function _stateAfter(
        AccountId account,
        MarginGate.Before memory beforeState
    ) private view returns (MarginGate.After memory state) {
        if (beforeState.priced) {
            state.margin = _margin(engine.accountMargin(account));
            return state;
        }
        state.cash = vault.cashOf(account);
        // Read the book in place and stop at the first short (a copy would read every entry). An
        // entry's balance sits just below the count's bits, so with those shifted out the entry is
        // negative exactly when the balance is.
        uint256[MAX_OPEN] storage book = _book[account];
        uint256 count = book[0] >> COUNT_SHIFT;
        for (uint256 i; i < count; ++i) {
            if (int256(book[i] << (256 - COUNT_SHIFT)) < 0) {
                state.holdsShort = true;
                break;
            }
        }
    }

    /// @dev The engine's state as the gate compares it: excesses over IM and MM, and `equityMM`.
    function _margin(IMarginEngine.MarginState memory margin) private pure returns (MarginGate.Margin memory) {
        return
            MarginGate.Margin({
                initialExcess: margin.equityIM - int256(margin.requirementIM),
                maintenanceExcess: margin.equityMM - int256(margin.requirementMM),
                maintenanceEquity: margin.equityMM
            });
    }

    /// @dev Tells the account hook (the liquidator) that `account` changed, so a trade that
    /// restored it ends its auction. Called after the margin gate; the hook never reverts.
    function _notifyHook(AccountId account) private {
        IAccountHook hook = accountHook;
        if (address(hook) != address(0)) hook.onAccountChanged(account);
    }

    /// @dev Runs the IM checks two gates asked for (`_gate`), the first side's first: both in one
    /// engine call when both need one (the prices are read once), which fails closed without a
    /// price as `checkInitialMargin` does.
    function _checkBoth(AccountId first, bool firstNeedsIM, AccountId second, bool secondNeedsIM) private view {
        if (firstNeedsIM && secondNeedsIM) engine.checkInitialMargins(first, second);
        else if (firstNeedsIM) engine.checkInitialMargin(first);
        else if (secondNeedsIM) engine.checkInitialMargin(second);
    }

    /// @dev The margin gate (`docs/margin-gate.md`): reads the side's state after the action when
    /// the verdict needs it, asks `MarginGate` for the verdict and turns a refusal into its error.
    /// Returns whether it needs an IM check, which the caller runs (`_checkBoth`) once both sides'
    /// gates have passed.
    function _gate(
        AccountId account,
        MarginGate.Change memory change,
        MarginGate.Before memory beforeState
    ) private view returns (bool needsInitialMarginCheck) {
        MarginGate.After memory afterState;
        if (change.reducing) afterState = _stateAfter(account, beforeState);
        MarginGate.Verdict verdict = MarginGate.verdict(
            change,
            beforeState,
            afterState,
            paused(),
            CashUnits.unitWadUp(_cashDecimals)
        );
        if (verdict == MarginGate.Verdict.Pass) return false;
        if (verdict == MarginGate.Verdict.NeedsInitialMarginCheck) return true;
        if (verdict == MarginGate.Verdict.PausedNewRisk) revert MarketPausedNewRisk(account);
        MarginGate.Margin memory prior = beforeState.margin;
        MarginGate.Margin memory post = afterState.margin;
        if (verdict == MarginGate.Verdict.StillLiquidatable) {
            revert MarketStillLiquidatable(account, prior.maintenanceExcess, post.maintenanceExcess);
        }
        if (verdict == MarginGate.Verdict.MaintenanceEquityFell) {
            revert MarketMaintenanceEquityFell(account, prior.maintenanceEquity, post.maintenanceEquity);
        }
        revert MarketRiskIncreased(account, prior.initialExcess, post.initialExcess);
    }

    /// @dev Emits the fill and moves premium and fees in the vault (a trusted module call). Says
    /// whether each side carries the vault's auction mark, as the premium's move reports it; with
    /// no premium (and so no fee) nothing is moved and both count as marked, so the hook is asked.
    function _settleCash(
        bytes32 hash,
        Order calldata order,
        AccountId maker,
        AccountId taker,
        uint256 fillSize
    ) private returns (uint256 premium, bool makerMarked, bool takerMarked) {
        // The maker pays when it buys (`order.size > 0`), read from calldata where needed: two more
        // locals would not fit the stack beside the returned marks.
        premium =
            order.size > 0
                ? CashUnits.mulWadToCashDown(fillSize, order.priceWad, _cashDecimals)
                : CashUnits.mulWadToCashUp(fillSize, order.priceWad, _cashDecimals);
        uint256 makerFee = _fee(premium, _makerFeeWad);
        uint256 takerFee = _fee(premium, _takerFeeWad);
        emit OrderFilled(
            hash,
            maker,
            taker,
            order.seriesId,
            order.size > 0 ? int256(fillSize) : -int256(fillSize),
            order.priceWad,
            premium,
            makerFee,
            takerFee
        );

        if (premium == 0) return (0, true, true);
        if (order.size > 0) (makerMarked, takerMarked, ) = vault.moveCash(maker, taker, premium);
        else (takerMarked, makerMarked, ) = vault.moveCash(taker, maker, premium);
        if (makerFee != 0) vault.moveCash(maker, feeAccount, makerFee);
        if (takerFee != 0) vault.moveCash(taker, feeAccount, takerFee);
    }

    function _fee(uint256 premium, uint256 feeWad) private view returns (uint256) {
        // No fee account: nothing to charge. (The fee account itself never trades.)
        if (feeAccount.isZero()) return 0;
        return Math.mulDiv(premium, feeWad, WAD, Math.Rounding.Ceil);
    }

    /// @dev Adds `delta` to a position, keeping the book, caps and open interest in step: the
    /// position's book entry and, when it opens or closes, the count (the first entry) and the moved
    /// entry, each written once. `place` and `before` are the position's place (plus one; 0
    /// when flat) and balance as the caller found them (`_find`, or a slice's copy of the book)
    /// after every earlier write to this account's book, so each change scans the book at most once.
    /// `limit` is the account's position limit if the caller knows it, or 0 to ask the engine should
    /// it open.
    function _applyDelta(
        AccountId account,
        SeriesId seriesId,
        uint256 place,
        int256 before,
        int256 delta,
        uint256 limit
    ) private {
        uint256[MAX_OPEN] storage book = _book[account];
        // |before| ≤ MAX_BALANCE and |delta| ≤ MAX_AMOUNT (every caller bounds it): the sum cannot
        // overflow, and the bound is checked before anything is written.
        int256 balance = before + delta;
        _checkBalance(account, seriesId, balance);
        if (before == 0) {
            _open(book, account, seriesId, balance, limit);
        } else if (balance == 0) {
            _close(book, place);
        } else {
            // The first entry keeps the count's bits.
            book[place - 1] = _entry(seriesId, balance) | (place == 1 ? book[0] & ~ENTRY_MASK : 0);
        }
        // Open interest is Σ longs: add the new long part, remove the old one.
        uint256 longBefore = before > 0 ? uint256(before) : 0;
        uint256 longAfter = balance > 0 ? uint256(balance) : 0;
        if (longAfter != longBefore) {
            // The series exists (every caller checked it or holds it): its word is open interest + 1.
            _series[seriesId] = _series[seriesId] + longAfter - longBefore;
            // The underlying counts unretired series only. A live series is never retired, so a
            // fill reads no flag (the expiry is in the id); only expired series pay the read.
            if (block.timestamp < SeriesLib.expiryOf(seriesId) || !_seriesRetired[seriesId]) {
                uint16 u = SeriesLib.underlyingIndexOf(seriesId);
                _underlyingOpenInterest[u] = _underlyingOpenInterest[u] + longAfter - longBefore;
            }
        }
        emit PositionChanged(account, seriesId, balance);
    }

    /// @dev Holds a fill to its underlying's open-interest caps, only when it raised the series'
    /// open interest: a fill where either side only closes, every transfer and liquidation slice
    /// (which move existing contracts) and settlement never raise it, so exits never meet a cap.
    /// The room named is the cap less the open interest before the fill (0 when already above).
    function _checkOpenInterestCaps(SeriesId seriesId, uint256 before) private view {
        uint256 seriesOpenInterest = openInterest(seriesId);
        if (seriesOpenInterest <= before) return;
        uint16 u = SeriesLib.underlyingIndexOf(seriesId);
        OpenInterestCaps memory caps = _openInterestCaps[u];
        uint256 cap = caps.seriesCap;
        if (cap != 0 && seriesOpenInterest > cap) {
            revert MarketSeriesOpenInterestCap(seriesId, cap, cap > before ? cap - before : 0);
        }
        cap = caps.underlyingCap;
        uint256 total = _underlyingOpenInterest[u];
        if (cap != 0 && total > cap) {
            // The fill raised the underlying's open interest by exactly what it raised the series'.
            uint256 totalBefore = total - (seriesOpenInterest - before);
            revert MarketUnderlyingOpenInterestCap(u, cap, cap > totalBefore ? cap - totalBefore : 0);
        }
    }

    /// @dev Runs this call's calldata in `MarketLimits` as this market (DELEGATECALL) and returns
    /// or reverts with what it did.
    function _delegateToLimits() private {
        address limits = _limits;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), limits, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) {
                revert(ptr, returndatasize())
            }
            return(ptr, returndatasize())
        }
    }

    /// @dev Appends the position to the account's book and raises the count.
    function _open(
        uint256[MAX_OPEN] storage book,
        AccountId account,
        SeriesId seriesId,
        int256 balance,
        uint256 limit
    ) private {
        uint256 head = book[0];
        uint256 count = head >> COUNT_SHIFT;
        // The limit is risk policy, set by the account's margin mode on the engine's side (0: not
        // asked yet; a slice asks once for all it opens).
        if (limit == 0) limit = engine.positionLimitOf(account);
        // The engine's limits are at most MAX_OPEN; the book could hold no more.
        if (limit > MAX_OPEN) limit = MAX_OPEN;
        if (count >= limit) revert MarketTooManyPositions(account, limit);
        uint256 entry = _entry(seriesId, balance);
        // count < limit ≤ MAX_OPEN < 2^8: the raised count fits its bits.
        if (count == 0) {
            book[0] = entry | ONE_OPEN;
        } else {
            book[count] = entry;
            book[0] = head + ONE_OPEN;
        }
    }

    /// @dev Removes the position at `place` (plus one) from the account's book by moving the last
    /// entry into it (swap-and-pop keeps removal O(1)) and lowers the count. The moved entry carries
    /// its series, so nothing else is written; moved into the first place, it takes the count's bits.
    function _close(uint256[MAX_OPEN] storage book, uint256 place) private {
        uint256 head = book[0];
        uint256 last = (head >> COUNT_SHIFT) - 1;
        // The only position: the book is empty again, its first word 0.
        if (last == 0) {
            book[0] = 0;
            return;
        }
        if (place - 1 != last) {
            uint256 moved = book[last];
            if (place == 1) {
                book[0] = moved | (last << COUNT_SHIFT);
                book[last] = 0;
                return;
            }
            book[place - 1] = moved;
        }
        book[last] = 0;
        book[0] = head - ONE_OPEN;
    }

    /// @dev The account's open positions, in book order: one storage read per position.
    function _positionsOf(
        AccountId account
    ) private view returns (SeriesId[] memory seriesIds, int256[] memory balances) {
        uint256[MAX_OPEN] storage book = _book[account];
        (uint256 countShift, uint256 lift, uint256 shift, uint256 strikeBits, uint256 strikeMask, uint256 tailMask) = (
            COUNT_SHIFT,
            256 - COUNT_SHIFT,
            BALANCE_SHIFT + 256 - COUNT_SHIFT,
            STRIKE_BITS,
            STRIKE_MASK,
            TAIL_MASK
        );
        // Both arrays allocated here rather than with `new`, which would zero them first: the loop
        // writes every element. Each entry is unpacked (its series as `_seriesOf`; its balance by
        // shifting the count's bits out, then an arithmetic shift, as `_find`). count ≤ MAX_OPEN
        // (`_open` never writes past it), so neither the sizes nor the writes need checks.
        assembly ("memory-safe") {
            let base := book.slot
            let count := shr(countShift, sload(base))
            let size := shl(5, add(count, 1))
            seriesIds := mload(0x40)
            balances := add(seriesIds, size)
            mstore(0x40, add(balances, size))
            mstore(seriesIds, count)
            mstore(balances, count)
            let ids := add(seriesIds, 0x20)
            let values := add(balances, 0x20)
            for {
                let i := 0
            } lt(i, count) {
                i := add(i, 1)
            } {
                let entry := sload(add(base, i))
                let offset := shl(5, i)
                mstore(add(values, offset), sar(shift, shl(lift, entry)))
                mstore(add(ids, offset), or(shl(128, and(shr(strikeBits, entry), tailMask)), and(entry, strikeMask)))
            }
        }
    }

    /// @dev Where `seriesId` sits in the account's book (its index plus one; 0 when flat) and its
    /// balance, found by scanning the entries for its series bits (the low `BALANCE_SHIFT` bits).
    function _find(AccountId account, SeriesId seriesId) private view returns (uint256 place, int256 held) {
        uint256 key = _entry(seriesId, 0);
        // An id no entry can hold (bits the entry drops) is never held.
        if (SeriesId.unwrap(_seriesOf(key)) != SeriesId.unwrap(seriesId)) return (0, 0);
        uint256[MAX_OPEN] storage book = _book[account];
        (uint256 countShift, uint256 lift, uint256 shift, uint256 seriesMask) = (
            COUNT_SHIFT,
            256 - COUNT_SHIFT,
            BALANCE_SHIFT + 256 - COUNT_SHIFT,
            (1 << BALANCE_SHIFT) - 1
        );
        // The first entry is read once, for the count and as the first place scanned; the rest of
        // the scan is a loop with no branch but the match.
        assembly ("memory-safe") {
            let base := book.slot
            let entry := sload(base)
            let count := shr(countShift, entry)
            if count {
                switch eq(and(entry, seriesMask), key)
                case 1 {
                    place := 1
                    held := sar(shift, shl(lift, entry))
                }
                default {
                    for {
                        let i := 1
                    } lt(i, count) {
                        i := add(i, 1)
                    } {
                        entry := sload(add(base, i))
                        if eq(and(entry, seriesMask), key) {
                            place := add(i, 1)
                            held := sar(shift, shl(lift, entry))
                            break
                        }
                    }
                }
            }
        }
    }

    /// @dev Refuses a balance the book cannot hold (`MAX_BALANCE`).
    function _checkBalance(AccountId account, SeriesId seriesId, int256 balance) private pure {
        if (SignedMath.abs(balance) > MAX_BALANCE) revert MarketBalanceTooLarge(account, seriesId, balance);
    }

    /// @dev A book entry: `seriesId` with its strike in 100 bits, and `balance` above it (two's
    /// complement in 91 bits; |balance| ≤ MAX_BALANCE, so its dropped top bits are copies of the
    /// sign), with the count's bits 0.
    function _entry(SeriesId seriesId, int256 balance) private pure returns (uint256) {
        uint256 id = SeriesId.unwrap(seriesId);
        return ((uint256(balance) << BALANCE_SHIFT) & ENTRY_MASK) | ((id >> 128) << STRIKE_BITS) | (id & STRIKE_MASK);
    }

    /// @dev The series of a book entry, as its full id.
    function _seriesOf(uint256 entry) private pure returns (SeriesId) {
        return SeriesId.wrap((((entry >> STRIKE_BITS) & TAIL_MASK) << 128) | (entry & STRIKE_MASK));
    }
}
