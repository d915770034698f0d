import { type Address, type Hash, type Hex, type TransactionReceipt, decodeErrorResult, numberToHex } from "viem";

import { pledgeErrorAbi } from "../../packages/sdk/src/index.js";
import { toFeedAnswer } from "./history.js";
import type { World } from "./world.js";

/**
 * The chain clock of a simulation: blocks mined at chosen timestamps, one transaction
 * each or many at once, and the four price and volatility feeds kept fresh — except
 * those a scenario has taken down.
 */

/** Feeds other than BTC/USD are re-posted when their last post is this old. */
const REFRESH_SECONDS = 1_800;
/** Priority fee of batched transactions, wei. */
const PRIORITY_FEE = 1_000_000_000n;

/** One transaction of a batch: calldata from an unlocked node account, with its gas limit. */
export interface BatchTx {
  from: Address;
  to: Address;
  data: Hex;
  gas: bigint;
}

/** The feeds of the deployment, by their name in `world.contracts`. */
export type FeedName = "btcUsd" | "btcVol" | "ethUsd" | "ethVol";

export interface ChainClock {
  /** The timestamp of the last block this clock mined. */
  now(): number;
  /** Mines `send`'s transaction in its own block at `at` (default: one second later); throws on revert. */
  mined(send: () => Promise<Hash>, at?: number): Promise<TransactionReceipt>;
  /**
   * Sends `txs` back to back with automine off (explicit nonces, in order per sender),
   * then mines them all in one block at `at` (default: one second later). Throws if one
   * reverted or did not fit the block.
   */
  minedTogether(txs: readonly BatchTx[], at?: number): Promise<TransactionReceipt[]>;
  /** Advances chain time by mining an empty block, keeping every live feed fresh. */
  advance(seconds: number): Promise<void>;
  /** Re-posts the live ETH and volatility feeds (unchanged answers) so they stay fresh. */
  refreshOthers(): Promise<void>;
  /** Re-posts the other live feeds when their last post is older than the refresh period. */
  refreshOthersIfDue(): Promise<void>;
  /** Posts a BTC/USD answer at `time` (or the next free second). */
  postSpot(price: number, time: number): Promise<TransactionReceipt>;
  /** Posts a raw answer (the feed's own decimals) to any feed, in the next block. */
  postAnswer(feed: FeedName, answer: bigint): Promise<TransactionReceipt>;
  /**
   * Takes a feed down (`live` false: nothing posts to it, so it goes stale after its
   * maximum age) or brings it back (the next refresh or spot update posts again).
   */
  setFeedLive(feed: FeedName, live: boolean): void;
  /** Whether `feed` is posting. */
  feedLive(feed: FeedName): boolean;
  /** Catches up with blocks mined by someone else (an in-process keeper). */
  sync(): Promise<void>;
}

export async function chainClock(world: World): Promise<ChainClock> {
  const { connection, publicClient, contracts } = world;
  const down = new Set<FeedName>();
  let clock = Number((await publicClient.getBlock()).timestamp);
  let othersPostedAt = 0;
  const nextBlockAt = async (time: number) => {
    clock = Math.max(clock + 1, time);
    await connection.provider.request({ method: "evm_setNextBlockTimestamp", params: [clock] });
  };
  const mined = async (send: () => Promise<Hash>, at = clock + 1): Promise<TransactionReceipt> => {
    await nextBlockAt(at);
    const hash = await send();
    // Automine has already mined it: read the receipt instead of polling for it.
    const receipt = await publicClient
      .getTransactionReceipt({ hash })
      .catch(() => publicClient.waitForTransactionReceipt({ hash }));
    if (receipt.status !== "success") throw new Error("chain clock: transaction reverted");
    return receipt;
  };
  const minedTogether = async (txs: readonly BatchTx[], at = clock + 1): Promise<TransactionReceipt[]> => {
    const { provider } = connection;
    await provider.request({ method: "evm_setAutomine", params: [false] });
    const hashes: Hash[] = [];
    try {
      // Explicit fees and nonces: left to the node, each send would price the pending block,
      // re-running every transaction already waiting in it.
      const { baseFeePerGas } = await publicClient.getBlock();
      const fees = {
        maxFeePerGas: numberToHex(2n * (baseFeePerGas ?? 0n) + PRIORITY_FEE),
        maxPriorityFeePerGas: numberToHex(PRIORITY_FEE),
      };
      const nonces = new Map<Address, number>();
      for (const tx of txs) {
        const nonce =
          nonces.get(tx.from) ?? (await publicClient.getTransactionCount({ address: tx.from, blockTag: "pending" }));
        nonces.set(tx.from, nonce + 1);
        const params = {
          from: tx.from,
          to: tx.to,
          data: tx.data,
          gas: numberToHex(tx.gas),
          nonce: numberToHex(nonce),
          ...fees,
        };
        hashes.push((await provider.request({ method: "eth_sendTransaction", params: [params] })) as Hash);
      }
      await nextBlockAt(at);
      await provider.request({ method: "evm_mine", params: [] });
    } finally {
      await provider.request({ method: "evm_setAutomine", params: [true] });
    }
    const receipts = await Promise.all(
      hashes.map((hash) =>
        publicClient.getTransactionReceipt({ hash }).catch(() => {
          throw new Error(`chain clock: ${hashes.length} transactions did not fit one block`);
        }),
      ),
    );
    const block = receipts[0]?.blockNumber;
    for (const receipt of receipts) {
      if (receipt.status !== "success") {
        throw new Error(
          `chain clock: batched transaction ${receipt.transactionHash} reverted${await revertReason(receipt)}`,
        );
      }
      if (receipt.blockNumber !== block) throw new Error("chain clock: a batch spread over several blocks");
    }
    return receipts;
  };
  /** The decoded custom error of a mined revert, from the node's trace. */
  const revertReason = async (receipt: TransactionReceipt): Promise<string> => {
    const trace = (await connection.provider
      .request({
        method: "debug_traceTransaction",
        params: [receipt.transactionHash, { disableStorage: true, disableMemory: true, disableStack: true }],
      })
      .catch(() => undefined)) as { returnValue?: string } | undefined;
    const data = trace?.returnValue;
    if (!data) return "";
    try {
      const decoded = decodeErrorResult({
        abi: pledgeErrorAbi,
        data: (data.startsWith("0x") ? data : `0x${data}`) as Hex,
      });
      return `: ${decoded.errorName}(${(decoded.args ?? []).join(", ")})`;
    } catch {
      return `: ${data}`;
    }
  };
  const postAnswer = (feed: FeedName, answer: bigint, at?: number) =>
    mined(() => contracts[feed].write.updateAnswer([answer]), at);
  const refreshOthers = async () => {
    for (const feed of ["ethUsd", "ethVol", "btcVol"] as const) {
      if (down.has(feed)) continue;
      const [, answer] = await contracts[feed].read.latestRoundData();
      await postAnswer(feed, answer);
    }
    othersPostedAt = clock;
  };
  const refreshOthersIfDue = async () => {
    if (clock - othersPostedAt >= REFRESH_SECONDS) await refreshOthers();
  };
  return {
    now: () => clock,
    mined,
    minedTogether,
    refreshOthers,
    refreshOthersIfDue,
    advance: async (seconds) => {
      await nextBlockAt(clock + seconds);
      await connection.provider.request({ method: "evm_mine", params: [] });
      await refreshOthersIfDue();
    },
    postSpot: (price, time) => postAnswer("btcUsd", toFeedAnswer(price), time),
    postAnswer: (feed, answer) => postAnswer(feed, answer),
    setFeedLive: (feed, live) => {
      if (live) down.delete(feed);
      else down.add(feed);
    },
    feedLive: (feed) => !down.has(feed),
    sync: async () => {
      clock = Math.max(clock, Number((await publicClient.getBlock()).timestamp));
    },
  };
}
