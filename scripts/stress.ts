import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { parseUnits } from "viem";

import { candlesBetween, loadCandles } from "./lib/history.js";
import { type EpisodeResult, runEpisode } from "./lib/episode.js";

/**
 * `npm run stress`: replays real BTC crash days through the protocol on fresh in-process
 * chains, with a population opened at initial margin and the keeper service liquidating it.
 * Prints one row per episode and writes bench/stress.json. Set STRESS_ACCOUNTS,
 * STRESS_SEED or STRESS_EPISODES (comma-separated names) to change the run;
 * STRESS_BIDDER_CAPITAL (USD), STRESS_BIDDER_ABSENT (`<from>-<to>`, hours after the
 * episode's first midnight), STRESS_BIDDER_MIN_DISCOUNT (percent: it waits for that discount)
 * and STRESS_BIDDER_RESERVE (USD of excess over IM it keeps) make the keeper's bidder scarce.
 * A run with any of them writes bench/stress-scarce.json instead.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EPISODES = [
  { name: "covid-2020", first: "2020-03-12", last: "2020-03-13" },
  { name: "china-ban-2021", first: "2021-05-19", last: "2021-05-19" },
  { name: "ftx-2022", first: "2022-11-08", last: "2022-11-09" },
] as const;

const accounts = Number(process.env.STRESS_ACCOUNTS ?? 60);
const seed = Number(process.env.STRESS_SEED ?? 20200312);
const only = process.env.STRESS_EPISODES?.split(",");
const capitalUsd =
  process.env.STRESS_BIDDER_CAPITAL === undefined ? undefined : Number(process.env.STRESS_BIDDER_CAPITAL);
const absentHours = process.env.STRESS_BIDDER_ABSENT?.split("-").map(Number);
if (capitalUsd !== undefined && !(capitalUsd > 0)) throw new Error("STRESS_BIDDER_CAPITAL: a positive number of USD");
if (absentHours !== undefined && (absentHours.length !== 2 || absentHours.some((h) => !Number.isFinite(h)))) {
  throw new Error("STRESS_BIDDER_ABSENT: <from>-<to>, hours after the episode's first midnight");
}
const minDiscountPercent = process.env.STRESS_BIDDER_MIN_DISCOUNT;
const reserveUsd = process.env.STRESS_BIDDER_RESERVE;
for (const [name, value] of [
  ["STRESS_BIDDER_MIN_DISCOUNT", minDiscountPercent],
  ["STRESS_BIDDER_RESERVE", reserveUsd],
] as const) {
  if (value !== undefined && !/^\d+(\.\d+)?$/.test(value)) throw new Error(`${name}: a non-negative number`);
}
const scarce = [capitalUsd, absentHours, minDiscountPercent, reserveUsd].some((v) => v !== undefined);
const candles = await loadCandles(path.resolve(root, "../shared/data/btc-usd-daily.csv"));

const results: EpisodeResult[] = [];
const started = Date.now();
for (const episode of EPISODES) {
  if (only && !only.includes(episode.name)) continue;
  const days = candlesBetween(candles, episode.first, episode.last);
  const start = days[0]!.dayStart;
  const { result } = await runEpisode({
    name: episode.name,
    candles: days,
    keeper: {
      ...(minDiscountPercent === undefined ? {} : { minDiscountWad: parseUnits(minDiscountPercent, 16) }),
      ...(reserveUsd === undefined ? {} : { bidReserveWad: parseUnits(reserveUsd, 18) }),
    },
    bidder: {
      ...(capitalUsd === undefined ? {} : { capitalUsd }),
      ...(absentHours === undefined
        ? {}
        : { absent: { from: start + absentHours[0]! * 3_600, to: start + absentHours[1]! * 3_600 } }),
    },
    accounts,
    seed,
    log: (line) => console.log(line),
  });
  console.log(`${episode.name}: done in ${result.seconds} s`);
  results.push(result);
}
console.table(Object.fromEntries(results.map(({ episode, ...row }) => [episode, row])));

const out = path.resolve(root, scarce ? "bench/stress-scarce.json" : "bench/stress.json");
await mkdir(path.dirname(out), { recursive: true });
const snapshot = {
  note: "npm run stress: BTC history replayed through Pledge (see docs/stress-test.md). Deterministic except `seconds`.",
  accounts,
  seed,
  ...(scarce ? { bidder: { capitalUsd, absentHours, minDiscountPercent, reserveUsd } } : {}),
  totalSeconds: Math.round((Date.now() - started) / 1000),
  episodes: results,
};
await writeFile(out, `${JSON.stringify(snapshot, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
