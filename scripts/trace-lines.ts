import path from "node:path";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { encodeFunctionData } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import { accountId } from "../packages/sdk/src/index.js";
import { openBenchBook } from "./lib/benchBook.js";
import {
  compiledCodeOf,
  type CompiledCode,
  type FunctionCost,
  functionEntries,
  type LineCost,
  functionProfile,
  lineProfile,
} from "./lib/lineProfile.js";
import type { StructLog } from "./lib/trace.js";

/**
 * `npx hardhat run scripts/trace-lines.ts`: the margin checks' own gas by Solidity line, for
 * docs/performance.md ("Floors": what stands between a check and its target is code, and this
 * says which). Builds the bench's book (scripts/bench.ts: one short contract of each of n series,
 * half on ETH, half on BTC, four expiries) for a CROSS and a PORTFOLIO account, traces
 * `engine.accountMargin` of each (`debug_traceCall`) and prints the files, lines and functions that
 * spent the most of the engine frame's own gas (CROSS) and of the portfolio manager's (PORTFOLIO), with the code
 * each was compiled as (the build's job whose output matches the deployed code).
 * `TRACE_POSITIONS` sets n (16; the PORTFOLIO book only up to 32), `TRACE_TOP` how many lines to print (30).
 */
const positions = Number(process.env.TRACE_POSITIONS ?? 16);
const top = Number(process.env.TRACE_TOP ?? 30);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const connection = await network.create();
const { contracts } = await deployPledge(connection, { writeBook: false });
const { engine } = contracts;
const publicClient = await connection.viem.getPublicClient();
const [, makerWallet, takerWallet] = await connection.viem.getWalletClients();
if (!makerWallet || !takerWallet) throw new Error("need three wallet clients");

const { book, seriesIds } = await openBenchBook(connection, contracts, makerWallet, takerWallet, positions);

/** The account `sub` of the maker, in `mode` (0 CROSS, 2 PORTFOLIO), short one of each series. */
async function shortBook(sub: bigint, mode: number): Promise<bigint> {
  const maker = accountId(makerWallet!.account.address, sub);
  const taker = accountId(takerWallet!.account.address, sub);
  if (mode !== 0) await engine.write.setMarginMode([maker, mode], { account: makerWallet!.account });
  await book.sellEach(maker, taker, seriesIds);
  return maker;
}

/** The struct logs of `engine.accountMargin(account)`. */
async function traceCheck(account: bigint): Promise<{ logs: StructLog[]; gas: number }> {
  const data = encodeFunctionData({ abi: engine.abi, functionName: "accountMargin", args: [account] });
  const { structLogs, gas } = (await connection.provider.request({
    method: "debug_traceCall",
    params: [{ to: engine.address, data }, "latest", { disableMemory: true, disableStorage: true, disableStack: true }],
  })) as { structLogs: StructLog[]; gas: number };
  return { logs: structLogs, gas };
}

function printFunctions(functions: FunctionCost[]): void {
  console.log("  by function (own steps; compiler helpers by their Yul names):");
  console.log("       gas  entries  function");
  for (const f of functions.slice(0, top)) {
    console.log(`  ${String(f.gas).padStart(8)} ${String(f.entries).padStart(8)}  ${f.name}`);
  }
}

async function profile(title: string, logs: StructLog[], from: number, depth: number, code: CompiledCode) {
  print(title, lineProfile(logs, from, depth, code));
  printFunctions(functionProfile(logs, from, depth, await functionEntries(code)));
}

function print(title: string, lines: LineCost[]): void {
  const total = lines.reduce((sum, l) => sum + l.gas, 0);
  console.log(`\n== ${title}: ${total} gas of own steps on ${lines.length} lines; the top ${top}`);
  const byFile = new Map<string, number>();
  for (const l of lines) byFile.set(l.file, (byFile.get(l.file) ?? 0) + l.gas);
  console.log("  by file:");
  for (const [file, gas] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(`  ${String(gas).padStart(8)}  ${file.replace(/^contracts\//, "")}`);
  }
  console.log("       gas    steps  line");
  for (const l of lines.slice(0, top)) {
    const where = `${l.file.replace(/^contracts\//, "")}:${l.line}`;
    console.log(
      `  ${String(l.gas).padStart(8)} ${String(l.steps).padStart(8)}  ${where.padEnd(34)} ${l.text.slice(0, 90)}`,
    );
  }
}

// CROSS: the engine's own frame (depth 1).
{
  const { logs, gas } = await traceCheck(await shortBook(4001n, 0));
  const code = await compiledCodeOf(
    root,
    "contracts/engine/MarginEngine.sol",
    "MarginEngine",
    (await publicClient.getCode({ address: engine.address })) ?? "0x",
  );
  await profile(
    `standard check, ${positions} positions (${gas} gas as a transaction), the engine frame`,
    logs,
    0,
    1,
    code,
  );
}
// PORTFOLIO: the manager's frame (depth 2), the largest frame the engine calls. A PORTFOLIO
// account holds at most the engine's `portfolioPositionCap` (32 by default) series.
if (positions > 32) {
  console.log(`\n(no PORTFOLIO book: ${positions} positions is past the portfolio position cap of 32)`);
} else {
  const { logs, gas } = await traceCheck(await shortBook(4002n, 2));
  let [best, bestSteps] = [-1, 0];
  for (let i = 0; i < logs.length; i++) {
    if (logs[i]!.depth !== 2 || logs[i - 1]?.depth !== 1) continue;
    let steps = 0;
    for (let j = i; j < logs.length && logs[j]!.depth >= 2; j++) steps++;
    if (steps > bestSteps) [best, bestSteps] = [i, steps];
  }
  const manager = await engine.read.portfolioManager();
  const code = await compiledCodeOf(
    root,
    "contracts/engine/PortfolioManager.sol",
    "PortfolioManager",
    (await publicClient.getCode({ address: manager })) ?? "0x",
  );
  await profile(
    `PORTFOLIO check, ${positions} positions (${gas} gas as a transaction), the portfolio manager's frame`,
    logs,
    best,
    2,
    code,
  );
}
