// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILiquidator} from "../interfaces/ILiquidator.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {AuctionMath} from "../libraries/AuctionMath.sol";
import {CashUnits} from "../libraries/CashUnits.sol";
import {MarginGate} from "../libraries/MarginGate.sol";

/// @title PolicyHarness
/// @notice Test-only wrapper exposing `CashUnits`, `AuctionMath` and `MarginGate`, for the SDK
/// parity tests (`test/sdk/policy.parity.test.ts`).
contract PolicyHarness {
    /// @notice One call's outcome: `data` is the ABI-encoded return value, or the revert data.
    struct Result {
        bool ok;
        bytes data;
    }

    /// @notice Runs each calldata against this contract and keeps every outcome, reverts included.
    function batch(bytes[] calldata calls) external view returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory data) = address(this).staticcall(calls[i]);
            results[i] = Result(ok, data);
        }
    }

    // CashUnits

    function checkDecimals(uint8 decimals) external pure returns (uint8) {
        return CashUnits.checkDecimals(decimals);
    }

    function toWadDown(int256 cash, uint8 decimals) external pure returns (int256) {
        return CashUnits.toWadDown(cash, decimals);
    }

    function fromWadDown(uint256 amountWad, uint8 decimals) external pure returns (uint256) {
        return CashUnits.fromWadDown(amountWad, decimals);
    }

    function fromWadUp(uint256 amountWad, uint8 decimals) external pure returns (uint256) {
        return CashUnits.fromWadUp(amountWad, decimals);
    }

    function mulWadToCashDown(uint256 amount, uint256 priceWad, uint8 decimals) external pure returns (uint256) {
        return CashUnits.mulWadToCashDown(amount, priceWad, decimals);
    }

    function mulWadToCashUp(uint256 amount, uint256 priceWad, uint8 decimals) external pure returns (uint256) {
        return CashUnits.mulWadToCashUp(amount, priceWad, decimals);
    }

    function unitWadUp(uint8 decimals) external pure returns (uint256) {
        return CashUnits.unitWadUp(decimals);
    }

    // AuctionMath

    function discountAt(
        ILiquidator.AuctionParams memory p,
        uint256 clockStart,
        uint256 timestamp
    ) external pure returns (uint256) {
        return AuctionMath.discountAt(p, clockStart, timestamp);
    }

    function bidDiscountAt(
        ILiquidator.AuctionParams memory p,
        int256 markValue,
        uint256 clockStart,
        uint256 timestamp
    ) external pure returns (uint256) {
        return AuctionMath.bidDiscountAt(p, markValue, clockStart, timestamp);
    }

    function minBidFraction(uint256 maxFractionWad) external pure returns (uint256) {
        return AuctionMath.minBidFraction(maxFractionWad);
    }

    function accountPriceDown(
        int256 markValue,
        int256 cashWad,
        uint256 discountWad
    ) external pure returns (int256 priceWad, uint256 discountValueWad) {
        return AuctionMath.accountPriceDown(markValue, cashWad, discountWad);
    }

    function maxFraction(
        ILiquidator.AuctionParams memory p,
        IMarginEngine.MarginState memory state,
        int256 priceWad
    ) external pure returns (uint256) {
        return AuctionMath.maxFraction(p, state, priceWad);
    }

    function quoteBid(
        ILiquidator.AuctionParams memory p,
        IMarginEngine.MarginState memory state,
        int256 cash,
        uint8 cashDecimals,
        uint256 discountWad,
        uint256 fractionWad
    ) external pure returns (ILiquidator.BidPreview memory) {
        return AuctionMath.quoteBid(p, state, cash, cashDecimals, discountWad, fractionWad);
    }

    function mulWadTowardZero(uint256 f, int256 x) external pure returns (int256) {
        return AuctionMath.mulWadTowardZero(f, x);
    }

    // MarginGate

    function verdict(
        MarginGate.Change memory change,
        MarginGate.Before memory beforeState,
        MarginGate.After memory afterState,
        bool paused,
        uint256 roundingWad
    ) external pure returns (MarginGate.Verdict) {
        return MarginGate.verdict(change, beforeState, afterState, paused, roundingWad);
    }

    function isReducing(int256 balance, int256 delta) external pure returns (bool) {
        return MarginGate.isReducing(balance, delta);
    }
}
