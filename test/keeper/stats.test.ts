import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createMetrics } from "../../packages/keeper/src/metrics.js";
import { createStats } from "../../packages/keeper/src/stats.js";

async function metricValue(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe("keeper stats (no chain)", () => {
  it("records each auction once with the block its account first fell below MM, and its first bid", () => {
    const stats = createStats(createMetrics());
    stats.belowMaintenance(7n, 100n);
    stats.belowMaintenance(7n, 101n);
    stats.auctionSeen(7n, 103n, "other");
    stats.auctionSeen(7n, 103n, "self"); // the same auction, seen again: kept as first seen
    stats.bidSeen(7n, 102n, "self"); // before the auction: not its bid
    stats.bidSeen(7n, 104n, "other");
    stats.bidSeen(7n, 105n, "self"); // not the first
    stats.auctionSeen(8n, 110n, "other");
    assert.deepEqual(stats.snapshot().liquidations, [
      { account: 7n, priceBlock: 100n, auctionBlock: 103n, startedBy: "other", bidBlock: 104n, bidBy: "other" },
      { account: 8n, auctionBlock: 110n, startedBy: "other" },
    ]);
  });

  it("counts the keeper's own auctions and bids, and a landed bid starts a new price block", async () => {
    const metrics = createMetrics();
    const stats = createStats(metrics);
    stats.belowMaintenance(7n, 100n);
    stats.auctionStarted(7n, 101n);
    stats.bidLanded(7n, 101n);
    stats.belowMaintenance(7n, 200n);
    stats.auctionStarted(7n, 201n);
    const { auctionsStarted, bids, liquidations } = stats.snapshot();
    assert.equal(auctionsStarted, 2);
    assert.equal(bids, 1);
    assert.deepEqual(
      liquidations.map((l) => [l.priceBlock, l.auctionBlock, l.startedBy, l.bidBlock, l.bidBy]),
      [
        [100n, 101n, "self", 101n, "self"],
        [200n, 201n, "self", undefined, undefined],
      ],
    );
    assert.equal(await metricValue(metrics.auctionsStarted), 2);
    assert.equal(await metricValue(metrics.bids), 1);
  });

  it("counts blocks once each, failures, gas, sends and RPC calls, in the snapshot and the metrics", async () => {
    const metrics = createMetrics();
    const stats = createStats(metrics);
    stats.ticked(10n);
    stats.ticked(10n);
    stats.ticked(11n);
    stats.failed("RpcError");
    stats.gasUsed(21_000n);
    stats.gasUsed(9_000n);
    stats.settled(3);
    stats.pricePosted();
    stats.rpcCall("eth_call");
    stats.rpcCall("eth_getLogs");
    stats.ranked(5, 1.5);
    stats.confirmed(2);
    stats.fullConfirmation();
    const s = stats.snapshot();
    assert.deepEqual(
      [s.blocks, s.lastBlock, s.failures, s.gasUsed, s.settled, s.pricesPosted, s.rpcCalls],
      [2, 11n, 1, 30_000n, 3, 1, 2],
    );
    assert.deepEqual([s.accountsRanked, s.rankingMs, s.accountsConfirmed, s.fullConfirmations], [5, 1.5, 2, 1]);
    assert.equal(await metricValue(metrics.ticks), 3);
    assert.equal(await metricValue(metrics.failures), 1);
    assert.equal(await metricValue(metrics.gasUsed), 30_000);
    assert.equal(await metricValue(metrics.settlements), 3);
    assert.equal(await metricValue(metrics.rpcCalls), 2);
  });

  it("hands out copies: a snapshot does not change with later events or edits", () => {
    const stats = createStats(createMetrics());
    stats.auctionSeen(1n, 5n, "other");
    const before = stats.snapshot();
    before.liquidations[0]!.bidBlock = 99n;
    stats.bidSeen(1n, 6n, "self");
    stats.ticked(6n);
    assert.equal(before.blocks, 0);
    assert.equal(stats.snapshot().liquidations[0]!.bidBlock, 6n);
  });
});
