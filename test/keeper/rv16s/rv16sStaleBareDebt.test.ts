/**
 * Review rv16s, finding A: docs/keeper.md ("The backstop job") says of the new bare-debt step
 * "A stale price does not hold it up: paying a debt at par needs none." In the keeper users run
 * (`createKeeper` with its default jobs) the liquidation job runs first in every tick and its
 * confirmation (`accountsMargin` over the planned accounts) reverts while a price a held position
 * needs is stale; the tick throws there and the backstop job never runs, so bare debts are not
 * paid while any feed is stale. A keeper running the backstop job alone pays them (control).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { maxUint256, parseUnits } from "viem";

import { type Order, accountId, asAccountId, orderDomain, orderTypes, seriesId } from "@pledge/sdk";
import { type KeeperOptions, createKeeper } from "../../../packages/keeper/src/index.js";
import { expiryAfter, toContractsWad } from "../../../scripts/lib/population.js";
import { type World, createWorld } from "../helpers/world.js";

const silent = pino({ level: process.env.KEEPER_LOG ?? "silent" });

function keeperOf(world: World, extra: Partial<KeeperOptions> = {}) {
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

async function fundInsurance(world: World, usd: string) {
  const { usdc, vault, insurance } = world.contracts;
  const fund = await insurance.read.account();
  const account = world.keepers[0]!.wallet.account;
  await usdc.write.mint([account.address, parseUnits(usd, 6)]);
  await usdc.write.approve([vault.address, maxUint256], { account });
  await vault.write.deposit([fund, usdc.address, parseUnits(usd, 6)], { account });
}

/** Same as test/keeper/backstop.test.ts: BTC up until every trader is worth < 0, auctions started. */
async function bankruptAndUnbid(world: World) {
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

describe("review rv16s A (regression): a stale price does not hold the bare-debt step up", () => {
  it("the default keeper pays a bare debt while a feed is stale, as the backstop-only keeper does", async () => {
    const world = await createWorld({ accounts: 2 });
    await fundInsurance(world, "5000000");
    const btc = await bankruptAndUnbid(world);
    const { market, vault, engine } = world.contracts;
    // The shorts expire deep in the money and are settled: nothing but a debt is left.
    const now = (await world.publicClient.getBlock()).timestamp;
    await world.testClient.increaseTime({ seconds: Number(world.expiry - now) + 60 });
    await world.refreshFeeds(btc);
    await keeperOf(world, { jobs: { liquidate: false, settle: true, marginCalls: false, backstop: false } }).tick();
    for (const account of world.traders) assert.ok((await vault.read.cashOf([account])) < 0n, "a bare debt");

    // Someone else holds a live position: a 30-day call the market maker buys from a fresh account.
    const wallets = await world.connection.viem.getWalletClients();
    const [, makerWallet, traderWallet] = wallets;
    const block = await world.publicClient.getBlock();
    const spec = {
      underlyingIndex: 2,
      expiry: expiryAfter(Number(block.timestamp), 30),
      isCall: true,
      strikeWad: BigInt(btc) * 10n ** 18n,
    };
    await market.write.createSeries([spec]);
    const series = seriesId({ ...spec, expiry: BigInt(spec.expiry) });
    const seller = accountId(traderWallet!.account.address, 77n);
    await world.contracts.usdc.write.mint([traderWallet!.account.address, parseUnits("50000", 6)]);
    await vault.write.deposit([seller, world.contracts.usdc.address, parseUnits("50000", 6)], {
      account: traderWallet!.account,
    });
    const size = toContractsWad(0.1);
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

    // Six hours later, no feed re-posted: BTC (and the vols) are stale.
    await world.testClient.increaseTime({ seconds: 6 * 3_600 });
    await world.testClient.mine({ blocks: 1 });

    // The keeper users run: every job (liquidation, settlement, margin calls, backstop).
    let tickError: unknown;
    await keeperOf(world)
      .tick()
      .catch((error: unknown) => (tickError = error));
    const afterDefault = await Promise.all(world.traders.map((a) => vault.read.cashOf([a])));
    // Control: the backstop job alone, same chain state.
    await keeperOf(world, { jobs: { liquidate: false, settle: false, marginCalls: false, backstop: true } }).tick();
    const afterBackstopOnly = await Promise.all(world.traders.map((a) => vault.read.cashOf([a])));
    assert.deepEqual(
      afterBackstopOnly,
      world.traders.map(() => 0n),
      "control: the backstop job alone pays them",
    );
    // The doc's claim: "A stale price does not hold it up".
    assert.deepEqual(
      afterDefault,
      world.traders.map(() => 0n),
      `the default keeper left the bare debts unpaid (${afterDefault.join(", ")}); its tick threw: ${String(tickError).slice(0, 300)}`,
    );
  });
});
