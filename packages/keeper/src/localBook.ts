import type { PublicClient } from "viem";

import {
  type AccountMarginState,
  type AddressBook,
  type MarginInputs,
  asAccountId,
  getAccountMargin,
} from "@pledge/sdk";
import { BigIntMap } from "./bigintKeys.js";
import { chainSourceOf, createIndexer } from "./indexer.js";
import { createMetrics } from "./metrics.js";
import { createPlanner } from "./planner.js";
import { createReaders } from "./readers.js";
import { createStats } from "./stats.js";

/** A block to value at: its number and timestamp (the hash checks the index's cursor). */
export interface BookBlock {
  number: bigint;
  hash: `0x${string}`;
  timestamp: bigint;
}

/** Margins of many accounts, valued locally where the cache allows (`LocalBook.margins`). */
export interface LocalBook {
  /**
   * The exact margin of each of `accounts` at `block` (default: the latest), in their order:
   * valued with the SDK's mirror from the cache the keeper keeps (holdings re-read when the
   * accounts' events show a change, the block's prices and cash market), the rest — accounts the
   * cache cannot value exactly (`valuation.ts`) — with one `accountsMargin` read.
   */
  margins(accounts: readonly bigint[], block?: BookBlock): Promise<AccountMarginState[]>;
  /** The engine's inputs of `account` as the cache gave them at the last `margins` call (undefined: valued on chain). */
  inputs(account: bigint): MarginInputs | undefined;
  /**
   * Accounts valued locally and on chain so far, and the wall milliseconds spent: `index` (events),
   * `read` (prices, cash market, dirty holdings), `value` (the exact math) and `chain` (`accountsMargin`).
   */
  counts(): { local: number; chain: number; ms: Record<"index" | "read" | "value" | "chain", number> };
}

/**
 * The keeper's exact local valuation outside the keeper: its indexer (events → dirty accounts),
 * readers and planner (holdings, prices, cash market), for a caller that values many accounts
 * after every block — the demo's charts. Equal to `accountsMargin` at the block, to the wei;
 * a caller that must be sure cross-checks with it.
 *
 * @example
 * const book = createLocalBook(publicClient, addressBook);
 * const states = await book.margins(accounts); // as engine.accountsMargin(accounts) at the latest block
 */
export function createLocalBook(client: PublicClient, addressBook: AddressBook): LocalBook {
  const stats = createStats(createMetrics());
  const readers = createReaders(client, addressBook);
  // Nothing is selected by the ranking: the book values the accounts its caller names.
  const planner = createPlanner(readers, stats, {
    nearRatio: -Infinity,
    nearExcessUsd: -Infinity,
    // Market parameters re-read every 50 calls (and when a new underlying appears).
    fullConfirmEvery: 50,
    priceMoveWad: 2n ** 255n,
    cashDecimals: addressBook.cash.decimals,
  });
  const {
    CollateralVault: vault,
    OptionMarket: market,
    Liquidator: liquidator,
    MarginEngine: engine,
  } = addressBook.contracts;
  const indexer = createIndexer({
    source: chainSourceOf(client),
    chainId: addressBook.chainId,
    deployedAtBlock: BigInt(addressBook.deployedAtBlock),
    addresses: [vault, market, liquidator, engine],
    listener: {
      changed: planner.changed,
      auctionStarted: () => {},
      bid: () => {},
      rebuilt: () => planner.reset(),
    },
  });
  const counted = { local: 0, chain: 0 };
  const ms = { index: 0, read: 0, value: 0, chain: 0 };
  let mark = 0;
  const lap = (part: keyof typeof ms) => {
    const now = performance.now();
    ms[part] += now - mark;
    mark = now;
  };
  return {
    async margins(accounts, at) {
      mark = performance.now();
      const block = at ?? (await client.getBlock({ blockTag: "latest" }));
      const { index } = await indexer.sync({ number: block.number, hash: block.hash });
      lap("index");
      await planner.plan(index, block.number, block.timestamp);
      lap("read");
      const { local, chain } = planner.value(accounts);
      lap("value");
      const read =
        chain.length === 0
          ? []
          : await getAccountMargin(client, {
              engine: addressBook.contracts.MarginEngine,
              accounts: chain.map(asAccountId),
              chunkSize: 100,
              blockNumber: block.number,
            });
      lap("chain");
      counted.local += local.length;
      counted.chain += read.length;
      const byAccount = new BigIntMap<AccountMarginState>([...local, ...read].map((s) => [s.account, s]));
      return accounts.map((account) => {
        const state = byAccount.get(account);
        if (state === undefined) throw new Error(`local book: no margin for account ${account}`);
        return state;
      });
    },
    inputs: (account) => planner.inputs(account),
    counts: () => ({ ...counted, ms: { ...ms } }),
  };
}
