/**
 * Gas by source line: the steps of one call frame of a struct-log trace, attributed through the
 * compiler's source map to the Solidity line each instruction comes from. Written by hand: Hardhat
 * prints gas per function (`--gas-stats`) and traces per call, not per line, and the breakdown of
 * a check's own code (docs/performance.md, "Floors") needs to know which lines its gas is spent on.
 * A source map entry can span more than a line (the IR pipeline maps shared helpers to the
 * statement or the function that uses them); each step counts for the first line of its range.
 * Gas is deterministic; nothing here is timed.
 */
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import type { StructLog } from "./trace.js";

/** The deployed code of one contract as a compilation job produced it, with its source map. */
export interface CompiledCode {
  /** Runtime bytecode, hex without 0x. */
  object: string;
  sourceMap: string;
  /** Immutable slots in the runtime code: byte ranges filled in at deployment. */
  immutableReferences: Record<string, { start: number; length: number }[]>;
  /** Source file index (as the source map numbers it) → path and text. */
  files: Map<number, { path: string; lines: string[]; lineStarts: number[] }>;
  /** The compiler input of the job (its build info), to compile it again for more output. */
  input: unknown;
  sourceKey: string;
  contractName: string;
}

interface BuildInfoOutput {
  output: {
    contracts: Record<
      string,
      Record<
        string,
        { evm?: { deployedBytecode?: Pick<CompiledCode, "object" | "sourceMap" | "immutableReferences"> } }
      >
    >;
    sources: Record<string, { id: number }>;
  };
}
interface BuildInfoInput {
  input: { sources: Record<string, { content: string }>; settings: Record<string, unknown> };
}

/** `code` with its immutable ranges zeroed, so that a deployment compares with its compiler output. */
function withoutImmutables(code: string, refs: CompiledCode["immutableReferences"]): string {
  const bytes = Buffer.from(code, "hex");
  for (const ranges of Object.values(refs))
    for (const { start, length } of ranges) bytes.fill(0, start, start + length);
  return bytes.toString("hex");
}

/**
 * The compilation of `contractName` in `sourceName` whose runtime code is `deployed` (hex, as
 * `eth_getCode` returns it): a contract another one creates with `new` is compiled into the
 * creator's job, with the creator's settings, so the artifact of its own job is not what runs.
 */
export async function compiledCodeOf(
  root: string,
  sourceName: string,
  contractName: string,
  deployed: string,
): Promise<CompiledCode> {
  const dir = path.join(root, "artifacts/build-info");
  const onChain = deployed.replace(/^0x/, "").toLowerCase();
  for (const name of (await readdir(dir)).filter((f) => f.endsWith(".output.json"))) {
    const output = JSON.parse(await readFile(path.join(dir, name), "utf8")) as BuildInfoOutput;
    const key = Object.keys(output.output.contracts).find((k) => k === sourceName || k.endsWith(`/${sourceName}`));
    const code = key === undefined ? undefined : output.output.contracts[key]?.[contractName]?.evm?.deployedBytecode;
    if (code === undefined || code.object.length !== onChain.length) continue;
    if (
      withoutImmutables(onChain, code.immutableReferences) !== withoutImmutables(code.object, code.immutableReferences)
    ) {
      continue;
    }
    const input = JSON.parse(
      await readFile(path.join(dir, name.replace(".output.json", ".json")), "utf8"),
    ) as BuildInfoInput;
    const files = new Map<number, { path: string; lines: string[]; lineStarts: number[] }>();
    for (const [file, { id }] of Object.entries(output.output.sources)) {
      const text = input.input.sources[file]?.content ?? "";
      const lineStarts = [0];
      for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
      files.set(id, { path: file.replace(/^project\//, ""), lines: text.split("\n"), lineStarts });
    }
    return { ...code, files, input: input.input, sourceKey: key!, contractName };
  }
  throw new Error(`no compilation of ${sourceName}:${contractName} matches the deployed code`);
}

/** Program counter → the source map's [start, file] of the instruction there. */
function pcToSource(code: CompiledCode): Map<number, [number, number]> {
  const entries = code.sourceMap.split(";");
  const byPc = new Map<number, [number, number]>();
  let [start, file] = [-1, -1];
  const bytes = Buffer.from(code.object, "hex");
  let index = 0;
  for (let pc = 0; pc < bytes.length; index++) {
    const fields = (entries[index] ?? "").split(":");
    if (fields[0]) start = Number(fields[0]);
    if (fields[2]) file = Number(fields[2]);
    byPc.set(pc, [start, file]);
    const op = bytes[pc]!;
    pc += op >= 0x60 && op <= 0x7f ? op - 0x5e : 1;
  }
  return byPc;
}

/**
 * The own steps of the frame at `depth` that starts at `logs[from]`, through its return: not its
 * callees' (a CALL's cost includes what the callee used, so calls are left out).
 */
function* ownSteps(logs: StructLog[], from: number, depth: number): Generator<StructLog & { pc: number }> {
  for (let i = from; i < logs.length; i++) {
    const log = logs[i]!;
    if (log.depth < depth) return;
    if (log.depth === depth && !/CALL$/.test(log.op) && log.pc !== undefined) yield log as StructLog & { pc: number };
  }
}

/** One source line and the gas its instructions spent. */
export interface LineCost {
  file: string;
  line: number;
  gas: number;
  steps: number;
  text: string;
}

/** The own steps of the frame at `depth` that starts at `logs[from]` (`ownSteps`), by source line. */
export function lineProfile(logs: StructLog[], from: number, depth: number, code: CompiledCode): LineCost[] {
  const sourceAt = pcToSource(code);
  const byLine = new Map<string, LineCost>();
  for (const log of ownSteps(logs, from, depth)) {
    const [start, fileIndex] = sourceAt.get(log.pc) ?? [-1, -1];
    const file = code.files.get(fileIndex);
    let line = 0;
    if (file !== undefined && start >= 0) {
      while (line + 1 < file.lineStarts.length && file.lineStarts[line + 1]! <= start) line++;
    }
    const key = file === undefined ? "(compiler-generated)" : `${file.path}:${line + 1}`;
    const cost = byLine.get(key) ?? {
      file: file?.path ?? "(compiler-generated)",
      line: file === undefined ? 0 : line + 1,
      gas: 0,
      steps: 0,
      text: file?.lines[line]?.trim() ?? "",
    };
    cost.gas += log.gasCost;
    cost.steps += 1;
    byLine.set(key, cost);
  }
  return [...byLine.values()].sort((a, b) => b.gas - a.gas);
}

/** One function of the deployed code (a Solidity function or a compiler helper, not inlined). */
export interface FunctionCost {
  name: string;
  gas: number;
  /** Times its entry was reached. */
  entries: number;
}

/**
 * Each function's entry point in `code`, from the compiler's `functionDebugData`, which Hardhat
 * does not ask for: the job is compiled again with the same input and `solc` (the pinned
 * compiler, hardhat.config.ts), and the result must equal the deployed code.
 */
export async function functionEntries(code: CompiledCode): Promise<[number, string][]> {
  const { contractName } = code;
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string };
  const input = structuredClone(code.input) as { settings: Record<string, unknown> };
  input.settings.outputSelection = {
    [code.sourceKey]: { [contractName]: ["evm.deployedBytecode.object", "evm.deployedBytecode.functionDebugData"] },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    contracts: Record<
      string,
      Record<
        string,
        {
          evm: {
            deployedBytecode: { object: string; functionDebugData: Record<string, { entryPoint: number | null }> };
          };
        }
      >
    >;
  };
  const compiled = output.contracts[code.sourceKey]?.[contractName]?.evm.deployedBytecode;
  if (compiled?.object !== code.object) throw new Error(`${contractName} compiled again differs from its build`);
  return Object.entries(compiled.functionDebugData)
    .filter(([, f]) => f.entryPoint !== null)
    .map(([name, f]): [number, string] => [f.entryPoint!, name])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The own steps of the frame at `depth` starting at `logs[from]` (`ownSteps`), by the function
 * whose code they are in: the IR pipeline lays each function out in one piece, so a step belongs to the last
 * entry point at or before its program counter (steps before the first are the dispatcher's).
 */
export function functionProfile(
  logs: StructLog[],
  from: number,
  depth: number,
  entries: [number, string][],
): FunctionCost[] {
  const byName = new Map<string, FunctionCost>();
  for (const log of ownSteps(logs, from, depth)) {
    let [lo, hi] = [0, entries.length - 1];
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid]![0] <= log.pc) [found, lo] = [mid, mid + 1];
      else hi = mid - 1;
    }
    const name = found < 0 ? "(dispatcher)" : entries[found]![1];
    const cost = byName.get(name) ?? { name, gas: 0, entries: 0 };
    cost.gas += log.gasCost;
    if (found >= 0 && entries[found]![0] === log.pc) cost.entries += 1;
    byName.set(name, cost);
  }
  return [...byName.values()].sort((a, b) => b.gas - a.gas);
}
