import pino from "pino";
import { maxUint256, parseUnits } from "viem";

import { type Order, accountId, asAccountId, orderDomain, orderTypes, seriesId } from "@pledge/sdk";
import { type KeeperOptions, createKeeper } from "../../../packages/keeper/src/index.js";
import { expiryAfter, toContractsWad } from "../../../scripts/lib/population.js";
import type { World } from "./world.js";

const silent = pino({ level: process.env.KEEPER_LOG ?? "silent" });

/** The first keeper of `world` as users run it (every job unless `extra.jobs` says otherwise), logging nothing. */
export function keeperOf(world: World, extra: Partial<KeeperOptions> = {}) {
  const keeper = world.keepers[0]!;
  return createKeeper({
    publicClient: world.publicClient as never,
    walletClient: keeper.wallet as never,
    addressBook: world.book,
    bidderAccount: keeper.bidderAccount,
    logger: silent,
    ...extra,
  });
}

/** A keeper that only runs the backstop job (no bids, no settlement), so the waterfall is what acts. */
export function backstopKeeper(world: World, extra: Partial<KeeperOptions> = {}) {
  return keeperOf(world, { jobs: { liquidate: false, settle: false, marginCalls: false, backstop: true }, ...extra });
}

/** Deposits `usd` of USDC into the insurance fund's account (the deployment leaves it empty). */
export async function fundInsurance(world: World, usd: string) {
  const { usdc, vault, insurance } = world.contracts;
  const fund = await insurance.read.account();
  const account = world.keepers[0]!.wallet.account;
  await usdc.write.mint([account.address, parseUnits(usd, 6)]);
  await usdc.write.approve([vault.address, maxUint256], { account });
  await vault.write.deposit([fund, usdc.address, parseUnits(usd, 6)], { account });
}

/** BTC up until every trader is worth less than nothing; their auctions started and left unbid. Returns the BTC price. */
export async function bankruptAndUnbid(world: World) {
  const { engine, liquidator } = world.contracts;
  let btc = 60_000;
  for (;;) {
    const states = await engine.read.accountsMargin([world.traders]);
    if (states.every((s) => s.markValue < 0n)) break;
    btc = Math.round(btc * 1.05);
    await world.setSpot(btc);
  }
  for (const account of world.traders) await liquidator.write.startAuction([account]);
  return btc;
}

/**
 * Past the series' expiry with BTC posted at `btcUsd` (the settlement price), a settlement-only
 * keeper tick: the traders' shorts are settled, deep in the money a bare cash debt.
 */
export async function settleAtExpiry(world: World, btcUsd: number) {
  const now = (await world.publicClient.getBlock()).timestamp;
  await world.testClient.increaseTime({ seconds: Number(world.expiry - now) + 60 });
  await world.refreshFeeds(btcUsd);
  await keeperOf(world, { jobs: { liquidate: false, settle: true, marginCalls: false, backstop: false } }).tick();
}

/**
 * A fresh account (the trader's subaccount 77, $50,000 of USDC) sells `contracts` of a 30-day
 * at-the-money call on `underlyingIndex` (1 ETH, 2 BTC; strike `strikeUsd`, default the feed's
 * spot) to the market maker, at 99 % of its mark. Returns the account and the series.
 */
export async function sellCallToMaker(
  world: World,
  options: { underlyingIndex: 1 | 2; contracts: number; strikeUsd?: number },
) {
  const { market, vault, engine, usdc, ethUsd, btcUsd } = world.contracts;
  const [, makerWallet, traderWallet] = await world.connection.viem.getWalletClients();
  const block = await world.publicClient.getBlock();
  const feed = options.underlyingIndex === 1 ? ethUsd : btcUsd;
  const spot = options.strikeUsd ?? Number(await feed.read.latestAnswer()) / 1e8;
  const spec = {
    underlyingIndex: options.underlyingIndex,
    expiry: expiryAfter(Number(block.timestamp), 30),
    isCall: true,
    strikeWad: BigInt(Math.round(spot)) * 10n ** 18n,
  };
  await market.write.createSeries([spec]);
  const series = seriesId({ ...spec, expiry: BigInt(spec.expiry) });
  const seller = accountId(traderWallet!.account.address, 77n);
  await usdc.write.mint([traderWallet!.account.address, parseUnits("50000", 6)]);
  await vault.write.deposit([seller, usdc.address, parseUnits("50000", 6)], { account: traderWallet!.account });
  const size = toContractsWad(options.contracts);
  const order: Order = {
    account: world.marketMaker,
    seriesId: series,
    size,
    priceWad: ((await engine.read.mark([series])) * 99n) / 100n,
    taker: asAccountId(seller),
    nonce: 1_000n,
    deadline: block.timestamp + 86_400n,
  };
  const signature = await makerWallet!.signTypedData({
    domain: orderDomain(await world.publicClient.getChainId(), market.address),
    types: orderTypes,
    primaryType: "Order",
    message: order,
  });
  await market.write.fill([order, signature, seller, size], { account: traderWallet!.account });
  return { seller, series };
}
