import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";

import {
  type AccountMarginState,
  type GetMarketParametersReturnType,
  Health,
  accountMargin,
  asAccountId,
  seriesId,
} from "@pledge/sdk";
import { createExecute } from "../../packages/keeper/src/jobs/job.js";
import { createLiquidationJob } from "../../packages/keeper/src/jobs/liquidation.js";
import { createMetrics } from "../../packages/keeper/src/metrics.js";
import { createPlanner, marketInputsOf } from "../../packages/keeper/src/planner.js";
import { type AccountHoldings, marginInputsOf } from "../../packages/keeper/src/ranking.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { emptyIndex } from "../../packages/keeper/src/store.js";
import { exactInputsOf } from "../../packages/keeper/src/valuation.js";
import { fakeSender, minedAt } from "./helpers/fakes.js";
import { auctionParams } from "./helpers/accounts.js";
import { WAD, held, marketParams, pricesAt, usdc, weth, zeroRateCash } from "./helpers/oneWethMarket.js";
import { stubReaders } from "./helpers/stubReaders.js";

const BIDDER = 99_999n;
const params = marketParams;
const cash = zeroRateCash;

/** A liquidation job over stub readers whose "chain" values `truth` with `chainParams()` and `chainPrices()`. */
function harness(opts: {
  truth: Map<bigint, AccountHoldings>;
  chainParams: () => GetMarketParametersReturnType;
  chainPrices: () => ReturnType<typeof pricesAt>;
  fullConfirmEvery: number;
  crossCheckSample?: number;
}) {
  const timestamp = 1_000n;
  let parameterReads = 0;
  const checkedOnChain: bigint[] = [];
  const onChain = (account: bigint): AccountMarginState => ({
    ...accountMargin(
      marginInputsOf(opts.truth.get(account)!, marketInputsOf(opts.chainParams(), opts.chainPrices(), timestamp, 6)),
    ),
    account: asAccountId(account),
  });
  const readers = stubReaders({
    marketParameters: async () => {
      parameterReads++;
      return opts.chainParams();
    },
    snapshot: async ({ accounts }) => ({
      prices: opts.chainPrices(),
      cash,
      holdings: new Map(accounts.filter((a) => opts.truth.has(a)).map((a) => [a, opts.truth.get(a)!] as const)),
    }),
    confirmation: async ({ chunks }) => {
      for (const account of chunks.flat()) checkedOnChain.push(account);
      return {
        bidderExcessIM: 1_000_000n * WAD,
        auctionParams,
        states: chunks.flat().map(onChain),
        protectedAccounts: [],
      };
    },
    auctions: async () => [],
  });
  const metrics = createMetrics();
  const stats = createStats(metrics);
  const planner = createPlanner(readers, stats, {
    nearRatio: 0.5,
    nearExcessUsd: 1_000,
    fullConfirmEvery: opts.fullConfirmEvery,
    priceMoveWad: WAD / 100n,
    cashDecimals: 6,
  });
  const seen: AccountMarginState[][] = [];
  const watching = {
    ...planner,
    confirmed: (states: readonly AccountMarginState[]) => {
      seen.push([...states]);
      planner.confirmed(states);
    },
  };
  const log = pino({ level: "silent" });
  const job = createLiquidationJob(
    {
      readers,
      planner: watching,
      sender: fakeSender(() => minedAt(1n)),
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
      crossCheckSample: opts.crossCheckSample ?? 8,
    },
  );
  const index = emptyIndex(1, 1n);
  for (const account of opts.truth.keys()) index.accounts.add(account);
  let block = 10n;
  return {
    planner,
    index,
    checkedOnChain: () => checkedOnChain,
    stats,
    seen,
    onChain,
    parameterReads: () => parameterReads,
    tick: () => job.run({ index, block: block++, timestamp }),
  };
}

describe("valuation review rv19v: sample, parameters, refused vol", () => {
  /**
   * F1. The rotating sample is meant to find "a cache gone wrong for the others too". The cursor
   * is taken modulo the length of each tick's `rest`: one account in a margin call (always
   * selected between full passes) resets it to 0 on every non-full tick, so every full pass
   * samples the same first 8 accounts. A drifted entry further down is never cross-checked.
   */
  it("F1: a drifted cache entry is cross-checked within a few full passes", async () => {
    const truth = new Map<bigint, AccountHoldings>();
    truth.set(1n, held(-2_800n)); // MARGIN_CALL: equityIM −100, equityMM +50: watched, selected every tick
    for (let a = 2n; a <= 40n; a++) truth.set(a, held(1_000n));
    const h = harness({
      truth,
      chainParams: () => params(WAD / 20n),
      chainPrices: () => pricesAt(3_000n),
      fullConfirmEvery: 2,
    });
    assert.equal(h.onChain(1n).health, Health.MARGIN_CALL);
    await h.tick(); // full pass: caches everyone, all equal to the chain
    // Account 30's state on chain changes with nothing the index sees (an unindexed event, a
    // stale parameter, cache drift): INSOLVENT on chain, the cache still says HEALTHY.
    truth.set(30n, held(-2_900n));
    assert.equal(h.onChain(30n).health, Health.INSOLVENT);
    // 40 ticks = 20 full passes of 40 accounts × 8 sampled: 160 samples for 40 accounts.
    for (let t = 0; t < 40; t++) await h.tick();
    const seen30 = h.seen
      .flat()
      .filter((s) => s.account === 30n)
      .map((s) => s.health);
    assert.ok(
      h.stats.snapshot().valuationMismatches > 0,
      `account 30 (INSOLVENT on chain) was never cross-checked in 20 full passes; its healths: ${[...new Set(seen30)]}`,
    );
  });

  /**
   * F2. The market parameters are re-read only when `ticksSinceFull + 1 >= fullConfirmEvery`, and a
   * price-move full pass resets `ticksSinceFull`: in a market moving > 1 % a tick (a crash) they are
   * never re-read. Those full passes now value everyone locally with the stale parameters (before
   * this branch they were `accountsMargin` on chain). A risk manager raising a haircut in a crash
   * leaves accounts liquidatable on chain HEALTHY for the keeper until the sample happens on them.
   */
  it("F2: a raised maintenance haircut is seen within fullConfirmEvery ticks while prices move", async () => {
    const truth = new Map<bigint, AccountHoldings>();
    for (let a = 1n; a <= 100n; a++) truth.set(a, held(1_000n));
    truth.set(100n, held(-2_500n)); // healthy at a 5 % MM haircut, insolvent at 25 %
    let haircut = WAD / 20n;
    let tick = 0;
    const h = harness({
      truth,
      chainParams: () => params(haircut),
      // ±3 % every tick: every tick is a price-move full pass.
      chainPrices: () => pricesAt(tick % 2 === 0 ? 3_000n : 3_090n),
      fullConfirmEvery: 10,
    });
    await h.tick();
    tick++;
    haircut = WAD / 4n; // the risk manager raises WETH's maintenance haircut to 25 %
    assert.equal(h.onChain(100n).health, Health.INSOLVENT);
    for (let t = 0; t < 11; t++) {
      await h.tick();
      tick++;
    }
    const healths = h.seen.slice(1).map((states) => states.find((s) => s.account === 100n)?.health);
    assert.ok(
      healths.some((x) => x !== undefined && x >= Health.LIQUIDATABLE),
      `account 100 is INSOLVENT on chain for 11 ticks; the keeper saw: ${healths.join(",")} ` +
        `(market parameters read ${h.parameterReads()} time(s) in 12 moving ticks)`,
    );
  });

  /**
   * F4. A refused vol (a stale vol feed: the oracle reverts, `getOraclePrices` answers 0) makes
   * the engine refuse the account (`_markOf` calls `oracle.vol`). `exactInputsOf` checks only the
   * spot, so the account is valued locally at vol 0 (intrinsic marks) instead of being left to the
   * chain: reported valued, `unvalued` warning lost, long options lose their time value.
   */
  it("F4: a position whose vol the oracle refused is left to the chain", () => {
    const series = seriesId({
      underlyingIndex: 1,
      expiry: 1_000n + 7n * 86_400n,
      isCall: true,
      strikeWad: 3_000n * WAD,
    });
    const prices = {
      spotWad: new Map([
        [usdc, WAD],
        [weth, 3_000n * WAD],
      ]),
      volWad: new Map([[weth, 0n]]),
    };
    const market = marketInputsOf(params(WAD / 20n), prices, 1_000n, 6);
    const holdings: AccountHoldings = {
      ...held(1_000n),
      positions: [{ seriesId: series, balance: WAD }],
      cashEpoch: 0n,
    };
    const inputs = exactInputsOf(holdings, market, cash);
    assert.equal(
      inputs,
      undefined,
      `valued locally at vol 0: health ${inputs === undefined ? "-" : accountMargin(inputs).health}, mark value ${inputs === undefined ? "-" : accountMargin(inputs).markValue}`,
    );
  });

  /** T1: with N ≫ the sample, every account valued locally is cross-checked within ceil(N / sample) ticks. */
  it("every account is cross-checked at least every ceil(N / sample) ticks, whatever is selected", async () => {
    const truth = new Map<bigint, AccountHoldings>();
    truth.set(1n, held(-2_800n)); // in a margin call: selected on every tick
    for (let a = 2n; a <= 300n; a++) truth.set(a, held(1_000n));
    const h = harness({
      truth,
      chainParams: () => params(WAD / 20n),
      chainPrices: () => pricesAt(3_000n),
      fullConfirmEvery: 7,
      crossCheckSample: 4,
    });
    await h.tick(); // caches everyone (all read on chain: nothing cached yet)
    const from = h.checkedOnChain().length;
    for (let t = 0; t < 75; t++) await h.tick(); // ceil(300 / 4) = 75
    const checked = new Set(h.checkedOnChain().slice(from));
    const missed = [...truth.keys()].filter((a) => !checked.has(a));
    assert.deepEqual(missed, [], `${missed.length} of 300 accounts never cross-checked in 75 ticks`);
    assert.equal(h.stats.snapshot().valuationMismatches, 0);
  });

  it("a mismatch leaves the account to the chain until it is re-read, and re-reads the parameters", async () => {
    const truth = new Map<bigint, AccountHoldings>();
    for (let a = 1n; a <= 50n; a++) truth.set(a, held(1_000n));
    const h = harness({
      truth,
      chainParams: () => params(WAD / 20n),
      chainPrices: () => pricesAt(3_000n),
      fullConfirmEvery: 1_000,
      crossCheckSample: 5,
    });
    await h.tick();
    truth.set(8n, held(-2_900n)); // drifted: INSOLVENT on chain, HEALTHY in the cache
    await h.tick(); // the sample walks 1–5, then 6–10: finds it
    assert.equal(h.stats.snapshot().valuationMismatches, 1);
    const last = h.seen.at(-1)!.find((s) => s.account === 8n);
    assert.equal(last?.health, Health.INSOLVENT, "the chain's state is used (and joins the states)");
    assert.equal(h.planner.value([8n]).chain.length, 1, "dirty: valued on chain until re-read");
    const reads = h.parameterReads();
    await h.tick(); // re-reads account 8 and the parameters
    assert.equal(h.parameterReads(), reads + 1, "the parameters are re-read after a mismatch");
    assert.equal(h.planner.value([8n]).local[0]?.health, Health.INSOLVENT, "re-read: valued locally again, right");
    assert.equal(h.stats.snapshot().valuationMismatches, 1);
  });
});
