/**
 * Pledge from ethers v6, with the TypeChain factories and the error decoder of
 * `@pledge/sdk/ethers`: deposit collateral, read the account's health, sell calls with an
 * order signed by ethers, and see the engine refuse a withdrawal, in a sentence.
 * Run: npx hardhat run examples/ethers.ts
 */
import { network } from "hardhat";
import type { Address } from "viem";

import {
  type Health,
  type Order,
  accountId,
  expiryAfter,
  healthName,
  orderDomain,
  orderTypes,
  seriesId,
} from "@pledge/sdk";
import {
  CollateralVault__factory,
  MarginEngine__factory,
  MockERC20__factory,
  OptionMarket__factory,
  decodePledgeErrorEthers,
} from "@pledge/sdk/ethers";

import { deployPledge } from "../deploy/deployPledge.js";

const connection = await network.create();
const { ethers } = connection;
const { book } = await deployPledge(connection, { writeBook: false });
const [, trader, buyer] = await ethers.getSigners();
if (!trader || !buyer) throw new Error("need two signers");

const vault = CollateralVault__factory.connect(book.contracts.CollateralVault, trader);
const engine = MarginEngine__factory.connect(book.contracts.MarginEngine, trader);
const market = OptionMarket__factory.connect(book.contracts.OptionMarket, trader);
const weth = MockERC20__factory.connect(book.collateral[0]!.address, trader);
const usdc = MockERC20__factory.connect(book.cash.address, buyer);

// An account id is (owner << 96) | subId.
const account = accountId(trader.address as Address, 1n);
const amount = ethers.parseUnits("2", 18);
await (await weth.mint(trader.address, amount)).wait();
await (await weth.approve(book.contracts.CollateralVault, amount)).wait();
await (await vault.deposit(account, weth, amount)).wait();
console.log(`deposited ${ethers.formatUnits(await vault.collateralOf(account, weth), 18)} WETH`);

const state = await engine.accountMargin(account);
console.log(`equityIM ${ethers.formatUnits(state.equityIM, 18)} USD`);
console.log(`equityMM ${ethers.formatUnits(state.equityMM, 18)} USD`);
console.log(`health ${healthName(Number(state.health) as Health)}`);

// A revert from the called contract decodes through its own interface too...
try {
  await vault.withdraw.staticCall(account, weth, amount + 1n, trader.address);
} catch (error) {
  const decoded = decodePledgeErrorEthers(error);
  console.log(`over-withdrawal refused: ${decoded?.errorName}: ${decoded?.message ?? String(error)}`);
}

// ...but one bubbled from another contract does not: the vault's interface has no engine
// errors, so ethers alone reports "unknown custom error". The trader sells a call, with an
// order its ethers signer signs, and then tries to take all its collateral out.
const WAD = 10n ** 18n;
const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
const series = { underlyingIndex: 1, expiry: expiryAfter(now, 30), isCall: true, strikeWad: 3_200n * WAD };
await (await market.createSeries(series)).wait();
const order: Order = {
  account,
  seriesId: seriesId(series),
  size: -WAD,
  priceWad: 120n * WAD,
  taker: 0n,
  nonce: 1n,
  deadline: now + 3_600n,
};
const { chainId } = await ethers.provider.getNetwork();
const signature = await trader.signTypedData(
  orderDomain(Number(chainId), book.contracts.OptionMarket),
  { Order: [...orderTypes.Order] },
  order,
);
const buyerAccount = accountId(buyer.address as Address, 1n);
const cash = ethers.parseUnits("1000", 6);
await (await usdc.mint(buyer.address, cash)).wait();
await (await usdc.approve(book.contracts.CollateralVault, cash)).wait();
await (await vault.connect(buyer).deposit(buyerAccount, usdc, cash)).wait();
await (await market.connect(buyer).fill(order, signature, buyerAccount, WAD)).wait();
console.log("sold 1 call at 120 USD");

try {
  await vault.withdraw.staticCall(account, weth, amount, trader.address);
} catch (error) {
  const data = (error as { data?: string }).data;
  console.log(
    `the vault's interface alone: ${(data && vault.interface.parseError(data)?.name) ?? "unknown custom error"}`,
  );
  const decoded = decodePledgeErrorEthers(error);
  console.log(`withdrawal refused: ${decoded?.errorName}: ${decoded?.message ?? String(error)}`);
}
