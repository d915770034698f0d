// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VolSurfaceFixture} from "../../helpers/VolSurfaceFixture.sol";
import {IVolSurfaceOracle} from "../../../contracts/interfaces/IVolSurfaceOracle.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {SviMath} from "../../../contracts/libraries/SviMath.sol";
import {SviHarness} from "../../../contracts/test/SviHarness.sol";

/// @notice Regression tests for review rv17c H1 (notes/rv17c-findings.md; the reviewer's repros were
/// test/review/Rv17cSurface.t.sol of that worktree): the change floor was a fixed 1e-4 of *total*
/// variance, so a smile hours from expiry could be floored to 0 or nearly tripled in vol in an hour.
/// The rule now bounds the annualised variance w/τ plus a floor of (5 %)²·(1 + |k|), each smile
/// annualised by its own time to expiry τ = expiry − its post's timestamp. Each `_fixed` test was
/// accepted on 4ec1c39.
contract VolSurfaceOracleRv17cTest is VolSurfaceFixture {
    /// 2023-11-15 04:00 UTC: the front expiry, 08:00 the same day, is 4 h out.
    uint256 internal constant T0 = 19_676 days + 4 hours;
    uint256 internal constant FRONT = 19_676 days + 8 hours;
    /// w of 50 % vol at 4 h: 0.25·4 / 8760 = 1.14155e-4, on the 1e-10 quantum.
    int256 internal constant W_4H_50 = 1.14155e14;

    SviHarness internal harness;

    function setUp() public {
        vm.warp(T0);
        _setUpSurfaceOracle();
        harness = new SviHarness();
    }

    // ------------------------------------------------------------------ helpers

    function _flat(uint256 expiry, int256 a, uint256 c) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return IVolSurfaceOracle.SurfaceInput({expiry: expiry, a: a, b: 0, rho: 0, m: 0, sigma: 0.1e18, confidence: c});
    }

    function _post(IVolSurfaceOracle.SurfaceInput memory s) internal {
        IVolSurfaceOracle.SurfacePost memory p = _one(block.timestamp, s);
        oracle.post(p, _sigs(p));
    }

    function _expectChangeRefused(IVolSurfaceOracle.SurfaceInput memory s) internal {
        IVolSurfaceOracle.SurfacePost memory p = _one(block.timestamp, s);
        bytes[] memory sigs = _sigs(p);
        vm.expectPartialRevert(SviMath.SviChangeTooLarge.selector);
        oracle.post(p, sigs);
    }

    /// @dev w of a constant annualised variance `w4h` (given at 4 h out) at `tau` seconds out, on
    /// the quantum.
    function _decayed(int256 w4h, uint256 tau) internal pure returns (int256) {
        return ((w4h * int256(tau)) / int256(4 hours) / 1e8) * 1e8;
    }

    // ------------------------------------------------------------------ H1

    /// rv17c H1: a 4 h-out expiry at 50 % vol was floored to vol 0 an hour later at full
    /// confidence (w ≤ (A − 1)·1e-4 = 3e-4 could go to 0). Now the annualised variance 0.25 may
    /// fall at most to (0.25 + 0.0025)/4 − 0.0025 = 0.0606 (24.6 % vol) in an hour.
    function test_rv17c_H1_frontExpiryZeroedInOneHourAtFullConfidence_fixed() public {
        _post(_flat(FRONT, W_4H_50, 1e18));
        vm.warp(T0 + 1 hours);
        _expectChangeRefused(_flat(FRONT, 0, 1e18));
        // Just inside: vol 25 % at 3 h out is 0.0625 annualised.
        _post(_flat(FRONT, _decayed(W_4H_50 / 4, 3 hours) + 1e8, 1e18));
        assertEq(oracle.surface(WETH, FRONT).timestamp, T0 + 1 hours);
    }

    /// rv17c H1: the same expiry was moved to w = 7.566e-4 (148.6 % vol at 3 h, ×2.6) an hour later
    /// at full confidence. Now vol at most doubles (×4 in annualised variance, plus 3·0.0025).
    function test_rv17c_H1_frontExpiryTripledInOneHourAtFullConfidence_fixed() public {
        _post(_flat(FRONT, W_4H_50, 1e18));
        vm.warp(T0 + 1 hours);
        _expectChangeRefused(_flat(FRONT, 7.566e14, 1e18));
        // ×4 in annualised variance (vol ×2) is in, ×4.04 is out: 4·0.25 + 3·0.0025 = 1.0075.
        _expectChangeRefused(_flat(FRONT, ((_decayed(W_4H_50, 3 hours) * 404) / 100 / 1e8) * 1e8, 1e18));
        _post(_flat(FRONT, _decayed(W_4H_50 * 4, 3 hours), 1e18));
    }

    /// rv17c H1: a 1-day expiry at 60 % vol (w = 9.863e-4) was floored to 0 an hour later at
    /// confidence 0.25 (A = 16: w ≤ 15e-4 could go to 0). Now its annualised 0.36 may fall at most to
    /// (0.36 + 0.0025)/16 − 0.0025 = 0.0202 (14.2 % vol).
    function test_rv17c_H1_oneDayExpiryZeroedAtLowConfidence_fixed() public {
        vm.warp(FRONT - 1 days);
        uint256 e = FRONT;
        _post(_flat(e, 9.863e14, 0.25e18));
        vm.warp(block.timestamp + 1 hours);
        _expectChangeRefused(_flat(e, 0, 0.25e18));
        // 0.0203 annualised at 23 h out is in.
        _post(_flat(e, ((0.0203e18 * int256(23 hours)) / int256(365 days) / 1e8 + 1) * 1e8, 0.25e18));
    }

    /// An honest smile at constant vol decays in total variance towards expiry; annualised it does
    /// not move, so every post is accepted, down to a minute before expiry and at the smallest
    /// ratio (1.1), posted every 10 minutes, then every minute — the old rule refused the last
    /// steps (w ÷2 in 10 minutes). Also a steepening skew at the front, decaying with it.
    function test_rv17c_H1_honestDecayNearExpiryAccepted() public {
        oracle.grantRole(Roles.RISK_MANAGER_ROLE, address(this));
        oracle.setChangeRatio(1.1e18);
        IVolSurfaceOracle.SurfaceInput memory s = IVolSurfaceOracle.SurfaceInput({
            expiry: FRONT,
            a: W_4H_50 / 2,
            b: 0.0005e18,
            rho: -0.3e18,
            m: 0,
            sigma: 0.1e18,
            confidence: 1e18
        });
        _post(s);
        int256 a0 = s.a;
        int256 b0 = s.b;
        for (uint256 left = 4 hours - 10 minutes; left >= 10 minutes; left -= 10 minutes) {
            vm.warp(FRONT - left);
            s.a = _decayed(a0, left);
            s.b = _decayed(b0, left);
            _post(s);
        }
        for (uint256 left = 9 minutes; left >= 1 minutes; left -= 1 minutes) {
            vm.warp(FRONT - left);
            s.a = _decayed(a0, left);
            s.b = _decayed(b0, left);
            _post(s);
        }
        IVolSurfaceOracle.Surface memory r = oracle.surface(WETH, FRONT);
        assertEq(r.timestamp, FRONT - 1 minutes);
        assertEq(r.a, _decayed(a0, 1 minutes));
    }

    /// The rule at the edges of τ: 0 on either side reverts `SviZeroTime` (the oracle never passes
    /// one), beyond `MAX_CHANGE_TAU` or a ratio outside [1, 2**66) `SviInputOutOfRange`; honest
    /// decay is accepted at ratio 1 (no floor), exactly, and the largest factors do not overflow.
    function test_rv17c_H1_tauEdges() public {
        SviMath.Params memory p = SviMath.Params(0.01e18, 0.1e18, -0.3e18, 0, 0.2e18);
        vm.expectRevert(SviMath.SviZeroTime.selector);
        harness.checkChange(p, p, 4e18, 0, 1);
        vm.expectRevert(SviMath.SviZeroTime.selector);
        harness.checkChange(p, p, 4e18, 1, 0);
        vm.expectRevert(SviMath.SviInputOutOfRange.selector);
        harness.checkChange(p, p, 4e18, 1 << 26, 1);
        vm.expectRevert(SviMath.SviInputOutOfRange.selector);
        harness.checkChange(p, p, 1e18 - 1, 1, 1);
        vm.expectRevert(SviMath.SviInputOutOfRange.selector);
        harness.checkChange(p, p, 1 << 66, 1, 1);
        harness.checkChange(p, p, 1e18, (1 << 26) - 1, (1 << 26) - 1);
        // The largest terms (ratio just under 2**66, τ ratio 2**26 − 1) do not overflow: p
        // annualised over 776 days against the same annualised smile a second from expiry.
        uint256 t = (1 << 26) - 1;
        SviMath.Params memory tiny = SviMath.Params(p.a / int256(t), p.b / int256(t), p.rho, p.m, p.sigma);
        harness.checkChange(p, tiny, (1 << 66) - 1, t, 1);
        harness.checkChange(tiny, p, (1 << 66) - 1, 1, t);
        // Same annualised smile at 2 h and 1 h: w halves, ratio 1 accepts it exactly.
        SviMath.Params memory half = SviMath.Params(p.a / 2, p.b / 2, p.rho, p.m, p.sigma);
        harness.checkChange(p, half, 1e18, 2 hours, 1 hours);
        // The same w at 1 h as at 2 h doubles the annualised variance, wings included: refused at ×1.5.
        vm.expectPartialRevert(SviMath.SviChangeWingTooLarge.selector);
        harness.checkChange(p, p, 1.5e18, 2 hours, 1 hours);
    }
}
