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
 */
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

/** The 50 spread inputs, in order. */
export function blackScholesSpreadInputs(): SpreadInput[] {
  const inputs: SpreadInput[] = [];
  for (let i = 1; i <= 50; i++) {
    const strikeRatio = 2 ** (2 * radicalInverse(i, 2) - 1);
    const days = 365 ** radicalInverse(i, 3);
    const vol = 0.2 * 10 ** radicalInverse(i, 5);
    inputs.push({
      spotWad: SPOT,
      strikeWad: (SPOT * BigInt(Math.round(strikeRatio * 1e4))) / 10_000n,
      secondsToExpiry: BigInt(Math.round(days * 86_400)),
      volWad: BigInt(Math.round(vol * 1e4)) * 10n ** 14n,
    });
  }
  return inputs;
}
