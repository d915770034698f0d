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
    /// @notice The longer expiry's smile cannot be proven at or above the shorter one's at every k
    /// (`checkCalendar`): the certified lower bound of w_longer − w_shorter is lowest, and negative,
    /// near `k`, where the smiles' total variances are `shorterWad` and `longerWad`.
    error SviCalendarArbitrage(int256 k, int256 shorterWad, int256 longerWad);
    /// @notice A wing of the longer expiry's smile rises more slowly than the shorter one's, so far
    /// enough out total variance falls with expiry: slopes b·(1 + ρ) (`rightWing`, k → +∞) or
    /// b·(1 − ρ) (k → −∞), WAD.
    error SviCalendarWingArbitrage(bool rightWing, int256 shorterSlopeWad, int256 longerSlopeWad);
    /// @notice The new smile cannot be proven within the allowed ratio of the previous one at every
    /// k (`checkChange`, annualised): the certified bound fails near `k`, where the previous and new
    /// total variances are `previousWad` and `nextWad`.
    error SviChangeTooLarge(int256 k, int256 previousWad, int256 nextWad);
    /// @notice A wing's slope, b·(1 + ρ) (`rightWing`) or b·(1 − ρ) (reported in total variance, WAD),
    /// annualised by its smile's time to expiry plus the floor's, moved by more than the allowed
    /// ratio, so far enough out the annualised variance does too.
    error SviChangeWingTooLarge(bool rightWing, int256 previousSlopeWad, int256 nextSlopeWad);
    /// @notice Volatility asked for at or after expiry.
    error SviZeroTime();

    int256 private constant WAD = 1e18;
    uint256 private constant YEAR = 365 days;
    /// @dev Bound on every parameter's magnitude (2**64), and on |k| (2**72).
    uint256 private constant PARAM_LIMIT = 1 << 64;
    uint256 private constant K_LIMIT = 1 << 72;
    /// @notice The change rule's floor, an annualised variance: F(k) = CHANGE_FLOOR_VAR_WAD·(1 + |k|),
    /// (5 %)² = 0.0025 at the money, added to the annualised variance w / τ of each smile (τ its time
    /// to expiry) so that a smile touching 0, or a flat wing, can move. The rule bounds the ratio of
    /// w / τ + F, so the floor means the same vol at every expiry (review rv17c H1).
    int256 internal constant CHANGE_FLOOR_VAR_WAD = 0.0025e18;
    /// @notice Longest time to expiry `checkChange` takes (2**26 − 1 s, about 776 days; the oracle's
    /// are at most 365 days and an hour), which keeps its arithmetic in range.
    uint256 internal constant MAX_CHANGE_TAU = (1 << 26) - 1;
    /// @dev `checkChange`'s ratio is below this (the oracle's is at most 64e18).
    uint256 private constant MAX_CHANGE_RATIO = 1 << 66;

    /// @notice Confidence below which the bounded-change allowance stops growing: at or below it a
    /// post may move annualised variance (plus the floor) by 4× the governed ratio
    /// (`allowedChangeRatio`).
    uint256 internal constant CHANGE_CONFIDENCE_FLOOR_WAD = 0.25e18;

    /// @notice k = ln(strike / spot), WAD: minus `BlackScholes.lnMoneyness(spot, strike)` (Solady's
    /// lnWad on S·1e36/K, ~1 wei). Same domain: 0 < spot < 2**120, 0 < strike < 2**119.
    function logMoneyness(uint256 spotWad, uint256 strikeWad) internal pure returns (int256) {
        return -BlackScholes.lnMoneyness(spotWad, strikeWad);
    }

    /// @notice Total variance w(k), WAD, rounded down. May be negative for inadmissible parameters
    /// (and by a wei at the minimum of an admissible smile that touches 0).
    function totalVariance(Params memory p, int256 k) internal pure returns (int256 w) {
        return totalVariance(p.a, p.b, p.rho, p.m, p.sigma, k);
    }

    /// @notice `totalVariance` of the smile (a, b, ρ, m, σ) given on the stack, for a caller that
    /// holds the parameters elsewhere and would otherwise allocate a `Params` per evaluation.
    function totalVariance(
        int256 a,
        int256 b,
        int256 rho,
        int256 m,
        int256 sigma,
        int256 k
    ) internal pure returns (int256 w) {
        if ((_abs(a) | _abs(b) | _abs(rho) | _abs(m) | _abs(sigma)) >= PARAM_LIMIT) revert SviInputOutOfRange();
        if (_abs(k) >= K_LIMIT) revert SviInputOutOfRange();
        // Bounds: |x| < 2**73, x² + σ² < 2**147, times 1e18 (< 2**60) < 2**207; |ρ·x| < 2**137;
        // |inner27| ≤ √(2**207) + 2**128 < 2**105; |b·inner27| < 2**169. Nothing overflows.
        unchecked {
            int256 x = k - m;
            uint256 root27 = FixedPointMathLib.sqrt(uint256(x * x + sigma * sigma) * 1e18);
            // √(x² + σ²) ≥ |x| ≥ |ρ·x|, so inner27 ≥ 0 when |ρ| ≤ 1 (the sdiv truncates towards zero).
            int256 inner27 = int256(root27) + (rho * x) / 1e9;
            // Signed, truncating towards zero: the floor whenever b ≥ 0 (every admissible smile).
            w = a + (b * inner27) / 1e27;
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

    /// @notice Reverts unless the longer expiry's smile is at or above the shorter one's at every k
    /// (calendar no-arbitrage, r = 0), proven by `_dominance` (docs/vol-surface.md, "Calendar and
    /// change at every k"). Both smiles must be admissible (`checkAdmissible`).
    function checkCalendar(Params memory shorter, Params memory longer) internal pure {
        uint256 delta = _shapeDistance(longer, shorter);
        (int256 e0, int256 e1, int256 xStar) = _dominance(longer, shorter, WAD, 0, delta);
        if (e0 < 0 || e1 < 0) {
            bool right = e0 < 0;
            revert SviCalendarWingArbitrage(right, _slope(shorter, right), _slope(longer, right));
        }
        if (xStar != type(int256).max) {
            int256 k = _clampK(longer.m + xStar);
            revert SviCalendarArbitrage(k, totalVariance(shorter, k), totalVariance(longer, k));
        }
    }

    /// @notice Reverts unless, at every k, the annualised variance plus the floor moved by at most
    /// the factor `maxRatioWad` (≥ 1e18) either way, each smile annualised by its own time to expiry
    /// τ (seconds, expiry minus the post's timestamp; `previousTau`, `nextTau`), with the floor
    /// F(k) = `CHANGE_FLOOR_VAR_WAD`·(1 + |k|):
    ///
    ///     w'/τ' + F ≤ ratio·(w/τ + F)   and   w/τ + F ≤ ratio·(w'/τ' + F),
    ///
    /// proven by `_dominance` in both directions (docs/vol-surface.md, "Bounded change"). An honest
    /// decay of total variance towards expiry at a constant vol cancels; the floor is the same vol
    /// at every expiry (rv17c H1). Far out this bounds each wing's annualised slope b·(1 ± ρ)/τ plus
    /// the floor's by the ratio. Both smiles must be admissible. A τ of 0 reverts `SviZeroTime` (the
    /// oracle never passes one: a stored surface predates the post, which predates its expiry); a
    /// τ above `MAX_CHANGE_TAU`, or a ratio below 1e18 or from 2**66, reverts `SviInputOutOfRange`.
    /// Each direction is `_changeBound`.
    function checkChange(
        Params memory previous,
        Params memory next,
        uint256 maxRatioWad,
        uint256 previousTau,
        uint256 nextTau
    ) internal pure {
        if (previousTau == 0 || nextTau == 0) revert SviZeroTime();
        if (
            previousTau > MAX_CHANGE_TAU ||
            nextTau > MAX_CHANGE_TAU ||
            maxRatioWad < uint256(WAD) ||
            maxRatioWad >= MAX_CHANGE_RATIO
        ) revert SviInputOutOfRange();
        uint256 delta = _shapeDistance(previous, next);
        // Up: the previous smile bounds the next one; then down, with the roles swapped.
        (int256 e0, int256 e1, int256 xStar) = _changeBound(previous, next, maxRatioWad, previousTau, nextTau, delta);
        int256 m = previous.m;
        if (e0 >= 0 && e1 >= 0 && xStar == type(int256).max) {
            (e0, e1, xStar) = _changeBound(next, previous, maxRatioWad, nextTau, previousTau, delta);
            m = next.m;
        }
        if (e0 < 0 || e1 < 0) {
            bool right = e0 < 0;
            revert SviChangeWingTooLarge(right, _slope(previous, right), _slope(next, right));
        }
        if (xStar != type(int256).max) {
            int256 k = _clampK(m + xStar);
            revert SviChangeTooLarge(k, totalVariance(previous, k), totalVariance(next, k));
        }
    }

    /// @dev One direction of `checkChange`: h/τ_h + F ≤ ratio·(g/τ_g + F) at every k, F the floor
    /// (1 + |k|)·`CHANGE_FLOOR_VAR_WAD` per 365 days. Times τ_h when τ_h ≤ τ_g, else times τ_g,
    /// with τ = min(τ_g, τ_h) and D = `_dominance`'s form:
    ///
    ///     (ratio·τ_h/τ_g)·g − h + (ratio − 1)·F·τ·(1 + |k|) ≥ 0      (τ_h ≤ τ_g)
    ///     ratio·g − (τ_g/τ_h)·h + (ratio − 1)·F·τ·(1 + |k|) ≥ 0      (τ_h > τ_g)
    ///
    /// A positive factor on a smile scales its (a, b), which the proof allows, and keeps every factor
    /// ≤ ratio (so `_dominance`'s bounds hold). Rounding, against the poster: g's factor and the lift
    /// down, h's factor up and its scaled a and b up (towards +∞), since admissible g and h are ≥ 0
    /// at every k, b multiplies a non-negative term, and 1 + |k| > 0. τ ≤ 2**26 and ratio < 2**66,
    /// so the lift < 4e35 in 1e36 (below).
    function _changeBound(
        Params memory g,
        Params memory h,
        uint256 ratio,
        uint256 tauG,
        uint256 tauH,
        uint256 delta
    ) private pure returns (int256, int256, int256) {
        unchecked {
            uint256 tau = tauH < tauG ? tauH : tauG;
            int256 lift = int256(((ratio - uint256(WAD)) * uint256(CHANGE_FLOOR_VAR_WAD) * tau) / YEAR);
            if (tauH <= tauG) return _dominance(g, h, int256((ratio * tauH) / tauG), lift, delta);
            int256 s = int256((tauG * uint256(WAD) + tauH - 1) / tauH); // τ_g/τ_h, WAD, rounded up, ≤ 1e18
            Params memory hs = Params(_mulUp(h.a, s), _mulUp(h.b, s), h.rho, h.m, h.sigma);
            return _dominance(g, hs, int256(ratio), lift, delta);
        }
    }

    /// @dev x·s / 1e18 rounded towards +∞, for |x| < 2**64 and 0 < s ≤ 1e18 (sdiv truncates a
    /// negative towards zero, i.e. up).
    function _mulUp(int256 x, int256 s) private pure returns (int256) {
        unchecked {
            int256 p = x * s;
            return p > 0 ? (p - 1) / WAD + 1 : p / WAD;
        }
    }

    /// @dev Proves D(k) = ratio·g(k) − h(k) + L·(1 + |k|) ≥ 0 at every k, for raw-SVI g and h
    /// with b ≥ 0 (admissible, or one scaled by `_changeBound`), a factor 0 ≤ `ratio` < 2**66 (WAD),
    /// a lift `lift` = L ≥ 0 (1e36, < 4e35; 0 for the calendar, where ratio is 1e18) and
    /// `delta` ≥ √((m_g − m_h)² + (σ_g − σ_h)²). With x = k − m_g, R_g = √(x² + σ_g²) and
    /// R_h = √((x + m_g − m_h)² + σ_h²), the triangle inequality in the plane gives R_h ≤ R_g + δ
    /// (and R_h ≥ R_g − δ, which the bound cannot use) and |k| = |x + m_g| ≥ R_g − σ_g − |m_g|;
    /// h's other terms are exact in x. With L ≥ 0 and b_h ≥ 0:
    ///
    ///     D(k) ≥ A0 + C·x + B·R_g(x),
    ///     A0 = ratio·a_g − a_h − b_h·ρ_h·(m_g − m_h) − b_h·δ + L·(1 − σ_g − |m_g|),
    ///     B  = ratio·b_g − b_h + L,   C = ratio·b_g·ρ_g − b_h·ρ_h.
    ///
    /// As x → ±∞ the right side grows like (B ± C)·|x|, as D does; if B ≥ |C| its minimum over all
    /// x is A0 + σ_g·√(B² − C²), at x* = −C·σ_g / √(B² − C²). So D ≥ 0 everywhere when
    /// B + C ≥ 0 and B − C ≥ 0 (the wings: for the calendar exactly the condition for D ≥ 0 far out)
    /// and A0 + σ_g·√((B + C)(B − C)) ≥ 0. For the calendar the bound is exact when g and h share m
    /// and σ (δ = 0: e.g. the same smile rescaled) and otherwise errs by at most 2·b_h·δ, against
    /// the poster: the bound takes R_h at R_g + δ where it may be as low as R_g − δ (rv17c H3; e.g.
    /// same m, ρ = 0, b_g = 2·b_h, σ_g = 0.2, σ_h = 0.1: true min D = Δa + 0.3·b_h at k = m, bound
    /// Δa + 0.1·b_h). The change's floor term adds at most L·|m_g| more.
    ///
    /// Units and rounding, all against the poster: A0 in 1e36 (the ρ·Δm and floor terms rounded
    /// up, δ rounded up by the caller), B ± C in 1e54 (exact), each divided to 1e36 rounded down
    /// before the product, its square root rounded down, σ_g times it rounded down. Bounds:
    /// parameters in range, so |a|, |m|, σ < 2**64, 0 ≤ b ≤ 2e18 < 2**61, |ρ| < 1e18 < 2**60,
    /// b·(1 ± ρ) ≤ 2e36; ratio < 2**66 (7.4e19); L < 4e35; δ < 2**66. Then ratio·a_g < 2**130,
    /// b_h·ρ_h·Δm < 2**186, b_h·δ < 2**127, L·(σ_g + |m_g|) < 2**184; B ± C ≥ 0 is < ratio·2e36 +
    /// L·1e18 < 1.5e56 in 1e54, < 1.5e38 once divided, so their product < 2.3e76 < 2**256;
    /// σ_g·root < 2**192; |C| < 2**187, so |C|/2e18·σ_g < 2**191. Nothing overflows.
    /// @return e0 B + C in 1e54: the right wing, refused when < 0.
    /// @return e1 B − C in 1e54: the left wing, refused when < 0.
    /// @return xStar `type(int256).max` when D ≥ 0 is proven, else where the bound is lowest,
    /// x* = k − m_g (WAD; 0 when B = |C|).
    function _dominance(
        Params memory g,
        Params memory h,
        int256 ratio,
        int256 lift,
        uint256 delta
    ) private pure returns (int256 e0, int256 e1, int256 xStar) {
        unchecked {
            e0 = ratio * g.b * (WAD + g.rho) - WAD * h.b * (WAD + h.rho) + lift * WAD;
            e1 = ratio * g.b * (WAD - g.rho) - WAD * h.b * (WAD - h.rho) + lift * WAD;
            if (e0 < 0 || e1 < 0) return (e0, e1, 0);
            int256 a0 = ratio * g.a - WAD * h.a - h.b * int256(delta) + lift;
            {
                // Both rounded up: sdiv truncates a negative towards zero, i.e. up.
                int256 rhoDm = h.b * h.rho * (g.m - h.m);
                a0 -= rhoDm > 0 ? (rhoDm - 1) / WAD + 1 : rhoDm / WAD;
                a0 -= (lift * (g.sigma + int256(_abs(g.m))) + (WAD - 1)) / WAD;
            }
            uint256 root = FixedPointMathLib.sqrt((uint256(e0) / 1e18) * (uint256(e1) / 1e18));
            if (a0 + int256((uint256(g.sigma) * root) / 1e18) >= 0) return (e0, e1, type(int256).max);
            // Where the bound is lowest: −C·σ_g / √(B² − C²), C = (e0 − e1) / 2 in 1e54.
            xStar = root == 0 ? int256(0) : -(((e0 - e1) / 2e18) * g.sigma) / int256(root);
        }
    }

    /// @dev √((m_a − m_b)² + (σ_a − σ_b)²), WAD, rounded up. Parameters in range: each difference
    /// < 2**65, the sum of squares < 2**131.
    function _shapeDistance(Params memory x, Params memory y) private pure returns (uint256 d) {
        unchecked {
            int256 dm = x.m - y.m;
            int256 ds = x.sigma - y.sigma;
            uint256 q = uint256(dm * dm + ds * ds);
            d = FixedPointMathLib.sqrt(q);
            if (d * d < q) ++d;
        }
    }

    /// @dev A wing's slope of w, b·(1 ± ρ), WAD, rounded down.
    function _slope(Params memory p, bool right) private pure returns (int256) {
        return (p.b * (right ? WAD + p.rho : WAD - p.rho)) / WAD;
    }

    /// @dev k clamped inside `totalVariance`'s domain, for an error's report.
    function _clampK(int256 k) private pure returns (int256) {
        int256 limit = int256(K_LIMIT) - 1;
        return k > limit ? limit : (k < -limit ? -limit : k);
    }

    /// @notice The factor a post of confidence `confidenceWad` may move annualised variance (plus the
    /// floor) by, from the governed `ratioWad`: ratio / max(confidence, 0.25), rounded down. Full confidence gets the
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

    /// @notice The factor a post may move annualised variance (plus the floor) by, `elapsed` seconds
    /// after the surface in force: R(c)^(elapsed / CHANGE_PERIOD), with R(c) = `allowedChangeRatio(ratioWad, c)`, and
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
