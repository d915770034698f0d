import { type Address, type Hash, type Log, type PublicClient, parseEventLogs } from "viem";

import { collateralVaultAbi, liquidatorAbi, marginEngineAbi, optionMarketAbi } from "@pledge/sdk";
import { withBackoff } from "./executor.js";
import { type IndexChanges, type KeeperIndex, type KeeperStore, emptyIndex } from "./store.js";
import { BigIntMap, BigIntSet } from "./bigintKeys.js";

/** The node's head is behind the index's cursor though it knows that block: a lagging node. The tick is skipped. */
export class KeeperStaleNodeError extends Error {
  override name = "KeeperStaleNodeError";
  constructor(latest: bigint, cursor: bigint) {
    super(`the node's head ${latest} is behind the index cursor ${cursor}`);
  }
}

/** A block as the indexer needs it. */
export interface BlockRef {
  number: bigint;
  hash: Hash;
}

/** Where the indexer reads the chain: a block by number and the logs of a block range (a public client, in service). */
export interface ChainSource {
  block(number: bigint): Promise<BlockRef>;
  logs(addresses: readonly Address[], fromBlock: bigint, toBlock: bigint): Promise<Log[]>;
}

/**
 * The chain source of a viem public client: `eth_getBlockByNumber` and `eth_getLogs`.
 *
 * @example
 * const indexer = createIndexer({ source: chainSourceOf(publicClient), ...options });
 */
export function chainSourceOf(client: PublicClient): ChainSource {
  return {
    block: async (blockNumber) => {
      const { number, hash } = await client.getBlock({ blockNumber });
      return { number, hash };
    },
    logs: (address, fromBlock, toBlock) => client.getLogs({ address: [...address], fromBlock, toBlock }),
  };
}

/** What the indexer reports besides the index itself, as it reads the events. */
export interface IndexListener {
  /** An indexed account's holdings changed (a deposit, a trade, a transfer, a settlement). */
  changed(account: bigint): void;
  auctionStarted(account: bigint, block: bigint, keeper: Address): void;
  bid(account: bigint, block: bigint, bidderAccount: bigint): void;
  /** The stored cursor did not match the chain: the index was rebuilt from the deployment block. */
  rebuilt(cursor: bigint, latest: bigint): void;
}

export interface IndexerOptions {
  source: ChainSource;
  chainId: number;
  deployedAtBlock: bigint;
  /** The contracts whose events are indexed: the vault, the market, the liquidator and the margin engine (`MarginModeSet`). */
  addresses: readonly Address[];
  listener: IndexListener;
  /** The keeper's database: each block range is committed with the cursor; a restart resumes from it. */
  store?: KeeperStore | undefined;
  /** Blocks behind the head the index stays. Default 0. */
  confirmations?: number | undefined;
  /** Largest block range of one `getLogs`. Default 2,000. */
  maxLogRange?: bigint | undefined;
  /** Told once when a stored index is resumed. */
  onResume?: ((index: KeeperIndex) => void) | undefined;
}

/** The index and its cursor: follows the chain's events, checks the cursor for reorgs and resets, persists. */
export interface Indexer {
  /** Brings the index to `head` − confirmations; `rebuilt` when the old index did not match the chain. */
  sync(head: BlockRef): Promise<{ index: KeeperIndex; rebuilt: boolean }>;
  /** The last indexed block, once the index is loaded. */
  cursor(): bigint | undefined;
  /** Commits what changed outside a block range (series the settlement job finished) to the store, if there is one. */
  flush(): void;
}

const indexedEvents = [
  "Deposited",
  "Withdrawn",
  "CollateralMoved",
  "CashMoved",
  "PositionChanged",
  "PositionsTransferred",
  "PositionsSliced",
  "PositionSettled",
  "AuctionStarted",
  "AuctionEnded",
  "Bid",
  "MarginModeSet",
] as const;
const indexAbi = [...collateralVaultAbi, ...optionMarketAbi, ...liquidatorAbi, ...marginEngineAbi];

/**
 * The keeper's indexer: accounts, series holders and open auctions from the vault's, market's
 * and liquidator's events, up to a cursor whose block hash detects a reorg or a reset chain
 * (then the index is rebuilt from the deployment block). With a store, every block range's
 * changes and the cursor's advance are committed in one transaction, so a crash loses
 * nothing and a restart resumes from the stored cursor.
 *
 * @example
 * const indexer = createIndexer({ source, chainId, deployedAtBlock, addresses, listener, store: openStore("keeper.sqlite") });
 * const { index } = await indexer.sync(head);
 */
export function createIndexer(options: IndexerOptions): Indexer {
  const { source, listener, chainId, deployedAtBlock } = options;
  const confirmations = BigInt(options.confirmations ?? 0);
  const maxLogRange = options.maxLogRange ?? 2_000n;
  let index: KeeperIndex | undefined;

  function loadOrCreate(): KeeperIndex {
    const stored = options.store?.loadIndex(chainId);
    if (stored) {
      options.onResume?.(stored);
      return stored;
    }
    // Nothing stored for this chain (a new store, or another chain's): start over, in the store too.
    const fresh = emptyIndex(chainId, deployedAtBlock);
    options.store?.replaceIndex(fresh);
    return fresh;
  }

  /** Whether the index still matches the chain; throws when the node lags behind the cursor. */
  async function matches(current: KeeperIndex, head: BlockRef): Promise<boolean> {
    if (current.cursor < deployedAtBlock || current.cursorHash === undefined) return true;
    if (current.cursor > head.number) {
      // Either the chain was reset, or this node lags behind the one that served the
      // cursor: it is only a reset if the node does not know the cursor's block as indexed.
      const block = await withBackoff(() => source.block(current.cursor)).catch(() => undefined);
      if (block?.hash === current.cursorHash) throw new KeeperStaleNodeError(head.number, current.cursor);
      return false;
    }
    const block = current.cursor === head.number ? head : await withBackoff(() => source.block(current.cursor));
    return block.hash === current.cursorHash;
  }

  function apply(current: KeeperIndex, logs: Log[], changes: IndexChanges) {
    const touchHolder = (series: bigint, account: bigint) => {
      const accounts = changes.holders.get(series) ?? new BigIntSet();
      accounts.add(account);
      changes.holders.set(series, accounts);
    };
    for (const event of parseEventLogs({ abi: indexAbi, logs, eventName: [...indexedEvents], strict: true })) {
      switch (event.eventName) {
        case "Deposited":
        case "Withdrawn":
          current.accounts.add(event.args.account);
          changes.accounts.add(event.args.account);
          listener.changed(event.args.account);
          break;
        case "CollateralMoved":
        case "CashMoved":
        case "PositionsTransferred":
        case "PositionsSliced":
          for (const account of [event.args.from, event.args.to])
            if (current.accounts.has(account)) listener.changed(account);
          break;
        case "PositionChanged":
        case "PositionSettled": {
          const { account, seriesId, balance } = event.args;
          current.accounts.add(account);
          changes.accounts.add(account);
          touchHolder(seriesId, account);
          listener.changed(account);
          const holders = current.holders.get(seriesId) ?? new BigIntSet();
          if (event.eventName === "PositionChanged" && balance !== 0n) holders.add(account);
          else holders.delete(account);
          current.holders.set(seriesId, holders);
          break;
        }
        case "AuctionStarted":
          current.accounts.add(event.args.account);
          current.auctions.add(event.args.account);
          changes.accounts.add(event.args.account);
          changes.auctions.add(event.args.account);
          listener.auctionStarted(event.args.account, event.blockNumber, event.args.keeper);
          break;
        case "AuctionEnded":
          current.auctions.delete(event.args.account);
          changes.auctions.add(event.args.account);
          break;
        case "Bid":
          listener.bid(event.args.account, event.blockNumber, event.args.bidderAccount);
          break;
        case "MarginModeSet":
          // The mode changes the valuation without positions too (haircuts vs scenarios on collateral).
          if (current.accounts.has(event.args.account)) listener.changed(event.args.account);
          break;
      }
    }
  }

  return {
    async sync(head) {
      let current = index ?? loadOrCreate();
      index = current;
      let rebuilt = false;
      if (!(await matches(current, head))) {
        listener.rebuilt(current.cursor, head.number);
        current = index = emptyIndex(chainId, deployedAtBlock);
        options.store?.replaceIndex(current);
        rebuilt = true;
      }
      const target = head.number - confirmations;
      while (current.cursor < target) {
        const fromBlock = current.cursor + 1n;
        const toBlock = fromBlock + maxLogRange - 1n < target ? fromBlock + maxLogRange - 1n : target;
        const logs = await withBackoff(() => source.logs(options.addresses, fromBlock, toBlock));
        const block = toBlock === head.number ? head : await withBackoff(() => source.block(toBlock));
        const changes: IndexChanges = {
          accounts: new BigIntSet(),
          holders: new BigIntMap(),
          auctions: new BigIntSet(),
        };
        apply(current, logs, changes);
        current.cursor = toBlock;
        current.cursorHash = block.hash;
        try {
          options.store?.commit(current, changes);
        } catch (error) {
          // The index in memory is ahead of the store: drop it, the next sync reloads the stored one.
          index = undefined;
          throw error;
        }
      }
      return { index: current, rebuilt };
    },
    cursor: () => index?.cursor,
    flush() {
      if (index !== undefined) options.store?.commit(index);
    },
  };
}
