import type { KeeperMetrics } from "./metrics.js";
import { BigIntMap } from "./bigintKeys.js";

export interface KeeperStats {
  blocks: number;
  auctionsStarted: number;
  bids: number;
  settled: number;
  pricesPosted: number;
  failures: number;
  gasUsed: bigint;
  lastBlock: bigint;
  /**
   * Every auction the keeper saw start, exactly once each (keyed by account and start
   * block): those it started itself (`startedBy: "self"`, from its receipts) and those
   * others started (`"other"`, from the liquidator's events), with the first bid's block
   * and who made it.
   */
  liquidations: Liquidation[];
  /** JSON-RPC requests the keeper made (reads and sends; a transport's own retries not counted). */
  rpcCalls: number;
  /** Accounts ranked by the float pre-filter, cumulative. */
  accountsRanked: number;
  /** Milliseconds spent ranking and selecting, cumulative. */
  rankingMs: number;
  /** Accounts confirmed with the on-chain batch view, cumulative. */
  accountsConfirmed: number;
  /** Ticks that confirmed every indexed account. */
  fullConfirmations: number;
  /**
   * Wall milliseconds per part of the tick, cumulative: `index` (reading the chain's events) and
   * each job by name (`liquidation`, `backstop`, `settlement`, ...). Where a slow tick's time goes.
   */
  phaseMs: Record<string, number>;
}

/** One auction, as the keeper saw it. */
export interface Liquidation {
  account: bigint;
  /** The block where the keeper first saw the account below MM (absent when another keeper got there first). */
  priceBlock?: bigint;
  auctionBlock: bigint;
  startedBy: "self" | "other";
  bidBlock?: bigint;
  bidBy?: "self" | "other";
}

/** The keeper's counters and auction timeline; every change also feeds its Prometheus metrics. */
export interface Stats {
  snapshot(): KeeperStats;
  rpcCall(method: string): void;
  /** A tick finished at `block` (a new block counts once). */
  ticked(block: bigint): void;
  failed(errorName: string): void;
  gasUsed(gas: bigint): void;
  ranked(accounts: number, ms: number): void;
  confirmed(accounts: number): void;
  fullConfirmation(): void;
  /** `ms` more wall time spent in `phase` (see `KeeperStats.phaseMs`). */
  timed(phase: string, ms: number): void;
  /** The account was seen below maintenance at `block`: the first such block is its `priceBlock`. */
  belowMaintenance(account: bigint, block: bigint): void;
  /** Records an auction once, whoever saw it first: this keeper's receipt or the indexed event. */
  auctionSeen(account: bigint, auctionBlock: bigint, startedBy: "self" | "other"): void;
  /** This keeper's transaction started an auction. */
  auctionStarted(account: bigint, block: bigint): void;
  /** The first bid on the account's latest auction; later ones are not recorded. */
  bidSeen(account: bigint, block: bigint, bidBy: "self" | "other"): void;
  /** This keeper's bid landed (the next time the account falls below MM is a new `priceBlock`). */
  bidLanded(account: bigint, block: bigint): void;
  settled(positions: number): void;
  pricePosted(): void;
}

/**
 * The keeper's statistics: the `KeeperStats` counters, the timeline of every auction seen, and
 * the matching Prometheus metrics.
 *
 * @example
 * const stats = createStats(createMetrics());
 * stats.auctionStarted(7n, 120n);
 * stats.snapshot().auctionsStarted; // 1
 */
export function createStats(metrics: KeeperMetrics): Stats {
  const counters: KeeperStats = {
    blocks: 0,
    auctionsStarted: 0,
    bids: 0,
    settled: 0,
    pricesPosted: 0,
    failures: 0,
    gasUsed: 0n,
    lastBlock: 0n,
    liquidations: [],
    rpcCalls: 0,
    accountsRanked: 0,
    rankingMs: 0,
    accountsConfirmed: 0,
    fullConfirmations: 0,
    phaseMs: {},
  };
  /** `${account}:${auctionBlock}` → its entry in `liquidations`. */
  const auctionsSeen = new Map<string, Liquidation>();
  /** Account → its latest auction's entry. */
  const latestAuction = new BigIntMap<Liquidation>();
  /** Account → first block the keeper saw it below maintenance. */
  const firstBelowMM = new BigIntMap<bigint>();
  let lastBlockSeen = -1n;

  const stats: Stats = {
    snapshot: () => ({
      ...counters,
      liquidations: counters.liquidations.map((l) => ({ ...l })),
      phaseMs: { ...counters.phaseMs },
    }),
    rpcCall(method) {
      counters.rpcCalls++;
      metrics.rpcCalls.inc({ method });
    },
    ticked(block) {
      if (block !== lastBlockSeen) {
        counters.blocks++;
        lastBlockSeen = block;
      }
      counters.lastBlock = block;
      metrics.ticks.inc();
      metrics.lastBlock.set(Number(block));
    },
    failed(errorName) {
      counters.failures++;
      metrics.failures.inc({ error: errorName });
    },
    gasUsed(gas) {
      counters.gasUsed += gas;
      metrics.gasUsed.inc(Number(gas));
    },
    ranked(accounts, ms) {
      counters.accountsRanked += accounts;
      counters.rankingMs += ms;
    },
    confirmed(accounts) {
      counters.accountsConfirmed += accounts;
    },
    fullConfirmation() {
      counters.fullConfirmations++;
    },
    timed(phase, ms) {
      counters.phaseMs[phase] = (counters.phaseMs[phase] ?? 0) + ms;
    },
    belowMaintenance(account, block) {
      if (!firstBelowMM.has(account)) firstBelowMM.set(account, block);
    },
    auctionSeen(account, auctionBlock, startedBy) {
      const key = `${account}:${auctionBlock}`;
      if (auctionsSeen.has(key)) return;
      const priceBlock = firstBelowMM.get(account);
      const entry: Liquidation = {
        account,
        ...(priceBlock === undefined ? {} : { priceBlock }),
        auctionBlock,
        startedBy,
      };
      auctionsSeen.set(key, entry);
      latestAuction.set(account, entry);
      counters.liquidations.push(entry);
    },
    auctionStarted(account, block) {
      counters.auctionsStarted++;
      metrics.auctionsStarted.inc();
      stats.auctionSeen(account, block, "self");
    },
    bidSeen(account, block, bidBy) {
      const entry = latestAuction.get(account);
      if (entry === undefined || entry.bidBlock !== undefined || block < entry.auctionBlock) return;
      entry.bidBlock = block;
      entry.bidBy = bidBy;
    },
    bidLanded(account, block) {
      counters.bids++;
      metrics.bids.inc();
      stats.bidSeen(account, block, "self");
      firstBelowMM.delete(account);
    },
    settled(positions) {
      counters.settled += positions;
      metrics.settlements.inc(positions);
    },
    pricePosted() {
      counters.pricesPosted++;
      metrics.pricesPosted.inc();
    },
  };
  return stats;
}
