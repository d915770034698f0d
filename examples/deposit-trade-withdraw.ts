/**
 * Deposit → trade → check margin → withdraw, with the viem SDK, on the in-process chain.
 * Run: npx hardhat run examples/deposit-trade-withdraw.ts
 */
import { network } from "hardhat";
import { formatUnits, parseUnits } from "viem";

import { deployPledge } from "../deploy/deployPledge.js";
import {
  Account,
  createSeries,
  deposit,
  expiryAfter,
  fillOrder,
  getAccountId,
  getAccountMargin,
  getBalances,
  getMarginInputs,
  getPositions,
  Health,
  seriesId,
  signOrder,
  withdraw,
} from "../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const usd = (wad: bigint) => `${formatUnits(wad, 18)} USD`;

const connection = await network.create();
const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
const publicClient = await connection.viem.getPublicClient();
const [admin, writer, buyer] = await connection.viem.getWalletClients();
if (!admin || !writer || !buyer) throw new Error("need three wallets");

// Local-chain stand-in for buying USDC: the mock token mints.
await contracts.usdc.write.mint([writer.account.address, parseUnits("20000", 6)]);
await contracts.usdc.write.mint([buyer.account.address, parseUnits("20000", 6)]);

// 1. Deposit: each trader funds a subaccount.
const writerAccount = getAccountId(writer, { subId: 1n });
const buyerAccount = getAccountId(buyer, { subId: 1n });
const cash = addressBook.cash.address;
await deposit(writer, {
  publicClient,
  addressBook,
  account: writerAccount,
  asset: cash,
  amount: parseUnits("10000", 6),
});
await deposit(buyer, {
  publicClient,
  addressBook,
  account: buyerAccount,
  asset: cash,
  amount: parseUnits("10000", 6),
  permit: true,
});
console.log("deposited 10,000 USDC into each account");

// 2. Trade: a 30-day 3,200 ETH call, sold by the writer at 120 USD and filled by the buyer.
const now = (await publicClient.getBlock()).timestamp;
const series = {
  underlyingIndex: 1,
  expiry: expiryAfter(now, 30), // 08:00 UTC, the only time of day series expire
  isCall: true,
  strikeWad: 3_200n * WAD,
};
await createSeries(admin, { publicClient, addressBook, series });
const signedOrder = await signOrder(writer, {
  addressBook,
  order: {
    account: writerAccount,
    seriesId: seriesId(series),
    size: -2n * WAD,
    priceWad: 120n * WAD,
    taker: 0n,
    nonce: 1n,
    deadline: now + 3_600n,
  },
});
const { result: premium } = await fillOrder(buyer, {
  publicClient,
  addressBook,
  signedOrder,
  takerAccount: buyerAccount,
  fillSize: 2n * WAD,
});
console.log(`filled 2 calls for a premium of ${formatUnits(premium, 6)} USDC`);
console.log("writer positions:", await getPositions(publicClient, { addressBook, account: writerAccount }));

// 3. Check margin, on chain and with the SDK's exact mirror.
const [state] = await getAccountMargin(publicClient, { addressBook, accounts: [writerAccount] });
if (!state) throw new Error("no margin state");
console.log(
  `writer: equityIM ${usd(state.equityIM)}, requirementIM ${usd(state.requirementIM)}, health ${Object.keys(Health)[state.health]}`,
);
const account = new Account(await getMarginInputs(publicClient, { addressBook, account: writerAccount }));
const mirror = account.margin();
if (mirror.equityIM !== state.equityIM || mirror.requirementIM !== state.requirementIM)
  throw new Error("SDK and chain disagree");
console.log("the SDK computes the same margin, to the wei");
const rally = account.withPrice(1, 4_000n * WAD);
console.log(`if ETH went to 4,000: health ${Object.keys(Health)[rally.margin().health]}`);
console.log(`liquidation price (ETH up): ${usd(account.liquidationPrice(1, "up", 100_000n * WAD) ?? 0n)}`);

// 4. Withdraw the most the writer can while staying at initial margin.
const max = account.maxWithdrawableCash();
await withdraw(writer, {
  publicClient,
  addressBook,
  account: writerAccount,
  asset: cash,
  amount: max,
  to: writer.account.address,
});
const balances = await getBalances(publicClient, { addressBook, account: writerAccount });
console.log(`withdrew ${formatUnits(max, 6)} USDC; ${formatUnits(balances.cash, 6)} USDC left as margin`);
const [after] = await getAccountMargin(publicClient, { addressBook, accounts: [writerAccount] });
console.log(`excess over IM after the withdrawal: ${usd(after!.equityIM - after!.requirementIM)}`);
