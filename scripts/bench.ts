import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { type Hash, parseUnits } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";

/**
 * `npm run bench`: gas per operation on the in-process chain, printed as a table and
 * written to bench/gas.json (committed, so every change shows up as a diff). Gas is
 * deterministic here; nothing is timed.
 */
const connection = await network.create();
const { contracts } = await deployPledge(connection, { writeBook: false });
const publicClient = await connection.viem.getPublicClient();
const [trader] = await connection.viem.getWalletClients();
if (!trader) throw new Error("no wallet client");
const account = (BigInt(trader.account.address) << 96n) | 1n;

const gas: Record<string, number> = {};
async function measure(name: string, send: () => Promise<Hash>): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await send() });
  if (receipt.status !== "success") throw new Error(`${name} reverted`);
  gas[name] = Number(receipt.gasUsed);
}

const { vault, usdc, weth } = contracts;
await weth.write.mint([trader.account.address, parseUnits("10", 18)]);
await usdc.write.mint([trader.account.address, parseUnits("10000", 6)]);
await weth.write.approve([vault.address, parseUnits("10", 18)]);
await usdc.write.approve([vault.address, parseUnits("10000", 6)]);

await measure("vault.deposit (collateral, first)", () =>
  vault.write.deposit([account, weth.address, parseUnits("5", 18)]),
);
await measure("vault.deposit (collateral, top-up)", () =>
  vault.write.deposit([account, weth.address, parseUnits("1", 18)]),
);
await measure("vault.deposit (cash)", () => vault.write.deposit([account, usdc.address, parseUnits("5000", 6)]));
await measure("vault.withdraw (collateral, partial)", () =>
  vault.write.withdraw([account, weth.address, parseUnits("1", 18), trader.account.address]),
);
await measure("vault.withdraw (cash, partial)", () =>
  vault.write.withdraw([account, usdc.address, parseUnits("1000", 6), trader.account.address]),
);

console.table(Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, { gas: v }])));
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bench/gas.json");
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify({ note: "gasUsed per transaction on the in-process chain", gas }, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
