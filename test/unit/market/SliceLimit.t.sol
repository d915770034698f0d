// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {IOptionMarket} from "../../../contracts/interfaces/IOptionMarket.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {MarketFixture} from "../../helpers/MarketFixture.sol";

/// @title A liquidation slice asks the receiver's position limit once, and still holds it
/// @notice `moduleSlicePositions` moves a fraction of every position to the receiver (a bidder or
/// the insurance fund). The receiver's limit cannot change within a slice, so the market asks the
/// engine for it once, before the slice's loop, and holds every series the slice opens to it
/// (`OptionMarket._applyDelta`'s limit). These pin both halves: the limit binds at exactly the
/// position that crosses it, counting what the receiver already held, and the engine is asked once,
/// whatever the slice opens.
/// Review rv53 added the cases below the first five: ISOLATED receivers (limit 1), a receiver
/// whose position the slice closes (swap-and-pop) before it opens another, the limit changed
/// between two slices (mode and cap: a limit cached beyond one call would miss them), `from` never
/// asked, a self-slice refused, and a fuzz of cap × prior holdings.
contract SliceLimitTest is MarketFixture {
    uint256 internal constant BOOK = 5;
    SeriesId[] internal ids;
    AccountId internal receiver; // PORTFOLIO
    AccountId internal src; // a second `from`, built series by series

    function setUp() public override {
        super.setUp();
        _fundAndDeposit(maker, makerAccount, usdc, 10_000_000e6);
        _fundAndDeposit(taker, takerAccount, usdc, 10_000_000e6);
        for (uint256 i; i < BOOK; ++i) {
            SeriesId id = _createSeries(ethIndex, 7, 2000e18 + 100e18 * i, i % 2 == 0);
            ids.push(id);
            IOptionMarket.Order memory order = _order(makerAccount, id, 1e18, 10e18);
            order.nonce = i;
            _fill(order, 1e18);
        }
        vm.prank(admin);
        market.grantRole(Roles.MODULE_ROLE, address(this));
        receiver = _account(maker, 9);
        src = _account(maker, 11);
        _mode(receiver, IMarginEngine.MarginMode.PORTFOLIO);
    }

    function _cap(uint256 cap) internal {
        vm.prank(riskManager);
        engine.setPortfolioPositionCap(cap);
    }

    function _mode(AccountId account, IMarginEngine.MarginMode mode) internal {
        vm.prank(maker);
        engine.setMarginMode(account, mode);
    }

    function _tooMany(AccountId account, uint256 limit) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IOptionMarket.MarketTooManyPositions.selector, account, limit);
    }

    function _count(AccountId account) internal view returns (uint256) {
        (SeriesId[] memory held, ) = market.positionsOf(account);
        return held.length;
    }

    /// The book is consistent: every listed series reads back its listed balance.
    function _assertBookConsistent(AccountId account) internal view {
        (SeriesId[] memory held, int256[] memory bal) = market.positionsOf(account);
        for (uint256 i; i < held.length; ++i) {
            assertTrue(bal[i] != 0);
            assertEq(market.positionOf(account, held[i]), bal[i]);
        }
        _assertRawBook(account);
    }

    // ------------------------------------------------------------ the limit, asked once

    function test_sliceOpensUpToTheLimit() public {
        _cap(BOOK);
        market.moduleSlicePositions(makerAccount, receiver, 1e18);
        (SeriesId[] memory held, ) = market.positionsOf(receiver);
        assertEq(held.length, BOOK);
    }

    /// The slice's last opening is one past the limit: the whole slice reverts, naming the limit.
    function test_sliceRefusedAtThePositionPastTheLimit() public {
        _cap(BOOK - 1);
        vm.expectRevert(_tooMany(receiver, BOOK - 1));
        market.moduleSlicePositions(makerAccount, receiver, 1e18);
    }

    /// What the receiver already holds counts against the limit the slice reuses.
    function test_limitCountsWhatTheReceiverHeld() public {
        _cap(BOOK);
        // The receiver takes one series first, then the slice opens the other four: five in all.
        market.moduleMovePosition(makerAccount, receiver, ids[0], 0.5e18);
        market.moduleSlicePositions(makerAccount, receiver, 1e18);
        assertEq(market.positionOf(receiver, ids[0]), 1e18);
        // A sixth series, opened by the next slice, is one too many.
        SeriesId extra = _createSeries(ethIndex, 7, 5000e18, true);
        IOptionMarket.Order memory order = _order(makerAccount, extra, 1e18, 10e18);
        order.nonce = BOOK;
        _fill(order, 1e18);
        vm.expectRevert(_tooMany(receiver, BOOK));
        market.moduleSlicePositions(makerAccount, receiver, 1e18);
    }

    function test_sliceAsksTheLimitOnce() public {
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 1);
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
    }

    /// A slice that opens nothing for the receiver (it holds every series) asks once all the same:
    /// the question costs one warm call, where asking only at an opening would cost every fill the
    /// limit's return (docs/performance.md, "A slice asks the receiver's position limit once").
    function test_sliceOpeningNothingAsksOnce() public {
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 1);
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
        for (uint256 i; i < BOOK; ++i) assertEq(market.positionOf(receiver, ids[i]), 0.75e18);
    }

    // ------------------------------------------------------------ ISOLATED receivers (limit 1)

    function test_rv53_isolatedReceiverTakesOneSeries() public {
        AccountId iso = _account(maker, 10);
        _mode(iso, IMarginEngine.MarginMode.ISOLATED);
        market.moduleMovePosition(makerAccount, src, ids[2], 1e18);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (iso)), 1);
        market.moduleSlicePositions(src, iso, 0.5e18);
        assertEq(market.positionOf(iso, ids[2]), 0.5e18);
    }

    function test_rv53_isolatedReceiverRefusedAtItsSecondSeries() public {
        AccountId iso = _account(maker, 10);
        _mode(iso, IMarginEngine.MarginMode.ISOLATED);
        vm.expectRevert(_tooMany(iso, 1));
        market.moduleSlicePositions(makerAccount, iso, 0.5e18);
    }

    /// An ISOLATED receiver already holding the first series: that one only grows (no ask), the
    /// second one opens and is refused at limit 1.
    function test_rv53_isolatedReceiverHoldingTheFirstSeriesRefusedAtTheNext() public {
        AccountId iso = _account(maker, 10);
        _mode(iso, IMarginEngine.MarginMode.ISOLATED);
        market.moduleMovePosition(makerAccount, iso, ids[0], 0.25e18);
        vm.expectRevert(_tooMany(iso, 1));
        market.moduleSlicePositions(makerAccount, iso, 0.5e18);
    }

    // ------------------------------------------------------------ closes within a slice

    /// The receiver, at its cap, holds the opposite side of `src`'s first series: the slice closes
    /// it (swap-and-pop moves the receiver's last entry) and the freed place takes `src`'s second
    /// series. The count is re-read at each open, the limit asked once.
    function test_rv53_closeFreesRoomForALaterOpenInTheSameSlice() public {
        _cap(2);
        market.moduleMovePosition(takerAccount, receiver, ids[0], -1e18); // short 1, closes below
        market.moduleMovePosition(takerAccount, receiver, ids[4], -0.5e18); // last entry: moved by the close
        assertEq(_count(receiver), 2);
        market.moduleMovePosition(makerAccount, src, ids[0], 1e18);
        market.moduleMovePosition(makerAccount, src, ids[1], 1e18);
        // Asked once by this slice and once by the refused one below (expectCall counts to the
        // test's end); the old code asked the same here, as this slice opens one series only.
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 2);
        market.moduleSlicePositions(src, receiver, 1e18);
        (SeriesId[] memory held, int256[] memory bal) = market.positionsOf(receiver);
        assertEq(held.length, 2);
        assertEq(SeriesId.unwrap(held[0]), SeriesId.unwrap(ids[4]));
        assertEq(bal[0], -0.5e18);
        assertEq(SeriesId.unwrap(held[1]), SeriesId.unwrap(ids[1]));
        assertEq(bal[1], 1e18);
        assertEq(market.positionOf(receiver, ids[0]), 0);
        _assertBookConsistent(receiver);
        assertEq(_count(src), 0);
        // Still at the cap: one more series is refused, naming the (unchanged) limit.
        market.moduleMovePosition(makerAccount, src, ids[2], 1e18);
        vm.expectRevert(_tooMany(receiver, 2));
        market.moduleSlicePositions(src, receiver, 1e18);
    }

    /// The same receiver and series with `src`'s book the other way round: the open comes before
    /// the close, at the cap, and the whole slice is refused though it would end within the cap.
    /// (Pre-existing: the old code, asking at every open, refused it the same way.)
    function test_rv53_openBeforeCloseRefusedAtTheCap() public {
        _cap(2);
        market.moduleMovePosition(takerAccount, receiver, ids[0], -1e18);
        market.moduleMovePosition(takerAccount, receiver, ids[4], -0.5e18);
        market.moduleMovePosition(makerAccount, src, ids[1], 1e18);
        market.moduleMovePosition(makerAccount, src, ids[0], 1e18);
        vm.expectRevert(_tooMany(receiver, 2));
        market.moduleSlicePositions(src, receiver, 1e18);
    }

    /// A slice that flips the receiver's side of a series (short 0.5 + long 1 = long 0.5) is an
    /// update in place: no open, no close, so a cap of 1 admits it (the slice asks its one question
    /// before its loop, whatever it opens).
    function test_rv53_flipIsNeitherOpenNorClose() public {
        _cap(1);
        market.moduleMovePosition(takerAccount, receiver, ids[0], -0.5e18);
        market.moduleMovePosition(makerAccount, src, ids[0], 1e18);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 1);
        market.moduleSlicePositions(src, receiver, 1e18);
        assertEq(market.positionOf(receiver, ids[0]), 0.5e18);
        assertEq(_count(receiver), 1);
    }

    // ------------------------------------------------------------ the limit is per call, per receiver

    /// Lowered between two slices, the cap binds the second: the limit lives for one call only.
    function test_rv53_capLoweredBetweenSlicesBinds() public {
        _cap(3);
        market.moduleMovePosition(makerAccount, src, ids[0], 1e18);
        market.moduleMovePosition(makerAccount, src, ids[1], 1e18);
        market.moduleSlicePositions(src, receiver, 1e18);
        assertEq(_count(receiver), 2);
        _cap(2);
        vm.expectRevert(_tooMany(receiver, 2));
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
    }

    /// Raised between two slices, the cap admits the second.
    function test_rv53_capRaisedBetweenSlicesAdmits() public {
        _cap(2);
        market.moduleMovePosition(makerAccount, src, ids[0], 1e18);
        market.moduleMovePosition(makerAccount, src, ids[1], 1e18);
        market.moduleSlicePositions(src, receiver, 1e18);
        vm.expectRevert(_tooMany(receiver, 2));
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
        _cap(BOOK);
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
        assertEq(_count(receiver), BOOK);
    }

    /// The receiver empties, switches PORTFOLIO → ISOLATED, and the next slice meets limit 1.
    function test_rv53_modeChangedBetweenSlicesBinds() public {
        _cap(BOOK);
        market.moduleMovePosition(makerAccount, src, ids[0], 1e18);
        market.moduleMovePosition(makerAccount, src, ids[1], 1e18);
        market.moduleSlicePositions(src, receiver, 1e18);
        market.moduleSlicePositions(receiver, src, 1e18);
        assertEq(_count(receiver), 0);
        _mode(receiver, IMarginEngine.MarginMode.ISOLATED);
        vm.expectRevert(_tooMany(receiver, 1));
        market.moduleSlicePositions(src, receiver, 1e18);
    }

    /// `from` only ever reduces, so it is never asked; the receiver is asked once.
    function test_rv53_fromIsNeverAsked() public {
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (makerAccount)), 0);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 1);
        market.moduleSlicePositions(makerAccount, receiver, 1e18);
        assertEq(_count(makerAccount), 0);
        assertEq(_count(receiver), BOOK);
    }

    /// Two slices in one transaction to two receivers with different limits: each asked once,
    /// the first's limit never reaching the second.
    function test_rv53_twoReceiversEachAskedForItsOwn() public {
        AccountId iso = _account(maker, 10);
        _mode(iso, IMarginEngine.MarginMode.ISOLATED);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 1);
        market.moduleSlicePositions(makerAccount, receiver, 0.5e18);
        vm.expectRevert(_tooMany(iso, 1));
        market.moduleSlicePositions(makerAccount, iso, 0.5e18);
    }

    function test_rv53_selfSliceRefused() public {
        vm.expectRevert(abi.encodeWithSelector(IOptionMarket.MarketSelfTransfer.selector, makerAccount));
        market.moduleSlicePositions(makerAccount, makerAccount, 0.5e18);
    }

    /// Cap c, receiver first holding h of the five series (h ≤ c): a full slice ends with five
    /// series, so it passes iff c ≥ 5, else is refused naming c; the engine is asked once.
    function testFuzz_rv53_sliceMatchesTheModel(uint256 c, uint256 h) public {
        c = bound(c, 1, 7);
        h = bound(h, 0, c < BOOK ? c : BOOK);
        _cap(c);
        for (uint256 i; i < h; ++i) market.moduleMovePosition(makerAccount, receiver, ids[i], 0.5e18);
        vm.expectCall(address(engine), abi.encodeCall(IMarginEngine.positionLimitOf, (receiver)), 1);
        if (c < BOOK) {
            vm.expectRevert(_tooMany(receiver, c));
            market.moduleSlicePositions(makerAccount, receiver, 1e18);
            // expectCall's count still has to be met: the reverted slice asked once
        } else {
            market.moduleSlicePositions(makerAccount, receiver, 1e18);
            assertEq(_count(receiver), BOOK);
            _assertBookConsistent(receiver);
        }
    }

    // ------------------------------------------------------------ both books after a slice

    /// Session 43: the market finds a series by scanning the book (no index by series). A slice
    /// applies `from`'s side from its last entry down at the places its copy of the book gives,
    /// then `to`'s, each found by a scan. The receiver first holds, per series, nothing, a long, a
    /// short the slice's amount exactly closes, or another short (reduced or flipped). After the
    /// slice, both books, the returned amounts and every series' open interest equal the model's.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_sliceLeavesBothBooksAsTheModel(uint256 seed) public {
        _cap(BOOK);
        uint256 fraction = seed % 3 == 0 ? 1e18 : bound(uint256(keccak256(abi.encode(seed))), 1, 1e18 - 1);
        uint256[BOOK] memory kind;
        for (uint256 i; i < BOOK; ++i) {
            kind[i] = uint256(keccak256(abi.encode(seed, i))) % 4;
            uint256 size = bound(uint256(keccak256(abi.encode(seed, i, "size"))), 1, 0.5e18);
            // A long for the receiver comes out of the maker's, the slice's source.
            if (kind[i] == 1) market.moduleMovePosition(makerAccount, receiver, ids[i], int256(size));
        }
        int256[BOOK] memory fromBefore;
        int256[BOOK] memory amount;
        for (uint256 i; i < BOOK; ++i) {
            fromBefore[i] = market.positionOf(makerAccount, ids[i]);
            amount[i] = fraction == 1e18 ? fromBefore[i] : (fromBefore[i] * int256(fraction)) / 1e18;
            uint256 size = bound(uint256(keccak256(abi.encode(seed, i, "short"))), 1, 1e18);
            // A short out of the taker's: one the slice closes exactly, or any other.
            if (kind[i] == 2 && amount[i] != 0) market.moduleMovePosition(takerAccount, receiver, ids[i], -amount[i]);
            if (kind[i] == 3) market.moduleMovePosition(takerAccount, receiver, ids[i], -int256(size));
        }
        int256[BOOK] memory toBefore;
        for (uint256 i; i < BOOK; ++i) toBefore[i] = market.positionOf(receiver, ids[i]);
        (SeriesId[] memory bookOrder, ) = market.positionsOf(makerAccount);

        (SeriesId[] memory moved, int256[] memory amounts) = market.moduleSlicePositions(
            makerAccount,
            receiver,
            fraction
        );

        assertEq(moved.length, bookOrder.length, "one amount per position of from");
        uint256 fromOpen;
        uint256 toOpen;
        for (uint256 j; j < moved.length; ++j) {
            assertEq(moved[j], bookOrder[j], "from's book order");
            uint256 i;
            while (SeriesId.unwrap(ids[i]) != SeriesId.unwrap(moved[j])) ++i;
            assertEq(amounts[j], amount[i], "amount");
        }
        for (uint256 i; i < BOOK; ++i) {
            int256 fromAfter = fromBefore[i] - amount[i];
            int256 toAfter = toBefore[i] + amount[i];
            assertEq(market.positionOf(makerAccount, ids[i]), fromAfter, "from's balance");
            assertEq(market.positionOf(receiver, ids[i]), toAfter, "to's balance");
            if (fromAfter != 0) ++fromOpen;
            if (toAfter != 0) ++toOpen;
            // Open interest is the longs of the only holders: the maker, the taker and the receiver.
            int256 takerHeld = market.positionOf(takerAccount, ids[i]);
            uint256 longs =
                (fromAfter > 0 ? uint256(fromAfter) : 0) +
                    (toAfter > 0 ? uint256(toAfter) : 0) +
                    (takerHeld > 0 ? uint256(takerHeld) : 0);
            assertEq(market.openInterest(ids[i]), longs, "open interest");
        }
        assertEq(_count(makerAccount), fromOpen, "from's count");
        assertEq(_count(receiver), toOpen, "to's count");
        _assertBookConsistent(makerAccount);
        _assertBookConsistent(receiver);
    }
}
