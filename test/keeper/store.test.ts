import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import {
  type Hash,
  type PublicClient,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
  keccak256,
  maxUint256,
  stringToHex,
} from "viem";

import { reconcileActions } from "../../packages/keeper/src/reconcile.js";
import { DatabaseSync } from "../../packages/keeper/src/sqlite.js";
import {
  type IndexChanges,
  type KeeperIndex,
  KeeperStoreError,
  emptyIndex,
  openStore,
  parseJsonIndex,
} from "../../packages/keeper/src/store.js";
import { seededRandom } from "../../scripts/lib/population.js";

const tmp = async (name = "keeper.sqlite") => path.join(await mkdtemp(path.join(os.tmpdir(), "keeper-store-")), name);
const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "packages/keeper/src/cli.ts");
const SENDER = "0x00000000000000000000000000000000000000b1";
const txHash = (label: string): Hash => keccak256(stringToHex(label));

/** An index with plain `Set`s and `Map`s (the keeper's are `BigIntSet`/`BigIntMap`), to compare by content. */
function plain(index: KeeperIndex) {
  return {
    ...index,
    accounts: new Set(index.accounts),
    holders: new Map([...index.holders].map(([series, holders]) => [series, new Set(holders)] as const)),
    settledSeries: new Set(index.settledSeries),
    auctions: new Set(index.auctions),
  };
}

/** Runs the keeper CLI (through tsx) and returns its exit code and output. */
function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("keeper store (SQLite)", () => {
  it("creates the schema by numbered migrations, in WAL mode, and refuses a newer schema", async () => {
    const file = await tmp();
    const store = openStore(file);
    assert.equal(store.schemaVersion, 1);
    store.close();
    const db = new DatabaseSync(file);
    assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
    const tables = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    assert.deepEqual(tables, [
      "accounts",
      "action_transactions",
      "actions",
      "auctions",
      "holders",
      "meta",
      "settled_series",
    ]);
    db.exec("PRAGMA user_version = 7");
    db.close();
    assert.throws(
      () => openStore(file),
      (error: Error) => error instanceof KeeperStoreError && /schema version 7/.test(error.message),
    );

    // Reopening an up-to-date store runs no migration again (it would fail on CREATE TABLE).
    const again = await tmp();
    openStore(again).close();
    const reopened = openStore(again);
    assert.equal(reopened.schemaVersion, 1);
    reopened.close();
  });

  it("round-trips uint256 ids, and a commit writes the final state of the keys a range touched", async () => {
    const store = openStore(await tmp());
    const index = emptyIndex(31337, 10n);
    const big = maxUint256 - 5n;
    index.accounts.add(1n).add(big);
    index.holders.set(big, new Set([1n, big]));
    index.auctions.add(big);
    index.cursor = 20n;
    index.cursorHash = txHash("block 20");
    const all: IndexChanges = {
      accounts: new Set([1n, big]),
      holders: new Map([[big, new Set([1n, big])]]),
      auctions: new Set([big]),
    };
    store.commit(index, all);
    assert.deepEqual(plain(store.loadIndex(31337)!), plain(index));
    assert.equal(store.loadIndex(1), undefined, "another chain's index is not loaded");

    // A range that removes a holder and ends an auction; an account it did not touch stays as stored.
    index.holders.get(big)!.delete(1n);
    index.auctions.delete(big);
    index.accounts.add(2n); // not in the changes: not written
    index.cursor = 21n;
    store.commit(index, { accounts: new Set(), holders: new Map([[big, new Set([1n])]]), auctions: new Set([big]) });
    const stored = store.loadIndex()!;
    assert.deepEqual([...stored.holders.get(big)!], [big]);
    assert.equal(stored.auctions.size, 0);
    assert.equal(stored.accounts.has(2n), false);
    assert.equal(stored.cursor, 21n);
    store.close();
  });

  it("fuzz: after any sequence of committed ranges the stored index equals the index in memory (seeded)", async () => {
    for (const seed of [1, 2, 3, 0x5eed]) {
      const random = seededRandom(seed);
      const pick = (n: number) => BigInt(Math.floor(random() * n));
      const store = openStore(await tmp());
      const index: KeeperIndex = emptyIndex(1, 0n);
      for (let range = 0; range < 40; range++) {
        const changes: IndexChanges = { accounts: new Set(), holders: new Map(), auctions: new Set() };
        for (let event = 0; event < 30; event++) {
          const account = pick(50) << 96n;
          const series = pick(4) + (1n << 200n);
          const roll = random();
          index.accounts.add(account);
          changes.accounts.add(account);
          if (roll < 0.6) {
            const holders = index.holders.get(series) ?? new Set<bigint>();
            if (random() < 0.6) holders.add(account);
            else holders.delete(account);
            index.holders.set(series, holders);
            changes.holders.set(series, (changes.holders.get(series) ?? new Set()).add(account));
          } else {
            if (roll < 0.8) index.auctions.add(account);
            else index.auctions.delete(account);
            changes.auctions.add(account);
          }
        }
        if (random() < 0.1) index.settledSeries.add(pick(4) + (1n << 200n));
        index.cursor += 1n + pick(100);
        index.cursorHash = txHash(`block ${index.cursor}`);
        store.commit(index, changes);
      }
      const stored = store.loadIndex(1)!;
      // Series whose every holder left are empty sets in memory and absent in the store.
      const nonEmpty = new Map([...index.holders].filter(([, holders]) => holders.size > 0));
      assert.deepEqual(plain(stored), plain({ ...index, holders: nonEmpty }), `seed ${seed}`);
      store.close();
    }
  });

  it("journals actions: pending, then their hashes in order, then the outcome; pending ones by chain", async () => {
    const store = openStore(await tmp());
    const a = store.pending({ chainId: 1, tick: 7n, kind: "bid", target: "bid:5", sender: SENDER, nonce: 3 });
    const b = store.pending({ chainId: 1, kind: "settleBatch", target: "settle:9:0", sender: SENDER, nonce: 4 });
    store.pending({ chainId: 2, kind: "bid", target: "bid:6", sender: SENDER, nonce: 0 });
    store.transaction(a, txHash("a1"));
    store.transaction(a, txHash("a2"));
    store.finished(a, { status: "mined", txHash: txHash("a1"), gasUsed: 123_456n });
    assert.deepEqual(
      store.pendingActions(1).map((x) => x.id),
      [b],
    );
    const [first] = store.actions({ status: "mined" });
    assert.equal(first!.tick, 7n);
    assert.deepEqual(first!.hashes, [txHash("a1"), txHash("a2")]);
    assert.equal(first!.txHash, txHash("a1"));
    assert.equal(first!.gasUsed, 123_456n);
    assert.deepEqual(store.summary().actions, { mined: 1, pending: 2 });
    store.close();
  });

  it("settles pending actions from the chain: mined, reverted, replaced, dropped, still in the mempool, unknown", async () => {
    const store = openStore(await tmp());
    const add = (nonce: number, hashes: string[]) => {
      const id = store.pending({ chainId: 1, kind: "bid", target: `bid:${nonce}`, sender: SENDER, nonce });
      for (const h of hashes) store.transaction(id, txHash(h));
      return id;
    };
    const mined = add(1, ["m-old", "m-new"]); // the older version mined
    const reverted = add(2, ["r"]);
    const replaced = add(3, ["x"]);
    const noHash = add(4, []);
    const inMempool = add(5, ["p"]);
    const dropped = add(6, ["d"]);
    const receipts = new Map<Hash, "success" | "reverted">([
      [txHash("m-old"), "success"],
      [txHash("r"), "reverted"],
    ]);
    const client = {
      getTransactionReceipt: async ({ hash }: { hash: Hash }) => {
        const status = receipts.get(hash);
        if (status === undefined) throw new TransactionReceiptNotFoundError({ hash });
        return { status, transactionHash: hash, gasUsed: 21_000n };
      },
      // Nonces 0-4 are used on chain; 5 and 6 are not.
      getTransactionCount: async () => 5,
      getTransaction: async ({ hash }: { hash: Hash }) => {
        if (hash !== txHash("p")) throw new TransactionNotFoundError({ hash });
        return { hash };
      },
      waitForTransactionReceipt: async ({ hash }: { hash: Hash }) => {
        throw new WaitForTransactionReceiptTimeoutError({ hash });
      },
    } as unknown as PublicClient;
    const report = await reconcileActions({ publicClient: client, journal: store, chainId: 1, waitMs: 1 });
    assert.deepEqual(report, { mined: 1, reverted: 1, failed: 1, dropped: 1, replaced: 1, stillPending: 1 });
    const byId = new Map(store.actions().map((a) => [a.id, a]));
    assert.equal(byId.get(mined)!.status, "mined");
    assert.equal(byId.get(mined)!.txHash, txHash("m-old"));
    assert.equal(byId.get(mined)!.gasUsed, 21_000n);
    assert.equal(byId.get(reverted)!.status, "reverted");
    assert.equal(byId.get(replaced)!.status, "replaced");
    assert.equal(byId.get(noHash)!.status, "failed");
    assert.equal(byId.get(inMempool)!.status, "pending");
    assert.equal(byId.get(dropped)!.status, "dropped");

    // An RPC error settles nothing: the action stays pending for the next attempt.
    const failing = { ...client, getTransactionReceipt: async () => Promise.reject(new Error("HTTP 503")) };
    await assert.rejects(
      reconcileActions({ publicClient: failing as unknown as PublicClient, journal: store, chainId: 1 }),
      /HTTP 503/,
    );
    assert.equal(store.actions().find((a) => a.id === inMempool)!.status, "pending");
    store.close();
  });

  it("refuses a JSON store and names the import command; parses an old JSON store", async () => {
    const json = await tmp("keeper-index.json");
    assert.throws(() => openStore(json), /import-store/);
    const notSqlite = await tmp("keeper.db");
    await writeFile(notSqlite, '{"version":1}');
    assert.throws(() => openStore(notSqlite), /not a SQLite store/);
    const index = parseJsonIndex(
      JSON.stringify({
        version: 1,
        chainId: 31337,
        cursor: "42",
        cursorHash: txHash("block 42"),
        accounts: ["1", "2"],
        holders: { "9": ["1"] },
        settledSeries: ["8"],
        auctions: ["2"],
      }),
    );
    assert.equal(index.cursor, 42n);
    assert.deepEqual([...index.holders.get(9n)!], [1n]);
    assert.throws(() => parseJsonIndex("{"), /not JSON/);
    assert.throws(() => parseJsonIndex('{"version":2}'), /version 1/);
  });

  it("CLI: import-store once, status reads the database, --store is required, one line per error", async () => {
    const json = await tmp("keeper-index.json");
    await writeFile(
      json,
      JSON.stringify({
        version: 1,
        chainId: 31337,
        cursor: "42",
        cursorHash: null,
        accounts: ["1", "2", "3"],
        holders: { "9": ["1", "2"] },
        settledSeries: [],
        auctions: ["3"],
      }),
    );
    const file = path.join(path.dirname(json), "keeper.sqlite");
    const imported = cli("import-store", json, "--store", file);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported .* chain 31337, block 42, 3 accounts, 1 series, 1 open auctions/);
    assert.doesNotMatch(imported.stderr, /ExperimentalWarning/, "the SQLite warning is not printed");
    const again = cli("import-store", json, "--store", file);
    assert.equal(again.code, 13);
    assert.equal(again.stderr.trim().split("\n").length, 1);
    assert.match(again.stderr, /already holds an index/);

    const status = cli("status", "--store", file);
    assert.equal(status.code, 0, status.stderr);
    const summary = JSON.parse(status.stdout) as Record<string, unknown>;
    assert.deepEqual(
      {
        chainId: summary.chainId,
        cursor: summary.cursor,
        accounts: summary.accounts,
        openPositions: summary.openPositions,
      },
      { chainId: 31337, cursor: "42", accounts: 3, openPositions: 2 },
    );
    assert.deepEqual(summary.openAuctions, ["3"]);

    assert.match(cli("status", "--help").stdout, /--store <path>\s+\(required\)/);
    const missing = cli("status");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /required option '--store <path>' not specified/);
    const absent = cli("status", "--store", path.join(path.dirname(json), "nothing.sqlite"));
    assert.equal(absent.code, 13);
    assert.equal(absent.stderr.trim(), `error: no store at ${path.join(path.dirname(json), "nothing.sqlite")}`);
    const old = cli("status", "--store", json);
    assert.equal(old.code, 13);
    assert.match(old.stderr.trim(), /^error: .* import-store/);
  });

  it("drops only SQLite's experimental warning: other warnings still print", () => {
    const script = `await import(${JSON.stringify(path.join(ROOT, "packages/keeper/src/sqlite.ts"))}); process.emitWarning("something else", "ExperimentalWarning");`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /SQLite is an experimental feature/);
    assert.match(run.stderr, /ExperimentalWarning: something else/);
  });
});
