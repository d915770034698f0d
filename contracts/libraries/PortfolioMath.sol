// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {BlackScholes} from "./BlackScholes.sol";
import {MarginMath} from "./MarginMath.sol";
import {SeriesLib} from "./SeriesLib.sol";

/// @title PortfolioMath
/// @notice The scenario arithmetic of portfolio margin (`docs/portfolio-margin.md`): one
/// underlying's positions, and collateral in the underlying itself, revalued on a grid of
/// spot × volatility shocks; the requirement is the worst loss, floored by the standard
/// requirement of the short contracts nothing hedges, plus a contingency per short contract.
/// Everything is linear in the size of the book, so a slice of an account needs that slice
/// of its requirement. The SDK (`packages/sdk/src/math/portfolioMath.ts`) mirrors this file.
library PortfolioMath {
    uint256 internal constant WAD = 1e18;

    /// @notice One underlying's scenarios at the current spot and vol.
    /// @param pnl Σ (value in the scenario − value now) over everything added, scenario
    /// `i × volShocks + j` for spot shock i and vol shock j.
    struct Grid {
        uint256 spotWad;
        uint256 volWad;
        uint256[] shockedSpots;
        int256[] lnShifts;
        uint64[] volShocksWad;
        int256[] pnl;
        /// @dev Index of the zero spot shock, or type(uint256).max if the grid has none.
        uint256 centre;
    }

    /// @notice Contract counts and standard requirements of one underlying's book, WAD.
    struct Exposure {
        uint256 shortCalls;
        uint256 longCalls;
        uint256 shortPuts;
        uint256 longPuts;
        uint256 callStandardUp;
        uint256 putStandardUp;
    }

    /// @notice A grid at `spotWad` and `volWad`: shocked spots round down, ln(1 + shock) once each.
    function newGrid(
        uint256 spotWad,
        uint256 volWad,
        int64[] memory spotShocksWad,
        uint64[] memory volShocksWad
    ) internal pure returns (Grid memory grid) {
        uint256 spots = spotShocksWad.length;
        grid.spotWad = spotWad;
        grid.volWad = volWad;
        grid.volShocksWad = volShocksWad;
        grid.shockedSpots = new uint256[](spots);
        grid.lnShifts = new int256[](spots);
        grid.pnl = new int256[](spots * volShocksWad.length);
        grid.centre = type(uint256).max;
        for (uint256 i; i < spots; ++i) {
            if (spotShocksWad[i] == 0) grid.centre = i;
            // Shocks are bounded to ±50 % by the engine, so the factor is in [0.5, 1.5] WAD.
            uint256 factor = uint256(int256(WAD) + spotShocksWad[i]);
            grid.shockedSpots[i] = FixedPointMathLib.mulWad(spotWad, factor);
            grid.lnShifts[i] = FixedPointMathLib.lnWad(int256(factor));
        }
    }

    /// @notice Adds `tokens` native units of the underlying itself (collateral) to the grid.
    function addCollateral(Grid memory grid, uint256 tokens, uint8 decimals) internal pure {
        int256 valueNow = int256(MarginMath.tokenValueDown(tokens, decimals, grid.spotWad));
        uint256 vols = grid.volShocksWad.length;
        for (uint256 i; i < grid.shockedSpots.length; ++i) {
            int256 change = int256(MarginMath.tokenValueDown(tokens, decimals, grid.shockedSpots[i])) - valueNow;
            for (uint256 j; j < vols; ++j) {
                grid.pnl[i * vols + j] += change;
            }
        }
    }

    /// @notice Adds a position of `balance` contracts of `seriesId`, now marked at `markWad`,
    /// to the grid. A live series is repriced with Black–Scholes at every (spot, vol) point; an
    /// expired one whose settlement price is not posted yet is worth its intrinsic value at the
    /// shocked spot (positions with a posted price carry no risk and are never added).
    function addPosition(
        Grid memory grid,
        uint256 seriesId,
        int256 balance,
        uint256 markWad,
        uint256 timestamp
    ) internal pure {
        Leg memory leg = Leg({
            balance: balance,
            valueNow: MarginMath.positionValue(balance, markWad),
            strikeWad: SeriesLib.strikeOf(seriesId),
            isCall: SeriesLib.isCallOf(seriesId),
            lnMoneyness: 0
        });
        uint256 expiry = SeriesLib.expiryOf(seriesId);
        if (timestamp >= expiry) {
            _addExpired(grid, leg);
            return;
        }
        leg.lnMoneyness = BlackScholes.lnMoneyness(grid.spotWad, leg.strikeWad);
        for (uint256 j; j < grid.volShocksWad.length; ++j) {
            uint256 volTerm = BlackScholes.volTerm(
                FixedPointMathLib.mulWad(grid.volWad, grid.volShocksWad[j]),
                expiry - timestamp
            );
            _addVolColumn(grid, leg, j, volTerm);
        }
    }

    /// @notice The largest loss over the grid's scenarios, 0 if none loses.
    function worstLoss(Grid memory grid) internal pure returns (uint256 loss) {
        for (uint256 k; k < grid.pnl.length; ++k) {
            int256 pnl = grid.pnl[k];
            if (pnl < 0 && uint256(-pnl) > loss) loss = uint256(-pnl);
        }
    }

    /// @notice Counts a position of `balance` contracts into `exposure`; a short also adds its
    /// standard requirement (`perContractUp`, from `MarginMath.shortRequirementUp`).
    function addExposure(Exposure memory exposure, bool isCall, int256 balance, uint256 perContractUp) internal pure {
        if (balance > 0) {
            if (isCall) exposure.longCalls += uint256(balance);
            else exposure.longPuts += uint256(balance);
            return;
        }
        uint256 size = uint256(-balance);
        uint256 standard = MarginMath.positionRequirementUp(balance, perContractUp);
        if (isCall) {
            exposure.shortCalls += size;
            exposure.callStandardUp += standard;
        } else {
            exposure.shortPuts += size;
            exposure.putStandardUp += standard;
        }
    }

    /// @notice The short-option minimum, rounded up: the share of short calls that neither long
    /// calls nor `coverWad` units of the underlying held cover, times the standard requirement
    /// of all short calls; likewise for puts, covered by long puts. A naked book therefore
    /// needs at least its standard requirement; a fully covered one needs none.
    function nakedFloorUp(Exposure memory exposure, uint256 coverWad) internal pure returns (uint256 floor) {
        uint256 callCover = exposure.longCalls + coverWad;
        if (exposure.shortCalls > callCover) {
            floor = FixedPointMathLib.mulDivUp(
                exposure.callStandardUp,
                exposure.shortCalls - callCover,
                exposure.shortCalls
            );
        }
        if (exposure.shortPuts > exposure.longPuts) {
            floor += FixedPointMathLib.mulDivUp(
                exposure.putStandardUp,
                exposure.shortPuts - exposure.longPuts,
                exposure.shortPuts
            );
        }
    }

    /// @notice The contingency, rounded up: `contingencyWad` of spot per short contract.
    function contingencyUp(
        Exposure memory exposure,
        uint256 spotWad,
        uint256 contingencyWad
    ) internal pure returns (uint256) {
        uint256 shorts = exposure.shortCalls + exposure.shortPuts;
        return FixedPointMathLib.mulWadUp(FixedPointMathLib.mulWadUp(shorts, spotWad), contingencyWad);
    }

    /// @dev One position as the scenario loops need it.
    struct Leg {
        int256 balance;
        int256 valueNow;
        uint256 strikeWad;
        bool isCall;
        int256 lnMoneyness;
    }

    /// @dev Reprices a live position at every spot shock for vol shock `j` (σ√(2T) = `volTerm`).
    /// The hot loop of the portfolio check (positions × scenarios), so its bookkeeping is in
    /// assembly: indices are below the arrays' lengths by construction, and a scenario's pnl
    /// is a sum of at most 64 positions and a collateral balance, each below 2**200 in
    /// magnitude (amounts < 2**127, prices < 2**120 WAD), so the addition cannot overflow.
    function _addVolColumn(Grid memory grid, Leg memory leg, uint256 j, uint256 volTerm) private pure {
        uint256[] memory spots = grid.shockedSpots;
        int256[] memory shifts = grid.lnShifts;
        int256[] memory pnl = grid.pnl;
        uint256 vols = grid.volShocksWad.length;
        // The unshocked scenario changes nothing: skip it.
        uint256 skip = grid.volShocksWad[j] == WAD ? grid.centre : type(uint256).max;
        for (uint256 i; i < spots.length; ++i) {
            if (i == skip) continue;
            uint256 spot;
            int256 shift;
            /// @solidity memory-safe-assembly
            assembly {
                spot := mload(add(spots, shl(5, add(i, 1))))
                shift := mload(add(shifts, shl(5, add(i, 1))))
            }
            uint256 price = BlackScholes.callPriceAt(spot, leg.strikeWad, leg.lnMoneyness + shift, volTerm);
            // Put by parity, exact in integers; the call is at least max(S − K, 0): no underflow.
            if (!leg.isCall) price = price + leg.strikeWad - spot;
            int256 change = MarginMath.positionValue(leg.balance, price) - leg.valueNow;
            /// @solidity memory-safe-assembly
            assembly {
                let cell := add(pnl, shl(5, add(add(mul(i, vols), j), 1)))
                mstore(cell, add(mload(cell), change))
            }
        }
    }

    /// @dev An expired position not yet settled: intrinsic value at each shocked spot, any vol.
    function _addExpired(Grid memory grid, Leg memory leg) private pure {
        uint256 vols = grid.volShocksWad.length;
        for (uint256 i; i < grid.shockedSpots.length; ++i) {
            uint256 price = MarginMath.intrinsic(leg.isCall, grid.shockedSpots[i], leg.strikeWad);
            int256 change = MarginMath.positionValue(leg.balance, price) - leg.valueNow;
            for (uint256 j; j < vols; ++j) {
                grid.pnl[i * vols + j] += change;
            }
        }
    }

    /// @notice A token amount in native units as WAD units (for covering short calls), rounded down.
    function tokensToWad(uint256 tokens, uint8 decimals) internal pure returns (uint256) {
        if (decimals <= 18) return tokens * 10 ** (18 - decimals);
        return tokens / 10 ** (decimals - 18);
    }
}
