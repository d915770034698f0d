import {
  type Abi,
  type AbiEvent,
  type Address,
  type Hash,
  type Log,
  type TransactionReceipt,
  encodeAbiParameters,
  encodeEventTopics,
  keccak256,
  stringToHex,
  zeroAddress,
} from "viem";

import { type GasGuard, Outcome, type GasPlan, type SendResult } from "../../../packages/keeper/src/index.js";

/** A block hash that depends on the block and a fork label, so a reorg changes it. */
export function hashOf(block: bigint, fork = "main"): Hash {
  return keccak256(stringToHex(`${fork}:${block}`));
}

function zeroOf(type: string): unknown {
  if (type.startsWith("uint") || type.startsWith("int")) return 0n;
  if (type === "bool") return false;
  if (type === "address") return zeroAddress;
  throw new Error(`no zero for ${type}`);
}

/**
 * A log of `eventName` from `abi` as a node returns it; arguments not given are zero.
 */
export function eventLog(
  abi: Abi,
  address: Address,
  eventName: string,
  args: Record<string, unknown>,
  blockNumber: bigint,
  logIndex = 0,
): Log<bigint, number, false> {
  const event = abi.find((item): item is AbiEvent => item.type === "event" && item.name === eventName);
  if (event === undefined) throw new Error(`no event ${eventName}`);
  const full = Object.fromEntries(event.inputs.map((input) => [input.name, args[input.name!] ?? zeroOf(input.type)]));
  const topics = encodeEventTopics({
    abi: [event],
    eventName,
    args: Object.fromEntries(event.inputs.filter((i) => i.indexed).map((i) => [i.name, full[i.name!]])),
  });
  const unindexed = event.inputs.filter((i) => !i.indexed);
  return {
    address,
    blockHash: hashOf(blockNumber),
    blockNumber,
    data: encodeAbiParameters(
      unindexed,
      unindexed.map((i) => full[i.name!]),
    ),
    logIndex,
    removed: false,
    topics: [topics[0]!, ...topics.slice(1).map((t) => (Array.isArray(t) ? t[0]! : t!))],
    transactionHash: hashOf(blockNumber, `tx${logIndex}`),
    transactionIndex: 0,
  };
}

/** A successful receipt at `blockNumber` carrying `logs`. */
export function receiptAt(
  blockNumber: bigint,
  gasUsed = 100_000n,
  logs: Log<bigint, number, false>[] = [],
): TransactionReceipt {
  return {
    blockHash: hashOf(blockNumber),
    blockNumber,
    contractAddress: null,
    cumulativeGasUsed: gasUsed,
    effectiveGasPrice: 1n,
    from: zeroAddress,
    gasUsed,
    logs,
    logsBloom: "0x",
    status: "success",
    to: zeroAddress,
    transactionHash: hashOf(blockNumber, "tx"),
    transactionIndex: 0,
    type: "eip1559",
  };
}

/** One call a fake sender was asked to make. */
export interface SentCall {
  to: Address;
  functionName: string;
  args: readonly unknown[];
  /** The gas limit the caller planned (`GasPlan.limit`), when it passed one. */
  plannedLimit?: bigint;
  /** The headroom the caller's plan added (`GasPlan.headroom`), when not zero. */
  headroom?: bigint;
  /**
   * With `simulatedGas`: the gas limit the send went out with (the planned limit when the
   * simulation fits it, else the simulation + 30 %; plus the headroom), and the guard's refusal.
   */
  sentWith?: bigint;
  refused?: string;
}

/**
 * A sender that records every send and answers from `answer` (default: mined at `block`). With
 * `simulatedGas`, a send's guard is consulted as the real sender does: with the planned limit
 * when `simulatedGas(call)` fits it (the plan's `eth_call` passes), else with `simulatedGas(call)`
 * and a 30 % margin (the search the executor falls back to), plus
 * the plan's headroom, and with `simulatedResult(call)` as the decoded simulation when the plan
 * asks for one; a refusal is answered `gas_guard` without calling `answer`. A `simulatedGas` of
 * undefined is a simulation that reverts: as the executor, the guard is not consulted, and
 * `answer` says how it reverted.
 */
export function fakeSender(
  answer: (call: SentCall) => SendResult,
  simulatedGas?: (call: SentCall) => bigint | undefined,
  simulatedResult?: (call: SentCall) => unknown,
) {
  const sent: SentCall[] = [];
  return {
    sent,
    send: async (
      to: Address,
      _abi: Abi,
      functionName: string,
      args: unknown,
      guard?: GasGuard,
      _label?: unknown,
      plan?: GasPlan,
    ) => {
      const call: SentCall = { to, functionName, args: Array.isArray(args) ? [...args] : [args] };
      if (plan?.limit !== undefined) call.plannedLimit = plan.limit;
      if ((plan?.headroom ?? 0n) > 0n) call.headroom = plan!.headroom!;
      sent.push(call);
      if (simulatedGas !== undefined && guard !== undefined) {
        // As the executor: the `eth_call` at the planned limit passes when the simulation fits
        // it; otherwise (or with no plan) the search finds the simulation's gas.
        const simulated = simulatedGas(call);
        if (simulated === undefined) return answer(call);
        const fits = plan?.limit !== undefined && simulated <= plan.limit;
        const gas = fits ? plan!.limit! : simulated;
        const limit = (fits ? gas : (gas * 13n) / 10n) + (plan?.headroom ?? 0n);
        const decoded = plan?.limit !== undefined || plan?.callGas !== undefined ? simulatedResult?.(call) : undefined;
        const refused = guard(gas, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, limit, fits, decoded);
        call.sentWith = limit;
        if (refused !== undefined) {
          call.refused = refused;
          return { outcome: Outcome.GAS_GUARD, errorName: refused } as SendResult;
        }
      }
      return answer(call);
    },
  };
}

/** A send that mined at `block` (with `result` as the function's return value). */
export function minedAt(block: bigint, result?: unknown, logs: Log<bigint, number, false>[] = []): SendResult {
  return {
    outcome: Outcome.SENT,
    receipt: receiptAt(block, 100_000n, logs),
    ...(result === undefined ? {} : { result }),
  };
}
