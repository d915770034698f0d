import { SVI_CHANGE_PERIOD, type SviParams, sviVol } from "../math/sviMath.js";

/**
 * `VolSurfaceOracle.MATURITY_STEP`: a surface's maturity time (an hour after its first post
 * landed) is rounded up to this many seconds, so the wait fits the 6 spare bits of its stored word.
 */
export const VOL_SURFACE_MATURITY_STEP = 120n;

/** The surface in force before a post, as `getVolSurface` (or `surface()`) reads it. */
export interface VolSurfaceMaturityState {
  /** When the surface in force was signed, unix seconds. */
  timestamp: bigint;
  /** Its maturity time (`surface().maturesAt`), unix seconds; always a multiple of the step. */
  maturesAt: bigint;
}

/**
 * The maturity time (`surface().maturesAt`) the oracle stores after a post signed at `timestamp`
 * lands in a block at `blockTimestamp`, as `VolSurfaceOracle._firstMaturitySteps` and
 * `_maturityStepsAfter`. A first post (`previous` undefined) matures at its landing block + 1 h
 * (`SVI_CHANGE_PERIOD`), rounded up to `VOL_SURFACE_MATURITY_STEP`: landing, not signing (review
 * rv17b G5). An update keeps that time exactly while it is ahead of the update's timestamp step;
 * once passed, the update's timestamp rounded down to the step (passed all the same).
 *
 * @example
 * volSurfaceMaturesAt(undefined, 1_700_000_000n, 1_700_000_040n) === 1_700_003_640n; // an hour after landing
 * volSurfaceMaturesAt(undefined, 1_699_996_441n, 1_700_000_041n) === 1_700_003_760n; // backdated, off the step: rounded up
 * volSurfaceMaturesAt({ timestamp: 1_700_000_000n, maturesAt: 1_700_003_640n }, 1_700_000_600n, 1_700_000_612n) === 1_700_003_640n; // a re-post keeps it
 */
export function volSurfaceMaturesAt(
  previous: VolSurfaceMaturityState | undefined,
  timestamp: bigint,
  blockTimestamp: bigint,
): bigint {
  const step = VOL_SURFACE_MATURITY_STEP;
  if (previous === undefined) return ((blockTimestamp + SVI_CHANGE_PERIOD + step - 1n) / step) * step;
  const at = previous.maturesAt / step;
  const tsStep = timestamp / step;
  return (at > tsStep ? at : tsStep) * step;
}

/** A stored surface, as `getVolSurface` reads it. */
export interface VolSurfaceMarkState {
  params: SviParams;
  timestamp: bigint;
  confidenceWad: bigint;
  maturesAt: bigint;
}

export interface VolSurfaceMarkVolParameters {
  /** The surface in force, or undefined when none was posted (the oracle reads zeros). */
  surface: VolSurfaceMarkState | undefined;
  /** Unix seconds. */
  expiry: bigint;
  spotWad: bigint;
  strikeWad: bigint;
  /** The block the engine reads in. */
  blockTimestamp: bigint;
  /** Whether the underlying is listed (`isListed`); an unlisted one reads zeros. */
  listed: boolean;
}

export interface VolSurfaceMarkVolReturnType {
  volWad: bigint;
  timestamp: bigint;
  confidenceWad: bigint;
  /** Whether the surface may mark: `blockTimestamp` ≥ its `maturesAt`. */
  mature: boolean;
}

/**
 * `VolSurfaceOracle.markVol` to the wei: the posted vol (as `volAt`, annualised over expiry − the
 * surface's timestamp), its timestamp and carried confidence, and whether the surface is mature.
 * Never throws for a missing surface: no surface, an unlisted underlying or an expiry at or
 * before `blockTimestamp` give all zeros and `mature: false` (throws only as `sviVol` does, on a
 * spot or strike out of range).
 *
 * @example
 * const surface = await getVolSurface(publicClient, { addressBook, underlying: weth, expiry });
 * const { timestamp: blockTimestamp } = await publicClient.getBlock();
 * const mark = volSurfaceMarkVol({ surface, expiry, spotWad: 2000n * 10n ** 18n, strikeWad: 1800n * 10n ** 18n, blockTimestamp, listed: true });
 * if (!mark.mature) console.log("the expiry is under an hour on chain: it does not mark yet");
 */
export function volSurfaceMarkVol(params: VolSurfaceMarkVolParameters): VolSurfaceMarkVolReturnType {
  const { surface, expiry, blockTimestamp } = params;
  if (surface === undefined || expiry <= blockTimestamp || !params.listed) {
    return { volWad: 0n, timestamp: 0n, confidenceWad: 0n, mature: false };
  }
  return {
    volWad: sviVol(surface.params, params.spotWad, params.strikeWad, expiry - surface.timestamp),
    timestamp: surface.timestamp,
    confidenceWad: surface.confidenceWad,
    mature: blockTimestamp >= surface.maturesAt,
  };
}
