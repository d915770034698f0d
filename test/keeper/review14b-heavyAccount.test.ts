/**
 * Regression test, review r14b finding 1 (fixed: the figure is learnt only from batches the
 * guard accepts, capped at `maxBidGas`, and a planned batch the guard refuses is searched for
 * once). The finding: `simulatedPerBid` (a8a738e) is learnt only from batches whose gas was
 * searched for (`eth_estimateGas`), and a planned batch's guard sees `simulatedPerBid × bids`,
 * not its own gas. One heavy account simulated alone (an account with many positions: the
 * attacker's own, cheap to build) sets it high; from then on every planned batch of ordinary
 * accounts passes its `eth_call` (the plan is far too generous), so nothing re-learns the figure,
 * and the guard refuses every batch (`BidGasCap`, or `BidUnprofitableAfterGas` below the cap):
 * the keeper stops liquidating. The fake sender below does what `createSender.submit` does: the
 * plan fits when the batch's real gas is within the planned limit.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";
import type { Address } from "viem";

import { type AccountMarginState, liquidatorAbi } from "@pledge/sdk";
import { type GasGuard, Outcome, type GasPlan, type SendResult } from "../../packages/keeper/src/index.js";
import { createExecute } from "../../packages/keeper/src/jobs/job.js";
import { createLiquidationJob } from "../../packages/keeper/src/jobs/liquidation.js";
import { createMetrics } from "../../packages/keeper/src/metrics.js";
import type { Planner } from "../../packages/keeper/src/planner.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { emptyIndex } from "../../packages/keeper/src/store.js";
import { eventLog, minedAt } from "./helpers/fakes.js";
import { auctionParams, quotable } from "./helpers/accounts.js";
import { stubReaders } from "./helpers/stubReaders.js";

const WAD = 10n ** 18n;
const silent = pino({ level: "silent" });
const liquidator: Address = "0x00000000000000000000000000000000000000d1";
const BIDDER = 99n;
const HEAVY = 666n;
/** Gas a bid on `account` really uses in a batch: 400k, or 5M for the heavy account. */
const realGas = (account: bigint) => (account === HEAVY ? 5_000_000n : 400_000n);

describe("review r14b (fixed): the planned limit's learnt gas per bid", () => {
  it("one heavy account simulated alone does not stop the keeper bidding on ordinary accounts", async () => {
    const metrics = createMetrics();
    const stats = createStats(metrics);
    let states: AccountMarginState[] = [];
    let block = 0n;
    const readers = stubReaders({
      confirmation: async ({ chunks }) => ({
        bidderExcessIM: 1_000_000_000n * WAD,
        auctionParams,
        states: states.filter((s) => chunks.flat().includes(s.account)),
      }),
      auctions: async () => [],
    });
    const planner: Planner = {
      changed: () => {},
      disagreed: () => {},
      reset: () => {},
      plan: async () => states.map((s) => s.account),
      value: (selected) => ({ local: [], chain: [...selected] }),
      inputs: () => undefined,
      confirmed: () => {},
      holdings: () =>
        new Map(
          states.map((s) => [s.account, { cash: 0n, balances: [], positions: [{ seriesId: 1n, balance: -WAD }] }]),
        ),
    };
    const outcomes: { block: bigint; bids: number; planned: boolean; outcome: string; error?: string }[] = [];
    const sender = {
      send: async (
        _to: Address,
        _abi: unknown,
        functionName: string,
        args: unknown,
        guard?: GasGuard,
        _label?: unknown,
        plan?: GasPlan,
      ): Promise<SendResult> => {
        assert.equal(functionName, "bidMany");
        const requests = (args as [{ account: bigint }[]])[0];
        const real = requests.reduce((sum, r) => sum + realGas(r.account), 0n);
        // `submit`: one eth_call at the planned limit; if it fails, eth_estimateGas.
        const fits = plan?.limit !== undefined && real <= plan.limit;
        const gas = fits ? plan!.limit! : real;
        const limit = fits ? gas : (gas * 13n) / 10n;
        const refused = guard?.(gas, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, limit, fits);
        const record = { block, bids: requests.length, planned: fits };
        if (refused !== undefined) {
          outcomes.push({ ...record, outcome: Outcome.GAS_GUARD, error: refused });
          return { outcome: Outcome.GAS_GUARD, errorName: refused };
        }
        outcomes.push({ ...record, outcome: Outcome.SENT });
        const logs = requests.flatMap(({ account }, i) => [
          eventLog(liquidatorAbi, liquidator, "AuctionStarted", { account }, block, 2 * i),
          eventLog(liquidatorAbi, liquidator, "Bid", { account, bidderAccount: BIDDER }, block, 2 * i + 1),
        ]);
        return minedAt(block, undefined, logs);
      },
    };
    const execute = createExecute({ stats, metrics, log: silent, cooldownBlocks: 3n });
    const job = createLiquidationJob(
      { readers, planner, sender, execute, stats, metrics, log: silent },
      {
        liquidator,
        bidderAccount: BIDDER,
        cashDecimals: 6,
        liquidate: true,
        marginCalls: false,
        maxBidGas: 3_000_000n, // the keeper's defaults
        maxBatchGas: 16_777_216n,
        marginChunkSize: 50,
        marginGasPerCall: 20_000_000,
      },
    );
    const index = emptyIndex(1, 1n);
    const run = async (at: bigint, accounts: bigint[]) => {
      block = at;
      states = accounts.map(quotable);
      return job.run({ index, block: at, timestamp: 1_000n + at });
    };

    // A cascade's first tick: ten ordinary accounts, one batch, learnt at 400k per bid.
    await run(10n, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    // The attacker's account, many positions, below MM alone: its plan fails, it is searched for
    // (5M), and refused as too heavy (`BidGasCap`, as intended).
    await run(20n, [HEAVY]);
    // Ordinary accounts again, tick after tick.
    for (let at = 30n; at <= 60n; at += 10n) await run(at, [11n, 12n, 13n, 14n, 15n, 16n]);

    const later = outcomes.filter((o) => o.block >= 30n);
    assert.ok(
      later.some((o) => o.outcome === Outcome.SENT),
      `no ordinary account was bid on after the heavy one: ${later.map((o) => `${o.bids} bids ${o.error}`).join(", ")}`,
    );
  });
});
