// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";

contract MarginMathTest is Test {
    uint256 internal constant A_IM = 0.15e18;
    uint256 internal constant B_IM = 0.10e18;

    function test_shortCallRequirement() public pure {
        // ATM: max(0.15·S, 0.10·S) = 0.15·S
        assertEq(MarginMath.shortRequirementUp(true, 2000e18, 2000e18, A_IM, B_IM), 300e18);
        // 20 % OTM call: max(0.15·2000 − 400, 0.10·2000) = 200
        assertEq(MarginMath.shortRequirementUp(true, 2000e18, 2400e18, A_IM, B_IM), 200e18);
        // ITM call: OTM = 0
        assertEq(MarginMath.shortRequirementUp(true, 2000e18, 1500e18, A_IM, B_IM), 300e18);
    }

    function test_shortPutRequirement() public pure {
        // OTM put (S > K): max(0.15·2000 − 500, 0.10·1500) = 150
        assertEq(MarginMath.shortRequirementUp(false, 2000e18, 1500e18, A_IM, B_IM), 150e18);
        // ITM put: max(0.15·2000, 0.10·2500) = 300
        assertEq(MarginMath.shortRequirementUp(false, 2000e18, 2500e18, A_IM, B_IM), 300e18);
    }

    function test_roundingDirections() public pure {
        // 1 wei short of a 1-wei mark still costs 1 wei; a 1-wei long is worth 0.
        assertEq(MarginMath.positionValue(-1, 1), -1);
        assertEq(MarginMath.positionValue(1, 1), 0);
        assertEq(MarginMath.positionRequirementUp(-1, 1), 1);
        assertEq(MarginMath.positionRequirementUp(1e18, 1e18), 0);
        // 1 wei of a 6-decimal token worth $1 is 1e12 WAD; a haircut rounds down.
        assertEq(MarginMath.tokenValueDown(1, 6, 1e18), 1e12);
        assertEq(MarginMath.applyHaircutDown(3, 0.5e18), 1);
    }

    /// @dev Requirements never fall when a short grows.
    function testFuzz_requirementGrowsWithShort(
        uint128 small,
        uint128 extra,
        uint256 spot,
        uint256 strike,
        bool isCall
    ) public pure {
        spot = bound(spot, 1e15, 1e25);
        strike = bound(strike, 1e15, 1e25);
        uint256 perContract = MarginMath.shortRequirementUp(isCall, spot, strike, A_IM, B_IM);
        int256 a = -int256(uint256(small));
        int256 b = a - int256(uint256(extra));
        assertGe(MarginMath.positionRequirementUp(b, perContract), MarginMath.positionRequirementUp(a, perContract));
    }

    /// @dev A short call's requirement only rises as spot rises (the price moves against it),
    /// and a short put's OTM requirement only rises as spot falls towards the strike.
    function testFuzz_requirementTightensAgainstShort(uint256 spot, uint256 move, uint256 strike) public pure {
        spot = bound(spot, 1e15, 1e25);
        move = bound(move, 0, 1e25);
        strike = bound(strike, 1e15, 1e25);
        assertGe(
            MarginMath.shortRequirementUp(true, spot + move, strike, A_IM, B_IM),
            MarginMath.shortRequirementUp(true, spot, strike, A_IM, B_IM)
        );
        // For a put, the requirement plus the intrinsic liability only rises as spot falls.
        uint256 lower = spot > move ? spot - move : 1e15;
        assertGe(
            MarginMath.shortRequirementUp(false, lower, strike, A_IM, B_IM) +
                MarginMath.intrinsic(false, lower, strike),
            MarginMath.shortRequirementUp(false, spot, strike, A_IM, B_IM) + MarginMath.intrinsic(false, spot, strike)
        );
    }

    /// @dev Requirements sit between the floor and a·S + b·K, and MM ≤ IM.
    function testFuzz_requirementBounds(uint256 spot, uint256 strike, bool isCall) public pure {
        spot = bound(spot, 1e15, 1e25);
        strike = bound(strike, 1e15, 1e25);
        uint256 im = MarginMath.shortRequirementUp(isCall, spot, strike, A_IM, B_IM);
        uint256 mm = MarginMath.shortRequirementUp(isCall, spot, strike, 0.08e18, 0.05e18);
        assertGe(im, mm);
        assertGe(im, (B_IM * (isCall ? spot : strike)) / 1e18);
        assertLe(im, (A_IM * spot) / 1e18 + (B_IM * (isCall ? spot : strike)) / 1e18 + 2);
    }
}
