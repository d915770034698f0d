// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../contracts/market/OptionMarket.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {MockFaultyAggregator} from "../../contracts/mocks/MockFaultyAggregator.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {MarketFixture} from "../helpers/MarketFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice Drives the market on the real engine with bounded random signed orders, fills,
/// partial refills, cancels, subaccount transfers, cash deposits and withdrawals between
/// three owners with two subaccounts each. Oracle actors move and jump ETH/USD, let the
/// feeds go stale and bring them back, and take the L2 sequencer down and up (with its grace
/// period); a clock actor lets time pass with fresh feeds. Refusals (margin, stale prices,
/// overfill, cancelled or expired orders) are expected and counted. Ghost bookkeeping around
/// every accepted action records what the margin gate must never allow
/// (`docs/margin-gate.md`).
contract MarketHandler is Test {
    /// @notice Largest ordinary ETH/USD move per step: 20 %.
    int256 internal constant MAX_MOVE_BPS = 2_000;
    /// @notice Largest jump per step: 50 %.
    int256 internal constant MAX_JUMP_BPS = 5_000;
    int256 internal constant MIN_PRICE = 500e8;
    int256 internal constant MAX_PRICE = 20_000e8;
    uint256 internal constant FEED_MAX_AGE = 1 hours + 15 minutes;
    /// @dev What "at the mark" allows for: one USDC unit of premium rounding plus a wei.
    int256 internal constant ROUNDING_WAD = 1e12 + 1;

    OptionMarket internal immutable market;
    IMarginEngine internal immutable engine;
    CollateralVault internal immutable vault;
    MockERC20 internal immutable usdc;
    MockV3Aggregator internal immutable ethUsd;
    MockV3Aggregator internal immutable ethVol;
    MockFaultyAggregator internal immutable sequencer;
    uint256[3] internal keys;
    AccountId[6] public accounts;
    SeriesId[3] public series;
    AccountId public immutable feeAccount;

    IOptionMarket.Order[] internal orders;
    bytes[] internal signatures;
    uint256 internal nonce;

    uint256 public fills;
    uint256 public refusedFills;
    uint256 public transfers;
    uint256 public cancels;
    uint256 public priceMoves;
    uint256 public timeSteps;
    uint256 public outages;
    uint256 public sequencerOutages;
    uint256 public withdrawals;
    /// @notice Cash deposited and withdrawn by the handler's accounts, in all.
    uint256 public totalDeposited;
    uint256 public totalWithdrawn;

    /// @notice Ghost: a side that took new risk ended below IM. Must stay zero.
    uint256 public newRiskBelowInitialMargin;
    /// @notice Ghost: an account ended an action with more negative cash than it started
    /// with, and no passing margin check at a valid price allowed it (finding 1). Must stay zero.
    uint256 public uncheckedDebt;
    /// @notice Ghost: a side that started below maintenance ended below IM with less
    /// maintenance equity, or still below maintenance (findings 8 and 10). Must stay zero.
    uint256 public liquidatableTradeLostValue;
    /// @notice Ghost: a withdrawal took more than the account deposited plus what its
    /// counterparties lost to it with a margin check behind the loss. Must stay zero.
    uint256 public overWithdrawals;
    /// @notice What each account may take out: deposits, less withdrawals, plus trade gains
    /// from counterparties whose payment no gate failure stands behind.
    mapping(AccountId account => int256) public entitled;
    /// @notice Ghost book (session 43): each account's balance per series, summed from the
    /// position changes of the fills and transfers that succeeded, apart from the market's storage.
    mapping(AccountId account => mapping(SeriesId seriesId => int256)) public ghostBalance;

    /// @dev One side of an action, seen from outside before and after.
    struct Seen {
        AccountId account;
        int256 cash;
        bool priced;
        int256 initialExcess;
        int256 maintenanceExcess;
        int256 maintenanceEquity;
    }

    constructor(
        OptionMarket market_,
        MockV3Aggregator ethUsd_,
        MockV3Aggregator ethVol_,
        MockFaultyAggregator sequencer_,
        SeriesId[3] memory series_
    ) {
        market = market_;
        engine = market_.engine();
        vault = CollateralVault(address(market_.vault()));
        usdc = MockERC20(vault.cashAsset());
        ethUsd = ethUsd_;
        ethVol = ethVol_;
        sequencer = sequencer_;
        series = series_;
        feeAccount = market_.feeAccount();
        for (uint256 i; i < 3; ++i) {
            (address owner, uint256 key) = makeAddrAndKey(string.concat("owner", vm.toString(i)));
            keys[i] = key;
            accounts[i] = AccountLib.accountId(owner, 0);
            accounts[i + 3] = AccountLib.accountId(owner, 1);
        }
    }

    /// @notice Books the test's initial funding of `account` (not a fuzzed action).
    function recordFunding(AccountId account, uint256 amount) external {
        entitled[account] += int256(amount);
    }

    // ---------------------------------------------------------------- trading actors

    function placeAndFill(
        uint256 makerSeed,
        uint256 takerSeed,
        uint256 seriesSeed,
        uint256 size,
        uint256 priceWad,
        uint256 fillSize,
        bool makerBuys
    ) external {
        uint256 makerIdx = makerSeed % 6;
        uint256 takerIdx = takerSeed % 6;
        if (makerIdx == takerIdx) return;
        size = bound(size, 1, 50e18);
        IOptionMarket.Order memory order = IOptionMarket.Order({
            account: accounts[makerIdx],
            seriesId: series[seriesSeed % 3],
            size: makerBuys ? int256(size) : -int256(size),
            // Near the mark mostly, or anywhere up to far above it (how value is pulled out).
            priceWad: _closePrice(series[seriesSeed % 3], priceWad),
            taker: AccountId.wrap(0),
            nonce: ++nonce,
            deadline: block.timestamp + 1 days
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[makerIdx % 3], market.orderHash(order));
        orders.push(order);
        signatures.push(abi.encodePacked(r, s, v));
        _tryFill(orders.length - 1, takerIdx, bound(fillSize, 1, size));
    }

    function refill(uint256 orderSeed, uint256 takerSeed, uint256 fillSize) external {
        if (orders.length == 0) return;
        uint256 i = orderSeed % orders.length;
        uint256 done = market.filled(market.orderHash(orders[i]));
        uint256 size = _abs(orders[i].size);
        if (done >= size) return;
        _tryFill(i, takerSeed % 6, bound(fillSize, 1, size - done));
    }

    /// @dev A close: the maker buys back (or sells) part of what it holds, preferably against
    /// an account holding the other side (so both sides reduce, as in finding 1), at a price
    /// drawn from three bands: anywhere up to 50,000; the mark plus up to 12 % of spot (where
    /// the requirement a close frees is paid away, finding 10); or 90–100 % of the mark.
    function close(
        uint256 accountSeed,
        uint256 takerSeed,
        uint256 positionSeed,
        uint256 amount,
        uint256 priceSeed
    ) external {
        _close(accountSeed % 6, takerSeed, positionSeed, amount, priceSeed);
    }

    /// @dev The attack of findings 8 and 10: an account below maintenance, if there is one,
    /// closes part of a position at the mark plus up to 12 % of spot (or at 90–100 % of it).
    function closeWhileLiquidatable(
        uint256 accountSeed,
        uint256 takerSeed,
        uint256 positionSeed,
        uint256 amount,
        uint256 priceSeed
    ) external {
        for (uint256 j; j < 6; ++j) {
            uint256 idx = (accountSeed + j) % 6;
            try engine.accountMargin(accounts[idx]) returns (IMarginEngine.MarginState memory state) {
                if (state.equityMM < int256(state.requirementMM)) {
                    // Bands 1 and 2 only: near the mark.
                    uint256 seed = priceSeed % 1e30;
                    _close(idx, takerSeed, positionSeed, amount, 1 + 3 * (seed / 3) + (seed % 2));
                    return;
                }
            } catch {
                return;
            }
        }
    }

    function _close(
        uint256 makerIdx,
        uint256 takerSeed,
        uint256 positionSeed,
        uint256 amount,
        uint256 priceSeed
    ) private {
        (SeriesId[] memory open, int256[] memory balances) = market.positionsOf(accounts[makerIdx]);
        if (open.length == 0) return;
        uint256 k = positionSeed % open.length;
        uint256 takerIdx = _counterparty(makerIdx, open[k], balances[k], takerSeed);
        uint256 size = bound(amount, 1, _abs(balances[k]));
        int256 signedSize = balances[k] < 0 ? int256(size) : -int256(size);
        _signAndFill(makerIdx, takerIdx, open[k], signedSize, _closePrice(open[k], priceSeed), size);
    }

    /// @dev Signs an order of `accounts[makerIdx]` and has `accounts[takerIdx]` fill `fillSize`.
    function _signAndFill(
        uint256 makerIdx,
        uint256 takerIdx,
        SeriesId seriesId,
        int256 size,
        uint256 priceWad,
        uint256 fillSize
    ) private {
        IOptionMarket.Order memory order = IOptionMarket.Order({
            account: accounts[makerIdx],
            seriesId: seriesId,
            size: size,
            priceWad: priceWad,
            taker: AccountId.wrap(0),
            nonce: ++nonce,
            deadline: block.timestamp + 1 days
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[makerIdx % 3], market.orderHash(order));
        orders.push(order);
        signatures.push(abi.encodePacked(r, s, v));
        _tryFill(orders.length - 1, takerIdx, fillSize);
    }

    function cancel(uint256 orderSeed) external {
        if (orders.length == 0) return;
        IOptionMarket.Order memory order = orders[orderSeed % orders.length];
        vm.prank(AccountLib.ownerOf(order.account));
        market.cancelOrder(order);
        ++cancels;
    }

    function transfer(uint256 ownerSeed, uint256 seriesSeed, uint256 amount, bool fromMain) external {
        uint256 o = ownerSeed % 3;
        (AccountId from, AccountId to) = fromMain ? (accounts[o], accounts[o + 3]) : (accounts[o + 3], accounts[o]);
        // Move one of the positions `from` holds, so most calls reach the gate.
        (SeriesId[] memory open, ) = market.positionsOf(from);
        if (open.length == 0) return;
        SeriesId seriesId = open[seriesSeed % open.length];
        int256 held = market.positionOf(from, seriesId);
        int256 part = int256(bound(amount, 1, _abs(held)));
        SeriesId[] memory ids = new SeriesId[](1);
        int256[] memory amounts = new int256[](1);
        (ids[0], amounts[0]) = (seriesId, held > 0 ? part : -part);
        // The source only ever reduces; the target takes new risk unless it nets a position down.
        bool targetReducing = _isReducing(market.positionOf(to, seriesId), amounts[0]);
        Seen memory source = _see(from);
        Seen memory target = _see(to);
        vm.prank(AccountLib.ownerOf(from));
        try market.transferPositions(from, to, ids, amounts) {
            ++transfers;
            ghostBalance[from][seriesId] -= amounts[0];
            ghostBalance[to][seriesId] += amounts[0];
            if (!targetReducing) _recordNewRisk(to);
            bool sourceOk = _checkSide(source);
            bool targetOk = _checkSide(target);
            _credit(source, sourceOk && targetOk);
            _credit(target, sourceOk && targetOk);
        } catch {}
    }

    // ---------------------------------------------------------------- cash actors

    function deposit(uint256 accountSeed, uint256 amount) external {
        AccountId account = accounts[accountSeed % 6];
        amount = bound(amount, 1e6, 50_000e6);
        address owner = AccountLib.ownerOf(account);
        usdc.mint(owner, amount);
        vm.startPrank(owner);
        usdc.approve(address(vault), amount);
        vault.deposit(account, address(usdc), amount);
        vm.stopPrank();
        totalDeposited += amount;
        entitled[account] += int256(amount);
    }

    /// @dev Withdraws cash (most of what the account holds, often all of it): the drain of
    /// finding 1 ends with exactly this call.
    function withdraw(uint256 accountSeed, uint256 amount) external {
        AccountId account = accounts[accountSeed % 6];
        int256 cash = vault.cashOf(account);
        if (cash <= 0) return;
        amount = bound(amount, 1, uint256(cash));
        address owner = AccountLib.ownerOf(account);
        vm.prank(owner);
        try vault.withdraw(account, address(usdc), amount, owner) {
            ++withdrawals;
            totalWithdrawn += amount;
            entitled[account] -= int256(amount);
            if (entitled[account] < 0) ++overWithdrawals;
        } catch {}
    }

    // ---------------------------------------------------------------- oracle actors

    /// @dev ETH/USD moves by up to ±20 %, kept within [500, 20,000] USD.
    function movePrice(uint256 moveSeed) external {
        _move(moveSeed, MAX_MOVE_BPS);
    }

    /// @dev ETH/USD jumps by up to ±50 % in one round.
    function jumpPrice(uint256 moveSeed) external {
        _move(moveSeed, MAX_JUMP_BPS);
    }

    /// @dev Up to 6 hours pass, then the ETH feeds post again (same answers), as Chainlink's
    /// heartbeat would. Options decay; the week-out series may expire.
    function advanceTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1 minutes, 6 hours));
        _refresh();
        ++timeSteps;
    }

    /// @dev The feeds stop posting: time passes beyond their max age and every price is stale.
    function letFeedsGoStale(uint256 secondsSeed) external {
        vm.warp(block.timestamp + FEED_MAX_AGE + bound(secondsSeed, 1, 3 hours));
        ++outages;
    }

    /// @dev The feeds come back.
    function refreshFeeds() external {
        _refresh();
    }

    /// @dev The L2 sequencer goes down: every price read fails until it is back and its grace
    /// period has passed.
    function sequencerDown() external {
        sequencer.setLatest(1, block.timestamp, block.timestamp);
        ++sequencerOutages;
    }

    /// @dev The sequencer is back up now; prices stay unusable for the grace period.
    function sequencerUp() external {
        (, int256 answer, , , ) = sequencer.latestRoundData();
        if (answer == 0) return;
        sequencer.setLatest(0, block.timestamp, block.timestamp);
    }

    // ---------------------------------------------------------------- views

    /// @notice Whether the engine can price ETH options right now.
    function pricesLive() external view returns (bool) {
        try engine.mark(series[0]) returns (uint256) {
            return true;
        } catch {
            return false;
        }
    }

    // ---------------------------------------------------------------- internal

    function _tryFill(uint256 i, uint256 takerIdx, uint256 fillSize) private {
        IOptionMarket.Order memory order = orders[i];
        AccountId takerAccount = accounts[takerIdx];
        if (takerAccount == order.account) return;
        int256 makerDelta = order.size > 0 ? int256(fillSize) : -int256(fillSize);
        bool makerReducing = _isReducing(market.positionOf(order.account, order.seriesId), makerDelta);
        bool takerReducing = _isReducing(market.positionOf(takerAccount, order.seriesId), -makerDelta);
        Seen memory makerSeen = _see(order.account);
        Seen memory takerSeen = _see(takerAccount);
        int256 feesBefore = vault.cashOf(feeAccount);
        vm.prank(AccountLib.ownerOf(takerAccount));
        try market.fill(order, signatures[i], takerAccount, fillSize) {
            ++fills;
            ghostBalance[order.account][order.seriesId] += makerDelta;
            ghostBalance[takerAccount][order.seriesId] -= makerDelta;
            if (!makerReducing) _recordNewRisk(order.account);
            if (!takerReducing) _recordNewRisk(takerAccount);
            bool makerOk = _checkSide(makerSeen);
            bool takerOk = _checkSide(takerSeen);
            // A gain counts only if no side of the action broke the gate's promises.
            _credit(makerSeen, makerOk && takerOk);
            _credit(takerSeen, makerOk && takerOk);
            entitled[feeAccount] += vault.cashOf(feeAccount) - feesBefore;
        } catch {
            ++refusedFills;
        }
    }

    /// @dev An account other than `makerIdx` holding the opposite side of `seriesId`, chosen by
    /// `seed`; any other account if none does.
    function _counterparty(
        uint256 makerIdx,
        SeriesId seriesId,
        int256 balance,
        uint256 seed
    ) private view returns (uint256) {
        for (uint256 j; j < 6; ++j) {
            uint256 idx = (seed + j) % 6;
            if (idx == makerIdx) continue;
            int256 other = market.positionOf(accounts[idx], seriesId);
            if ((balance < 0 && other > 0) || (balance > 0 && other < 0)) return idx;
        }
        return (makerIdx + 1 + (seed % 5)) % 6;
    }

    function _closePrice(SeriesId seriesId, uint256 seed) private view returns (uint256) {
        uint256 band = seed % 3;
        uint256 markWad;
        try engine.mark(seriesId) returns (uint256 m) {
            markWad = m;
        } catch {
            band = 0;
        }
        if (band == 0) return bound(seed, 0, 50_000e18);
        if (band == 1) {
            uint256 spotWad = uint256(ethUsd.latestAnswer()) * 1e10;
            return markWad + bound(seed, 0, (spotWad * 12) / 100);
        }
        return (markWad * bound(seed, 90, 100)) / 100;
    }

    /// @dev Right after an action that gave `account` new risk, it must be at or above IM.
    function _recordNewRisk(AccountId account) private {
        if (engine.excessInitial(account) < 0) ++newRiskBelowInitialMargin;
    }

    /// @dev Checks one side of an accepted action against the gate's promises; true if kept.
    function _checkSide(Seen memory before) private returns (bool ok) {
        Seen memory afterwards = _see(before.account);
        ok = true;
        // New debt needs a check at a valid price: the account can be valued now, and if it
        // could not be valued before, it passed an IM check.
        if (afterwards.cash < 0 && afterwards.cash < before.cash) {
            if (!afterwards.priced || (!before.priced && afterwards.initialExcess < 0)) {
                ++uncheckedDebt;
                ok = false;
            }
        }
        // A liquidatable account that stays below IM must be restored without paying value away.
        if (before.priced && before.maintenanceExcess < 0) {
            if (
                !afterwards.priced ||
                (afterwards.initialExcess < 0 &&
                    (afterwards.maintenanceExcess < 0 ||
                        afterwards.maintenanceEquity < before.maintenanceEquity - ROUNDING_WAD))
            ) {
                ++liquidatableTradeLostValue;
                ok = false;
            }
        }
    }

    /// @dev Books the cash change of one side against what it may withdraw.
    function _credit(Seen memory before, bool backed) private {
        int256 delta = vault.cashOf(before.account) - before.cash;
        if (delta < 0 || backed) entitled[before.account] += delta;
    }

    function _see(AccountId account) private view returns (Seen memory seen) {
        seen.account = account;
        seen.cash = vault.cashOf(account);
        try engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            seen.priced = true;
            seen.initialExcess = state.equityIM - int256(state.requirementIM);
            seen.maintenanceExcess = state.equityMM - int256(state.requirementMM);
            seen.maintenanceEquity = state.equityMM;
        } catch {}
    }

    function _move(uint256 moveSeed, int256 maxBps) private {
        int256 price = ethUsd.latestAnswer();
        int256 maxMove = (price * maxBps) / 10_000;
        int256 next = price - maxMove + int256(bound(moveSeed, 0, uint256(2 * maxMove)));
        if (next < MIN_PRICE) next = MIN_PRICE;
        if (next > MAX_PRICE) next = MAX_PRICE;
        ethUsd.updateAnswer(next);
        ++priceMoves;
    }

    function _refresh() private {
        ethUsd.updateAnswer(ethUsd.latestAnswer());
        ethVol.updateAnswer(ethVol.latestAnswer());
    }

    /// @dev docs/margin-gate.md: `delta` moves `balance` toward zero without crossing it.
    function _isReducing(int256 balance, int256 delta) private pure returns (bool) {
        return balance > 0 ? (delta < 0 && -delta <= balance) : (balance < 0 && delta > 0 && delta <= -balance);
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}

/// @notice Books-balance and margin invariants of the market over random trading on the
/// real stack, with price moves and jumps, stale feeds and sequencer outages, and the
/// passage of time. The stack is the fixture's whole deployment (the liquidator and its account
/// hooks included), with an oracle that reads an L2 sequencer uptime feed (1 h grace); the
/// fixture's maker and taker are bystanders whose deposits sit in the vault (what a drain would
/// steal).
contract OptionMarketInvariantTest is MarketFixture {
    uint256 internal constant HANDLER_FUNDING = 20_000e6;

    MarketHandler internal handler;
    MockFaultyAggregator internal sequencer;
    int256 internal initialCash;

    function setUp() public override {
        super.setUp();
        vm.prank(riskManager);
        market.setFees(0.003e18, 0.007e18);
        vm.prank(admin);
        market.setFeeAccount(feeAccountId);

        SeriesId laterId = _createSeries(ethIndex, 28, 4000e18, true);
        handler = new MarketHandler(market, ethUsd, ethVol, sequencer, [callId, putId, laterId]);
        for (uint256 i; i < 6; ++i) {
            AccountId account = handler.accounts(i);
            _fundAndDeposit(AccountLib.ownerOf(account), account, usdc, HANDLER_FUNDING);
            handler.recordFunding(account, HANDLER_FUNDING);
        }
        initialCash = _handlerCash();
        targetContract(address(handler));
        // Trading actors appear several times, so a run of 32 calls trades more than it waits.
        bytes4[] memory actions = new bytes4[](22);
        actions[0] = MarketHandler.placeAndFill.selector;
        actions[1] = MarketHandler.placeAndFill.selector;
        actions[2] = MarketHandler.placeAndFill.selector;
        actions[3] = MarketHandler.placeAndFill.selector;
        actions[4] = MarketHandler.refill.selector;
        actions[5] = MarketHandler.close.selector;
        actions[6] = MarketHandler.close.selector;
        actions[7] = MarketHandler.close.selector;
        actions[8] = MarketHandler.closeWhileLiquidatable.selector;
        actions[9] = MarketHandler.closeWhileLiquidatable.selector;
        actions[10] = MarketHandler.closeWhileLiquidatable.selector;
        actions[11] = MarketHandler.cancel.selector;
        actions[12] = MarketHandler.transfer.selector;
        actions[13] = MarketHandler.deposit.selector;
        actions[14] = MarketHandler.withdraw.selector;
        actions[15] = MarketHandler.movePrice.selector;
        actions[16] = MarketHandler.jumpPrice.selector;
        actions[17] = MarketHandler.advanceTime.selector;
        actions[18] = MarketHandler.letFeedsGoStale.selector;
        actions[19] = MarketHandler.refreshFeeds.selector;
        actions[20] = MarketHandler.sequencerDown.selector;
        actions[21] = MarketHandler.sequencerUp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
    }

    /// @dev Σ balances of every series is zero.
    function invariant_positionsSumToZero() public view {
        for (uint256 s; s < 3; ++s) {
            int256 sum;
            for (uint256 i; i < 6; ++i) sum += market.positionOf(handler.accounts(i), handler.series(s));
            assertEq(sum, 0, "series does not net to zero");
        }
    }

    /// @dev Open interest is exactly the sum of the longs.
    function invariant_openInterestIsSumOfLongs() public view {
        for (uint256 s; s < 3; ++s) {
            SeriesId seriesId = handler.series(s);
            uint256 longs;
            for (uint256 i; i < 6; ++i) {
                int256 balance = market.positionOf(handler.accounts(i), seriesId);
                if (balance > 0) longs += uint256(balance);
            }
            assertEq(market.openInterest(seriesId), longs, "open interest drifted");
        }
    }

    /// @dev Every balance the market reports is the ghost book's: the sum of the position changes
    /// of every fill and transfer that succeeded (session 43: the market finds a position by
    /// scanning the account's book, so a write to the wrong entry would show here).
    function invariant_balancesMatchTheGhostBook() public view {
        for (uint256 i; i < 6; ++i) {
            AccountId account = handler.accounts(i);
            for (uint256 s; s < 3; ++s) {
                SeriesId seriesId = handler.series(s);
                assertEq(market.positionOf(account, seriesId), handler.ghostBalance(account, seriesId), "ghost book");
            }
        }
    }

    /// @dev The book's words keep their layout whatever the handler did (`_assertRawBook`): the
    /// count in the first entry's top bits, no count bits elsewhere, zeros past the count, and
    /// `accountNonce` the digest of the entries (review helper-159).
    function invariant_bookWordsKeepTheirLayout() public view {
        for (uint256 i; i < 6; ++i) _assertRawBook(handler.accounts(i));
    }

    /// @dev `positionsOf` equals the per-series balances, always: it lists every series with a
    /// nonzero `positionOf` exactly once, with that balance, and nothing else. Until session 43 the
    /// two getters read different words (the book entries in order; a series' place, then its
    /// entry). Now both read the book (`positionOf` scans it for the series), so this holds every
    /// writer to a book with no series twice and no zero balance listed; the balances themselves are
    /// checked against the ghost book (`invariant_balancesMatchTheGhostBook`) and against models in
    /// `unit/market/PositionBook.t.sol`, `FullPositionBook.t.sol` and `SliceLimit.t.sol`.
    function invariant_openListMatchesBalances() public view {
        for (uint256 i; i < 6; ++i) {
            AccountId account = handler.accounts(i);
            (SeriesId[] memory ids, int256[] memory balances) = market.positionsOf(account);
            uint256 nonzero;
            for (uint256 s; s < 3; ++s) {
                SeriesId seriesId = handler.series(s);
                int256 balance = market.positionOf(account, seriesId);
                uint256 listed;
                for (uint256 k; k < ids.length; ++k) {
                    if (ids[k] == seriesId) {
                        ++listed;
                        assertEq(balances[k], balance, "listed balance");
                    }
                }
                assertEq(listed, balance != 0 ? 1 : 0, "listed once when open, never when flat");
                if (balance != 0) ++nonzero;
            }
            assertEq(ids.length, nonzero, "open list length");
            for (uint256 k; k < ids.length; ++k) {
                assertTrue(balances[k] != 0, "zero balance listed");
                assertEq(balances[k], market.positionOf(account, ids[k]), "listed balance");
            }
        }
    }

    /// @dev No trade creates or destroys value: whatever the oracle does, traders plus the
    /// fee account hold what they started with plus deposits less withdrawals.
    function invariant_cashConserved() public view {
        int256 expected = initialCash + int256(handler.totalDeposited()) - int256(handler.totalWithdrawn());
        assertEq(_handlerCash(), expected, "cash created or destroyed");
    }

    /// @dev The vault's books balance at every step: tokens held equal Σ signed cash of every
    /// account that ever held cash (the handler's six, the fee account, the bystanders), and
    /// the vault's running credit and debt totals match.
    function invariant_vaultBooksBalance() public view {
        int256 all = _handlerCash() + vault.cashOf(makerAccount) + vault.cashOf(takerAccount);
        uint256 held = usdc.balanceOf(address(vault));
        assertEq(int256(held), all, "vault does not reconcile");
        assertEq(vault.totalCashCredit() - vault.totalCashDebt(), held, "credit and debt totals drifted");
    }

    /// @dev The margin gate held on every action: no side that took new risk ended below IM.
    function invariant_newRiskOnlyAtOrAboveInitialMargin() public view {
        assertEq(handler.newRiskBelowInitialMargin(), 0, "new risk accepted below IM");
    }

    /// @dev Finding 1's class: no account ends an action with new negative cash that no
    /// passing margin check at a valid price allowed (there is no insurance account here).
    function invariant_noDebtWithoutAPassingCheck() public view {
        assertEq(handler.uncheckedDebt(), 0, "negative cash created without a priced check");
    }

    /// @dev Findings 8 and 10's class: no trade by an account below maintenance that leaves
    /// it below IM lowers its maintenance equity or leaves it below maintenance.
    function invariant_liquidatableTradesNeverPayValueAway() public view {
        assertEq(handler.liquidatableTradeLostValue(), 0, "a liquidatable account paid value away");
    }

    /// @dev No account withdraws more than it deposited plus what its counterparties lost to
    /// it with a passing check behind the loss (the drain of finding 1 withdraws exactly such
    /// an unbacked gain).
    function invariant_noWithdrawalBeyondEntitlement() public view {
        assertEq(handler.overWithdrawals(), 0, "withdrew more than deposited plus backed gains");
    }

    /// @dev The fee account only receives: it never holds a position or owes cash.
    function invariant_feeAccountOnlyReceives() public view {
        assertGe(vault.cashOf(feeAccountId), 0, "fee account owes cash");
        (SeriesId[] memory held, ) = market.positionsOf(feeAccountId);
        assertEq(held.length, 0, "fee account holds a position");
    }

    /// @dev Whenever prices are valid the engine can value every account, whatever the price
    /// path (keepers and the gate depend on it).
    function invariant_engineValuesEveryAccountWhenPricesAreLive() public view {
        if (!handler.pricesLive()) return;
        AccountId[] memory accounts = new AccountId[](6);
        for (uint256 i; i < 6; ++i) accounts[i] = handler.accounts(i);
        engine.accountsMargin(accounts);
    }

    function _handlerCash() internal view returns (int256 sum) {
        for (uint256 i; i < 6; ++i) sum += vault.cashOf(handler.accounts(i));
        sum += vault.cashOf(feeAccountId);
    }

    /// @dev An L2 deployment: the fixture's oracle reads a sequencer uptime feed (up for a day
    /// already), which the handler's oracle actor takes down and up.
    function _sequencerFeed() internal override returns (address) {
        sequencer = new MockFaultyAggregator(0);
        sequencer.setLatest(0, block.timestamp - 1 days, block.timestamp - 1 days);
        return address(sequencer);
    }
}
