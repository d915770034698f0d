/**
 * Review rv16s, finding B: the backstop job pays bare debts one at a time, awaiting each
 * `absorbDebt`'s receipt (and each candidate's three on-chain reads) before the next, inside the
 * tick. The sender resolves `send` only once the transaction is mined, so N bare debts hold the
 * tick (and so the next tick's liquidation job: bids, auctions) for N blocks. The liquidation job
 * sends its transactions back to back (`Promise.all`) precisely so a tick's transactions land in
 * one block (executor.ts, `createSender`). Here a stub sender that "mines" after 50 ms: the job
 * never has more than one absorbDebt in flight, and 20 debts take ≥ 20 × 50 ms.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";

import { bareDebtorsOf, createBackstopJob } from "../../../packages/keeper/src/jobs/backstop.js";
import { createExecute } from "../../../packages/keeper/src/jobs/job.js";
import { createMetrics } from "../../../packages/keeper/src/metrics.js";
import { createStats } from "../../../packages/keeper/src/stats.js";
import { Outcome } from "../../../packages/keeper/src/executor.js";

const silent = pino({ level: "silent" });
const BLOCK_MS = 50;

describe("review rv16s B (regression): bare debts are paid in one block", () => {
  it("sends every absorbDebt of a tick back to back", async () => {
    const debtors = Array.from({ length: 20 }, (_, i) => 100n + BigInt(i));
    const publicClient = {
      readContract: async ({ functionName }: { functionName: string }) => {
        switch (functionName) {
          case "insuranceAccount":
            return 900n;
          case "settlementAccount":
            return 901n;
          case "feeAccount":
            return 902n;
          case "balancesOf":
            return [[0n, 0n], -1n]; // no collateral, a one-unit debt
          case "positionsOf":
            return [[], []];
          default:
            throw new Error(`unexpected read ${functionName}`);
        }
      },
    };
    let inFlight = 0;
    let maxInFlight = 0;
    const sender = {
      send: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, BLOCK_MS)); // mined one block later
        inFlight--;
        return { outcome: Outcome.SENT } as never;
      },
    };
    const metrics = createMetrics();
    const holdings = new Map(debtors.map((a) => [a, { cash: -1n, balances: [0n, 0n], positions: [] }]));
    const job = createBackstopJob({
      publicClient: publicClient as never,
      addressBook: { contracts: { Backstop: "0x01", CollateralVault: "0x02", OptionMarket: "0x03" } } as never,
      sender: sender as never,
      execute: createExecute({ stats: createStats(metrics), metrics, log: silent, cooldownBlocks: 3n }),
      metrics,
      log: silent,
      bareDebtCandidates: () => bareDebtorsOf(holdings),
    });
    const started = Date.now();
    const report = await job.run({
      index: { auctions: new Set<bigint>(), holders: new Map() } as never,
      block: 10n,
      timestamp: 1_000n,
    });
    const elapsed = Date.now() - started;
    assert.equal(report.sent, debtors.length);
    assert.ok(
      maxInFlight > 1,
      `at most ${maxInFlight} absorbDebt in flight; the tick took ${elapsed} ms for ${debtors.length} debts (${BLOCK_MS} ms a block)`,
    );
  });
});
