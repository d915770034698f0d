// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {BlackScholes} from "../../contracts/libraries/BlackScholes.sol";
import {SeriesLib} from "../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice What the scenario-grid tests of `PortfolioMath` share (`PortfolioPruning.t.sol`, the
/// shorts-only pruning; `PortfolioStages.t.sol`, the staged grid): a book on one underlying with a
/// grid's vol columns, marks as the engine marks, and the prices' stated error.
abstract contract PortfolioGridFixture is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant NOW = 1_700_000_000;

    struct Book {
        uint256 spot;
        SeriesId[] ids;
        int256[] balances;
        uint256[] marks;
        uint256[] legVols;
        uint256 heldTokens;
        uint64[] vols;
        uint64[] skews;
        /// @dev The column of largest vol and skew shocks, by construction (the pruning tests).
        uint256 top;
        /// @dev The grid's spot shocks (the staged-grid tests; the pruning tests use their own).
        int64[] spotShocks;
    }

    /// @dev A leg marked as the engine marks it: the model price at its own vol, or the intrinsic
    /// value at spot once expired (the unshocked centre keeps the mark, `_addCells`).
    function _mark(
        uint256 spot,
        uint256 strike,
        uint256 expiry,
        uint256 vol,
        bool isCall
    ) internal pure returns (uint256) {
        if (expiry <= NOW) return isCall ? (spot > strike ? spot - strike : 0) : (strike > spot ? strike - spot : 0);
        if (isCall) return BlackScholes.callPrice(spot, strike, expiry - NOW, vol);
        return BlackScholes.putPrice(spot, strike, expiry - NOW, vol);
    }

    /// @dev Σ over live legs of the stated price error at `spot` (`docs/black-scholes.md`:
    /// max(1e-12·S + 1e-10·price, 2 wei) per contract, with the price at most max(S, K)), twice (a
    /// price in each of two columns compared), per contract held, plus a wei of each value's
    /// rounding in each column.
    function _errorBound(Book memory book, uint256 spot) internal pure returns (uint256 bound) {
        for (uint256 i; i < book.ids.length; ++i) {
            if (SeriesLib.expiryOf(book.ids[i]) <= NOW) continue;
            uint256 strike = SeriesLib.strikeOf(book.ids[i]);
            uint256 priceBound = spot > strike ? spot : strike;
            uint256 perContract = spot / 1e12 + priceBound / 1e10 + 2;
            int256 balance = book.balances[i];
            uint256 size = balance < 0 ? uint256(-balance) : uint256(balance);
            bound += (2 * perContract * size) / WAD + 2 + 2;
        }
    }

    /// @dev An independent statement of the rule: the first column whose vol and skew shocks are
    /// both at most every column's (`lo`, `PortfolioMath.startStages`), and the first whose are both
    /// at least every column's (`hi`, also the column `PortfolioMath.columnsToPrice` keeps); the
    /// column count where there is none. `ordered`: a grid `startStages` stages.
    function _expectedColumns(
        uint64[] memory vols,
        uint64[] memory skews
    ) internal pure returns (uint256 lo, uint256 hi, bool ordered) {
        uint256 n = vols.length;
        (lo, hi) = (n, n);
        for (uint256 t; t < n; ++t) {
            bool least = true;
            bool largest = true;
            for (uint256 j; j < n; ++j) {
                if (vols[j] < vols[t] || skews[j] < skews[t]) least = false;
                if (vols[j] > vols[t] || skews[j] > skews[t]) largest = false;
            }
            if (least && lo == n) lo = t;
            if (largest && hi == n) hi = t;
        }
        ordered = n >= 3 && lo < n && hi < n && lo != hi;
    }
}
