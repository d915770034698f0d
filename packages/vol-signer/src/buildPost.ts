/**
 * From quotes to posts the oracle will accept: one raw-SVI smile per expiry, fitted jointly across
 * a dense term structure (SSVI, `fitSsvi.ts`: m and σ follow a smooth curve, rv17c H2) or per
 * expiry (`fitSvi.ts`), quantized to the oracle's stored precision (the SDK's
 * `quantizeVolSurfaceInput`) and checked with the SDK's exact mirrors of the oracle's checks, in
 * the oracle's order — admissibility, then against the surface in force as the chain holds it (its
 * stored timestamp and carried confidence): not newer, and the bounded change over the credit the
 * post earns in any block it may land in (`changeRule.ts`), the live-expiry cap (the whole live
 * term structure, at most 64 expiries, goes in one post: rv17d S1), then calendar against the
 * neighbouring expiries of the post and on chain.
 * Expiries that expire within the landing latency are dropped. A move beyond the bound is signed
 * at the highest confidence the oracle admits it at, or refused (docs/vol-surface.md, "Signer
 * service"). Any other failure is a `VolSignerError` and no post is returned.
 */
import type { Address } from "viem";

import {
  EXPIRY_TIME_OF_DAY,
  MathError,
  SVI_CHANGE_CONFIDENCE_FLOOR_WAD,
  VOL_SURFACE_MAX_BATCH,
  checkVolSurfacePostExpiries,
  type SviParams,
  type VolSurfaceInput,
  type VolSurfacePost,
  VOL_SURFACE_PARAM_QUANTUM,
  isVolSurfaceInputQuantized,
  quantizeVolSurfaceInput,
  sviCheckAdmissible,
  sviCheckCalendar,
  sviVol,
} from "@pledge/sdk";
import {
  type ChangeAllowance,
  type ChangeCase,
  type LandingWindow,
  type SurfaceInForce,
  changeVerdict,
  earliestAdmittedTimestamp,
  highestAdmittedConfidence,
  landingWindow,
} from "./changeRule.js";
import { ExitCode, VolSignerError } from "./errors.js";
import { type SsviShape, fitSsvi, fitSsviLevels, ssviShapeOf } from "./fitSsvi.js";
import { type SmilePoint, type SviFloat, fitSvi } from "./fitSvi.js";
import { impliedVolWad } from "./impliedVol.js";
import type { Quote } from "./quotes.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const YEAR_SECONDS = 365 * 86_400;
/** `SeriesLib.MAX_EXPIRY_HORIZON`. */
const MAX_HORIZON = 365n * DAY;
/** `VolSurfaceOracle.MAX_POST_AGE`: a post older than this when it lands is refused. */
export const MAX_POST_AGE = 3600n;
/**
 * `VolSurfaceOracle.MAX_BATCH` (the SDK's `VOL_SURFACE_MAX_BATCH`): most expiries in one post,
 * and most live expiries per underlying. Every expiry goes in one post (rv17d S1); more are refused.
 */
export const MAX_BATCH = Number(VOL_SURFACE_MAX_BATCH);
/**
 * `fit: "auto"` fits jointly (SSVI) when two adjacent expiries of the quotes are closer than this:
 * per-expiry fits of such a term structure are refused by the oracle's calendar bound for a few %
 * of σ noise (docs/vol-surface.md, "Limits", rv17c H2).
 */
export const DENSE_SPACING = 7n * DAY;
/** Default landing latency: expiries closer than this to the post's landing are left out. */
export const DEFAULT_LANDING_LATENCY = 300n;
/** Spreads narrower than this (in vol) weigh as this, so that a zero-width quote cannot dominate. */
const MIN_SPREAD_VOL = 1e-3;
/** A smile needs at least this many strikes (SVI has five parameters). */
export const MIN_STRIKES = 5;

/** What the chain holds that a post is checked against (see `readOracleContext`). */
export interface OracleContext {
  changeRatioWad: bigint;
  /** The timestamp of the block the context was read at: the post lands in this block or a later one. */
  blockTimestamp: bigint;
  /**
   * The underlying's live expiries on chain (`VolSurfaceOracle.liveExpiries`), ascending: counted
   * against the cap of 64, and each a calendar neighbour whether quoted or not.
   */
  liveExpiries: readonly bigint[];
  /**
   * Surfaces in force, by expiry, as `surface()` returns them (stored timestamp, carried
   * confidence): every live expiry's.
   */
  surfaces: ReadonlyMap<bigint, SurfaceInForce>;
}

export interface BuildPostOptions {
  /** The post's timestamp and the time T is measured from, unix seconds. */
  nowSeconds: bigint;
  /**
   * Confidence of every surface, WAD (default 1e18); rounded down to the oracle's 1e-9. A ceiling:
   * an update that moves further than the oracle's bound at this confidence is posted at the
   * highest confidence that admits it, unless `keepConfidence`.
   */
  confidenceWad?: bigint;
  /** Refuse a move beyond the bound at `confidenceWad` instead of lowering the confidence. */
  keepConfidence?: boolean;
  /**
   * Seconds a post may take to land (default 300): expiries at or before the post's time plus
   * this are left out (`BuildPostResult.dropped`), so none expires in flight.
   */
  landingLatencySeconds?: bigint;
  /** Reject an expiry whose fitted vols miss the quotes' mids by more than this RMS (default 0.05: 5 vol points). */
  maxRmseVol?: number;
  /** The oracle's state; without it, only the post's own expiries are checked against each other. */
  oracle?: OracleContext;
  /**
   * How the smiles are fitted: `joint` (SSVI across every expiry: one ρ and curvature φ(θ), θ per
   * expiry, non-decreasing), `per-expiry` (raw SVI per expiry, each on its own), or `auto` (the
   * default): joint when two adjacent expiries are less than `DENSE_SPACING` apart, else per expiry.
   */
  fit?: "auto" | "joint" | "per-expiry";
}

/** How one expiry's fit went. */
export interface ExpiryFit {
  expiry: bigint;
  /** The fit as posted: on the oracle's 1e-10 quantum, admissible by the SDK's exact checks. */
  params: SviParams;
  /** The confidence posted for it, WAD: the requested one, or lower if the move needed it. */
  confidenceWad: bigint;
  /**
   * For an update of a surface in force: the elapsed time, the confidence the surface will stand
   * at and the bound it was checked against; `lowered` when the confidence was lowered to fit.
   */
  change?: ChangeAllowance & { lowered: boolean };
  /** The float fit before quantizing. */
  fitted: SviFloat;
  /** Quotes used (two-sided) and skipped (no bid). */
  quotes: number;
  skipped: number;
  /** Fitted vol (as the oracle computes it) minus the quote's mid vol: RMS and largest, in vol (0.01 = 1 point). */
  rmseVol: number;
  maxErrorVol: number;
  /** Quotes whose fitted vol lies outside their bid–ask. */
  outsideSpread: number;
}

/**
 * The shape of the surface in force (SSVI ρ, η, γ, read back from the stored smiles) is kept, and
 * only the levels θ refitted, unless its weighted squared miss of the quotes (`SsviFitResult.
 * objective`) exceeds a free joint fit's by more than this fraction: then the quotes' shape
 * counts as moved and is refitted (rv17d S2). Fit noise alone (±1 vol point, 2-point spreads, 40
 * daily expiries, 60 seeds) gives a median of 1 % and at most 7.3 %; a true Δρ of 0.005 gives
 * 8 %, 0.01 gives 23 % and 0.02 about 80 %: the shape follows skew moves of about 0.01 in ρ.
 */
export const SHAPE_MOVE_THRESHOLD = 0.2;
/**
 * With the shape kept, an expiry keeps its level in force (the same annualised ATM variance) while
 * that level misses its quotes by at most this fraction more (weighted squared miss) than the
 * expiry's best level; beyond, the level moves toward the best only to the edge of that band. So
 * fit noise does not move the levels (±1-point noise moves a refitted level by up to ~3 % of
 * variance, more than the change rule allows a minute later), and a posted level stays within
 * √0.5 ≈ 0.7 of the quotes' RMS noise of the best one (about 2.5 standard errors of the level with
 * 13 strikes).
 */
export const LEVEL_MOVE_THRESHOLD = 0.5;

/**
 * Joint fits against a surface in force that is one SSVI surface: whether its shape was kept (only
 * θ refitted) or the quotes' own shape taken, and why.
 */
export interface ShapeDecision {
  held: boolean;
  /** With the shape held: how many expiries kept their level in force (LEVEL_MOVE_THRESHOLD). */
  levelsKept: number;
  /** How much more the shape in force misses the quotes than the free fit: held / free − 1. */
  excessMiss: number;
  inForce: SsviShape;
  /** The free fit's shape. */
  fitted: SsviShape;
}

/** An expiry of the quotes left out of the post, and why. */
export interface DroppedExpiry {
  expiry: bigint;
  reason: string;
}

export interface BuildPostResult {
  /** The post: every kept expiry of the quotes, in one post (at most `MAX_BATCH`). */
  post: VolSurfacePost;
  /**
   * Live expiries on chain that the quotes do not cover: they stay in force unchanged (and are
   * calendar neighbours of the post), so the post does not move the whole surface.
   */
  unquoted: bigint[];
  /** How the smiles were fitted. */
  fitMode: "joint" | "per-expiry";
  /** Joint fits over a surface in force read back as SSVI: whether its shape was kept. */
  shape?: ShapeDecision;
  fits: ExpiryFit[];
  dropped: DroppedExpiry[];
}

const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const num = (wad: bigint) => Number(wad) / 1e18;
const short = (wad: bigint) => String(Number(num(wad).toPrecision(4)));
const byTime = (x: bigint, y: bigint) => (x < y ? -1 : x > y ? 1 : 0);

/** The SDK's check error as a sentence. */
function because(error: unknown): string {
  if (error instanceof MathError) return error.message;
  throw error;
}

/**
 * The SDK's change error in numbers a reader takes in: `SviChangeTooLargeError` (k, previous w,
 * next w) or `SviChangeWingTooLargeError` (right wing, previous slope, next slope).
 */
function describeMove(error: MathError): string {
  const [first, before, after] = error.args as [bigint, bigint, bigint];
  const factor = before > 0n ? ` (×${(num(after) / num(before)).toPrecision(4)})` : "";
  if (error.name === "SviChangeWingTooLargeError") {
    return `the ${first === 1n ? "right (call)" : "left (put)"} wing's slope of total variance moves from ${short(before)} to ${short(after)}${factor}`;
  }
  return `total variance at k = ${short(first)} moves from ${short(before)} to ${short(after)}${factor}`;
}

/**
 * Fits every expiry of `quotes` and returns the post to sign, or throws `VolSignerError`.
 *
 * @example
 * const { post, fits, dropped } = buildPost(await readQuotesFile("quotes.csv"), { nowSeconds: BigInt(Math.floor(Date.now() / 1000)) });
 */
export function buildPost(quotes: readonly Quote[], options: BuildPostOptions): BuildPostResult {
  const now = options.nowSeconds;
  const chain = options.oracle;
  const given = options.confidenceWad ?? WAD;
  if (given < 0n || given > WAD) {
    throw new VolSignerError(ExitCode.INPUT, `confidence ${num(given)} is outside [0, 1]`);
  }
  // The oracle stores confidence in 1e-9 steps: round down, never claiming more than given.
  const confidence = quantizeVolSurfaceInput({
    expiry: 0n,
    a: 0n,
    b: 0n,
    rho: 0n,
    m: 0n,
    sigma: 0n,
    confidence: given,
  }).confidence;
  const latency = options.landingLatencySeconds ?? DEFAULT_LANDING_LATENCY;
  if (latency < 0n) throw new VolSignerError(ExitCode.INPUT, `landing latency ${latency} s is negative`);
  if (quotes.length === 0) throw new VolSignerError(ExitCode.INPUT, "no quotes");

  // When the post can land: from the later of its time and the latest block, within the latency.
  // The oracle stores the signed time as is and refuses one after the block (rv17b G4).
  const window: LandingWindow = landingWindow(now, chain?.blockTimestamp, latency);
  const landsFrom = window.from;
  if (chain !== undefined) {
    if (now > chain.blockTimestamp) {
      throw new VolSignerError(
        ExitCode.REJECTED,
        `the post's time ${iso(now)} is after the chain's (${iso(chain.blockTimestamp)}): the oracle refuses it (VolSurfaceFutureTimestamp); sign at or before the latest block's time; nothing signed or posted`,
      );
    }
    if (now + MAX_POST_AGE < landsFrom + latency) {
      throw new VolSignerError(
        ExitCode.REJECTED,
        `the post's time ${iso(now)} is more than ${MAX_POST_AGE} s before the chain's (${iso(chain.blockTimestamp)}) plus the landing latency (${latency} s): the oracle refuses it (VolSurfaceStaleTimestamp); nothing signed or posted`,
      );
    }
  }

  const underlying = quotes[0]!.underlying as Address;
  const byExpiry = new Map<bigint, Quote[]>();
  for (const q of quotes) byExpiry.set(q.expiry, [...(byExpiry.get(q.expiry) ?? []), q]);
  // The grid as the oracle checks it when the post lands (`SeriesLib.onExpiryGrid`): 08:00 UTC,
  // at most 365 days after the (earliest) landing block; expiries that may pass before the post
  // lands are left out rather than skipped in flight.
  const dropped: DroppedExpiry[] = [];
  const kept: bigint[] = [];
  for (const expiry of [...byExpiry.keys()].sort(byTime)) {
    if (expiry % DAY !== EXPIRY_TIME_OF_DAY || expiry > landsFrom + MAX_HORIZON) {
      throw new VolSignerError(
        ExitCode.INPUT,
        `expiry ${iso(expiry)} (${expiry}) is not on the series grid: 08:00 UTC, at most 365 days after ${iso(landsFrom)}`,
      );
    }
    if (expiry <= landsFrom + latency) {
      dropped.push({
        expiry,
        reason:
          expiry <= landsFrom
            ? `expired (the post's time is ${iso(landsFrom)})`
            : `expires within the landing latency (${latency} s after ${iso(landsFrom)})`,
      });
    } else kept.push(expiry);
  }
  if (kept.length === 0) {
    throw new VolSignerError(
      ExitCode.REJECTED,
      `every expiry of the quotes has expired or expires within the landing latency (${latency} s after ${iso(landsFrom)}): nothing to post`,
    );
  }
  // One post for the whole live term structure (rv17d S1): the oracle takes at most 64 expiries
  // per post and holds at most 64 live ones per underlying; counted as in the block read, which
  // only errs safe (an expiry in force that passes before landing is still counted).
  try {
    checkVolSurfacePostExpiries(chain?.liveExpiries ?? [], kept, chain?.blockTimestamp ?? landsFrom);
  } catch (error) {
    if (!(error instanceof MathError)) throw error;
    if (kept.length > MAX_BATCH) {
      throw new VolSignerError(
        ExitCode.REJECTED,
        `${kept.length} expiries quoted: the oracle holds at most ${MAX_BATCH} live expiries per underlying and takes them all in one post (VolSurfaceInvalidBatchSize); quote at most ${MAX_BATCH} (e.g. a daily front, then weeklies and monthlies); nothing signed or posted`,
      );
    }
    const [count] = error.args as [bigint];
    const quoted = new Set(kept);
    const others = chain!.liveExpiries.filter((e) => e > chain!.blockTimestamp && !quoted.has(e));
    throw new VolSignerError(
      ExitCode.REJECTED,
      `${kept.length} expiries quoted and ${others.length} other live on chain (${others.slice(0, 3).map(iso).join(", ")}${others.length > 3 ? `, … ${others.length - 3} more` : ""}) make ${count} live expiries: the oracle holds at most ${MAX_BATCH} per underlying (VolSurfaceTooManyExpiries); quote ${count - BigInt(MAX_BATCH)} fewer new expiries, or wait until one on chain expires; nothing signed or posted`,
    );
  }

  const prepared = kept.map((expiry) => prepareExpiry(expiry, byExpiry.get(expiry)!, now));
  const fitMode = chooseFit(options.fit ?? "auto", kept);
  let fitted: SviFloat[];
  let shape: ShapeDecision | undefined;
  if (fitMode === "joint") {
    const slices = prepared.map((p) => ({ T: p.T, points: p.points }));
    const free = fitSsvi(slices);
    fitted = free.params;
    const inForce = heldShape(kept, chain);
    if (inForce !== undefined) {
      const held = fitSsviLevels(slices, inForce);
      const excess = free.objective > 0 ? held.objective / free.objective - 1 : held.objective > 0 ? Infinity : 0;
      const keep = excess <= SHAPE_MOVE_THRESHOLD;
      let levelsKept = 0;
      if (keep) {
        // The levels in force, carried to this post's time at the same annualised variance.
        const theta = kept.map((expiry) => {
          const s = chain!.surfaces.get(expiry);
          if (s === undefined || s.timestamp >= now) return undefined;
          return (atmVariance(s.params) * Number(expiry - now)) / Number(expiry - s.timestamp);
        });
        const levels = fitSsviLevels(slices, inForce, { theta, tolerance: LEVEL_MOVE_THRESHOLD });
        fitted = levels.params;
        levelsKept = levels.theta.filter((t, i) => t === theta[i]).length;
      }
      shape = {
        held: keep,
        levelsKept,
        excessMiss: excess,
        inForce,
        fitted: { rho: free.rho, eta: free.eta, gamma: free.gamma },
      };
    }
  } else {
    fitted = prepared.map((p) => fitSvi(p.points).params);
  }
  const maxRmse = options.maxRmseVol ?? 0.05;
  const fits = prepared.map((p, i) => finishExpiry(p, fitted[i]!, maxRmse));
  for (const f of fits) {
    f.confidenceWad = confidence;
    const inForce = chain?.surfaces.get(f.expiry);
    if (chain !== undefined && inForce !== undefined) {
      const change: ChangeCase = {
        ratioWad: chain.changeRatioWad,
        previous: inForce,
        next: f.params,
        expiry: f.expiry,
        signed: now,
      };
      const checked = checkAgainstInForce(change, confidence, window, latency, options.keepConfidence);
      f.change = checked.change;
      f.confidenceWad = checked.confidenceWad;
    }
  }

  const surfaces: VolSurfaceInput[] = fits.map((f) => ({ expiry: f.expiry, ...f.params, confidence: f.confidenceWad }));
  const failure = calendarFailure(surfaces, chain, fitMode);
  if (failure !== undefined) throw new VolSignerError(ExitCode.REJECTED, failure);
  const quoted = new Set(kept);
  const unquoted = (chain?.liveExpiries ?? []).filter((e) => e > landsFrom && !quoted.has(e));
  const post = { underlying, timestamp: now, surfaces };
  return { post, unquoted, fitMode, ...(shape === undefined ? {} : { shape }), fits, dropped };
}

/** w(0) of a stored smile, in float: a + b·(−ρm + √(m² + σ²)); θ for an SSVI smile. */
function atmVariance(p: SviParams): number {
  const [a, b, rho, m, sigma] = [num(p.a), num(p.b), num(p.rho), num(p.m), num(p.sigma)];
  return a + b * (-rho * m + Math.hypot(m, sigma));
}

/**
 * The SSVI shape of the surfaces in force for the quoted expiries, if they are one SSVI surface
 * (posted by this signer's joint fit) and at least two are in force; else undefined.
 */
function heldShape(expiries: readonly bigint[], chain: OracleContext | undefined): SsviShape | undefined {
  if (chain === undefined) return undefined;
  const smiles: SviFloat[] = [];
  for (const expiry of expiries) {
    const s = chain.surfaces.get(expiry);
    if (s === undefined) continue;
    const { a, b, rho, m, sigma } = s.params;
    smiles.push({ a: num(a), b: num(b), rho: num(rho), m: num(m), sigma: num(sigma) });
  }
  return ssviShapeOf(smiles);
}

/** `auto`: joint when two adjacent expiries are less than `DENSE_SPACING` apart. */
function chooseFit(mode: "auto" | "joint" | "per-expiry", expiries: readonly bigint[]): "joint" | "per-expiry" {
  if (mode !== "auto") return expiries.length < 2 ? "per-expiry" : mode;
  for (let i = 0; i + 1 < expiries.length; i++) if (expiries[i + 1]! - expiries[i]! < DENSE_SPACING) return "joint";
  return "per-expiry";
}

/**
 * The first calendar failure once the post lands, as a sentence, or undefined: as
 * `VolSurfaceOracle.post` checks it, each posted expiry against its nearest neighbours among
 * everything in force after the post's writes (unexpired when read; one that expires before the
 * post lands is no longer a neighbour then, so checking it too only errs safe).
 */
function calendarFailure(
  surfaces: readonly VolSurfaceInput[],
  chain: OracleContext | undefined,
  fitMode: "joint" | "per-expiry",
): string | undefined {
  const state = new Map<bigint, SviParams>();
  for (const [expiry, s] of chain?.surfaces ?? []) if (expiry > chain!.blockTimestamp) state.set(expiry, s.params);
  for (const s of surfaces) state.set(s.expiry, { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma });
  const posted = new Set(surfaces.map((s) => s.expiry));
  const ordered = [...state.keys()].sort(byTime);
  for (let i = 0; i + 1 < ordered.length; i++) {
    const [shorter, longer] = [ordered[i]!, ordered[i + 1]!];
    if (!posted.has(shorter) && !posted.has(longer)) continue;
    try {
      sviCheckCalendar(state.get(shorter)!, state.get(longer)!);
    } catch (error) {
      const which = (e: bigint) =>
        `${iso(e)}${posted.has(e) ? "" : " (on chain, not quoted: quote it to move it too)"}`;
      const hint =
        fitMode === "per-expiry"
          ? "; fitted per expiry: if the quotes are free of arbitrage, --fit joint shares the shape across expiries (docs/vol-surface.md, Limits)"
          : "";
      return `calendar arbitrage between ${which(shorter)} and ${which(longer)}: ${because(error)}${hint}; nothing posted`;
    }
  }
  return undefined;
}

/**
 * The update against the surface in force, as `VolSurfaceOracle._store` will judge it in every
 * block of the landing window: not newer is refused; a move beyond the bound at `confidence` is
 * posted at the highest confidence that admits it (unless `keep`), else refused naming the move,
 * the bound and when it would fit.
 */
function checkAgainstInForce(
  c: ChangeCase,
  confidence: bigint,
  window: LandingWindow,
  latency: bigint,
  keep = false,
): { change: ChangeAllowance & { lowered: boolean }; confidenceWad: bigint } {
  const inForce = c.previous;
  const label = `expiry ${iso(c.expiry)}`;
  if (c.signed <= inForce.timestamp) {
    throw new VolSignerError(
      ExitCode.REJECTED,
      `${label}: the surface in force is stamped ${iso(inForce.timestamp)}, not before this post's ${iso(c.signed)}: the oracle refuses it (VolSurfaceNotNewer); nothing signed or posted`,
    );
  }
  const verdict = changeVerdict(c, confidence, window);
  if (!("error" in verdict)) return { change: { ...verdict, lowered: false }, confidenceWad: confidence };
  const bound = `${verdict.elapsed} s of credit after the surface in force (${iso(inForce.timestamp)}, confidence ${short(inForce.confidenceWad)}) the oracle allows ×${short(verdict.allowedRatioWad)} in annualised variance at confidence ${short(verdict.carriedConfidenceWad)}`;
  const admitted = highestAdmittedConfidence(c, confidence, window);
  if (admitted !== undefined && !keep) {
    const lowered = changeVerdict(c, admitted, window) as ChangeAllowance;
    return { change: { ...lowered, lowered: true }, confidenceWad: admitted };
  }
  let hint: string;
  if (admitted !== undefined) {
    hint = `it admits the move at confidence ≤ ${short(admitted)} (signed so without --keep-confidence)`;
  } else {
    const lowest = confidence < SVI_CHANGE_CONFIDENCE_FLOOR_WAD ? confidence : SVI_CHANGE_CONFIDENCE_FLOOR_WAD;
    const widest = changeVerdict(c, lowest, window).allowedRatioWad;
    const at = earliestAdmittedTimestamp(c, c.signed, latency);
    hint =
      at === undefined
        ? `even at confidence ≤ 0.25 it allows only ×${short(widest)}, and no single post may move it so at any time (the credit stops growing an hour after the surface in force)`
        : `even at confidence ≤ 0.25 it allows only ×${short(widest)}; the move fits from ${iso(at)} (${at - inForce.timestamp} s after the surface in force)`;
  }
  throw new VolSignerError(
    ExitCode.REJECTED,
    `${label}: ${describeMove(verdict.error)}; ${bound}; ${hint}; nothing signed or posted`,
  );
}

/** One expiry's usable quotes as points to fit. */
interface PreparedExpiry {
  expiry: bigint;
  label: string;
  seconds: bigint;
  T: number;
  usable: { q: Quote; k: number; bid: number; ask: number }[];
  points: SmilePoint[];
  skipped: number;
}

function prepareExpiry(expiry: bigint, quotes: readonly Quote[], now: bigint): PreparedExpiry {
  const label = `expiry ${iso(expiry)}`;
  const seconds = expiry - now;
  const T = Number(seconds) / YEAR_SECONDS;
  const usable: { q: Quote; k: number; bid: number; ask: number }[] = [];
  let skipped = 0;
  for (const q of quotes) {
    let bid: number;
    let ask: number;
    if (q.kind === "iv") {
      [bid, ask] = [num(q.bidWad), num(q.askWad)];
    } else {
      const askVol = impliedVolWad(q.isCall!, q.spotWad, q.strikeWad, seconds, q.askWad);
      if ("below" in askVol) {
        throw new VolSignerError(
          ExitCode.REJECTED,
          `${q.source}: the ask ${num(q.askWad)} is below the option's value at 0.01 % vol (intrinsic): an arbitrage`,
        );
      }
      if ("above" in askVol) {
        throw new VolSignerError(
          ExitCode.REJECTED,
          `${q.source}: the ask ${num(q.askWad)} implies a vol above 1,000 % (or above the no-arbitrage bound)`,
        );
      }
      ask = num(askVol.volWad);
      const bidVol =
        q.bidWad === 0n
          ? { below: true as const }
          : impliedVolWad(q.isCall!, q.spotWad, q.strikeWad, seconds, q.bidWad);
      bid = "volWad" in bidVol ? num(bidVol.volWad) : 0;
    }
    if (bid === 0) {
      skipped++;
      continue;
    }
    usable.push({ q, k: Math.log(num(q.strikeWad) / num(q.spotWad)), bid, ask });
  }
  const strikes = new Set(usable.map((u) => u.q.strikeWad));
  if (strikes.size < MIN_STRIKES) {
    throw new VolSignerError(
      ExitCode.REJECTED,
      `${label}: ${strikes.size} strikes with a two-sided quote (${skipped} without a bid); a smile needs at least ${MIN_STRIKES}`,
    );
  }
  // Spread weighting: the residual in total variance divided by the quote's spread in total
  // variance, 2·iv·T·(ask − bid); so the fit minimises misses measured in spreads.
  const points: SmilePoint[] = usable.map(({ k, bid, ask }) => {
    const mid = (bid + ask) / 2;
    const spreadW = 2 * mid * T * Math.max(ask - bid, MIN_SPREAD_VOL);
    return { k, w: mid * mid * T, weight: 1 / (spreadW * spreadW) };
  });
  return { expiry, label, seconds, T, usable, points, skipped };
}

/** The fit of one expiry quantized, checked admissible and against its quotes (`maxRmseVol`). */
function finishExpiry(prepared: PreparedExpiry, fitted: SviFloat, maxRmseVol: number): ExpiryFit {
  const { expiry, label, seconds, usable, skipped } = prepared;
  const params = quantise(fitted, label);

  let sumSq = 0;
  let worst = { error: 0, source: "", mid: 0, fit: 0 };
  let outsideSpread = 0;
  for (const { q, bid, ask } of usable) {
    const fit = num(sviVol(params, q.spotWad, q.strikeWad, seconds));
    const mid = (bid + ask) / 2;
    const error = fit - mid;
    sumSq += error * error;
    if (Math.abs(error) > Math.abs(worst.error)) worst = { error, source: q.source, mid, fit };
    if (fit < bid - 1e-9 || fit > ask + 1e-9) outsideSpread++;
  }
  const rmseVol = Math.sqrt(sumSq / usable.length);
  if (rmseVol > maxRmseVol) {
    throw new VolSignerError(
      ExitCode.REJECTED,
      `${label}: the closest admissible smile misses the quotes by ${pct(rmseVol)} vol RMS (limit ${pct(maxRmseVol)}); worst ${worst.source}: quoted ${pct(worst.mid)}, fitted ${pct(worst.fit)}; the quotes are not an arbitrage-free smile, nothing posted`,
    );
  }
  return {
    expiry,
    params,
    confidenceWad: 0n, // set by buildPost
    fitted,
    quotes: usable.length,
    skipped,
    rmseVol,
    maxErrorVol: Math.abs(worst.error),
    outsideSpread,
  };
}

/**
 * The float fit on the oracle's stored precision (the SDK's `quantizeVolSurfaceInput`: a, b, ρ, m,
 * σ to 1e-10), then nudged by the quanta rounding can cost so that the SDK's exact checks (which
 * round against the poster) pass — b down under Lee's bound, a up over negative variance — and
 * checked again; anything else is a refusal.
 */
function quantise(p: SviFloat, label: string): SviParams {
  const q = VOL_SURFACE_PARAM_QUANTUM;
  const wad = (x: number) => BigInt(Math.round(x * 1e18));
  const s = quantizeVolSurfaceInput({
    expiry: 0n,
    a: wad(p.a),
    b: wad(p.b),
    rho: wad(p.rho),
    m: wad(p.m),
    sigma: wad(p.sigma),
    confidence: 0n,
  });
  const absRho = s.rho < 0n ? -s.rho : s.rho;
  // Lee's bound exactly: b·(1e18 + |ρ|) ≤ 2e36, b on the quantum.
  const bMax = (2n * WAD * WAD) / (WAD + absRho);
  if (s.b > bMax) s.b = bMax - (bMax % q);
  const params: SviParams = { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma };
  for (let attempt = 0; ; attempt++) {
    try {
      sviCheckAdmissible(params);
      break;
    } catch (error) {
      if (!(error instanceof MathError)) throw error;
      // The minimum of w rounds down on chain: lift a by the whole quanta missing (one or two).
      const missing = error.args[0];
      if (attempt < 3 && error.name === "SviNegativeVarianceError" && typeof missing === "bigint") {
        params.a += ((-missing + q - 1n) / q) * q;
        continue;
      }
      throw new VolSignerError(
        ExitCode.REJECTED,
        `${label}: the fit is not admissible: ${error.message}; nothing posted`,
      );
    }
  }
  if (!isVolSurfaceInputQuantized({ expiry: 0n, ...params, confidence: 0n })) {
    throw new Error(`${label}: the quantized fit is off the oracle's quantum`); // a bug, not a refusal
  }
  return params;
}
