// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IPortfolioRisk} from "../interfaces/IPortfolioRisk.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {PortfolioMath} from "../libraries/PortfolioMath.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";

/// @title PortfolioRisk
/// @notice The scenario requirement of one underlying of a portfolio account. Stateless and pure:
/// the margin engine deploys one in its constructor and reads it through `IPortfolioRisk`.
contract PortfolioRisk is IPortfolioRisk {
    /// @inheritdoc IPortfolioRisk
    function requirementUp(
        Book calldata book,
        IMarginEngine.PortfolioParams calldata params,
        IMarginEngine.RiskParams calldata standard,
        uint256 timestamp
    ) external pure returns (uint256) {
        uint256 requirement = _scenarioLossUp(book, params, timestamp);
        (uint256 floor, uint256 shorts) = _coverFloorUp(book, standard);
        if (floor > requirement) requirement = floor;
        return requirement + PortfolioMath.contingencyUp(shorts, book.spotWad, params.contingencyWad);
    }

    /// @dev The worst grid loss or the weighted worst tail loss, whichever is larger.
    function _scenarioLossUp(
        Book calldata book,
        IMarginEngine.PortfolioParams calldata params,
        uint256 timestamp
    ) private pure returns (uint256 loss) {
        PortfolioMath.Grid memory grid = PortfolioMath.newGrid(
            book.spotWad,
            book.volWad,
            params.spotShocksWad,
            params.volShocksWad,
            params.tailShocksWad
        );
        if (book.heldTokens != 0) PortfolioMath.addCollateral(grid, book.heldTokens, book.heldDecimals);
        for (uint256 i; i < book.seriesIds.length; ++i) {
            PortfolioMath.addPosition(grid, book.seriesIds[i], book.balances[i], book.marks[i], timestamp);
        }
        loss = PortfolioMath.worstLoss(grid);
        uint256 tail = FixedPointMathLib.mulWadUp(PortfolioMath.worstTailLoss(grid), params.tailWeightWad);
        if (tail > loss) loss = tail;
    }

    /// @dev The cover floor (standard requirement per short at spot, initial parameters) and the
    /// number of short contracts.
    function _coverFloorUp(
        Book calldata book,
        IMarginEngine.RiskParams calldata standard
    ) private pure returns (uint256 floor, uint256 shorts) {
        uint256 count = book.seriesIds.length;
        uint256[] memory perContract = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            int256 balance = book.balances[i];
            if (balance >= 0) continue;
            uint256 id = book.seriesIds[i];
            shorts += uint256(-balance);
            perContract[i] = MarginMath.shortRequirementUp(
                SeriesLib.isCallOf(id),
                book.spotWad,
                SeriesLib.strikeOf(id),
                standard.aIM,
                standard.bIM
            );
        }
        floor = PortfolioMath.coverFloorUp(
            book.seriesIds,
            book.balances,
            perContract,
            PortfolioMath.tokensToWad(book.heldTokens, book.heldDecimals)
        );
    }
}
