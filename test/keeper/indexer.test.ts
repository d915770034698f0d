import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { type Address, type Log, getAddress } from "viem";

import { collateralVaultAbi, liquidatorAbi, optionMarketAbi } from "@pledge/sdk";
import { openStore } from "../../packages/keeper/src/store.js";
import {
  type BlockRef,
  type ChainSource,
  type IndexListener,
  type IndexerOptions,
  KeeperStaleNodeError,
  createIndexer,
} from "../../packages/keeper/src/indexer.js";
import { eventLog, hashOf } from "./helpers/fakes.js";

const vault: Address = "0x00000000000000000000000000000000000000a1";
const market: Address = "0x00000000000000000000000000000000000000a2";
const liquidator: Address = "0x00000000000000000000000000000000000000a3";
const me = getAddress("0x00000000000000000000000000000000000000b1");
const DEPLOYED = 5n;

/** A chain of blocks with logs; `fork` relabels block hashes from a height on (a reorg). */
function fakeChain(logs: Log[]) {
  const ranges: [bigint, bigint][] = [];
  let forkFrom: bigint | undefined;
  const hash = (n: bigint) => hashOf(n, forkFrom !== undefined && n >= forkFrom ? "fork" : "main");
  const source: ChainSource = {
    block: async (number) => ({ number, hash: hash(number) }),
    logs: async (_addresses, fromBlock, toBlock) => {
      ranges.push([fromBlock, toBlock]);
      return logs.filter((l) => l.blockNumber! >= fromBlock && l.blockNumber! <= toBlock);
    },
  };
  return {
    source,
    ranges,
    head: (number: bigint): BlockRef => ({ number, hash: hash(number) }),
    reorgFrom: (block: bigint) => void (forkFrom = block),
  };
}

function recorder() {
  const seen = {
    changed: [] as bigint[],
    auctions: [] as [bigint, bigint, Address][],
    bids: [] as bigint[][],
    rebuilt: 0,
  };
  const listener: IndexListener = {
    changed: (account) => void seen.changed.push(account),
    auctionStarted: (account, block, keeper) => void seen.auctions.push([account, block, keeper]),
    bid: (account, block, bidder) => void seen.bids.push([account, block, bidder]),
    rebuilt: () => void seen.rebuilt++,
  };
  return { seen, listener };
}

/** An indexer over `chain` with the test's contracts and deployment block. */
function indexerOn(chain: { source: ChainSource }, listener: IndexListener, extra: Partial<IndexerOptions> = {}) {
  return createIndexer({
    source: chain.source,
    chainId: 1,
    deployedAtBlock: DEPLOYED,
    addresses: [vault, market, liquidator],
    listener,
    ...extra,
  });
}

const series = 77n;
const logs = [
  eventLog(collateralVaultAbi, vault, "Deposited", { account: 1n, amount: 10n }, 6n),
  eventLog(optionMarketAbi, market, "PositionChanged", { account: 2n, seriesId: series, balance: 5n }, 7n),
  eventLog(optionMarketAbi, market, "PositionChanged", { account: 3n, seriesId: series, balance: -5n }, 7n, 1),
  eventLog(liquidatorAbi, liquidator, "AuctionStarted", { account: 3n, keeper: me }, 9n),
  eventLog(liquidatorAbi, liquidator, "Bid", { account: 3n, bidderAccount: 1n }, 9n, 1),
  eventLog(optionMarketAbi, market, "PositionChanged", { account: 2n, seriesId: series, balance: 0n }, 11n),
  eventLog(liquidatorAbi, liquidator, "AuctionEnded", { account: 3n }, 11n, 1),
];

describe("keeper indexer (no chain)", () => {
  it("advances the cursor in log ranges of at most maxLogRange, and indexes accounts, holders and auctions", async () => {
    const chain = fakeChain(logs);
    const { seen, listener } = recorder();
    const indexer = indexerOn(chain, listener, { maxLogRange: 3n });
    assert.equal(indexer.cursor(), undefined, "nothing loaded before the first sync");
    const { index, rebuilt } = await indexer.sync(chain.head(10n));
    assert.equal(rebuilt, false);
    assert.deepEqual(chain.ranges, [
      [5n, 7n],
      [8n, 10n],
    ]);
    assert.equal(index.cursor, 10n);
    assert.equal(index.cursorHash, hashOf(10n));
    assert.deepEqual([...index.accounts].sort(), [1n, 2n, 3n]);
    assert.deepEqual([...index.holders.get(series)!].sort(), [2n, 3n]);
    assert.deepEqual([...index.auctions], [3n]);
    assert.deepEqual(seen.changed, [1n, 2n, 3n]);
    assert.deepEqual(seen.auctions, [[3n, 9n, me]]);
    assert.deepEqual(seen.bids, [[3n, 9n, 1n]]);

    // The next sync reads only the new blocks: a closed position leaves the holders, an ended auction the auctions.
    await indexer.sync(chain.head(12n));
    assert.deepEqual(chain.ranges.at(-1), [11n, 12n]);
    assert.deepEqual([...index.holders.get(series)!], [3n]);
    assert.equal(index.auctions.size, 0);
    assert.equal(indexer.cursor(), 12n);
  });

  it("stays `confirmations` blocks behind the head", async () => {
    const chain = fakeChain(logs);
    const indexer = indexerOn(chain, recorder().listener, { confirmations: 2 });
    const { index } = await indexer.sync(chain.head(10n));
    assert.equal(index.cursor, 8n);
    assert.equal(index.cursorHash, hashOf(8n));
    assert.equal(index.auctions.size, 0, "the auction of block 9 is not confirmed yet");
  });

  it("rebuilds from the deployment block when the cursor's block changed (a reorg)", async () => {
    const chain = fakeChain(logs);
    const { seen, listener } = recorder();
    const indexer = indexerOn(chain, listener);
    await indexer.sync(chain.head(10n));
    chain.reorgFrom(9n);
    const { index, rebuilt } = await indexer.sync(chain.head(12n));
    assert.equal(rebuilt, true);
    assert.equal(seen.rebuilt, 1);
    assert.deepEqual(chain.ranges.at(-1), [5n, 12n], "read again from the deployment block");
    assert.equal(index.cursor, 12n);
    assert.equal(index.cursorHash, hashOf(12n, "fork"));
    // Unchanged hashes: no rebuild.
    assert.equal((await indexer.sync(chain.head(12n))).rebuilt, false);
  });

  it("rebuilds when the chain is behind the cursor and does not know its block (a reset), skips the tick when it does (a lagging node)", async () => {
    const chain = fakeChain(logs);
    const { seen, listener } = recorder();
    const indexer = indexerOn(chain, listener);
    await indexer.sync(chain.head(10n));
    await assert.rejects(indexer.sync(chain.head(8n)), KeeperStaleNodeError);
    assert.equal(indexer.cursor(), 10n, "the index is kept");
    chain.reorgFrom(6n);
    const { index, rebuilt } = await indexer.sync(chain.head(8n));
    assert.equal(rebuilt, true);
    assert.equal(seen.rebuilt, 1);
    assert.equal(index.cursor, 8n);
  });

  it("resumes from its store: the cursor and the index round-trip, and old blocks are not read again", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "keeper-indexer-")), "keeper.sqlite");
    const chain = fakeChain(logs);
    const store = openStore(file);
    const first = indexerOn(chain, recorder().listener, { store, maxLogRange: 3n });
    const { index: before } = await first.sync(chain.head(10n));
    before.settledSeries.add(series);
    first.flush();
    store.close();

    let resumed: bigint | undefined;
    const reopened = openStore(file);
    const second = indexerOn(chain, recorder().listener, {
      store: reopened,
      onResume: (index) => void (resumed = index.cursor),
    });
    const reads = chain.ranges.length;
    const { index: after } = await second.sync(chain.head(10n));
    assert.equal(resumed, 10n);
    assert.equal(chain.ranges.length, reads, "no log read: the store is up to date");
    assert.deepEqual(after, before);

    // Another chain's store is not used: it starts over from the deployment block.
    const other = indexerOn(chain, recorder().listener, { chainId: 2, store: reopened });
    await other.sync(chain.head(10n));
    assert.deepEqual(chain.ranges.at(-1), [5n, 10n]);
    assert.equal(reopened.loadIndex(1), undefined);
    assert.equal(reopened.loadIndex(2)?.cursor, 10n);
    reopened.close();
  });

  it("commits each block range with its cursor: a failed commit keeps the store at the last whole range", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "keeper-indexer-")), "keeper.sqlite");
    const chain = fakeChain(logs);
    const store = openStore(file);
    let commits = 0;
    // The third range's commit fails, as a crash would interrupt it.
    const failing = {
      ...store,
      commit: (index: Parameters<typeof store.commit>[0], changes: Parameters<typeof store.commit>[1]) => {
        if (++commits === 3) throw new Error("disk I/O error");
        store.commit(index, changes);
      },
    };
    const indexer = indexerOn(chain, recorder().listener, { store: failing, maxLogRange: 2n });
    await assert.rejects(indexer.sync(chain.head(12n)), /disk I\/O error/);
    const stored = store.loadIndex(1)!;
    assert.equal(stored.cursor, 8n, "ranges [5,6] and [7,8] committed, [9,10] not");
    assert.deepEqual([...stored.accounts].sort(), [1n, 2n, 3n]);
    assert.equal(stored.auctions.size, 0, "the auction of block 9 is in the uncommitted range");
    assert.equal(indexer.cursor(), undefined, "the index in memory is dropped, to be reloaded");
    // The next sync resumes from the stored cursor and reaches the head.
    const { index } = await indexer.sync(chain.head(12n));
    assert.equal(index.cursor, 12n);
    assert.deepEqual(chain.ranges.slice(-2), [
      [9n, 10n],
      [11n, 12n],
    ]);
    assert.deepEqual([...store.loadIndex(1)!.holders.get(series)!], [3n]);
    store.close();
  });
});
