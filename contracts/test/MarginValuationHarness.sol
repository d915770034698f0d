// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PortfolioManager} from "../engine/PortfolioManager.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../interfaces/IPledgeOracle.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title MarginValuationHarness
/// @notice Test helper: exposes the shared valuation base's `_markOf`, with the portfolio
/// manager's registry reads. Deploy it as the engine (`vm.prank`), as the engine deploys its manager.
contract MarginValuationHarness is PortfolioManager {
    constructor(ICollateralVault vault_, IPledgeOracle oracle_) PortfolioManager(vault_, oracle_) {}

    function markOf(SeriesId seriesId) external view returns (IMarginEngine.MarkResult memory) {
        return _markOf(seriesId, _newCache(), false);
    }
}
