import { readFile } from "node:fs/promises";

/**
 * Daily candles from CSV and the price path a Chainlink feed would have posted over
 * them. Pure functions (no chain), so the path rules are unit-tested on their own.
 */

const DAY_SECONDS = 86_400;

/** One UTC day of BTC/USD. `dayStart` is the day's 00:00:00 UTC in unix seconds. */
export interface DailyCandle {
  date: string;
  dayStart: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** Why a point was posted: a candle anchor, the deviation threshold, or the heartbeat. */
export type PostReason = "open" | "low" | "high" | "close" | "deviation" | "heartbeat";

/** One feed update: unix seconds and a USD price. */
export interface FeedPoint {
  time: number;
  price: number;
  reason: PostReason;
}

/** How the feed posts. Defaults are Chainlink's main ETH/BTC USD feeds. */
export interface FeedRules {
  /** Post when the price moved this fraction from the last posted answer (0.005 = 0.5 %). */
  deviation: number;
  /** Post at least this often, in seconds. */
  heartbeat: number;
  /** Sampling of the interpolated walk: at most this log-price move per step. */
  stepLog: number;
  /** Sampling of the interpolated walk: at most this many seconds per step. */
  stepSeconds: number;
}

export const CHAINLINK_RULES: FeedRules = { deviation: 0.005, heartbeat: 3_600, stepLog: 0.0005, stepSeconds: 60 };

/**
 * Parses `timestamp,open,close,volume,unix_timestamp,high,low` (header required, any
 * column order). Rows with a non-positive price are refused.
 */
export function parseCandles(csv: string): DailyCandle[] {
  const lines = csv.trim().split(/\r?\n/);
  const header = (lines.shift() ?? "").split(",");
  const column = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`candles: missing column ${name}`);
    return index;
  };
  const at = { ts: column("timestamp"), open: column("open"), high: column("high"), low: column("low") };
  const closeAt = column("close");
  const unixAt = column("unix_timestamp");
  return lines.map((line, row) => {
    const cells = line.split(",");
    const num = (i: number): number => {
      const value = Number(cells[i]);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`candles: bad value in row ${row + 2}: ${line}`);
      return value;
    };
    const candle: DailyCandle = {
      date: (cells[at.ts] ?? "").slice(0, 10),
      dayStart: num(unixAt),
      open: num(at.open),
      high: num(at.high),
      low: num(at.low),
      close: num(closeAt),
    };
    if (candle.dayStart % DAY_SECONDS !== 0) throw new Error(`candles: ${candle.date} does not start at 00:00 UTC`);
    if (candle.low > Math.min(candle.open, candle.close) || candle.high < Math.max(candle.open, candle.close)) {
      throw new Error(`candles: ${candle.date} low/high do not bracket open/close`);
    }
    return candle;
  });
}

export async function loadCandles(file: string): Promise<DailyCandle[]> {
  return parseCandles(await readFile(file, "utf8"));
}

/** The candles from `first` to `last` (inclusive, `YYYY-MM-DD`), which must be consecutive days. */
export function candlesBetween(candles: readonly DailyCandle[], first: string, last: string): DailyCandle[] {
  const picked = candles.filter((c) => c.date >= first && c.date <= last);
  if (picked.length === 0) throw new Error(`candles: none between ${first} and ${last}`);
  picked.forEach((c, i) => {
    const previous = picked[i - 1];
    if (previous && c.dayStart !== previous.dayStart + DAY_SECONDS) throw new Error(`candles: gap before ${c.date}`);
  });
  return picked;
}

/**
 * Which extreme of a day's candle the walk visits first, between its open and close
 * (DESIGN.md allows either order: a daily candle does not say).
 */
export type DayWalk = (candle: DailyCandle) => "low-first" | "high-first";

/**
 * Down days (close < open) open → low → high → close, other days open → high → low →
 * close: of the two orders, the one that travels further (by 2·|open − close|), i.e.
 * the harsher one. The default walk.
 */
export const harsherWalk: DayWalk = (candle) => (candle.close < candle.open ? "low-first" : "high-first");

/** Every day open → low → high → close. */
export const lowFirstWalk: DayWalk = () => "low-first";

/** Every day open → high → low → close. */
export const highFirstWalk: DayWalk = () => "high-first";

/**
 * The order in which the extremes came, for days whose intraday path is on public record
 * (exchange minute data, reported at the time), keyed by date. A daily candle does not say, so
 * only these days are known; the rest fall back to `fallback`.
 *
 * - 2020-03-12: the day's high (7,969) came in its first hours; BTC then fell all day to the
 *   low (4,644) late in the evening (UTC) and closed at 4,857.
 * - 2020-03-13: the low (3,858) came around 02:00 UTC, when BitMEX halted; the high (5,995) in
 *   the rebound later in the day.
 */
export const UNFOLDED_ORDER: Readonly<Record<string, "low-first" | "high-first">> = {
  "2020-03-12": "high-first",
  "2020-03-13": "low-first",
};

/**
 * The days on record (`UNFOLDED_ORDER`) in the order they unfolded; any other day by
 * `fallback` (default `harsherWalk`). The demo's walk: a replay that climbs back to a day's high
 * after its crash tells a story that never happened.
 */
export function unfoldedWalk(fallback: DayWalk = harsherWalk): DayWalk {
  return (candle) => UNFOLDED_ORDER[candle.date] ?? fallback(candle);
}

/** A day's four anchors (open, low and high in `walk`'s order, close), timed over the day. */
export function dayAnchors(candle: DailyCandle, walk: DayWalk = harsherWalk): FeedPoint[] {
  const t = candle.dayStart;
  const low: FeedPoint = { time: t, price: candle.low, reason: "low" };
  const high: FeedPoint = { time: t, price: candle.high, reason: "high" };
  const middle = walk(candle) === "low-first" ? [low, high] : [high, low];
  const anchors = [{ time: t, price: candle.open, reason: "open" } as FeedPoint, ...middle];
  anchors.push({ time: t, price: candle.close, reason: "close" });
  // Equal consecutive anchors (open == low, ...) collapse into one point.
  const distinct = anchors.filter((a, i) => i === 0 || a.price !== anchors[i - 1]!.price);
  // Time is spread over the day in proportion to each leg's log-price move (constant
  // speed), from 00:00:00 to 23:59:59.
  const legs = distinct.slice(1).map((a, i) => Math.abs(Math.log(a.price / distinct[i]!.price)));
  const total = legs.reduce((s, x) => s + x, 0);
  let covered = 0;
  return distinct.map((a, i) => {
    if (i === 0) return a;
    covered += legs[i - 1]!;
    const share = total === 0 ? i / (distinct.length - 1) : covered / total;
    return { ...a, time: t + Math.round((DAY_SECONDS - 1) * share) };
  });
}

/** The fine walk between two anchors: price and time linear, `to` included, `from` not. */
function walkLeg(from: FeedPoint, to: FeedPoint, rules: FeedRules): FeedPoint[] {
  const seconds = to.time - from.time;
  if (seconds <= 0) throw new Error(`history: leg ends at or before it starts (${from.time} → ${to.time})`);
  const byPrice = Math.ceil(Math.abs(Math.log(to.price / from.price)) / rules.stepLog);
  const bySeconds = Math.ceil(seconds / rules.stepSeconds);
  const steps = Math.min(seconds, Math.max(1, byPrice, bySeconds));
  const points: FeedPoint[] = [];
  for (let k = 1; k < steps; k++) {
    points.push({
      time: from.time + Math.round((seconds * k) / steps),
      price: from.price + ((to.price - from.price) * k) / steps,
      reason: "deviation",
    });
  }
  points.push(to);
  return points;
}

/**
 * Every update the feed posts over `candles`: the first open, then, walking each day
 * along `dayAnchors` (in `walk`'s order), a point whenever the price moved `rules.deviation` from the last
 * posted answer, whenever the next sample would leave the last post older than
 * `rules.heartbeat`, and at every anchor (so the day's exact low and high are seen).
 */
export function feedPath(
  candles: readonly DailyCandle[],
  rules: FeedRules = CHAINLINK_RULES,
  walk: DayWalk = harsherWalk,
): FeedPoint[] {
  const samples: FeedPoint[] = [];
  let previous: FeedPoint | undefined;
  for (const candle of candles) {
    for (const anchor of dayAnchors(candle, walk)) {
      if (previous === undefined) samples.push(anchor);
      else if (anchor.time === previous.time) continue;
      else samples.push(...walkLeg(previous, anchor, rules));
      previous = anchor;
    }
  }
  const first = samples[0];
  if (first === undefined) return [];
  const posted: FeedPoint[] = [first];
  let last = first;
  for (let i = 1; i < samples.length; i++) {
    const sample = samples[i]!;
    const next = samples[i + 1];
    const moved = Math.abs(sample.price / last.price - 1) >= rules.deviation;
    const due = next !== undefined && next.time - last.time > rules.heartbeat;
    const anchor = sample.reason !== "deviation";
    if (!moved && !due && !anchor) continue;
    const point = anchor || moved ? sample : { ...sample, reason: "heartbeat" as const };
    posted.push(point);
    last = point;
  }
  return posted;
}

/** Chainlink 8-decimal answer for a USD price. */
export function toFeedAnswer(price: number): bigint {
  return BigInt(Math.round(price * 1e8));
}
