/**
 * The call tree of a `debug_traceTransaction` / `debug_traceCall` StructLog walk, shared by the
 * gas-breakdown scripts (`scripts/trace-fill.ts`, `scripts/trace-margin.ts`): each frame's
 * inclusive gas, its storage reads (cold / warm) and writes, events, transient storage, memory
 * expansion, and its own gas (what is left once those and its calls are taken out). Written by
 * hand: Hardhat prints a call tree (`--gas-stats` per function, `--verbosity` traces) but not one
 * with each frame's storage and own gas, which is what the breakdown tables in
 * docs/performance.md need. Gas is deterministic; nothing here is timed.
 */
import type { network } from "hardhat";
import type { Hash } from "viem";

import type { deployPledge } from "../../deploy/deployPledge.js";

type Connection = Awaited<ReturnType<typeof network.create>>;
type Contracts = Awaited<ReturnType<typeof deployPledge>>["contracts"];

/** One step of a struct-log trace (stack on, memory and storage off). */
export interface StructLog {
  op: string;
  pc?: number;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

/** One call frame of the tree, with what it spent where. */
export interface Frame {
  to: string;
  /** The contract whose storage this frame reads (the caller's for a DELEGATECALL). */
  storage: string;
  op: string;
  depth: number;
  inclusive: number;
  coldSloads: number;
  warmSloads: number;
  sloadGas: number;
  sstores: number;
  sstoreGas: number;
  tstoreGas: number;
  logs: number;
  logGas: number;
  /** Memory expansion: what memory-touching opcodes cost beyond their static gas. */
  memoryGas: number;
  /** Gas of the CALL opcodes themselves plus what the callees used. */
  callGas: number;
  /**
   * Selector comparisons its function dispatch ran (`EQ`s between the selector's `SHR` and the
   * first jump taken): the IR pipeline compares the selector with each of the contract's in
   * ascending order, 22 gas each (`DUP1`, `PUSH4`, `EQ`, `PUSH2`, `JUMPI`), a part of its own gas.
   */
  dispatchEqs: number;
  /** Where the dispatch walk is: 0 before the selector's `SHR`, 1 in the comparisons, 2 past them. */
  dispatchState: number;
  children: Frame[];
}

const CALLS = /^(CALL|STATICCALL|DELEGATECALL|CALLCODE)$/;
/** Static gas of the opcodes whose cost can include memory expansion (their words copied aside). */
const MEMORY_STATIC: Record<string, number> = { MLOAD: 3, MSTORE: 3, MSTORE8: 3, MCOPY: 3, KECCAK256: 30 };

/** A frame with nothing spent yet. */
export function newFrame(to: string, storage: string, op: string, depth: number): Frame {
  return {
    to,
    storage,
    op,
    depth,
    inclusive: 0,
    coldSloads: 0,
    warmSloads: 0,
    sloadGas: 0,
    sstores: 0,
    sstoreGas: 0,
    tstoreGas: 0,
    logs: 0,
    logGas: 0,
    memoryGas: 0,
    callGas: 0,
    dispatchEqs: 0,
    dispatchState: 0,
    children: [],
  };
}

/**
 * Builds the call tree under `root` from `logs`, counting every (storage, slot) read into `reads`
 * (keys named with `nameOf`).
 *
 * @example
 * const root = newFrame(market, market, "TX", 1);
 * buildTree(structLogs, root, new Map(), (a) => a);
 */
export function buildTree(
  logs: StructLog[],
  root: Frame,
  reads: Map<string, number>,
  nameOf: (address: string) => string,
): void {
  const stack: Frame[] = [root];
  logs.forEach((log, i) => {
    const frame = stack[stack.length - 1]!;
    const s = log.stack ?? [];
    const top = s[s.length - 1] ?? "";
    if (frame.dispatchState === 0 && log.op === "SHR" && log.depth === frame.depth) frame.dispatchState = 1;
    else if (frame.dispatchState === 1 && log.depth === frame.depth) {
      if (log.op === "EQ") frame.dispatchEqs++;
      else if (log.op === "JUMPI" && logs[i + 1]?.pc !== (log.pc ?? 0) + 1) frame.dispatchState = 2;
    }
    if (log.op === "SLOAD") {
      if (log.gasCost >= 2100) frame.coldSloads++;
      else frame.warmSloads++;
      frame.sloadGas += log.gasCost;
      const key = `${nameOf(frame.storage)} slot ${top}`;
      reads.set(key, (reads.get(key) ?? 0) + 1);
    } else if (log.op === "SSTORE") {
      frame.sstores++;
      frame.sstoreGas += log.gasCost;
    } else if (log.op === "TSTORE" || log.op === "TLOAD") {
      frame.tstoreGas += log.gasCost;
    } else if (log.op.startsWith("LOG")) {
      frame.logs++;
      frame.logGas += log.gasCost;
    } else if (log.op in MEMORY_STATIC) {
      // KECCAK256 also pays 6 a word hashed: counted as the frame's own, not memory.
      if (log.op !== "KECCAK256") frame.memoryGas += log.gasCost - MEMORY_STATIC[log.op]!;
    } else if (CALLS.test(log.op)) {
      const to = `0x${(s[s.length - 2] ?? "").replace(/^0x/, "").padStart(40, "0").slice(-40)}`;
      let j = i + 1;
      while (j < logs.length && logs[j]!.depth !== log.depth) j++;
      const inclusive = log.gas - (logs[j]?.gas ?? 0);
      const child = newFrame(to, log.op === "DELEGATECALL" ? frame.storage : to, log.op, log.depth + 1);
      child.inclusive = inclusive;
      frame.callGas += inclusive;
      frame.children.push(child);
      // A call into code opens a frame at the next depth; a precompile or an empty account does not.
      if (logs[i + 1]?.depth === log.depth + 1) stack.push(child);
    }
    const next = logs[i + 1];
    if (next && next.depth < log.depth) stack.pop();
  });
}

/** A frame's own gas: its inclusive gas less its calls, storage, transient storage, events and memory. */
export function own(frame: Frame): number {
  return (
    frame.inclusive -
    frame.callGas -
    frame.sloadGas -
    frame.sstoreGas -
    frame.logGas -
    frame.tstoreGas -
    frame.memoryGas
  );
}

/**
 * Prints `frame` and its calls, one line a frame, indented by depth.
 *
 * @example
 * printTree(root, "  ", (a) => names[a] ?? a);
 */
export function printTree(frame: Frame, indent: string, nameOf: (address: string) => string): void {
  const parts = [
    `${frame.inclusive}`,
    frame.coldSloads + frame.warmSloads
      ? `sload ${frame.coldSloads} cold + ${frame.warmSloads} warm = ${frame.sloadGas}`
      : "",
    frame.sstores ? `sstore ${frame.sstores} = ${frame.sstoreGas}` : "",
    frame.logs ? `log ${frame.logs} = ${frame.logGas}` : "",
    frame.tstoreGas ? `transient ${frame.tstoreGas}` : "",
    frame.memoryGas ? `memory ${frame.memoryGas}` : "",
    `own ${own(frame)}`,
    frame.dispatchEqs ? `(dispatch ${frame.dispatchEqs} × 22 = ${frame.dispatchEqs * 22})` : "",
  ].filter(Boolean);
  console.log(`${indent}${frame.op} ${nameOf(frame.to)}: ${parts.join(", ")}`);
  for (const child of frame.children) printTree(child, `${indent}  `, nameOf);
}

/**
 * Prints the calls of the tree under `root` grouped by caller → callee (count, total inclusive
 * gas), and the storage slots read more than once.
 *
 * @example
 * printRepeats(root, reads, "market", (a) => names[a] ?? a);
 */
export function printRepeats(
  root: Frame,
  reads: Map<string, number>,
  rootName: string,
  nameOf: (address: string) => string,
): void {
  console.log("  storage slots read more than once:");
  for (const [key, count] of reads) if (count > 1) console.log(`    ${count}× ${key}`);
  const calls = new Map<string, { count: number; gas: number }>();
  const walk = (frame: Frame, path: string): void => {
    for (const child of frame.children) {
      const key = `${path} -> ${nameOf(child.to)}`;
      const entry = calls.get(key) ?? { count: 0, gas: 0 };
      entry.count++;
      entry.gas += child.inclusive;
      calls.set(key, entry);
      walk(child, nameOf(child.to));
    }
  };
  walk(root, rootName);
  console.log("  calls by caller -> callee (count, total inclusive gas):");
  for (const [key, { count, gas }] of calls) console.log(`    ${count}× ${key}: ${gas}`);
}

/**
 * A namer for trace output: every contract, feed and token of a `deployPledge` deployment (and the
 * portfolio manager and `ecrecover`) by its role, any other address as itself. `overrides` (by
 * lower-case address) relabels some, e.g. the liquidator as a fill's account hook.
 *
 * @example
 * const nameOf = await pledgeNames(contracts, { [liquidator.address.toLowerCase()]: "liquidator (hook)" });
 */
export async function pledgeNames(
  contracts: Contracts,
  overrides: Record<string, string> = {},
): Promise<(address: string) => string> {
  const c = contracts;
  const labels: [string, string][] = [
    [c.vault.address, "vault"],
    [c.market.address, "market"],
    [c.engine.address, "engine"],
    [c.oracle.address, "oracle"],
    [c.liquidator.address, "liquidator"],
    [c.backstop.address, "backstop"],
    [c.insurance.address, "insurance fund"],
    [c.usdc.address, "usdc"],
    [c.weth.address, "weth"],
    [c.wbtc.address, "wbtc"],
    [c.ethUsd.address, "ETH/USD feed"],
    [c.ethVol.address, "ETH vol feed"],
    [c.btcUsd.address, "BTC/USD feed"],
    [c.btcVol.address, "BTC vol feed"],
    [await c.engine.read.portfolioManager(), "portfolio manager"],
    ["0x0000000000000000000000000000000000000001", "ecrecover"],
  ];
  const names: Record<string, string> = Object.fromEntries(labels.map(([a, label]) => [a.toLowerCase(), label]));
  Object.assign(names, overrides);
  return (address) => names[address] ?? address;
}

/**
 * Waits for transaction `hash`, traces it (`debug_traceTransaction`) and prints its gas split
 * (intrinsic: 21,000 and calldata; execution; refund), the call tree from `root` and the repeats.
 * Throws if it reverted.
 *
 * @example
 * await traceTransaction(connection, "market.fill", hash, market.address, "market", nameOf);
 */
export async function traceTransaction(
  connection: Connection,
  name: string,
  hash: Hash,
  root: string,
  rootName: string,
  nameOf: (address: string) => string,
): Promise<void> {
  const publicClient = await connection.viem.getPublicClient();
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${name} reverted`);
  const { structLogs: logs } = (await connection.provider.request({
    method: "debug_traceTransaction",
    params: [hash, { disableMemory: true, disableStorage: true }],
  })) as { structLogs: StructLog[] };
  const start = logs[0]?.gas ?? 0;
  const last = logs[logs.length - 1];
  const tx = await publicClient.getTransaction({ hash });
  const input = Buffer.from(tx.input.slice(2), "hex");
  const intrinsic = 21_000 + input.reduce((sum, byte) => sum + (byte === 0 ? 4 : 16), 0);
  const execution = start - (last?.gas ?? 0);
  const frame = newFrame(root.toLowerCase(), root.toLowerCase(), "TX", 1);
  frame.inclusive = execution + (last?.gasCost ?? 0);
  const reads = new Map<string, number>();
  buildTree(logs, frame, reads, nameOf);
  console.log(
    `\n== ${name}: ${receipt.gasUsed} gas = intrinsic ${intrinsic} (21,000 + ${input.length} bytes of calldata)` +
      ` + execution ${execution} − refund ${intrinsic + execution - Number(receipt.gasUsed)}`,
  );
  printTree(frame, "  ", nameOf);
  printRepeats(frame, reads, rootName, nameOf);
}
