/**
 * The oracle's bounded-change rule against the surface in force, as the signer applies it before
 * signing (docs/vol-surface.md, "Bounded change"): the SDK's exact mirrors of `VolSurfaceOracle._store`
 * — `sviChangeElapsed`, `sviCarriedConfidence`, `sviAllowedChangeRatioOver`, `sviCheckChange`
 * (annualised by each smile's own time to expiry), in that order — evaluated for every block the
 * post may land in, and the highest confidence at which the oracle admits a move.
 */
import {
  MathError,
  SVI_CHANGE_CONFIDENCE_FLOOR_WAD,
  SVI_CHANGE_PERIOD,
  type SviParams,
  VOL_SURFACE_CONFIDENCE_QUANTUM,
  sviAllowedChangeRatioOver,
  sviCarriedConfidence,
  sviChangeElapsed,
  sviCheckChange,
} from "@pledge/sdk";

/** A surface as `VolSurfaceOracle.surface` returns it (the SDK's `getVolSurface`). */
export interface SurfaceInForce {
  params: SviParams;
  /** Stored timestamp: the signed one. */
  timestamp: bigint;
  /** Carried confidence, WAD. */
  confidenceWad: bigint;
}

/**
 * The block timestamps a post may land in: from the later of its signed time and the latest block
 * seen, to that plus the landing latency. The oracle's change credit depends on the landing block
 * (`sviChangeElapsed`: it starts no earlier than an hour before the block), so a post is checked
 * for every block in the window.
 */
export interface LandingWindow {
  from: bigint;
  to: bigint;
}

/**
 * The landing window of a post signed at `signed`, with the latest block at `blockTimestamp`
 * (without a chain: from `signed`), landing within `latency` seconds.
 *
 * @example
 * landingWindow(1_000n, 1_012n, 300n); // { from: 1_012n, to: 1_312n }
 */
export function landingWindow(signed: bigint, blockTimestamp: bigint | undefined, latency: bigint): LandingWindow {
  const from = blockTimestamp !== undefined && blockTimestamp > signed ? blockTimestamp : signed;
  return { from, to: from + latency };
}

/** What the oracle does with one update, when it accepts it in every block of the window. */
export interface ChangeAllowance {
  /** Seconds of change credit in the latest block of the window (the least: the worst case). */
  elapsed: bigint;
  /** The confidence the surface will stand at then (`sviCarriedConfidence`). */
  carriedConfidenceWad: bigint;
  /** The factor annualised variance may move by then (`sviAllowedChangeRatioOver`). */
  allowedRatioWad: bigint;
}

/** The move that breaks the rule: the SDK's error and the credit it was found at. */
export interface ChangeRefusal {
  error: MathError;
  elapsed: bigint;
  carriedConfidenceWad: bigint;
  allowedRatioWad: bigint;
}

/** One update: the surface in force, the new smile, its expiry and its signed time. */
export interface ChangeCase {
  ratioWad: bigint;
  previous: SurfaceInForce;
  next: SviParams;
  expiry: bigint;
  signed: bigint;
}

/**
 * The oracle's verdict on replacing `previous` by `next` (expiry `expiry`, signed at `signed`,
 * posted at `postedConfidenceWad`) for every landing block in `window`: the allowance in the
 * latest block, or the first refusal. `signed` must be after `previous.timestamp` (else the oracle
 * refuses `VolSurfaceNotNewer`; the caller checks that first) and before `expiry`.
 *
 * @example
 * const verdict = changeVerdict({ ratioWad, previous: inForce, next: fitted, expiry, signed: now }, 10n ** 18n, landingWindow(now, block, 300n));
 * if ("error" in verdict) console.log(verdict.error.message);
 */
export function changeVerdict(
  c: ChangeCase,
  postedConfidenceWad: bigint,
  window: LandingWindow,
): ChangeAllowance | ChangeRefusal {
  // Credit falls by one second per second of landing later (once the surface in force is more
  // than an hour older than the block), so the window's blocks give every credit in [least, most].
  const most = sviChangeElapsed(c.previous.timestamp, c.signed, window.from);
  const least = sviChangeElapsed(c.previous.timestamp, c.signed, window.to);
  const previousTau = c.expiry - c.previous.timestamp;
  const nextTau = c.expiry - c.signed;
  let verdict: ChangeAllowance | undefined;
  for (let elapsed = most; elapsed >= least; elapsed--) {
    const carriedConfidenceWad = sviCarriedConfidence(c.previous.confidenceWad, postedConfidenceWad, elapsed);
    const allowedRatioWad = sviAllowedChangeRatioOver(c.ratioWad, carriedConfidenceWad, elapsed);
    try {
      sviCheckChange(c.previous.params, c.next, allowedRatioWad, previousTau, nextTau);
    } catch (error) {
      if (!(error instanceof MathError)) throw error;
      return { error, elapsed, carriedConfidenceWad, allowedRatioWad };
    }
    verdict = { elapsed, carriedConfidenceWad, allowedRatioWad };
  }
  return verdict!;
}

/**
 * The highest confidence, on the oracle's 1e-9 step and at most `ceilingWad`, at which the oracle
 * admits the move in every block of `window`; undefined if none does. The bound only widens as
 * the carried confidence falls to 0.25 (`SVI_CHANGE_CONFIDENCE_FLOOR_WAD`), so the answer is never
 * below min(0.25, ceiling): a move refused at 0.25 is refused at 0.
 *
 * @example
 * const c = highestAdmittedConfidence(change, 10n ** 18n, window); // e.g. 507_700_000_000_000_000n
 */
export function highestAdmittedConfidence(
  c: ChangeCase,
  ceilingWad: bigint,
  window: LandingWindow,
): bigint | undefined {
  const step = VOL_SURFACE_CONFIDENCE_QUANTUM;
  const admits = (steps: bigint) => !("error" in changeVerdict(c, steps * step, window));
  let high = ceilingWad / step;
  if (admits(high)) return high * step;
  // Below the floor the allowance no longer grows: test there, then bisect (admits is monotone).
  let low = (ceilingWad < SVI_CHANGE_CONFIDENCE_FLOOR_WAD ? ceilingWad : SVI_CHANGE_CONFIDENCE_FLOOR_WAD) / step;
  if (!admits(low)) return undefined;
  while (high - low > 1n) {
    const mid = (low + high) / 2n;
    if (admits(mid)) low = mid;
    else high = mid;
  }
  return low * step;
}

/**
 * The earliest time, at least `from`, at which a post signed then (and landing within `latency`
 * seconds) is admitted at any confidence (posted at or below 0.25, the widest bound); undefined
 * if not even signing an hour after the surface in force does (the credit stops growing there).
 *
 * @example
 * const at = earliestAdmittedTimestamp(change, now, 300n); // re-sign at or after `at`
 */
export function earliestAdmittedTimestamp(c: ChangeCase, from: bigint, latency: bigint): bigint | undefined {
  const admitsAt = (ts: bigint) =>
    ts < c.expiry && !("error" in changeVerdict({ ...c, signed: ts }, 0n, { from: ts, to: ts + latency }));
  let high = c.previous.timestamp + SVI_CHANGE_PERIOD + latency;
  if (high < from) high = from;
  if (!admitsAt(high)) return undefined;
  // At a confidence of 0 the allowance R(0.25)^(credit / 1 h) only grows as the post is signed
  // later (until the credit saturates): bisect.
  let low = from - 1n;
  while (high - low > 1n) {
    const mid = (low + high) / 2n;
    if (admitsAt(mid)) high = mid;
    else low = mid;
  }
  return high;
}
