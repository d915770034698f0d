/**
 * Line-for-line port of `contracts/libraries/SviMath.sol`: raw-SVI total variance, implied
 * volatility and the admissibility checks of a posted smile, in signed WAD. Same names, same
 * rounding; results equal the chain's to the wei (`test/sdk/sviMath.parity.test.ts`), and every
 * check throws the error the contract reverts with, so a signer can validate a surface before
 * posting it. See `docs/vol-surface.md`.
 */
import { lnMoneyness } from "./blackScholes.js";
import { MathError } from "./errors.js";
import { expWad, lnWad, sqrt } from "./fixedPoint.js";

/** Raw-SVI parameters of one expiry, WAD, as `SviMath.Params`. */
export interface SviParams {
  a: bigint;
  b: bigint;
  rho: bigint;
  m: bigint;
  sigma: bigint;
}

const WAD = 10n ** 18n;
const YEAR = 365n * 86400n;
const PARAM_LIMIT = 1n << 64n;
const K_LIMIT = 1n << 72n;

/**
 * The change rule's floor, an annualised variance, WAD: F(k) = SVI_CHANGE_FLOOR_VAR_WAD·(1 + |k|),
 * (5 %)² = 0.0025 at the money, is added to each smile's annualised variance w / τ (τ its own time
 * to expiry), so a smile touching 0, or a flat wing, can move; the floor is the same vol at every
 * expiry. As `SviMath.CHANGE_FLOOR_VAR_WAD`.
 */
export const SVI_CHANGE_FLOOR_VAR_WAD = 25n * 10n ** 14n;
/** The longest time to expiry, seconds, `sviCheckChange` takes (2**26 − 1, about 776 days), as `SviMath.MAX_CHANGE_TAU`. */
export const SVI_MAX_CHANGE_TAU = (1n << 26n) - 1n;
const MAX_CHANGE_RATIO = 1n << 66n;
/** Confidence below which the bounded-change allowance stops growing (0.25), WAD. */
export const SVI_CHANGE_CONFIDENCE_FLOOR_WAD = WAD / 4n;

/**
 * `SviInputOutOfRange()`: a parameter or the log-moneyness is beyond the proven range
 * (|a|, |b|, |ρ|, |m|, |σ| < 2**64, |k| < 2**72).
 *
 * @example
 * let error;
 * try { sviTotalVariance({ a: 2n ** 64n, b: 0n, rho: 0n, m: 0n, sigma: 1n }, 0n); } catch (e) { error = e; }
 * error instanceof SviInputOutOfRangeError; // true
 */
export class SviInputOutOfRangeError extends MathError {
  override name = "SviInputOutOfRangeError";
  constructor() {
    super("SviInputOutOfRange()", [], "An SVI parameter or the log-moneyness is out of the supported range");
  }
}

/**
 * `SviNegativeB(b)`: b < 0, the smile would open downwards.
 *
 * @example
 * let error;
 * try { sviCheckAdmissible({ a: 0n, b: -1n, rho: 0n, m: 0n, sigma: 10n ** 17n }); } catch (e) { error = e; }
 * error instanceof SviNegativeBError; // true
 */
export class SviNegativeBError extends MathError {
  override name = "SviNegativeBError";
  constructor(b: bigint) {
    super("SviNegativeB(int256)", [b], `SVI b is ${b}, below 0: the smile would open downwards; use b ≥ 0`);
  }
}

/**
 * `SviRhoOutOfRange(rho)`: |ρ| ≥ 1.
 *
 * @example
 * let error;
 * try { sviCheckAdmissible({ a: 0n, b: 0n, rho: 10n ** 18n, m: 0n, sigma: 10n ** 17n }); } catch (e) { error = e; }
 * error instanceof SviRhoOutOfRangeError; // true
 */
export class SviRhoOutOfRangeError extends MathError {
  override name = "SviRhoOutOfRangeError";
  constructor(rho: bigint) {
    super("SviRhoOutOfRange(int256)", [rho], `SVI rho is ${rho}; it must lie strictly between −1e18 and 1e18`);
  }
}

/**
 * `SviNonPositiveSigma(sigma)`: σ ≤ 0.
 *
 * @example
 * let error;
 * try { sviCheckAdmissible({ a: 0n, b: 0n, rho: 0n, m: 0n, sigma: 0n }); } catch (e) { error = e; }
 * error instanceof SviNonPositiveSigmaError; // true
 */
export class SviNonPositiveSigmaError extends MathError {
  override name = "SviNonPositiveSigmaError";
  constructor(sigma: bigint) {
    super("SviNonPositiveSigma(int256)", [sigma], `SVI sigma is ${sigma}; it must be above 0`);
  }
}

/**
 * `SviNegativeVariance(minVarianceWad)`: the minimum of w, a + b·σ·√(1 − ρ²), is negative.
 *
 * @example
 * let error;
 * try { sviCheckAdmissible({ a: -(10n ** 17n), b: 10n ** 17n, rho: 0n, m: 0n, sigma: 10n ** 17n }); } catch (e) { error = e; }
 * error instanceof SviNegativeVarianceError; // true
 */
export class SviNegativeVarianceError extends MathError {
  override name = "SviNegativeVarianceError";
  constructor(minVarianceWad: bigint) {
    super(
      "SviNegativeVariance(int256)",
      [minVarianceWad],
      `The smile's lowest total variance is ${minVarianceWad} (WAD), below 0; raise a`,
    );
  }
}

/**
 * `SviWingTooSteep(b, rho)`: b·(1 + |ρ|) > 2, steeper than Lee's moment bound.
 *
 * @example
 * let error;
 * try { sviCheckAdmissible({ a: 0n, b: 2n * 10n ** 18n, rho: 10n ** 17n, m: 0n, sigma: 10n ** 17n }); } catch (e) { error = e; }
 * error instanceof SviWingTooSteepError; // true
 */
export class SviWingTooSteepError extends MathError {
  override name = "SviWingTooSteepError";
  constructor(b: bigint, rho: bigint) {
    super(
      "SviWingTooSteep(int256,int256)",
      [b, rho],
      `SVI b·(1 + |rho|) exceeds 2 (b ${b}, rho ${rho}): a wing steeper than Lee's bound; lower b`,
    );
  }
}

/**
 * `SviCalendarArbitrage(k, shorterWad, longerWad)`: the longer expiry's smile cannot be proven at or
 * above the shorter one's at every k; the certified bound of w_longer − w_shorter is lowest, and
 * negative, near k, where the smiles' total variances are as given.
 *
 * @example
 * const p = { a: 10n ** 16n, b: 10n ** 17n, rho: 0n, m: 0n, sigma: 10n ** 17n };
 * let error;
 * try { sviCheckCalendar({ ...p, a: 2n * 10n ** 16n }, p); } catch (e) { error = e; }
 * error instanceof SviCalendarArbitrageError; // true
 */
export class SviCalendarArbitrageError extends MathError {
  override name = "SviCalendarArbitrageError";
  constructor(k: bigint, shorterWad: bigint, longerWad: bigint) {
    super(
      "SviCalendarArbitrage(int256,int256,int256)",
      [k, shorterWad, longerWad],
      `The longer expiry's total variance cannot be shown at or above the shorter one's everywhere; the certified margin is lowest near k = ${k}, where it is ${shorterWad} (shorter) and ${longerWad} (longer): calendar arbitrage; raise the longer smile there`,
    );
  }
}

/**
 * `SviCalendarWingArbitrage(rightWing, shorterSlopeWad, longerSlopeWad)`: a wing of the longer
 * expiry's smile rises more slowly than the shorter one's (slopes b·(1 + ρ) on the right, b·(1 − ρ)
 * on the left), so far enough out total variance falls with expiry.
 *
 * @example
 * const shorter = { a: 10n ** 16n, b: 10n ** 17n, rho: 0n, m: 0n, sigma: 10n ** 17n };
 * let error;
 * try { sviCheckCalendar(shorter, { ...shorter, a: 2n * 10n ** 16n, rho: -(10n ** 17n) }); } catch (e) { error = e; }
 * error instanceof SviCalendarWingArbitrageError && error.rightWing; // true: the right wing
 */
export class SviCalendarWingArbitrageError extends MathError {
  override name = "SviCalendarWingArbitrageError";
  /** The right wing (k → +∞, slope b·(1 + ρ)), or the left; `args[0]` is it as 1n or 0n. */
  readonly rightWing: boolean;
  constructor(rightWing: boolean, shorterSlopeWad: bigint, longerSlopeWad: bigint) {
    super(
      "SviCalendarWingArbitrage(bool,int256,int256)",
      [rightWing ? 1n : 0n, shorterSlopeWad, longerSlopeWad],
      `The longer expiry's ${rightWing ? "right" : "left"} wing rises more slowly (slope ${longerSlopeWad}) than the shorter one's (${shorterSlopeWad}): calendar arbitrage far out; steepen the longer wing`,
    );
    this.rightWing = rightWing;
  }
}

/**
 * `SviChangeTooLarge(k, previousWad, nextWad)`: the new smile cannot be proven within the allowed
 * ratio of the previous one at every k (the ratio of w/τ + F(k), each smile annualised by its own
 * time to expiry, F the floor); the certified bound fails near k, where the previous and new total
 * variances are as given.
 *
 * @example
 * const p = { a: 10n ** 16n, b: 10n ** 17n, rho: 0n, m: 0n, sigma: 10n ** 17n };
 * let error;
 * try { sviCheckChange(p, { ...p, a: 10n ** 18n }, 4n * 10n ** 18n, 86400n, 86400n); } catch (e) { error = e; }
 * error instanceof SviChangeTooLargeError; // true
 */
export class SviChangeTooLargeError extends MathError {
  override name = "SviChangeTooLargeError";
  constructor(k: bigint, previousWad: bigint, nextWad: bigint) {
    super(
      "SviChangeTooLarge(int256,int256,int256)",
      [k, previousWad, nextWad],
      `The new smile cannot be shown within the allowed ratio (the change ratio / max(confidence, 0.25), per hour of credit) of the previous one everywhere; near k = ${k} total variance goes from ${previousWad} to ${nextWad}; post in smaller steps`,
    );
  }
}

/**
 * `SviChangeWingTooLarge(rightWing, previousSlopeWad, nextSlopeWad)`: a wing's slope, b·(1 + ρ) on
 * the right or b·(1 − ρ) on the left (reported in total variance), annualised by its smile's time
 * to expiry plus the floor's 0.0025, moved by more than the allowed ratio.
 *
 * @example
 * const p = { a: 10n ** 16n, b: 10n ** 17n, rho: 0n, m: 0n, sigma: 10n ** 17n };
 * let error;
 * try { sviCheckChange(p, { ...p, b: 5n * 10n ** 17n }, 4n * 10n ** 18n, 86400n, 86400n); } catch (e) { error = e; }
 * error instanceof SviChangeWingTooLargeError; // true
 */
export class SviChangeWingTooLargeError extends MathError {
  override name = "SviChangeWingTooLargeError";
  /** The right wing (k → +∞, slope b·(1 + ρ)), or the left; `args[0]` is it as 1n or 0n. */
  readonly rightWing: boolean;
  constructor(rightWing: boolean, previousSlopeWad: bigint, nextSlopeWad: bigint) {
    super(
      "SviChangeWingTooLarge(bool,int256,int256)",
      [rightWing ? 1n : 0n, previousSlopeWad, nextSlopeWad],
      `The ${rightWing ? "right" : "left"} wing's slope moves from ${previousSlopeWad} to ${nextSlopeWad}, more than the allowed ratio; post in smaller steps`,
    );
    this.rightWing = rightWing;
  }
}

/**
 * `SviZeroTime()`: a volatility asked for at or after expiry.
 *
 * @example
 * let error;
 * try { sviVolFromVariance(10n ** 17n, 0n); } catch (e) { error = e; }
 * error instanceof SviZeroTimeError; // true
 */
export class SviZeroTimeError extends MathError {
  override name = "SviZeroTimeError";
  constructor() {
    super("SviZeroTime()", [], "No time is left to expiry, so the smile gives no volatility");
  }
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

function checkRange(p: SviParams): void {
  if ((abs(p.a) | abs(p.b) | abs(p.rho) | abs(p.m) | abs(p.sigma)) >= PARAM_LIMIT) throw new SviInputOutOfRangeError();
}

/**
 * k = ln(strike / spot), WAD: minus `lnMoneyness(spot, strike)`, as `SviMath.logMoneyness`.
 *
 * @example
 * sviLogMoneyness(2000n * 10n ** 18n, 2000n * 10n ** 18n) === 0n;
 */
export function sviLogMoneyness(spotWad: bigint, strikeWad: bigint): bigint {
  return -lnMoneyness(spotWad, strikeWad);
}

/**
 * Total variance w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)), WAD, rounded down as on chain.
 *
 * @example
 * // a = 0.02, b = 0.1, ρ = −0.3, m = 0, σ = 0.2, at the money: 0.02 + 0.1·0.2 = 0.04
 * sviTotalVariance({ a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n }, 0n);
 */
export function sviTotalVariance(p: SviParams, k: bigint): bigint {
  checkRange(p);
  if (abs(k) >= K_LIMIT) throw new SviInputOutOfRangeError();
  const x = k - p.m;
  const root27 = sqrt((x * x + p.sigma * p.sigma) * WAD);
  // BigInt division truncates towards zero, as sdiv.
  const inner27 = root27 + (p.rho * x) / 10n ** 9n;
  return p.a + (p.b * inner27) / 10n ** 27n;
}

/**
 * Annualised volatility √(w / T), WAD, rounded down; a negative w counts as 0.
 *
 * @example
 * sviVolFromVariance(4n * 10n ** 16n, 365n * 86400n) === 2n * 10n ** 17n; // 20 %
 */
export function sviVolFromVariance(totalVarianceWad: bigint, secondsToExpiry: bigint): bigint {
  if (secondsToExpiry === 0n) throw new SviZeroTimeError();
  if (totalVarianceWad <= 0n) return 0n;
  return sqrt((totalVarianceWad * YEAR * WAD) / secondsToExpiry);
}

/**
 * The implied volatility of a strike from a smile, as `SviMath.vol` and `VolSurfaceOracle.volAt`.
 *
 * @example
 * const p = { a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n };
 * sviVol(p, 2000n * 10n ** 18n, 1800n * 10n ** 18n, 30n * 86400n);
 */
export function sviVol(p: SviParams, spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint): bigint {
  return sviVolFromVariance(sviTotalVariance(p, sviLogMoneyness(spotWad, strikeWad)), secondsToExpiry);
}

/**
 * Throws unless `p` is admissible: b ≥ 0, |ρ| < 1, σ > 0, a + b·σ·√(1 − ρ²) ≥ 0 (rounded down),
 * b·(1 + |ρ|) ≤ 2 — in the contract's order, with its errors.
 *
 * @example
 * sviCheckAdmissible({ a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n });
 */
export function sviCheckAdmissible(p: SviParams): void {
  checkRange(p);
  if (p.b < 0n) throw new SviNegativeBError(p.b);
  if (abs(p.rho) >= WAD) throw new SviRhoOutOfRangeError(p.rho);
  if (p.sigma <= 0n) throw new SviNonPositiveSigmaError(p.sigma);
  if (p.b * (WAD + abs(p.rho)) > 2n * WAD * WAD) throw new SviWingTooSteepError(p.b, p.rho);
  const sqrtOneMinusRho2 = sqrt((WAD - p.rho) * (WAD + p.rho));
  const minVariance = p.a + (((p.b * p.sigma) / WAD) * sqrtOneMinusRho2) / WAD;
  if (minVariance < 0n) throw new SviNegativeVarianceError(minVariance);
}

/**
 * Throws unless the longer expiry's smile is at or above the shorter one's at every k (calendar
 * no-arbitrage, r = 0), as `SviMath.checkCalendar`: `SviCalendarWingArbitrageError` when a wing of
 * the longer smile rises more slowly, else `SviCalendarArbitrageError` when the certified bound
 * (exact for smiles sharing m and σ, within 2·b_shorter·√(Δm² + Δσ²) otherwise) is negative. Both
 * smiles are first checked admissible (`sviCheckAdmissible`), as the oracle does before it.
 *
 * @example
 * const p = { a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n };
 * sviCheckCalendar(p, { ...p, a: (p.a * 103n) / 100n, b: (p.b * 103n) / 100n }); // 3 % more total variance: fine
 */
export function sviCheckCalendar(shorter: SviParams, longer: SviParams): void {
  sviCheckAdmissible(shorter);
  sviCheckAdmissible(longer);
  const { e0, e1, xStar } = dominance(longer, shorter, WAD, 0n, shapeDistance(longer, shorter));
  if (e0 < 0n || e1 < 0n) {
    const right = e0 < 0n;
    throw new SviCalendarWingArbitrageError(right, slope(shorter, right), slope(longer, right));
  }
  if (xStar !== undefined) {
    const k = clampK(longer.m + xStar);
    throw new SviCalendarArbitrageError(k, sviTotalVariance(shorter, k), sviTotalVariance(longer, k));
  }
}

/**
 * Throws unless, at every k, the annualised variance plus the floor moved by at most `maxRatioWad`
 * either way from `previous` to `next`, each smile annualised by its own time to expiry in seconds
 * (`previousTau`, `nextTau`: expiry minus its post's timestamp), with the floor
 * F(k) = `SVI_CHANGE_FLOOR_VAR_WAD`·(1 + |k|):
 * w'/τ' + F ≤ ratio·(w/τ + F) and w/τ + F ≤ ratio·(w'/τ' + F), as `SviMath.checkChange` (the
 * oracle's bounded change with the allowance of `sviAllowedChangeRatioOver`). An honest decay of w
 * at a constant vol cancels. Throws `SviChangeWingTooLargeError` when a wing's slope moves too far,
 * else `SviChangeTooLargeError`; a τ of 0 `SviZeroTimeError`, a τ above `SVI_MAX_CHANGE_TAU` or a
 * ratio outside [1e18, 2**66) `SviInputOutOfRangeError`. Both smiles are first checked admissible.
 *
 * @example
 * const p = { a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n };
 * const day = 86400n;
 * // ×1.2 within ×4, posted an hour apart 30 days out
 * sviCheckChange(p, { ...p, a: (p.a * 12n) / 10n, b: (p.b * 12n) / 10n }, 4n * 10n ** 18n, 30n * day, 30n * day - 3600n);
 * // the same vol a day later: w shrinks by 29/30, annualised it does not move (a ratio of exactly
 * // 1 refuses it: every rounding is against the poster, so leave a hair, here ×1.001)
 * sviCheckChange(p, { ...p, a: (p.a * 29n) / 30n, b: (p.b * 29n) / 30n }, 1001n * 10n ** 15n, 30n * day, 29n * day);
 */
export function sviCheckChange(
  previous: SviParams,
  next: SviParams,
  maxRatioWad: bigint,
  previousTau: bigint,
  nextTau: bigint,
): void {
  sviCheckAdmissible(previous);
  sviCheckAdmissible(next);
  if (previousTau === 0n || nextTau === 0n) throw new SviZeroTimeError();
  if (
    previousTau > SVI_MAX_CHANGE_TAU ||
    nextTau > SVI_MAX_CHANGE_TAU ||
    maxRatioWad < WAD ||
    maxRatioWad >= MAX_CHANGE_RATIO
  )
    throw new SviInputOutOfRangeError();
  const delta = shapeDistance(previous, next);
  let r = changeBound(previous, next, maxRatioWad, previousTau, nextTau, delta);
  let m = previous.m;
  if (r.e0 >= 0n && r.e1 >= 0n && r.xStar === undefined) {
    r = changeBound(next, previous, maxRatioWad, nextTau, previousTau, delta);
    m = next.m;
  }
  if (r.e0 < 0n || r.e1 < 0n) {
    const right = r.e0 < 0n;
    throw new SviChangeWingTooLargeError(right, slope(previous, right), slope(next, right));
  }
  if (r.xStar !== undefined) {
    const k = clampK(m + r.xStar);
    throw new SviChangeTooLargeError(k, sviTotalVariance(previous, k), sviTotalVariance(next, k));
  }
}

/**
 * `SviMath._changeBound`: one direction of the change rule, h/τ_h + F ≤ ratio·(g/τ_g + F), times
 * min(τ_g, τ_h): g's factor ratio·τ_h/τ_g rounded down when τ_h ≤ τ_g, else h scaled by τ_g/τ_h
 * (rounded up, its a and b rounded towards +∞); the lift (ratio − 1)·F·min(τ) / 365 days, 1e36,
 * rounded down.
 */
function changeBound(g: SviParams, h: SviParams, ratio: bigint, tauG: bigint, tauH: bigint, delta: bigint) {
  const tau = tauH < tauG ? tauH : tauG;
  const lift = ((ratio - WAD) * SVI_CHANGE_FLOOR_VAR_WAD * tau) / YEAR;
  if (tauH <= tauG) return dominance(g, h, (ratio * tauH) / tauG, lift, delta);
  const s = (tauG * WAD + tauH - 1n) / tauH;
  return dominance(g, { ...h, a: mulUp(h.a, s), b: mulUp(h.b, s) }, ratio, lift, delta);
}

/** x·s / 1e18 rounded towards +∞ (BigInt `/` truncates towards zero, as sdiv). */
function mulUp(x: bigint, s: bigint): bigint {
  const p = x * s;
  return p > 0n ? (p - 1n) / WAD + 1n : p / WAD;
}

/**
 * `SviMath._dominance`: proves ratio·g − h + L·(1 + |k|) ≥ 0 at every k (see the contract for the
 * derivation). Returns B ± C in 1e54 and, when the proof fails, where the bound is lowest
 * (x = k − m_g, WAD).
 */
function dominance(g: SviParams, h: SviParams, ratio: bigint, lift: bigint, delta: bigint) {
  const e0 = ratio * g.b * (WAD + g.rho) - WAD * h.b * (WAD + h.rho) + lift * WAD;
  const e1 = ratio * g.b * (WAD - g.rho) - WAD * h.b * (WAD - h.rho) + lift * WAD;
  if (e0 < 0n || e1 < 0n) return { e0, e1, xStar: 0n };
  let a0 = ratio * g.a - WAD * h.a - h.b * delta + lift;
  const rhoDm = h.b * h.rho * (g.m - h.m);
  // Rounded up; BigInt `/` truncates towards zero, as sdiv.
  a0 -= rhoDm > 0n ? (rhoDm - 1n) / WAD + 1n : rhoDm / WAD;
  a0 -= (lift * (g.sigma + abs(g.m)) + (WAD - 1n)) / WAD;
  const root = sqrt((e0 / WAD) * (e1 / WAD));
  if (a0 + (g.sigma * root) / WAD >= 0n) return { e0, e1, xStar: undefined };
  const xStar = root === 0n ? 0n : -(((e0 - e1) / (2n * WAD)) * g.sigma) / root;
  return { e0, e1, xStar };
}

/** √((m_x − m_y)² + (σ_x − σ_y)²), WAD, rounded up. */
function shapeDistance(x: SviParams, y: SviParams): bigint {
  const dm = x.m - y.m;
  const ds = x.sigma - y.sigma;
  const q = dm * dm + ds * ds;
  const d = sqrt(q);
  return d * d < q ? d + 1n : d;
}

/** A wing's slope b·(1 ± ρ), WAD, rounded down (truncated, as sdiv). */
function slope(p: SviParams, right: boolean): bigint {
  return (p.b * (right ? WAD + p.rho : WAD - p.rho)) / WAD;
}

function clampK(k: bigint): bigint {
  const limit = K_LIMIT - 1n;
  return k > limit ? limit : k < -limit ? -limit : k;
}

/**
 * The factor a post of confidence `confidenceWad` may move annualised variance (plus the floor)
 * by, from the governed `ratioWad`: ratio / max(confidence, 0.25), rounded down, as `SviMath.allowedChangeRatio`. Full
 * confidence gets the governed ratio, lower confidence a wider bound (×4 at or below 0.25), never
 * none. Pass the result to `sviCheckChange`.
 *
 * @example
 * sviAllowedChangeRatio(4n * 10n ** 18n, 5n * 10n ** 17n) === 8n * 10n ** 18n; // true
 */
export function sviAllowedChangeRatio(ratioWad: bigint, confidenceWad: bigint): bigint {
  const c = confidenceWad > SVI_CHANGE_CONFIDENCE_FLOOR_WAD ? confidenceWad : SVI_CHANGE_CONFIDENCE_FLOOR_WAD;
  return (ratioWad * WAD) / c;
}

/** The window over which the bounded change is measured (1 hour), seconds, as `SviMath.CHANGE_PERIOD`. */
export const SVI_CHANGE_PERIOD = 3600n;
/** The confidence step (the oracle's stored confidence quantum, 1e-9), WAD. */
export const SVI_CONFIDENCE_STEP = 10n ** 9n;

/**
 * The factor a post may move annualised variance (plus the floor) by, `elapsed` seconds after the
 * surface in force: R(c)^(elapsed / 1 h) with R(c) = `sviAllowedChangeRatio(ratioWad, c)`, and R(c) itself once
 * `elapsed` ≥ 1 h, as `SviMath.allowedChangeRatioOver` (Solady's expWad(lnWad(R)·elapsed/period),
 * to the wei). Chained posts multiply, so the bound is per unit of time, not per post. Pass the
 * carried confidence (`sviCarriedConfidence`), and the result to `sviCheckChange`.
 *
 * @example
 * sviAllowedChangeRatioOver(4n * 10n ** 18n, 10n ** 18n, 3600n) === 4n * 10n ** 18n; // a full hour: the ratio
 * sviAllowedChangeRatioOver(4n * 10n ** 18n, 10n ** 18n, 1800n); // half an hour: ≈ 2e18
 */
export function sviAllowedChangeRatioOver(ratioWad: bigint, confidenceWad: bigint, elapsed: bigint): bigint {
  const r = sviAllowedChangeRatio(ratioWad, confidenceWad);
  if (elapsed >= SVI_CHANGE_PERIOD) return r;
  // BigInt `/` truncates towards zero, as sdiv; the product is ≥ 0.
  return expWad((lnWad(r) * elapsed) / SVI_CHANGE_PERIOD);
}

/**
 * The seconds of change credit a post signed at `timestamp` earns against a surface stored at
 * `storedTimestamp`, landing in a block at `blockTimestamp`, as `SviMath.changeElapsed`:
 * timestamp − max(stored, block − 1 h), or 0 if negative. Credit starts no earlier than an hour
 * before the block, so posts chained in one block move a surface at most R(c) in total and, over a
 * span S, at most R(c)^(1 + S / 1 h). Feed the result to `sviAllowedChangeRatioOver` and
 * `sviCarriedConfidence`. A signer that does not know the landing block should assume the latest
 * one it can land in: later blocks only shorten the credit of a post after an hour's quiet.
 *
 * @example
 * sviChangeElapsed(1_000n, 1_600n, 1_612n) === 600n; // ten minutes after the surface in force
 * sviChangeElapsed(0n, 7_200n, 7_212n) === 3_588n; // a quiet surface: credit from an hour before the block
 * sviChangeElapsed(0n, 3_600n, 7_212n) === 0n; // backdated an hour: no credit
 */
export function sviChangeElapsed(storedTimestamp: bigint, timestamp: bigint, blockTimestamp: bigint): bigint {
  let from = blockTimestamp > SVI_CHANGE_PERIOD ? blockTimestamp - SVI_CHANGE_PERIOD : 0n;
  if (storedTimestamp > from) from = storedTimestamp;
  return timestamp > from ? timestamp - from : 0n;
}

/**
 * The confidence a post stands at, `elapsed` seconds after a surface in force at `previousWad`:
 * min(posted, previous + elapsed / 1 h), the rise floored to 1e-9, as `SviMath.carriedConfidence`
 * (what `VolSurfaceOracle` stores). Confidence falls at once but rises by at most 1 per hour.
 *
 * @example
 * sviCarriedConfidence(0n, 10n ** 18n, 1800n) === 5n * 10n ** 17n; // half an hour after a confidence-0 post
 */
export function sviCarriedConfidence(previousWad: bigint, postedWad: bigint, elapsed: bigint): bigint {
  const cap = previousWad + ((elapsed * 10n ** 9n) / SVI_CHANGE_PERIOD) * SVI_CONFIDENCE_STEP;
  return postedWad < cap ? postedWad : cap;
}
