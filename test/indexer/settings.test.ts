import assert from "node:assert/strict";
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
      () => settingsFromEnv({ PLEDGE_DEPLOYMENT: "b.json", PLEDGE_POLLING_MS: "10" }),
      /PLEDGE_POLLING_MS=10/,
    );
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
