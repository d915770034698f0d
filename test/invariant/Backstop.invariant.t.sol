// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {Backstop} from "../../contracts/liquidation/Backstop.sol";
import {IBackstop} from "../../contracts/interfaces/IBackstop.sol";
import {ILiquidator} from "../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {Liquidator} from "../../contracts/liquidation/Liquidator.sol";
import {MarginEngine} from "../../contracts/engine/MarginEngine.sol";
import {OptionMarket} from "../../contracts/market/OptionMarket.sol";
import {CollateralVault} from "../../contracts/vault/CollateralVault.sol";
import {MockFaultyAggregator} from "../../contracts/mocks/MockFaultyAggregator.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {SeriesLib} from "../../contracts/libraries/SeriesLib.sol";
import {PledgeFixture} from "../helpers/PledgeFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice Trades between thinly margined traders, price jumps, stale feeds and sequencer
/// outages, auctions, takeovers and deleveraging, with every "must never happen" of
/// `docs/backstop.md` counted as it happens.
contract BackstopHandler is Test {
    struct Stack {
        CollateralVault vault;
        MarginEngine engine;
        OptionMarket market;
        Liquidator liquidator;
        Backstop backstop;
        MockV3Aggregator ethUsd;
        MockV3Aggregator[] feeds;
        MockFaultyAggregator sequencer;
        address riskManager;
    }

    Stack internal s;
    uint256[] internal _keys;
    /// @dev The traders, the bidder, then the insurance account (which holds what it took over).
    AccountId[] public accounts;
    /// @dev A well-funded bidder that takes insolvent accounts the fund pays for.
    AccountId internal _bidder;
    SeriesId[] public series;
    uint256 internal _nonce;

    // ghosts: violations
    uint256 public holdersTakenBelowMaintenance;
    uint256 public healthyHoldersTakenBelowMaintenance;
    uint256 public adlUnbalancedCloses;
    uint256 public adlCashChanged;
    uint256 public adlValueCreated;
    uint256 public takeoversNotEmpty;
    uint256 public takeoversMisvalued;
    uint256 public fundPaymentsUnbooked;
    uint256 public takeoversBeyondBudget;
    // ghosts: coverage
    uint256 public takeovers;
    uint256 public deleverages;
    uint256 public contractsDeleveraged;
    uint256 public fundPaidBids;

    constructor(Stack memory stack, uint256[] memory keys, SeriesId[] memory seriesIds, AccountId fund) {
        s = stack;
        _keys = keys;
        series = seriesIds;
        for (uint256 i; i < keys.length; ++i) {
            accounts.push(AccountLib.accountId(vm.addr(keys[i]), 1));
        }
        _bidder = AccountLib.accountId(makeAddr("backstop bidder"), 1);
        accounts.push(_bidder);
        accounts.push(fund);
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function seriesCount() external view returns (uint256) {
        return series.length;
    }

    // ------------------------------------------------------------ market and prices

    /// @dev Trader `a` (maker) and trader `b` (taker) trade at the mark; refused fills are fine.
    function trade(uint256 a, uint256 b, uint256 seriesSeed, uint256 size, bool sell) external {
        uint256 n = _keys.length;
        (a, b) = (a % n, b % n);
        if (a == b) b = (b + 1) % n;
        SeriesId seriesId = series[seriesSeed % series.length];
        if (block.timestamp >= SeriesLib.expiryOf(seriesId)) return;
        size = bound(size, 1e17, 6e18);
        uint256 price;
        try s.engine.mark(seriesId) returns (uint256 m) {
            price = m;
        } catch {
            return;
        }
        IOptionMarket.Order memory order = IOptionMarket.Order({
            account: accounts[a],
            seriesId: seriesId,
            size: sell ? -int256(size) : int256(size),
            priceWad: price,
            taker: AccountId.wrap(0),
            nonce: ++_nonce,
            deadline: block.timestamp
        });
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(_keys[a], s.market.orderHash(order));
        vm.prank(AccountLib.ownerOf(accounts[b]));
        try s.market.fill(order, abi.encodePacked(r, sig, v), accounts[b], size) {} catch {}
    }

    /// @dev ETH jumps by −30 % … +40 %.
    function jumpPrice(uint256 seed) external {
        int256 answer = s.ethUsd.latestAnswer();
        int256 pct = int256(bound(seed, 70, 140));
        s.ethUsd.updateAnswer((answer * pct) / 100);
    }

    /// @dev Time passes without a feed update: after 1 h 15 min the feeds are stale.
    function advanceTime(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 30, 50 minutes));
    }

    function refreshFeeds() external {
        for (uint256 i; i < s.feeds.length; ++i) {
            s.feeds[i].updateAnswer(s.feeds[i].latestAnswer());
        }
    }

    /// @dev The L2 sequencer goes down, or comes back (then its grace period runs).
    function toggleSequencer() external {
        (, int256 answer, , , ) = s.sequencer.latestRoundData();
        s.sequencer.setLatest(answer == 0 ? int256(1) : int256(0), block.timestamp, block.timestamp);
    }

    // ------------------------------------------------------------ the waterfall

    function startAuction(uint256 seed) external {
        try s.liquidator.startAuction(accounts[seed % _keys.length]) {} catch {}
    }

    /// @dev A budget between nothing and $50k per takeover, so both steps get their turn.
    function setBudget(uint256 seed) external {
        uint128 perTakeover = uint128(bound(seed, 0, 50_000e18));
        vm.prank(s.riskManager);
        s.backstop.setTakeoverBudget(IBackstop.TakeoverBudget(perTakeover, perTakeover * 3));
    }

    function takeover(uint256 seed) external {
        AccountId account = accounts[seed % _keys.length];
        AccountId fund = accounts[accounts.length - 1];
        int256 value;
        int256 fundBefore;
        try s.engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            value = state.markValue;
            fundBefore = s.engine.accountMargin(fund).markValue;
        } catch {
            return;
        }
        (SeriesId[] memory held, ) = s.market.positionsOf(account);
        uint256 budgetLeft = s.backstop.budgetLeft();
        try s.backstop.takeover(account) {
            ++takeovers;
            // The budget counts every fund outflow booked in the window, bids' payments included.
            if (value < 0 && uint256(-value) > budgetLeft) ++takeoversBeyondBudget;
            (uint256[] memory balances, int256 cash) = s.vault.balancesOf(account);
            (SeriesId[] memory left, ) = s.market.positionsOf(account);
            bool empty = cash == 0 && left.length == 0;
            for (uint256 i; i < balances.length; ++i) empty = empty && balances[i] == 0;
            if (!empty) ++takeoversNotEmpty;
            // The fund's value moves by V, but for a wei of valuation rounding per position.
            int256 moved = s.engine.accountMargin(fund).markValue - fundBefore;
            int256 slack = int256(2 * held.length + 2);
            if (moved > value + slack || moved < value - slack) ++takeoversMisvalued;
        } catch {}
    }

    /// @dev The bidder takes a slice of a random auctioned account; when the fund pays for it (an
    /// insolvent account), the window must grow by exactly that payment (review rv16w F6).
    function bid(uint256 seed, uint256 fractionSeed) external {
        AccountId account = accounts[seed % _keys.length];
        uint256 fraction = bound(fractionSeed, 0.05e18, 1e18);
        uint256 windowBefore = s.backstop.windowLoss();
        uint256 nonce = s.market.accountNonce(account);
        vm.prank(AccountLib.ownerOf(_bidder));
        try s.liquidator.bid(account, _bidder, fraction, type(int256).max, nonce) returns (
            ILiquidator.BidPreview memory p
        ) {
            if (p.payment >= 0) return;
            ++fundPaidBids;
            if (s.backstop.windowLoss() != windowBefore + uint256(-p.payment) * 1e12) ++fundPaymentsUnbooked;
        } catch {}
    }

    /// @dev Deleverages a random position of a random trader against every opposite holder,
    /// listed as the chain requires (keys from its own view), and checks the close.
    function deleverage(uint256 seed, uint256 seriesSeed) external {
        AccountId account = accounts[seed % _keys.length];
        SeriesId seriesId = series[seriesSeed % series.length];
        int256 position = s.market.positionOf(account, seriesId);
        if (position == 0 || block.timestamp >= SeriesLib.expiryOf(seriesId)) return;
        AccountId[] memory holders = _sortedHolders(account, seriesId, position > 0);
        if (holders.length == 0) return;

        Snapshot memory before = _snapshot(account, seriesId, holders);
        if (!before.priced) return;
        try s.backstop.deleverage(account, seriesId, holders) returns (uint256 closed) {
            ++deleverages;
            contractsDeleveraged += closed;
            _checkClose(account, seriesId, holders, before, closed);
        } catch {}
    }

    // ------------------------------------------------------------ checks

    struct Snapshot {
        bool priced;
        uint256 openInterest;
        int256 position;
        int256 cashSum;
        int256 valueSum;
        int256[] holderPositions;
        bool[] holderHealthy;
    }

    function _snapshot(
        AccountId account,
        SeriesId seriesId,
        AccountId[] memory holders
    ) private view returns (Snapshot memory snap) {
        snap.openInterest = s.market.openInterest(seriesId);
        snap.position = s.market.positionOf(account, seriesId);
        snap.holderPositions = new int256[](holders.length);
        snap.holderHealthy = new bool[](holders.length);
        try s.engine.accountMargin(account) returns (IMarginEngine.MarginState memory state) {
            snap.valueSum = state.markValue;
        } catch {
            return snap;
        }
        snap.cashSum = s.vault.cashOf(account);
        for (uint256 i; i < holders.length; ++i) {
            IMarginEngine.MarginState memory h = s.engine.accountMargin(holders[i]);
            snap.holderPositions[i] = s.market.positionOf(holders[i], seriesId);
            snap.holderHealthy[i] = h.equityMM >= int256(h.requirementMM);
            snap.cashSum += s.vault.cashOf(holders[i]);
            snap.valueSum += h.markValue;
        }
        snap.priced = true;
    }

    function _checkClose(
        AccountId account,
        SeriesId seriesId,
        AccountId[] memory holders,
        Snapshot memory before,
        uint256 closed
    ) private {
        Snapshot memory afterSnap = _snapshot(account, seriesId, holders);
        uint256 holdersClosed;
        for (uint256 i; i < holders.length; ++i) {
            int256 delta = afterSnap.holderPositions[i] - before.holderPositions[i];
            if (delta == 0) continue;
            holdersClosed += _abs(before.holderPositions[i]) - _abs(afterSnap.holderPositions[i]);
            IMarginEngine.MarginState memory h = s.engine.accountMargin(holders[i]);
            if (h.equityMM < int256(h.requirementMM)) {
                ++holdersTakenBelowMaintenance;
                if (before.holderHealthy[i]) ++healthyHoldersTakenBelowMaintenance;
            }
        }
        uint256 accountClosed = _abs(before.position) - _abs(afterSnap.position);
        if (
            accountClosed != closed || holdersClosed != closed || before.openInterest - afterSnap.openInterest != closed
        ) ++adlUnbalancedCloses;
        if (afterSnap.cashSum != before.cashSum) ++adlCashChanged;
        // Positions move at the same mark on both sides: nothing but valuation rounding (a wei a
        // position) may appear.
        if (afterSnap.valueSum > before.valueSum + int256(2 * holders.length + 2)) ++adlValueCreated;
    }

    /// @dev Every account holding the opposite side, sorted by the chain's key then id.
    function _sortedHolders(
        AccountId account,
        SeriesId seriesId,
        bool accountIsLong
    ) private view returns (AccountId[] memory list) {
        list = new AccountId[](accounts.length);
        uint256[] memory keys = new uint256[](accounts.length);
        uint256 n;
        for (uint256 i; i < accounts.length; ++i) {
            AccountId h = accounts[i];
            int256 balance = s.market.positionOf(h, seriesId);
            if (h == account || balance == 0 || (balance > 0) == accountIsLong) continue;
            uint256 key;
            try s.backstop.deleverageKey(h, seriesId) returns (uint256 k) {
                key = k;
            } catch {
                return new AccountId[](0);
            }
            // Insertion: key descending, then id ascending.
            uint256 j = n++;
            while (
                j > 0 &&
                (keys[j - 1] < key || (keys[j - 1] == key && AccountId.unwrap(list[j - 1]) > AccountId.unwrap(h)))
            ) {
                (list[j], keys[j]) = (list[j - 1], keys[j - 1]);
                --j;
            }
            (list[j], keys[j]) = (h, key);
        }
        assembly ("memory-safe") {
            mstore(list, n)
        }
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}

contract BackstopInvariantTest is PledgeFixture {
    BackstopHandler internal handler;
    MockFaultyAggregator internal sequencer;

    function _sequencerFeed() internal override returns (address) {
        sequencer = new MockFaultyAggregator(0);
        sequencer.setLatest(0, block.timestamp - 2 hours, block.timestamp - 2 hours);
        return address(sequencer);
    }

    function setUp() public override {
        super.setUp();
        uint256[] memory keys = new uint256[](5);
        for (uint256 i; i < keys.length; ++i) {
            keys[i] = uint256(keccak256(abi.encode("backstop trader", i)));
            address owner = vm.addr(keys[i]);
            _fundAndDeposit(owner, _account(owner, 1), usdc, 4_000e6 + 6_000e6 * i);
        }
        _fundAndDeposit(alice, insurance.account(), usdc, 200_000e6);
        address bidderOwner = makeAddr("backstop bidder");
        _fundAndDeposit(bidderOwner, _account(bidderOwner, 1), usdc, 1_000_000e6);
        SeriesId[] memory seriesIds = new SeriesId[](3);
        seriesIds[0] = _createSeries(ethIndex, 7, 3_000e18, true);
        seriesIds[1] = _createSeries(ethIndex, 7, 2_700e18, false);
        seriesIds[2] = _createSeries(ethIndex, 30, 3_400e18, true);
        MockV3Aggregator[] memory feeds = new MockV3Aggregator[](4);
        (feeds[0], feeds[1], feeds[2], feeds[3]) = (ethUsd, btcUsd, ethVol, btcVol);
        handler = new BackstopHandler(
            BackstopHandler.Stack(vault, engine, market, liquidator, backstop, ethUsd, feeds, sequencer, riskManager),
            keys,
            seriesIds,
            insurance.account()
        );
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](10);
        actions[0] = BackstopHandler.trade.selector;
        actions[1] = BackstopHandler.jumpPrice.selector;
        actions[2] = BackstopHandler.advanceTime.selector;
        actions[3] = BackstopHandler.refreshFeeds.selector;
        actions[4] = BackstopHandler.toggleSequencer.selector;
        actions[5] = BackstopHandler.startAuction.selector;
        actions[6] = BackstopHandler.setBudget.selector;
        actions[7] = BackstopHandler.takeover.selector;
        actions[8] = BackstopHandler.deleverage.selector;
        actions[9] = BackstopHandler.bid.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
    }

    /// @dev ADL never takes a healthy holder below maintenance — nor any holder it closes.
    function invariant_deleveragingKeepsHoldersAboveMaintenance() public view {
        assertEq(handler.healthyHoldersTakenBelowMaintenance(), 0);
        assertEq(handler.holdersTakenBelowMaintenance(), 0);
    }

    /// @dev ADL closes the same contracts on both sides and open interest falls by exactly that.
    function invariant_deleveragingClosesBothSidesEqually() public view {
        assertEq(handler.adlUnbalancedCloses(), 0);
    }

    /// @dev ADL creates no value: cash only changes hands, and positions close at one mark.
    function invariant_deleveragingCreatesNoValue() public view {
        assertEq(handler.adlCashChanged(), 0);
        assertEq(handler.adlValueCreated(), 0);
    }

    /// @dev A takeover leaves the account empty and moves the fund's value by V.
    function invariant_takeoverMovesTheWholeAccountAtMark() public view {
        assertEq(handler.takeoversNotEmpty(), 0);
        assertEq(handler.takeoversMisvalued(), 0);
    }

    /// @dev Every payment the fund makes to a bidder is booked in the window, and no takeover costs
    /// more than the budget left, which counts those payments (review rv16w F6).
    function invariant_everyFundOutflowIsBookedAndBounded() public view {
        assertEq(handler.fundPaymentsUnbooked(), 0);
        assertEq(handler.takeoversBeyondBudget(), 0);
    }

    function invariant_positionsNetToZero() public view {
        for (uint256 j; j < handler.seriesCount(); ++j) {
            SeriesId seriesId = handler.series(j);
            int256 net;
            for (uint256 i; i < handler.accountCount(); ++i) {
                net += market.positionOf(handler.accounts(i), seriesId);
            }
            assertEq(net, 0);
        }
    }

    function invariant_booksBalance() public view {
        int256 sum = vault.cashOf(market.settlementAccount());
        for (uint256 i; i < handler.accountCount(); ++i) {
            sum += vault.cashOf(handler.accounts(i));
        }
        assertEq(int256(usdc.balanceOf(address(vault))), sum);
        assertEq(vault.totalCashCredit() - vault.totalCashDebt(), usdc.balanceOf(address(vault)));
    }

    /// @dev A directed run of the handler reaches both steps (the random runs may not, so the
    /// invariants above are not vacuous by construction).
    function test_handlerReachesBothSteps() public {
        handler.trade(0, 4, 0, 5e18, true); // trader 0 sells 5 calls to trader 4
        handler.trade(1, 3, 0, 4e18, true);
        handler.trade(2, 4, 0, 3e18, true);
        for (uint256 i; i < 4; ++i) handler.jumpPrice(125);
        for (uint256 i; i < 3; ++i) handler.startAuction(i);
        handler.advanceTime(15 minutes);
        handler.refreshFeeds();
        handler.setBudget(1_000_000e18); // clamped to $50k
        handler.takeover(0);
        handler.setBudget(0);
        handler.deleverage(1, 0);
        handler.deleverage(2, 0);
        assertGt(handler.takeovers() + handler.deleverages(), 0, "a step ran");
        assertGt(handler.deleverages(), 0, "ADL ran");
        assertEq(handler.holdersTakenBelowMaintenance(), 0);
        assertEq(handler.adlUnbalancedCloses(), 0);
        assertEq(handler.adlCashChanged(), 0);
        assertEq(handler.adlValueCreated(), 0);
        assertEq(handler.takeoversNotEmpty(), 0);
        assertEq(handler.takeoversMisvalued(), 0);
    }

    /// @dev A directed run reaches a bid the fund pays for (review rv16w F6), booked in the window.
    function test_handlerReachesAFundPaidBid() public {
        handler.trade(0, 4, 0, 5e18, true);
        handler.trade(1, 3, 0, 4e18, true);
        handler.trade(2, 4, 0, 3e18, true);
        for (uint256 i; i < 4; ++i) handler.jumpPrice(125);
        for (uint256 i; i < 3; ++i) handler.startAuction(i);
        for (uint256 i; i < 3; ++i) handler.bid(i, 0.5e18);
        assertGt(handler.fundPaidBids(), 0, "the fund paid a bidder");
        assertGt(backstop.windowLoss(), 0);
        assertEq(handler.fundPaymentsUnbooked(), 0);
    }
}
