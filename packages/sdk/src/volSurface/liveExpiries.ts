import { MathError } from "../math/errors.js";

/**
 * `VolSurfaceOracle.MAX_BATCH`: most expiries in one post, and most live (posted, unexpired)
 * expiries an underlying may hold, so its whole live term structure always fits one post (review
 * rv17d S1: a skew move split across posts has a calendar-inverted intermediate state).
 */
export const VOL_SURFACE_MAX_BATCH = 64n;

/**
 * `VolSurfaceInvalidBatchSize(size)`: a post with no surface or more than `VOL_SURFACE_MAX_BATCH`.
 *
 * @example
 * let error;
 * try { checkVolSurfacePostExpiries([], [], 1_700_000_000n); } catch (e) { error = e; }
 * error instanceof VolSurfaceInvalidBatchSizeError && error.args[0] === 0n; // true
 */
export class VolSurfaceInvalidBatchSizeError extends MathError {
  override name = "VolSurfaceInvalidBatchSizeError";
  constructor(size: bigint) {
    super(
      "VolSurfaceInvalidBatchSize(uint256)",
      [size],
      `A post must carry 1 to ${VOL_SURFACE_MAX_BATCH} surfaces, not ${size}`,
    );
  }
}

/**
 * `VolSurfaceTooManyExpiries(count, max)`: the post would leave more than `max` live expiries for
 * the underlying.
 *
 * @example
 * const day = (d: bigint) => (19_676n + d) * 86_400n + 28_800n;
 * const inForce = Array.from({ length: 64 }, (_, i) => day(BigInt(i) + 1n));
 * let error;
 * try { checkVolSurfacePostExpiries(inForce, [day(65n)], day(0n)); } catch (e) { error = e; }
 * error instanceof VolSurfaceTooManyExpiriesError && error.args[0] === 65n; // true
 */
export class VolSurfaceTooManyExpiriesError extends MathError {
  override name = "VolSurfaceTooManyExpiriesError";
  constructor(count: bigint, max: bigint) {
    super(
      "VolSurfaceTooManyExpiries(uint256,uint256)",
      [count, max],
      `The post would leave ${count} live expiries for the underlying, more than ${max}: the whole live term structure must fit one post; post fewer expiries, or wait until one expires`,
    );
  }
}

/**
 * The live expiries of an underlying, ascending, after a post of `postExpiries` lands in a block
 * at `blockTimestamp`: those in force (`VolSurfaceOracle.liveExpiries`, read at or before that
 * block) and the post's, each still after the block. Members that expire in flight are skipped by
 * the oracle, and expired days never count (as `VolSurfaceOracle.liveExpiryCount`).
 *
 * @example
 * volSurfaceLiveExpiriesAfter([1_700_121_600n, 1_700_208_000n], [1_700_294_400n], 1_700_150_000n); // [1_700_208_000n, 1_700_294_400n]
 */
export function volSurfaceLiveExpiriesAfter(
  inForce: readonly bigint[],
  postExpiries: readonly bigint[],
  blockTimestamp: bigint,
): bigint[] {
  const live = new Set<bigint>();
  for (const e of [...inForce, ...postExpiries]) if (e > blockTimestamp) live.add(e);
  return [...live].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * The oracle's two checks on a post's expiries as a whole, as `VolSurfaceOracle.post` applies them
 * in a block at `blockTimestamp`: 1 to `VOL_SURFACE_MAX_BATCH` surfaces
 * (`VolSurfaceInvalidBatchSizeError`), and, when the post adds an expiry not in force, at most
 * `VOL_SURFACE_MAX_BATCH` live expiries afterwards (`VolSurfaceTooManyExpiriesError(count, max)`).
 * `inForce` is `VolSurfaceOracle.liveExpiries(underlying)` read at or before that block: reading
 * earlier only errs safe (an expiry that passes meanwhile is still counted). Returns the live count.
 *
 * @example
 * checkVolSurfacePostExpiries([1_700_121_600n], [1_700_121_600n, 1_700_208_000n], 1_700_050_000n); // 2n
 */
export function checkVolSurfacePostExpiries(
  inForce: readonly bigint[],
  postExpiries: readonly bigint[],
  blockTimestamp: bigint,
): bigint {
  const size = BigInt(postExpiries.length);
  if (size === 0n || size > VOL_SURFACE_MAX_BATCH) throw new VolSurfaceInvalidBatchSizeError(size);
  const live = volSurfaceLiveExpiriesAfter(inForce, postExpiries, blockTimestamp);
  const count = BigInt(live.length);
  const known = new Set(inForce);
  const adds = postExpiries.some((e) => e > blockTimestamp && !known.has(e));
  if (adds && count > VOL_SURFACE_MAX_BATCH) throw new VolSurfaceTooManyExpiriesError(count, VOL_SURFACE_MAX_BATCH);
  return count;
}
