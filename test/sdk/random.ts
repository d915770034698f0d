/**
 * A seeded PRNG (SplitMix64 on bigint) for the SDK parity tests: the same seed gives the same
 * cases on every run and machine. Not a test file (no tests run here).
 */
const M64 = (1n << 64n) - 1n;

/** A deterministic source of random integers. */
export interface Random {
  /** A uniform 64-bit word. */
  next64(): bigint;
  /** A uniform integer with at most `bits` bits (`0 ≤ x < 2**bits`). */
  bits(bits: number): bigint;
  /** A uniform integer in `[0, n)`, for `n ≤ 2**53`. */
  int(n: number): number;
  /** A uniform float in `[0, 1)`. */
  float(): number;
  /** A uniform bigint in `[lo, hi]`. */
  range(lo: bigint, hi: bigint): bigint;
  /** A log-uniform bigint in `[lo, hi]` (`lo > 0`), every bit random, not only the top 53. */
  logUniform(lo: bigint, hi: bigint): bigint;
  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T;
}

/**
 * A SplitMix64 generator seeded with `seed`.
 *
 * @example
 * const rng = random(0x5eedn);
 * rng.bits(256);
 */
export function random(seed: bigint): Random {
  let state = seed & M64;
  const next64 = (): bigint => {
    state = (state + 0x9e3779b97f4a7c15n) & M64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  };
  const bits = (n: number): bigint => {
    let x = 0n;
    for (let i = 0; i < n; i += 64) x = (x << 64n) | next64();
    return x & ((1n << BigInt(n)) - 1n);
  };
  const float = (): number => Number(next64() >> 11n) / 2 ** 53;
  const int = (n: number): number => Math.floor(float() * n);
  const range = (lo: bigint, hi: bigint): bigint => {
    const span = hi - lo + 1n;
    return lo + (bits(span.toString(2).length + 64) % span);
  };
  const logUniform = (lo: bigint, hi: bigint): bigint => {
    const [a, b] = [Math.log(Number(lo)), Math.log(Number(hi))];
    const approx = BigInt(Math.floor(Math.exp(a + (b - a) * float())));
    // Refill the bits a double cannot hold, then clamp into range.
    const x = approx + range(0n, approx >> 45n);
    return x < lo ? lo : x > hi ? hi : x;
  };
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next64, bits, int, float, range, logUniform, pick };
}
