// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PortfolioGridFixture} from "../../helpers/PortfolioGridFixture.sol";

/// @notice Staged pricing (`PortfolioMath.startStages`, `pruneRows`; `docs/portfolio-margin.md`,
/// "Pruning rows"): on a grid with a column of least vol and skew shocks (`lo`) and one of largest
/// (`hi`) each position is priced first in its bound column alone (`lo` for a long, `hi` for a
/// short); a row is priced in full only if its bound (the sum of those changes) could lose more than
/// the requirement is at least without the grid (the cover floor, the weighted tail). The
/// requirement is the full grid's, within the prices' stated error and never above it; every cell
/// of a row left is the full grid's to the wei.
contract PortfolioStagesTest is PortfolioGridFixture {
    uint256 internal constant TAIL_WEIGHT = 0.35e18;

    // ------------------------------------------------------------ the requirement is kept

    /// @notice Random books of longs and shorts (calls and puts, live and one in eight expired,
    /// strikes from half to twice spot, vols 5 % … 250 %, up to 8 legs, one in eight a zero
    /// balance, collateral held or not) on random grids of 3–5 columns, three in four of them with
    /// a least and a largest column, and a random cover floor (`atLeast`):
    /// - the grid is staged exactly when such distinct columns exist;
    /// - the tails and every cell of a row left are the full grid's to the wei, and an unstaged grid
    ///   is the full grid;
    /// - a pruned cell holds the row's bound, which loses no more than the base (the floor or the
    ///   weighted tail) and is at most the full grid's cell plus the prices' stated error;
    /// - one seed in three uses 15 spot shocks and no centre (the row mask's bits 9–14, and no
    ///   unshocked cell to skip);
    /// - so the requirement (the largest of the worst loss, the weighted tail and the floor) is
    ///   never above the full grid's, and below it by at most that error.
    function testFuzz_stagedGridKeepsTheFullRequirement(uint256 seed) public pure {
        Book memory book = _randomBook(seed);
        PortfolioMath.Grid memory full = _fullGrid(book);
        (PortfolioMath.Grid memory staged, bool wasStaged, uint256 base) = _stagedGrid(
            book,
            _randomFloor(seed, PortfolioMath.worstLoss(full))
        );
        (uint256 lo, uint256 hi, bool ordered) = _expectedColumns(book.vols, book.skews);
        assertEq(wasStaged, ordered, "staged exactly when distinct least and largest columns exist");
        assertEq(abi.encode(staged.tailPnl), abi.encode(full.tailPnl), "tails");
        if (!wasStaged) {
            assertEq(abi.encode(staged.pnl), abi.encode(full.pnl), "an unstaged grid is the full grid");
            return;
        }
        assertEq(staged.lo, lo, "lo");
        assertEq(staged.hi, hi, "hi");
        _checkCells(book, full, staged, base);
        _checkRequirement(book, full, staged, base);
    }

    /// @dev The requirement (the worst loss or `base`) is never above the full grid's, and below it
    /// by at most the stated error.
    function _checkRequirement(
        Book memory book,
        PortfolioMath.Grid memory full,
        PortfolioMath.Grid memory staged,
        uint256 base
    ) internal pure {
        uint256 fullRequirement = FixedPointMathLib.max(PortfolioMath.worstLoss(full), base);
        uint256 stagedRequirement = FixedPointMathLib.max(PortfolioMath.worstLoss(staged), base);
        assertLe(stagedRequirement, fullRequirement, "staging found a loss the full grid does not");
        uint256 worstError;
        for (uint256 i; i < full.shockedSpots.length; ++i) {
            worstError = FixedPointMathLib.max(worstError, _errorBound(book, full.shockedSpots[i]));
        }
        assertLe(fullRequirement - stagedRequirement, worstError, "staging missed more than the prices' error");
    }

    // ------------------------------------------------------------ which books and grids

    /// @notice A hedged book (four long, four short, near the money, on the default grid: ×1.5
    /// with skew 1, ×1, ×0.7): stage 1 prices the longs in the ×0.7 column and the shorts in the
    /// ×1.5 column, prunes the rows that cannot beat the weighted tail, and the worst loss is the
    /// full grid's to the wei.
    function test_hedgedBookOnTheDefaultGrid() public pure {
        Book memory book = _hedgedBook();
        PortfolioMath.Grid memory full = _fullGrid(book);
        (PortfolioMath.Grid memory staged, bool wasStaged, ) = _stagedGrid(book, 0);
        assertTrue(wasStaged, "staged");
        assertEq(staged.lo, 2, "lo: x0.7");
        assertEq(staged.hi, 0, "hi: x1.5, skew 1");
        assertEq(staged.pruned, 0x1f, "rows -18 % to 0 pruned, +4.5 % to +18 % left");
        assertEq(PortfolioMath.worstLoss(staged), PortfolioMath.worstLoss(full), "worst loss");
    }

    /// @notice A book of longs alone, staged: each row's bound is its `lo` cell, so a row left is
    /// one whose `lo` cell loses more than the base, and pruned or priced, every cell is the full
    /// grid's or bounded as `_checkCells` states. (The manager prices such a book in the `lo` column
    /// alone: `PortfolioPruning.t.sol`.)
    function test_aBookOfLongsStaged() public pure {
        Book memory book = _hedgedBook();
        for (uint256 i; i < book.balances.length; ++i) {
            if (book.balances[i] < 0) book.balances[i] = -book.balances[i];
        }
        PortfolioMath.Grid memory full = _fullGrid(book);
        (PortfolioMath.Grid memory staged, bool wasStaged, uint256 base) = _stagedGrid(book, 0);
        assertTrue(wasStaged, "staged");
        _checkCells(book, full, staged, base);
        _checkRequirement(book, full, staged, base);
    }

    /// @notice Grids that are not staged: two columns; three equal columns (no distinct least and
    /// largest); the largest skew on a column below the largest vol shock; the least skew on a
    /// column above the least vol shock. Each is priced in full, the same cells.
    function test_gridsWithoutBoundingColumnsAreNotStaged() public pure {
        Book memory book = _hedgedBook();
        uint64[3][4] memory vols = [
            [uint64(1.5e18), 0.7e18, 0],
            [uint64(1e18), 1e18, 1e18],
            [uint64(1.5e18), 1e18, 0.7e18],
            [uint64(1.5e18), 1e18, 0.7e18]
        ];
        uint64[3][4] memory skews = [
            [uint64(1e18), 0, 0],
            [uint64(0.5e18), 0.5e18, 0.5e18],
            [uint64(0.5e18), 1e18, 0],
            [uint64(1e18), 0, 0.2e18]
        ];
        for (uint256 g; g < 4; ++g) {
            uint256 columns = g == 0 ? 2 : 3;
            book.vols = new uint64[](columns);
            book.skews = new uint64[](columns);
            for (uint256 j; j < columns; ++j) (book.vols[j], book.skews[j]) = (vols[g][j], skews[g][j]);
            (PortfolioMath.Grid memory staged, bool wasStaged, ) = _stagedGrid(book, 0);
            assertFalse(wasStaged, "staged");
            assertEq(abi.encode(staged.pnl), abi.encode(_fullGrid(book).pnl), "the full grid");
        }
    }

    /// @notice A floor above every loss prunes every row, and the requirement is the floor.
    function test_aFloorAboveEveryLossPrunesEveryRow() public pure {
        Book memory book = _hedgedBook();
        uint256 fullWorst = PortfolioMath.worstLoss(_fullGrid(book));
        (PortfolioMath.Grid memory staged, , uint256 base) = _stagedGrid(book, fullWorst * 4);
        assertEq(staged.pruned, (1 << 9) - 1, "every row pruned");
        assertEq(base, fullWorst * 4, "the floor is the base");
        assertLe(PortfolioMath.worstLoss(staged), base, "no cell above the floor");
    }

    /// @dev Every cell of a row left is the full grid's; a pruned one holds a bound between
    /// −`base` and the full cell plus the stated error.
    function _checkCells(
        Book memory book,
        PortfolioMath.Grid memory full,
        PortfolioMath.Grid memory staged,
        uint256 base
    ) internal pure {
        uint256 columns = book.vols.length;
        for (uint256 i; i < full.shockedSpots.length; ++i) {
            bool pruned = (staged.pruned >> i) & 1 != 0;
            int256 error = int256(_errorBound(book, full.shockedSpots[i]));
            for (uint256 j; j < columns; ++j) {
                int256 cell = staged.pnl[i * columns + j];
                int256 fullCell = full.pnl[i * columns + j];
                if (!pruned) {
                    assertEq(cell, fullCell, "a cell of a row left differs from the full grid's");
                    continue;
                }
                assertGe(cell, -int256(base), "a pruned cell loses more than the base");
                assertLe(cell, fullCell + error, "a row's bound is above one of its cells");
            }
        }
    }

    // ------------------------------------------------------------ helpers

    /// @dev A floor of 0 in one seed in three, else anywhere up to twice the full grid's worst loss.
    function _randomFloor(uint256 seed, uint256 fullWorst) internal pure returns (uint256) {
        uint256 r = uint256(keccak256(abi.encode(seed, "floor")));
        return r % 3 == 0 ? 0 : (r >> 8) % (2 * fullWorst + 1);
    }

    /// @dev The manager's steps (`PortfolioManager._scenarioLossUp`): start stages, collateral,
    /// stage 1, the weighted tail with the floor as the base, and stage 2 if a row is left. `base`
    /// is what the requirement is at least without the grid's cells.
    function _stagedGrid(
        Book memory book,
        uint256 atLeast
    ) internal pure returns (PortfolioMath.Grid memory grid, bool staged, uint256 base) {
        grid = _newGrid(book);
        staged = PortfolioMath.startStages(grid);
        if (book.heldTokens != 0) PortfolioMath.addCollateral(grid, book.heldTokens, 18);
        _addBook(book, grid);
        uint256 tail = FixedPointMathLib.mulWadUp(PortfolioMath.worstTailLoss(grid), TAIL_WEIGHT);
        base = FixedPointMathLib.max(tail, atLeast);
        if (staged && PortfolioMath.pruneRows(grid, base)) _addBook(book, grid);
    }

    function _fullGrid(Book memory book) internal pure returns (PortfolioMath.Grid memory grid) {
        grid = _newGrid(book);
        if (book.heldTokens != 0) PortfolioMath.addCollateral(grid, book.heldTokens, 18);
        _addBook(book, grid);
    }

    function _newGrid(Book memory book) internal pure returns (PortfolioMath.Grid memory) {
        int64[] memory tails = new int64[](4);
        (tails[0], tails[1], tails[2], tails[3]) = (-0.5e18, -0.33e18, 0.33e18, 0.5e18);
        return PortfolioMath.newGrid(book.spot, book.spotShocks, book.vols, tails, book.skews);
    }

    /// @dev The default 9 spot shocks (−18 % … +18 %, centre 0), or 15 without a centre
    /// (−35 % … +40 % in steps of 5 %, 0 left out).
    function _spotShocks(bool wide) internal pure returns (int64[] memory spots) {
        if (!wide) {
            spots = new int64[](9);
            for (uint256 i; i < 9; ++i) spots[i] = int64(int256(i) * 0.045e18 - 0.18e18);
            return spots;
        }
        spots = new int64[](15);
        for (uint256 i; i < 15; ++i) spots[i] = int64(int256(i < 7 ? i : i + 1) * 0.05e18 - 0.35e18);
    }

    function _addBook(Book memory book, PortfolioMath.Grid memory grid) internal pure {
        for (uint256 i; i < book.ids.length; ++i) {
            PortfolioMath.addPosition(grid, book.ids[i], book.balances[i], book.marks[i], book.legVols[i], NOW);
        }
    }

    function _randomBook(uint256 seed) internal pure returns (Book memory book) {
        uint256 r = uint256(keccak256(abi.encode(seed, "book")));
        book.spot = 100e18 + (r % 100_000e18);
        uint256 legs = 1 + ((r >> 128) % 8);
        book.heldTokens = (r >> 140) % 3 == 0 ? (r >> 150) % 50e18 : 0;
        _allocate(book, legs);
        for (uint256 i; i < legs; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            uint256 strike = book.spot / 2 + (s % (book.spot * 3)) / 2;
            uint256 expiry = (s >> 100) % 8 == 0 ? NOW - 1 : NOW + 3_600 + ((s >> 60) % (730 days));
            int256 size = int256(1 + ((s >> 140) % 1_000e18));
            uint256 kind = (s >> 230) % 8;
            int256 balance =
                kind == 0
                    ? int256(0)
                    : kind % 2 == 0
                        ? size
                        : -size;
            _setLeg(book, i, strike, expiry, (s >> 200) % 2 == 0, balance, 0.05e18 + ((s >> 170) % 2.45e18));
        }
        bool wide = (r >> 230) % 3 == 0;
        book.spotShocks = _spotShocks(wide);
        // 15 rows take 3 columns (the engine's 45 scenarios); 9 rows take 3–5.
        uint256 columns = wide ? 3 : 3 + ((r >> 200) % 3);
        book.vols = new uint64[](columns);
        book.skews = new uint64[](columns);
        for (uint256 j; j < columns; ++j) {
            uint256 c = uint256(keccak256(abi.encode(seed, "column", j)));
            book.vols[j] = uint64(0.25e18 + (c % 3.75e18));
            // One column in four repeats the first's shocks (ties), the rest are drawn.
            if ((c >> 90) % 4 == 0) (book.vols[j], book.skews[j]) = (book.vols[0], book.skews[0]);
            else book.skews[j] = uint64((c >> 100) % 2e18);
        }
        // Three seeds in four: sort the skews by vol shock, so a least and a largest column exist.
        if ((r >> 220) % 4 != 0) _orderSkews(book.vols, book.skews);
    }

    /// @dev Moves the least skew shock to a column of least vol shock and the largest to one of
    /// largest vol shock, so both bounding columns exist (distinct unless every vol shock is equal).
    function _orderSkews(uint64[] memory vols, uint64[] memory skews) internal pure {
        uint256 lo;
        uint256 hi;
        for (uint256 j; j < vols.length; ++j) {
            if (vols[j] < vols[lo]) lo = j;
            if (vols[j] > vols[hi]) hi = j;
        }
        for (uint256 j; j < vols.length; ++j) {
            if (skews[j] < skews[lo]) (skews[j], skews[lo]) = (skews[lo], skews[j]);
        }
        for (uint256 j; j < vols.length; ++j) {
            if (skews[j] > skews[hi]) (skews[j], skews[hi]) = (skews[hi], skews[j]);
        }
    }

    /// @dev Four long and four short near the money on the default grid, at spot 3,000.
    function _hedgedBook() internal pure returns (Book memory book) {
        book.spot = 3_000e18;
        book.spotShocks = _spotShocks(false);
        _allocate(book, 8);
        for (uint256 i; i < 8; ++i) {
            uint256 strike = (3_000e18 * (400 + 15 * i)) / 430;
            int256 balance = (i >> 1) % 2 == 0 ? -1e18 : int256(1e18);
            _setLeg(book, i, strike, NOW + 7 days * (1 + (i % 4)), i % 3 != 0, balance, 0.8e18);
        }
        book.vols = new uint64[](3);
        book.skews = new uint64[](3);
        (book.vols[0], book.vols[1], book.vols[2]) = (1.5e18, 1e18, 0.7e18);
        book.skews[0] = 1e18;
    }

    function _allocate(Book memory book, uint256 legs) internal pure {
        book.ids = new SeriesId[](legs);
        book.balances = new int256[](legs);
        book.marks = new uint256[](legs);
        book.legVols = new uint256[](legs);
    }

    /// @dev A leg marked as the engine marks it: the model price at its own vol, or the intrinsic
    /// value at spot once expired.
    function _setLeg(
        Book memory book,
        uint256 i,
        uint256 strike,
        uint256 expiry,
        bool isCall,
        int256 balance,
        uint256 vol
    ) internal pure {
        book.ids[i] = SeriesLib.id(SeriesLib.Series(1, uint40(expiry), isCall, uint128(strike)));
        book.balances[i] = balance;
        book.legVols[i] = vol;
        book.marks[i] = _mark(book.spot, strike, expiry, vol, isCall);
    }
}
