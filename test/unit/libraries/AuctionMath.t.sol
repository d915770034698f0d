// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {ILiquidator} from "../../../contracts/interfaces/ILiquidator.sol";
import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {AuctionMath} from "../../../contracts/libraries/AuctionMath.sol";

contract AuctionMathTest is Test {
    function _params() internal pure returns (ILiquidator.AuctionParams memory) {
        return ILiquidator.AuctionParams(0.05e18, 0.3e18, 15 minutes, 0.1e18, 0.1e18, 100e18);
    }

    function _state(
        int256 equity,
        uint256 requirement,
        int256 mark
    ) internal pure returns (IMarginEngine.MarginState memory) {
        return
            IMarginEngine.MarginState(
                equity,
                equity,
                requirement,
                requirement,
                IMarginEngine.Health.LIQUIDATABLE,
                mark
            );
    }

    function test_discountAt_linearThenFlat() public pure {
        ILiquidator.AuctionParams memory p = _params();
        assertEq(AuctionMath.discountAt(p, 1000, 900), 0.05e18); // before the clock start
        assertEq(AuctionMath.discountAt(p, 1000, 1000 + 450), 0.175e18);
        assertEq(AuctionMath.discountAt(p, 1000, 1000 + 900), 0.3e18);
        assertEq(AuctionMath.discountAt(p, 1000, 1000 + 10_000), 0.3e18);
    }

    function test_accountPriceDown_cashAtPar() public pure {
        // V = 1000 of which cash 2000: H = −1000, discount 10 % of |H| = 100.
        (int256 price, uint256 discount) = AuctionMath.accountPriceDown(1000e18, 2000e18, 0.1e18);
        assertEq(discount, 100e18);
        assertEq(price, 900e18);
        // Never below 0 for V ≥ 0.
        (price, discount) = AuctionMath.accountPriceDown(10e18, 2000e18, 0.1e18);
        assertEq(price, 0);
        assertEq(discount, 10e18);
    }

    function test_maxFraction() public pure {
        ILiquidator.AuctionParams memory p = _params();
        // Insolvent and dust accounts go whole.
        assertEq(AuctionMath.maxFraction(p, _state(-1, 10e18, 5_000e18), 0), 1e18);
        assertEq(AuctionMath.maxFraction(p, _state(1e18, 10e18, 50e18), 0), 1e18);
        // Above the target: no bid needed.
        assertEq(AuctionMath.maxFraction(p, _state(2_000e18, 1_000e18, 5_000e18), 4_000e18), 0);
        // need = 1.1·1000 − 800 = 300; f = 300 / (4000 + 300).
        uint256 f = AuctionMath.maxFraction(p, _state(800e18, 1_000e18, 5_000e18), 4_000e18);
        assertEq(f, (uint256(300e18) * 1e18 + 4_300e18 - 1) / 4_300e18);
    }

    function test_quoteBid_roundsAgainstTheBidder() public pure {
        ILiquidator.AuctionParams memory p = _params();
        IMarginEngine.MarginState memory s = _state(800e18, 1_000e18, 5_000e18 + 1);
        ILiquidator.BidPreview memory q = AuctionMath.quoteBid(p, s, 0, 6, 0.1e18, 0.01e18);
        // price = V − 0.1·V rounded down in the discount: 4500e18 + 1 wei, rounded up to a cent fraction.
        assertEq(q.fractionWad, 0.01e18);
        assertEq(q.payment, 45_000_001); // 45.000000 USDC + the wei rounded up
        assertGt(q.insuranceFee, 0);
        assertEq(q.requirementIMAfter, 990e18);
    }

    function test_quoteBid_insuranceFundPaysRoundedDown() public pure {
        ILiquidator.AuctionParams memory p = _params();
        IMarginEngine.MarginState memory s = _state(-1_000e18, 1_000e18, -1_000e18 - 1);
        ILiquidator.BidPreview memory q = AuctionMath.quoteBid(p, s, 0, 6, 0.1e18, 1e18);
        assertEq(q.fractionWad, 1e18);
        assertEq(q.payment, -1_100_000_000); // |−1000 − 100| rounded down to micro-USD
        assertEq(q.insuranceFee, 0);
    }

    function test_mulWadTowardZero() public pure {
        assertEq(AuctionMath.mulWadTowardZero(0.5e18, -3), -1);
        assertEq(AuctionMath.mulWadTowardZero(0.5e18, 3), 1);
    }
}
