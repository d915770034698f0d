/**
 * The 50 "spread inputs" of issue 19's Black–Scholes gas target: what an options venue prices,
 * spread evenly (a Halton sequence in bases 2, 3 and 5, points 1..50) over
 *
 * - strike / spot from 0.5 to 2, uniform in ln(K/S),
 * - expiry from 1 day to 1 year, uniform in ln(T),
 * - volatility from 20 % to 200 %, uniform in ln(σ),
 *
 * at a spot of 3,000. Strike and vol are rounded to 1e-4, the expiry to the second. The set is
 * deterministic: the bench's worst-of-50 row and docs/black-scholes.md's gas table both use it.
 *
 * `blackScholesSampledInputs` draws more inputs from the same box with a seeded PRNG, so the bench
 * can report a worst case that is not tied to 50 fixed points.
 */
import { seededRandom } from "./population.js";

export interface SpreadInput {
  readonly spotWad: bigint;
  readonly strikeWad: bigint;
  readonly secondsToExpiry: bigint;
  readonly volWad: bigint;
}

/** The `index`-th element of the van der Corput sequence in `base`, in [0, 1). */
function radicalInverse(index: number, base: number): number {
  let result = 0;
  let f = 1 / base;
  for (let i = index; i > 0; i = Math.floor(i / base)) {
    result += f * (i % base);
    f /= base;
  }
  return result;
}

const SPOT = 3_000n * 10n ** 18n;

/** The input at unit coordinates `(u, v, w)` of the box, each in [0, 1), rounded as documented above. */
function boxPoint(u: number, v: number, w: number): SpreadInput {
  const strikeRatio = 2 ** (2 * u - 1);
  const days = 365 ** v;
  const vol = 0.2 * 10 ** w;
  return {
    spotWad: SPOT,
    strikeWad: (SPOT * BigInt(Math.round(strikeRatio * 1e4))) / 10_000n,
    secondsToExpiry: BigInt(Math.round(days * 86_400)),
    volWad: BigInt(Math.round(vol * 1e4)) * 10n ** 14n,
  };
}

/** The 50 spread inputs, in order. */
export function blackScholesSpreadInputs(): SpreadInput[] {
  const inputs: SpreadInput[] = [];
  for (let i = 1; i <= 50; i++) inputs.push(boxPoint(radicalInverse(i, 2), radicalInverse(i, 3), radicalInverse(i, 5)));
  return inputs;
}

/** The seed of the bench's sampled inputs; changing it changes the committed figures. */
export const SAMPLED_INPUTS_SEED = 19;

/**
 * `count` inputs drawn uniformly (in ln K/S, ln T and ln σ) from the same box as the spread
 * inputs, with a fixed seed (the stress population's mulberry32, `seededRandom`): deterministic,
 * so the bench's sampled worst, p99 and mean are reproducible.
 */
export function blackScholesSampledInputs(count: number, seed: number = SAMPLED_INPUTS_SEED): SpreadInput[] {
  const random = seededRandom(seed);
  const inputs: SpreadInput[] = [];
  for (let i = 0; i < count; i++) inputs.push(boxPoint(random(), random(), random()));
  return inputs;
}
