import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

import { eventKind, jsonArgs } from "../../packages/indexer/lib/events.js";
import { IndexerSettingsError, settingsFromEnv } from "../../packages/indexer/lib/settings.js";

describe("indexer settings and event helpers", () => {
  it("reads the address book, RPC, database and polling from the environment, with defaults", () => {
    assert.deepEqual(settingsFromEnv({ PLEDGE_CHAIN_ID: "31337" }), {
      deployment: "deployments/31337.json",
      rpcUrl: "http://127.0.0.1:8545",
      chainId: 31337,
      databaseUrl: undefined,
      dataDir: ".ponder/pglite",
      pollingMs: 100,
      rpcLanes: 8,
      disableCache: true,
    });
    // A remote RPC is polled every second unless told otherwise (a loopback one every 100 ms).
    assert.equal(
      settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_RPC_URL: "https://rpc.example" }).pollingMs,
      1000,
    );
    const remote = settingsFromEnv({
      PLEDGE_DEPLOYMENT: "book.json",
      PLEDGE_RPC_URL: "https://rpc.example/v1",
      DATABASE_URL: "postgres://u:p@db/pledge",
      PLEDGE_POLLING_MS: "250",
    });
    assert.equal(remote.deployment, "book.json");
    assert.equal(remote.chainId, undefined);
    assert.equal(remote.databaseUrl, "postgres://u:p@db/pledge");
    assert.equal(remote.pollingMs, 250);
    assert.equal(remote.disableCache, false, "a remote chain keeps Ponder's RPC cache");
    // Ponder's per-endpoint rate limiter is for hosted providers: a remote RPC is listed once, a
    // local node eight times (see "Lag" in docs/indexer.md), either as told.
    assert.equal(remote.rpcLanes, 1);
    assert.equal(settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_RPC_LANES: "2" }).rpcLanes, 2);
    assert.equal(
      settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_RPC_URL: "https://rpc.example", PLEDGE_RPC_LANES: "4" })
        .rpcLanes,
      4,
    );
    assert.equal(settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_DISABLE_CACHE: "0" }).disableCache, false);
  });

  it("refuses a missing book, a bad chain id, URL or polling interval, naming the variable", () => {
    assert.throws(
      () => settingsFromEnv({}),
      (e: Error) => e instanceof IndexerSettingsError && /PLEDGE_DEPLOYMENT/.test(e.message),
    );
    assert.throws(() => settingsFromEnv({ PLEDGE_CHAIN_ID: "-1" }), /PLEDGE_CHAIN_ID=-1 is not a chain id/);
    assert.throws(
      () => settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_RPC_URL: "nope" }),
      /PLEDGE_RPC_URL=nope/,
    );
    assert.throws(
      () => settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_POLLING_MS: "50" }),
      /PLEDGE_POLLING_MS=50 should be a whole number of ms, at least 100/,
    );
    for (const lanes of ["0", "65", "1.5", "many"]) {
      assert.throws(
        () => settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_RPC_LANES: lanes }),
        new RegExp(`PLEDGE_RPC_LANES=${lanes.replace(".", "\\.")} should be a whole number from 1 to 64`),
      );
    }
  });

  it("the CLI refuses a bad polling interval or lane count in one line, before Ponder starts", () => {
    for (const [flag, value, message] of [
      ["--rpc-lanes", "0", "PLEDGE_RPC_LANES=0 should be a whole number from 1 to 64"],
      ["--polling-ms", "20", "PLEDGE_POLLING_MS=20 should be a whole number of ms, at least 100"],
    ] as const) {
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "packages/indexer/cli.ts", "--chain-id", "31337", flag, value],
        { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 },
      );
      assert.equal(run.status, 1);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.ok(lines[0]!.startsWith(`error: ${message}; usage: npm run indexer`), lines[0]);
    }
  });

  it("classes parameter changes apart from activity, and writes arguments as JSON", () => {
    for (const name of ["FeesSet", "AssetConfigured", "RoleGranted", "UnderlyingListed", "Paused", "AssetDelisted"])
      assert.equal(eventKind(name), "parameter", name);
    for (const name of ["OrderFilled", "OperatorSet", "MarginModeSet", "MinNonceSet", "PositionChanged", "Bid"])
      assert.equal(eventKind(name), "activity", name);
    assert.deepEqual(jsonArgs({ amount: 5n, ids: [1n, -2n], params: { a: 3n, ok: true } }), {
      amount: "5",
      ids: ["1", "-2"],
      params: { a: "3", ok: true },
    });
  });
});
