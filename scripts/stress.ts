import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { parseUnits } from "viem";

import { type DailyCandle, candlesBetween, feedPath, loadCandles } from "./lib/history.js";
import { type BidderProfile, type EpisodeResult, runEpisode } from "./lib/episode.js";
import type { SimKeeperOptions } from "./lib/inProcessKeeper.js";

/**
 * `npm run stress`: replays real BTC crash days through the protocol on fresh in-process
 * chains, with a population opened at initial margin and the keeper service liquidating it,
 * the backstop's waterfall included, once per bidder profile:
 *
 * - `normal`: the keeper's bidder holds $100M, bids from the start discount, is always there;
 * - `scarce` (issue 16): the bidder holds `STRESS_BIDDER_CAPITAL` USD (default 2,000,000), bids
 *   only from `STRESS_BIDDER_MIN_DISCOUNT` percent (default 10), keeps `STRESS_BIDDER_RESERVE` USD
 *   of excess over IM unspent (default 200,000), and is away (the keeper does not tick) for the
 *   `STRESS_BIDDER_ABSENT_BEFORE_LOW` hours (default 4) before the episode's lowest price, or over
 *   `STRESS_BIDDER_ABSENT=<from>-<to>` (hours after the episode's first midnight) when set.
 *
 * Prints one row per episode and writes both profiles to bench/stress.json (`STRESS_OUT` to
 * write elsewhere). STRESS_ACCOUNTS, STRESS_SEED, STRESS_EPISODES (comma-separated names) and
 * STRESS_PROFILES (`normal,scarce`) change the run. The engine marks on a vol surface that the vol
 * signer (in-process) posts after every update, the crash smile of the path's drawdown (issue 17
 * item 5); STRESS_FLAT_VOL=1 marks every series at the flat vol feed instead.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EPISODES = [
  { name: "covid-2020", first: "2020-03-12", last: "2020-03-13" },
  { name: "china-ban-2021", first: "2021-05-19", last: "2021-05-19" },
  { name: "ftx-2022", first: "2022-11-08", last: "2022-11-09" },
] as const;
const HOUR = 3_600;

/** A bidder profile as the report records it. */
interface ProfileSpec {
  /** The bidder's cash, USD. */
  capitalUsd: number;
  /** Smallest discount it bids at, percent (0: from the start discount). */
  minDiscountPercent: string;
  /** Excess over IM it keeps unspent, USD. */
  reserveUsd: string;
  /** Away for this many hours before the episode's low, or over explicit hours after its first midnight. */
  absent: { hoursBeforeLow: number } | { fromHour: number; toHour: number } | null;
}

const accounts = Number(process.env.STRESS_ACCOUNTS ?? 60);
const seed = Number(process.env.STRESS_SEED ?? 20200312);
const only = process.env.STRESS_EPISODES?.split(",");
/** The engine marks on the vol signer's crash smile unless STRESS_FLAT_VOL=1. */
const volSurface = process.env.STRESS_FLAT_VOL !== "1";
const profileNames = (process.env.STRESS_PROFILES ?? "normal,scarce").split(",");
for (const name of profileNames) {
  if (name !== "normal" && name !== "scarce") throw new Error(`STRESS_PROFILES: normal or scarce, not ${name}`);
}

function numberEnv(name: string, fallback: string): string {
  const value = process.env[name] ?? fallback;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`${name}: a non-negative number`);
  return value;
}

/** The scarce bidder of issue 16's defaults, each overridable from the environment. */
function scarceSpec(): ProfileSpec {
  const capitalUsd = Number(numberEnv("STRESS_BIDDER_CAPITAL", "2000000"));
  if (!(capitalUsd > 0)) throw new Error("STRESS_BIDDER_CAPITAL: a positive number of USD");
  const hours = process.env.STRESS_BIDDER_ABSENT?.split("-").map(Number);
  if (hours !== undefined && (hours.length !== 2 || hours.some((h) => !Number.isFinite(h)))) {
    throw new Error("STRESS_BIDDER_ABSENT: <from>-<to>, hours after the episode's first midnight");
  }
  return {
    capitalUsd,
    minDiscountPercent: numberEnv("STRESS_BIDDER_MIN_DISCOUNT", "10"),
    reserveUsd: numberEnv("STRESS_BIDDER_RESERVE", "200000"),
    absent:
      hours === undefined
        ? { hoursBeforeLow: Number(numberEnv("STRESS_BIDDER_ABSENT_BEFORE_LOW", "4")) }
        : { fromHour: hours[0]!, toHour: hours[1]! },
  };
}

const PROFILES: Record<"normal" | "scarce", () => ProfileSpec> = {
  normal: () => ({ capitalUsd: 100_000_000, minDiscountPercent: "0", reserveUsd: "0", absent: null }),
  scarce: scarceSpec,
};

/** The episode's bidder and keeper options for `spec`: the absence window placed on this episode's path. */
function episodeBidder(
  spec: ProfileSpec,
  days: readonly DailyCandle[],
): { bidder: BidderProfile; keeper: SimKeeperOptions } {
  let absent: BidderProfile["absent"];
  if (spec.absent !== null && "hoursBeforeLow" in spec.absent) {
    // The same path runEpisode walks (default rules and walk): away while the price falls into its low.
    const low = feedPath(days).reduce((a, b) => (b.price < a.price ? b : a));
    absent = { from: low.time - spec.absent.hoursBeforeLow * HOUR, to: low.time };
  } else if (spec.absent !== null) {
    const start = days[0]!.dayStart;
    absent = { from: start + spec.absent.fromHour * HOUR, to: start + spec.absent.toHour * HOUR };
  }
  return {
    bidder: { capitalUsd: spec.capitalUsd, ...(absent === undefined ? {} : { absent }) },
    keeper: {
      minDiscountWad: parseUnits(spec.minDiscountPercent, 16),
      bidReserveWad: parseUnits(spec.reserveUsd, 18),
    },
  };
}

/** The surface an episode marked on, in one line: ATM vol and 25-delta RR posted at the start, the low and the end. */
function surfaceLine(v: NonNullable<EpisodeResult["volSurface"]>): string {
  const pts = (x: number) => (x * 100).toFixed(1);
  const at = (s: typeof v.start) =>
    `ATM ${pts(s.postedAtmVol)} %, RR ${pts(s.postedRiskReversal)}, ${v.putWing} marked $${s.putWingMarkUsd.toFixed(0)} (flat vol $${s.putWingFlatMarkUsd.toFixed(0)})`;
  return `vol surface, ${v.posts} posts (${v.skipped} unposted): start ${at(v.start)}; low ${at(v.trough)}; end ${at(v.end)}`;
}

const candles = await loadCandles(path.resolve(root, "../shared/data/btc-usd-daily.csv"));
const started = Date.now();
const profiles: Record<string, { bidder: ProfileSpec; totalSeconds: number; episodes: EpisodeResult[] }> = {};
for (const profile of profileNames as ("normal" | "scarce")[]) {
  const spec = PROFILES[profile]();
  const profileStarted = Date.now();
  const results: EpisodeResult[] = [];
  for (const episode of EPISODES) {
    if (only && !only.includes(episode.name)) continue;
    const days = candlesBetween(candles, episode.first, episode.last);
    const { bidder, keeper } = episodeBidder(spec, days);
    const { result } = await runEpisode({
      name: episode.name,
      candles: days,
      bidder,
      keeper,
      accounts,
      seed,
      volSurface,
      log: (line) => console.log(`[${profile}] ${line}`),
    });
    console.log(`[${profile}] ${episode.name}: done in ${result.seconds} s`);
    if (result.volSurface) console.log(`[${profile}] ${episode.name}: ${surfaceLine(result.volSurface)}`);
    results.push(result);
  }
  console.log(`profile ${profile}:`);
  console.table(
    Object.fromEntries(
      results.map(({ episode, waterfall, volSurface: _surface, ...row }) => [episode, { ...row, ...waterfall }]),
    ),
  );
  profiles[profile] = {
    bidder: spec,
    totalSeconds: Math.round((Date.now() - profileStarted) / 1000),
    episodes: results,
  };
}

const out = path.resolve(root, process.env.STRESS_OUT ?? "bench/stress.json");
await mkdir(path.dirname(out), { recursive: true });
const snapshot = {
  note: "npm run stress: BTC history replayed through Pledge with a normal and a scarce bidder (see docs/stress-test.md). Deterministic but for the seconds and interest to a few cash units.",
  accounts,
  seed,
  totalSeconds: Math.round((Date.now() - started) / 1000),
  profiles,
};
await writeFile(out, `${JSON.stringify(snapshot, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
