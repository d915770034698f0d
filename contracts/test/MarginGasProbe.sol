// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {AccountId} from "../types/AccountId.sol";

/// @title MarginGasProbe
/// @notice Benchmark helper: the gas one contract pays to call the engine's margin view.
contract MarginGasProbe {
    function accountMarginGas(IMarginEngine engine, AccountId account) external view returns (uint256 gasUsed) {
        uint256 start = gasleft();
        engine.accountMargin(account);
        gasUsed = start - gasleft();
    }
}
