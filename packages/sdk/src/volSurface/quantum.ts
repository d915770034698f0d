import type { VolSurfaceInput } from "./typedData.js";

/** Stored precision of a, b, rho, m and sigma: multiples of 1e8 wei (1e-10), `PARAM_QUANTUM`. */
export const VOL_SURFACE_PARAM_QUANTUM = 10n ** 8n;
/** Stored precision of the confidence: multiples of 1e9 wei (1e-9), `CONFIDENCE_QUANTUM`. */
export const VOL_SURFACE_CONFIDENCE_QUANTUM = 10n ** 9n;

/**
 * Whether every field is on the oracle's stored precision, so the oracle stores exactly what was
 * signed (else it reverts `VolSurfaceParameterNotQuantized(expiry)`).
 *
 * @example
 * const s = { expiry: 1_702_800_000n, a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n, confidence: 10n ** 18n };
 * isVolSurfaceInputQuantized(s); // true
 * isVolSurfaceInputQuantized({ ...s, a: s.a + 1n }); // false
 */
export function isVolSurfaceInputQuantized(s: VolSurfaceInput): boolean {
  const q = VOL_SURFACE_PARAM_QUANTUM;
  return (
    s.a % q === 0n &&
    s.b % q === 0n &&
    s.rho % q === 0n &&
    s.m % q === 0n &&
    s.sigma % q === 0n &&
    s.confidence % VOL_SURFACE_CONFIDENCE_QUANTUM === 0n
  );
}

/**
 * `s` on the oracle's stored precision: a, b, rho, m, sigma to the nearest multiple of 1e8 (half
 * away from zero), the confidence down to a multiple of 1e9 (never claiming more than given).
 * Rounding can move a parameter across an admissibility edge by up to 5e7 wei: check the result
 * with `sviCheckAdmissible` before signing.
 *
 * @example
 * const s = quantizeVolSurfaceInput({ expiry: 1_702_800_000n, a: 20_000_000_049_999_999n, b: 10n ** 17n, rho: -299_999_999_950_000_000n, m: 0n, sigma: 2n * 10n ** 17n, confidence: 999_999_999_999_999_999n });
 * s.a === 20_000_000_000_000_000n && s.rho === -300_000_000_000_000_000n && s.confidence === 999_999_999_000_000_000n; // true
 */
export function quantizeVolSurfaceInput(s: VolSurfaceInput): VolSurfaceInput {
  const round = (x: bigint) => {
    const q = VOL_SURFACE_PARAM_QUANTUM;
    const half = q / 2n;
    return x >= 0n ? ((x + half) / q) * q : -((-x + half) / q) * q;
  };
  return {
    expiry: s.expiry,
    a: round(s.a),
    b: round(s.b),
    rho: round(s.rho),
    m: round(s.m),
    sigma: round(s.sigma),
    confidence: (s.confidence / VOL_SURFACE_CONFIDENCE_QUANTUM) * VOL_SURFACE_CONFIDENCE_QUANTUM,
  };
}
