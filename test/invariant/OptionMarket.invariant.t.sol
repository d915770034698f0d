// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {OptionMarket} from "../../contracts/market/OptionMarket.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {SeriesLib} from "../../contracts/libraries/SeriesLib.sol";
import {FlatMarginEngine} from "../helpers/FlatMarginEngine.sol";
import {MarketFixture} from "../helpers/MarketFixture.sol";

/// @notice Drives the market with bounded random signed orders, fills, partial refills,
/// cancels, subaccount transfers and mark moves, between three owners with two
/// subaccounts each. Refusals (margin, overfill, cancelled orders) are expected and counted.
contract MarketHandler is Test {
    OptionMarket internal immutable market;
    FlatMarginEngine internal immutable flat;
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

    constructor(OptionMarket market_, FlatMarginEngine flat_, uint256[3] memory series_) {
        market = market_;
        flat = flat_;
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
        uint256 seriesId = series[seriesSeed % 3];
        int256 held = market.positionOf(from, seriesId);
        if (held == 0) return;
        int256 part = int256(bound(amount, 1, _abs(held)));
        uint256[] memory ids = new uint256[](1);
        int256[] memory amounts = new int256[](1);
        (ids[0], amounts[0]) = (seriesId, held > 0 ? part : -part);
        vm.prank(AccountLib.ownerOf(from));
        try market.transferPositions(from, to, ids, amounts) {
            ++transfers;
        } catch {}
    }

    /// @dev A price-move actor: the flat engine's mark of one series jumps.
    function moveMark(uint256 seriesSeed, uint256 markWad) external {
        flat.setMark(series[seriesSeed % 3], bound(markWad, 0, 3_000e18));
    }

    function _tryFill(uint256 i, uint256 takerIdx, uint256 fillSize) private {
        IOptionMarket.Order memory order = orders[i];
        uint256 takerAccount = accounts[takerIdx];
        if (takerAccount == order.account) return;
        vm.prank(AccountLib.ownerOf(takerAccount));
        try market.fill(order, signatures[i], takerAccount, fillSize) {
            ++fills;
        } catch {
            ++refusedFills;
        }
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}

/// @notice Books-balance invariants of the market over random trading. Uses the test-only
/// FlatMarginEngine (its mark-move actor steers that engine directly).
contract OptionMarketInvariantTest is MarketFixture {
    uint256 internal constant HANDLER_FUNDING = 100_000e6;

    FlatMarginEngine internal flat;
    MarketHandler internal handler;
    int256 internal initialCash;

    function setUp() public override {
        super.setUp();
        flat = new FlatMarginEngine(vault);
        _setUpMarket(flat);
        flat.setShortRequirement(300e18);
        vm.prank(riskManager);
        market.setFees(0.003e18, 0.007e18, feeAccountId);

        uint256 laterId = market.createSeries(SeriesLib.Series(ethIndex, uint40(_gridExpiry(28)), true, 4000e18));
        handler = new MarketHandler(market, flat, [callId, putId, laterId]);
        for (uint256 i; i < 6; ++i) {
            uint256 account = handler.accounts(i);
            _fundAndDeposit(AccountLib.ownerOf(account), account, usdc, HANDLER_FUNDING);
        }
        initialCash = _handlerCash();
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](5);
        actions[0] = MarketHandler.placeAndFill.selector;
        actions[1] = MarketHandler.refill.selector;
        actions[2] = MarketHandler.cancel.selector;
        actions[3] = MarketHandler.transfer.selector;
        actions[4] = MarketHandler.moveMark.selector;
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

    /// @dev No trade creates or destroys cash: traders plus fee account keep their total.
    function invariant_cashConserved() public view {
        assertEq(_handlerCash(), initialCash, "cash created or destroyed");
    }

    /// @dev The vault still reconciles: tokens held equal Σ signed cash of every account.
    function invariant_vaultReconciles() public view {
        int256 all = _handlerCash() + vault.cashOf(makerAccount) + vault.cashOf(takerAccount);
        assertEq(int256(usdc.balanceOf(address(vault))), all, "vault does not reconcile");
    }

    function _handlerCash() internal view returns (int256 sum) {
        for (uint256 i; i < 6; ++i) sum += vault.cashOf(handler.accounts(i));
        sum += vault.cashOf(feeAccountId);
    }
}
