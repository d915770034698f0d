// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {IBackstop} from "../interfaces/IBackstop.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {ILiquidator} from "../interfaces/ILiquidator.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {BackstopMath} from "../libraries/BackstopMath.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {AccountId} from "../types/AccountId.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title Backstop
/// @notice The steps after the auction: latent insolvency made visible, bare debts covered at par,
/// and the waterfall for auctions nobody bid on (`docs/backstop.md`): the fund's takeover within a
/// budget, then auto-deleveraging. Kept apart from the Liquidator so each stays well under
/// EIP-170. It holds MODULE_ROLE in the vault and the market; it never holds funds itself.
contract Backstop is IBackstop, AccessControl, ReentrancyGuardTransient {
    /// @notice Hard bound of the rolling window's budget ($100M).
    uint256 public constant MAX_LOSS_PER_WINDOW = 100_000_000e18;
    /// @notice Most holders one `deleverage` call takes (and so most opposite holders a series may
    /// have to be deleveraged at all: the list must be complete).
    uint256 public constant MAX_HOLDERS = 256;
    /// @notice The window is 24 hourly buckets before the current one, plus the current one: any
    /// two takeovers less than 24 h apart are counted together.
    uint256 public constant WINDOW_BUCKETS = 25;
    uint256 public constant BUCKET = 1 hours;

    uint256 private constant WAD = 1e18;

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
    /// @dev The cash token's decimals, checked once by `CashUnits`.
    uint8 private immutable _cashDecimals;

    TakeoverBudget private _budget;

    /// @dev One hour's takeover losses, WAD; the ring holds the last `WINDOW_BUCKETS` hours.
    struct LossBucket {
        uint64 hour;
        uint192 lossWad;
    }

    LossBucket[WINDOW_BUCKETS] private _buckets;

    constructor(
        address admin,
        ICollateralVault vault_,
        IMarginEngine engine_,
        IOptionMarket market_,
        ILiquidator liquidator_,
        TakeoverBudget memory budget
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
        _cashDecimals = CashUnits.checkDecimals(vault_.assetConfig(vault_.cashAsset()).decimals);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setBudget(budget);
    }

    // ---------------------------------------------------------------- actions

    /// @inheritdoc IBackstop
    function absorbDebt(AccountId account) external nonReentrant {
        _checkCurrent();
        _checkNotProtected(account);
        int256 cash = vault.cashOf(account);
        if (cash >= 0 || !_holdsNothing(account)) revert BackstopNotAnEmptyDebtor(account);
        uint256 debt = uint256(-cash);
        _payFromFund(account, account, debt);
        emit DebtAbsorbed(account, debt);
        // Interaction last: the account now holds exactly nothing (cash 0), so it is not below
        // maintenance and the liquidator's permissionless `terminateAuction` ends its auction
        // (`AuctionEnded(account, false)`). Without it, the next deposit's hook or a keeper would.
        if (liquidator.auctionOf(account).active) liquidator.terminateAuction(account);
    }

    /// @inheritdoc IBackstop
    function takeover(AccountId account) external nonReentrant returns (TakeoverPreview memory p) {
        _checkCurrent();
        uint256 badDebtBefore = vault.badDebt();
        p = _takeover(account);
        _bookLoss(p.lossToFundWad);
        p.budgetLeftWad = budgetLeft();
        emit AccountTakenOver(account, p.valueWad, p.lossToFundWad, p.budgetLeftWad);
        // The account's debt is paid from the fund's cash: what that cash did not cover the vault
        // has just written off (the fund never owes on the index), whatever else the fund holds.
        _emitBadDebt(account, badDebtBefore);
        // Interaction last: the account is empty, so no longer below maintenance, and the
        // liquidator's permissionless `terminateAuction` ends its auction.
        liquidator.terminateAuction(account);
    }

    /// @inheritdoc IBackstop
    function deleverage(
        AccountId account,
        SeriesId seriesId,
        AccountId[] calldata holders
    ) external nonReentrant returns (uint256 closed) {
        _checkCurrent();
        if (holders.length > MAX_HOLDERS) revert BackstopTooManyHolders(holders.length, MAX_HOLDERS);
        _checkTakeoverRefusedForBudget(account);
        // Refuses an account worth V ≥ 0 and a series it holds no position in.
        (uint256 priceWad, uint256 shadeWad, uint256 markWad) = _bankruptcyPrice(account, seriesId);
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (block.timestamp >= expiry) revert IOptionMarket.MarketSeriesExpired(seriesId, expiry);
        int256 position = market.positionOf(account, seriesId);
        Close memory c = Close(account, seriesId, position > 0, priceWad, shadeWad);
        _checkHolders(holders, seriesId, c.accountIsLong, markWad);
        closed = _closeFromTop(c, holders, SignedMath.abs(position));
        // A call that skipped every holder changed nothing: refuse it, so that it cannot be
        // repeated for free and a keeper's simulation fails (and backs off) instead of resending.
        if (closed == 0) revert BackstopNothingClosed(account, seriesId);
    }

    /// @inheritdoc IBackstop
    function payFromFund(AccountId account, AccountId to, uint256 amount) external {
        if (msg.sender != address(liquidator)) revert BackstopOnlyLiquidator(msg.sender);
        _payFromFund(account, to, amount);
    }

    /// @inheritdoc IBackstop
    function simulateTakeover(AccountId account) external {
        if (msg.sender != address(this)) revert BackstopOnlySelf(msg.sender);
        _takeover(account);
        revert BackstopTakeoverAvailable(account);
    }

    /// @inheritdoc IBackstop
    function deleverageStep(
        AccountId account,
        AccountId holder,
        SeriesId seriesId,
        bool accountIsLong,
        uint256 contracts,
        uint256 priceWad
    ) external {
        if (msg.sender != address(this)) revert BackstopOnlySelf(msg.sender);
        // The account's position moves onto the holder's opposite one: both shrink by `contracts`.
        market.moduleMovePosition(account, holder, seriesId, accountIsLong ? int256(contracts) : -int256(contracts));
        uint256 cash = BackstopMath.closeCash(contracts, priceWad, accountIsLong, _cashDecimals);
        if (cash != 0) {
            if (accountIsLong) vault.moveCash(holder, account, cash);
            else vault.moveCash(account, holder, cash);
        }
        IMarginEngine.MarginState memory state = engine.accountMargin(holder);
        int256 excessMM = state.equityMM - int256(state.requirementMM);
        if (excessMM < 0) revert BackstopHolderBelowMaintenance(holder, excessMM);
    }

    /// @inheritdoc IBackstop
    function setTakeoverBudget(TakeoverBudget calldata budget) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        _setBudget(budget);
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

    /// @inheritdoc IBackstop
    function previewTakeover(AccountId account) external view returns (TakeoverPreview memory p) {
        p.valueWad = engine.accountMargin(account).markValue;
        p.lossToFundWad = BackstopMath.lossToFund(p.valueWad);
        p.budgetLeftWad = budgetLeft();
    }

    /// @inheritdoc IBackstop
    function bankruptcyPrice(
        AccountId account,
        SeriesId seriesId
    ) external view returns (uint256 priceWad, uint256 shadeWad) {
        (priceWad, shadeWad, ) = _bankruptcyPrice(account, seriesId);
    }

    /// @inheritdoc IBackstop
    function deleverageKey(AccountId holder, SeriesId seriesId) external view returns (uint256) {
        return
            BackstopMath.deleverageKey(
                market.positionOf(holder, seriesId),
                engine.mark(seriesId),
                engine.accountMargin(holder).equityMM
            );
    }

    /// @inheritdoc IBackstop
    function budgetLeft() public view returns (uint256) {
        TakeoverBudget memory b = _budget;
        return BackstopMath.budgetLeft(b.maxLossPerTakeoverWad, b.maxLossPerWindowWad, windowLoss());
    }

    /// @inheritdoc IBackstop
    function windowLoss() public view returns (uint256 lossWad) {
        uint256 hour = block.timestamp / BUCKET;
        for (uint256 i; i < WINDOW_BUCKETS; ++i) {
            LossBucket memory bucket = _buckets[i];
            if (bucket.hour + WINDOW_BUCKETS > hour) lossWad += bucket.lossWad;
        }
    }

    /// @inheritdoc IBackstop
    function takeoverBudget() external view returns (TakeoverBudget memory) {
        return _budget;
    }

    // ---------------------------------------------------------------- internal

    /// @dev One `deleverage` call's fixed terms.
    struct Close {
        AccountId account;
        SeriesId seriesId;
        bool accountIsLong;
        uint256 priceWad;
        uint256 shadeWad;
    }

    /// @dev Closes up to `size` contracts of the account's position against `holders` in order,
    /// each as much as it holds or is left, skipping a holder whose close reverts.
    function _closeFromTop(
        Close memory c,
        AccountId[] calldata holders,
        uint256 size
    ) private returns (uint256 closed) {
        for (uint256 i; i < holders.length && closed < size; ++i) {
            // The fund is never a counterparty: its close would be a loss outside its budget. It
            // stays in the list, so the list is still checked complete against the open interest.
            if (holders[i] == insuranceAccount) {
                emit DeleverageSkipped(c.account, holders[i], BackstopProtectedAccount.selector);
                continue;
            }
            uint256 held = SignedMath.abs(market.positionOf(holders[i], c.seriesId));
            closed += _closeOne(c, holders[i], held < size - closed ? held : size - closed);
        }
    }

    /// @dev One holder's close of `q` contracts, as a self-call that undoes itself if the holder
    /// would end below maintenance; what it closed (`q` or 0).
    function _closeOne(Close memory c, AccountId holder, uint256 q) private returns (uint256) {
        try this.deleverageStep(c.account, holder, c.seriesId, c.accountIsLong, q, c.priceWad) {
            emit Deleveraged(c.account, holder, c.seriesId, q, c.priceWad, FixedPointMathLib.mulWad(q, c.shadeWad));
            return q;
        } catch (bytes memory reason) {
            // A refusal carries an error; an empty revert is a step that ran out of gas, which
            // must not pass for a skip (the step gets 63/64 of the gas left).
            if (reason.length == 0) revert BackstopOutOfGas(holder);
            emit DeleverageSkipped(c.account, holder, bytes4(reason));
            return 0;
        }
    }

    /// @dev The takeover, shared by `takeover` and `simulateTakeover`: the checks, the budget, the
    /// move and the fund's IM check.
    function _takeover(AccountId account) private returns (TakeoverPreview memory p) {
        p.valueWad = _checkReady(account).markValue;
        AccountId fund = insuranceAccount;
        p.lossToFundWad = BackstopMath.lossToFund(p.valueWad);
        p.budgetLeftWad = budgetLeft();
        if (p.lossToFundWad > p.budgetLeftWad) revert BackstopBudgetExceeded(p.lossToFundWad, p.budgetLeftWad);
        _moveAll(account, fund);
        IMarginEngine.MarginState memory after_ = engine.accountMargin(fund);
        int256 excessIM = after_.equityIM - int256(after_.requirementIM);
        if (excessIM < 0) {
            // Every price the fund's valuation needs, before this refusal for budget: the engine
            // counts an unpriced collateral as zero, which would pass a missing price off as the
            // fund being short of margin (a budget refusal that unlocks deleveraging; rv16w F3).
            // Checked only here, so a stale feed for a collateral the fund can do without (one
            // satoshi) does not halt takeovers it plainly affords (review rv16w2 C). Its
            // positions' prices are checked by the valuation itself, which fails closed.
            _checkCollateralPriced(fund);
            revert BackstopFundBelowInitialMargin(excessIM);
        }
    }

    /// @dev When a backstop step may run on `account` (`docs/backstop.md`); its margin state.
    function _checkReady(AccountId account) private view returns (IMarginEngine.MarginState memory state) {
        _checkNotProtected(account);
        if (!liquidator.auctionOf(account).active) revert BackstopNoAuction(account);
        // Ready once the auction's clock (moved past price outages) is `duration` old; bids do not
        // move it, so dust bids cannot hold the backstop off (review rv16w F1). An open auction
        // that lapsed is past `clockStart + 2·duration`, so ready too: the window has no end.
        (bool running, uint256 clockStart) = liquidator.auctionClock(account);
        if (running) {
            uint256 readyAt = clockStart + liquidator.auctionParams().duration;
            if (block.timestamp < readyAt) revert BackstopAuctionNotLapsed(account, readyAt);
        }
        state = engine.accountMargin(account);
        if (state.health < IMarginEngine.Health.LIQUIDATABLE) revert BackstopAccountHealthy(account, state.health);
        _checkCollateralPriced(account);
    }

    /// @dev Reverts with the oracle's own error while a collateral `account` holds (not delisted)
    /// has no valid price: the engine would count it as zero and the fund take it for nothing.
    function _checkCollateralPriced(AccountId account) private view {
        (uint256[] memory balances, ) = vault.balancesOf(account);
        if (balances.length == 0) return;
        address[] memory assets = vault.collateralAssets();
        for (uint256 i; i < balances.length; ++i) {
            if (balances[i] != 0 && !vault.assetConfig(assets[i]).delisted) engine.oracle().spot(assets[i]);
        }
    }

    /// @dev Moves every collateral balance, the signed cash and every position of `from` to `to`.
    function _moveAll(AccountId from, AccountId to) private {
        (uint256[] memory balances, int256 cash) = vault.balancesOf(from);
        if (balances.length != 0) {
            address[] memory assets = vault.collateralAssets();
            for (uint256 i; i < balances.length; ++i) {
                if (balances[i] != 0) vault.moveCollateral(from, to, assets[i], balances[i]);
            }
        }
        // A debt moves as `to` paying it into `from`.
        if (cash > 0) vault.moveCash(from, to, uint256(cash));
        else if (cash < 0) vault.moveCash(to, from, uint256(-cash));
        (SeriesId[] memory seriesIds, ) = market.positionsOf(from);
        if (seriesIds.length != 0) market.moduleSlicePositions(from, to, WAD);
    }

    /// @dev Deleveraging runs only when the takeover is refused for budget: the takeover itself is
    /// run (and reverted) to find out, so the two steps share one predicate. Its other refusals are
    /// deleveraging's own.
    function _checkTakeoverRefusedForBudget(AccountId account) private {
        try this.simulateTakeover(account) {} catch (bytes memory reason) {
            if (reason.length == 0) revert BackstopOutOfGas(account);
            bytes4 selector = bytes4(reason);
            // A fund holding as many series as the market allows (`MarketTooManyPositions`) is not
            // short of budget: that refusal bubbles, so a full fund never opens deleveraging
            // (review rv16w F5; governance unwinds the fund's book, `InsuranceFund.unwind`).
            if (selector == BackstopBudgetExceeded.selector || selector == BackstopFundBelowInitialMargin.selector) {
                return;
            }
            // Bubbles the refusal unchanged (`BackstopTakeoverAvailable` when it would pass).
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    /// @dev The bankruptcy price of `account`'s contracts of `seriesId`, its shade and the mark;
    /// reverts `BackstopNotInsolvent` unless the account's mark value is below zero.
    function _bankruptcyPrice(
        AccountId account,
        SeriesId seriesId
    ) private view returns (uint256 priceWad, uint256 shadeWad, uint256 markWad) {
        int256 value = engine.accountMargin(account).markValue;
        if (value >= 0) revert BackstopNotInsolvent(account, value);
        (SeriesId[] memory seriesIds, int256[] memory balances) = market.positionsOf(account);
        uint256 gross;
        int256 position;
        for (uint256 i; i < seriesIds.length; ++i) {
            uint256 m = engine.mark(seriesIds[i]);
            gross += BackstopMath.grossTermUp(balances[i], m);
            if (seriesIds[i] == seriesId) (markWad, position) = (m, balances[i]);
        }
        if (position == 0) revert BackstopNoPosition(account, seriesId);
        shadeWad = BackstopMath.shadeDown(markWad, uint256(-value), gross);
        priceWad = BackstopMath.bankruptcyPrice(markWad, shadeWad, position > 0);
    }

    /// @dev The holder list is every opposite holder of the series, sorted by key (descending),
    /// then account id (strictly ascending).
    function _checkHolders(
        AccountId[] calldata holders,
        SeriesId seriesId,
        bool accountIsLong,
        uint256 markWad
    ) private view {
        IMarginEngine.MarginState[] memory states = engine.accountsMargin(holders);
        uint256 sum;
        uint256 lastKey;
        for (uint256 i; i < holders.length; ++i) {
            int256 balance = market.positionOf(holders[i], seriesId);
            if (balance == 0 || (balance > 0) == accountIsLong) revert BackstopNotAnOppositeHolder(holders[i]);
            sum += SignedMath.abs(balance);
            uint256 key = BackstopMath.deleverageKey(balance, markWad, states[i].equityMM);
            if (
                i != 0 &&
                (key > lastKey || (key == lastKey && AccountId.unwrap(holders[i]) <= AccountId.unwrap(holders[i - 1])))
            ) revert BackstopHoldersNotSorted(i);
            lastKey = key;
        }
        uint256 openInterest = market.openInterest(seriesId);
        if (sum != openInterest) revert BackstopHoldersIncomplete(sum, openInterest);
    }

    /// @dev Books a fund loss (a takeover's, or a payment) in the current hour's bucket (reusing
    /// a stale slot). A payment the fund does not refuse is booked whatever its size: the bucket
    /// saturates rather than revert a bid or an absorption.
    function _bookLoss(uint256 lossWad) private {
        if (lossWad == 0) return;
        uint64 hour = uint64(block.timestamp / BUCKET);
        LossBucket storage bucket = _buckets[hour % WINDOW_BUCKETS];
        if (bucket.hour != hour) (bucket.hour, bucket.lossWad) = (hour, 0);
        // Both terms are below 2^192 (a payment is at most the vault's MAX_AMOUNT, below 2^127
        // cash units, times at most 10^18): the sum cannot overflow 256 bits.
        uint256 total = bucket.lossWad + lossWad;
        bucket.lossWad = uint192(FixedPointMathLib.min(total, type(uint192).max));
    }

    /// @dev Announces the bad debt the vault wrote off since it read `before` (its `badDebt()`).
    function _emitBadDebt(AccountId account, uint256 before) private {
        uint256 total = vault.badDebt();
        if (total > before) emit BadDebtIncurred(account, total - before, total);
    }

    function _setBudget(TakeoverBudget memory b) private {
        if (b.maxLossPerTakeoverWad > b.maxLossPerWindowWad || b.maxLossPerWindowWad > MAX_LOSS_PER_WINDOW) {
            revert BackstopInvalidBudget(b);
        }
        _budget = b;
        emit TakeoverBudgetSet(b);
    }

    /// @dev Only the liquidator's current backstop takes steps: a replaced one goes inert, so it
    /// cannot spend a second window alongside its successor (review rv16w2 D).
    function _checkCurrent() private view {
        address current = address(liquidator.backstop());
        if (current != address(this)) revert BackstopReplaced(current);
    }

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

    /// @dev The insurance fund pays `to` `amount` cash units on `account`'s behalf (`to` is
    /// `account` for a bare debt, its bidder for an insolvent bid), booked as a fund loss in the
    /// window (review rv16w F6); what the fund's cash did not cover the vault writes off (bad debt),
    /// and the move returns it: `badDebt()` rose by exactly that, so only a write-off reads it (for
    /// the event's total), where reading it before and after cost every payment two calls.
    function _payFromFund(AccountId account, AccountId to, uint256 amount) private {
        (, , uint256 writtenOff) = vault.moveCash(insuranceAccount, to, amount);
        // moveCash refused amounts above its MAX_AMOUNT (below 2^127): the cast is exact.
        _bookLoss(uint256(CashUnits.toWadDown(int256(amount), _cashDecimals)));
        if (writtenOff != 0) emit BadDebtIncurred(account, writtenOff, vault.badDebt());
    }
}
