// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {CashUnits} from "./CashUnits.sol";

/// @title BackstopMath
/// @notice The backstop's numbers as pure functions (`docs/backstop.md`): what a takeover costs
/// the fund and what budget is left, the bankruptcy price at which deleveraging closes a bankrupt
/// account's position, what each closed holder pays or receives, and the key that orders the
/// holders. Every rounding goes against the bankrupt account, whose remainder the fund carries.
/// @dev Mirrored line for line by `packages/sdk/src/math/backstop.ts`.
library BackstopMath {
    /// @notice What taking over an account worth `markValue` (WAD) costs the fund: `−V` when the
    /// account is worth less than nothing, else 0 (the fund gains V).
    function lossToFund(int256 markValue) internal pure returns (uint256) {
        return markValue < 0 ? uint256(-markValue) : 0;
    }

    /// @notice The loss a takeover may still cost: the per-takeover cap, or what the rolling
    /// window has left if less (0 once the window is spent).
    function budgetLeft(
        uint256 maxLossPerTakeoverWad,
        uint256 maxLossPerWindowWad,
        uint256 windowLossWad
    ) internal pure returns (uint256) {
        uint256 windowLeft = windowLossWad >= maxLossPerWindowWad ? 0 : maxLossPerWindowWad - windowLossWad;
        return windowLeft < maxLossPerTakeoverWad ? windowLeft : maxLossPerTakeoverWad;
    }

    /// @notice One position's term of the gross mark value G = Σ |p|·m, rounded up (a larger G
    /// shades less, against the bankrupt account).
    function grossTermUp(int256 balance, uint256 markWad) internal pure returns (uint256) {
        return FixedPointMathLib.mulWadUp(SignedMath.abs(balance), markWad);
    }

    /// @notice How far from its mark one contract closes: `m·L/G` rounded down, where L is the
    /// account's loss (−V) and G the gross mark value of its positions, so closing every position
    /// brings V to 0 and the counterparties share L pro rata to the mark value closed; capped at
    /// the mark when L ≥ G (what the positions cannot bear stays with the account, then the fund).
    function shadeDown(uint256 markWad, uint256 lossWad, uint256 grossWad) internal pure returns (uint256) {
        if (lossWad >= grossWad) return markWad;
        return FixedPointMathLib.mulDiv(markWad, lossWad, grossWad);
    }

    /// @notice The bankruptcy price of one contract: the mark shaded in the bankrupt account's
    /// favour by `shadeWad` — higher when it sells its long back to the shorts, lower when it buys
    /// its short back from the longs.
    function bankruptcyPrice(uint256 markWad, uint256 shadeWad, bool accountIsLong) internal pure returns (uint256) {
        return accountIsLong ? markWad + shadeWad : markWad - shadeWad;
    }

    /// @notice The cash, in cash units, that closing `contracts` at `priceWad` moves between the
    /// bankrupt account and a holder: what the account receives (its long sold) rounded down, what
    /// it pays (its short bought back) rounded up.
    function closeCash(
        uint256 contracts,
        uint256 priceWad,
        bool accountIsLong,
        uint8 cashDecimals
    ) internal pure returns (uint256) {
        return
            accountIsLong
                ? CashUnits.mulWadToCashDown(contracts, priceWad, cashDecimals)
                : CashUnits.mulWadToCashUp(contracts, priceWad, cashDecimals);
    }

    /// @notice A holder's deleveraging key: the mark value of its position in the series over its
    /// maintenance equity (WAD, rounded down), the leverage of the winning side; the largest key
    /// when its maintenance equity is not positive.
    function deleverageKey(int256 balance, uint256 markWad, int256 equityMM) internal pure returns (uint256) {
        if (equityMM <= 0) return type(uint256).max;
        return FixedPointMathLib.divWad(FixedPointMathLib.mulWad(SignedMath.abs(balance), markWad), uint256(equityMM));
    }
}
