// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralVault} from "../interfaces/ICollateralVault.sol";
import {CashIndex} from "../libraries/CashIndex.sol";

/// @title CashIndexHarness
/// @notice Test-only wrapper exposing `CashIndex`, for the SDK parity test
/// (`test/sdk/cashIndex.parity.test.ts`).
contract CashIndexHarness {
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

    function toAmountDown(uint256 shares, uint256 index) external pure returns (uint256) {
        return CashIndex.toAmountDown(shares, index);
    }

    function toAmountUp(uint256 shares, uint256 index) external pure returns (uint256) {
        return CashIndex.toAmountUp(shares, index);
    }

    function toSharesDown(uint256 amount, uint256 index) external pure returns (uint256) {
        return CashIndex.toSharesDown(amount, index);
    }

    function toSharesUp(uint256 amount, uint256 index) external pure returns (uint256) {
        return CashIndex.toSharesUp(amount, index);
    }

    function amountOf(int256 shares, uint256 supplyIndex, uint256 debtIndex) external pure returns (int256) {
        return CashIndex.amountOf(shares, supplyIndex, debtIndex);
    }

    function credit(
        int256 shares,
        uint256 amount,
        uint256 supplyIndex,
        uint256 debtIndex
    ) external pure returns (int256) {
        return CashIndex.credit(shares, amount, supplyIndex, debtIndex);
    }

    function debit(
        int256 shares,
        uint256 amount,
        uint256 supplyIndex,
        uint256 debtIndex
    ) external pure returns (int256) {
        return CashIndex.debit(shares, amount, supplyIndex, debtIndex);
    }

    function totalSupply(ICollateralVault.CashMarket memory m) external pure returns (uint256) {
        return CashIndex.totalSupply(m);
    }

    function totalDebt(ICollateralVault.CashMarket memory m) external pure returns (uint256) {
        return CashIndex.totalDebt(m);
    }

    function liquidity(ICollateralVault.CashMarket memory m) external pure returns (uint256) {
        return CashIndex.liquidity(m);
    }

    function taylorCompounded(uint256 ratePerSecondWad, uint256 elapsed) external pure returns (uint256) {
        return CashIndex.taylorCompounded(ratePerSecondWad, elapsed);
    }

    function accrue(
        ICollateralVault.CashMarket memory m,
        uint256 ratePerSecondWad,
        uint256 timestamp,
        uint256 reserveShareWad
    ) external pure returns (ICollateralVault.CashMarket memory, uint256 interest, uint256 reserveShares) {
        (interest, reserveShares) = CashIndex.accrue(m, ratePerSecondWad, timestamp, reserveShareWad);
        return (m, interest, reserveShares);
    }

    function socialize(
        ICollateralVault.CashMarket memory m,
        uint256 loss
    ) external pure returns (ICollateralVault.CashMarket memory, uint256 written) {
        written = CashIndex.socialize(m, loss);
        return (m, written);
    }

    function socializeTo(
        ICollateralVault.CashMarket memory m,
        uint256 loss,
        uint256 floor
    ) external pure returns (ICollateralVault.CashMarket memory, uint256 written) {
        written = CashIndex.socializeTo(m, loss, floor);
        return (m, written);
    }
}
