// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PortfolioFixture} from "../../helpers/PortfolioFixture.sol";

/// @notice The manager's two passes (`PortfolioManager._scenarioLossUp`, review rv57 P2-4): a book
/// whose requirement is decided by a cell in a row stage 1 leaves is priced there in full at stage
/// 2, through `engine.accountMargin`, to the full grid's requirement to the wei. A manager that
/// skipped stage 2, or pruned without the cover floor's order, would return less.
contract PortfolioStagesManagerTest is PortfolioFixture {
    /// @notice Long 4 calls at 3,927 (79 days), short 7 puts at 2,897 (65 days), long a call at
    /// 2,540 (26 days) and 4 calls at 3,265 (70 days), ETH at 3,000 and 80 % vol on the default
    /// grid: the worst cell is the −18 % row's ×1 cell, above the cover floor and the weighted
    /// tail, in a row stage 1 cannot prune.
    function test_aRowLeftAtStageOneIsPricedAtStageTwo() public {
        uint256[4] memory daysOut = [uint256(79), 65, 26, 70];
        uint256[4] memory strikes = [uint256(3_927e18), 2_897e18, 2_540e18, 3_265e18];
        bool[4] memory calls = [true, false, true, true];
        int256[4] memory sizes = [int256(4e18), -7e18, 1e18, 4e18];
        SeriesId[] memory ids = new SeriesId[](4);
        int256[] memory balances = new int256[](4);
        for (uint256 i; i < 4; ++i) {
            ids[i] = _createSeries(ethIndex, daysOut[i], strikes[i], calls[i]);
            _trade(makerKey, makerAccount, portfolio, ids[i], -sizes[i], engine.mark(ids[i]));
            balances[i] = sizes[i];
        }
        (uint256 full, uint256 withoutStageTwo, uint256 pruned) = _requirements(ids, balances);
        assertEq(pruned, 0x1f8, "stage 1 leaves the rows -18 %, -13.5 % and -9 %");
        assertGt(full, withoutStageTwo, "a row left at stage 1 decides the requirement");
        assertEq(engine.accountMargin(portfolio).requirementIM, full, "the full grid's requirement");
    }

    /// @dev The book's requirement written out with every cell priced (as before staging), and
    /// with stage 1 alone (the rows left holding their bound columns' changes alone), and the rows
    /// stage 1 prunes.
    function _requirements(
        SeriesId[] memory ids,
        int256[] memory balances
    ) internal view returns (uint256 full, uint256 withoutStageTwo, uint256 pruned) {
        IMarginEngine.PortfolioParams memory params = engine.portfolioParams(ethIndex);
        (, int256 spotAnswer, , , ) = ethUsd.latestRoundData();
        uint256 spot = uint256(spotAnswer) * 1e10;
        PortfolioMath.Grid memory grid = _grid(spot, params);
        _add(grid, ids, balances);
        (uint256 atLeast, uint256 contingency) = _atLeast(ids, balances, spot, grid, params);
        full = FixedPointMathLib.max(PortfolioMath.worstLoss(grid), atLeast) + contingency;
        PortfolioMath.Grid memory staged = _grid(spot, params);
        assertTrue(PortfolioMath.startStages(staged), "the default grid is staged");
        _add(staged, ids, balances);
        assertTrue(PortfolioMath.pruneRows(staged, atLeast), "a row is left");
        withoutStageTwo = FixedPointMathLib.max(PortfolioMath.worstLoss(staged), atLeast) + contingency;
        pruned = staged.pruned;
    }

    /// @dev What the requirement is at least without the grid's cells (the cover floor or the
    /// weighted worst tail loss), and the contingency, as the manager computes them.
    function _atLeast(
        SeriesId[] memory ids,
        int256[] memory balances,
        uint256 spot,
        PortfolioMath.Grid memory grid,
        IMarginEngine.PortfolioParams memory params
    ) internal view returns (uint256 atLeast, uint256 contingency) {
        (uint256 floor, uint256 shorts) = _coverFloorUp(ids, balances, spot);
        uint256 tail = FixedPointMathLib.mulWadUp(PortfolioMath.worstTailLoss(grid), params.tailWeightWad);
        atLeast = FixedPointMathLib.max(floor, tail);
        contingency = PortfolioMath.contingencyUp(shorts, spot, params.contingencyWad);
    }

    /// @dev The cover floor and the short contracts, as the manager computes them.
    function _coverFloorUp(
        SeriesId[] memory ids,
        int256[] memory balances,
        uint256 spot
    ) internal view returns (uint256 floor, uint256 shorts) {
        IMarginEngine.RiskParams memory standard = engine.underlying(ethIndex).params;
        uint256[] memory perContract = new uint256[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            if (balances[i] >= 0) continue;
            shorts += uint256(-balances[i]);
            SeriesId id = ids[i];
            perContract[i] = MarginMath.shortRequirementUp(
                SeriesLib.isCallOf(id),
                spot,
                SeriesLib.strikeOf(id),
                standard.aIM,
                standard.bIM
            );
        }
        floor = PortfolioMath.coverFloorUp(ids, balances, perContract, 0);
    }

    function _grid(
        uint256 spot,
        IMarginEngine.PortfolioParams memory params
    ) internal pure returns (PortfolioMath.Grid memory) {
        return
            PortfolioMath.newGrid(
                spot,
                params.spotShocksWad,
                params.volShocksWad,
                params.tailShocksWad,
                params.skewShocksWad
            );
    }

    /// @dev The book at the ETH vol feed's vol (no surface in the fixture), marked as the engine marks.
    function _add(PortfolioMath.Grid memory grid, SeriesId[] memory ids, int256[] memory balances) internal view {
        (, int256 volAnswer, , , ) = ethVol.latestRoundData();
        uint256 vol = uint256(volAnswer) * 1e10;
        for (uint256 i; i < ids.length; ++i) {
            PortfolioMath.addPosition(grid, ids[i], balances[i], engine.mark(ids[i]), vol, block.timestamp);
        }
    }
}
