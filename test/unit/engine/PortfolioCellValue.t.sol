// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {PortfolioMath} from "../../../contracts/libraries/PortfolioMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";

/// @notice Every scenario cell of one live position is the position's value at the cell's price
/// less its value now, both as `MarginMath.positionValue` rounds them (a long down, a short's
/// liability up): the cell computes that value without `positionValue`'s checks (review rv30 P3-2:
/// rounding a short's cell down instead passed every other Solidity test).
contract PortfolioCellValueTest is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant NOW = 1_700_000_000;

    /// @notice Reference and library agree in every grid and tail cell for random live legs: calls
    /// and puts, longs and shorts up to the market's balance bound, sizes that are not whole
    /// contracts (so a product is rarely a multiple of WAD), strikes from a tenth to ten times spot.
    function testFuzz_cellIsPositionValueChange(
        uint256 spotSeed,
        uint256 strikeSeed,
        uint256 volSeed,
        uint256 daysSeed,
        int256 balanceSeed,
        bool isCall
    ) public pure {
        uint256 spot = bound(spotSeed, 1e18, 1e24);
        uint256 strike = bound(strikeSeed, spot / 10, spot * 10);
        uint256 vol = bound(volSeed, 0.05e18, 3e18);
        uint256 expiry = NOW + bound(daysSeed, 1, 365) * 1 days;
        int256 balance = int256(bound(balanceSeed, -int256((1 << 98) - 1), int256((1 << 98) - 1)));
        vm.assume(balance != 0);
        _checkLeg(spot, strike, vol, expiry, balance, isCall);
    }

    /// @notice The same at fixed points where a short's product is one wei past a whole WAD, so
    /// rounding it down would show.
    function test_shortCellsRoundTheLiabilityUp() public pure {
        _checkLeg(3_000e18, 2_700e18, 0.8e18, NOW + 30 days, -1e18 - 1, false);
        _checkLeg(3_000e18, 3_300e18, 0.8e18, NOW + 7 days, -7e18 - 3, true);
        _checkLeg(60_000e18, 55_000e18, 0.6e18, NOW + 90 days, -(int256(1 << 98) - 1), false);
    }

    /// @notice A leg marked away from its model price (a surface mark, or a FALLBACK side): every
    /// cell is still the change from the value at the mark, and the unshocked centre is skipped, so
    /// it stays 0 where repricing it would show the model-versus-mark gap (review rv38: no test
    /// marked away from the model price, so dropping the skip passed them all).
    function test_cellsOfALegMarkedAwayFromTheModel() public pure {
        _checkLegMarked(3_000e18, 2_800e18, 0.7e18, NOW + 30 days, -3e18 - 1, false, 37e18);
        _checkLegMarked(3_000e18, 3_200e18, 0.7e18, NOW + 30 days, 5e18 + 3, true, 11e18);
    }

    /// @notice The tails price at the leg's own vol even when the flat column's skew moves a short
    /// in the put wing off it: no column is then unshocked, and the tails take their own vol term
    /// (review rv38b: reusing the flat column's term whenever its shock is 1 failed no Solidity test).
    function test_tailsKeepTheLegsVolWhenTheFlatColumnIsSkewed() public pure {
        uint64[] memory skews = new uint64[](3);
        skews[1] = 0.5e18;
        PortfolioMath.Grid memory grid = _gridWith(3_000e18, skews);
        Leg memory leg = _addLeg(grid, 2_600e18, 0.6e18, NOW + 30 days, -2e18 - 1, false, 0);
        for (uint256 k; k < grid.tailSpots.length; ++k) {
            assertEq(grid.tailPnl[k], _change(leg, grid.tailSpots[k], grid.tailShifts[k], leg.vol), "tail cell");
        }
    }

    /// @notice Cells that are not live, where the cell takes the intrinsic value as `callPriceAt`
    /// does: a spot of 1 wei, which every downward shock rounds to 0, and a zero vol, whose vol term
    /// is 0 in every column.
    function test_cellsThatAreNotLive() public pure {
        _checkLeg(1, 2, 0.8e18, NOW + 30 days, -5e18 - 1, false);
        _checkLeg(1, 1, 0.8e18, NOW + 30 days, 3e18 + 7, true);
        _checkLeg(3_000e18, 2_900e18, 0, NOW + 30 days, -2e18 - 1, true);
        _checkLeg(3_000e18, 3_100e18, 0, NOW + 30 days, 2e18 + 1, false);
    }

    /// @notice A cell whose two CDF terms cross (t1 < t2, at a spot of a few wei whose +18 % shock
    /// rounds down: S·N(d1) rounds to 0, K·N(d2) to 1) is floored at 0 before the clamps, as in
    /// `callPriceAt`: without the floor the wrapped difference would win the max and the min would
    /// price the call at its spot (review rv39: dropping `max(t1 − t2, 0)` in `_addCells` passed
    /// every other Solidity test and the SDK parity suites).
    function test_cellWhoseTermsCrossIsFlooredAtZero() public pure {
        _checkLeg(4, 5, 97549040000000000, NOW + 17130371, 1e18 + 3, true);
        _checkLeg(4, 5, 97549040000000000, NOW + 17130371, -1e18 - 3, false);
        _checkLeg(8, 9, 8463020000000000000, NOW + 902, 5e18 + 1, true);
    }

    /// @notice The worst loss reads every scenario, the first and the last included, and a gain
    /// anywhere is no loss (review rv39 P3: `_worst` reads without bounds checks). For each
    /// place k of a 27-scenario grid and a 4-scenario tail, a loss at k alone is the worst.
    function test_worstLossReadsEveryScenario() public pure {
        PortfolioMath.Grid memory grid;
        grid.pnl = new int256[](27);
        grid.tailPnl = new int256[](4);
        for (uint256 k; k < 27; ++k) {
            for (uint256 i; i < 27; ++i) grid.pnl[i] = int256(i) + 1;
            grid.pnl[k] = -int256(1e18 + k);
            assertEq(PortfolioMath.worstLoss(grid), 1e18 + k, "grid");
        }
        for (uint256 k; k < 4; ++k) {
            for (uint256 i; i < 4; ++i) grid.tailPnl[i] = -1;
            grid.tailPnl[k] = -int256(7e18 + k);
            assertEq(PortfolioMath.worstTailLoss(grid), 7e18 + k, "tail");
        }
        for (uint256 i; i < 27; ++i) grid.pnl[i] = int256(i);
        assertEq(PortfolioMath.worstLoss(grid), 0, "gains only");
    }

    /// @notice A shocked spot at or past 2**120 reverts as `callPriceAt` did for the first such cell
    /// in the loops' order (columns first, then spots): the same error and arguments (the shocked
    /// spot, the strike, 0, the column's vol term). The cells check only the spot; this is the one
    /// input of `callPriceAt`'s guard that varies by cell.
    function test_shockedSpotPastTheGuardRevertsAsCallPriceAt() public {
        uint256 spot = (1 << 120) - 1;
        uint256 strike = spot / 2;
        PortfolioMath.Grid memory grid = _grid(spot);
        uint256 first = 5; // +4.5 %: the first spot shock above zero
        assertLt(grid.shockedSpots[first - 1], 1 << 120, "the shock before it is inside");
        assertGe(grid.shockedSpots[first], 1 << 120, "past the guard");
        uint256 term = BlackScholes.volTerm(FixedPointMathLib.mulWad(0.8e18, 1.5e18), 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                BlackScholes.BlackScholesInputOutOfRange.selector,
                grid.shockedSpots[first],
                strike,
                0,
                term
            )
        );
        this.addPosition(spot, strike, -1e18);
    }

    /// @dev `addPosition` of a 30-day call of `strike` at vol 0.8 on the default grid at `spot`, in
    /// its own call so that a revert can be expected.
    function addPosition(uint256 spot, uint256 strike, int256 balance) external pure {
        SeriesId id = SeriesLib.id(SeriesLib.Series(1, uint40(NOW + 30 days), true, uint128(strike)));
        PortfolioMath.addPosition(_grid(spot), id, balance, 0, 0.8e18, NOW);
    }

    /// @dev One live leg as the test builds it.
    struct Leg {
        uint256 spot;
        uint256 strike;
        uint256 vol;
        uint256 tau;
        int256 balance;
        bool isCall;
        int256 ln;
        int256 valueNow;
    }

    function _checkLeg(
        uint256 spot,
        uint256 strike,
        uint256 vol,
        uint256 expiry,
        int256 balance,
        bool isCall
    ) internal pure {
        _checkLegMarked(spot, strike, vol, expiry, balance, isCall, 0);
    }

    /// @dev As `_checkLeg`, with the leg marked `markAbove` above its model price.
    function _checkLegMarked(
        uint256 spot,
        uint256 strike,
        uint256 vol,
        uint256 expiry,
        int256 balance,
        bool isCall,
        uint256 markAbove
    ) internal pure {
        PortfolioMath.Grid memory grid = _grid(spot);
        _checkCells(_addLeg(grid, strike, vol, expiry, balance, isCall, markAbove), grid);
    }

    /// @dev A live leg at the grid's spot, marked `markAbove` above its model price, added to `grid`;
    /// returned as the reference reads it.
    function _addLeg(
        PortfolioMath.Grid memory grid,
        uint256 strike,
        uint256 vol,
        uint256 expiry,
        int256 balance,
        bool isCall,
        uint256 markAbove
    ) internal pure returns (Leg memory leg) {
        leg = Leg(grid.spotWad, strike, vol, expiry - NOW, balance, isCall, 0, 0);
        leg.ln = BlackScholes.lnMoneyness(leg.spot, strike);
        uint256 mark = _price(leg, leg.spot, 0, BlackScholes.volTerm(vol, leg.tau)) + markAbove;
        leg.valueNow = MarginMath.positionValue(balance, mark);
        SeriesId id = SeriesLib.id(SeriesLib.Series(1, uint40(expiry), isCall, uint128(strike)));
        PortfolioMath.addPosition(grid, id, balance, mark, vol, NOW);
    }

    function _checkCells(Leg memory leg, PortfolioMath.Grid memory grid) internal pure {
        uint256 vols = grid.volShocksWad.length;
        for (uint256 i; i < grid.shockedSpots.length; ++i) {
            for (uint256 j; j < vols; ++j) {
                uint256 vol = FixedPointMathLib.mulWad(leg.vol, grid.volShocksWad[j]);
                int256 expected =
                    i == grid.centre && grid.volShocksWad[j] == WAD
                        ? int256(0)
                        : _change(leg, grid.shockedSpots[i], grid.lnShifts[i], vol);
                assertEq(grid.pnl[i * vols + j], expected, "grid cell");
            }
        }
        for (uint256 k; k < grid.tailSpots.length; ++k) {
            assertEq(grid.tailPnl[k], _change(leg, grid.tailSpots[k], grid.tailShifts[k], leg.vol), "tail cell");
        }
    }

    /// @dev The reference: `positionValue` at the price at `spot` (ln shift `shift`, vol `vol`),
    /// less the value now.
    function _change(Leg memory leg, uint256 spot, int256 shift, uint256 vol) internal pure returns (int256) {
        uint256 price = _price(leg, spot, shift, BlackScholes.volTerm(vol, leg.tau));
        return MarginMath.positionValue(leg.balance, price) - leg.valueNow;
    }

    /// @dev A call from `callPriceAt`, a put from it by parity (as the cell prices them).
    function _price(Leg memory leg, uint256 spot, int256 shift, uint256 term) internal pure returns (uint256) {
        uint256 call = BlackScholes.callPriceAt(spot, leg.strike, leg.ln + shift, term);
        return leg.isCall ? call : call + leg.strike - spot;
    }

    /// @dev The default grid's spot, vol and tail shocks, with no skew (so a column's vol is the
    /// leg's vol times its shock, for longs and shorts alike).
    function _grid(uint256 spot) internal pure returns (PortfolioMath.Grid memory) {
        return _gridWith(spot, new uint64[](3));
    }

    /// @dev The default grid's shocks with the given put-wing skew of each vol column.
    function _gridWith(uint256 spot, uint64[] memory skews) internal pure returns (PortfolioMath.Grid memory) {
        int64[] memory spots = new int64[](9);
        for (uint256 i; i < 9; ++i) spots[i] = int64(int256(i) * 0.045e18 - 0.18e18);
        uint64[] memory volShocks = new uint64[](3);
        (volShocks[0], volShocks[1], volShocks[2]) = (1.5e18, 1e18, 0.7e18);
        int64[] memory tails = new int64[](4);
        (tails[0], tails[1], tails[2], tails[3]) = (-0.5e18, -0.33e18, 0.33e18, 0.5e18);
        return PortfolioMath.newGrid(spot, spots, volShocks, tails, skews);
    }
}
