/**
 * Nelder–Mead simplex minimisation over a box, written by hand: the SVI fit needs only a 2-D
 * derivative-free search over (m, σ), and no well-kept npm package fits — `fmin` is a 0.0.x
 * release with no types that pulls a plotting dependency, and `ml-levenberg-marquardt` is a
 * least-squares solver over box bounds that cannot express the coupled SVI constraints the inner
 * problem handles (`fitSvi.ts`). Standard coefficients (reflection 1, expansion 2, contraction ½,
 * shrink ½), the textbook algorithm of Nelder and Mead (1965) as in Lagarias et al. (1998).
 */

export interface NelderMeadOptions {
  /** Lower and upper bound of each coordinate; proposals are clamped into the box. */
  lower: readonly number[];
  upper: readonly number[];
  /** Initial simplex edge along each coordinate. */
  step: readonly number[];
  /** Stop after this many iterations (default 400). */
  maxIterations?: number;
  /** Stop when the simplex's values differ by at most this fraction of the best (default 1e-14)... */
  tolerance?: number;
  /** ... or when every vertex is within this of the best along each coordinate (default 1e-10). */
  xTolerance?: number;
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  iterations: number;
}

/**
 * Minimises `f` from `start` inside the box of `options`.
 *
 * @example
 * const { x } = nelderMead(([u, v]) => (u! - 1) ** 2 + (v! + 2) ** 2, [0, 0], {
 *   lower: [-5, -5], upper: [5, 5], step: [1, 1],
 * });
 * // x ≈ [1, -2]
 */
export function nelderMead(
  f: (x: readonly number[]) => number,
  start: readonly number[],
  options: NelderMeadOptions,
): NelderMeadResult {
  const n = start.length;
  const clamp = (x: number[]) => x.map((v, i) => Math.min(options.upper[i]!, Math.max(options.lower[i]!, v)));
  const maxIterations = options.maxIterations ?? 400;
  const tolerance = options.tolerance ?? 1e-14;
  const xTolerance = options.xTolerance ?? 1e-10;
  const simplex: { x: number[]; value: number }[] = [];
  const first = clamp([...start]);
  simplex.push({ x: first, value: f(first) });
  for (let i = 0; i < n; i++) {
    const x = [...first];
    // Step inwards when the start sits on the upper bound, so that the simplex is not flat.
    x[i] = x[i]! + options.step[i]! <= options.upper[i]! ? x[i]! + options.step[i]! : x[i]! - options.step[i]!;
    const point = clamp(x);
    simplex.push({ x: point, value: f(point) });
  }
  const along = (from: number[], to: number[], t: number) => clamp(from.map((v, i) => v + t * (to[i]! - v)));
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((p, q) => p.value - q.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (worst.value - best.value <= tolerance * Math.abs(best.value)) break;
    if (simplex.every((p) => p.x.every((v, i) => Math.abs(v - best.x[i]!) <= xTolerance))) break;
    const centroid = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) centroid[i]! += simplex[j]!.x[i]! / n;
    const reflected = along(centroid, worst.x, -1);
    const fr = f(reflected);
    if (fr < best.value) {
      const expanded = along(centroid, worst.x, -2);
      const fe = f(expanded);
      simplex[n] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
      continue;
    }
    if (fr < simplex[n - 1]!.value) {
      simplex[n] = { x: reflected, value: fr };
      continue;
    }
    // Contract outside (towards the reflection) or inside (towards the worst point).
    const outside = fr < worst.value;
    const contracted = along(centroid, outside ? reflected : worst.x, 0.5);
    const fc = f(contracted);
    if (fc < (outside ? fr : worst.value)) {
      simplex[n] = { x: contracted, value: fc };
      continue;
    }
    for (let j = 1; j <= n; j++) {
      const x = along(best.x, simplex[j]!.x, 0.5);
      simplex[j] = { x, value: f(x) };
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  return { x: simplex[0]!.x, value: simplex[0]!.value, iterations };
}
