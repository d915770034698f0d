// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

/// @title BlackScholes
/// @notice Black–Scholes prices and Greeks of European options with zero rates, in WAD (1e18).
/// @dev Conventions: r = 0, no dividends, a year is 365 days, vega is per 1.0 (100 %) of volatility.
///
/// Supported domain (every input checked against a 60-digit reference, see docs/black-scholes.md):
/// spot 1e18..1e24, strike 0.2e18..4.2e24, secondsToExpiry 0..63,072,000 (2 years),
/// vol 1e14 (0.01 %)..18e18 (1800 %). Inside it nothing reverts. Zero spot, strike, time or vol
/// give the intrinsic value. The only revert is `BlackScholesInputOutOfRange`, far outside the
/// domain (spot ≥ 2**120 ≈ 1.3e36, strike ≥ 2**119, vol ≥ 2**72 ≈ 4.7e21, seconds ≥ 2**40), where
/// the unchecked arithmetic would no longer be provably overflow-free.
///
/// Why Solady's `FixedPointMathLib` and not PRBMath: Solady's `expWad` and `lnWad` are single
/// (6,7) and (8,8) rational approximations in 2**96 fixed point, about 1 wei accurate, at ~390 and
/// ~500 gas. PRBMath's `ln` runs a bit-by-bit `log2` loop (one squaring per fractional bit) and its
/// `exp` goes through `exp2`'s per-bit multiplications, so each costs several times more while
/// truncating at every step, i.e. it is no more accurate in the last digits. (PRBMath is not a
/// dependency here, so this is from its source, not a benchmark.)
///
/// Normal CDF, hand-written, N(d) = erfc(−d/√2)/2, in y = |d|/√2:
///   y ≤ 2            erf(y) = y·P7(y²/4)/Q7(y²/4)         fitted here, Q96      abs   < 2e-18
///   2 < y ≤ 3        erfc(y) = P8(y − 2)/Q8(y − 2)        fitted here, Q96      rel   < 2.5e-16
///   3 < y ≤ 6.5      y·erfcx(y) = P4(t)/Q4(t), t = 1/y² − 1/42.25, fitted here, Q96  rel < 9.2e-15
///   y > 6.5          erfcx(y) = (1/√π − z·P5(z)/Q5(z))/y, z = 1/y², Cody (1969)  rel   < 6e-19
/// with erfcx(y) = erfc(y)·e^(y²). Cody: "Rational Chebyshev approximations for the error
/// function", Math. Comp. 23 (1969) 631–637, coefficients of netlib SPECFUN `CALERF`. The three
/// fitted rationals (weighted least squares iterated towards minimax in 60-digit arithmetic)
/// replace Cody's first interval and his 8/8 middle one: up to |d| = 3√2 N needs no exponential,
/// which covers most listed options, and each interval is cheap. Errors were checked in 50-digit arithmetic on dense
/// grids, including the fixed-point evaluation; the absolute error of N is a few 1e-18.
///
/// One exponential serves both N(d1) and N(d2): with y_i = d_i/√2 and m = ln(S/K),
/// y1² − y2² = m, so K·e^(−y2²) = S·e^(−y1²). Every tail term is therefore S·e^(−y1²)/2 times
/// erfcx(|y|) = erfc(|y|)·e^(y²); it never multiplies a rounding error by K/S and never needs a
/// second `expWad`.
library BlackScholes {
    /// @notice An input is beyond the range where the arithmetic is proven not to overflow
    /// (spot ≥ 2**120, strike ≥ 2**119, vol ≥ 2**72 WAD or secondsToExpiry ≥ 2**40).
    error BlackScholesInputOutOfRange(uint256 spotWad, uint256 strikeWad, uint256 secondsToExpiry, uint256 volWad);

    uint256 private constant WAD = 1e18;
    uint256 private constant YEAR = 365 days;

    /// @dev ln(1e18) in WAD, rounded to nearest: ln(S/K) = lnWad(S·1e36/K) − ln(1e18) keeps 36
    /// digits of the ratio, so ln(S/K) is ~1 wei accurate for every strike/spot ratio.
    int256 private constant LN_1E18 = 41446531673892822312;
    /// @dev 1/√(2π) in WAD (1/√π = 564189583547756287 appears as a literal in `terms`).
    uint256 private constant INV_SQRT_2PI = 398942280401432678;
    /// @dev Up to |y| = 3 (WAD) N needs no exponential: erf up to 2, then erfc directly.
    uint256 private constant Y_NO_EXP = 3e18;

    /// @notice Price of a call.
    /// @dev C = S·N(d1) − K·N(d2), clamped to [max(S − K, 0), S]. `_ys` is written out in place,
    /// so that the only internal calls on the way are Solady's `sqrt`, `lnWad` and `expWad` and
    /// `terms` (`putPrice` and `prices` call this function: a wrapper would cost a call).
    // Written out in one body to save internal calls (docs/black-scholes.md, "Gas").
    // solhint-disable-next-line function-max-lines
    function callPrice(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) internal pure returns (uint256 price) {
        // `_ys`' guard; every product below is then bounded (see `_volTerm`, `_lnMoneyness`).
        if ((spotWad >> 120) | (strikeWad >> 119) | (volWad >> 72) | (secondsToExpiry >> 40) != 0) {
            revert BlackScholesInputOutOfRange(spotWad, strikeWad, secondsToExpiry, volWad);
        }
        uint256 s27;
        /// @solidity memory-safe-assembly
        assembly {
            // Start from the intrinsic value max(S − K, 0), the lower clamp.
            price := mul(gt(spotWad, strikeWad), sub(spotWad, strikeWad))
            // 2σ²T in 1e54, as `_volTerm`; 0 also when spot or strike is 0 (spot·strike < 2**239).
            s27 := mul(
                iszero(iszero(mul(spotWad, strikeWad))),
                div(mul(mul(mul(volWad, volWad), secondsToExpiry), 2000000000000000000), YEAR)
            )
        }
        if (s27 == 0) return price;
        s27 = FixedPointMathLib.sqrt(s27);
        int256 m;
        /// @solidity memory-safe-assembly
        assembly {
            // As `_lnMoneyness` (in assembly: no division-by-zero check, strike ≠ 0 here).
            m := div(mul(spotWad, 1000000000000000000000000000000000000), strikeWad)
        }
        // S·1e36/K ≥ 1, and ln(S/K) ∈ (−84e18, 84e18).
        unchecked {
            m = FixedPointMathLib.lnWad(m) - LN_1E18;
        }
        int256 y1;
        int256 y2;
        /// @solidity memory-safe-assembly
        assembly {
            // As `_ysFromParts`: |m·1e27| < 2**190, 0 < s27 < 2**123.
            y1 := add(sdiv(mul(m, 1000000000000000000000000000), s27), div(s27, 4000000000))
            y2 := sub(y1, div(s27, 2000000000))
        }
        (uint256 t1, uint256 t2) = terms(spotWad, strikeWad, y1, y2);
        /// @solidity memory-safe-assembly
        assembly {
            // Clamp to the no-arbitrage bounds; each term is within a few wei of its exact value.
            let c := mul(gt(t1, t2), sub(t1, t2))
            if gt(c, price) {
                price := c
            }
            if gt(price, spotWad) {
                price := spotWad
            }
        }
    }

    /// @notice `callPrice` given `lnMoneynessWad` = `lnMoneyness(spotWad, strikeWad)`, for a caller that
    /// needs ln(S/K) too (the engine's smile reads k = −ln(S/K)): the same price to the wei, and the
    /// same revert (`callPrice`'s guard and arguments), but one `lnWad` instead of two.
    function callPriceLn(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad,
        int256 lnMoneynessWad
    ) internal pure returns (uint256) {
        if ((spotWad >> 120) | (strikeWad >> 119) | (volWad >> 72) | (secondsToExpiry >> 40) != 0) {
            revert BlackScholesInputOutOfRange(spotWad, strikeWad, secondsToExpiry, volWad);
        }
        uint256 s27 = _volTerm(volWad, secondsToExpiry);
        bool live = s27 != 0 && spotWad != 0 && strikeWad != 0;
        int256 y1;
        int256 y2;
        // As `_ys`, with ln(S/K) supplied; one call of `_callFromYs` (each call is a copy of the CDF
        // once inlined).
        if (live) (y1, y2) = _ysFromParts(lnMoneynessWad, s27);
        return _callFromYs(spotWad, strikeWad, y1, y2, live);
    }

    /// @notice Price of a put, by put–call parity (exact in integers: P = C − S + K).
    function putPrice(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) internal pure returns (uint256) {
        // The call is clamped to [max(S − K, 0), S], so C + K − S lies in [max(K − S, 0), K].
        unchecked {
            return callPrice(spotWad, strikeWad, secondsToExpiry, volWad) + strikeWad - spotWad;
        }
    }

    /// @notice Call and put prices together.
    function prices(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) internal pure returns (uint256 call, uint256 put) {
        call = callPrice(spotWad, strikeWad, secondsToExpiry, volWad);
        // Same bound as in `putPrice`: no underflow.
        unchecked {
            put = call + strikeWad - spotWad;
        }
    }

    /// @notice Call delta N(d1), in [0, 1e18]. At expiry (or zero vol): 1e18 if spot > strike, else 0.
    function callDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) internal pure returns (uint256) {
        (int256 y1, , bool live) = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
        if (!live) return spotWad > strikeWad ? WAD : 0;
        return _delta(y1);
    }

    /// @notice Put delta N(d1) − 1, in [−1e18, 0]. At expiry (or zero vol): −1e18 if spot < strike, else 0.
    function putDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) internal pure returns (int256) {
        (int256 y1, , bool live) = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
        if (!live) return spotWad < strikeWad ? -int256(WAD) : int256(0);
        // N(d1) ≤ 1e18, so the difference is in [−1e18, 0].
        unchecked {
            return int256(_delta(y1)) - int256(WAD);
        }
    }

    /// @notice Vega S·φ(d1)·√T per 1.0 of volatility; 0 at expiry or zero vol.
    function vega(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) internal pure returns (uint256) {
        (int256 y1, , bool live) = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
        if (!live) return 0;
        // φ(d1) = e^(−d1²/2)/√(2π) = e^(−y1²)/√(2π); √T in 1e27 for precision at short expiries.
        // Bounds from `_ys`' guard: t < 2**40 so t·1e54 < 2**220 and √T·1e27 < 2**98;
        // S·φ(d1) < 2**120 · 2**60 / 1e18 < 2**120, times 2**98: no overflow.
        unchecked {
            uint256 sqrtT27 = FixedPointMathLib.sqrt((secondsToExpiry * 1e54) / YEAR);
            uint256 spotPhi = (((spotWad * _expNegSq(y1)) / WAD) * INV_SQRT_2PI) / WAD;
            return (spotPhi * sqrtT27) / 1e27;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Scenario pricing: one series revalued at many (spot, vol) points. ln(S/K) and σ√(2T) are
    // computed once per series and per vol level; a spot shock then only shifts ln(S/K).
    // ---------------------------------------------------------------------------------------------

    /// @notice ln(S/K) in WAD, as `callPriceAt` takes it. Spot and strike must be non-zero.
    function lnMoneyness(uint256 spotWad, uint256 strikeWad) internal pure returns (int256) {
        if ((spotWad >> 120) | (strikeWad >> 119) != 0 || spotWad == 0 || strikeWad == 0) {
            revert BlackScholesInputOutOfRange(spotWad, strikeWad, 0, 0);
        }
        return _lnMoneyness(spotWad, strikeWad);
    }

    /// @notice σ·√(2T) in 1e27, as `callPriceAt` takes it; 0 when σ²·T rounds to 0.
    function volTerm(uint256 volWad, uint256 secondsToExpiry) internal pure returns (uint256) {
        if ((volWad >> 72) | (secondsToExpiry >> 40) != 0) {
            revert BlackScholesInputOutOfRange(0, 0, secondsToExpiry, volWad);
        }
        return _volTerm(volWad, secondsToExpiry);
    }

    /// @notice Price of a call from precomputed parts: `lnMoneynessWad` = ln(S/K) (shifted by
    /// ln(1 + shock) for a shocked spot) and `volTerm27` = σ√(2T) in 1e27. Equals `callPrice` up
    /// to the rounding of those parts; the intrinsic value when `volTerm27` is 0.
    function callPriceAt(
        uint256 spotWad,
        uint256 strikeWad,
        int256 lnMoneynessWad,
        uint256 volTerm27
    ) internal pure returns (uint256) {
        uint256 absM = uint256(lnMoneynessWad < 0 ? -lnMoneynessWad : lnMoneynessWad);
        if ((spotWad >> 120) | (strikeWad >> 119) | (volTerm27 >> 123) | (absM >> 100) != 0) {
            revert BlackScholesInputOutOfRange(spotWad, strikeWad, 0, volTerm27);
        }
        bool live = volTerm27 != 0 && spotWad != 0 && strikeWad != 0;
        int256 y1;
        int256 y2;
        // One call site of `_callFromYs`, which carries the CDF (smaller where it is inlined).
        if (live) (y1, y2) = _ysFromParts(lnMoneynessWad, volTerm27);
        return _callFromYs(spotWad, strikeWad, y1, y2, live);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev The call price from y1 = d1/√2 and y2 = d2/√2 (as `callPriceAt` makes them from ln(S/K)
    /// and σ√(2T)); the intrinsic value when not `live`. No guard: its callers (`callPriceLn`,
    /// `callPriceAt`) check spot < 2**120, strike < 2**119, and, when `live`, non-zero spot and
    /// strike and ys from |ln(S/K)| < 2**100 and 0 < σ√(2T) < 2**123.
    function _callFromYs(
        uint256 spotWad,
        uint256 strikeWad,
        int256 y1,
        int256 y2,
        bool live
    ) private pure returns (uint256 price) {
        /// @solidity memory-safe-assembly
        assembly {
            // Start from the intrinsic value max(S − K, 0), the lower clamp.
            price := mul(gt(spotWad, strikeWad), sub(spotWad, strikeWad))
        }
        if (!live) return price;
        (uint256 t1, uint256 t2) = terms(spotWad, strikeWad, y1, y2);
        /// @solidity memory-safe-assembly
        assembly {
            // As in `callPrice`.
            let c := mul(gt(t1, t2), sub(t1, t2))
            if gt(c, price) {
                price := c
            }
            if gt(price, spotWad) {
                price := spotWad
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev y1 = d1/√2 and y2 = d2/√2 in WAD; `live` is false when σ²·T rounds to 0 (expiry, zero
    /// vol) or spot or strike is 0, where the option is worth its intrinsic value.
    function _ys(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 secondsToExpiry,
        uint256 volWad
    ) private pure returns (int256 y1, int256 y2, bool live) {
        // One guard replaces per-operation overflow checks: every product below is then bounded.
        if ((spotWad >> 120) | (strikeWad >> 119) | (volWad >> 72) | (secondsToExpiry >> 40) != 0) {
            revert BlackScholesInputOutOfRange(spotWad, strikeWad, secondsToExpiry, volWad);
        }
        uint256 s27 = _volTerm(volWad, secondsToExpiry);
        live = s27 != 0 && spotWad != 0 && strikeWad != 0;
        if (!live) return (0, 0, false);
        (y1, y2) = _ysFromParts(_lnMoneyness(spotWad, strikeWad), s27);
    }

    /// @dev σ·√(2T) in 1e27, 0 when σ²·T rounds to 0. Needs vol < 2**72 and t < 2**40.
    function _volTerm(uint256 volWad, uint256 secondsToExpiry) private pure returns (uint256 s27) {
        /// @solidity memory-safe-assembly
        assembly {
            // 2σ²T in 1e54: vol < 2**72, t < 2**40 so vol²·t·2e18 < 2**245, no overflow.
            s27 := div(mul(mul(mul(volWad, volWad), secondsToExpiry), 2000000000000000000), YEAR)
        }
        // Its square is ≥ 1 when non-zero, so a non-zero s27 is ≥ 1 (and < 2**123).
        if (s27 != 0) s27 = FixedPointMathLib.sqrt(s27);
    }

    /// @dev ln(S/K) in WAD. Needs 0 < spot < 2**120 and 0 < strike < 2**119.
    function _lnMoneyness(uint256 spotWad, uint256 strikeWad) private pure returns (int256 m) {
        uint256 ratio;
        /// @solidity memory-safe-assembly
        assembly {
            // S·1e36/K: spot < 2**120 so no overflow; strike ≠ 0 and strike < 2**119 < 1e36,
            // so the ratio is ≥ 1 and lnWad is defined.
            ratio := div(mul(spotWad, 1000000000000000000000000000000000000), strikeWad)
        }
        // ln(S/K) = lnWad(S·1e36/K) − ln(1e18) ∈ (−84e18, 84e18): no overflow.
        unchecked {
            m = FixedPointMathLib.lnWad(int256(ratio)) - LN_1E18;
        }
    }

    /// @dev y1 = m/s' + s'/4, y2 = y1 − s'/2 with s' = σ√(2T) in WAD (s27 / 1e9).
    /// Needs |m| < 2**100 and 0 < s27 < 2**123.
    function _ysFromParts(int256 m, uint256 s27) private pure returns (int256 y1, int256 y2) {
        /// @solidity memory-safe-assembly
        assembly {
            // |m·1e27| < 2**190 and 0 < s27 < 2**123: no overflow, no division by zero.
            y1 := add(sdiv(mul(m, 1000000000000000000000000000), s27), div(s27, 4000000000))
            y2 := sub(y1, div(s27, 2000000000))
        }
    }

    /// @dev N(d1) in WAD: the first of `terms` with x1 = 1e18 (y2 = y1 so that `terms` sees the
    /// tail of y1 on either side; the second term is not used).
    function _delta(int256 y1) private pure returns (uint256 n) {
        (n, ) = terms(WAD, 0, y1, y1);
    }

    /// @dev e^(−y²) in WAD (0 once it is below 0.5e-18, i.e. for |y| > 6.44).
    function _expNegSq(int256 y) private pure returns (uint256) {
        int256 x;
        /// @solidity memory-safe-assembly
        assembly {
            let ay := y
            if slt(y, 0) {
                ay := sub(0, y)
            }
            // Beyond |y| = 10 expWad returns 0 anyway; capping keeps ay² < 2**70.
            if gt(ay, 10000000000000000000) {
                ay := 10000000000000000000
            }
            x := sub(0, div(mul(ay, ay), 1000000000000000000))
        }
        return uint256(FixedPointMathLib.expWad(x));
    }

    /// @notice t1 = x1·N(y1·√2) and t2 = x2·N(y2·√2) for y1 ≥ y2 in WAD and x1·e^(−y1²) = x2·e^(−y2²)
    /// (true of (S, K, y1, y2), see the library comment; (x, 0, y, y) gives x·N(y·√2) first). Each
    /// within a few wei of exact. Unguarded: for `callPrice`, `_callFromYs` and `_delta`, and for a
    /// caller that keeps `_ys`' bounds itself (the portfolio grid's cells, `PortfolioMath._addCells`).
    /// @dev
    /// Outside |y| ≤ 3 a tail x·N(−|d|) is a·erfcx(|y|) with the shared a = x1·e^(−y1²)/2, so one
    /// `expWad` serves both. The CDF uses the four rational approximations listed in the library
    /// comment, in Horner form, in one Yul function. The arguments are bounded by `_ys`' input
    /// guard (x < 2**120, a < 2**120, |y| < 2**92 whenever a ≠ 0), every intermediate stays below
    /// 2**220, so no operation can overflow; every divisor is a positive constant or a polynomial
    /// that is positive on its interval (negative coefficients are handled with sar).
    // Four Horner evaluations kept in one assembly block to save call overhead.
    // solhint-disable-next-line function-max-lines
    function terms(uint256 x1, uint256 x2, int256 y1, int256 y2) internal pure returns (uint256 t1, uint256 t2) {
        bool needsExp;
        int256 negSq;
        /// @solidity memory-safe-assembly
        assembly {
            // y2 ≤ y1, so some |y| exceeds 3 iff y1 > 3 or y2 < −3. Beyond |y1| = 6.5,
            // e^(−y1²) < 0.5e-18 and expWad would return 0, so a stays 0 without calling it.
            // |y1| < 6.5e18 without |y1|: −6.5e18 < y1 < 6.5e18 iff y1 + (6.5e18 − 1), as an
            // unsigned word, is below 13e18 − 1. Exact for every word (`callPriceLn` takes any
            // ln(S/K), so y1 may be anything): the sum wraps only for −6.5e18 < y1 < 0, to a
            // word below the bound, as it should be (review rv33).
            needsExp := and(
                or(sgt(y1, Y_NO_EXP), slt(y2, sub(0, Y_NO_EXP))),
                lt(add(y1, 6499999999999999999), 12999999999999999999)
            )
            // −y1² in WAD; only used when |y1| < 6.5e18, so no overflow.
            negSq := sub(0, div(mul(y1, y1), 1000000000000000000))
        }
        uint256 a;
        if (needsExp) {
            // The same value as `_expNegSq(y1)`; x1 < 2**120 and e^(−y1²) ≤ 1e18 < 2**60 (in
            // assembly: no division-by-zero check on the constant).
            int256 e = FixedPointMathLib.expWad(negSq);
            /// @solidity memory-safe-assembly
            assembly {
                a := div(mul(x1, e), 2000000000000000000)
            }
        }
        /// @solidity memory-safe-assembly
        assembly {
            // x·N(y·√2), in the units of x.
            function cdf(y, x, aa) -> r {
                let w := 1000000000000000000
                // |y| without a branch: neg is −1 (all ones) for y < 0, else 0.
                let neg := sar(255, y)
                let ay := sub(xor(y, neg), neg)
                if gt(ay, Y_NO_EXP) {
                    // |y| > 3: tail x·N(−|d|) = aa·erfcx(|y|), erfcx(v) = erfc(v)·e^(v²); 0 when aa = 0
                    // (e^(−y1²) below 1 wei).
                    switch gt(ay, 6500000000000000000)
                    case 0 {
                        // 3 < |y| ≤ 6.5: |y|·erfcx(|y|) = P4(t)/Q4(t) with t = 1/y² − 1/42.25 in Q96; a
                        // 4/4 rational fitted for this library (docs/black-scholes.md), relative error
                        // < 9.2e-15 as evaluated here. y² < 2**86, t < 2**93, every coefficient positive
                        // and < 2**92, p, q < 2**98: products < 2**191.
                        let t := sub(
                            div(shl(96, 1000000000000000000000000000000000000), mul(ay, ay)),
                            1875222781402706215231809475
                        )
                        let p := add(shr(96, mul(155437252973615295509400513246, t)), 1304798321326157856696502173029)
                        p := add(shr(96, mul(p, t)), 1482357089107910810148002519389)
                        p := add(shr(96, mul(p, t)), 480574228317368235509037980049)
                        p := add(shr(96, mul(p, t)), 44188466242153221867676347271)
                        let q := add(shr(96, mul(825495316028911953872930786754, t)), 3305673362948311321952007003932)
                        q := add(shr(96, mul(q, t)), 3031913836924853290616915811757)
                        q := add(shr(96, mul(q, t)), 899105370483132233660793721781)
                        q := add(shr(96, mul(q, t)), 79228162514264337593543950336)
                        // aa·p < 2**216; q·|y| < 2**161, over 1e18 it is q·|y| in Q96.
                        r := div(mul(aa, p), div(mul(q, ay), w))
                    }
                    default {
                        // Skipped when aa = 0 (e^(−y1²) below 1 wei: the far-from-the-money case).
                        if aa {
                            // |y| > 6.5: (1/√π − z·P5(z)/Q5(z))/|y| with z = 1/y² ≤ 1/42, Cody's third
                            // interval. |y| < 2**92 so y² < 2**184.
                            let z := div(1000000000000000000000000000000000000000000000000000000, mul(ay, ay))
                            let p := add(div(mul(16315387137302098, z), w), 305326634961232344)
                            p := add(div(mul(p, z), w), 360344899949804439)
                            p := add(div(mul(p, z), w), 125781726111229246)
                            p := add(div(mul(p, z), w), 16083785148742277)
                            p := add(div(mul(p, z), w), 658749161529838)
                            let q := add(z, 2568520192289822420)
                            q := add(div(mul(q, z), w), 1872952849923460470)
                            q := add(div(mul(q, z), w), 527905102951428412)
                            q := add(div(mul(q, z), w), 60518341312441319)
                            q := add(div(mul(q, z), w), 2335204976268692)
                            // z·P/Q < 0.01 < 1/√π: no underflow.
                            r := div(mul(aa, div(mul(sub(564189583547756287, div(mul(z, p), q)), w), ay)), w)
                        }
                    }
                    // N(d) = 1 − N(−d) for d ≥ 0; tail ≤ x/2 up to rounding, floor at 0 regardless.
                    if iszero(neg) {
                        r := mul(gt(x, r), sub(x, r))
                    }
                    leave
                }
                if gt(ay, 2000000000000000000) {
                    // 2 < |y| ≤ 3: tail x·erfc(|y|)/2 with erfc(|y|) = P8(t)/Q8(t), t = |y| − 2, in Q96;
                    // an 8/8 rational fitted for this library (docs/black-scholes.md), relative error
                    // < 2.5e-16 as evaluated here. No exponential. t ≤ 2**96, |coefficients| < 2**97,
                    // |p| < 2**93, q < 2**99: products < 2**195; the numerator alternates in sign,
                    // hence sar, and its negative coefficients are subtracted.
                    let t := div(shl(96, sub(ay, 2000000000000000000)), w)
                    let p := sub(sar(96, mul(719307880124968449636753, t)), 11169853244605158223803703)
                    p := add(sar(96, mul(p, t)), 78656002811769479508054348)
                    p := sub(sar(96, mul(p, t)), 327689292673800749099017308)
                    p := add(sar(96, mul(p, t)), 882353251210572621574655443)
                    p := sub(sar(96, mul(p, t)), 1570538730313422956537843718)
                    p := add(sar(96, mul(p, t)), 1802429998774532949839990387)
                    p := sub(sar(96, mul(p, t)), 1217982394270230153560637485)
                    p := add(sar(96, mul(p, t)), 370608347277071896973105145)
                    let q := add(shr(96, mul(71532578763220771027750558, t)), 543011025663616438668246223)
                    q := add(shr(96, mul(q, t)), 2616896014839299593567061820)
                    q := add(shr(96, mul(q, t)), 8782937284957673256075898318)
                    q := add(shr(96, mul(q, t)), 23793884181551743035889462130)
                    q := add(shr(96, mul(q, t)), 48294278865624733041373975795)
                    q := add(shr(96, mul(q, t)), 81385973716093773897736199486)
                    q := add(shr(96, mul(q, t)), 89664096350697449688182084328)
                    q := add(shr(96, mul(q, t)), 79228162514264337593543950336)
                    // p > 0 on the interval, erfc·2**96 < 2**89, x < 2**120.
                    r := shr(97, mul(x, div(shl(96, p), q)))
                    // N(d) = 1 − N(−d) for d ≥ 0; the tail is < x/400.
                    if iszero(neg) {
                        r := sub(x, r)
                    }
                    leave
                }
                // |y| ≤ 2: N = (1 + erf(y))/2 with |erf(y)| < 0.9954; x·2e18 < 2**181. erf(y) =
                // y·P7(u)/Q7(u) with u = y²/4, in Q96 (2**96) fixed point: a 7/7 rational fitted for
                // this library (see docs/black-scholes.md) on (0.46875, 2], which keeps its accuracy
                // down to 0 (|error| < 9e-19 in exact arithmetic on its interval, < 2 wei as evaluated
                // here on [0, 2]). u ≤ 2**96, every coefficient positive and < 2**97, so products
                // stay below 2**194.
                let u := div(shl(96, mul(y, y)), 4000000000000000000000000000000000000)
                let p := add(shr(96, mul(3056082567493734882325234, u)), 202802513794107733835081599)
                p := add(shr(96, mul(p, u)), 1166733370040956935932396475)
                p := add(shr(96, mul(p, u)), 8787858159205491442634146462)
                p := add(shr(96, mul(p, u)), 19400663701840897310889210122)
                p := add(shr(96, mul(p, u)), 68692599910441041277498586525)
                p := add(shr(96, mul(p, u)), 55858976854376255562215425059)
                p := add(shr(96, mul(p, u)), 89399408028353505825348420527)
                let q := add(shr(96, mul(81628241140675216975048302, u)), 1061654988537655190255819854)
                q := add(shr(96, mul(q, u)), 6898333752166791273983496603)
                q := add(shr(96, mul(q, u)), 28282551432574324538413624313)
                q := add(shr(96, mul(q, u)), 77652253149165503737251790826)
                q := add(shr(96, mul(q, u)), 140967210711297384671318224748)
                q := add(shr(96, mul(q, u)), 155141279335609975782564447073)
                q := add(shr(96, mul(q, u)), 79228162514264337593543950336)
                // |y·p| < 2**61 · 2**98; q ≥ 2**96 > 0.
                let e := sdiv(mul(y, p), q)
                r := div(mul(x, add(w, e)), 2000000000000000000)
            }
            t1 := cdf(y1, x1, a)
            t2 := cdf(y2, x2, a)
        }
    }
}
