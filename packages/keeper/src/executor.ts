import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";

import { PledgeError, decodePledgeError } from "../../sdk/src/index.js";

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
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export interface SendResult {
  outcome: Outcome;
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
  return /revert|ContractFunctionExecutionError|execution reverted/i.test(text);
}

/** The name to count a failure under. */
export function errorName(error: unknown): string {
  const decoded = decodePledgeError(error);
  if (decoded instanceof PledgeError) return decoded.errorName;
  return error instanceof Error ? error.name : "UnknownError";
}

/**
 * The keeper's single writer for one key: simulates, then sends with a locally managed
 * nonce and capped EIP-1559 fees, one transaction at a time, and waits for the receipt.
 * The nonce is re-read from the chain after any error.
 */
export function createSender(options: {
  publicClient: PublicClient;
  walletClient: WalletClient;
  /** Largest `maxFeePerGas` the keeper pays, wei. */
  maxFeePerGas: bigint;
  /** Largest priority fee, wei. */
  maxPriorityFeePerGas: bigint;
}) {
  const { publicClient, walletClient } = options;
  const account = walletClient.account;
  if (account === undefined) throw new Error("keeper: the wallet client needs an account");
  let nonce: number | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const fees = async () => {
    try {
      const estimate = await withBackoff(() => publicClient.estimateFeesPerGas());
      const maxFeePerGas = min(estimate.maxFeePerGas, options.maxFeePerGas);
      const maxPriorityFeePerGas = min(estimate.maxPriorityFeePerGas, options.maxPriorityFeePerGas, maxFeePerGas);
      return { maxFeePerGas, maxPriorityFeePerGas };
    } catch {
      return {};
    }
  };

  async function sendNow<const abi extends Abi, name extends ContractFunctionName<abi, "nonpayable" | "payable">>(
    address: Address,
    abi: abi,
    functionName: name,
    args: ContractFunctionArgs<abi, "nonpayable" | "payable", name>,
  ): Promise<SendResult> {
    let simulated: { request: object; result: unknown };
    try {
      simulated = (await withBackoff(() =>
        publicClient.simulateContract({ account: account!, address, abi, functionName, args } as never),
      )) as { request: object; result: unknown };
    } catch (error) {
      return {
        outcome: isRevert(error) ? Outcome.SIMULATION_REVERTED : Outcome.RPC_ERROR,
        errorName: errorName(error),
        error,
      };
    }
    let hash: Hash;
    try {
      nonce ??= await withBackoff(() =>
        publicClient.getTransactionCount({ address: account!.address, blockTag: "pending" }),
      );
      hash = await walletClient.writeContract({
        ...(simulated.request as object),
        ...(await fees()),
        nonce,
        account: account!,
        chain: walletClient.chain,
      } as never);
      nonce++;
    } catch (error) {
      nonce = undefined;
      return { outcome: isRevert(error) ? Outcome.REVERTED : Outcome.RPC_ERROR, errorName: errorName(error), error };
    }
    try {
      const receipt = await withBackoff(() => publicClient.waitForTransactionReceipt({ hash }));
      if (receipt.status !== "success") {
        return { outcome: Outcome.REVERTED, receipt, errorName: "TransactionReverted" };
      }
      return { outcome: Outcome.SENT, receipt, result: simulated.result };
    } catch (error) {
      nonce = undefined;
      return { outcome: Outcome.RPC_ERROR, errorName: errorName(error), error };
    }
  }

  return {
    address: account.address,
    /** Queues one send behind any in flight, so a key never has two transactions racing for a nonce. */
    send<const abi extends Abi, name extends ContractFunctionName<abi, "nonpayable" | "payable">>(
      address: Address,
      abi: abi,
      functionName: name,
      args: ContractFunctionArgs<abi, "nonpayable" | "payable", name>,
    ): Promise<SendResult> {
      const next = queue.then(() => sendNow(address, abi, functionName, args));
      queue = next.catch(() => undefined);
      return next;
    },
    resetNonce() {
      nonce = undefined;
    },
  };
}

export type Sender = ReturnType<typeof createSender>;

function min(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b < a ? b : a));
}
