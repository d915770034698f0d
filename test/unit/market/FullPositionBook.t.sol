// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @title A full position book (128 open series) against a swap-and-pop model
/// @notice The market keeps an account's open series in a fixed list of 128 book entries (series
/// and balance in one word), a series found by scanning them (`OptionMarket._find`,
/// `_open`/`_close`). These walk the boundaries: a
/// 129th series refused, closing at places 128, 1 and the middle, a flip across zero (keeps its
/// place), reopening to 128, random closing order, and a liquidation's slices and moves of a full
/// book. After every step the maker's list and balances equal the model and the taker mirrors them.
/// (From review rv24, session 16.)
contract FullPositionBookTest is MarketFixture {
    uint256 internal constant N = 128;
    SeriesId[] internal ids;
    SeriesId[] internal modelOpen;
    mapping(SeriesId => int256) internal bal;
    uint256 internal nonce;

    function setUp() public override {
        super.setUp();
        _fundAndDeposit(maker, makerAccount, usdc, 100_000_000e6);
        _fundAndDeposit(taker, takerAccount, usdc, 100_000_000e6);
        for (uint256 i; i < N; ++i) {
            ids.push(
                market.createSeries(
                    SeriesLib.Series(ethIndex, uint40(expiry), i % 2 == 0, uint128(1000e18 + 10e18 * i))
                )
            );
        }
    }

    function _step(SeriesId id, int256 size) internal {
        IOptionMarket.Order memory order = _order(makerAccount, id, size, 0);
        order.nonce = nonce++;
        _fill(order, uint256(size > 0 ? size : -size));
        int256 b0 = bal[id];
        int256 b1 = b0 + size;
        bal[id] = b1;
        if (b0 == 0) modelOpen.push(id);
        else if (b1 == 0) {
            for (uint256 i; i < modelOpen.length; ++i) {
                if (SeriesId.unwrap(modelOpen[i]) != SeriesId.unwrap(id)) continue;
                modelOpen[i] = modelOpen[modelOpen.length - 1];
                modelOpen.pop();
                break;
            }
        }
        _check();
    }

    function _check() internal view {
        (SeriesId[] memory open, int256[] memory b) = market.positionsOf(makerAccount);
        assertEq(open.length, modelOpen.length, "count");
        for (uint256 i; i < open.length; ++i) {
            assertEq(SeriesId.unwrap(open[i]), SeriesId.unwrap(modelOpen[i]), "order");
            assertEq(b[i], bal[open[i]], "bal");
        }
        (SeriesId[] memory t, int256[] memory tb) = market.positionsOf(takerAccount);
        assertEq(t.length, open.length, "taker count");
        for (uint256 i; i < t.length; ++i) assertEq(tb[i], -bal[t[i]], "taker bal");
        _assertRawBook(makerAccount);
        _assertRawBook(takerAccount);
    }

    /// @dev A full book's count (128) sets the first entry's top bit. Without a price, a reducing
    /// side is judged by whether it holds a short, read from the entries with the count's bits
    /// shifted out: a book of 128 longs holds none, so the maker may sell one back. Read as a signed
    /// word, the first entry would look like a short and the exit would be refused.
    function test_fullBookOfLongsExitsWithoutAPrice() public {
        for (uint256 i; i < N; ++i) _step(ids[i], 1e17);
        vm.warp(block.timestamp + SPOT_MAX_AGE + 1);
        vm.expectRevert(_staleSpotError());
        engine.accountMargin(makerAccount);
        // The first and the last entry each reduced, without a price, at no premium.
        _step(ids[0], -0.5e17);
        _step(ids[N - 1], -0.5e17);
        (SeriesId[] memory open, ) = market.positionsOf(makerAccount);
        assertEq(open.length, N, "still full");
        // At a price again, a full book can close its first entry: the last moves in with the count.
        _refreshFeeds();
        _step(ids[0], -0.5e17);
        (open, ) = market.positionsOf(makerAccount);
        assertEq(open.length, N - 1);
        assertEq(open[0], ids[N - 1]);
    }

    /// @dev The largest balances at the first place of a full book, either way: the count survives,
    /// and one wei past the bound reverts and leaves every word as it was.
    function test_fullBookHoldsTheBoundAtItsFirstPlace() public {
        for (uint256 i; i < N; ++i) _step(ids[i], 1e17);
        // ETH at 1e-8 USD, so a short call at the bound needs almost no margin.
        _setPrice(ethUsd, 1);
        int256 most = int256(market.MAX_BALANCE());
        // Entry 0 is ids[0]; take it to −MAX_BALANCE, then to +MAX_BALANCE.
        _step(ids[0], -most - 1e17);
        assertEq(market.positionOf(makerAccount, ids[0]), -most);
        uint256 digest = market.accountNonce(makerAccount);
        IOptionMarket.Order memory past = _order(makerAccount, ids[0], -1, 0);
        past.nonce = nonce++;
        _fillExpectRevert(
            past,
            1,
            abi.encodeWithSelector(IOptionMarket.MarketBalanceTooLarge.selector, makerAccount, ids[0], -most - 1)
        );
        assertEq(market.accountNonce(makerAccount), digest, "nothing written");
        _step(ids[0], 2 * most);
        assertEq(market.positionOf(makerAccount, ids[0]), most);
        (SeriesId[] memory open, ) = market.positionsOf(makerAccount);
        assertEq(open.length, N);
    }

    function test_fullBook_closeAtPlaces128And1_flip_reopen() public {
        for (uint256 i; i < N; ++i) _step(ids[i], i % 3 == 0 ? int256(1e18) : -int256(1e17));
        // A 129th series is refused.
        SeriesId extra = market.createSeries(SeriesLib.Series(ethIndex, uint40(expiry), true, 77_000e18));
        IOptionMarket.Order memory o = _order(makerAccount, extra, 1e18, 0);
        o.nonce = 999;
        _fillExpectRevert(
            o,
            1e18,
            abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, makerAccount, 128)
        );
        // Close the one at place 128 (last), then place 1, then a middle one.
        _step(ids[N - 1], -bal[ids[N - 1]]);
        _step(ids[0], -bal[ids[0]]);
        _step(ids[64], -bal[ids[64]]);
        // Flip a position across zero (it keeps its place).
        _step(ids[5], -3 * bal[ids[5]]);
        // Reopen to 128.
        _step(ids[N - 1], 2e18);
        _step(ids[0], -2e18);
        _step(ids[64], 2e18);
        // Close the entries now at place 128 and at place 1.
        (SeriesId[] memory open, ) = market.positionsOf(makerAccount);
        assertEq(open.length, 128);
        _step(open[127], -bal[open[127]]);
        _step(open[0], -bal[open[0]]);
        // Close everything in a pseudo-random order.
        uint256 seed = 42;
        while (modelOpen.length != 0) {
            seed = uint256(keccak256(abi.encode(seed)));
            SeriesId id = modelOpen[seed % modelOpen.length];
            _step(id, -bal[id]);
        }
        assertEq(market.openInterest(ids[3]), 0);
        assertTrue(market.seriesExists(ids[3]));
    }

    function test_sliceAndMoveAFullBook() public {
        for (uint256 i; i < N; ++i) _step(ids[i], i % 3 == 0 ? int256(1e18) : -int256(1e17));
        vm.prank(admin);
        market.grantRole(Roles.MODULE_ROLE, address(this));
        AccountId sub = _account(maker, 9);
        market.moduleSlicePositions(makerAccount, sub, 0.5e18);
        (SeriesId[] memory a, ) = market.positionsOf(makerAccount);
        (SeriesId[] memory b, ) = market.positionsOf(sub);
        assertEq(a.length, 128);
        assertEq(b.length, 128);
        market.moduleSlicePositions(makerAccount, sub, 1e18);
        (a, ) = market.positionsOf(makerAccount);
        (SeriesId[] memory c, int256[] memory cb) = market.positionsOf(sub);
        assertEq(a.length, 0);
        assertEq(c.length, 128);
        for (uint256 i; i < c.length; ++i) {
            assertEq(cb[i], bal[c[i]]);
            assertEq(market.positionOf(sub, c[i]), bal[c[i]]);
            assertEq(market.positionOf(makerAccount, c[i]), 0);
        }
        // Move each back one at a time from the middle of the list.
        for (uint256 i; i < 128; ++i) {
            (SeriesId[] memory cur, int256[] memory curb) = market.positionsOf(sub);
            assertEq(cur.length, 128 - i);
            market.moduleMovePosition(sub, makerAccount, cur[cur.length / 2], curb[cur.length / 2]);
        }
        (c, ) = market.positionsOf(sub);
        assertEq(c.length, 0);
        (a, ) = market.positionsOf(makerAccount);
        assertEq(a.length, 128);
        for (uint256 i; i < 128; ++i) assertEq(market.positionOf(makerAccount, a[i]), bal[a[i]]);
    }
}
