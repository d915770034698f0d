// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MarginGate} from "../../../contracts/libraries/MarginGate.sol";

/// @dev The verdict table of `docs/margin-gate.md`, row by row, on the pure library.
contract MarginGateLibraryTest is Test {
    uint256 internal constant UNIT = 1e12;

    function _priced(int256 im, int256 mm, int256 equityMM) internal pure returns (MarginGate.Before memory b) {
        b.priced = true;
        b.margin = MarginGate.Margin(im, mm, equityMM);
    }

    function _after(int256 im, int256 mm, int256 equityMM) internal pure returns (MarginGate.After memory a) {
        a.margin = MarginGate.Margin(im, mm, equityMM);
    }

    function _unpricedAfter(int256 cash, bool holdsShort) internal pure returns (MarginGate.After memory a) {
        a.cash = cash;
        a.holdsShort = holdsShort;
    }

    function _verdict(
        MarginGate.Change memory c,
        MarginGate.Before memory b,
        MarginGate.After memory a
    ) internal pure returns (MarginGate.Verdict) {
        return MarginGate.verdict(c, b, a, false, UNIT);
    }

    function test_newRisk() public pure {
        MarginGate.Change memory c = MarginGate.Change(false, false);
        MarginGate.Before memory b;
        MarginGate.After memory a;
        assertEq(uint8(MarginGate.verdict(c, b, a, false, UNIT)), uint8(MarginGate.Verdict.NeedsInitialMarginCheck));
        assertEq(uint8(MarginGate.verdict(c, b, a, true, UNIT)), uint8(MarginGate.Verdict.PausedNewRisk));
    }

    function test_reducingLiquidatable() public pure {
        MarginGate.Change memory c = MarginGate.Change(true, false);
        MarginGate.Before memory b = _priced(-200, -100, 1000);
        // Ends at or above IM: passes whatever it paid.
        assertEq(uint8(_verdict(c, b, _after(0, 50, 10))), uint8(MarginGate.Verdict.Pass));
        assertEq(uint8(_verdict(c, b, _after(-1, -1, 2000))), uint8(MarginGate.Verdict.StillLiquidatable));
        // Restored to MM without paying beyond rounding: passes; one wei more falls.
        int256 floor = 1000 - int256(UNIT) - 1;
        assertEq(uint8(_verdict(c, b, _after(-1, 0, floor))), uint8(MarginGate.Verdict.Pass));
        assertEq(uint8(_verdict(c, b, _after(-1, 0, floor - 1))), uint8(MarginGate.Verdict.MaintenanceEquityFell));
    }

    function test_reducingMarginCall() public pure {
        MarginGate.Change memory c = MarginGate.Change(true, true);
        MarginGate.Before memory b = _priced(-200, 100, 1000);
        assertEq(uint8(_verdict(c, b, _after(-200, 100, 0))), uint8(MarginGate.Verdict.Pass));
        assertEq(uint8(_verdict(c, b, _after(-201, 500, 0))), uint8(MarginGate.Verdict.RiskIncreased));
        assertEq(uint8(_verdict(c, b, _after(-100, 99, 0))), uint8(MarginGate.Verdict.RiskIncreased));
    }

    function test_reducingUnpriced() public pure {
        MarginGate.Before memory b;
        b.cash = 500;
        MarginGate.Change memory sells = MarginGate.Change(true, true);
        MarginGate.Change memory buysBack = MarginGate.Change(true, false);
        // No liability left: passes even when it gave up a long.
        assertEq(uint8(_verdict(sells, b, _unpricedAfter(0, false))), uint8(MarginGate.Verdict.Pass));
        // Cash did not fall and no long given up: only safer.
        assertEq(uint8(_verdict(buysBack, b, _unpricedAfter(500, true))), uint8(MarginGate.Verdict.Pass));
        // Anything else needs a price.
        assertEq(
            uint8(_verdict(buysBack, b, _unpricedAfter(499, true))),
            uint8(MarginGate.Verdict.NeedsInitialMarginCheck)
        );
        assertEq(
            uint8(_verdict(sells, b, _unpricedAfter(600, true))),
            uint8(MarginGate.Verdict.NeedsInitialMarginCheck)
        );
        assertEq(
            uint8(_verdict(sells, b, _unpricedAfter(-1, false))),
            uint8(MarginGate.Verdict.NeedsInitialMarginCheck)
        );
    }

    function testFuzz_isReducing(int128 balance, int128 delta) public pure {
        int256 b = balance;
        int256 d = delta;
        bool expected = b != 0 && d != 0 && (b > 0) != (d > 0) && (d > 0 ? d : -d) <= (b > 0 ? b : -b);
        assertEq(MarginGate.isReducing(b, d), expected);
    }
}
