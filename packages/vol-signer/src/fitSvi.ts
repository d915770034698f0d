/**
 * Raw-SVI fit of one expiry's smile, in float64, by the quasi-explicit method of Zeliade Systems
 * (De Marco and Martini, "Quasi-explicit calibration of Gatheral's SVI model", 2009): with y =
 * (k − m)/σ the total variance is
 *
 *     w = a + d·y + c·√(y² + 1),    c = b·σ,  d = ρ·b·σ,
 *
 * linear in (a, d, c) for fixed (m, σ). The inner problem is a 3-variable weighted least squares
 * under linear constraints (solved exactly below); the outer one is a 2-D search over (m, ln σ)
 * by Nelder–Mead from the best points of a coarse grid. Both are written by hand: see
 * `nelderMead.ts` for why no npm package is used.
 *
 * The inner constraints keep every fit inside the domain `VolSurfaceOracle` accepts:
 * - |ρ| ≤ 1 − 1e-3: (1 − ε)·c ± d ≥ 0 (which also gives b ≥ 0);
 * - Lee's bound b·(1 + |ρ|) ≤ 2: c ± d ≤ 2σ;
 * - non-negative variance a + b·σ·√(1 − ρ²) ≥ 0: √(1 − ρ²) is concave, so it lies above its
 *   chords through the knots of `SQRT_KNOTS`, and a + c·ℓ(ρ) ≥ 0 for each chord line ℓ(ρ) =
 *   α + β·ρ, i.e. a + α·c + β·d ≥ 0, is a linear inner approximation of the exact (convex)
 *   constraint: slightly stricter, never looser.
 * σ is kept in [1e-3, 4] by the outer box, so σ > 0.
 */
import { nelderMead } from "./nelderMead.js";

/** One point of a smile: log-moneyness, target total variance and its weight. */
export interface SmilePoint {
  /** k = ln(K / S). */
  k: number;
  /** Total variance to fit, iv²·T. */
  w: number;
  /** Weight of the squared residual (> 0). */
  weight: number;
}

/** Raw-SVI parameters in float64. */
export interface SviFloat {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

export interface SviFitResult {
  params: SviFloat;
  /** Σ weight·(w_fit − w)² / Σ weight. */
  objective: number;
}

/** |ρ| ≤ 1 − RHO_MARGIN: strictly inside the oracle's |ρ| < 1 after quantizing to 1e-10. */
const RHO_MARGIN = 1e-3;
/** Knots of the chords under √(1 − ρ²) on [−1, 1]. */
const SQRT_KNOTS = [-1, -0.97, -0.9, -0.75, -0.5, 0, 0.5, 0.75, 0.9, 0.97, 1];
const SIGMA_MIN = 1e-3;
const SIGMA_MAX = 4;

/** A linear constraint g·(a, d, c) ≥ h. */
interface Constraint {
  g: [number, number, number];
  h: number;
}

function chordConstraints(): Constraint[] {
  const f = (r: number) => Math.sqrt(Math.max(0, 1 - r * r));
  const out: Constraint[] = [];
  for (let j = 0; j + 1 < SQRT_KNOTS.length; j++) {
    const r0 = SQRT_KNOTS[j]!;
    const r1 = SQRT_KNOTS[j + 1]!;
    const beta = (f(r1) - f(r0)) / (r1 - r0);
    const alpha = f(r0) - beta * r0;
    out.push({ g: [1, beta, alpha], h: 0 });
  }
  return out;
}
const CHORDS = chordConstraints();

/**
 * Total variance of raw SVI at k, in float64 (for fitting; the chain's value is the SDK's
 * `sviTotalVariance`).
 *
 * @example
 * sviFloatVariance({ a: 0.02, b: 0.1, rho: -0.3, m: 0, sigma: 0.2 }, 0); // 0.04
 */
export function sviFloatVariance(p: SviFloat, k: number): number {
  const x = k - p.m;
  return p.a + p.b * (p.rho * x + Math.sqrt(x * x + p.sigma * p.sigma));
}

/** Solves the square system A·x = b by Gaussian elimination with partial pivoting; undefined if singular. */
function solve(A: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r]![col]!) > Math.abs(M[pivot]![col]!)) pivot = r;
    const scale = Math.max(...M.map((row) => Math.abs(row[col]!)));
    if (Math.abs(M[pivot]![col]!) <= 1e-13 * (scale || 1)) return undefined;
    [M[col], M[pivot]] = [M[pivot]!, M[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = M[r]![col]! / M[col]![col]!;
      if (factor === 0) continue;
      for (let c = col; c <= n; c++) M[r]![c]! -= factor * M[col]![c]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}

/**
 * The best (a, d, c) for fixed (m, σ): the weighted least squares under the linear constraints
 * above, solved exactly. The problem is a convex quadratic programme in three variables, so its
 * optimum is the optimum of the equality-constrained problem on some set of at most three active
 * constraints: every such set is tried (the unconstrained one first) and the best feasible
 * candidate kept.
 */
function innerFit(points: readonly SmilePoint[], m: number, sigma: number): { x: number[]; objective: number } {
  const M = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const v = [0, 0, 0];
  const rows = points.map((p) => {
    const y = (p.k - m) / sigma;
    return [1, y, Math.sqrt(y * y + 1)] as const;
  });
  points.forEach((p, i) => {
    const r = rows[i]!;
    for (let s = 0; s < 3; s++) {
      v[s]! += p.weight * p.w * r[s]!;
      for (let t = 0; t < 3; t++) M[s]![t]! += p.weight * r[s]! * r[t]!;
    }
  });
  const constraints: Constraint[] = [
    { g: [0, -1, 1 - RHO_MARGIN], h: 0 },
    { g: [0, 1, 1 - RHO_MARGIN], h: 0 },
    { g: [0, -1, -1], h: -2 * sigma },
    { g: [0, 1, -1], h: -2 * sigma },
    ...CHORDS,
  ];
  const objective = (x: number[]) => {
    let sum = 0;
    points.forEach((p, i) => {
      const r = rows[i]!;
      const e = x[0]! * r[0] + x[1]! * r[1] + x[2]! * r[2] - p.w;
      sum += p.weight * e * e;
    });
    return sum;
  };
  const feasible = (x: number[]) =>
    constraints.every(({ g, h }) => g[0] * x[0]! + g[1] * x[1]! + g[2] * x[2]! >= h - 1e-12 * (1 + Math.abs(h)));
  let best: { x: number[]; objective: number } | undefined;
  const consider = (active: readonly Constraint[]): boolean => {
    // KKT system of min xᵀMx − 2vᵀx subject to gᵀx = h for the active g.
    const size = 3 + active.length;
    const A = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    const rhs = new Array<number>(size).fill(0);
    for (let s = 0; s < 3; s++) {
      for (let t = 0; t < 3; t++) A[s]![t] = M[s]![t]!;
      rhs[s] = v[s]!;
    }
    active.forEach(({ g, h }, j) => {
      for (let s = 0; s < 3; s++) {
        A[s]![3 + j] = -g[s]!;
        A[3 + j]![s] = g[s]!;
      }
      rhs[3 + j] = h;
    });
    const solution = solve(A, rhs);
    if (solution === undefined) return false;
    const x = solution.slice(0, 3);
    if (!x.every(Number.isFinite) || !feasible(x)) return false;
    const value = objective(x);
    if (best === undefined || value < best.objective) best = { x, objective: value };
    return true;
  };
  if (consider([])) return best!;
  // A superset of a set whose optimum is feasible cannot do better (it minimises over less), so
  // such sets are skipped.
  const n = constraints.length;
  const feasibleSets: number[] = [];
  const tryMask = (mask: number, active: Constraint[]) => {
    if (feasibleSets.some((f) => (mask & f) === f)) return;
    if (consider(active)) feasibleSets.push(mask);
  };
  for (let i = 0; i < n; i++) tryMask(1 << i, [constraints[i]!]);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) tryMask((1 << i) | (1 << j), [constraints[i]!, constraints[j]!]);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      for (let l = j + 1; l < n; l++)
        tryMask((1 << i) | (1 << j) | (1 << l), [constraints[i]!, constraints[j]!, constraints[l]!]);
  // (a, d, c) = (0, 0, 0) satisfies every constraint, so some candidate is always feasible; this
  // fallback only guards against a numerically singular system everywhere.
  return best ?? { x: [0, 0, 0], objective: objective([0, 0, 0]) };
}

function toParams(x: readonly number[], m: number, sigma: number): SviFloat {
  const [a, d, c] = x as [number, number, number];
  if (c <= 0) return { a, b: 0, rho: 0, m, sigma };
  return { a, b: c / sigma, rho: Math.max(-(1 - RHO_MARGIN), Math.min(1 - RHO_MARGIN, d / c)), m, sigma };
}

/**
 * Fits raw SVI to `points` (at least five distinct k; the caller checks). Deterministic: the same
 * points give the same parameters.
 *
 * @example
 * const truth = { a: 0.02, b: 0.1, rho: -0.3, m: 0.01, sigma: 0.2 };
 * const points = [-0.4, -0.2, -0.1, 0, 0.1, 0.2, 0.4].map((k) => ({ k, w: sviFloatVariance(truth, k), weight: 1 }));
 * fitSvi(points).params; // ≈ truth
 */
export function fitSvi(points: readonly SmilePoint[]): SviFitResult {
  const totalWeight = points.reduce((s, p) => s + p.weight, 0);
  const normalised = points.map((p) => ({ ...p, weight: p.weight / totalWeight }));
  const ks = points.map((p) => p.k);
  const kMin = Math.min(...ks);
  const kMax = Math.max(...ks);
  const range = Math.max(kMax - kMin, 0.1);
  const lower = [kMin - range, Math.log(SIGMA_MIN)];
  const upper = [kMax + range, Math.log(SIGMA_MAX)];
  const outer = (u: readonly number[]) => innerFit(normalised, u[0]!, Math.exp(u[1]!)).objective;

  const grid: { u: number[]; value: number }[] = [];
  for (let i = 0; i <= 4; i++) {
    for (const sigma of [0.01, 0.03, 0.1, 0.3, 1]) {
      const u = [kMin + ((kMax - kMin) * i) / 4, Math.log(sigma)];
      grid.push({ u, value: outer(u) });
    }
  }
  grid.sort((p, q) => p.value - q.value);
  let best: { u: number[]; value: number } | undefined;
  for (const start of grid.slice(0, 3)) {
    const result = nelderMead(outer, start.u, { lower, upper, step: [0.1 * range, 0.5], maxIterations: 600 });
    if (best === undefined || result.value < best.value) best = { u: result.x, value: result.value };
  }
  const m = best!.u[0]!;
  const sigma = Math.exp(best!.u[1]!);
  const inner = innerFit(normalised, m, sigma);
  return { params: toParams(inner.x, m, sigma), objective: inner.objective };
}
