// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

import {BlackScholes} from "./BlackScholes.sol";

/// @title SviMath
/// @notice Raw-SVI total variance, implied volatility and the admissibility checks a posted smile
/// must pass (docs/vol-surface.md). All values are signed WAD (1e18).
///
///   w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)),   k = ln(K / S) (r = 0: the forward is spot)
///   vol  = √(w / T),                                T in years of 365 days
///
/// Solady supplies `lnWad` (through `BlackScholes.lnMoneyness`, the same ~1-wei ln(S/K)) and `sqrt`
/// (an exact integer square root, rounded down); only the SVI formula and the checks are written
/// here. The inner term ρ·x + √(x² + σ²) is kept in 1e27 so that w is within ~1 wei + b·(error of
/// k) of exact: the 1,000 cases of `shared/vectors/svi.json` match vol within 1e-12 relative.
library SviMath {
    /// @notice Raw-SVI parameters of one expiry, WAD.
    struct Params {
        int256 a;
        int256 b;
        int256 rho;
        int256 m;
        int256 sigma;
    }

    /// @notice A parameter, or log-moneyness, is beyond the range where the arithmetic is proven
    /// not to overflow: |a|, |b|, |ρ|, |m|, |σ| < 2**64 (≈ 18.4e18) and |k| < 2**72.
    error SviInputOutOfRange();
    /// @notice `b` < 0: the smile would open downwards.
    error SviNegativeB(int256 b);
    /// @notice |ρ| ≥ 1.
    error SviRhoOutOfRange(int256 rho);
    /// @notice σ ≤ 0.
    error SviNonPositiveSigma(int256 sigma);
    /// @notice The minimum of w, a + b·σ·√(1 − ρ²) (rounded down), is negative.
    error SviNegativeVariance(int256 minVarianceWad);
    /// @notice b·(1 + |ρ|) > 2: a wing steeper than Lee's moment bound.
    error SviWingTooSteep(int256 b, int256 rho);
    /// @notice Total variance falls from a shorter expiry to a longer one at check point `k`.
    error SviCalendarArbitrage(int256 k, int256 shorterWad, int256 longerWad);
    /// @notice The new total variance at check point `k` moved from the previous post by more
    /// than the allowed ratio.
    error SviChangeTooLarge(int256 k, int256 previousWad, int256 nextWad);
    /// @notice Volatility asked for at or after expiry.
    error SviZeroTime();

    int256 private constant WAD = 1e18;
    uint256 private constant YEAR = 365 days;
    /// @dev Bound on every parameter's magnitude (2**64), and on |k| (2**72).
    uint256 private constant PARAM_LIMIT = 1 << 64;
    uint256 private constant K_LIMIT = 1 << 72;
    /// @notice How many fixed log-moneyness points the calendar and change checks use.
    uint256 internal constant CHECK_POINTS = 9;
    /// @notice Floor under total variance in the change rule, so a smile touching 0 can move:
    /// 1e-4, i.e. 1 % vol over one year.
    int256 internal constant CHANGE_FLOOR_WAD = 1e14;

    /// @notice Confidence below which the bounded-change allowance stops growing: at or below it a
    /// post may move total variance by 4× the governed ratio (`allowedChangeRatio`).
    uint256 internal constant CHANGE_CONFIDENCE_FLOOR_WAD = 0.25e18;

    /// @notice The check points k = ln(K/S): −2, −1, −0.5, −0.25, 0, 0.25, 0.5, 1, 2 (K/S from
    /// 0.135 to 7.39). Calendar no-arbitrage and the bounded-change rule are checked here.
    function checkPoints() internal pure returns (int256[CHECK_POINTS] memory ks) {
        ks = [int256(-2e18), -1e18, -0.5e18, -0.25e18, 0, 0.25e18, 0.5e18, 1e18, 2e18];
    }

    /// @notice k = ln(strike / spot), WAD: minus `BlackScholes.lnMoneyness(spot, strike)` (Solady's
    /// lnWad on S·1e36/K, ~1 wei). Same domain: 0 < spot < 2**120, 0 < strike < 2**119.
    function logMoneyness(uint256 spotWad, uint256 strikeWad) internal pure returns (int256) {
        return -BlackScholes.lnMoneyness(spotWad, strikeWad);
    }

    /// @notice Total variance w(k), WAD, rounded down. May be negative for inadmissible parameters
    /// (and by a wei at the minimum of an admissible smile that touches 0).
    function totalVariance(Params memory p, int256 k) internal pure returns (int256 w) {
        _checkRange(p);
        if (_abs(k) >= K_LIMIT) revert SviInputOutOfRange();
        // Bounds: |x| < 2**73, x² + σ² < 2**147, times 1e18 (< 2**60) < 2**207; |ρ·x| < 2**137;
        // |inner27| ≤ √(2**207) + 2**128 < 2**105; |b·inner27| < 2**169. Nothing overflows.
        unchecked {
            int256 x = k - p.m;
            uint256 root27 = FixedPointMathLib.sqrt(uint256(x * x + p.sigma * p.sigma) * 1e18);
            // √(x² + σ²) ≥ |x| ≥ |ρ·x|, so inner27 ≥ 0 when |ρ| ≤ 1 (the sdiv truncates towards zero).
            int256 inner27 = int256(root27) + (p.rho * x) / 1e9;
            // Signed, truncating towards zero: the floor whenever b ≥ 0 (every admissible smile).
            w = p.a + (p.b * inner27) / 1e27;
        }
    }

    /// @notice Annualised volatility √(w / T), WAD, rounded down; a negative w counts as 0.
    function volFromVariance(int256 totalVarianceWad, uint256 secondsToExpiry) internal pure returns (uint256) {
        if (secondsToExpiry == 0) revert SviZeroTime();
        if (totalVarianceWad <= 0) return 0;
        // w < 2**170 for parameters in range, so w·YEAR·1e18 < 2**255 (checked arithmetic anyway).
        return FixedPointMathLib.sqrt((uint256(totalVarianceWad) * YEAR * 1e18) / secondsToExpiry);
    }

    /// @notice The implied volatility of `strikeWad` at `spotWad`, `secondsToExpiry` before expiry.
    function vol(
        Params memory p,
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry
    ) internal pure returns (uint256) {
        return volFromVariance(totalVariance(p, logMoneyness(spotWad, strikeWad)), secondsToExpiry);
    }

    /// @notice Reverts unless `p` is an admissible raw-SVI smile: b ≥ 0, |ρ| < 1, σ > 0,
    /// a + b·σ·√(1 − ρ²) ≥ 0 (the minimum of w, rounded down) and b·(1 + |ρ|) ≤ 2 (exact).
    function checkAdmissible(Params memory p) internal pure {
        _checkRange(p);
        if (p.b < 0) revert SviNegativeB(p.b);
        if (_abs(p.rho) >= uint256(WAD)) revert SviRhoOutOfRange(p.rho);
        if (p.sigma <= 0) revert SviNonPositiveSigma(p.sigma);
        // In range and signs checked: b, σ < 2**64, |ρ| < 1e18. Exact integers, no overflow.
        unchecked {
            uint256 b = uint256(p.b);
            if (b * (uint256(WAD) + _abs(p.rho)) > 2e36) revert SviWingTooSteep(p.b, p.rho);
            uint256 sqrtOneMinusRho2 = FixedPointMathLib.sqrt(uint256((WAD - p.rho) * (WAD + p.rho)));
            int256 minVariance = p.a + int256((((b * uint256(p.sigma)) / 1e18) * sqrtOneMinusRho2) / 1e18);
            if (minVariance < 0) revert SviNegativeVariance(minVariance);
        }
    }

    /// @notice w at every check point.
    function variances(Params memory p) internal pure returns (int256[CHECK_POINTS] memory ws) {
        int256[CHECK_POINTS] memory ks = checkPoints();
        for (uint256 i; i < CHECK_POINTS; ++i) ws[i] = totalVariance(p, ks[i]);
    }

    /// @notice Reverts unless total variance does not fall from the shorter expiry's smile to the
    /// longer one's at any check point (calendar no-arbitrage at fixed k; r = 0).
    function checkCalendar(int256[CHECK_POINTS] memory shorter, int256[CHECK_POINTS] memory longer) internal pure {
        for (uint256 i; i < CHECK_POINTS; ++i) {
            if (longer[i] < shorter[i]) revert SviCalendarArbitrage(checkPoints()[i], shorter[i], longer[i]);
        }
    }

    /// @notice Reverts unless, at every check point, max(w, floor) moved by at most the factor
    /// `maxRatioWad` (≥ 1e18) either way: max(w', f)·1e18 ≤ max(w, f)·ratio and vice versa.
    function checkChange(
        int256[CHECK_POINTS] memory previous,
        int256[CHECK_POINTS] memory next,
        uint256 maxRatioWad
    ) internal pure {
        for (uint256 i; i < CHECK_POINTS; ++i) {
            uint256 before = uint256(_max(previous[i], CHANGE_FLOOR_WAD));
            uint256 after_ = uint256(_max(next[i], CHANGE_FLOOR_WAD));
            if (after_ * 1e18 > before * maxRatioWad || before * 1e18 > after_ * maxRatioWad) {
                revert SviChangeTooLarge(checkPoints()[i], previous[i], next[i]);
            }
        }
    }

    /// @notice Calendar at the longer smile's vertex k = m_longer (rv17 F2): a narrow dip of the
    /// longer smile between two fixed check points would otherwise go unseen. Reverts
    /// `SviCalendarArbitrage(m_longer, …)` if w_longer(m) < w_shorter(m).
    function checkCalendarAtVertex(Params memory shorter, Params memory longer) internal pure {
        int256 k = longer.m;
        int256 wShorter = totalVariance(shorter, k);
        int256 wLonger = vertexVariance(longer);
        if (wLonger < wShorter) revert SviCalendarArbitrage(k, wShorter, wLonger);
    }

    /// @notice The change rule of `checkChange` also at both smiles' vertices, k = m_previous then
    /// k = m_next (rv17 F3): a narrow dip or spike placed between fixed check points, or one
    /// removed, moves w most near its vertex.
    function checkChangeAtVertices(Params memory previous, Params memory next, uint256 maxRatioWad) internal pure {
        _checkChangeAt(previous.m, vertexVariance(previous), totalVariance(next, previous.m), maxRatioWad);
        _checkChangeAt(next.m, totalVariance(previous, next.m), vertexVariance(next), maxRatioWad);
    }

    /// @notice w at the smile's own vertex k = m: a + b·σ / 1e18, rounded down. Equal to
    /// `totalVariance(p, p.m)` for an admissible smile (there √(σ²·1e18) = σ·1e9 exactly), without
    /// the square root.
    function vertexVariance(Params memory p) internal pure returns (int256) {
        return p.a + (p.b * p.sigma) / WAD;
    }

    function _checkChangeAt(int256 k, int256 previous, int256 next, uint256 maxRatioWad) private pure {
        uint256 before = uint256(_max(previous, CHANGE_FLOOR_WAD));
        uint256 after_ = uint256(_max(next, CHANGE_FLOOR_WAD));
        if (after_ * 1e18 > before * maxRatioWad || before * 1e18 > after_ * maxRatioWad) {
            revert SviChangeTooLarge(k, previous, next);
        }
    }

    /// @notice The factor a post of confidence `confidenceWad` may move total variance by, from the
    /// governed `ratioWad`: ratio / max(confidence, 0.25), rounded down. Full confidence gets the
    /// governed ratio; lower confidence a wider bound (×2 at 0.5, ×4 at or below 0.25), never none.
    function allowedChangeRatio(uint256 ratioWad, uint256 confidenceWad) internal pure returns (uint256) {
        uint256 c = confidenceWad > CHANGE_CONFIDENCE_FLOOR_WAD ? confidenceWad : CHANGE_CONFIDENCE_FLOOR_WAD;
        return (ratioWad * 1e18) / c;
    }

    /// @notice The window over which the bounded change is measured: a surface may move by the
    /// factor R(c) per `CHANGE_PERIOD` of elapsed time, not per post (docs/vol-surface.md).
    uint256 internal constant CHANGE_PERIOD = 1 hours;
    /// @notice The confidence step (the oracle's stored confidence quantum, 1e-9).
    uint256 internal constant CONFIDENCE_STEP = 1e9;

    /// @notice The factor a post may move total variance by, `elapsed` seconds after the surface in
    /// force: R(c)^(elapsed / CHANGE_PERIOD), with R(c) = `allowedChangeRatio(ratioWad, c)`, and
    /// R(c) itself once `elapsed` ≥ `CHANGE_PERIOD` (no credit banks beyond one period). The power is
    /// Solady's expWad(lnWad(R(c))·elapsed / period), ~1 wei. Chained posts multiply their factors,
    /// so their product over any span is R(c)^(span / period): the bound is per unit of time.
    function allowedChangeRatioOver(
        uint256 ratioWad,
        uint256 confidenceWad,
        uint256 elapsed
    ) internal pure returns (uint256) {
        uint256 r = allowedChangeRatio(ratioWad, confidenceWad);
        if (elapsed >= CHANGE_PERIOD) return r;
        // r ≤ 16e18 / 0.25 = 64e18, so ln r < 4.2e18; the product stays far from any overflow.
        int256 exponent = (FixedPointMathLib.lnWad(int256(r)) * int256(elapsed)) / int256(CHANGE_PERIOD);
        return uint256(FixedPointMathLib.expWad(exponent));
    }

    /// @notice The seconds of change credit a post signed at `ts` earns against a surface stored at
    /// `storedTs`, landing in a block at `blockTs`: ts − max(storedTs, blockTs − CHANGE_PERIOD), or
    /// 0 if that is negative (rv17b G2). Credit starts no earlier than one period before the block,
    /// so a backdated post cannot claim time the surface spent unchanged before that: the credits of
    /// posts landing in one block cover disjoint windows inside [blockTs − period, blockTs], at most
    /// one period in total, and over a span S of blocks at most S + one period. The same `elapsed`
    /// feeds `allowedChangeRatioOver` and `carriedConfidence`.
    function changeElapsed(uint256 storedTs, uint256 ts, uint256 blockTs) internal pure returns (uint256) {
        uint256 from = blockTs > CHANGE_PERIOD ? blockTs - CHANGE_PERIOD : 0;
        if (storedTs > from) from = storedTs;
        return ts > from ? ts - from : 0;
    }

    /// @notice The confidence a post stands at, `elapsed` seconds after a surface in force at
    /// `previousWad`: min(posted, previous + elapsed / CHANGE_PERIOD), the rise floored to
    /// `CONFIDENCE_STEP`. Confidence may fall at once but rises by at most 1 per period, so a jump
    /// posted at low confidence cannot be relabelled at full confidence straight after.
    function carriedConfidence(
        uint256 previousWad,
        uint256 postedWad,
        uint256 elapsed
    ) internal pure returns (uint256) {
        uint256 cap = previousWad + ((elapsed * 1e9) / CHANGE_PERIOD) * CONFIDENCE_STEP;
        return postedWad < cap ? postedWad : cap;
    }

    function _checkRange(Params memory p) private pure {
        if ((_abs(p.a) | _abs(p.b) | _abs(p.rho) | _abs(p.m) | _abs(p.sigma)) >= PARAM_LIMIT)
            revert SviInputOutOfRange();
    }

    function _abs(int256 x) private pure returns (uint256) {
        // |type(int256).min| is 2**255, which fits in uint256.
        unchecked {
            return x < 0 ? uint256(-x) : uint256(x);
        }
    }

    function _max(int256 x, int256 y) private pure returns (int256) {
        return x > y ? x : y;
    }
}
