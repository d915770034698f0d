// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

/// @title MarginMath
/// @notice The pure arithmetic of valuation and standard margin. Every helper names its
/// rounding direction, and each call site rounds against the account: collateral and
/// long values round down, short liabilities and requirements round up. The SDK
/// (`packages/sdk/src/math`) mirrors this file line for line.
library MarginMath {
    uint256 internal constant WAD = 1e18;

    /// @notice The USD value (WAD) of `amount` native units of a token with `decimals`,
    /// priced at `priceWad`, rounded down.
    function tokenValueDown(uint256 amount, uint8 decimals, uint256 priceWad) internal pure returns (uint256) {
        return FixedPointMathLib.fullMulDiv(amount, priceWad, 10 ** decimals);
    }

    /// @notice `valueWad × (1 − haircutWad)`, rounded down.
    function applyHaircutDown(uint256 valueWad, uint256 haircutWad) internal pure returns (uint256) {
        return FixedPointMathLib.mulWad(valueWad, WAD - haircutWad);
    }

    /// @notice The value of a signed position at `markWad`: a long rounds down, a short's
    /// liability rounds up (more negative).
    function positionValue(int256 balance, uint256 markWad) internal pure returns (int256) {
        if (balance >= 0) return int256(FixedPointMathLib.mulWad(uint256(balance), markWad));
        return -int256(FixedPointMathLib.mulWadUp(uint256(-balance), markWad));
    }

    /// @notice Intrinsic value of one contract at `priceWad`.
    function intrinsic(bool isCall, uint256 priceWad, uint256 strikeWad) internal pure returns (uint256) {
        if (isCall) return priceWad > strikeWad ? priceWad - strikeWad : 0;
        return strikeWad > priceWad ? strikeWad - priceWad : 0;
    }

    /// @notice Standard requirement of one short contract, rounded up:
    /// call `max(a·S − OTM, b·S)`, put `max(a·S − OTM, b·K)`, with OTM the amount by which
    /// the option is out of the money.
    function shortRequirementUp(
        bool isCall,
        uint256 spotWad,
        uint256 strikeWad,
        uint256 aWad,
        uint256 bWad
    ) internal pure returns (uint256) {
        uint256 otm =
            isCall ? (strikeWad > spotWad ? strikeWad - spotWad : 0) : (spotWad > strikeWad ? spotWad - strikeWad : 0);
        uint256 scaled = FixedPointMathLib.mulWadUp(aWad, spotWad);
        uint256 first = scaled > otm ? scaled - otm : 0;
        uint256 floor = FixedPointMathLib.mulWadUp(bWad, isCall ? spotWad : strikeWad);
        return first > floor ? first : floor;
    }

    /// @notice The requirement of a signed position: `|short| × perContract`, rounded up;
    /// longs need none.
    function positionRequirementUp(int256 balance, uint256 perContractWad) internal pure returns (uint256) {
        if (balance >= 0) return 0;
        return FixedPointMathLib.mulWadUp(uint256(-balance), perContractWad);
    }

    /// @notice The concentration add-on of `shortsWad` gross short contracts on one underlying at
    /// spot `spotWad` (`docs/risk-model.md`, "Concentration"), rounded up:
    /// `κ·S·Q·min(Q / L, maxRatio)` — quadratic in Q up to `maxRatio × L` contracts, then linear.
    /// `kappaWad == 0` turns it off (and `liquidityWad` is then never read, so it may be 0).
    function concentrationAddOnUp(
        uint256 shortsWad,
        uint256 spotWad,
        uint256 kappaWad,
        uint256 liquidityWad,
        uint256 maxRatioWad
    ) internal pure returns (uint256) {
        if (kappaWad == 0 || shortsWad == 0) return 0;
        uint256 ratio = FixedPointMathLib.divWadUp(shortsWad, liquidityWad);
        if (ratio > maxRatioWad) ratio = maxRatioWad;
        uint256 perContract = FixedPointMathLib.mulWadUp(kappaWad, spotWad);
        return FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(perContract, shortsWad), ratio);
    }
}
