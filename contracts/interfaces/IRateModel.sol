// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IRateModel
/// @notice The interest rate on negative cash, behind one function (the shape of Morpho Blue's
/// IRM). The vault asks it once per block, on the first touch of cash, with the totals as they
/// stood since the last touch, and charges the answer over the time elapsed (`docs/cash.md`).
/// @dev The vault calls it with `staticcall` and a gas cap (`CollateralVault.RATE_MODEL_GAS`).
/// An answer that reverts, is not one 32-byte word, or is above `CollateralVault.MAX_RATE_PER_SECOND`
/// is ignored: the vault keeps the last good rate and emits `RateModelFallback`, so a broken model
/// never blocks withdrawals, repayments or liquidations.
interface IRateModel {
    /// @notice The borrow rate per second, WAD, when `totalDebt` of the `totalSupply` cash units
    /// that creditors hold is lent out (utilisation = totalDebt ÷ totalSupply).
    /// @param totalSupply Σ positive cash, cash units, rounded down.
    /// @param totalDebt Σ negative cash as a positive number, cash units, rounded up.
    function borrowRate(uint256 totalSupply, uint256 totalDebt) external view returns (uint256 ratePerSecondWad);
}
