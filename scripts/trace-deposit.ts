import { network } from "hardhat";
import { type Hash, maxUint256, parseUnits } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import { accountId } from "../packages/sdk/src/index.js";

/**
 * `npx hardhat run scripts/trace-deposit.ts`: where a vault deposit's gas goes, for the breakdown
 * in docs/performance.md ("Where the gas goes"). Replays the bench's first WETH deposit, its
 * top-up and its cash deposit on a fresh deployment, then a top-up after an unlimited approval,
 * and prints, from `debug_traceTransaction`, the intrinsic gas, every storage access, call and
 * event with its cost, and each external call's total. Gas is deterministic; nothing is timed.
 */
interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

const connection = await network.create();
const { contracts } = await deployPledge(connection, { writeBook: false });
const { vault, usdc, weth } = contracts;
const publicClient = await connection.viem.getPublicClient();
const [, makerWallet] = await connection.viem.getWalletClients();
if (!makerWallet) throw new Error("need two wallet clients");
const trader = makerWallet.account.address;
const asTrader = { account: makerWallet.account };
const names: Record<string, string> = {
  [vault.address.toLowerCase()]: "vault",
  [weth.address.toLowerCase()]: "weth",
  [usdc.address.toLowerCase()]: "usdc",
};
const WATCHED = /^(SLOAD|SSTORE|CALL|STATICCALL|LOG\d|TLOAD|TSTORE)$/;

async function trace(name: string, send: () => Promise<Hash>): Promise<void> {
  const hash = await send();
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  const { structLogs: logs } = (await connection.provider.request({
    method: "debug_traceTransaction",
    params: [hash, { disableMemory: true, disableStorage: true }],
  })) as { structLogs: StructLog[] };
  const start = logs[0]?.gas ?? 0;
  console.log(`\n== ${name}: ${receipt.gasUsed} gas, intrinsic ${Number(receipt.gasUsed) - start}`);
  logs.forEach((log, i) => {
    if (!WATCHED.test(log.op)) return;
    const stack = log.stack ?? [];
    const top = stack[stack.length - 1] ?? "";
    let detail = "";
    if (/LOAD|STORE/.test(log.op)) detail = `slot ${top}`;
    if (log.op.endsWith("CALL")) {
      const to = `0x${(stack[stack.length - 2] ?? "").replace(/^0x/, "").padStart(40, "0").slice(-40)}`;
      detail = `to ${names[to] ?? to}`;
      if (log.depth === 1) {
        let j = i + 1;
        while (j < logs.length && logs[j]!.depth !== 1) j++;
        detail += `, whole call ${log.gas - (logs[j]?.gas ?? 0)}`;
      }
    }
    const cost = log.op.endsWith("CALL") ? "" : ` ${log.gasCost}`;
    console.log(`  depth ${log.depth} ${log.op}${cost} ${detail}`);
  });
}

const account = accountId(trader, 1n);
await weth.write.mint([trader, parseUnits("10", 18)]);
await usdc.write.mint([trader, parseUnits("10000", 6)]);
await weth.write.approve([vault.address, parseUnits("10", 18)], asTrader);
await usdc.write.approve([vault.address, parseUnits("10000", 6)], asTrader);
await trace("collateral, first", () => vault.write.deposit([account, weth.address, parseUnits("5", 18)], asTrader));
await trace("collateral, top-up", () => vault.write.deposit([account, weth.address, parseUnits("1", 18)], asTrader));
await trace("cash", () => vault.write.deposit([account, usdc.address, parseUnits("5000", 6)], asTrader));

// The same top-up after an unlimited approval: OpenZeppelin's ERC-20 then skips the allowance write.
const second = accountId(trader, 2n);
await weth.write.approve([vault.address, maxUint256], asTrader);
await vault.write.deposit([second, weth.address, parseUnits("1", 18)], asTrader);
await trace("collateral, top-up, unlimited approval", () =>
  vault.write.deposit([second, weth.address, parseUnits("1", 18)], asTrader),
);
