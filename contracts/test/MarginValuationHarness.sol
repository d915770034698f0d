// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarginValuation} from "../engine/MarginValuation.sol";
import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";

/// @title MarginValuationHarness
/// @notice Test helper: exposes the shared valuation base's `_markOf`, reading the registry from
/// an engine as the portfolio manager does.
contract MarginValuationHarness is MarginValuation {
    IMarginEngine private immutable _engine;

    constructor(IMarginEngine engine_, ICollateralVault vault_) MarginValuation(vault_, engine_.oracle()) {
        _engine = engine_;
    }

    function markOf(uint256 seriesId) external view returns (IMarginEngine.MarkResult memory) {
        return _markOf(seriesId, _newCache());
    }

    function _underlyingCount() internal view override returns (uint256) {
        return _engine.underlyingCount();
    }

    function _readAsset(uint16 index) internal view override returns (address) {
        return _engine.underlying(index).asset;
    }

    function _readListedIndex(address asset) internal view override returns (uint16) {
        return _engine.listedIndexOf(asset);
    }
}
