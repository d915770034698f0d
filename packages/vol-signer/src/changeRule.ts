/**
 * The oracle's bounded-change rule against the surface in force, as the signer applies it before
 * signing (docs/vol-surface.md, "Bounded change"): the SDK's exact mirrors of `VolSurfaceOracle._store`
 * — `sviCarriedConfidence`, `sviAllowedChangeRatioOver`, `sviCheckChange`, `sviCheckChangeAtVertices`,
 * in that order — evaluated at every timestamp the oracle may store for the post, and the highest
 * confidence at which the oracle admits a move.
 */
import {
  MathError,
  SVI_CHANGE_CONFIDENCE_FLOOR_WAD,
  SVI_CHANGE_PERIOD,
  type SviParams,
  VOL_SURFACE_CONFIDENCE_QUANTUM,
  sviAllowedChangeRatioOver,
  sviCarriedConfidence,
  sviCheckChange,
  sviCheckChangeAtVertices,
  sviVariances,
} from "@pledge/sdk";

/** A surface as `VolSurfaceOracle.surface` returns it (the SDK's `getVolSurface`). */
export interface SurfaceInForce {
  params: SviParams;
  /** Stored timestamp: min(signed, the block time it landed in). */
  timestamp: bigint;
  /** Carried confidence, WAD. */
  confidenceWad: bigint;
}

/**
 * The timestamps the oracle may store for a post signed at `signed`: min(signed, landing block
 * time), where the landing block is not before the latest block seen (`blockTimestamp`). One value
 * when the post is signed at or before the chain's time.
 */
export interface StoredTimestamps {
  earliest: bigint;
  latest: bigint;
}

/**
 * The stored-timestamp range of a post signed at `signed` that lands in a block at or after one
 * timestamped `blockTimestamp` (without a chain: `signed` itself).
 *
 * @example
 * storedTimestamps(1_000n, 990n); // { earliest: 990n, latest: 1_000n }: signed 10 s ahead of the chain
 */
export function storedTimestamps(signed: bigint, blockTimestamp?: bigint): StoredTimestamps {
  const earliest = blockTimestamp !== undefined && blockTimestamp < signed ? blockTimestamp : signed;
  return { earliest, latest: signed };
}

/** What the oracle does with one update at one elapsed time, when it accepts it. */
export interface ChangeAllowance {
  /** Seconds since the surface in force (the largest of the range). */
  elapsed: bigint;
  /** The confidence the surface will stand at (`sviCarriedConfidence`). */
  carriedConfidenceWad: bigint;
  /** The factor w may move by (`sviAllowedChangeRatioOver`). */
  allowedRatioWad: bigint;
}

/** The move that breaks the rule: the SDK's `SviChangeTooLargeError` and where it was found. */
export interface ChangeRefusal {
  error: MathError;
  elapsed: bigint;
  carriedConfidenceWad: bigint;
  allowedRatioWad: bigint;
}

/**
 * The oracle's verdict on replacing `previous` by `next` posted at `postedConfidenceWad`, at every
 * stored timestamp in `stored`: the allowance at the latest one, or the first refusal. The range
 * must start after `previous.timestamp` (else the oracle refuses `VolSurfaceNotNewer`; the caller
 * checks that first).
 *
 * @example
 * const verdict = changeVerdict(4n * 10n ** 18n, inForce, fitted, 10n ** 18n, storedTimestamps(now, block.timestamp));
 * if ("error" in verdict) console.log(verdict.error.message);
 */
export function changeVerdict(
  ratioWad: bigint,
  previous: SurfaceInForce,
  next: SviParams,
  postedConfidenceWad: bigint,
  stored: StoredTimestamps,
): ChangeAllowance | ChangeRefusal {
  const before = sviVariances(previous.params);
  const after = sviVariances(next);
  let verdict: ChangeAllowance | undefined;
  for (let ts = stored.earliest; ts <= stored.latest; ts++) {
    const elapsed = ts - previous.timestamp;
    const carriedConfidenceWad = sviCarriedConfidence(previous.confidenceWad, postedConfidenceWad, elapsed);
    const allowedRatioWad = sviAllowedChangeRatioOver(ratioWad, carriedConfidenceWad, elapsed);
    try {
      sviCheckChange(before, after, allowedRatioWad);
      sviCheckChangeAtVertices(previous.params, next, allowedRatioWad);
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
 * admits the move at every stored timestamp in `stored`; undefined if none does. The bound only
 * widens as the carried confidence falls to 0.25 (`SVI_CHANGE_CONFIDENCE_FLOOR_WAD`), so the answer
 * is never below min(0.25, ceiling): a move refused at 0.25 is refused at 0.
 *
 * @example
 * const c = highestAdmittedConfidence(ratioWad, inForce, fitted, 10n ** 18n, stored); // e.g. 507_700_000_000_000_000n
 */
export function highestAdmittedConfidence(
  ratioWad: bigint,
  previous: SurfaceInForce,
  next: SviParams,
  ceilingWad: bigint,
  stored: StoredTimestamps,
): bigint | undefined {
  const step = VOL_SURFACE_CONFIDENCE_QUANTUM;
  const admits = (steps: bigint) => !("error" in changeVerdict(ratioWad, previous, next, steps * step, stored));
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
 * The earliest stored timestamp, at least `from`, at which the oracle admits the move at any
 * confidence (posted at or below 0.25, the widest bound); undefined if not even a full hour after
 * the surface in force does (the bound stops growing at one `SVI_CHANGE_PERIOD`).
 *
 * @example
 * const at = earliestAdmittedTimestamp(ratioWad, inForce, fitted, now); // re-sign at or after `at`
 */
export function earliestAdmittedTimestamp(
  ratioWad: bigint,
  previous: SurfaceInForce,
  next: SviParams,
  from: bigint,
): bigint | undefined {
  const admitsAt = (ts: bigint) =>
    !("error" in changeVerdict(ratioWad, previous, next, 0n, { earliest: ts, latest: ts }));
  let high = previous.timestamp + SVI_CHANGE_PERIOD;
  if (high < from) high = from;
  if (!admitsAt(high)) return undefined;
  // At a confidence of 0 the allowance R(0.25)^(elapsed / 1 h) only grows with time: bisect.
  let low = from - 1n;
  while (high - low > 1n) {
    const mid = (low + high) / 2n;
    if (admitsAt(mid)) high = mid;
    else low = mid;
  }
  return high;
}
