// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";

/// @notice Fuzz properties of `BlackScholes` over its documented domain.
contract BlackScholesTest is Test {
    uint256 internal constant WAD = 1e18;

    // Documented domain (docs/black-scholes.md).
    uint256 internal constant MIN_SPOT = 1e18;
    uint256 internal constant MAX_SPOT = 1e24;
    uint256 internal constant MIN_STRIKE = 0.2e18;
    uint256 internal constant MAX_STRIKE = 4.2e24;
    uint256 internal constant MAX_SECONDS = 63_072_000;
    uint256 internal constant MIN_VOL = 1e14;
    uint256 internal constant MAX_VOL = 18e18;

    /// @dev Rounding slack for the monotonicity checks: every price term is exact to a few wei
    /// per 1e18 of spot, so two evaluations may be out of order by that much and no more.
    function _slack(uint256 spot) internal pure returns (uint256) {
        return spot / 1e16 + 16;
    }

    function _inputs(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v
    ) internal pure returns (uint256, uint256, uint256, uint256) {
        return (
            bound(s, MIN_SPOT, MAX_SPOT),
            bound(k, MIN_STRIKE, MAX_STRIKE),
            bound(t, 0, MAX_SECONDS),
            bound(v, MIN_VOL, MAX_VOL)
        );
    }

    function testFuzz_pricesWithinNoArbitrageBounds(uint256 s, uint256 k, uint256 t, uint256 v) public pure {
        (s, k, t, v) = _inputs(s, k, t, v);
        (uint256 call, uint256 put) = BlackScholes.prices(s, k, t, v);
        assertGe(call, s > k ? s - k : 0, "call < intrinsic");
        assertLe(call, s, "call > spot");
        assertGe(put, k > s ? k - s : 0, "put < intrinsic");
        assertLe(put, k, "put > strike");
        assertEq(BlackScholes.callPrice(s, k, t, v), call, "callPrice != prices.call");
        assertEq(BlackScholes.putPrice(s, k, t, v), put, "putPrice != prices.put");
    }

    function testFuzz_putCallParity(uint256 s, uint256 k, uint256 t, uint256 v) public pure {
        (s, k, t, v) = _inputs(s, k, t, v);
        (uint256 call, uint256 put) = BlackScholes.prices(s, k, t, v);
        // C − P = S − K (r = 0); the put is derived from the call, so this holds to the wei.
        assertApproxEqAbs(int256(call) - int256(put), int256(s) - int256(k), 1, "parity");
    }

    function testFuzz_deltasInRange(uint256 s, uint256 k, uint256 t, uint256 v) public pure {
        (s, k, t, v) = _inputs(s, k, t, v);
        uint256 callDelta = BlackScholes.callDelta(s, k, t, v);
        int256 putDelta = BlackScholes.putDelta(s, k, t, v);
        assertLe(callDelta, WAD, "call delta > 1");
        assertGe(putDelta, -int256(WAD), "put delta < -1");
        assertLe(putDelta, 0, "put delta > 0");
        if (t != 0) assertEq(putDelta, int256(callDelta) - int256(WAD), "put delta != call delta - 1");
        uint256 vega = BlackScholes.vega(s, k, t, v);
        // S·φ(d1)·√T ≤ S·0.3989·√2 for T ≤ 2 years.
        assertLe(vega, (s * 565) / 1000, "vega too large");
    }

    function testFuzz_callMonotoneInSpot(uint256 s, uint256 ds, uint256 k, uint256 t, uint256 v) public pure {
        (s, k, t, v) = _inputs(s, k, t, v);
        uint256 s2 = bound(ds, s, MAX_SPOT);
        uint256 lo = BlackScholes.callPrice(s, k, t, v);
        uint256 hi = BlackScholes.callPrice(s2, k, t, v);
        assertGe(hi + _slack(s2), lo, "call decreased with spot");
    }

    function testFuzz_callMonotoneInVol(uint256 s, uint256 k, uint256 t, uint256 v, uint256 dv) public pure {
        (s, k, t, v) = _inputs(s, k, t, v);
        uint256 v2 = bound(dv, v, MAX_VOL);
        uint256 lo = BlackScholes.callPrice(s, k, t, v);
        uint256 hi = BlackScholes.callPrice(s, k, t, v2);
        assertGe(hi + _slack(s), lo, "call decreased with vol");
    }

    function test_expiryIsIntrinsic() public pure {
        assertEq(BlackScholes.callPrice(2000e18, 1500e18, 0, 0.8e18), 500e18);
        assertEq(BlackScholes.putPrice(2000e18, 2500e18, 0, 0.8e18), 500e18);
        assertEq(BlackScholes.callDelta(2000e18, 2000e18, 0, 0.8e18), 0);
        assertEq(BlackScholes.putDelta(2000e18, 2000e18, 0, 0.8e18), 0);
        assertEq(BlackScholes.putDelta(2000e18, 2500e18, 0, 0.8e18), -1e18);
        assertEq(BlackScholes.vega(2000e18, 2000e18, 0, 0.8e18), 0);
    }

    function test_zeroInputsDoNotRevert() public pure {
        assertEq(BlackScholes.callPrice(0, 1e18, 1 days, 1e18), 0);
        assertEq(BlackScholes.putPrice(0, 1e18, 1 days, 1e18), 1e18);
        assertEq(BlackScholes.callPrice(1e18, 0, 1 days, 1e18), 1e18);
        assertEq(BlackScholes.callPrice(3e18, 2e18, 1 days, 0), 1e18);
        assertEq(BlackScholes.callDelta(3e18, 2e18, 1 days, 0), 1e18);
    }

    function test_tinyVolIsForwardValue() public pure {
        // σ√T ≈ 1.8e-8: d is ±5e5 away from the money, N rounds to 0/1.
        assertEq(BlackScholes.callPrice(2000e18, 1999e18, 1, 1e14), 1e18);
        assertEq(BlackScholes.putPrice(2000e18, 2001e18, 1, 1e14), 1e18);
        assertEq(BlackScholes.callDelta(2000e18, 1999e18, 1, 1e14), 1e18);
    }
}
