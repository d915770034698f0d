// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {MarginMath} from "../libraries/MarginMath.sol";

/// @title MathHarness
/// @notice Test-only wrapper exposing the Solady `FixedPointMathLib` functions the contracts use and
/// `MarginMath`, for the SDK parity tests (`test/sdk/fixedPoint.parity.test.ts`).
contract MathHarness {
    /// @notice One call's outcome: `data` is the ABI-encoded return value, or the revert data.
    struct Result {
        bool ok;
        bytes data;
    }

    /// @notice Runs each calldata against this contract and keeps every outcome, reverts included,
    /// so a few thousand cases (and their revert data) fit in a handful of eth_calls.
    function batch(bytes[] calldata calls) external view returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory data) = address(this).staticcall(calls[i]);
            results[i] = Result(ok, data);
        }
    }

    // FixedPointMathLib

    function mulWad(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMathLib.mulWad(x, y);
    }

    function mulWadUp(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMathLib.mulWadUp(x, y);
    }

    function divWad(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMathLib.divWad(x, y);
    }

    function divWadUp(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMathLib.divWadUp(x, y);
    }

    function divUp(uint256 x, uint256 d) external pure returns (uint256) {
        return FixedPointMathLib.divUp(x, d);
    }

    function fullMulDiv(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return FixedPointMathLib.fullMulDiv(x, y, d);
    }

    function expWad(int256 x) external pure returns (int256) {
        return FixedPointMathLib.expWad(x);
    }

    function lnWad(int256 x) external pure returns (int256) {
        return FixedPointMathLib.lnWad(x);
    }

    function sqrt(uint256 x) external pure returns (uint256) {
        return FixedPointMathLib.sqrt(x);
    }

    // MarginMath

    function tokenValueDown(uint256 amount, uint8 decimals, uint256 priceWad) external pure returns (uint256) {
        return MarginMath.tokenValueDown(amount, decimals, priceWad);
    }

    function applyHaircutDown(uint256 valueWad, uint256 haircutWad) external pure returns (uint256) {
        return MarginMath.applyHaircutDown(valueWad, haircutWad);
    }

    function positionValue(int256 balance, uint256 markWad) external pure returns (int256) {
        return MarginMath.positionValue(balance, markWad);
    }

    function intrinsic(bool isCall, uint256 priceWad, uint256 strikeWad) external pure returns (uint256) {
        return MarginMath.intrinsic(isCall, priceWad, strikeWad);
    }

    function shortRequirementUp(
        bool isCall,
        uint256 spotWad,
        uint256 strikeWad,
        uint256 aWad,
        uint256 bWad
    ) external pure returns (uint256) {
        return MarginMath.shortRequirementUp(isCall, spotWad, strikeWad, aWad, bWad);
    }

    function positionRequirementUp(int256 balance, uint256 perContractWad) external pure returns (uint256) {
        return MarginMath.positionRequirementUp(balance, perContractWad);
    }
}
