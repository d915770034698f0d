import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import {
  CHAINLINK_RULES,
  type DailyCandle,
  type DayWalk,
  candlesBetween,
  dayAnchors,
  feedPath,
  harsherWalk,
  highFirstWalk,
  loadCandles,
  lowFirstWalk,
  parseCandles,
  toFeedAnswer,
  unfoldedWalk,
} from "../../../scripts/lib/history.js";

const CSV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../shared/data/btc-usd-daily.csv");
const DAY = 86_400;

/** Posted prices in order must contain `wanted` as a subsequence. */
function visitsInOrder(prices: readonly number[], wanted: readonly number[]): boolean {
  let next = 0;
  for (const p of prices) if (next < wanted.length && p === wanted[next]) next++;
  return next === wanted.length;
}

function checkPath(candles: readonly DailyCandle[], walk: DayWalk = harsherWalk): void {
  const points = feedPath(candles, CHAINLINK_RULES, walk);
  const { deviation, heartbeat, stepLog } = CHAINLINK_RULES;
  // One sample step is at most stepLog in log price, i.e. a little over stepLog as a return.
  const tolerance = deviation + 2 * stepLog;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1]!, points[i]!];
    assert.ok(b.time > a.time, `time not increasing at ${i}: ${a.time} → ${b.time}`);
    assert.ok(b.time - a.time <= heartbeat, `heartbeat missed at ${i}: ${b.time - a.time} s`);
    const move = Math.abs(b.price / a.price - 1);
    // Within a day the walk is continuous; only the night gap (close → next open) may jump.
    if (b.reason !== "open") assert.ok(move <= tolerance, `posted move ${move} at ${i} exceeds ${tolerance}`);
  }
  for (const candle of candles) {
    const day = points.filter((p) => p.time >= candle.dayStart && p.time < candle.dayStart + DAY);
    assert.ok(day.length > 0);
    assert.equal(day[0]!.price, candle.open);
    assert.equal(day[0]!.time, candle.dayStart);
    assert.equal(day.at(-1)!.price, candle.close);
    const middle = walk(candle) === "low-first" ? [candle.low, candle.high] : [candle.high, candle.low];
    assert.ok(
      visitsInOrder(
        day.map((p) => p.price),
        [candle.open, ...middle, candle.close],
      ),
    );
    for (const p of day) assert.ok(p.price >= candle.low && p.price <= candle.high, `price ${p.price} outside the day`);
  }
  assert.equal(points[0]!.time, candles[0]!.dayStart);
  assert.ok(points.at(-1)!.time < candles.at(-1)!.dayStart + DAY);
}

describe("history: candles and the feed path", async () => {
  const candles = await loadCandles(CSV);

  it("parses the shared CSV into consecutive UTC days", () => {
    const crash = candlesBetween(candles, "2020-03-12", "2020-03-13");
    assert.equal(crash.length, 2);
    assert.deepEqual(crash[0], {
      date: "2020-03-12",
      dayStart: 1583971200,
      open: 7938.05,
      high: 7969.45,
      low: 4644.0,
      close: 4857.1,
    });
  });

  it("refuses malformed rows", () => {
    const header = "timestamp,open,close,volume,unix_timestamp,high,low";
    assert.throws(() => parseCandles(`${header}\n2020-01-01 00:00:00,1,2,3,1577836800,1.5,0.5`), /bracket/);
    assert.throws(() => parseCandles(`${header}\n2020-01-01 00:00:00,1,1,3,1577836801,1,1`), /00:00 UTC/);
    assert.throws(() => parseCandles(`${header}\n2020-01-01 00:00:00,-1,1,3,1577836800,1,1`), /bad value/);
  });

  it("walks down days low first and up days high first, anchors inside the day", () => {
    const [down] = candlesBetween(candles, "2021-05-19", "2021-05-19");
    assert.deepEqual(
      dayAnchors(down!).map((a) => a.reason),
      ["open", "low", "high", "close"],
    );
    const [up] = candlesBetween(candles, "2020-03-13", "2020-03-13");
    assert.ok(up!.close > up!.open);
    assert.deepEqual(
      dayAnchors(up!).map((a) => a.reason),
      ["open", "high", "low", "close"],
    );
    const flat: DailyCandle = { date: "x", dayStart: DAY * 10, open: 5, high: 5, low: 5, close: 5 };
    assert.deepEqual(dayAnchors(flat), [{ time: DAY * 10, price: 5, reason: "open" }]);
  });

  it("walks every day in a chosen order", () => {
    const [down] = candlesBetween(candles, "2021-05-19", "2021-05-19");
    assert.deepEqual(
      dayAnchors(down!, highFirstWalk).map((a) => a.reason),
      ["open", "high", "low", "close"],
    );
    const [up] = candlesBetween(candles, "2020-03-13", "2020-03-13");
    assert.deepEqual(
      dayAnchors(up!, lowFirstWalk).map((a) => a.reason),
      ["open", "low", "high", "close"],
    );
    // The path follows the walk: high-first reaches the day's high before its low.
    const prices = feedPath([down!], CHAINLINK_RULES, highFirstWalk).map((p) => p.price);
    assert.ok(prices.indexOf(down!.high) < prices.indexOf(down!.low));
    checkPath([down!]);
  });

  it("the demo's walk: March 2020 as it unfolded (never back to the 12th's high after its crash), other days harsher", () => {
    const walk = unfoldedWalk();
    const [d12, d13] = candlesBetween(candles, "2020-03-12", "2020-03-13");
    assert.equal(walk(d12!), "high-first");
    assert.equal(walk(d13!), "low-first");
    const prices = feedPath([d12!, d13!], CHAINLINK_RULES, walk).map((p) => p.price);
    const afterLow12 = prices.slice(prices.indexOf(d12!.low));
    assert.ok(
      Math.max(...afterLow12.slice(0, afterLow12.indexOf(d13!.low))) <= d12!.close + 1e-9,
      "no climb back on the 12th",
    );
    assert.ok(prices.indexOf(d13!.low) < prices.indexOf(d13!.high));
    // The harsher order (the stress replay's) does climb back: the difference is the point.
    const harsh = feedPath([d12!], CHAINLINK_RULES, harsherWalk).map((p) => p.price);
    assert.ok(harsh.indexOf(d12!.high) > harsh.indexOf(d12!.low));
    const [other] = candlesBetween(candles, "2021-05-19", "2021-05-19");
    assert.equal(walk(other!), harsherWalk(other!));
    checkPath([d12!, d13!], walk);
  });

  for (const [first, last] of [
    ["2020-03-12", "2020-03-13"],
    ["2021-05-19", "2021-05-19"],
    ["2022-11-08", "2022-11-09"],
  ] as const) {
    it(`posts on 0.5 % deviation and the hourly heartbeat, ${first}..${last}`, () => {
      checkPath(candlesBetween(candles, first, last));
    });
  }

  it("a quiet day is carried by the heartbeat alone", () => {
    const quiet: DailyCandle = { date: "q", dayStart: DAY * 20, open: 100, high: 100.2, low: 99.9, close: 100.1 };
    const points = feedPath([quiet]);
    assert.ok(points.filter((p) => p.reason === "heartbeat").length >= 20);
    assert.equal(points.filter((p) => p.reason === "deviation").length, 0);
    checkPath([quiet]);
  });

  it("converts prices to 8-decimal answers", () => {
    assert.equal(toFeedAnswer(7938.05), 793_805_000_000n);
  });
});
