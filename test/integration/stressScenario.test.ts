import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { type UpdateHook, runEpisode } from "../../scripts/lib/episode.js";
import { candlesBetween, highFirstWalk, loadCandles } from "../../scripts/lib/history.js";
import { btcSeriesGrid } from "../../scripts/lib/seeding.js";

const CSV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/data/btc-usd-daily.csv");
const HOUR = 3_600;

/**
 * A scenario built on the stress API without editing it: 2020-03-12 walked high first
 * (the gentler order), eight accounts on the 7-day series only, and BTC/USD down for
 * three hours from the moment the price first falls 10 % below the open. Nothing can
 * be liquidated on a stale price; once the feed is back the keeper catches up.
 */
describe("stress API: a custom scenario with a feed outage", async () => {
  const candles = candlesBetween(await loadCandles(CSV), "2020-03-12", "2020-03-12");
  const open = candles[0]!.open;
  const outage: { from?: number; until?: number } = {};
  const takeDownOnFall: UpdateHook = ({ point, chain }) => {
    if (outage.from === undefined && point.price < open * 0.9) {
      outage.from = point.time;
      outage.until = point.time + 3 * HOUR;
      chain.setFeedLive("btcUsd", false);
    }
    if (outage.until !== undefined && point.time >= outage.until) chain.setFeedLive("btcUsd", true);
  };
  const { result, world, flagged, endings, auctions } = await runEpisode({
    name: "outage-2020-03-12",
    candles,
    accounts: 8,
    seed: 20200312,
    grid: (spot, now) => btcSeriesGrid(spot, now).slice(0, 14),
    walk: highFirstWalk,
    onUpdate: takeDownOnFall,
    keeper: { fullConfirmEvery: 1 },
  });
  const { liquidator, oracle, engine } = world.contracts;
  const blockTime = async (block: bigint) =>
    Number((await world.publicClient.getBlock({ blockNumber: block })).timestamp);

  it("the outage happened: BTC/USD missed updates during the fall", () => {
    assert.ok(outage.from !== undefined, "the price never fell 10 %");
    assert.ok(result.missedUpdates > 0);
    assert.equal(world.series.length, 14);
  });

  it("no auction starts while the feed is down past its maximum age; they start once it is back", async () => {
    const times = await Promise.all(auctions.map((a) => blockTime(a.block)));
    const btc = await engine.read.underlying([2]);
    const { maxAge } = await oracle.read.spotFeed([btc.asset]);
    const stale = outage.from! + Number(maxAge);
    assert.equal(times.filter((t) => t > stale && t < outage.until!).length, 0);
    assert.ok(
      times.some((t) => t >= outage.until!),
      "no auction after the outage",
    );
  });

  it("every account that fell below MM was resolved, with no bad debt", async () => {
    assert.ok(result.fellBelowMM > 0);
    for (const account of flagged) {
      assert.equal((await liquidator.read.auctionOf([account])).active, false, `auction still open on ${account}`);
      for (const e of endings.filter((x) => x.account === account)) assert.ok(e.emptied || e.atOrAboveIM);
    }
    assert.equal(result.unresolvedAuctions, 0);
    assert.equal(await liquidator.read.badDebt(), 0n);
  });
});
