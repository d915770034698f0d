// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {PortfolioFixture} from "../../helpers/PortfolioFixture.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Review rv49 of commit eb3c983 (`PortfolioMath.columnsToPrice`: a book of shorts is
/// priced in one vol column). What the commit's tests left open:
/// - Through the manager, every test grid had its deciding column first, where a kept column
///   that took column 0's skew (or vol) is the right one by accident. Here the deciding column
///   sits first, last and in the middle: the requirement is the same to the wei, and above the
///   unskewed one (the kept column's own skew is priced).
/// - Nothing checked that the manager prunes at all (a manager that never called
///   `columnsToPrice` passed every test): the check's gas with and without a long shows it.
/// - Through the engine, pruned = full grid: a 1-wei long forces the full grid on the same book.
/// - The rounding gap between the pruned and the full worst loss, on grids whose columns differ
///   by a few wei (where the prices' error could reorder them), is wei-level: bounded here by
///   1e-15 of spot a contract, a thousandth of the stated 1e-12 (observed: below 1e-18).
contract Rv49PruningTest is PortfolioFixture {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant NOW = 1_700_000_000;

    function _portfolioDeposit() internal pure override returns (uint256) {
        return 1_000_000e6;
    }

    // ------------------------------------------------------------ through the manager

    /// @notice The same columns in three orders (the deciding ×1.5 / skew 2 column first, last,
    /// and in the middle beside a skewed flat column it dominates) give one requirement to the
    /// wei, above the requirement with no skew anywhere.
    function test_rv49_theDecidingColumnIsFoundWhereverItSits() public {
        _openShorts();
        _setGrid([uint64(1.5e18), 1e18, 0.7e18], [uint64(2e18), 0, 0]);
        uint256 first = engine.accountMargin(portfolio).requirementIM;
        _setGrid([uint64(0.7e18), 1e18, 1.5e18], [uint64(0), 0, 2e18]);
        uint256 last = engine.accountMargin(portfolio).requirementIM;
        _setGrid([uint64(1e18), 1.5e18, 0.7e18], [uint64(0.5e18), 2e18, 0]);
        uint256 middle = engine.accountMargin(portfolio).requirementIM;
        _setGrid([uint64(0.7e18), 1e18, 1.5e18], [uint64(0), 0, 0]);
        uint256 unskewed = engine.accountMargin(portfolio).requirementIM;
        console.log("requirement, deciding column first / last / middle / unskewed (USD):", first / 1e18);
        console.log("  ", last / 1e18, middle / 1e18, unskewed / 1e18);
        assertEq(last, first, "deciding column last");
        assertEq(middle, first, "deciding column in the middle");
        assertGt(first, unskewed + 100e18, "the deciding column's own skew was not priced");
    }

    /// @notice A 1-wei long beside the shorts forces every column: the requirement moves by
    /// wei, not dollars, so the pruned requirement is the full grid's. And the manager does prune:
    /// the shorts alone cost well under half the gas of the book with the long (13 cells a short
    /// on this grid against 30 a position; unpruned it would be about 7/6).
    function test_rv49_prunedIsTheFullGridsRequirementAndCheaper() public {
        // The ×0.7 column's skew is not the least, so the book with the long is not staged
        // (`PortfolioMath.startStages`): every column is priced in every row.
        _setGrid([uint64(0.7e18), 1e18, 1.5e18], [uint64(0.5e18), 0, 2e18]);
        _openShorts();
        uint256 g = gasleft();
        uint256 pruned = engine.accountMargin(portfolio).requirementIM;
        uint256 prunedGas = g - gasleft();
        SeriesId id = _createSeries(ethIndex, 45, 3_900e18, true);
        _trade(makerKey, makerAccount, portfolio, id, -1, engine.mark(id));
        g = gasleft();
        uint256 full = engine.accountMargin(portfolio).requirementIM;
        uint256 fullGas = g - gasleft();
        console.log("requirement pruned / full (wei):", pruned, full);
        console.log("gas pruned / full:", prunedGas, fullGas);
        assertApproxEqAbs(full, pruned, 1e6, "the full grid needs more than the pruned one");
        assertGt(fullGas * 10, prunedGas * 16, "a book of shorts was not priced in one column");
    }

    // ------------------------------------------------------------ the rounding gap

    /// @notice Random books of shorts on grids whose deciding column sits anywhere, one seed in
    /// three with columns a few hundred wei apart and one in three a few percent apart (where a
    /// price's error could reorder two columns): the pruned worst loss is below the full grid's by
    /// at most 1e-15 of spot + 1,000 wei a contract.
    function testFuzz_rv49_pruningGapIsWeiLevel(uint256 seed) public pure {
        uint256 r = uint256(keccak256(abi.encode(seed, "rv49")));
        uint256 spot = 100e18 + (r % 1_000_000e18);
        (uint64[] memory vols, uint64[] memory skews, uint256 top) = _randomGrid(seed, r);
        FuzzBook memory book = _randomShorts(seed, spot, 1 + ((r >> 230) % 5));
        uint64[] memory keptVols = abi.decode(abi.encode(vols), (uint64[]));
        uint64[] memory keptSkews = abi.decode(abi.encode(skews), (uint64[]));
        PortfolioMath.columnsToPrice(book.balances, keptVols, keptSkews);
        assertEq(keptVols.length, 1, "a book of shorts with a deciding column is pruned");
        assertEq(keptVols[0], vols[top], "kept vol shock");
        assertEq(keptSkews[0], skews[top], "kept skew shock");
        uint256 full = _worst(spot, vols, skews, book);
        uint256 pruned = _worst(spot, keptVols, keptSkews, book);
        assertLe(pruned, full, "pruned above full");
        assertLe(full - pruned, (book.contracts * (spot / 1e15 + 1_000)) / WAD + 10, "a rounding gap above wei level");
    }

    struct FuzzBook {
        SeriesId[] ids;
        int256[] balances;
        uint256[] marks;
        uint256[] vols;
        uint256 contracts;
    }

    /// @dev 2–5 columns: random (mode 0), a few hundred wei apart (1) or a few percent apart (2);
    /// then the largest of both shocks moved to column `top`, drawn anywhere.
    function _randomGrid(
        uint256 seed,
        uint256 r
    ) internal pure returns (uint64[] memory vols, uint64[] memory skews, uint256 top) {
        uint256 columns = 2 + ((r >> 100) % 4);
        vols = new uint64[](columns);
        skews = new uint64[](columns);
        uint256 mode = (r >> 110) % 3;
        uint256 baseVol = 0.3e18 + ((r >> 120) % 3.7e18);
        uint256 baseSkew = (r >> 180) % 2e18;
        uint256 spread = mode == 1 ? 1_000 : 0.05e18;
        for (uint256 j; j < columns; ++j) {
            uint256 c = uint256(keccak256(abi.encode(seed, "column", j)));
            if (mode == 0) {
                vols[j] = uint64(0.25e18 + (c % 3.75e18));
                skews[j] = uint64((c >> 100) % 2e18);
            } else {
                vols[j] = uint64(baseVol - (c % spread));
                skews[j] = uint64(baseSkew > spread ? baseSkew - ((c >> 100) % spread) : baseSkew);
            }
        }
        top = (r >> 220) % columns;
        for (uint256 j; j < columns; ++j) {
            if (vols[j] > vols[top]) (vols[j], vols[top]) = (vols[top], vols[j]);
            if (skews[j] > skews[top]) (skews[j], skews[top]) = (skews[top], skews[j]);
        }
    }

    /// @dev Shorts struck from a tenth of spot to twice it, 1 minute to 2 years out, vols 1–301 %,
    /// each marked at the model price of its vol (as the engine marks a live leg).
    function _randomShorts(uint256 seed, uint256 spot, uint256 legs) internal pure returns (FuzzBook memory book) {
        book.ids = new SeriesId[](legs);
        book.balances = new int256[](legs);
        book.marks = new uint256[](legs);
        book.vols = new uint256[](legs);
        for (uint256 i; i < legs; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, "leg", i)));
            uint256 strike = spot / 10 + (s % (spot * 2));
            bool isCall = (s >> 200) % 2 == 0;
            uint256 expiry = NOW + 60 + ((s >> 60) % (730 days));
            book.ids[i] = SeriesLib.id(SeriesLib.Series(1, uint40(expiry), isCall, uint128(strike)));
            book.balances[i] = -int256(1 + ((s >> 140) % 1_000e18));
            book.contracts += uint256(-book.balances[i]);
            book.vols[i] = 0.01e18 + ((s >> 170) % 3e18);
            book.marks[i] =
                isCall
                    ? BlackScholes.callPrice(spot, strike, expiry - NOW, book.vols[i])
                    : BlackScholes.putPrice(spot, strike, expiry - NOW, book.vols[i]);
        }
    }

    // ------------------------------------------------------------ helpers

    function _worst(
        uint256 spot,
        uint64[] memory vols,
        uint64[] memory skews,
        FuzzBook memory book
    ) internal pure returns (uint256) {
        int64[] memory spots = new int64[](9);
        for (uint256 i; i < 9; ++i) spots[i] = int64(int256(i) * 0.045e18 - 0.18e18);
        int64[] memory tails = new int64[](2);
        (tails[0], tails[1]) = (-0.5e18, 0.5e18);
        PortfolioMath.Grid memory grid = PortfolioMath.newGrid(spot, spots, vols, tails, skews);
        for (uint256 i; i < book.ids.length; ++i) {
            PortfolioMath.addPosition(grid, book.ids[i], book.balances[i], book.marks[i], book.vols[i], NOW);
        }
        return PortfolioMath.worstLoss(grid);
    }

    /// @dev Shorts deep and near in the put wing (the skew's), at the money and a call above.
    function _openShorts() internal {
        _short(90, 1_500e18, false, 10e18);
        _short(30, 2_400e18, false, 5e18);
        _short(7, 3_000e18, false, 2e18);
        _short(60, 1_200e18, true, 1e18);
        _short(45, 3_600e18, true, 3e18);
        _short(14, 2_000e18, false, 4e18);
    }

    function _short(uint256 daysOut, uint256 strike, bool isCall, int256 size) internal {
        SeriesId id = _createSeries(ethIndex, daysOut, strike, isCall);
        _trade(makerKey, makerAccount, portfolio, id, size, engine.mark(id));
    }

    function _setGrid(uint64[3] memory vols, uint64[3] memory skews) internal {
        IMarginEngine.PortfolioParams memory p = engine.defaultPortfolioParams();
        for (uint256 j; j < 3; ++j) (p.volShocksWad[j], p.skewShocksWad[j]) = (vols[j], skews[j]);
        vm.prank(riskManager);
        engine.setPortfolioParams(ethIndex, p);
    }
}
