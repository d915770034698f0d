import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  type Address,
  type Hash,
  type Log,
  encodeAbiParameters,
  encodeEventTopics,
  keccak256,
  numberToHex,
  stringToHex,
} from "viem";

import {
  type BlockRef,
  type ChainSource,
  type IndexListener,
  chainSourceOf,
  createIndexer,
} from "../packages/keeper/src/indexer.js";
import { DatabaseSync } from "../packages/keeper/src/sqlite.js";
import { type KeeperIndex, type KeeperStore, openStore } from "../packages/keeper/src/store.js";
import { collateralVaultAbi, optionMarketAbi } from "@pledge/sdk";
import { chainClock } from "./lib/chainClock.js";
import { seedPopulation } from "./lib/seeding.js";
import { setUp } from "./lib/world.js";
import { BigIntSet } from "../packages/keeper/src/bigintKeys.js";

/**
 * `npm run bench:store`: the keeper's SQLite store (`packages/keeper/src/store.ts`) at scale,
 * through the indexer's own code path, and writes `bench/keeper-store.json`.
 *
 * 1. Synthetic: STORE_BENCH_ACCOUNTS (default 100,000) accounts, each a `Deposited` and a
 *    `PositionChanged` log in a fake chain of STORE_BENCH_BLOCKS blocks, indexed by
 *    `createIndexer` into a store, range by range (one transaction each). Then: start-up
 *    (open + load the index), ticks (one new block of changes committed, a flush, and a
 *    tick's sends journaled: `pending`, hash, outcome), and disk size. For comparison, the
 *    old JSON store's whole-file save of the same index.
 * 2. Seeded: a real population (STORE_BENCH_SEEDED, default 100 accounts) seeded on the
 *    in-process chain as the stress test does, indexed from the deployment block over
 *    JSON-RPC into a store.
 *
 * Times are wall time on the machine that ran it (the committed file: two cores shared with
 * other work); sizes and counts are deterministic.
 */
const ACCOUNTS = Number(process.env.STORE_BENCH_ACCOUNTS ?? 100_000);
const BLOCKS = Number(process.env.STORE_BENCH_BLOCKS ?? 1_000);
const SEEDED = Number(process.env.STORE_BENCH_SEEDED ?? 100);
const TICKS = 200;
/** Per tick: position changes on indexed accounts, a new account, and the sends journaled. */
const CHANGES_PER_TICK = 20;
const SENDS_PER_TICK = 5;
const SERIES = 40;

const vault: Address = "0x00000000000000000000000000000000000000a1";
const market: Address = "0x00000000000000000000000000000000000000a2";
const liquidator: Address = "0x00000000000000000000000000000000000000a3";
const blockHash = (n: bigint): Hash => keccak256(stringToHex(`block ${n}`));
/**
 * Account `i`: owner `1 + i`'s sub-account 1, as most real accounts are. The sub-id is the id's
 * lowest 64 bits and V8 hashes a BigInt by those alone, so these all collide in a plain
 * `Set<bigint>`; the keeper keeps them in `BigIntSet`/`BigIntMap`, which do not (measured below
 * as `bigintHashCollision`; see docs/keeper.md).
 */
const accountOf = (i: number) => (BigInt(numberToHex(1 + i, { size: 20 })) << 96n) | 1n;
const seriesOf = (i: number) => (1n << 200n) | BigInt(i % SERIES);

const depositedTopic = encodeEventTopics({ abi: collateralVaultAbi, eventName: "Deposited" })[0]!;
const positionTopic = encodeEventTopics({ abi: optionMarketAbi, eventName: "PositionChanged" })[0]!;
const word = (value: bigint) => numberToHex(value, { size: 32 });
const amountData = encodeAbiParameters([{ type: "uint256" }], [1_000_000n]);
const balanceData = (balance: bigint) => encodeAbiParameters([{ type: "int256" }], [balance]);

function log(address: Address, topics: Hash[], data: Hash, blockNumber: bigint, logIndex: number): Log {
  return {
    address,
    blockHash: blockHash(blockNumber),
    blockNumber,
    data,
    logIndex,
    removed: false,
    topics: topics as [Hash, ...Hash[]],
    transactionHash: blockHash(blockNumber),
    transactionIndex: 0,
  };
}
const deposited = (account: bigint, block: bigint, i: number) =>
  log(vault, [depositedTopic, word(account), word(0xc0ffeen), word(0xbeefn)], amountData, block, i);
const positionChanged = (account: bigint, series: bigint, balance: bigint, block: bigint, i: number) =>
  log(market, [positionTopic, word(account), word(series)], balanceData(balance), block, i);

/** A fake chain whose logs are generated per block on demand. */
function syntheticChain(logsOf: (block: bigint) => Log[]): ChainSource {
  return {
    block: async (number) => ({ number, hash: blockHash(number) }),
    logs: async (_addresses, fromBlock, toBlock) => {
      const logs: Log[] = [];
      for (let block = fromBlock; block <= toBlock; block++) logs.push(...logsOf(block));
      return logs;
    },
  };
}

const quiet: IndexListener = { changed: () => {}, auctionStarted: () => {}, bid: () => {}, rebuilt: () => {} };

/** The store with its commits timed. */
function timed(store: KeeperStore) {
  const commits: number[] = [];
  return {
    commits,
    store: {
      ...store,
      commit: (index: KeeperIndex, changes?: Parameters<KeeperStore["commit"]>[1]) => {
        const started = performance.now();
        store.commit(index, changes);
        commits.push(performance.now() - started);
      },
    } as KeeperStore,
  };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const ms = (value: number) => Math.round(value * 1_000) / 1_000;
async function diskBytes(file: string) {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"])
    total += await stat(file + suffix).then(
      (s) => s.size,
      () => 0,
    );
  return total;
}

async function synthetic(dir: string) {
  const file = path.join(dir, "synthetic.sqlite");
  const perBlock = Math.ceil(ACCOUNTS / BLOCKS);
  const chain = syntheticChain((block) => {
    const logs: Log[] = [];
    const first = Number(block - 1n) * perBlock;
    for (let i = first; i < Math.min(first + perBlock, ACCOUNTS); i++) {
      const account = accountOf(i);
      logs.push(deposited(account, block, logs.length));
      logs.push(positionChanged(account, seriesOf(i), -1n - BigInt(i % 7), block, logs.length));
    }
    return logs;
  });
  const options = {
    source: chain,
    chainId: 31337,
    deployedAtBlock: 1n,
    addresses: [vault, market, liquidator],
    listener: quiet,
    maxLogRange: 100n,
  };

  // 1. The initial index: every account, range by range.
  const initial = timed(openStore(file));
  const started = performance.now();
  const indexer = createIndexer({ ...options, store: initial.store });
  const { index } = await indexer.sync({ number: BigInt(BLOCKS), hash: blockHash(BigInt(BLOCKS)) });
  const indexSeconds = (performance.now() - started) / 1_000;
  initial.store.close();
  const diskAfterIndex = await diskBytes(file);

  // 2. Start-up: open the store and load the index, as a restarted keeper does (median of 5).
  const startups: number[] = [];
  for (let run = 0; run < 5; run++) {
    const began = performance.now();
    const store = openStore(file);
    const loaded = store.loadIndex(31337);
    startups.push(performance.now() - began);
    if (loaded?.accounts.size !== ACCOUNTS) throw new Error(`loaded ${loaded?.accounts.size} accounts`);
    store.close();
  }

  // 3. Ticks: each a new block with CHANGES_PER_TICK position changes and a new account,
  //    committed by the indexer, then a flush, then SENDS_PER_TICK sends journaled.
  let head = BigInt(BLOCKS);
  const tickChain = syntheticChain((block) => {
    const logs: Log[] = [];
    const n = Number(block);
    for (let k = 0; k < CHANGES_PER_TICK; k++) {
      const i = (n * 7_919 + k * 104_729) % ACCOUNTS;
      logs.push(positionChanged(accountOf(i), seriesOf(i + k), BigInt(k % 3) - 1n, block, logs.length));
    }
    logs.push(deposited(accountOf(ACCOUNTS + n), block, logs.length));
    return logs;
  });
  const ticking = timed(openStore(file));
  const tickIndexer = createIndexer({ ...options, source: tickChain, store: ticking.store });
  await tickIndexer.sync({ number: head, hash: blockHash(head) });
  const commitMs: number[] = [];
  const journalMs: number[] = [];
  const storeMs: number[] = [];
  for (let tick = 0; tick < TICKS; tick++) {
    head++;
    const head_: BlockRef = { number: head, hash: blockHash(head) };
    ticking.commits.length = 0;
    await tickIndexer.sync(head_);
    tickIndexer.flush();
    const commit = ticking.commits.reduce((a, b) => a + b, 0);
    const journalStarted = performance.now();
    for (let s = 0; s < SENDS_PER_TICK; s++) {
      const id = ticking.store.pending({
        chainId: 31337,
        tick: head,
        kind: "bid",
        target: `bid:${accountOf(s)}`,
        sender: liquidator,
        nonce: tick * SENDS_PER_TICK + s,
      });
      ticking.store.transaction(id, blockHash(head * 100n + BigInt(s)));
      ticking.store.finished(id, { status: "mined", txHash: blockHash(head * 100n + BigInt(s)), gasUsed: 900_000n });
    }
    const journal = performance.now() - journalStarted;
    commitMs.push(commit);
    journalMs.push(journal / SENDS_PER_TICK);
    storeMs.push(commit + journal);
  }
  const diskWhileRunning = await diskBytes(file);
  ticking.store.close();
  const diskAfterTicks = await diskBytes(file);

  // The old JSON store rewrote the whole index on every save (each tick): its size and time here.
  const legacy = path.join(dir, "legacy.json");
  const jsonStarted = performance.now();
  await writeFile(
    legacy,
    JSON.stringify({
      version: 1,
      chainId: index.chainId,
      cursor: index.cursor.toString(),
      cursorHash: index.cursorHash ?? null,
      accounts: [...index.accounts].map(String),
      holders: Object.fromEntries([...index.holders].map(([s, h]) => [String(s), [...h].map(String)])),
      settledSeries: [],
      auctions: [],
    }),
  );
  const jsonSaveMs = performance.now() - jsonStarted;
  const jsonBytes = (await stat(legacy)).size;

  return {
    accounts: ACCOUNTS,
    openPositions: [...index.holders.values()].reduce((n, h) => n + h.size, 0),
    blocks: BLOCKS,
    logRange: Number(options.maxLogRange),
    initialIndex: {
      seconds: ms(indexSeconds),
      storeCommitSeconds: ms(initial.commits.reduce((a, b) => a + b, 0) / 1_000),
      commits: initial.commits.length,
      commitMsMedian: ms(quantile(initial.commits, 0.5)),
    },
    startupMs: { median: ms(quantile(startups, 0.5)), max: ms(Math.max(...startups)) },
    tick: {
      ticks: TICKS,
      changesPerTick: CHANGES_PER_TICK + 1,
      sendsPerTick: SENDS_PER_TICK,
      storeMsMedian: ms(quantile(storeMs, 0.5)),
      storeMsP90: ms(quantile(storeMs, 0.9)),
      commitMsMedian: ms(quantile(commitMs, 0.5)),
      journalMsPerSendMedian: ms(quantile(journalMs, 0.5)),
    },
    diskBytes: { afterIndex: diskAfterIndex, whileRunning: diskWhileRunning, afterTicks: diskAfterTicks },
    legacyJson: { bytes: jsonBytes, saveMs: ms(jsonSaveMs) },
  };
}

async function seeded(dir: string) {
  const world = await setUp(Date.UTC(2020, 2, 12) / 1000);
  const chain = await chainClock(world);
  const seedStarted = performance.now();
  await seedPopulation(world, chain, { accounts: SEEDED, seed: 20200312, spot: 7_900 });
  const seedSeconds = (performance.now() - seedStarted) / 1_000;
  const { book, publicClient } = world;
  const file = path.join(dir, "seeded.sqlite");
  const { commits, store } = timed(openStore(file));
  const head = await publicClient.getBlock({ blockTag: "latest" });
  const started = performance.now();
  const storedIndexer = createIndexer({
    source: chainSourceOf(publicClient as never),
    chainId: book.chainId,
    deployedAtBlock: BigInt(book.deployedAtBlock),
    addresses: [book.contracts.CollateralVault, book.contracts.OptionMarket, book.contracts.Liquidator],
    listener: quiet,
    store,
    maxLogRange: 100n,
  });
  const { index } = await storedIndexer.sync({ number: head.number, hash: head.hash });
  const indexSeconds = (performance.now() - started) / 1_000;
  store.close();
  const began = performance.now();
  const reopened = openStore(file);
  const loaded = reopened.loadIndex(book.chainId);
  const startupMs = performance.now() - began;
  reopened.close();
  if (loaded?.accounts.size !== index.accounts.size) throw new Error("seeded index did not round-trip");
  return {
    seededAccounts: SEEDED,
    seedSeconds: ms(seedSeconds),
    blocks: Number(head.number - BigInt(book.deployedAtBlock) + 1n),
    indexedAccounts: index.accounts.size,
    series: index.holders.size,
    openPositions: [...index.holders.values()].reduce((n, h) => n + h.size, 0),
    indexSeconds: ms(indexSeconds),
    storeCommitSeconds: ms(commits.reduce((a, b) => a + b, 0) / 1_000),
    commits: commits.length,
    startupMs: ms(startupMs),
    diskBytes: await diskBytes(file),
  };
}

/**
 * Milliseconds to fill a set with `n` account ids: every owner's sub-account 1 in a plain
 * `Set<bigint>` (V8's collision) and in the keeper's `BigIntSet`, and unique sub-ids in a `Set`.
 */
function bigintHashCollision(n: number) {
  const fill = (id: (i: number) => bigint, set: Set<bigint>) => {
    const ids = Array.from({ length: n }, (_, i) => id(i));
    const started = performance.now();
    for (const value of ids) set.add(value);
    return ms(performance.now() - started);
  };
  return {
    accounts: n,
    sameSubIdMs: fill(accountOf, new Set<bigint>()),
    sameSubIdBigIntSetMs: fill(accountOf, new BigIntSet()),
    uniqueSubIdMs: fill((i) => (1n << 96n) | BigInt(i + 1), new Set<bigint>()),
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), "keeper-store-bench-"));
const benchStarted = performance.now();
const sqliteVersion = (() => {
  const db = new DatabaseSync(":memory:");
  const { v } = db.prepare("SELECT sqlite_version() AS v").get() as { v: string };
  db.close();
  return v;
})();
console.log(`synthetic: ${ACCOUNTS} accounts in ${BLOCKS} blocks ...`);
const syntheticResult = await synthetic(dir);
console.log(JSON.stringify(syntheticResult, null, 2));
console.log(`seeded: ${SEEDED} accounts on the in-process chain ...`);
const seededResult = await seeded(dir);
console.log(JSON.stringify(seededResult, null, 2));
await rm(dir, { recursive: true, force: true });

const result = {
  generatedBy: "npm run bench:store (scripts/bench-keeper-store.ts)",
  node: process.version,
  sqlite: sqliteVersion,
  pragmas: { journal_mode: "wal", synchronous: "FULL" },
  cpus: os.cpus().length,
  synthetic: syntheticResult,
  seeded: seededResult,
  bigintHashCollision: bigintHashCollision(20_000),
  benchSeconds: ms((performance.now() - benchStarted) / 1_000),
};
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bench/keeper-store.json");
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
