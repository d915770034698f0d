import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";
import { maxUint256, parseUnits } from "viem";

import { createKeeper } from "../../packages/keeper/src/index.js";
import {
  Health,
  accountId,
  asAccountId,
  createSeries,
  deposit,
  expiryAfter,
  fillOrder,
  getCashMarket,
  signOrder,
} from "@pledge/sdk";
import { createWorld } from "./helpers/world.js";

const WAD = 10n ** 18n;
const DAY = 86_400;
const SPOT = 60_000;

/**
 * Issue 15, item 4: nothing but interest takes an account below maintenance (no price moves, no
 * trade of its own), and the keeper, running as users run it, liquidates it. The keeper learns
 * of it without any event: the engine's views accrue interest to now, and the keeper confirms
 * accounts near maintenance every tick and everyone every `fullConfirmEvery` ticks.
 */
describe("keeper: interest alone takes an account below maintenance", () => {
  it("the keeper auctions and restores it; without interest it stays healthy", async () => {
    const world = await createWorld({ accounts: 0, spot: SPOT });
    const { vault, wbtc, engine, liquidator } = world.contracts;
    const { publicClient, testClient, book: addressBook } = world;
    const [admin, makerWallet, traderWallet] = await world.connection.viem.getWalletClients();
    if (!admin || !makerWallet || !traderWallet) throw new Error("need wallets");

    // A trader posts 1 WBTC, sells a 30-day call and pays most of its remaining initial margin
    // for a far put: it owes about 50,000 USDC and sits 100 USD above initial margin.
    const now = (await publicClient.getBlock()).timestamp;
    const expiry = expiryAfter(now, 30);
    const series = async (isCall: boolean, strike: number) =>
      (
        await createSeries(admin, {
          publicClient,
          addressBook,
          series: { underlyingIndex: 2, expiry, isCall, strikeWad: BigInt(strike) * WAD },
        })
      ).result;
    const [call, put] = [await series(true, SPOT), await series(false, SPOT / 2)];
    const trader = accountId(traderWallet.account.address, 7n);
    await wbtc.write.mint([traderWallet.account.address, parseUnits("1", 8)]);
    await wbtc.write.approve([vault.address, maxUint256], { account: traderWallet.account });
    await deposit(traderWallet, { publicClient, addressBook, account: trader, asset: wbtc.address, amount: 10n ** 8n });
    let nonce = 1_000n;
    const trade = async (seriesId: typeof call, makerSize: bigint, priceWad: bigint) => {
      const signedOrder = await signOrder(makerWallet, {
        addressBook,
        order: {
          account: asAccountId(world.marketMaker),
          seriesId,
          size: makerSize,
          priceWad,
          taker: 0n,
          nonce: ++nonce,
          deadline: now + 365n * 86_400n,
        },
      });
      const fillSize = makerSize < 0n ? -makerSize : makerSize;
      await fillOrder(traderWallet, { publicClient, addressBook, signedOrder, takerAccount: trader, fillSize });
    };
    await trade(call, WAD / 5n, await engine.read.mark([call]));
    const excess = await engine.read.excessInitial([trader]);
    await trade(put, -WAD, excess - 100n * WAD);
    assert.ok((await vault.read.cashOf([trader])) < -40_000n * 10n ** 6n, "the trader owes cash");
    assert.equal((await engine.read.accountMargin([trader])).health, Health.HEALTHY);

    // Governance sets a steep rate: 450 % a year.
    const model = await world.connection.viem.deployContract("KinkRateModel", [
      { baseRateWad: (45n * WAD) / 10n, slope1Wad: 0n, slope2Wad: 0n, kinkWad: (8n * WAD) / 10n },
    ]);
    await vault.write.setRateModel([model.address]);
    const { borrowAprWad } = await getCashMarket(publicClient, { addressBook });
    assert.ok(borrowAprWad > 449n * 10n ** 16n && borrowAprWad <= 450n * 10n ** 16n);

    // The same days at the zero rate leave it healthy: time decay is on its side, prices are still.
    const before = await testClient.snapshot();
    await vault.write.setRateModel(["0x0000000000000000000000000000000000000000"]);
    await testClient.increaseTime({ seconds: 20 * DAY });
    await world.refreshFeeds(SPOT);
    assert.equal((await engine.read.accountMargin([trader])).health, Health.HEALTHY);
    await testClient.revert({ id: before });

    const keeper = createKeeper({
      publicClient: publicClient as never,
      walletClient: world.keepers[0]!.wallet as never,
      addressBook,
      bidderAccount: world.keepers[0]!.bidderAccount,
      logger: pino({ level: process.env.KEEPER_LOG ?? "silent" }),
    });
    await keeper.tick();
    assert.equal(keeper.stats().auctionsStarted, 0);
    let days = 0;
    let wasBelow = false;
    while (!keeper.stats().liquidations.some((l) => l.account === trader)) {
      assert.ok(++days <= 20, "the keeper never liquidated the account");
      await testClient.increaseTime({ seconds: DAY });
      await world.refreshFeeds(SPOT);
      wasBelow ||= (await engine.read.accountMargin([trader])).health >= Health.LIQUIDATABLE;
      for (let tick = 0; tick < 3; tick++) await keeper.tick();
    }
    assert.ok(wasBelow, "liquidated before interest took it below maintenance");
    // The keeper finishes the job: the auction closes with the account restored, and nobody lost.
    for (let tick = 0; tick < 10 && (await liquidator.read.auctionOf([trader])).active; tick++) {
      await testClient.increaseTime({ seconds: 60 });
      await keeper.tick();
    }
    assert.equal((await liquidator.read.auctionOf([trader])).active, false);
    assert.ok((await engine.read.accountMargin([trader])).health < Health.LIQUIDATABLE);
    assert.equal(await liquidator.read.badDebt(), 0n);
    await keeper.stop();
  });
});
