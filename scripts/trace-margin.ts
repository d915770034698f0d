import { network } from "hardhat";
import { encodeFunctionData } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import { portfolioManagerCode } from "../deploy/lib/pledgeCore.js";
import { accountId } from "../packages/sdk/src/index.js";
import { openBenchBook } from "./lib/benchBook.js";
import { buildTree, type Frame, newFrame, pledgeNames, printRepeats, printTree, type StructLog } from "./lib/trace.js";

/**
 * `npx hardhat run scripts/trace-margin.ts`: where a standard margin check's gas goes, for
 * docs/performance.md ("Where the gas goes"). Builds the bench's book (scripts/bench.ts, "margin
 * check vs portfolio size": a CROSS account short one contract of each of n series, half on ETH,
 * half on BTC, four expiries) at 16 and 128 positions and prints, from `debug_traceCall` of
 * `engine.accountMargin`, the call tree with each frame's storage, memory and own gas, the calls
 * by caller, and the engine frame's own gas by opcode. `TRACE_POSITIONS=1,16` picks the sizes.
 * Then the gas of each piece of one short position (`contracts/test/StandardMarginProbe.sol`, an
 * engine compiled with the engine's settings, its prices cached), for the series of the book.
 */
const sizes = (process.env.TRACE_POSITIONS ?? "16,128").split(",").map(Number);
const connection = await network.create();
const { contracts } = await deployPledge(connection, { writeBook: false });
const { vault, engine, oracle } = contracts;
const [, makerWallet, takerWallet] = await connection.viem.getWalletClients();
if (!makerWallet || !takerWallet) throw new Error("need three wallet clients");
const nameOf = await pledgeNames(contracts);

const { book, seriesIds } = await openBenchBook(connection, contracts, makerWallet, takerWallet, Math.max(...sizes));

/** Adds each opcode's cost in `frame`'s own steps (not its callees') to `byOp`. */
function ownOpcodes(logs: StructLog[], depth: number, byOp: Map<string, number>): void {
  for (const log of logs) {
    if (log.depth !== depth || /CALL$/.test(log.op)) continue;
    byOp.set(log.op, (byOp.get(log.op) ?? 0) + log.gasCost);
  }
}

for (const size of sizes) {
  const maker = accountId(makerWallet.account.address, 1000n + BigInt(size));
  const taker = accountId(takerWallet.account.address, 1000n + BigInt(size));
  await book.sellEach(maker, taker, seriesIds.slice(0, size));
  const data = encodeFunctionData({ abi: engine.abi, functionName: "accountMargin", args: [maker] });
  const { structLogs: logs, gas } = (await connection.provider.request({
    method: "debug_traceCall",
    params: [{ to: engine.address, data }, "latest", { disableMemory: true, disableStorage: true }],
  })) as { structLogs: StructLog[]; gas: number };
  const root: Frame = newFrame(engine.address.toLowerCase(), engine.address.toLowerCase(), "CALL", 1);
  root.inclusive = (logs[0]?.gas ?? 0) - (logs[logs.length - 1]?.gas ?? 0) + (logs[logs.length - 1]?.gasCost ?? 0);
  const reads = new Map<string, number>();
  buildTree(logs, root, reads, nameOf);
  console.log(`\n== engine.accountMargin, ${size} positions: ${gas} gas as a transaction, ${root.inclusive} executed`);
  printTree(root, "  ", nameOf);
  printRepeats(root, reads, "engine", nameOf);
  const byOp = new Map<string, number>();
  ownOpcodes(logs, 1, byOp);
  const top = [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log(`  the engine frame's own steps by opcode (top 25 of ${byOp.size}):`);
  for (const [op, cost] of top) console.log(`    ${op.padEnd(14)} ${cost}`);
}

// Per-piece own gas of one short position, from the probe engine (the same registry as the engine).
const [admin] = await connection.viem.getWalletClients();
if (!admin) throw new Error("need a wallet client");
const probe = await connection.viem.deployContract("StandardMarginProbe", [
  admin.account.address,
  vault.address,
  oracle.address,
  portfolioManagerCode(),
]);
const count = await engine.read.underlyingCount();
for (let index = 1; index <= count; index++) {
  const { asset, params } = await engine.read.underlying([index]);
  await probe.write.listUnderlying([asset, params]);
}
const surface = await engine.read.volSurface();
if (BigInt(surface) !== 0n) await probe.write.setVolSurface([surface]);
const totals = { lnMoneyness: 0n, callPriceLn: 0n, markOf: 0n, position: 0n, requirements: 0n, callPriceAt: 0n };
const probed = seriesIds.slice(0, 16);
console.log("\n== one short position's pieces, own gas (probe engine, prices cached)");
console.log("    series  lnMoneyness  callPriceLn  _markOf  _position  requirements  callPriceAt");
for (const [i, id] of probed.entries()) {
  const [g] = await probe.read.pieces([id, -(10n ** 18n)]);
  for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += g[key];
  const cells = [g.lnMoneyness, g.callPriceLn, g.markOf, g.position, g.requirements, g.callPriceAt].map((v, k) =>
    String(v).padStart([11, 12, 8, 10, 13, 12][k]!),
  );
  console.log(`    ${String(i).padStart(6)} ${cells.join(" ")}`);
}
const mean = (v: bigint): string => String(v / BigInt(probed.length)).padStart(0);
console.log(
  `    mean:   lnMoneyness ${mean(totals.lnMoneyness)}, callPriceLn ${mean(totals.callPriceLn)}, ` +
    `_markOf ${mean(totals.markOf)}, _position ${mean(totals.position)}, requirements ${mean(totals.requirements)}, ` +
    `callPriceAt (a portfolio scenario cell's price) ${mean(totals.callPriceAt)}`,
);
