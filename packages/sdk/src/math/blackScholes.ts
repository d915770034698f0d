/**
 * Line-for-line port of `contracts/libraries/BlackScholes.sol`: Black–Scholes prices and Greeks
 * with zero rates, in WAD. Same names, same arguments, same rounding at every step; the inline
 * assembly CDF is copied opcode for opcode through `./evm.ts`. Results equal the chain's to the
 * wei (checked by `test/sdk/blackScholes.parity.test.ts`); see `docs/black-scholes.md` for the
 * method and the supported domain.
 *
 * Internally every value is an EVM word (a `bigint` in [0, 2**256)); `int256` values are read
 * with `signed` where Solidity would compare or return them as signed.
 */
import { MIN_INT256, add, div, gt, iszero, mul, or, sar, sdiv, sgt, shl, shr, signed, slt, sub, word } from "./evm.js";
import { MathError, MathOverflowError, assertType } from "./errors.js";
import { expWad, lnWad, sqrt } from "./fixedPoint.js";

/**
 * `BlackScholesInputOutOfRange(spotWad, strikeWad, secondsToExpiry, volWad)`: an input is beyond
 * the range where the arithmetic is proven not to overflow (spot ≥ 2**120, strike ≥ 2**119,
 * vol ≥ 2**72 WAD or secondsToExpiry ≥ 2**40).
 *
 * @example
 * let error;
 * try { callPrice(2n ** 120n, 100n * 10n ** 18n, 86_400n, 10n ** 18n / 2n); } catch (e) { error = e; }
 * error instanceof BlackScholesInputOutOfRangeError; // true
 * error.args[0] === 2n ** 120n; // the spot that is out of range
 */
export class BlackScholesInputOutOfRangeError extends MathError {
  override name = "BlackScholesInputOutOfRangeError";
  constructor(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint) {
    super("BlackScholesInputOutOfRange(uint256,uint256,uint256,uint256)", [
      spotWad,
      strikeWad,
      secondsToExpiry,
      volWad,
    ]);
  }
}

const WAD = 10n ** 18n;
const YEAR = 365n * 24n * 60n * 60n;
/** ln(1e18) in WAD, rounded to nearest. */
const LN_1E18 = 41446531673892822312n;
/** 1/√(2π) in WAD. */
const INV_SQRT_2PI = 398942280401432678n;
/** Up to |y| = 2 (WAD) N comes from erf, which needs no exponential. */
const Y_ERF = 2n * WAD;

/**
 * Price of a call, in WAD.
 *
 * @example
 * // S = K = 2000, 30 days, 80 % vol
 * callPrice(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n);
 */
export function callPrice(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  return _call(spotWad, strikeWad, secondsToExpiry, volWad);
}

/**
 * Price of a put, by put–call parity (exact in integers: P = C − S + K).
 *
 * @example
 * putPrice(2000n * 10n ** 18n, 1800n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n);
 */
export function putPrice(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  // The call is clamped to [max(S − K, 0), S], so C + K − S lies in [max(K − S, 0), K].
  return sub(add(_call(spotWad, strikeWad, secondsToExpiry, volWad), strikeWad), spotWad);
}

/**
 * Call and put prices together, from one evaluation.
 *
 * @example
 * const [call, put] = prices(2000n * 10n ** 18n, 2200n * 10n ** 18n, 7n * 86400n, 6n * 10n ** 17n);
 */
export function prices(
  spotWad: bigint,
  strikeWad: bigint,
  secondsToExpiry: bigint,
  volWad: bigint,
): readonly [call: bigint, put: bigint] {
  const call = _call(spotWad, strikeWad, secondsToExpiry, volWad);
  // Same bound as in `putPrice`: no underflow.
  return [call, sub(add(call, strikeWad), spotWad)];
}

/**
 * Call delta N(d1), in [0, 1e18]. At expiry (or zero vol): 1e18 if spot > strike, else 0.
 *
 * @example
 * callDelta(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n);
 */
export function callDelta(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  const [y1, , live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  if (!live) return spotWad > strikeWad ? WAD : 0n;
  return _delta(y1);
}

/**
 * Put delta N(d1) − 1, in [−1e18, 0]. At expiry (or zero vol): −1e18 if spot < strike, else 0.
 *
 * @example
 * putDelta(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n); // < 0n
 */
export function putDelta(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  const [y1, , live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  if (!live) return spotWad < strikeWad ? -WAD : 0n;
  // N(d1) ≤ 1e18, so the difference is in [−1e18, 0].
  return signed(sub(_delta(y1), WAD));
}

/**
 * Vega S·φ(d1)·√T per 1.0 of volatility, in WAD; 0 at expiry or zero vol.
 *
 * @example
 * vega(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n);
 */
export function vega(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  const [y1, , live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  if (!live) return 0n;
  // φ(d1) = e^(−y1²)/√(2π); √T in 1e27 for precision at short expiries (unchecked, bounded).
  const sqrtT27 = sqrt(div(mul(secondsToExpiry, 10n ** 54n), YEAR));
  const spotPhi = div(mul(div(mul(spotWad, _expNegSq(y1)), WAD), INV_SQRT_2PI), WAD);
  return div(mul(spotPhi, sqrtT27), 10n ** 27n);
}

/**
 * Gamma φ(d1)/(S·σ·√T): the change of delta (call or put, the same) per 1 unit of spot (1 USD for
 * a USD-quoted underlying), in WAD; 0 at expiry or zero vol. The SDK's own Greek (the contracts
 * compute no gamma): φ(d1) and d1 are those of `vega` and `callDelta`, the rest is exact integer
 * arithmetic rounded toward zero, so it is within a few parts in 1e15 of the closed form.
 *
 * @example
 * // S = K = 2000, 30 days, 80 % vol: about 0.000864 of delta per USD of spot.
 * gamma(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n); // 864012952512970n
 */
export function gamma(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  const [y1, , live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  if (!live) return 0n;
  // φ(d1) = e^(−y1²)/√(2π) in WAD·WAD over S·σ (WAD·WAD)·√T (1e27): times 1e45 gives WAD.
  const phi36 = _expNegSq(y1) * INV_SQRT_2PI;
  return (phi36 * 10n ** 45n) / (spotWad * volWad * _sqrtT27(secondsToExpiry));
}

/**
 * Theta −S·φ(d1)·σ/(2√T) per day (1/365 of the year the vol is quoted in), in WAD: what one
 * contract's price loses in a day at the same spot and vol, with zero rates (call and put the
 * same); 0 at expiry or zero vol. Negative (or 0); rounded toward zero. The SDK's own Greek (the
 * contracts compute no theta), from the same φ(d1) as `vega`.
 *
 * @example
 * // S = K = 2000, 30 days, 80 % vol: about −$3.03 a day per contract.
 * theta(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n); // -3029963230730417426n
 */
export function theta(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  const [y1, , live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  if (!live) return 0n;
  // S·φ(d1)·σ in 1e72 (S, e^(−y1²), 1/√(2π), σ each in WAD) over 2·365·√T (√T in 1e27): / 1e27 gives WAD.
  const numerator = spotWad * _expNegSq(y1) * INV_SQRT_2PI * volWad;
  return -(numerator / (2n * 365n * _sqrtT27(secondsToExpiry) * 10n ** 27n));
}

/** √(T in years) in 1e27, as `vega` computes it. */
function _sqrtT27(secondsToExpiry: bigint): bigint {
  return sqrt(div(mul(secondsToExpiry, 10n ** 54n), YEAR));
}

// -------------------------------------------------------------------------------------------------
// Scenario pricing: one series revalued at many (spot, vol) points. ln(S/K) and σ√(2T) are
// computed once per series and per vol level; a spot shock then only shifts ln(S/K).
// -------------------------------------------------------------------------------------------------

/**
 * ln(S/K) in WAD (a signed `bigint`), as `callPriceAt` takes it. Spot and strike must be
 * non-zero; throws `BlackScholesInputOutOfRangeError` where the Solidity reverts.
 *
 * @example
 * lnMoneyness(2000n * 10n ** 18n, 2000n * 10n ** 18n) === 0n;
 */
export function lnMoneyness(spotWad: bigint, strikeWad: bigint): bigint {
  assertType(spotWad, "uint", 256, "spotWad");
  assertType(strikeWad, "uint", 256, "strikeWad");
  if (((spotWad >> 120n) | (strikeWad >> 119n)) !== 0n || spotWad === 0n || strikeWad === 0n) {
    throw new BlackScholesInputOutOfRangeError(spotWad, strikeWad, 0n, 0n);
  }
  return signed(_lnMoneyness(spotWad, strikeWad));
}

/**
 * σ·√(2T) in 1e27, as `callPriceAt` takes it; 0 when σ²·T rounds to 0.
 *
 * @example
 * // 80 % vol, 30 days
 * const s27 = volTerm(8n * 10n ** 17n, 30n * 86400n);
 */
export function volTerm(volWad: bigint, secondsToExpiry: bigint): bigint {
  assertType(volWad, "uint", 256, "volWad");
  assertType(secondsToExpiry, "uint", 256, "secondsToExpiry");
  if (((volWad >> 72n) | (secondsToExpiry >> 40n)) !== 0n) {
    throw new BlackScholesInputOutOfRangeError(0n, 0n, secondsToExpiry, volWad);
  }
  return _volTerm(volWad, secondsToExpiry);
}

/**
 * Price of a call from precomputed parts: `lnMoneynessWad` = ln(S/K) (shifted by ln(1 + shock)
 * for a shocked spot, a signed `bigint`) and `volTerm27` = σ√(2T) in 1e27. Equals `callPrice` up
 * to the rounding of those parts; the intrinsic value when `volTerm27` is 0.
 *
 * @example
 * const spot = 2000n * 10n ** 18n;
 * const strike = 2200n * 10n ** 18n;
 * const s27 = volTerm(8n * 10n ** 17n, 30n * 86400n);
 * // The same call after a +10 % spot shock: shift ln(S/K) by ln(1.1).
 * const shocked = (spot * 11n) / 10n;
 * callPriceAt(shocked, strike, lnMoneyness(spot, strike) + lnWad(11n * 10n ** 17n), s27);
 */
export function callPriceAt(spotWad: bigint, strikeWad: bigint, lnMoneynessWad: bigint, volTerm27: bigint): bigint {
  assertType(spotWad, "uint", 256, "spotWad");
  assertType(strikeWad, "uint", 256, "strikeWad");
  assertType(lnMoneynessWad, "int", 256, "lnMoneynessWad");
  assertType(volTerm27, "uint", 256, "volTerm27");
  // `-lnMoneynessWad` is checked arithmetic: −2**255 has no positive counterpart.
  if (lnMoneynessWad === MIN_INT256) throw new MathOverflowError();
  const absM = lnMoneynessWad < 0n ? -lnMoneynessWad : lnMoneynessWad;
  if (((spotWad >> 120n) | (strikeWad >> 119n) | (volTerm27 >> 123n) | (absM >> 100n)) !== 0n) {
    throw new BlackScholesInputOutOfRangeError(spotWad, strikeWad, 0n, volTerm27);
  }
  const live = volTerm27 !== 0n && spotWad !== 0n && strikeWad !== 0n;
  if (!live) return _callFromYs(spotWad, strikeWad, 0n, 0n, false);
  const [y1, y2] = _ysFromParts(word(lnMoneynessWad), volTerm27);
  return _callFromYs(spotWad, strikeWad, y1, y2, true);
}

// -------------------------------------------------------------------------------------------------
// Internals
// -------------------------------------------------------------------------------------------------

/** C = S·N(d1) − K·N(d2), clamped to [max(S − K, 0), S]. */
function _call(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  const [y1, y2, live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  return _callFromYs(spotWad, strikeWad, y1, y2, live);
}

/** The call price from y1 = d1/√2 and y2 = d2/√2 (words); the intrinsic value when not `live`. */
function _callFromYs(spotWad: bigint, strikeWad: bigint, y1: bigint, y2: bigint, live: boolean): bigint {
  // Start from the intrinsic value max(S − K, 0), the lower clamp.
  let price = mul(gt(spotWad, strikeWad), sub(spotWad, strikeWad));
  // y2 < y1, so some |y| exceeds 2 (the erf range) iff y1 > 2 or y2 < −2.
  const needsExp = or(sgt(y1, Y_ERF), slt(y2, sub(0n, Y_ERF)));
  if (!live) return price;
  // a = S·e^(−y1²)/2 = K·e^(−y2²)/2, only needed outside the erf range.
  let a = 0n;
  if (needsExp) a = div(mul(spotWad, _expNegSq(y1)), 2n * WAD);
  const t1 = _scaledCdf(y1, spotWad, a);
  const t2 = _scaledCdf(y2, strikeWad, a);
  // Clamp to the no-arbitrage bounds.
  const c = mul(gt(t1, t2), sub(t1, t2));
  if (gt(c, price)) price = c;
  if (gt(price, spotWad)) price = spotWad;
  return price;
}

/**
 * y1 = d1/√2 and y2 = d2/√2 in WAD (as words); `live` is false when σ²·T rounds to 0 or spot or
 * strike is 0, where the option is worth its intrinsic value.
 */
function _ys(
  spotWad: bigint,
  strikeWad: bigint,
  secondsToExpiry: bigint,
  volWad: bigint,
): readonly [y1: bigint, y2: bigint, live: boolean] {
  assertType(spotWad, "uint", 256, "spotWad");
  assertType(strikeWad, "uint", 256, "strikeWad");
  assertType(secondsToExpiry, "uint", 256, "secondsToExpiry");
  assertType(volWad, "uint", 256, "volWad");
  // One guard replaces per-operation overflow checks.
  if (((spotWad >> 120n) | (strikeWad >> 119n) | (volWad >> 72n) | (secondsToExpiry >> 40n)) !== 0n) {
    throw new BlackScholesInputOutOfRangeError(spotWad, strikeWad, secondsToExpiry, volWad);
  }
  const s27 = _volTerm(volWad, secondsToExpiry);
  const live = s27 !== 0n && spotWad !== 0n && strikeWad !== 0n;
  if (!live) return [0n, 0n, false];
  const [y1, y2] = _ysFromParts(_lnMoneyness(spotWad, strikeWad), s27);
  return [y1, y2, true];
}

/** σ·√(2T) in 1e27, 0 when σ²·T rounds to 0. Needs vol < 2**72 and t < 2**40. */
function _volTerm(volWad: bigint, secondsToExpiry: bigint): bigint {
  // 2σ²T in 1e54.
  let s27 = div(mul(mul(mul(volWad, volWad), secondsToExpiry), 2000000000000000000n), YEAR);
  // Its square is ≥ 1 when non-zero, so a non-zero s27 is ≥ 1.
  if (s27 !== 0n) s27 = sqrt(s27);
  return s27;
}

/** ln(S/K) in WAD, as a word. Needs 0 < spot < 2**120 and 0 < strike < 2**119. */
function _lnMoneyness(spotWad: bigint, strikeWad: bigint): bigint {
  // S·1e36/K ≥ 1.
  const ratio = div(mul(spotWad, 1000000000000000000000000000000000000n), strikeWad);
  // ln(S/K) = lnWad(S·1e36/K) − ln(1e18) (unchecked).
  return sub(word(lnWad(signed(ratio))), LN_1E18);
}

/**
 * y1 = m/s' + s'/4, y2 = y1 − s'/2 with s' = σ√(2T) in WAD (s27 / 1e9), `m` a word.
 * Needs |m| < 2**100 and 0 < s27 < 2**123.
 */
function _ysFromParts(m: bigint, s27: bigint): readonly [y1: bigint, y2: bigint] {
  const y1 = add(sdiv(mul(m, 1000000000000000000000000000n), s27), div(s27, 4000000000n));
  const y2 = sub(y1, div(s27, 2000000000n));
  return [y1, y2];
}

/** N(d1) in WAD; e^(−y1²) only when |y1| > 2, outside the erf range. */
function _delta(y1: bigint): bigint {
  let a = 0n;
  if (signed(y1) > Y_ERF || signed(y1) < -Y_ERF) a = _expNegSq(y1) >> 1n;
  return _scaledCdf(y1, WAD, a);
}

/** e^(−y²) in WAD (0 once it is below 0.5e-18, i.e. for |y| > 6.44). */
function _expNegSq(y: bigint): bigint {
  let ay = y;
  if (slt(y, 0n)) ay = sub(0n, y);
  // Beyond |y| = 10 expWad returns 0 anyway; capping keeps ay² < 2**70.
  if (gt(ay, 10000000000000000000n)) ay = 10000000000000000000n;
  const x = sub(0n, div(mul(ay, ay), 1000000000000000000n));
  return word(expWad(signed(x)));
}

/** erf(y) for |y| ≤ 0.46875 (signed WAD): y·P(y²)/Q(y²), Cody's first interval. */
function erfSmall(v: bigint): bigint {
  const w = 1000000000000000000n;
  const z = div(mul(v, v), w);
  let p = add(div(mul(185777706184603153n, z), w), 3161123743870565600n);
  p = add(div(mul(p, z), w), 113864154151050156000n);
  p = add(div(mul(p, z), w), 377485237685302021000n);
  p = add(div(mul(p, z), w), 3209377589138469470000n);
  let q = add(z, 23601290952344120900n);
  q = add(div(mul(q, z), w), 244024637934444173000n);
  q = add(div(mul(q, z), w), 1282616526077372280000n);
  q = add(div(mul(q, z), w), 2844236833439170620000n);
  return sdiv(mul(v, p), q);
}

/** erf(v) for 0.46875 < |v| ≤ 2 (signed WAD): v·P7(u)/Q7(u) with u = v²/4, in Q96. */
function erfMid(v: bigint): bigint {
  const u = div(shl(96n, mul(v, v)), 4000000000000000000000000000000000000n);
  let p = add(shr(96n, mul(3056082567493734882325234n, u)), 202802513794107733835081599n);
  p = add(shr(96n, mul(p, u)), 1166733370040956935932396475n);
  p = add(shr(96n, mul(p, u)), 8787858159205491442634146462n);
  p = add(shr(96n, mul(p, u)), 19400663701840897310889210122n);
  p = add(shr(96n, mul(p, u)), 68692599910441041277498586525n);
  p = add(shr(96n, mul(p, u)), 55858976854376255562215425059n);
  p = add(shr(96n, mul(p, u)), 89399408028353505825348420527n);
  let q = add(shr(96n, mul(81628241140675216975048302n, u)), 1061654988537655190255819854n);
  q = add(shr(96n, mul(q, u)), 6898333752166791273983496603n);
  q = add(shr(96n, mul(q, u)), 28282551432574324538413624313n);
  q = add(shr(96n, mul(q, u)), 77652253149165503737251790826n);
  q = add(shr(96n, mul(q, u)), 140967210711297384671318224748n);
  q = add(shr(96n, mul(q, u)), 155141279335609975782564447073n);
  q = add(shr(96n, mul(q, u)), 79228162514264337593543950336n);
  return sdiv(mul(v, p), q);
}

/** erfcx(v) = erfc(v)·e^(v²) for v > 2 (WAD). */
function erfcx(v: bigint): bigint {
  const w = 1000000000000000000n;
  if (!gt(v, 4000000000000000000n)) {
    // 2 < v ≤ 4: P5(t)/Q5(t) with t = v/4, in Q96; the leading numerator coefficient is negative.
    const t = div(shl(96n, v), 4000000000000000000n);
    let p = add(sar(96n, mul(sub(0n, 2812418992892587197059650n), t)), 882045776431713970524523273322n);
    p = add(shr(96n, mul(p, t)), 1351455886770146622702880277099n);
    p = add(shr(96n, mul(p, t)), 1014956450878301194899335078897n);
    p = add(shr(96n, mul(p, t)), 409773876956706594686382332768n);
    p = add(shr(96n, mul(p, t)), 79234197191110770238565072361n);
    let q = add(shr(96n, mul(6253346256748498946481136638772n, t)), 9582464788026037250402980790694n);
    q = add(shr(96n, mul(q, t)), 7388760035582985816716142763709n);
    q = add(shr(96n, mul(q, t)), 3209533777064001075315577699424n);
    q = add(shr(96n, mul(q, t)), 767529551342674731222298236643n);
    q = add(shr(96n, mul(q, t)), 79228162514264337593543950336n);
    return div(mul(p, w), q);
  }
  // v > 4: (1/√π − z·P5(z)/Q5(z))/v with z = 1/v², Cody's third interval.
  const z = div(1000000000000000000000000000000000000000000000000000000n, mul(v, v));
  let p = add(div(mul(16315387137302098n, z), w), 305326634961232344n);
  p = add(div(mul(p, z), w), 360344899949804439n);
  p = add(div(mul(p, z), w), 125781726111229246n);
  p = add(div(mul(p, z), w), 16083785148742277n);
  p = add(div(mul(p, z), w), 658749161529838n);
  let q = add(z, 2568520192289822420n);
  q = add(div(mul(q, z), w), 1872952849923460470n);
  q = add(div(mul(q, z), w), 527905102951428412n);
  q = add(div(mul(q, z), w), 60518341312441319n);
  q = add(div(mul(q, z), w), 2335204976268692n);
  return div(mul(sub(564189583547756287n, div(mul(z, p), q)), w), v);
}

/**
 * x·N(y·√2) for y in WAD (a word), where `a` = x·e^(−y²)/2. Result in the units of x, within a
 * few wei of exact: the same four rational approximations as the Solidity, in the same order.
 */
function _scaledCdf(y: bigint, x: bigint, a: bigint): bigint {
  let r = 0n;
  let ay = y;
  if (slt(y, 0n)) ay = sub(0n, y);
  if (!gt(ay, Y_ERF)) {
    // N = (1 + erf(y))/2.
    const e = gt(ay, 468750000000000000n) ? erfMid(y) : erfSmall(y);
    r = div(mul(x, add(1000000000000000000n, e)), 2000000000000000000n);
  } else {
    // tail = x·N(−|d|) = a·erfcx(|y|); with a = 0 it is 0.
    if (a) r = div(mul(a, erfcx(ay)), 1000000000000000000n);
    // N(d) = 1 − N(−d) for d ≥ 0, floored at 0.
    if (iszero(slt(y, 0n))) r = mul(gt(x, r), sub(x, r));
  }
  return r;
}
