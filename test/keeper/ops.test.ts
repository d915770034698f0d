import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import pino from "pino";
import { encodeErrorResult } from "viem";

import { accountId, liquidatorAbi } from "@pledge/sdk";
import { ExitCode, KeeperStartupError, resolveRunConfig } from "../../packages/keeper/src/config.js";
import { Outcome } from "../../packages/keeper/src/executor.js";
import { createExecute, emptyReport } from "../../packages/keeper/src/jobs/job.js";
import { createKeeper } from "../../packages/keeper/src/keeper.js";
import { createMetrics, serveMetrics } from "../../packages/keeper/src/metrics.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { createWorld } from "./helpers/world.js";

/** A pino logger whose lines land in `lines`, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

describe("keeper settings", () => {
  it("applies defaults, lets a flag override the config file, and names the setting that does not parse", () => {
    const config = resolveRunConfig(
      { rpc: ["http://a"], "min-profit": "5" },
      { deployment: "d.json", "min-profit": "1", liquidate: false },
      "keeper.json",
    );
    assert.equal(config.minProfit, "5");
    assert.equal(config.liquidate, false);
    assert.equal(config.metricsHost, "127.0.0.1");
    assert.equal(config.maxTickAge, 120);
    assert.equal(config.bidderSubId, 1n);
    assert.throws(
      () => resolveRunConfig({ rpc: ["http://a"], deployment: "d", "metrics-port": "70000" }),
      (error: unknown) =>
        error instanceof KeeperStartupError &&
        error.exitCode === ExitCode.USAGE &&
        error.message === "--metrics-port must be a port number (1-65535), got 70000",
    );
    assert.throws(
      () => resolveRunConfig({ rpc: ["http://a"] }, { deployment: "d", "dry-run": "yes" }, "keeper.json"),
      /keeper\.json: dry-run must be true or false, got yes/,
    );
  });
});

describe("keeper operations", () => {
  it("binds the metrics server to 127.0.0.1 unless told otherwise", async () => {
    const server = await serveMetrics(createMetrics(), 0, () => ({ ok: true, body: {} }));
    try {
      assert.equal((server.address() as AddressInfo).address, "127.0.0.1");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('logs "send failed" with the decoded cause and the account as owner/subId', async () => {
    const metrics = createMetrics();
    const { lines, logger } = capturingLogger();
    const execute = createExecute({ stats: createStats(metrics), metrics, log: logger, cooldownBlocks: 3n });
    const account = accountId("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1n);
    const data = encodeErrorResult({ abi: liquidatorAbi, errorName: "LiquidatorAccountHealthy", args: [account, 0] });
    const report = emptyReport("liquidation");
    await execute(report, "bid", "bid:0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC/1", 10n, async () => ({
      outcome: Outcome.SIMULATION_REVERTED,
      errorName: "LiquidatorAccountHealthy",
      error: { data },
    }));
    assert.equal(report.failed, 1);
    const line = lines.find((entry) => entry.msg === "send failed")!;
    assert.match(String(line.cause), /0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc\/1/i);
    assert.match(String(line.cause), /HEALTHY/);
  });

  it("/health is 503 until the first successful tick and when the last tick is too old; gauges use names", async () => {
    const world = await createWorld({ accounts: 2 });
    const keeper = world.keepers[0]!;
    const port = 21_000 + (process.pid % 5_000);
    const options = {
      publicClient: world.publicClient as never,
      walletClient: keeper.wallet as never,
      addressBook: world.book,
      bidderAccount: keeper.bidderAccount,
      logger: pino({ level: "silent" }),
    };
    const service = createKeeper({ ...options, metricsPort: port, maxTickAgeMs: 3_600_000 });
    await service.ready();
    try {
      const before = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(before.status, 503);
      assert.equal(((await before.json()) as { status: string }).status, "starting");

      await world.setSpot(69_000);
      await service.tick();
      const healthy = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(healthy.status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /pledge_keeper_accounts_at_risk\{health="LIQUIDATABLE"\} [12]/);
      assert.doesNotMatch(metrics, /health="[0-9]"/);
      assert.match(metrics, /pledge_keeper_bidder_health\{health="HEALTHY"\} 1/);
      assert.match(metrics, /pledge_keeper_bidder_excess_im_usd \d/);
      assert.match(metrics, /pledge_keeper_index_lag_blocks 0/);
      assert.match(metrics, /pledge_keeper_last_tick_age_seconds \d/);
    } finally {
      await service.stop();
    }

    // A keeper whose every tick is older than its limit: stale as soon as any time passes.
    const strict = createKeeper({ ...options, maxTickAgeMs: 0 });
    await strict.tick();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stale = strict.health();
    assert.equal(stale.ok, false);
    assert.equal((stale.body as { status: string }).status, "stale");
    await strict.stop();
  });
});
