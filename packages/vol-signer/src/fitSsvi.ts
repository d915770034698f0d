/**
 * A joint fit of a whole term structure: SSVI (Gatheral and Jacquier, "Arbitrage-free SVI
 * volatility surfaces", 2014), in float64. Every expiry shares one ρ and one curvature function
 * φ(θ) = η·θ^(−γ); each has its own ATM total variance θ:
 *
 *     w(k) = θ/2·(1 + ρ·φ·k + √((φ·k + ρ)² + 1 − ρ²)),   φ = η·θ^(−γ)
 *
 * which is raw SVI with a = θ(1 − ρ²)/2, b = θφ/2, the same ρ, m = −ρ/φ, σ = √(1 − ρ²)/φ. So m and
 * σ move smoothly with θ across expiries instead of wandering with each slice's fitting noise,
 * which is what the oracle's calendar bound needs (review rv17c H2: it loses up to 2·b·δ,
 * δ = √(Δm² + Δσ²), while adjacent daily expiries differ by about 1/T of w). With θ non-decreasing
 * in T and 0 < γ < 1 the surface is free of calendar arbitrage (their Theorem 4.1); θ is made
 * non-decreasing by a pool-adjacent-violators pass. Lee's bound b·(1 + |ρ|) ≤ 2 caps φ.
 *
 * For fixed (ρ, η, γ) each θ is a one-dimensional least squares (golden section on ln θ); the
 * outer search over (ρ, ln η, γ) is Nelder–Mead (`nelderMead.ts`) from the best points of a
 * coarse grid. Deterministic. The caller still quantizes and checks every smile with the SDK.
 */
import type { SmilePoint, SviFloat } from "./fitSvi.js";
import { nelderMead } from "./nelderMead.js";

/** One expiry's points and its time to expiry in years. */
export interface SsviSlice {
  T: number;
  points: readonly SmilePoint[];
}

/** The fitted global parameters and, per slice in the order given, θ and the raw-SVI smile. */
export interface SsviFitResult {
  rho: number;
  eta: number;
  gamma: number;
  theta: number[];
  params: SviFloat[];
  /** Σ over slices of each slice's Σ weight·(w_fit − w)² / Σ weight. */
  objective: number;
}

const RHO_MAX = 0.95;
const GAMMA_MIN = 0.05;
const GAMMA_MAX = 0.95;
const ETA_MIN = 1e-3;
const ETA_MAX = 50;
/** φ is capped so that b·(1 + |ρ|) = θφ(1 + |ρ|)/2 stays this far under Lee's 2. */
const LEE_MARGIN = 1 - 1e-6;

function phiOf(theta: number, rho: number, eta: number, gamma: number): number {
  const phi = eta * Math.pow(theta, -gamma);
  const cap = (4 * LEE_MARGIN) / (theta * (1 + Math.abs(rho)));
  return phi < cap ? phi : cap;
}

function ssviW(theta: number, phi: number, rho: number, k: number): number {
  const x = phi * k + rho;
  return (theta / 2) * (1 + rho * phi * k + Math.sqrt(x * x + 1 - rho * rho));
}

function sliceObjective(points: readonly SmilePoint[], theta: number, rho: number, eta: number, gamma: number) {
  const phi = phiOf(theta, rho, eta, gamma);
  let sum = 0;
  for (const p of points) {
    const e = ssviW(theta, phi, rho, p.k) - p.w;
    sum += p.weight * e * e;
  }
  return sum;
}

/** A starting θ: the weighted mean of w over the three points nearest the money. */
function atmEstimate(points: readonly SmilePoint[]): number {
  const near = [...points].sort((p, q) => Math.abs(p.k) - Math.abs(q.k)).slice(0, 3);
  const w = near.reduce((s, p) => s + p.w, 0) / near.length;
  return Math.max(w, 1e-12);
}

/** argmin over θ of one slice's objective, by golden section on ln θ within ×/÷ 4 of `guess`. */
function bestTheta(points: readonly SmilePoint[], guess: number, rho: number, eta: number, gamma: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(guess / 4);
  let hi = Math.log(guess * 4);
  const f = (u: number) => sliceObjective(points, Math.exp(u), rho, eta, gamma);
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < 60; i++) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = f(x2);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/** Weighted pool-adjacent-violators: the non-decreasing sequence closest to `values` in least squares. */
function isotonic(values: readonly number[], weights: readonly number[]): number[] {
  const blocks: { value: number; weight: number; count: number }[] = [];
  values.forEach((value, i) => {
    blocks.push({ value, weight: weights[i]!, count: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2]!.value > blocks[blocks.length - 1]!.value) {
      const b = blocks.pop()!;
      const a = blocks.pop()!;
      const weight = a.weight + b.weight;
      blocks.push({ value: (a.value * a.weight + b.value * b.weight) / weight, weight, count: a.count + b.count });
    }
  });
  return blocks.flatMap((b) => new Array<number>(b.count).fill(b.value));
}

/** The shape of an SSVI surface: everything but the level θ of each expiry. */
export interface SsviShape {
  rho: number;
  eta: number;
  gamma: number;
}

/** The per-slice machinery both fits share: normalised weights, θ for a shape, the objective. */
function setUp(slices: readonly SsviSlice[]) {
  const normalised = slices.map((s) => {
    const total = s.points.reduce((sum, p) => sum + p.weight, 0);
    return s.points.map((p) => ({ ...p, weight: p.weight / total }));
  });
  const guesses = normalised.map(atmEstimate);
  const ones = slices.map(() => 1);
  const thetas = ({ rho, eta, gamma }: SsviShape, keep?: LevelsToKeep) =>
    isotonic(
      normalised.map((points, i) => {
        const best = bestTheta(points, guesses[i]!, rho, eta, gamma);
        const kept = keep?.theta[i];
        if (kept === undefined || !(kept > 0)) return best;
        const miss = (theta: number) => sliceObjective(points, theta, rho, eta, gamma);
        const allowed = miss(best) * (1 + keep!.tolerance);
        if (miss(kept) <= allowed) return kept;
        // Move from the kept level toward the best only to the edge of the band: the miss falls
        // monotonically from `kept` to `best` (one minimum in θ), so bisect on ln θ.
        let inside = Math.log(best);
        let outside = Math.log(kept);
        for (let i = 0; i < 60; i++) {
          const mid = (inside + outside) / 2;
          if (miss(Math.exp(mid)) <= allowed) inside = mid;
          else outside = mid;
        }
        return Math.exp(inside);
      }),
      ones,
    );
  const total = ({ rho, eta, gamma }: SsviShape, theta: readonly number[]) =>
    normalised.reduce((sum, points, i) => sum + sliceObjective(points, theta[i]!, rho, eta, gamma), 0);
  return { thetas, total };
}

function result(shape: SsviShape, theta: number[], objective: number): SsviFitResult {
  const { rho, eta, gamma } = shape;
  const params = theta.map((t) => {
    const phi = phiOf(t, rho, eta, gamma);
    return {
      a: (t * (1 - rho * rho)) / 2,
      b: (t * phi) / 2,
      rho,
      m: -rho / phi,
      sigma: Math.sqrt(1 - rho * rho) / phi,
    };
  });
  return { rho, eta, gamma, theta, params, objective };
}

/**
 * Fits SSVI jointly to `slices` (sorted by T, each with at least five points; the caller checks).
 * Each slice's weights are normalised to sum to 1, so every expiry counts alike.
 *
 * @example
 * const result = fitSsvi([{ T: 7 / 365, points: points7d }, { T: 8 / 365, points: points8d }]);
 * result.params; // one raw-SVI smile per slice, m and σ following θ
 */
export function fitSsvi(slices: readonly SsviSlice[]): SsviFitResult {
  const { thetas, total } = setUp(slices);
  const shapeOf = (u: readonly number[]): SsviShape => ({ rho: u[0]!, eta: Math.exp(u[1]!), gamma: u[2]! });
  const outer = (u: readonly number[]) => {
    const shape = shapeOf(u);
    return total(shape, thetas(shape));
  };
  const lower = [-RHO_MAX, Math.log(ETA_MIN), GAMMA_MIN];
  const upper = [RHO_MAX, Math.log(ETA_MAX), GAMMA_MAX];
  const grid: { u: number[]; value: number }[] = [];
  for (const rho of [-0.6, -0.3, 0, 0.3])
    for (const eta of [0.3, 1, 3]) {
      const u = [rho, Math.log(eta), 0.5];
      grid.push({ u, value: outer(u) });
    }
  grid.sort((p, q) => p.value - q.value);
  let best: { u: number[]; value: number } | undefined;
  for (const start of grid.slice(0, 2)) {
    const r = nelderMead(outer, start.u, { lower, upper, step: [0.2, 0.5, 0.2], maxIterations: 300 });
    if (best === undefined || r.value < best.value) best = { u: r.x, value: r.value };
  }
  const shape = shapeOf(best!.u);
  const theta = thetas(shape);
  return result(shape, theta, total(shape, theta));
}

/**
 * Levels a fit may keep: per slice a θ (undefined: none), kept where its objective exceeds the
 * slice's best θ's by at most the fraction `tolerance`, else moved toward the best θ only as far
 * as that band's edge.
 */
export interface LevelsToKeep {
  theta: readonly (number | undefined)[];
  tolerance: number;
}

/**
 * Fits only the level of an SSVI surface whose shape (ρ, η, γ) is given: θ per slice (golden
 * section, then made non-decreasing), as `fitSsvi` does for its best shape. With `keep`, a slice's
 * given θ is used instead of its best one when it misses the quotes by at most `keep.tolerance`
 * more, else the θ nearest it that does (before the non-decreasing pass): a dead band as wide as
 * the quotes' noise. The signer uses it to keep the shape and the levels of the
 * surface in force while the quotes have not moved beyond their noise (rv17d S2).
 *
 * @example
 * const held = fitSsviLevels(slices, { rho: -0.3, eta: 1, gamma: 0.5 });
 * held.objective; // compare with fitSsvi(slices).objective
 */
export function fitSsviLevels(slices: readonly SsviSlice[], shape: SsviShape, keep?: LevelsToKeep): SsviFitResult {
  const { thetas, total } = setUp(slices);
  const theta = thetas(shape, keep);
  return result(shape, theta, total(shape, theta));
}

/** Relative tolerance for reading SSVI back from stored smiles (they are on a 1e-10 quantum). */
const SHAPE_READ_TOLERANCE = 1e-5;

/**
 * The SSVI shape that raw-SVI smiles were made from (by `fitSsvi` or `fitSsviLevels`, then
 * quantized), or undefined when they are not one SSVI surface: ρ shared, m and σ in SSVI's ratio,
 * and φ = 1/√(m² + σ²) on one curve η·θ^(−γ) in θ = w(0) (read where Lee's cap did not bind; at
 * least two distinct θ needed), with η and γ inside `fitSsvi`'s bounds.
 *
 * @example
 * const shape = ssviShapeOf(fitSsvi(slices).params); // { rho, eta, gamma } as fitted
 */
export function ssviShapeOf(smiles: readonly SviFloat[]): SsviShape | undefined {
  if (smiles.length < 2) return undefined;
  const rho = smiles[0]!.rho;
  if (!(Math.abs(rho) <= RHO_MAX + SHAPE_READ_TOLERANCE)) return undefined;
  const close = (x: number, y: number) =>
    Math.abs(x - y) <= SHAPE_READ_TOLERANCE * Math.max(Math.abs(x), Math.abs(y)) + 1e-9;
  const points: { x: number; y: number }[] = [];
  for (const p of smiles) {
    if (Math.abs(p.rho - rho) > 1e-9 || !(p.sigma > 0) || !(p.b > 0)) return undefined;
    const r = Math.hypot(p.m, p.sigma);
    const phi = 1 / r;
    const theta = p.a + p.b * (-rho * p.m + r);
    if (!(theta > 0)) return undefined;
    // m = −ρ/φ, σ = √(1 − ρ²)/φ, b = θφ/2 (a follows from w(0) = θ).
    if (!close(p.m, -rho * r) || !close(p.sigma, Math.sqrt(1 - rho * rho) * r) || !close(p.b, (theta * phi) / 2)) {
      return undefined;
    }
    const capped = (theta * phi * (1 + Math.abs(rho))) / 4 >= LEE_MARGIN - SHAPE_READ_TOLERANCE;
    if (!capped) points.push({ x: Math.log(theta), y: Math.log(phi) });
  }
  if (points.length < 2) return undefined;
  // ln φ = ln η − γ·ln θ, least squares; it must fit exactly (up to the quantum).
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx < 1e-8) return undefined;
  const slope = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  const lnEta = my - slope * mx;
  if (points.some((p) => Math.abs(lnEta + slope * p.x - p.y) > SHAPE_READ_TOLERANCE)) return undefined;
  const gamma = -slope;
  const eta = Math.exp(lnEta);
  if (gamma < GAMMA_MIN - 1e-6 || gamma > GAMMA_MAX + 1e-6 || eta < ETA_MIN || eta > ETA_MAX) return undefined;
  return { rho, eta, gamma };
}
