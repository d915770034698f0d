// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

/// @title CashUnits
/// @notice The one convention for moving between WAD and the cash token's native units.
/// Every function says its rounding; every one refuses decimals above `MAX_DECIMALS`, the
/// vault's own listing limit, so a cash token the vault accepts works in every module.
/// @dev Mirrored line for line by `packages/sdk/src/math/cashUnits.ts`.
library CashUnits {
    /// @notice Highest cash-token decimals supported (`CollateralVault.MAX_DECIMALS`).
    uint8 internal constant MAX_DECIMALS = 36;
    uint256 private constant WAD = 1e18;

    /// @notice The cash token has more decimals than `MAX_DECIMALS`.
    error CashUnitsUnsupportedDecimals(uint8 decimals);

    /// @notice `decimals`, once checked against `MAX_DECIMALS`: the single place the limit lives.
    function checkDecimals(uint8 decimals) internal pure returns (uint8) {
        if (decimals > MAX_DECIMALS) revert CashUnitsUnsupportedDecimals(decimals);
        return decimals;
    }

    /// @notice A signed cash amount as WAD, rounded down (toward −∞): a debt never shrinks.
    function toWadDown(int256 cash, uint8 decimals) internal pure returns (int256) {
        (uint256 divisor, uint256 multiplier) = _scales(decimals);
        if (multiplier == 1) return cash * int256(divisor);
        if (cash >= 0) return int256(uint256(cash) / multiplier);
        return -int256(FixedPointMathLib.divUp(uint256(-cash), multiplier));
    }

    /// @notice A WAD amount in cash units, rounded down.
    function fromWadDown(uint256 amountWad, uint8 decimals) internal pure returns (uint256) {
        (uint256 divisor, uint256 multiplier) = _scales(decimals);
        return (amountWad / divisor) * multiplier;
    }

    /// @notice A WAD amount in cash units, rounded up.
    function fromWadUp(uint256 amountWad, uint8 decimals) internal pure returns (uint256) {
        (uint256 divisor, uint256 multiplier) = _scales(decimals);
        return FixedPointMathLib.divUp(amountWad, divisor) * multiplier;
    }

    /// @notice `amount × priceWad / 1e18` in cash units with one rounding, down.
    function mulWadToCashDown(uint256 amount, uint256 priceWad, uint8 decimals) internal pure returns (uint256) {
        (uint256 divisor, uint256 multiplier) = _scales(decimals);
        return Math.mulDiv(amount, priceWad, WAD * divisor, Math.Rounding.Floor) * multiplier;
    }

    /// @notice `amount × priceWad / 1e18` in cash units with one rounding, up.
    function mulWadToCashUp(uint256 amount, uint256 priceWad, uint8 decimals) internal pure returns (uint256) {
        (uint256 divisor, uint256 multiplier) = _scales(decimals);
        return Math.mulDiv(amount, priceWad, WAD * divisor, Math.Rounding.Ceil) * multiplier;
    }

    /// @notice One cash unit in WAD, rounded up (1 wei when a unit is worth less than a WAD wei):
    /// the most a single rounding to cash units can move a WAD amount.
    function unitWadUp(uint8 decimals) internal pure returns (uint256) {
        (uint256 divisor, ) = _scales(decimals);
        return divisor;
    }

    /// @dev WAD → cash is `÷ divisor × multiplier`; one of the two is 1.
    function _scales(uint8 decimals) private pure returns (uint256 divisor, uint256 multiplier) {
        checkDecimals(decimals);
        if (decimals <= 18) return (10 ** (18 - decimals), 1);
        return (1, 10 ** (decimals - 18));
    }
}
