// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {SviHarness} from "../../../contracts/test/SviHarness.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";

/// @notice What must never happen (rv17b G1): a pair of smiles the calendar check accepts with the
/// longer below the shorter at any k, or a change it accepts that moves the annualised variance
/// plus the floor, w/τ + F(k), beyond the ratio at any k (rv17c H1). Fuzzed over nearby admissible pairs (so both verdicts occur) and over k, including the
/// smiles' vertices and true minimisers k* = m − ρσ/√(1 − ρ²), where the point checks of rv17 and
/// rv17b failed. Tolerances are the wei of rounding in `totalVariance` (w is exact to within 2 wei,
/// rounded down).
contract SviMathChecksTest is Test {
    SviHarness internal harness;

    function setUp() public {
        harness = new SviHarness();
    }

    /// @dev An admissible smile from raw fuzz words: ρ in ±0.95, b up to Lee's bound, σ from 1e-4
    /// to 1, m in ±0.5, a from its floor −b·σ·√(1 − ρ²) up by at most 0.2.
    function _smile(
        uint256 s0,
        uint256 s1,
        uint256 s2,
        uint256 s3,
        uint256 s4
    ) internal pure returns (SviMath.Params memory p) {
        p.rho = int256(bound(s0, 0, 1.9e18)) - 0.95e18;
        uint256 absRho = uint256(p.rho < 0 ? -p.rho : p.rho);
        p.b = int256(bound(s1, 0, 2e36 / (1e18 + absRho)));
        p.sigma = int256(bound(s2, 1e14, 1e18));
        p.m = int256(bound(s3, 0, 1e18)) - 0.5e18;
        uint256 root = _sqrt(uint256((1e18 - p.rho) * (1e18 + p.rho)));
        int256 floor_ = -int256((((uint256(p.b) * uint256(p.sigma)) / 1e18) * root) / 1e18);
        p.a = floor_ + int256(bound(s4, 0, 0.2e18));
    }

    /// @dev A smile near `p`: each parameter moved by a fuzzed amount, kept admissible (else `p`).
    function _near(SviMath.Params memory p, uint256 seed) internal view returns (SviMath.Params memory q) {
        uint256 r = uint256(keccak256(abi.encode(seed)));
        q.a = (p.a * int256(900 + (r % 400))) / 1000 + int256((r >> 16) % 0.03e18) - 0.01e18;
        q.b = (p.b * int256(850 + ((r >> 80) % 550))) / 1000;
        q.rho = p.rho + int256((r >> 96) % 0.2e18) - 0.1e18;
        q.m = p.m + int256((r >> 160) % 0.1e18) - 0.05e18;
        q.sigma = (p.sigma * int256(800 + ((r >> 224) % 450))) / 1000 + 1;
        try harness.checkAdmissible(q) {} catch {
            q = p;
        }
    }

    function _sqrt(uint256 x) internal pure returns (uint256 z) {
        if (x == 0) return 0;
        z = x;
        uint256 y = (x + 1) / 2;
        while (y < z) (z, y) = (y, (x / y + y) / 2);
    }

    /// @dev The k worth checking for a pair: the fuzzed one, both vertices and both true minima.
    function _ks(
        SviMath.Params memory p,
        SviMath.Params memory q,
        int256 kFuzz
    ) internal pure returns (int256[5] memory ks) {
        ks[0] = kFuzz;
        ks[1] = p.m;
        ks[2] = q.m;
        ks[3] = p.m - (p.rho * p.sigma) / int256(_sqrt(uint256((1e18 - p.rho) * (1e18 + p.rho))));
        ks[4] = q.m - (q.rho * q.sigma) / int256(_sqrt(uint256((1e18 - q.rho) * (1e18 + q.rho))));
    }

    function testFuzz_calendarAcceptedNeverInverts(uint256[5] memory s, uint256 seed, int256 k) public view {
        SviMath.Params memory shorter = _smile(s[0], s[1], s[2], s[3], s[4]);
        SviMath.Params memory longer = _near(shorter, seed);
        longer.a += 0.002e18; // tilt towards acceptance
        try harness.checkCalendar(shorter, longer) {} catch {
            return;
        }
        int256[5] memory ks = _ks(shorter, longer, bound(k, -5e18, 5e18));
        for (uint256 i; i < 5; ++i) {
            int256 wS = SviMath.totalVariance(shorter, ks[i]);
            int256 wL = SviMath.totalVariance(longer, ks[i]);
            assertGe(wL + 2, wS, "accepted calendar inverts");
        }
    }

    function testFuzz_changeAcceptedStaysWithinRatio(
        uint256[5] memory s,
        uint256 seed,
        uint256 ratio,
        int256 k,
        uint256 tau,
        uint256 dt
    ) public view {
        SviMath.Params memory previous = _smile(s[0], s[1], s[2], s[3], s[4]);
        SviMath.Params memory next = _near(previous, seed);
        ratio = bound(ratio, 1e18, 64e18);
        // Each smile's time to expiry (rv17c H1): the previous one's, and the next one's up to an
        // hour later, from a second to 366 days.
        tau = bound(tau, 2, 366 days);
        uint256 nextTau = tau - bound(dt, 1, tau - 1 < 1 hours ? tau - 1 : 1 hours);
        try harness.checkChange(previous, next, ratio, tau, nextTau) {} catch {
            return;
        }
        int256[5] memory ks = _ks(previous, next, bound(k, -5e18, 5e18));
        for (uint256 i; i < 5; ++i) {
            // The rule times τ·τ'·YEAR, in 1e36: w'·YEAR·τ + F·τ·τ' ≤ ratio·(w·YEAR·τ' + F·τ·τ'),
            // F = 0.0025·(1 + |k|) (annualised), and the same downwards.
            uint256 f = 0.0025e18 * (1e18 + uint256(ks[i] < 0 ? -ks[i] : ks[i])) * tau * nextTau;
            // w is within 2 wei below the exact value: compare each against the other's upper end.
            uint256 w0 = uint256(SviMath.totalVariance(previous, ks[i]) + 2) * 1e18 * 365 days;
            uint256 w1 = uint256(SviMath.totalVariance(next, ks[i]) + 2) * 1e18 * 365 days;
            uint256 lo0 = w0 - 2e18 * 365 days;
            uint256 lo1 = w1 - 2e18 * 365 days;
            assertLe((lo1 * tau + f) * 1e18, (w0 * nextTau + f) * ratio, "accepted change beyond the ratio upwards");
            assertLe((lo0 * nextTau + f) * 1e18, (w1 * tau + f) * ratio, "accepted change beyond the ratio downwards");
        }
    }
}
