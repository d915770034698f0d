/**
 * Watch an account's health block by block, with the viem SDK, while ETH rallies
 * against its short calls. Run: npx hardhat run examples/watch-health.ts
 */
import { network } from "hardhat";
import { formatUnits, parseUnits } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import {
  createSeries,
  deposit,
  expiryAfter,
  fillOrder,
  getAccountId,
  getAccountMargin,
  Health,
  type MarginState,
  seriesId,
  signOrder,
} from "../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const connection = await network.create();
const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
const publicClient = await connection.viem.getPublicClient();
const [admin, writer, buyer] = await connection.viem.getWalletClients();
if (!admin || !writer || !buyer) throw new Error("need three wallets");

// A writer short 5 calls on 5,000 USDC, against a well-funded buyer.
const writerAccount = getAccountId(writer, { subId: 1n });
const buyerAccount = getAccountId(buyer, { subId: 1n });
const cash = addressBook.cash.address;
for (const [wallet, account, amount] of [
  [writer, writerAccount, "5000"],
  [buyer, buyerAccount, "100000"],
] as const) {
  await contracts.usdc.write.mint([wallet.account.address, parseUnits(amount, 6)]);
  await deposit(wallet, { publicClient, addressBook, account, asset: cash, amount: parseUnits(amount, 6) });
}
const now = (await publicClient.getBlock()).timestamp;
const series = {
  underlyingIndex: 1,
  expiry: expiryAfter(now, 14), // 08:00 UTC, the only time of day series expire
  isCall: true,
  strikeWad: 3_300n * WAD,
};
await createSeries(admin, { publicClient, addressBook, series });
const signedOrder = await signOrder(writer, {
  addressBook,
  order: {
    account: writerAccount,
    seriesId: seriesId(series),
    size: -5n * WAD,
    priceWad: 80n * WAD,
    taker: 0n,
    nonce: 1n,
    deadline: now + 3_600n,
  },
});
await fillOrder(buyer, { publicClient, addressBook, signedOrder, takerAccount: buyerAccount, fillSize: 5n * WAD });

const label = (s: MarginState) =>
  `${Object.keys(Health)[s.health]!.padEnd(12)} excessIM ${formatUnits(s.equityIM - s.requirementIM, 18)
    .slice(0, 10)
    .padStart(10)}  excessMM ${formatUnits(s.equityMM - s.requirementMM, 18)
    .slice(0, 10)
    .padStart(10)}`;

// Watch: on every new block, read the account's margin (one batched engine view).
let last: MarginState | undefined;
const unwatch = publicClient.watchBlockNumber({
  emitOnBegin: true,
  poll: true,
  pollingInterval: 50,
  onBlockNumber: async (block) => {
    const [state] = await getAccountMargin(publicClient, { addressBook, accounts: [writerAccount] });
    if (state === undefined) return;
    if (last === undefined || state.health !== last.health) console.log(`block ${block}: ${label(state)}`);
    last = state;
  },
});

// Drive the market: ETH rallies 100 USD per block.
for (let price = 3_000n; price <= 4_400n; price += 100n) {
  await contracts.ethUsd.write.updateAnswer([price * 10n ** 8n]);
  await new Promise((resolve) => setTimeout(resolve, 120));
}
unwatch();
if (last === undefined || last.health < Health.LIQUIDATABLE)
  throw new Error("expected the rally to make the account liquidatable");
console.log(`final: ${label(last)}`);
