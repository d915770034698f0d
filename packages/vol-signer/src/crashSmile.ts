/**
 * A crash smile for the demo and the stress replay: quotes whose ATM vol and put skew rise as the
 * price falls from its running peak, in the shape of March 2020 (ETH roughly halved between
 * 7 and 13 March 2020 while its ATM implied vol went from about 60 % to about 150 % and the
 * 25-delta risk reversal from about −5 to about −25 vol points).
 *
 * Model. Stress x = min(drawdown / fullDrawdown, 1) with drawdown = 1 − spot / peak. ATM vol,
 * 25-delta risk reversal RR (call vol − put vol) and 25-delta butterfly BF move linearly in x
 * from their calm to their crash values. Each expiry's smile is Malz's quadratic in call delta Δ
 * (the usual FX/crypto quoting convention):
 *
 *     vol(Δ) = ATM − 2·RR·(Δ − ½) + 16·BF·(Δ − ½)²
 *
 * so vol(0.5) = ATM, vol(0.25) − vol(0.75) = RR (the 25-delta call minus the 25-delta put) and
 * ½·(vol(0.25) + vol(0.75)) − ATM = BF. Strikes are listed by delta (5 to 95), so every expiry
 * quotes the same deltas; strike K of delta Δ is explicit: K = S·exp(−N⁻¹(Δ)·v√T + v²T/2) with
 * v = vol(Δ). Bid and ask are vol ∓ spread/2.
 */
import { type Address, parseUnits } from "viem";

import type { Quote } from "./quotes.js";

export interface CrashSmileOptions {
  /** ATM vol with no drawdown (default 0.60) and at full stress (default 1.50). */
  calmAtmVol?: number;
  crashAtmVol?: number;
  /** 25-delta risk reversal, vol (default −0.05 calm, −0.25 crash). */
  calmRiskReversal?: number;
  crashRiskReversal?: number;
  /** 25-delta butterfly, vol (default 0.01 calm, 0.03 crash). */
  calmButterfly?: number;
  crashButterfly?: number;
  /** Drawdown from the peak at which stress is full (default 0.5). */
  fullDrawdown?: number;
}

/** The smile's three numbers at one moment. */
export interface CrashSmileLevels {
  stress: number;
  atmVol: number;
  riskReversal: number;
  butterfly: number;
}

/** The call deltas quoted on every expiry. */
export const CRASH_SMILE_DELTAS = [0.05, 0.1, 0.15, 0.25, 0.35, 0.5, 0.65, 0.75, 0.85, 0.9, 0.95] as const;

/**
 * The smile's levels at `spot` after a running peak of `peakSpot`.
 *
 * @example
 * crashSmileLevels(2000, 2000).atmVol; // 0.6
 * crashSmileLevels(1000, 2000).atmVol; // 1.5 (half the peak: full stress)
 */
export function crashSmileLevels(spot: number, peakSpot: number, options: CrashSmileOptions = {}): CrashSmileLevels {
  const o = {
    calmAtmVol: 0.6,
    crashAtmVol: 1.5,
    calmRiskReversal: -0.05,
    crashRiskReversal: -0.25,
    calmButterfly: 0.02,
    crashButterfly: 0.05,
    fullDrawdown: 0.5,
    ...options,
  };
  const drawdown = Math.max(0, 1 - spot / peakSpot);
  const stress = Math.min(drawdown / o.fullDrawdown, 1);
  const mix = (calm: number, crash: number) => calm + (crash - calm) * stress;
  return {
    stress,
    atmVol: mix(o.calmAtmVol, o.crashAtmVol),
    riskReversal: mix(o.calmRiskReversal, o.crashRiskReversal),
    butterfly: mix(o.calmButterfly, o.crashButterfly),
  };
}

/**
 * Vol at call delta `delta` (Malz's quadratic).
 *
 * @example
 * crashSmileVolAtDelta({ stress: 0, atmVol: 0.6, riskReversal: -0.05, butterfly: 0.01 }, 0.25); // 0.585
 */
export function crashSmileVolAtDelta(levels: CrashSmileLevels, delta: number): number {
  const x = delta - 0.5;
  return levels.atmVol - 2 * levels.riskReversal * x + 16 * levels.butterfly * x * x;
}

/**
 * N⁻¹ by Acklam's rational approximation (relative error < 1.2e-9): ample for a generator.
 *
 * @example
 * inverseNormalCdf(0.5); // 0
 */
export function inverseNormalCdf(p: number): number {
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472, 2.50662827745924,
  ];
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373, 4.37466414146497, 2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export interface CrashQuotesParameters {
  underlying: Address;
  spot: number;
  /** The running peak of the price path so far (≥ spot for a drawdown). */
  peakSpot: number;
  nowSeconds: bigint;
  /** Expiries on the series grid, after now. */
  expiries: readonly bigint[];
  /** Bid–ask width in vol (default 0.02). */
  spreadVol?: number;
  options?: CrashSmileOptions;
}

/**
 * IV quotes of the crash smile at one moment, ready for `buildPost`.
 *
 * @example
 * const quotes = crashQuotes({ underlying: weth, spot: 1200, peakSpot: 2000, nowSeconds, expiries: [expiryAfter(nowSeconds, 7)] });
 */
export function crashQuotes(params: CrashQuotesParameters): Quote[] {
  const levels = crashSmileLevels(params.spot, params.peakSpot, params.options);
  const half = (params.spreadVol ?? 0.02) / 2;
  const wad = (x: number) => parseUnits(x.toFixed(12), 18);
  const quotes: Quote[] = [];
  for (const expiry of params.expiries) {
    const T = Number(expiry - params.nowSeconds) / (365 * 86_400);
    for (const delta of CRASH_SMILE_DELTAS) {
      const vol = crashSmileVolAtDelta(levels, delta);
      const sd = vol * Math.sqrt(T);
      const strike = params.spot * Math.exp(-inverseNormalCdf(delta) * sd + (sd * sd) / 2);
      quotes.push({
        source: `crash smile ${expiry} Δ${delta}`,
        underlying: params.underlying,
        expiry,
        strikeWad: wad(strike),
        spotWad: wad(params.spot),
        kind: "iv",
        bidWad: wad(vol - half),
        askWad: wad(vol + half),
      });
    }
  }
  return quotes;
}

/**
 * Quotes along a price path: at each point the smile of its drawdown from the running peak of the
 * path (starting at the first price).
 *
 * @example
 * const steps = crashQuotePath({ underlying: weth, path: [{ timestamp, spot: 2000 }, { timestamp: timestamp + 3600n, spot: 1500 }], expiryDays: [7, 30] });
 */
export function crashQuotePath(params: {
  underlying: Address;
  path: readonly { timestamp: bigint; spot: number }[];
  /** Expiries as whole days after each point's day, 08:00 UTC (default 7, 14, 30, 60, 90). */
  expiryDays?: readonly number[];
  spreadVol?: number;
  options?: CrashSmileOptions;
}): { timestamp: bigint; spot: number; levels: CrashSmileLevels; quotes: Quote[] }[] {
  let peak = params.path[0]?.spot ?? 0;
  return params.path.map(({ timestamp, spot }) => {
    peak = Math.max(peak, spot);
    const day = 86_400n;
    const expiries = (params.expiryDays ?? [7, 14, 30, 60, 90]).map(
      (d) => (timestamp / day + BigInt(d)) * day + 8n * 3600n,
    );
    return {
      timestamp,
      spot,
      levels: crashSmileLevels(spot, peak, params.options),
      quotes: crashQuotes({
        underlying: params.underlying,
        spot,
        peakSpot: peak,
        nowSeconds: timestamp,
        expiries,
        ...(params.spreadVol === undefined ? {} : { spreadVol: params.spreadVol }),
        ...(params.options === undefined ? {} : { options: params.options }),
      }),
    };
  });
}
