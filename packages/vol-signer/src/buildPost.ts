/**
 * From quotes to a post the oracle will accept: one raw-SVI smile per expiry, fitted
 * (`fitSvi.ts`), quantized to the oracle's stored precision (the SDK's `quantizeVolSurfaceInput`) and
 * checked with the SDK's exact mirrors of the oracle's checks — admissibility, calendar against the
 * neighbouring expiries (of the post and on chain) and the bounded change from the surface in
 * force, widened for low confidence (`sviAllowedChangeRatio`). Any failure is a `VolSignerError` (REJECTED) and no
 * post is returned.
 */
import type { Address } from "viem";

import {
  MathError,
  type SviParams,
  type VolSurfaceInput,
  type VolSurfacePost,
  VOL_SURFACE_PARAM_QUANTUM,
  isVolSurfaceInputQuantized,
  quantizeVolSurfaceInput,
  sviAllowedChangeRatio,
  sviCheckAdmissible,
  sviCheckCalendar,
  sviCheckChange,
  sviVariances,
  sviVol,
} from "@pledge/sdk";
import { ExitCode, VolSignerError } from "./errors.js";
import { type SmilePoint, type SviFloat, fitSvi } from "./fitSvi.js";
import { impliedVolWad } from "./impliedVol.js";
import type { Quote } from "./quotes.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const YEAR_SECONDS = 365 * 86_400;
/** `SeriesLib.MAX_EXPIRY_HORIZON`. */
const MAX_HORIZON = 365n * DAY;
/** Spreads narrower than this (in vol) weigh as this, so that a zero-width quote cannot dominate. */
const MIN_SPREAD_VOL = 1e-3;
/** A smile needs at least this many strikes (SVI has five parameters). */
export const MIN_STRIKES = 5;

/** What the chain holds that a post is checked against (see `readOracleContext`). */
export interface OracleContext {
  changeRatioWad: bigint;
  /** Surfaces in force, by expiry: those of the post's expiries and their posted neighbours. */
  surfaces: ReadonlyMap<bigint, SviParams>;
}

export interface BuildPostOptions {
  /** The post's timestamp and the time T is measured from, unix seconds. */
  nowSeconds: bigint;
  /** Confidence of every surface, WAD (default 1e18); rounded down to the oracle's 1e-9. */
  confidenceWad?: bigint;
  /** Reject an expiry whose fitted vols miss the quotes' mids by more than this RMS (default 0.05: 5 vol points). */
  maxRmseVol?: number;
  /** The oracle's state; without it, only the post's own expiries are checked against each other. */
  oracle?: OracleContext;
}

/** How one expiry's fit went. */
export interface ExpiryFit {
  expiry: bigint;
  /** The fit as posted: on the oracle's 1e-10 quantum, admissible by the SDK's exact checks. */
  params: SviParams;
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

export interface BuildPostResult {
  post: VolSurfacePost;
  fits: ExpiryFit[];
}

const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const num = (wad: bigint) => Number(wad) / 1e18;

/** The SDK's check error as a sentence. */
function because(error: unknown): string {
  if (error instanceof MathError) return error.message;
  throw error;
}

/**
 * Fits every expiry of `quotes` and returns the post to sign, or throws `VolSignerError`.
 *
 * @example
 * const { post, fits } = buildPost(await readQuotesFile("quotes.csv"), { nowSeconds: BigInt(Math.floor(Date.now() / 1000)) });
 */
export function buildPost(quotes: readonly Quote[], options: BuildPostOptions): BuildPostResult {
  const now = options.nowSeconds;
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
  if (quotes.length === 0) throw new VolSignerError(ExitCode.INPUT, "no quotes");
  const underlying = quotes[0]!.underlying as Address;
  const byExpiry = new Map<bigint, Quote[]>();
  for (const q of quotes) byExpiry.set(q.expiry, [...(byExpiry.get(q.expiry) ?? []), q]);
  const expiries = [...byExpiry.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  if (expiries.length > 32)
    throw new VolSignerError(ExitCode.INPUT, `${expiries.length} expiries; a post holds at most 32`);

  const fits = expiries.map((expiry) => fitExpiry(expiry, byExpiry.get(expiry)!, now, options.maxRmseVol ?? 0.05));
  const surfaces: VolSurfaceInput[] = fits.map((f) => ({ expiry: f.expiry, ...f.params, confidence }));

  // Calendar: as the oracle does after writing the post, each posted expiry against its nearest
  // neighbours among the post and the surfaces in force.
  const all = new Map<bigint, SviParams>(options.oracle?.surfaces ?? []);
  for (const f of fits) all.set(f.expiry, f.params);
  const ordered = [...all.keys()].filter((e) => e > now).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  for (let i = 0; i + 1 < ordered.length; i++) {
    const [shorter, longer] = [ordered[i]!, ordered[i + 1]!];
    if (!byExpiry.has(shorter) && !byExpiry.has(longer)) continue;
    try {
      sviCheckCalendar(sviVariances(all.get(shorter)!), sviVariances(all.get(longer)!));
    } catch (error) {
      const which = (e: bigint) => `${iso(e)}${byExpiry.has(e) ? "" : " (on chain)"}`;
      throw new VolSignerError(
        ExitCode.REJECTED,
        `calendar arbitrage between ${which(shorter)} and ${which(longer)}: ${because(error)}; nothing posted`,
      );
    }
  }

  // Bounded change from the surface in force: the governed ratio / max(confidence, 0.25), as the
  // oracle applies it at every confidence.
  if (options.oracle !== undefined) {
    const allowed = sviAllowedChangeRatio(options.oracle.changeRatioWad, confidence);
    for (const f of fits) {
      const previous = options.oracle.surfaces.get(f.expiry);
      if (previous === undefined) continue;
      try {
        sviCheckChange(sviVariances(previous), sviVariances(f.params), allowed);
      } catch (error) {
        throw new VolSignerError(
          ExitCode.REJECTED,
          `expiry ${iso(f.expiry)}: ${because(error)} (allowed ratio ${num(allowed)} at confidence ${num(confidence)}); nothing posted`,
        );
      }
    }
  }
  return { post: { underlying, timestamp: now, surfaces }, fits };
}

function fitExpiry(expiry: bigint, quotes: readonly Quote[], now: bigint, maxRmseVol: number): ExpiryFit {
  const label = `expiry ${iso(expiry)}`;
  if (expiry <= now || expiry > now + MAX_HORIZON || expiry % DAY !== 8n * 3600n) {
    throw new VolSignerError(
      ExitCode.INPUT,
      `${label} (${expiry}) is not on the series grid: 08:00 UTC, after now (${iso(now)}) and at most 365 days ahead`,
    );
  }
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
  const fitted = fitSvi(points).params;
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
