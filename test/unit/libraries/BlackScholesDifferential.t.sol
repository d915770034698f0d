// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {BlackScholes} from "../../../contracts/libraries/BlackScholes.sol";
import {BlackScholesHarness} from "../../../contracts/test/BlackScholesHarness.sol";
import {BlackScholesParent} from "./BlackScholesParent.sol";

/// @notice Every entry point of the library, external, so that a revert's data can be compared.
interface IBlackScholesProbe {
    function callPrice(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256);
    function putPrice(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256);
    function prices(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256, uint256);
    function callPriceLn(uint256 s, uint256 k, uint256 t, uint256 v, int256 m) external pure returns (uint256);
    function callPriceAt(uint256 s, uint256 k, int256 m, uint256 s27) external pure returns (uint256);
    function callDelta(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256);
    function putDelta(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (int256);
    function vega(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256);
    function lnMoneyness(uint256 s, uint256 k) external pure returns (int256);
    function volTerm(uint256 v, uint256 t) external pure returns (uint256);
}

/// @notice The frozen parent (ab5785e).
contract BlackScholesParentProbe is IBlackScholesProbe {
    function callPrice(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholesParent.callPrice(s, k, t, v);
    }

    function putPrice(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholesParent.putPrice(s, k, t, v);
    }

    function prices(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256, uint256) {
        return BlackScholesParent.prices(s, k, t, v);
    }

    function callPriceLn(uint256 s, uint256 k, uint256 t, uint256 v, int256 m) external pure returns (uint256) {
        return BlackScholesParent.callPriceLn(s, k, t, v, m);
    }

    function callPriceAt(uint256 s, uint256 k, int256 m, uint256 s27) external pure returns (uint256) {
        return BlackScholesParent.callPriceAt(s, k, m, s27);
    }

    function callDelta(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholesParent.callDelta(s, k, t, v);
    }

    function putDelta(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (int256) {
        return BlackScholesParent.putDelta(s, k, t, v);
    }

    function vega(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholesParent.vega(s, k, t, v);
    }

    function lnMoneyness(uint256 s, uint256 k) external pure returns (int256) {
        return BlackScholesParent.lnMoneyness(s, k);
    }

    function volTerm(uint256 v, uint256 t) external pure returns (uint256) {
        return BlackScholesParent.volTerm(v, t);
    }
}

/// @notice The library against its frozen parent: the same return data, or the same revert data
/// (error and arguments, or panic code), for every entry point, over the whole input range the
/// guards admit and beyond it, with vectors aimed at the |y1| = 6.5 test that 85ac8c1 rewrote.
contract BlackScholesDifferentialTest is Test {
    IBlackScholesProbe internal current;
    IBlackScholesProbe internal parent;

    /// @dev y1 = m·1e27/s27 + s27/4e9: at s27 = 1e27 (s' = 1), y1 = m + 0.25e18 and y2 = y1 − 0.5e18.
    uint256 internal constant UNIT_VOL_TERM = 1e27;
    int256 internal constant Y1_SHIFT = 0.25e18;

    function setUp() public {
        // The library under review, through the harness the other Black–Scholes tests use.
        current = IBlackScholesProbe(address(new BlackScholesHarness()));
        parent = new BlackScholesParentProbe();
    }

    /// @dev Both probes answer `data` alike: same success flag and the same bytes.
    function _assertSame(bytes memory data) internal view {
        (bool okCurrent, bytes memory outCurrent) = address(current).staticcall(data);
        (bool okParent, bytes memory outParent) = address(parent).staticcall(data);
        assertEq(okCurrent, okParent, "one reverted, the other did not");
        assertEq(outCurrent, outParent, "return or revert data differ");
    }

    /// @dev Every four-input entry point on (s, k, t, v).
    function _assertAllSame(uint256 s, uint256 k, uint256 t, uint256 v) internal view {
        _assertSame(abi.encodeCall(IBlackScholesProbe.callPrice, (s, k, t, v)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.putPrice, (s, k, t, v)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.prices, (s, k, t, v)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.callDelta, (s, k, t, v)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.putDelta, (s, k, t, v)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.vega, (s, k, t, v)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.lnMoneyness, (s, k)));
        _assertSame(abi.encodeCall(IBlackScholesProbe.volTerm, (v, t)));
    }

    /// @dev A value of any magnitude: `x` shifted right by 0..256 bits (so every bit length, and 0,
    /// are as likely as each other), or one of the guard's edges when `pick` says so.
    function _anyWidth(uint256 x, uint256 pick, uint256 limitBits) internal pure returns (uint256) {
        uint256 edge = pick % 16;
        if (edge == 0) return 0;
        if (edge == 1) return 1;
        if (edge == 2) return (uint256(1) << limitBits) - 1;
        if (edge == 3) return uint256(1) << limitBits;
        if (edge == 4) return type(uint256).max;
        return x >> ((pick >> 8) % 257);
    }

    /// @dev A value below 2**limitBits of any bit length, the edges included.
    function _inGuard(uint256 x, uint256 pick, uint256 limitBits) internal pure returns (uint256) {
        uint256 edge = pick % 16;
        if (edge == 0) return 0;
        if (edge == 1) return 1;
        if (edge == 2) return (uint256(1) << limitBits) - 1;
        return (x >> (256 - limitBits)) >> ((pick >> 8) % (limitBits + 1));
    }

    /// @dev The `needsExp` test of the parent's `_terms`, copied.
    function _needsExpParent(int256 y1, int256 y2) internal pure returns (bool needsExp) {
        assembly {
            let ay := y1
            if slt(y1, 0) {
                ay := sub(0, y1)
            }
            needsExp := and(
                or(sgt(y1, 3000000000000000000), slt(y2, sub(0, 3000000000000000000))),
                lt(ay, 6500000000000000000)
            )
        }
    }

    /// @dev The `needsExp` test of 85ac8c1's `_terms`, copied.
    function _needsExpCurrent(int256 y1, int256 y2) internal pure returns (bool needsExp) {
        assembly {
            needsExp := and(
                or(sgt(y1, 3000000000000000000), slt(y2, sub(0, 3000000000000000000))),
                lt(add(y1, 6499999999999999999), 12999999999999999999)
            )
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The rewritten |y1| < 6.5 test, alone, over every word
    // ---------------------------------------------------------------------------------------------

    function testFuzz_needsExpEqualOnEveryWord(int256 y1, int256 y2) public pure {
        assertEq(_needsExpCurrent(y1, y2), _needsExpParent(y1, y2));
    }

    function test_needsExpEqualAtTheWordEdges() public pure {
        int256[14] memory ys = [
            type(int256).min,
            type(int256).min + 1,
            type(int256).max,
            type(int256).max - 6.5e18,
            type(int256).max - 6.5e18 + 1,
            -6.5e18 - 1,
            -6.5e18,
            -6.5e18 + 1,
            6.5e18 - 1,
            6.5e18,
            6.5e18 + 1,
            -int256(uint256(1) << 191),
            int256(uint256(1) << 191),
            0
        ];
        int256[5] memory y2s = [type(int256).min, -3e18 - 1, 0, 3e18 + 1, type(int256).max];
        for (uint256 i; i < ys.length; ++i) {
            for (uint256 j; j < y2s.length; ++j) {
                assertEq(_needsExpCurrent(ys[i], y2s[j]), _needsExpParent(ys[i], y2s[j]));
            }
            for (int256 d = -3; d <= 3; ++d) {
                if (d > 0 && ys[i] > type(int256).max - d) continue;
                if (d < 0 && ys[i] < type(int256).min - d) continue;
                assertEq(_needsExpCurrent(ys[i] + d, ys[i] + d), _needsExpParent(ys[i] + d, ys[i] + d));
                assertEq(_needsExpCurrent(ys[i] + d, -4e18), _needsExpParent(ys[i] + d, -4e18));
            }
        }
        // The boundary itself, both signs: needed below 6.5e18 in magnitude, not at it.
        assertTrue(_needsExpCurrent(6.5e18 - 1, 0));
        assertFalse(_needsExpCurrent(6.5e18, 0));
        assertTrue(_needsExpCurrent(-6.5e18 + 1, -6.5e18 + 1));
        assertFalse(_needsExpCurrent(-6.5e18, -6.5e18));
    }

    // ---------------------------------------------------------------------------------------------
    // Every entry point against the parent
    // ---------------------------------------------------------------------------------------------

    /// @dev Any input, any magnitude: inside and outside every guard, zeros and edges.
    function testFuzz_sameOnAnyInput(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v,
        uint256 ps,
        uint256 pk,
        uint256 pt,
        uint256 pv
    ) public view {
        s = _anyWidth(s, ps, 120);
        k = _anyWidth(k, pk, 119);
        t = _anyWidth(t, pt, 40);
        v = _anyWidth(v, pv, 72);
        _assertAllSame(s, k, t, v);
    }

    /// @dev The whole range the guard admits (spot < 2**120, strike < 2**119, vol < 2**72, t < 2**40).
    function testFuzz_sameOverTheGuardedRange(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v,
        uint256 ps,
        uint256 pk,
        uint256 pt,
        uint256 pv
    ) public view {
        s = _inGuard(s, ps, 120);
        k = _inGuard(k, pk, 119);
        t = _inGuard(t, pt, 40);
        v = _inGuard(v, pv, 72);
        _assertAllSame(s, k, t, v);
    }

    /// @dev The documented domain, uniform in each input.
    function testFuzz_sameOverTheDomain(uint256 s, uint256 k, uint256 t, uint256 v) public view {
        s = bound(s, 1e18, 1e24);
        k = bound(k, 0.2e18, 4.2e24);
        t = bound(t, 0, 63_072_000);
        v = bound(v, 1e14, 18e18);
        _assertAllSame(s, k, t, v);
    }

    /// @dev `callPriceLn` takes ln(S/K) unchecked: any int256, so y1 can be any word here (not only
    /// |y1| < 2**191, as 85ac8c1's comment assumes).
    function testFuzz_callPriceLnSameOnAnyLn(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v,
        int256 m,
        uint256 p
    ) public view {
        s = _inGuard(s, p, 120);
        k = _inGuard(k, p >> 16, 119);
        t = _inGuard(t, p >> 32, 40);
        v = _inGuard(v, p >> 48, 72);
        if ((p >> 64) % 2 == 0)
            m = int256(uint256(m) >> (1 + ((p >> 72) % 255))) * ((p >> 80) % 2 == 0 ? int256(1) : -1);
        _assertSame(abi.encodeCall(IBlackScholesProbe.callPriceLn, (s, k, t, v, m)));
    }

    /// @dev `callPriceAt` on raw parts: |m| < 2**100 and s27 < 2**123 admitted, so |y1| up to ~2**190;
    /// and beyond the guard (including m = type(int256).min, a checked negation in both).
    function testFuzz_callPriceAtSameOnRawParts(uint256 s, uint256 k, int256 m, uint256 s27, uint256 p) public view {
        s = _inGuard(s, p, 120);
        k = _inGuard(k, p >> 16, 119);
        uint256 mode = (p >> 32) % 4;
        if (mode == 0) {
            // Inside the guard, any magnitude.
            m = int256(uint256(m) >> (156 + ((p >> 40) % 101))) * ((p >> 48) % 2 == 0 ? int256(1) : -1);
            s27 = _inGuard(s27, p >> 56, 123);
        } else if (mode == 1) {
            // Smallest volume term: y1 = m·1e27, the largest |y1| (~2**190 at |m| → 2**100).
            m = int256(uint256(m) >> 156) * ((p >> 48) % 2 == 0 ? int256(1) : -1);
            s27 = 1 + ((p >> 56) % 4);
        }
        _assertSame(abi.encodeCall(IBlackScholesProbe.callPriceAt, (s, k, m, s27)));
    }

    /// @dev y1 = target exactly, for targets within 64 wei of ±2, ±3 and ±6.5 (and the y2 = y1 − 0.5
    /// thresholds they bring), at several spots and strikes.
    function testFuzz_callPriceAtSameNearTheBoundaries(
        uint256 s,
        uint256 k,
        uint256 which,
        uint256 offset
    ) public view {
        int256[6] memory targets = [int256(2e18), 3e18, 6.5e18, -2e18, -3e18, -6.5e18];
        int256 y1 = targets[which % 6] + int256(offset % 129) - 64;
        if ((which >> 8) % 2 == 1) y1 += 0.5e18; // puts y2 on the target instead
        // Or anywhere in |y1| ∈ [6.3, 6.6]: across the expWad cut (|y1| ≈ 6.4379) and the 6.5 test.
        if ((which >> 16) % 2 == 1)
            y1 = int256(bound(offset, 6.3e18, 6.6e18)) * ((which >> 24) % 2 == 0 ? int256(1) : -1);
        s = bound(s, 1, (uint256(1) << 120) - 1);
        k = bound(k, 1, (uint256(1) << 119) - 1);
        _assertSame(abi.encodeCall(IBlackScholesProbe.callPriceAt, (s, k, y1 - Y1_SHIFT, UNIT_VOL_TERM)));
    }

    /// @dev The same boundaries, every offset in [−8, 8] wei, at a few (S, K) pairs, not sampled.
    function test_callPriceAtSameAtEveryBoundaryWei() public view {
        // 6.4379e18: where e^(−y1²) first rounds to 0 in expWad (y1² = 41.4465), so the last y1
        // whose `a` is non-zero; the 6.5 cut itself changes no output (a is 0 on both sides of it).
        int256[10] memory targets = [
            int256(2e18),
            3e18,
            6.5e18,
            -2e18,
            -3e18,
            -6.5e18,
            2.5e18,
            -3.5e18,
            6.4379e18,
            -6.4379e18
        ];
        uint256[4] memory spots = [uint256(3000e18), 1e18, (uint256(1) << 120) - 1, 1];
        uint256[4] memory strikes = [uint256(3000e18), 4.2e24, 1, (uint256(1) << 119) - 1];
        for (uint256 i; i < targets.length; ++i) {
            for (int256 d = -8; d <= 8; ++d) {
                for (uint256 j; j < spots.length; ++j) {
                    int256 m = targets[i] + d - Y1_SHIFT;
                    _assertSame(
                        abi.encodeCall(IBlackScholesProbe.callPriceAt, (spots[j], strikes[j], m, UNIT_VOL_TERM))
                    );
                    _assertSame(
                        abi.encodeCall(IBlackScholesProbe.callPriceLn, (spots[j], strikes[j], 86_400, 1e18, m))
                    );
                }
            }
        }
    }

    /// @dev Zero strike, zero spot, zero vol or time everywhere a division by the strike sits: the
    /// parent returned the intrinsic value (or reverted with the range error) and so must 85ac8c1.
    function test_zerosAndDivisorsSame() public {
        uint256[5] memory values = [uint256(0), 1, 3000e18, (uint256(1) << 119) - 1, (uint256(1) << 120) - 1];
        for (uint256 i; i < values.length; ++i) {
            for (uint256 j; j < values.length; ++j) {
                _assertAllSame(values[i], values[j] >> 1, 30 days, 0.8e18);
                _assertAllSame(values[i], values[j] >> 1, 0, 0.8e18);
                _assertAllSame(values[i], values[j] >> 1, 30 days, 0);
                _assertAllSame(values[i], values[j] >> 1, (uint256(1) << 40) - 1, (uint256(1) << 72) - 1);
                _assertSame(abi.encodeCall(IBlackScholesProbe.callPriceAt, (values[i], values[j] >> 1, 0, 1e27)));
                _assertSame(
                    abi.encodeCall(IBlackScholesProbe.callPriceLn, (values[i], values[j] >> 1, 30 days, 0.8e18, 0))
                );
            }
        }
        // Strike 0 with everything else live: no division by zero in either (the intrinsic value).
        assertEq(current.callPrice(3000e18, 0, 30 days, 0.8e18), 3000e18);
        assertEq(current.putPrice(3000e18, 0, 30 days, 0.8e18), 0);
        assertEq(current.callPriceLn(3000e18, 0, 30 days, 0.8e18, 0), 3000e18);
        assertEq(current.callPriceAt(3000e18, 0, 0, 1e27), 3000e18);
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.BlackScholesInputOutOfRange.selector, 3000e18, 0, 0, 0));
        current.lnMoneyness(3000e18, 0);
    }
}
