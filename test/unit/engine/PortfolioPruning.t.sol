// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PortfolioGridFixture} from "../../helpers/PortfolioGridFixture.sol";

/// @notice A book of shorts is priced in one vol column (`PortfolioMath.columnsToPrice`,
/// `docs/portfolio-margin.md`, "Pruning"): the column with both the largest vol shock and the
/// largest skew shock, whose cells are the full grid's cells of that column to the wei, and whose
/// worst loss is the full grid's within the prices' stated error; a book of longs in the column
/// with the least vol shock, the same way. A book of both, and a book of shorts on a grid with no
/// such column, is priced in every column (and staged where it can be: `PortfolioStages.t.sol`).
contract PortfolioPruningTest is PortfolioGridFixture {
    // ------------------------------------------------------------ which columns

    /// @notice The default grid (×1.5 with skew 1, ×1, ×0.7): a book of shorts keeps the ×1.5
    /// column, a book of longs the ×0.7 column; one long among shorts, or one zero balance, keeps
    /// all three.
    function test_defaultGridKeepsTheCrashColumnForShortsOnly() public pure {
        (uint64[] memory vols, uint64[] memory skews) = _defaultColumns();
        _assertKept(_balances(-1e18, -3e18, -1), vols, skews, 0);
        _assertKept(_balances(1e18, 3e18, 1), vols, skews, 2);
        _assertAll(_balances(-1e18, 1, -3e18), vols, skews);
        _assertAll(_balances(-1e18, 0, -3e18), vols, skews);
        _assertAll(_balances(1e18, 0, 3e18), vols, skews);
    }

    /// @notice With nothing at risk but collateral (no position), every column holds the same
    /// cells: one is priced.
    function test_noPositionKeepsOneColumn() public pure {
        (uint64[] memory vols, uint64[] memory skews) = _defaultColumns();
        _assertKept(new int256[](0), vols, skews, 0);
    }

    /// @notice Governance's skew on a column below the largest vol shock: no column lifts every
    /// leg highest (a short deep in the put wing can be riskier in the skewed column), so every
    /// column is priced. The check reads the parameters, it does not assume the default's order.
    function test_aSkewBelowTheLargestVolShockKeepsEveryColumn() public pure {
        (uint64[] memory vols, uint64[] memory skews) = _defaultColumns();
        skews[0] = 0;
        skews[2] = 1;
        _assertAll(_balances(-1e18, -1e18, -1e18), vols, skews);
        // A long's vol takes no skew: a book of longs keeps the least vol shock whatever the skews.
        _assertKept(_balances(1e18, 1e18, 1e18), vols, skews, 2);
        skews[0] = 1;
        _assertKept(_balances(-1e18, -1e18, -1e18), vols, skews, 0);
    }

    /// @notice Ties: among columns with the largest vol shock, the one with the largest skew; among
    /// equals, the first. Column order does not matter: the largest shock may come last.
    function test_tiesAndOrder() public pure {
        uint64[] memory vols = new uint64[](4);
        uint64[] memory skews = new uint64[](4);
        (vols[0], vols[1], vols[2], vols[3]) = (0.7e18, 2e18, 1e18, 2e18);
        (skews[0], skews[1], skews[2], skews[3]) = (0.5e18, 0.5e18, 0, 1e18);
        _assertKept(_balances(-1e18, -1e18, -1e18), vols, skews, 3);
        skews[3] = 0.5e18;
        _assertKept(_balances(-1e18, -1e18, -1e18), vols, skews, 1);
        skews[0] = 0.6e18;
        _assertAll(_balances(-1e18, -1e18, -1e18), vols, skews);
        // Longs: the least vol shock, the least skew among equals, then the first.
        (vols[0], vols[1], vols[2], vols[3]) = (1e18, 0.5e18, 2e18, 0.5e18);
        (skews[0], skews[1], skews[2], skews[3]) = (0, 1e18, 0, 0.5e18);
        _assertKept(_balances(1e18, 1e18, 1e18), vols, skews, 3);
        skews[3] = 1e18;
        _assertKept(_balances(1e18, 1e18, 1e18), vols, skews, 1);
    }

    /// @notice A grid of one column is returned as it is, the same arrays.
    function test_oneColumnIsKeptAsItIs() public pure {
        uint64[] memory vols = new uint64[](1);
        uint64[] memory skews = new uint64[](1);
        (vols[0], skews[0]) = (1.2e18, 0.3e18);
        _assertAll(_balances(-1e18, -1e18, -1e18), vols, skews);
    }

    // ------------------------------------------------------------ the kept column decides

    /// @notice For random books of shorts, and one seed in three of longs (calls and puts, live and
    /// expired, strikes from half to twice spot, vols 5 % … 250 %, up to 6 legs, collateral held or
    /// not) on random grids of 2–5 columns, where for the shorts a column of largest vol and skew
    /// shocks exists (for the longs the column of least vol shock always does):
    /// - the pruned grid's cells are the full grid's cells of the kept column, to the wei, and its
    ///   tails are the full grid's tails;
    /// - in every spot row, the kept column's P&L is at most any other column's plus the prices'
    ///   stated error (`docs/black-scholes.md`: max(1e-12·S + 1e-10·price, 2 wei) per contract,
    ///   twice, for the two prices compared, plus a wei of each value's rounding), so the worst loss
    ///   the pruned grid finds is the full grid's within that error, and never more.
    function testFuzz_theKeptColumnDecidesABookOfShortsOrLongs(uint256 seed) public pure {
        Book memory book = _randomBook(seed);
        (uint64[] memory keptVols, uint64[] memory keptSkews) = _columnsToPrice(book.balances, book.vols, book.skews);
        PortfolioMath.Grid memory full = _build(book, book.vols, book.skews);
        PortfolioMath.Grid memory pruned = _build(book, keptVols, keptSkews);
        assertEq(keptVols.length == 1, book.top < book.vols.length, "pruned exactly when a column decides");
        if (keptVols.length == book.vols.length) {
            // Not pruned: the same grid.
            assertEq(abi.encode(pruned.pnl), abi.encode(full.pnl), "unpruned grid changed");
            return;
        }
        uint256 top = book.top;
        uint256 columns = book.vols.length;
        assertEq(keptVols[0], book.vols[top], "kept vol shock");
        assertEq(keptSkews[0], book.skews[top], "kept skew shock");
        assertEq(abi.encode(pruned.tailPnl), abi.encode(full.tailPnl), "tails");
        uint256 worstFull;
        for (uint256 i; i < full.shockedSpots.length; ++i) {
            int256 kept = full.pnl[i * columns + top];
            assertEq(pruned.pnl[i], kept, "a kept cell differs from the full grid's");
            int256 error = int256(_errorBound(book, full.shockedSpots[i]));
            for (uint256 j; j < columns; ++j) {
                int256 other = full.pnl[i * columns + j];
                assertLe(kept, other + error, "a pruned column loses more than the kept one");
                if (other < 0 && uint256(-other) > worstFull) worstFull = uint256(-other);
            }
        }
        uint256 worstPruned = PortfolioMath.worstLoss(pruned);
        assertLe(worstPruned, worstFull, "pruning found a loss the full grid does not");
        assertEq(worstFull, PortfolioMath.worstLoss(full), "reference worst loss");
    }

    // ------------------------------------------------------------ helpers

    function _randomBook(uint256 seed) internal pure returns (Book memory book) {
        uint256 r = uint256(keccak256(abi.encode(seed, "book")));
        book.spot = 100e18 + (r % 100_000e18);
        uint256 legs = 1 + ((r >> 128) % 6);
        bool longs = (r >> 230) % 3 == 0;
        book.heldTokens = (r >> 140) % 3 == 0 ? (r >> 150) % 50e18 : 0;
        book.ids = new SeriesId[](legs);
        book.balances = new int256[](legs);
        book.marks = new uint256[](legs);
        book.legVols = new uint256[](legs);
        for (uint256 i; i < legs; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            uint256 strike = book.spot / 2 + (s % (book.spot * 3)) / 2;
            bool isCall = (s >> 200) % 2 == 0;
            // One leg in eight expired (not yet settled), the rest 1 hour to 2 years out.
            uint256 expiry = (s >> 100) % 8 == 0 ? NOW - 1 : NOW + 3_600 + ((s >> 60) % (730 days));
            book.ids[i] = SeriesLib.id(SeriesLib.Series(1, uint40(expiry), isCall, uint128(strike)));
            book.balances[i] = int256(1 + ((s >> 140) % 1_000e18));
            if (!longs) book.balances[i] = -book.balances[i];
            book.legVols[i] = 0.05e18 + ((s >> 170) % 2.45e18);
            // Marked as the engine marks: the model price at the leg's own vol, or the intrinsic
            // value at spot once expired (the unshocked centre keeps the mark, `_addCells`).
            book.marks[i] = _mark(book.spot, strike, expiry, book.legVols[i], isCall);
        }
        uint256 columns = 2 + ((r >> 200) % 4);
        book.vols = new uint64[](columns);
        book.skews = new uint64[](columns);
        book.top = (r >> 210) % columns;
        for (uint256 j; j < columns; ++j) {
            uint256 c = uint256(keccak256(abi.encode(seed, "column", j)));
            book.vols[j] = uint64(0.25e18 + (c % 3.75e18));
            book.skews[j] = uint64((c >> 100) % 2e18);
        }
        // Make `top` a column of largest vol and skew shocks unless one seed in four leaves the
        // draw as it fell (a grid that may have no such column and must then be priced in full).
        if ((r >> 220) % 4 != 0) {
            for (uint256 j; j < columns; ++j) {
                if (j == book.top) continue;
                if (book.vols[j] > book.vols[book.top])
                    (book.vols[j], book.vols[book.top]) = (book.vols[book.top], book.vols[j]);
                if (book.skews[j] > book.skews[book.top]) {
                    (book.skews[j], book.skews[book.top]) = (book.skews[book.top], book.skews[j]);
                }
            }
        }
        // Among equal columns the first is kept; with none, `top` is the column count. Longs keep
        // the least vol shock, the least skew among equals, the first of equals.
        if (longs) book.top = _longsColumn(book.vols, book.skews);
        else (, book.top, ) = _expectedColumns(book.vols, book.skews);
    }

    function _build(
        Book memory book,
        uint64[] memory vols,
        uint64[] memory skews
    ) internal pure returns (PortfolioMath.Grid memory grid) {
        int64[] memory spots = new int64[](9);
        int64[9] memory shocks = [int64(-0.18e18), -0.12e18, -0.06e18, -0.03e18, 0, 0.03e18, 0.06e18, 0.12e18, 0.18e18];
        for (uint256 i; i < 9; ++i) spots[i] = shocks[i];
        int64[] memory tails = new int64[](2);
        (tails[0], tails[1]) = (-0.5e18, 0.5e18);
        grid = PortfolioMath.newGrid(book.spot, spots, vols, tails, skews);
        if (book.heldTokens != 0) PortfolioMath.addCollateral(grid, book.heldTokens, 18);
        for (uint256 i; i < book.ids.length; ++i) {
            PortfolioMath.addPosition(grid, book.ids[i], book.balances[i], book.marks[i], book.legVols[i], NOW);
        }
    }

    /// @dev `PortfolioMath.columnsToPrice` on copies of the arrays (it shrinks them in place),
    /// the originals left for comparison.
    function _columnsToPrice(
        int256[] memory balances,
        uint64[] memory vols,
        uint64[] memory skews
    ) internal pure returns (uint64[] memory keptVols, uint64[] memory keptSkews) {
        keptVols = abi.decode(abi.encode(vols), (uint64[]));
        keptSkews = abi.decode(abi.encode(skews), (uint64[]));
        PortfolioMath.columnsToPrice(balances, keptVols, keptSkews);
    }

    function _defaultColumns() internal pure returns (uint64[] memory vols, uint64[] memory skews) {
        vols = new uint64[](3);
        skews = new uint64[](3);
        (vols[0], vols[1], vols[2]) = (1.5e18, 1e18, 0.7e18);
        skews[0] = 1e18;
    }

    function _balances(int256 a, int256 b, int256 c) internal pure returns (int256[] memory balances) {
        balances = new int256[](3);
        (balances[0], balances[1], balances[2]) = (a, b, c);
    }

    function _assertKept(
        int256[] memory balances,
        uint64[] memory vols,
        uint64[] memory skews,
        uint256 top
    ) internal pure {
        (uint64[] memory keptVols, uint64[] memory keptSkews) = _columnsToPrice(balances, vols, skews);
        assertEq(keptVols.length, 1, "one column");
        assertEq(keptSkews.length, 1, "one skew");
        assertEq(keptVols[0], vols[top], "the kept column's vol shock");
        assertEq(keptSkews[0], skews[top], "the kept column's skew shock");
        uint256 expected;
        if (balances.length != 0 && balances[0] > 0) expected = _longsColumn(vols, skews);
        else (, expected, ) = _expectedColumns(vols, skews);
        assertEq(expected, top, "the rule's column");
    }

    /// @dev The column a book of longs keeps: the least vol shock, the least skew among equals, the
    /// first of equals.
    function _longsColumn(uint64[] memory vols, uint64[] memory skews) internal pure returns (uint256 column) {
        for (uint256 j = 1; j < vols.length; ++j) {
            (uint64 v, uint64 t) = (vols[j], vols[column]);
            if (v < t || (v == t && skews[j] < skews[column])) column = j;
        }
    }

    function _assertAll(int256[] memory balances, uint64[] memory vols, uint64[] memory skews) internal pure {
        (uint64[] memory keptVols, uint64[] memory keptSkews) = _columnsToPrice(balances, vols, skews);
        assertEq(abi.encode(keptVols), abi.encode(vols), "every vol shock");
        assertEq(abi.encode(keptSkews), abi.encode(skews), "every skew shock");
    }
}
