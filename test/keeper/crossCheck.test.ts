import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import pino from "pino";

import { type AccountMarginState, Health, accountMargin, asAccountId } from "@pledge/sdk";
import { createExecute } from "../../packages/keeper/src/jobs/job.js";
import { createLiquidationJob } from "../../packages/keeper/src/jobs/liquidation.js";
import { createMetrics } from "../../packages/keeper/src/metrics.js";
import { createPlanner, marketInputsOf } from "../../packages/keeper/src/planner.js";
import { type AccountHoldings, marginInputsOf } from "../../packages/keeper/src/ranking.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { emptyIndex } from "../../packages/keeper/src/store.js";
import { fakeSender, minedAt } from "./helpers/fakes.js";
import { auctionParams } from "./helpers/accounts.js";
import { USDC, WAD, held, marketParams, pricesAt, zeroRateCash } from "./helpers/oneWethMarket.js";
import { stubReaders } from "./helpers/stubReaders.js";

const BIDDER = 99n;
const parameters = marketParams();
const prices = pricesAt();
const cash = zeroRateCash;

/**
 * Issue 19: the keeper cross-checks its local valuation on chain for every account it acts on and
 * for a rotating sample; a difference (here a deliberately corrupted cache entry) is logged as an
 * error, counted in `pledge_keeper_valuation_mismatch_total`, and the chain's state is used.
 */
describe("keeper: the local valuation's cross-check (no chain)", () => {
  it("falls back to the chain and counts when a corrupted cache entry differs", async () => {
    // The chain's truth: 1 and 3 healthy, 2 owes more than its WETH is worth at maintenance.
    const truth = new Map([
      [1n, held(1_000n)],
      [2n, held(-2_900n)],
      [3n, held(500n)],
    ]);
    const timestamp = 1_000n;
    const market = marketInputsOf(parameters, prices, timestamp, 6);
    const onChain = (account: bigint): AccountMarginState => ({
      ...accountMargin(marginInputsOf(truth.get(account)!, market)),
      account: asAccountId(account),
    });
    assert.equal(onChain(2n).health, Health.INSOLVENT);
    const readers = stubReaders({
      marketParameters: async () => parameters,
      snapshot: async ({ accounts }) => ({
        prices,
        cash,
        holdings: new Map(accounts.map((a) => [a, truth.get(a)!] as const).filter(([, h]) => h !== undefined)),
      }),
      confirmation: async ({ chunks }) => ({
        bidderExcessIM: 1_000_000n * WAD,
        auctionParams,
        states: chunks.flat().map(onChain),
        protectedAccounts: [],
      }),
      auctions: async () => [],
    });
    const metrics = createMetrics();
    const stats = createStats(metrics);
    const planner = createPlanner(readers, stats, {
      nearRatio: 0.5,
      nearExcessUsd: 1_000,
      // Every account every tick: the test is about what is valued, not what is selected.
      fullConfirmEvery: 1,
      priceMoveWad: WAD / 100n,
      cashDecimals: 6,
    });
    const confirmed: AccountMarginState[][] = [];
    const watching = { ...planner, confirmed: (states: readonly AccountMarginState[]) => confirmed.push([...states]) };
    const lines: string[] = [];
    const log = pino(
      { level: "error" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const sender = fakeSender(() => minedAt(1n));
    const job = createLiquidationJob(
      {
        readers,
        planner: watching,
        sender,
        execute: createExecute({ stats, metrics, log, cooldownBlocks: 3n }),
        stats,
        metrics,
        log,
      },
      {
        liquidator: "0x00000000000000000000000000000000000000d1",
        bidderAccount: BIDDER,
        cashDecimals: 6,
        liquidate: false,
        marginCalls: true,
        maxBidGas: 3_000_000n,
        maxBatchGas: 30_000_000n,
        marginChunkSize: 50,
        marginGasPerCall: 20_000_000,
        crossCheckSample: 8,
      },
    );
    const index = emptyIndex(1, 1n);
    for (const account of truth.keys()) index.accounts.add(account);

    // A clean cache: everyone valued locally, equal to the chain, nothing counted.
    await job.run({ index, block: 10n, timestamp });
    assert.equal(stats.snapshot().valuationMismatches, 0);
    assert.equal(stats.snapshot().accountsValuedLocally, 3);
    assert.deepEqual(confirmed[0], [...truth.keys()].map(onChain));

    // Corrupt two cache entries: 1 now looks insolvent (acted on: cross-checked), 2 healthy (sampled).
    const cache = planner.holdings() as Map<bigint, AccountHoldings>;
    cache.set(1n, { ...cache.get(1n)!, cashShares: -5_000n * USDC });
    cache.set(2n, { ...cache.get(2n)!, cashShares: 0n });
    await job.run({ index, block: 11n, timestamp });
    assert.equal(stats.snapshot().valuationMismatches, 2);
    const counter = await metrics.registry.getSingleMetricAsString("pledge_keeper_valuation_mismatch_total");
    assert.match(counter, /pledge_keeper_valuation_mismatch_total 2$/m);
    // The chain's states were used for both: 2 is seen insolvent, 1 healthy; 3 stayed local and equal.
    assert.deepEqual(confirmed[1], [...truth.keys()].map(onChain));
    assert.equal(lines.length, 2, "each mismatch is logged as an error");
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: number; event: string; fields: string[] };
      assert.equal(entry.level, 50);
      assert.equal(entry.event, "valuationMismatch");
      assert.ok(entry.fields.includes("equityMM"));
    }
  });
});
