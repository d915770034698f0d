import {
  type Address,
  type Hash,
  type PublicClient,
  type TransactionReceipt,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
} from "viem";

import type { ActionJournal, ActionRecord, ActionStatus } from "./store.js";

/** How many `pending` actions ended in each status, and how many are still in the node's mempool. */
export type ReconcileReport = Record<Exclude<ActionStatus, "pending">, number> & { stillPending: number };

export interface ReconcileOptions {
  publicClient: PublicClient;
  journal: ActionJournal;
  chainId: number;
  /** How long to wait for a transaction the node still holds in its mempool, ms. Default 30 s. */
  waitMs?: number | undefined;
  /** Told about every action settled. */
  onSettled?: ((action: ActionRecord, status: ActionStatus) => void) | undefined;
}

/**
 * Settles, before the keeper's first tick, every action a previous run left `pending`
 * (killed between recording a send and learning its outcome), from the chain:
 *
 * - a receipt for one of its versions: `mined` or `reverted` (with the gas used);
 * - no receipt, and its nonce already used on chain: `replaced` (another transaction of the
 *   key took that nonce), or `failed` when no hash was recorded (the node signed it);
 * - nonce not used, and the node still knows a version: wait up to `waitMs` for it to mine,
 *   else leave it `pending` (counted in `stillPending`);
 * - nonce not used and the node knows no version: `dropped` (never broadcast, or evicted).
 *   Its decision is not replayed: the next tick decides again from the chain.
 *
 * RPC errors propagate (the caller retries), so an action is never settled on a guess.
 *
 * @example
 * const report = await reconcileActions({ publicClient, journal: store, chainId: 31337 });
 * // { mined: 1, reverted: 0, failed: 0, dropped: 1, replaced: 0, stillPending: 0 }
 */
export async function reconcileActions(options: ReconcileOptions): Promise<ReconcileReport> {
  const { publicClient, journal } = options;
  const report: ReconcileReport = { mined: 0, reverted: 0, failed: 0, dropped: 0, replaced: 0, stillPending: 0 };
  const minedNonces = new Map<Address, number>();
  const minedNonce = async (sender: Address) => {
    let nonce = minedNonces.get(sender);
    if (nonce === undefined) {
      nonce = await publicClient.getTransactionCount({ address: sender, blockTag: "latest" });
      minedNonces.set(sender, nonce);
    }
    return nonce;
  };
  const settle = (
    action: ActionRecord,
    status: ActionStatus,
    extra: { txHash?: Hash; gasUsed?: bigint; error?: string },
  ) => {
    journal.finished(action.id, { status, ...extra });
    if (status !== "pending") report[status]++;
    options.onSettled?.(action, status);
  };
  const settleByReceipt = (action: ActionRecord, receipt: TransactionReceipt) =>
    settle(action, receipt.status === "success" ? "mined" : "reverted", {
      txHash: receipt.transactionHash,
      gasUsed: receipt.gasUsed,
    });

  for (const action of journal.pendingActions(options.chainId)) {
    let receipt: TransactionReceipt | undefined;
    for (const hash of [...action.hashes].reverse()) {
      receipt = await receiptOf(publicClient, hash);
      if (receipt !== undefined) break;
    }
    if (receipt !== undefined) {
      settleByReceipt(action, receipt);
      continue;
    }
    if (action.nonce < (await minedNonce(action.sender))) {
      if (action.hashes.length === 0) settle(action, "failed", { error: "outcome unknown: no hash was recorded" });
      else settle(action, "replaced", { error: "its nonce was used by another transaction" });
      continue;
    }
    let known: Hash | undefined;
    for (const hash of [...action.hashes].reverse()) {
      if (await isKnown(publicClient, hash)) {
        known = hash;
        break;
      }
    }
    if (known === undefined) {
      settle(action, "dropped", { error: "not mined and unknown to the node: never broadcast, or evicted" });
      continue;
    }
    try {
      const mined = await publicClient.waitForTransactionReceipt({ hash: known, timeout: options.waitMs ?? 30_000 });
      settleByReceipt(action, mined);
    } catch (error) {
      if (!(error instanceof WaitForTransactionReceiptTimeoutError)) throw error;
      report.stillPending++;
    }
  }
  return report;
}

async function receiptOf(client: PublicClient, hash: Hash): Promise<TransactionReceipt | undefined> {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError) return undefined;
    throw error;
  }
}

async function isKnown(client: PublicClient, hash: Hash): Promise<boolean> {
  try {
    await client.getTransaction({ hash });
    return true;
  } catch (error) {
    if (error instanceof TransactionNotFoundError) return false;
    throw error;
  }
}
