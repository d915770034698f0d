// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../contracts/market/OptionMarket.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {MarketFixture} from "../helpers/MarketFixture.sol";

/// @notice Drives the market on the real engine with bounded random signed orders, fills,
/// partial refills, cancels and subaccount transfers between three owners with two
/// subaccounts each, while a price actor moves the ETH/USD feed and a clock actor lets
/// time pass (refreshing the feeds, so prices stay valid). Refusals (margin, overfill,
/// cancelled or expired orders) are expected and counted.
contract MarketHandler is Test {
    /// @notice Largest ETH/USD move per step: 20 %.
    int256 internal constant MAX_MOVE_BPS = 2_000;
    int256 internal constant MIN_PRICE = 500e8;
    int256 internal constant MAX_PRICE = 20_000e8;

    OptionMarket internal immutable market;
    IMarginEngine internal immutable engine;
    MockV3Aggregator internal immutable ethUsd;
    MockV3Aggregator internal immutable ethVol;
    uint256[3] internal keys;
    uint256[6] public accounts;
    uint256[3] public series;

    IOptionMarket.Order[] internal orders;
    bytes[] internal signatures;
    uint256 internal nonce;

    uint256 public fills;
    uint256 public refusedFills;
    uint256 public transfers;
    uint256 public cancels;
    uint256 public priceMoves;
    uint256 public timeSteps;
    /// @notice Ghost: a fill or transfer went through while a side that took new risk ended
    /// below IM. Must stay zero.
    uint256 public newRiskBelowInitialMargin;

    constructor(
        OptionMarket market_,
        IMarginEngine engine_,
        MockV3Aggregator ethUsd_,
        MockV3Aggregator ethVol_,
        uint256[3] memory series_
    ) {
        market = market_;
        engine = engine_;
        ethUsd = ethUsd_;
        ethVol = ethVol_;
        series = series_;
        for (uint256 i; i < 3; ++i) {
            (address owner, uint256 key) = makeAddrAndKey(string.concat("owner", vm.toString(i)));
            keys[i] = key;
            accounts[i] = AccountLib.accountId(owner, 0);
            accounts[i + 3] = AccountLib.accountId(owner, 1);
        }
    }

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
        size = bound(size, 1, 100e18);
        IOptionMarket.Order memory order = IOptionMarket.Order({
            account: accounts[makerIdx],
            seriesId: series[seriesSeed % 3],
            size: makerBuys ? int256(size) : -int256(size),
            priceWad: bound(priceWad, 0, 2_000e18),
            taker: 0,
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

    function cancel(uint256 orderSeed) external {
        if (orders.length == 0) return;
        IOptionMarket.Order memory order = orders[orderSeed % orders.length];
        vm.prank(AccountLib.ownerOf(order.account));
        market.cancelOrder(order);
        ++cancels;
    }

    function transfer(uint256 ownerSeed, uint256 seriesSeed, uint256 amount, bool fromMain) external {
        uint256 o = ownerSeed % 3;
        (uint256 from, uint256 to) = fromMain ? (accounts[o], accounts[o + 3]) : (accounts[o + 3], accounts[o]);
        // Move one of the positions `from` holds, so most calls reach the gate.
        (uint256[] memory open, ) = market.positionsOf(from);
        if (open.length == 0) return;
        uint256 seriesId = open[seriesSeed % open.length];
        int256 held = market.positionOf(from, seriesId);
        int256 part = int256(bound(amount, 1, _abs(held)));
        uint256[] memory ids = new uint256[](1);
        int256[] memory amounts = new int256[](1);
        (ids[0], amounts[0]) = (seriesId, held > 0 ? part : -part);
        // The source only ever reduces; the target takes new risk unless it nets a position down.
        bool targetReducing = _isReducing(market.positionOf(to, seriesId), amounts[0]);
        vm.prank(AccountLib.ownerOf(from));
        try market.transferPositions(from, to, ids, amounts) {
            ++transfers;
            if (!targetReducing) _recordNewRisk(to);
        } catch {}
    }

    /// @dev The price actor: ETH/USD moves by up to ±20 %, kept within [500, 20,000] USD.
    function movePrice(uint256 moveSeed) external {
        int256 price = ethUsd.latestAnswer();
        int256 maxMove = (price * MAX_MOVE_BPS) / 10_000;
        int256 next = price - maxMove + int256(bound(moveSeed, 0, uint256(2 * maxMove)));
        if (next < MIN_PRICE) next = MIN_PRICE;
        if (next > MAX_PRICE) next = MAX_PRICE;
        ethUsd.updateAnswer(next);
        ++priceMoves;
    }

    /// @dev The clock actor: up to 6 hours pass, then the ETH feeds post again (same answers),
    /// as Chainlink's heartbeat would. Options decay; the week-out series may expire.
    function advanceTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1 minutes, 6 hours));
        ethUsd.updateAnswer(ethUsd.latestAnswer());
        ethVol.updateAnswer(ethVol.latestAnswer());
        ++timeSteps;
    }

    function _tryFill(uint256 i, uint256 takerIdx, uint256 fillSize) private {
        IOptionMarket.Order memory order = orders[i];
        uint256 takerAccount = accounts[takerIdx];
        if (takerAccount == order.account) return;
        int256 makerDelta = order.size > 0 ? int256(fillSize) : -int256(fillSize);
        bool makerReducing = _isReducing(market.positionOf(order.account, order.seriesId), makerDelta);
        bool takerReducing = _isReducing(market.positionOf(takerAccount, order.seriesId), -makerDelta);
        vm.prank(AccountLib.ownerOf(takerAccount));
        try market.fill(order, signatures[i], takerAccount, fillSize) {
            ++fills;
            if (!makerReducing) _recordNewRisk(order.account);
            if (!takerReducing) _recordNewRisk(takerAccount);
        } catch {
            ++refusedFills;
        }
    }

    /// @dev Right after an action that gave `account` new risk, it must be at or above IM.
    function _recordNewRisk(uint256 account) private {
        if (engine.excessInitial(account) < 0) ++newRiskBelowInitialMargin;
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
/// real stack, with ETH/USD moves and the passage of time.
contract OptionMarketInvariantTest is MarketFixture {
    uint256 internal constant HANDLER_FUNDING = 100_000e6;

    MarketHandler internal handler;
    int256 internal initialCash;

    function setUp() public override {
        super.setUp();
        vm.prank(riskManager);
        market.setFees(0.003e18, 0.007e18);
        vm.prank(admin);
        market.setFeeAccount(feeAccountId);

        uint256 laterId = _createSeries(ethIndex, 28, 4000e18, true);
        handler = new MarketHandler(market, engine, ethUsd, ethVol, [callId, putId, laterId]);
        for (uint256 i; i < 6; ++i) {
            uint256 account = handler.accounts(i);
            _fundAndDeposit(AccountLib.ownerOf(account), account, usdc, HANDLER_FUNDING);
        }
        initialCash = _handlerCash();
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](6);
        actions[0] = MarketHandler.placeAndFill.selector;
        actions[1] = MarketHandler.refill.selector;
        actions[2] = MarketHandler.cancel.selector;
        actions[3] = MarketHandler.transfer.selector;
        actions[4] = MarketHandler.movePrice.selector;
        actions[5] = MarketHandler.advanceTime.selector;
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
            uint256 seriesId = handler.series(s);
            uint256 longs;
            for (uint256 i; i < 6; ++i) {
                int256 balance = market.positionOf(handler.accounts(i), seriesId);
                if (balance > 0) longs += uint256(balance);
            }
            assertEq(market.openInterest(seriesId), longs, "open interest drifted");
        }
    }

    /// @dev `positionsOf` lists exactly the nonzero balances.
    function invariant_openListMatchesBalances() public view {
        for (uint256 i; i < 6; ++i) {
            uint256 account = handler.accounts(i);
            (uint256[] memory ids, int256[] memory balances) = market.positionsOf(account);
            uint256 nonzero;
            for (uint256 s; s < 3; ++s) {
                if (market.positionOf(account, handler.series(s)) != 0) ++nonzero;
            }
            assertEq(ids.length, nonzero, "open list length");
            for (uint256 k; k < ids.length; ++k) {
                assertTrue(balances[k] != 0, "zero balance listed");
                assertEq(balances[k], market.positionOf(account, ids[k]), "listed balance");
            }
        }
    }

    /// @dev No trade creates or destroys value: whatever the price does, traders plus the
    /// fee account keep their total cash.
    function invariant_cashConserved() public view {
        assertEq(_handlerCash(), initialCash, "cash created or destroyed");
    }

    /// @dev The vault still reconciles: tokens held equal Σ signed cash of every account that
    /// ever held cash (the handler's six, the fee account, the fixture's maker and taker).
    function invariant_vaultReconciles() public view {
        int256 all = _handlerCash() + vault.cashOf(makerAccount) + vault.cashOf(takerAccount);
        assertEq(int256(usdc.balanceOf(address(vault))), all, "vault does not reconcile");
    }

    /// @dev The margin gate held on every action: no side that took new risk ended below IM.
    function invariant_newRiskOnlyAtOrAboveInitialMargin() public view {
        assertEq(handler.newRiskBelowInitialMargin(), 0, "new risk accepted below IM");
    }

    /// @dev With fresh feeds the engine can value every account, whatever the price path
    /// (keepers and the gate depend on it).
    function invariant_engineValuesEveryAccount() public view {
        uint256[] memory accounts = new uint256[](6);
        for (uint256 i; i < 6; ++i) accounts[i] = handler.accounts(i);
        engine.accountsMargin(accounts);
    }

    function _handlerCash() internal view returns (int256 sum) {
        for (uint256 i; i < 6; ++i) sum += vault.cashOf(handler.accounts(i));
        sum += vault.cashOf(feeAccountId);
    }
}
