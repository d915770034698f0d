import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
  decodeFunctionResult,
  encodeFunctionData,
  keccak256,
} from "viem";

import { PledgeError, decodePledgeError } from "@pledge/sdk";
import type { ActionJournal } from "./store.js";

/** How one attempted send ended; every outcome is counted. */
export const Outcome = {
  /** Mined and succeeded. */
  SENT: "sent",
  /** The simulation reverted: someone else got there first, or the target changed. Nothing sent. */
  SIMULATION_REVERTED: "simulation_reverted",
  /** Sent and mined, but reverted. */
  REVERTED: "reverted",
  /** The RPC failed (after retries). */
  RPC_ERROR: "rpc_error",
  /** Skipped: the target is cooling down after a failure. */
  COOLDOWN: "cooldown",
  /** Skipped: this keeper already sent for the target in this block. */
  DUPLICATE: "duplicate",
  /** Skipped: the send's guard refused its gas estimate × fee (a bid that would not pay its gas, or above the gas cap). */
  GAS_GUARD: "gas_guard",
  /** Not sent: a `bidMany` batch needed too much gas or left the bidder below IM, so it goes as two halves. */
  SPLIT: "split",
  /** A request of a mined `bidMany` batch that the liquidator skipped (`BidSkipped`: the account moved). */
  SKIPPED_IN_BATCH: "skipped_in_batch",
  /** `--dry-run`: the simulation passed and the transaction was logged, not sent. */
  DRY_RUN: "dry_run",
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export interface SendResult {
  outcome: Outcome;
  /** The nonce used, when a transaction was sent. */
  nonce?: number;
  /** Every version sent for that nonce, oldest first (more than one after fee bumps). */
  hashes?: Hash[];
  receipt?: TransactionReceipt;
  result?: unknown;
  /** The decoded error name (a Pledge custom error, or the viem error's name). */
  errorName?: string;
  error?: unknown;
}

/** Retries `run` with exponential backoff on errors that are not contract reverts. */
export async function withBackoff<T>(run: () => Promise<T>, attempts = 4, baseMs = 100): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt + 1 >= attempts || isRevert(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, baseMs * 2 ** attempt));
    }
  }
}

/** True for errors that say the contract refused, which a retry cannot fix. */
export function isRevert(error: unknown): boolean {
  if (decodePledgeError(error) instanceof PledgeError) return true;
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return /revert/i.test(text);
}

/** The name to count a failure under. */
export function errorName(error: unknown): string {
  const decoded = decodePledgeError(error);
  if (decoded instanceof PledgeError) return decoded.errorName;
  return error instanceof Error ? error.name : "UnknownError";
}

/**
 * Decides whether to send, from the send's simulated gas (`eth_estimateGas`, before the
 * safety margin; with a `GasPlan` limit that passed, that limit), the fees it would be sent
 * with, its gas limit, whether that limit is the plan's, and the simulation's decoded return
 * value when the plan asked for it: a reason to skip, or undefined to send.
 */
export type GasGuard = (
  gas: bigint,
  fees: Fees,
  limit: bigint,
  planned: boolean,
  result?: unknown,
) => string | undefined;

/**
 * How a send finds its gas limit. By default it is searched for (`eth_estimateGas`, + 30 %).
 * With `limit`, the send is simulated once by an `eth_call` at that limit and, if that passes,
 * sent with it (the same transaction passes against the same state; the search executes it
 * several times). With `callGas` and no `limit`, an `eth_call` at `callGas` gives the guard
 * the return value before the search. `headroom` is added to the limit sent with, for state
 * the simulation cannot see (this sender's transactions ahead of it in the same block).
 */
export interface GasPlan {
  limit?: bigint | undefined;
  callGas?: bigint | undefined;
  headroom?: bigint | undefined;
  /**
   * Errors of the `eth_call` at `limit` that mean "too little gas" (besides a revert without
   * data): the send then falls back to the search. Any other revert is the send's outcome.
   */
  retryOn?: readonly string[] | undefined;
}

/** EIP-1559 fees of one transaction, wei. */
export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/**
 * The fees of a replacement: both fields raised by at least 12.5 % (rounded up, at least
 * one wei), which nodes require to replace a pending transaction of the same nonce; or
 * undefined when that would exceed `cap` on either field (stop bumping).
 *
 * @example
 * bumpFees({ maxFeePerGas: 80n, maxPriorityFeePerGas: 8n }, { maxFeePerGas: 100n, maxPriorityFeePerGas: 10n });
 * // { maxFeePerGas: 90n, maxPriorityFeePerGas: 9n }
 */
export function bumpFees(previous: Fees, cap: Fees): Fees | undefined {
  const up = (fee: bigint) => fee + ((fee + 7n) / 8n > 0n ? (fee + 7n) / 8n : 1n);
  const maxFeePerGas = up(previous.maxFeePerGas);
  const maxPriorityFeePerGas = up(previous.maxPriorityFeePerGas);
  if (maxFeePerGas > cap.maxFeePerGas || maxPriorityFeePerGas > cap.maxPriorityFeePerGas) return undefined;
  return { maxFeePerGas, maxPriorityFeePerGas: min(maxPriorityFeePerGas, maxFeePerGas) };
}

export interface SenderOptions {
  publicClient: PublicClient;
  walletClient: WalletClient;
  /** Largest `maxFeePerGas` the keeper pays, wei, bumps included. */
  maxFeePerGas: bigint;
  /** Largest priority fee, wei, bumps included. */
  maxPriorityFeePerGas: bigint;
  /** Re-send the same nonce with bumped fees after this many blocks without a receipt. Default 3. */
  replaceAfterBlocks?: number | undefined;
  /** ... or after this many milliseconds, whichever comes first. Default: blocks only. */
  replaceAfterMs?: number | undefined;
  /** Stop waiting for a receipt after this many blocks (the outcome is `rpc_error`, `TransactionNotMined`). Default 50. */
  giveUpAfterBlocks?: number | undefined;
  /** How often a pending transaction polls the chain, ms. Default: the public client's polling interval. */
  pollIntervalMs?: number | undefined;
  /** Called after each same-nonce replacement. */
  onReplaced?: ((event: { nonce: number; hash: Hash; replaced: Hash; fees: Fees }) => void) | undefined;
  /** Called once per transaction when the next bump would pass the fee cap: no more bumps. */
  onFeeCap?: ((event: { nonce: number; hash: Hash; fees: Fees }) => void) | undefined;
  /**
   * Functions whose return value the caller reads (`SendResult.result`): these are also
   * run with `eth_call` to get it. Every send is simulated either way (see `send`).
   */
  resultFor?: readonly string[] | undefined;
  /**
   * The history of actions. Every send is recorded `pending` (with its nonce) before it is
   * broadcast; with a local key the transaction is signed first and its hash recorded before
   * the broadcast too (a JSON-RPC account's hash is known only after); then each fee-bumped
   * version and the outcome. A send whose broadcast failed in a way that may still have
   * reached the node stays `pending` for the next start-up's reconciliation.
   */
  journal?: ActionJournal | undefined;
  /**
   * Awaited at each stage of a send: `recorded` (its `pending` row, and hash if signed locally,
   * are written; nothing broadcast) and `broadcast` (sent, receipt not awaited). A test hook:
   * the kill-9 test pauses the keeper process here and kills it.
   */
  onStage?:
    | ((stage: SendStage, action: { kind: string; nonce: number; actionId: number | undefined }) => Promise<void>)
    | undefined;
}

/** Where a send is when `SenderOptions.onStage` is called. */
export type SendStage = "recorded" | "broadcast";

/** What a send acts on, for the history of actions: the job's target key and the tick's head block. */
export interface ActionLabel {
  target: string;
  tick?: bigint | undefined;
}

/**
 * The keeper's single writer for one key. `send` simulates, then signs and sends with a
 * locally managed nonce and capped EIP-1559 fees; sends are serialized (consecutive
 * nonces, in call order) but not their receipts, so a tick's transactions go out back
 * to back and can land in one block. A transaction not mined within
 * `replaceAfterBlocks` blocks (or `replaceAfterMs`) is re-sent with the SAME nonce and
 * fees bumped by 12.5 %, never above the caps; once the cap is reached it stops bumping
 * and reports it. The nonce is re-read from the chain after any error.
 *
 * @example
 * const sender = createSender({ publicClient, walletClient, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 2n * 10n ** 9n });
 * const results = await Promise.all(accounts.map((a) => sender.send(liquidator, liquidatorAbi, "startAuction", [a])));
 */
export function createSender(options: SenderOptions) {
  const { publicClient, walletClient } = options;
  const account = walletClient.account;
  if (account === undefined) throw new Error("keeper: the wallet client needs an account");
  const cap: Fees = {
    maxFeePerGas: options.maxFeePerGas,
    maxPriorityFeePerGas: min(options.maxPriorityFeePerGas, options.maxFeePerGas),
  };
  const replaceAfterBlocks = BigInt(options.replaceAfterBlocks ?? 3);
  const giveUpAfterBlocks = BigInt(options.giveUpAfterBlocks ?? 50);
  const pollIntervalMs = options.pollIntervalMs ?? publicClient.pollingInterval ?? 1_000;
  let nonce: number | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const fees = async (): Promise<Fees | undefined> => {
    try {
      const estimate = await withBackoff(() => publicClient.estimateFeesPerGas());
      const maxFeePerGas = min(estimate.maxFeePerGas, cap.maxFeePerGas);
      const maxPriorityFeePerGas = min(estimate.maxPriorityFeePerGas, cap.maxPriorityFeePerGas, maxFeePerGas);
      return { maxFeePerGas, maxPriorityFeePerGas };
    } catch {
      return undefined;
    }
  };

  /** One read of the head and of the key's mined nonce, shared by every pending transaction in a poll. */
  let head: Promise<{ block: bigint; minedNonce: number }> | undefined;
  const readHead = () => {
    head ??= Promise.all([
      publicClient.getBlockNumber({ cacheTime: 0 }),
      publicClient.getTransactionCount({ address: account.address, blockTag: "latest" }),
    ])
      .then(([block, minedNonce]) => ({ block, minedNonce }))
      .finally(() => setTimeout(() => (head = undefined), pollIntervalMs).unref());
    return head;
  };

  interface Submitted {
    request: TransactionRequest;
    result: unknown;
    nonce: number;
    hash: Hash;
    fees: Fees | undefined;
    /** Its row in the journal. */
    actionId: number | undefined;
  }

  interface TransactionRequest {
    address: Address;
    abi: Abi;
    functionName: string;
    args: readonly unknown[];
    gas: bigint;
  }

  let chainId: number | undefined = walletClient.chain?.id;
  const journal = options.journal;

  /**
   * Broadcasts one version of a transaction. With a local key and known fees it is signed
   * here, its hash journaled, and only then sent raw, so a crash after the broadcast finds
   * the hash in the journal; otherwise the node signs (`eth_sendTransaction`) and the hash is
   * journaled once it returns.
   */
  async function broadcast(
    request: TransactionRequest,
    fees: Fees | undefined,
    txNonce: number,
    actionId: number | undefined,
    progress: { signed: boolean } = { signed: false },
  ) {
    const stage = (name: SendStage) =>
      options.onStage?.(name, { kind: request.functionName, nonce: txNonce, actionId });
    if (account!.type === "local" && account!.signTransaction !== undefined && fees !== undefined) {
      chainId ??= await withBackoff(() => publicClient.getChainId());
      const serializedTransaction = await account!.signTransaction({
        type: "eip1559",
        chainId,
        to: request.address,
        data: encodeFunctionData({ abi: request.abi, functionName: request.functionName, args: request.args }),
        gas: request.gas,
        nonce: txNonce,
        ...fees,
      });
      const hash = keccak256(serializedTransaction);
      if (actionId !== undefined) journal?.transaction(actionId, hash);
      progress.signed = true;
      await stage("recorded");
      await walletClient.sendRawTransaction({ serializedTransaction });
      await stage("broadcast");
      return hash;
    }
    await stage("recorded");
    const hash = await walletClient.writeContract({
      ...request,
      ...fees,
      nonce: txNonce,
      account,
      chain: walletClient.chain,
    } as never);
    if (actionId !== undefined) journal?.transaction(actionId, hash);
    await stage("broadcast");
    return hash;
  }

  /** Writes a finished send's outcome to the journal. */
  function journalOutcome(actionId: number | undefined, result: SendResult) {
    if (actionId === undefined || journal === undefined) return;
    const txHash = result.receipt?.transactionHash;
    if (result.receipt !== undefined) {
      const status = result.receipt.status === "success" ? "mined" : "reverted";
      journal.finished(actionId, { status, txHash: txHash!, gasUsed: result.receipt.gasUsed });
    } else if (result.errorName === "NonceUsedElsewhere") {
      journal.finished(actionId, { status: "replaced", error: result.errorName });
    } else {
      // Not mined within the wait, or the node stopped answering: it may still mine. The next
      // start-up's reconciliation settles it.
      journal.finished(actionId, { status: "pending", error: result.errorName ?? result.outcome });
    }
  }

  /** Simulates and sends; runs one at a time (the nonce is taken in call order). */
  async function submit(
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
    guard: GasGuard | undefined,
    label: ActionLabel | undefined,
    plan: GasPlan | undefined,
  ): Promise<Submitted | SendResult> {
    // The simulation is `eth_estimateGas` against the latest block: it executes the call,
    // fails with the contract's decoded error on a revert, and gives the gas limit (with a
    // 30 % margin). Estimating against the node's pending block instead would re-execute
    // every transaction this keeper has queued there for each send (quadratic in a busy tick).
    let request: TransactionRequest;
    let result: unknown;
    let estimatedGas: bigint;
    let fits = false;
    let decoded: unknown;
    const headroom = plan?.headroom ?? 0n;
    try {
      const callGas = plan?.limit ?? plan?.callGas;
      if (callGas !== undefined) {
        const data = encodeFunctionData({ abi, functionName, args } as never);
        try {
          const answer = await publicClient.call({ account, to: address, data, gas: callGas, blockTag: "latest" });
          decoded =
            answer.data === undefined
              ? undefined
              : decodeFunctionResult({ abi, functionName, data: answer.data } as never);
          fits = plan?.limit !== undefined;
        } catch (error) {
          // A refusal that is not about gas is the outcome; too little gas (or the transport)
          // falls back to the search, which decides and reports it.
          const refusal = decodePledgeError(error);
          const aboutGas = !(refusal instanceof PledgeError) || (plan?.retryOn ?? []).includes(refusal.errorName);
          if (!aboutGas) throw error;
        }
      }
      if (fits) {
        estimatedGas = plan!.limit!;
        request = { address, abi, functionName, args, gas: plan!.limit! + headroom };
      } else {
        estimatedGas = await withBackoff(() =>
          publicClient.estimateContractGas({ account, address, abi, functionName, args, blockTag: "latest" } as never),
        );
        request = { address, abi, functionName, args, gas: (estimatedGas * 13n) / 10n + headroom };
      }
      if (options.resultFor?.includes(functionName)) {
        result = (
          (await withBackoff(() =>
            publicClient.simulateContract({ account, address, abi, functionName, args } as never),
          )) as { result: unknown }
        ).result;
      }
    } catch (error) {
      return {
        outcome: isRevert(error) ? Outcome.SIMULATION_REVERTED : Outcome.RPC_ERROR,
        errorName: errorName(error),
        error,
      };
    }
    const chosen = await fees();
    // The guard prices the simulated gas at the fee cap this transaction may pay (conservative).
    const refused = guard?.(estimatedGas, chosen ?? cap, request.gas, fits, decoded);
    if (refused !== undefined) return { outcome: Outcome.GAS_GUARD, errorName: refused };
    let actionId: number | undefined;
    const progress = { signed: false };
    try {
      nonce ??= await withBackoff(() =>
        publicClient.getTransactionCount({ address: account!.address, blockTag: "pending" }),
      );
      chainId ??= await withBackoff(() => publicClient.getChainId());
      actionId = journal?.pending({
        chainId,
        tick: label?.tick,
        kind: functionName,
        target: label?.target ?? functionName,
        sender: account!.address,
        nonce,
      });
      const hash = await broadcast(request, chosen, nonce, actionId, progress);
      return { request, result, nonce: nonce++, hash, fees: chosen, actionId };
    } catch (error) {
      nonce = undefined;
      const failed = {
        outcome: isRevert(error) ? Outcome.REVERTED : Outcome.RPC_ERROR,
        errorName: errorName(error),
        error,
      };
      // Refused with nothing signed, or signed by the node and refused: nothing can mine. Signed
      // here and lost on the way: it may have reached the node; reconciliation decides.
      if (actionId !== undefined)
        journal!.finished(actionId, { status: progress.signed ? "pending" : "failed", error: failed.errorName });
      return failed;
    }
  }

  /** Waits for one of the transaction's versions to mine, replacing it with bumped fees when it lingers. */
  async function settle(sent: Submitted): Promise<SendResult> {
    const hashes: Hash[] = [sent.hash];
    let current = sent.hash;
    let currentFees = sent.fees;
    let capped = false;
    let firstBlock: bigint | undefined;
    let sentAtBlock: bigint | undefined;
    let sentAtMs = Date.now();
    let errorsInARow = 0;
    const versions = () => ({ nonce: sent.nonce, hashes: [...hashes] });
    for (;;) {
      let state: { block: bigint; minedNonce: number };
      try {
        state = await readHead();
        errorsInARow = 0;
      } catch (error) {
        if (++errorsInARow >= 8) {
          nonce = undefined;
          return { outcome: Outcome.RPC_ERROR, errorName: errorName(error), error, ...versions() };
        }
        await sleep(pollIntervalMs);
        continue;
      }
      firstBlock ??= state.block;
      sentAtBlock ??= state.block;
      if (state.minedNonce > sent.nonce) {
        // The nonce is used: exactly one version mined. Find it, newest first.
        for (const hash of [...hashes].reverse()) {
          const receipt = await withBackoff(() => publicClient.getTransactionReceipt({ hash })).catch(() => undefined);
          if (receipt === undefined) continue;
          if (receipt.status !== "success") {
            return { outcome: Outcome.REVERTED, receipt, errorName: "TransactionReverted", ...versions() };
          }
          return { outcome: Outcome.SENT, receipt, result: sent.result, ...versions() };
        }
        // Mined by a transaction this sender does not know (another writer on the key?), or the node lags.
        if (state.block - firstBlock >= replaceAfterBlocks) {
          nonce = undefined;
          return { outcome: Outcome.RPC_ERROR, errorName: "NonceUsedElsewhere", ...versions() };
        }
      } else if (state.block - firstBlock >= giveUpAfterBlocks) {
        nonce = undefined;
        return { outcome: Outcome.RPC_ERROR, errorName: "TransactionNotMined", ...versions() };
      } else if (
        !capped &&
        (state.block - sentAtBlock >= replaceAfterBlocks ||
          (options.replaceAfterMs !== undefined && Date.now() - sentAtMs >= options.replaceAfterMs))
      ) {
        try {
          currentFees ??= await feesOf(current);
          const next = bumpFees(currentFees, cap);
          if (next === undefined) {
            capped = true;
            options.onFeeCap?.({ nonce: sent.nonce, hash: current, fees: currentFees });
          } else {
            const hash = await broadcast(sent.request, next, sent.nonce, sent.actionId);
            hashes.push(hash);
            options.onReplaced?.({ nonce: sent.nonce, hash, replaced: current, fees: next });
            current = hash;
            currentFees = next;
          }
        } catch {
          // The replacement was refused (the original just mined, or the node lags): try again next poll.
        }
        sentAtBlock = state.block;
        sentAtMs = Date.now();
        continue;
      }
      await sleep(pollIntervalMs);
    }
  }

  async function feesOf(hash: Hash): Promise<Fees> {
    const tx = await withBackoff(() => publicClient.getTransaction({ hash }));
    return { maxFeePerGas: tx.maxFeePerGas ?? tx.gasPrice ?? 0n, maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n };
  }

  return {
    address: account.address,
    /**
     * Simulates and sends now, behind any send still being submitted (so nonces follow
     * the call order), then waits for the receipt without holding up later sends. A `guard`
     * sees the simulated gas, the fees and the gas limit first and may refuse the send
     * (`Outcome.GAS_GUARD`). A `plan` sets how the gas limit is found (`GasPlan`).
     */
    send<const abi extends Abi, name extends ContractFunctionName<abi, "nonpayable" | "payable">>(
      address: Address,
      abi: abi,
      functionName: name,
      args: ContractFunctionArgs<abi, "nonpayable" | "payable", name>,
      guard?: GasGuard,
      label?: ActionLabel,
      plan?: GasPlan,
    ): Promise<SendResult> {
      const submitted = queue.then(() =>
        submit(address, abi, functionName, args as readonly unknown[], guard, label, plan),
      );
      queue = submitted.catch(() => undefined);
      return submitted.then(async (sent) => {
        if (!("hash" in sent)) return sent;
        const result = await settle(sent);
        journalOutcome(sent.actionId, result);
        return result;
      });
    },
    resetNonce() {
      nonce = undefined;
    },
  };
}

export type Sender = ReturnType<typeof createSender>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function min(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b < a ? b : a));
}
