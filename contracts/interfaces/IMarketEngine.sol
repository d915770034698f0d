// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "./IMarginEngine.sol";

/// @title IMarketEngine
/// @notice The market's engine (`OptionMarket.engine`, not part of `IOptionMarket`). Its own file:
/// one declaration per source keeps the TypeChain output at `contracts/liquidation/InsuranceFund.ts`,
/// which the SDK's ethers entry point re-exports.
interface IMarketEngine {
    function engine() external view returns (IMarginEngine);
}
