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
import {
  MIN_INT256,
  add,
  div,
  gt,
  iszero,
  lt,
  mul,
  or,
  sar,
  sdiv,
  sgt,
  shl,
  shr,
  signed,
  slt,
  sub,
  word,
  xor,
} from "./evm.js";
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
/** Up to |y| = 3 (WAD) N needs no exponential: erf up to 2, then erfc directly. */
const Y_NO_EXP = 3n * WAD;

/**
 * Price of a call, in WAD.
 *
 * @example
 * // S = K = 2000, 30 days, 80 % vol
 * callPrice(2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n);
 */
export function callPrice(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  // C = S·N(d1) − K·N(d2), clamped to [max(S − K, 0), S].
  const [y1, y2, live] = _ys(spotWad, strikeWad, secondsToExpiry, volWad);
  return _callFromYs(spotWad, strikeWad, y1, y2, live);
}

/**
 * Price of a put, by put–call parity (exact in integers: P = C − S + K).
 *
 * @example
 * putPrice(2000n * 10n ** 18n, 1800n * 10n ** 18n, 30n * 86400n, 8n * 10n ** 17n);
 */
export function putPrice(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint, volWad: bigint): bigint {
  // The call is clamped to [max(S − K, 0), S], so C + K − S lies in [max(K − S, 0), K].
  return sub(add(callPrice(spotWad, strikeWad, secondsToExpiry, volWad), strikeWad), spotWad);
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
  const call = callPrice(spotWad, strikeWad, secondsToExpiry, volWad);
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
  const [y1, y2] = live ? _ysFromParts(word(lnMoneynessWad), volTerm27) : [0n, 0n];
  return _callFromYs(spotWad, strikeWad, y1, y2, live);
}

// -------------------------------------------------------------------------------------------------
// Internals
// -------------------------------------------------------------------------------------------------

/** The call price from y1 = d1/√2 and y2 = d2/√2 (words); the intrinsic value when not `live`. */
function _callFromYs(spotWad: bigint, strikeWad: bigint, y1: bigint, y2: bigint, live: boolean): bigint {
  // Start from the intrinsic value max(S − K, 0), the lower clamp.
  let price = mul(gt(spotWad, strikeWad), sub(spotWad, strikeWad));
  if (!live) return price;
  const [t1, t2] = _terms(spotWad, strikeWad, y1, y2);
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

/** N(d1) in WAD: the first of `_terms` with x1 = 1e18 (y2 = y1; the second term is not used). */
function _delta(y1: bigint): bigint {
  return _terms(WAD, 0n, y1, y1)[0];
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

/** erf(v) for |v| ≤ 2 (signed WAD): v·P7(u)/Q7(u) with u = v²/4, in Q96. */
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

/** erfc(v)·2**96 for 2 < v ≤ 3 (WAD): P8(t)/Q8(t) with t = v − 2, in Q96; the numerator alternates in sign. */
function erfcQ96(v: bigint): bigint {
  const t = div(shl(96n, sub(v, 2000000000000000000n)), 1000000000000000000n);
  let p = sub(sar(96n, mul(719307880124968449636753n, t)), 11169853244605158223803703n);
  p = add(sar(96n, mul(p, t)), 78656002811769479508054348n);
  p = sub(sar(96n, mul(p, t)), 327689292673800749099017308n);
  p = add(sar(96n, mul(p, t)), 882353251210572621574655443n);
  p = sub(sar(96n, mul(p, t)), 1570538730313422956537843718n);
  p = add(sar(96n, mul(p, t)), 1802429998774532949839990387n);
  p = sub(sar(96n, mul(p, t)), 1217982394270230153560637485n);
  p = add(sar(96n, mul(p, t)), 370608347277071896973105145n);
  let q = add(shr(96n, mul(71532578763220771027750558n, t)), 543011025663616438668246223n);
  q = add(shr(96n, mul(q, t)), 2616896014839299593567061820n);
  q = add(shr(96n, mul(q, t)), 8782937284957673256075898318n);
  q = add(shr(96n, mul(q, t)), 23793884181551743035889462130n);
  q = add(shr(96n, mul(q, t)), 48294278865624733041373975795n);
  q = add(shr(96n, mul(q, t)), 81385973716093773897736199486n);
  q = add(shr(96n, mul(q, t)), 89664096350697449688182084328n);
  q = add(shr(96n, mul(q, t)), 79228162514264337593543950336n);
  return div(shl(96n, p), q);
}

/** a·erfcx(v) for 3 < v ≤ 6.5 (WAD): v·erfcx(v) = P4(t)/Q4(t) with t = 1/v² − 1/42.25, in Q96. */
function tailMid(v: bigint, a: bigint): bigint {
  const t = sub(div(shl(96n, 1000000000000000000000000000000000000n), mul(v, v)), 1875222781402706215231809475n);
  let p = add(shr(96n, mul(155437252973615295509400513246n, t)), 1304798321326157856696502173029n);
  p = add(shr(96n, mul(p, t)), 1482357089107910810148002519389n);
  p = add(shr(96n, mul(p, t)), 480574228317368235509037980049n);
  p = add(shr(96n, mul(p, t)), 44188466242153221867676347271n);
  let q = add(shr(96n, mul(825495316028911953872930786754n, t)), 3305673362948311321952007003932n);
  q = add(shr(96n, mul(q, t)), 3031913836924853290616915811757n);
  q = add(shr(96n, mul(q, t)), 899105370483132233660793721781n);
  q = add(shr(96n, mul(q, t)), 79228162514264337593543950336n);
  return div(mul(a, p), div(mul(q, v), 1000000000000000000n));
}

/** a·erfcx(v) for v > 6.5 (WAD): (1/√π − z·P5(z)/Q5(z))/v with z = 1/v², Cody's third interval. */
function tailFar(v: bigint, a: bigint): bigint {
  const w = 1000000000000000000n;
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
  return div(mul(a, div(mul(sub(564189583547756287n, div(mul(z, p), q)), w), v)), w);
}

/** x·N(y·√2) for y in WAD (a word), where `a` = x·e^(−y²)/2 is read only for |y| > 3. */
function cdf(y: bigint, x: bigint, a: bigint): bigint {
  const neg = sar(255n, y);
  const ay = sub(xor(y, neg), neg);
  if (gt(ay, Y_NO_EXP)) {
    // Tail x·N(−|d|) = a·erfcx(|y|); N(d) = 1 − N(−d) for d ≥ 0, floored at 0.
    let r = gt(ay, 6500000000000000000n) ? tailFar(ay, a) : tailMid(ay, a);
    if (iszero(neg)) r = mul(gt(x, r), sub(x, r));
    return r;
  }
  if (gt(ay, 2000000000000000000n)) {
    // Tail x·erfc(|y|)/2, no exponential.
    let r = shr(97n, mul(x, erfcQ96(ay)));
    if (iszero(neg)) r = sub(x, r);
    return r;
  }
  // N = (1 + erf(y))/2.
  return div(mul(x, add(1000000000000000000n, erfMid(y))), 2000000000000000000n);
}

/**
 * t1 = x1·N(y1·√2) and t2 = x2·N(y2·√2) for words y1 ≥ y2 with x1·e^(−y1²) = x2·e^(−y2²): the
 * shared a = x1·e^(−y1²)/2 serves both tails outside |y| ≤ 3 (one `expWad`, none when |y1| ≥ 6.5).
 */
function _terms(x1: bigint, x2: bigint, y1: bigint, y2: bigint): readonly [t1: bigint, t2: bigint] {
  // |y1| < 6.5e18 as the contract tests it: y1 + (6.5e18 − 1), as an unsigned word, below 13e18 − 1.
  const needsExp =
    or(sgt(y1, Y_NO_EXP), slt(y2, sub(0n, Y_NO_EXP))) && lt(add(y1, 6499999999999999999n), 12999999999999999999n);
  let a = 0n;
  if (needsExp) a = div(mul(x1, _expNegSq(y1)), 2n * WAD);
  return [cdf(y1, x1, a), cdf(y2, x2, a)];
}
