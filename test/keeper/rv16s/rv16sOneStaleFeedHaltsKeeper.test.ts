/**
 * Review rv16s, observation E (pre-existing, outside the diff, found while checking A): one stale
 * feed halts the whole keeper. `getAccountMargin` reads `accountsMargin` per chunk with no
 * per-account fallback, so one confirmed account holding a position on an underlying whose feed is
 * stale reverts the confirmation; the liquidation job throws and, with no per-job catch in
 * `tick()`, nothing else runs. Here ETH's feeds go stale (ETH/USD and ETH vol not re-posted) while
 * BTC's are fresh, and BTC shorts fall below maintenance: the default keeper starts no auction on
 * them, tick after tick.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { parseUnits } from "viem";

import { type Order, accountId, asAccountId, orderDomain, orderTypes, seriesId } from "@pledge/sdk";
import { createKeeper } from "../../../packages/keeper/src/index.js";
import { expiryAfter, toContractsWad } from "../../../scripts/lib/population.js";
import { createWorld } from "../helpers/world.js";

const silent = pino({ level: process.env.KEEPER_LOG ?? "silent" });

describe("review rv16s E (regression): one stale feed no longer halts the keeper", () => {
  it("BTC accounts below MM are auctioned while an ETH position's feed is stale; the ETH account is left out", async () => {
    const world = await createWorld({ accounts: 2 });
    const { market, vault, engine, liquidator, usdc, btcVol } = world.contracts;
    // An ETH call the market maker buys from a fresh account (ETH is underlying 1).
    const [, makerWallet, traderWallet] = await world.connection.viem.getWalletClients();
    const block = await world.publicClient.getBlock();
    const ethSpot = Number(await world.contracts.ethUsd.read.latestAnswer()) / 1e8;
    const spec = {
      underlyingIndex: 1,
      expiry: expiryAfter(Number(block.timestamp), 30),
      isCall: true,
      strikeWad: BigInt(Math.round(ethSpot)) * 10n ** 18n,
    };
    await market.write.createSeries([spec]);
    const series = seriesId({ ...spec, expiry: BigInt(spec.expiry) });
    const seller = accountId(traderWallet!.account.address, 77n);
    await usdc.write.mint([traderWallet!.account.address, parseUnits("50000", 6)]);
    await vault.write.deposit([seller, usdc.address, parseUnits("50000", 6)], { account: traderWallet!.account });
    const size = toContractsWad(1);
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

    // Three hours on: BTC's feeds re-posted (fresh), ETH's not (stale). BTC up 20 %.
    await world.testClient.increaseTime({ seconds: 3 * 3_600 });
    const [, volAnswer] = await btcVol.read.latestRoundData();
    await btcVol.write.updateAnswer([volAnswer]);
    await world.setSpot(72_000);
    const states = await engine.read.accountsMargin([world.traders]);
    assert.ok(
      states.every((s) => s.health >= 2),
      "the BTC shorts are below maintenance",
    );

    const keeper = world.keepers[0]!;
    const k = createKeeper({
      publicClient: world.publicClient as never,
      walletClient: keeper.wallet as never,
      addressBook: world.book,
      bidderAccount: keeper.bidderAccount,
      logger: silent,
    });
    const errors: string[] = [];
    for (let i = 0; i < 3; i++) await k.tick().catch((e: unknown) => errors.push(String(e).slice(0, 160)));
    assert.deepEqual(errors, [], "a job's failure no longer throws out of the tick");
    // Every BTC account below MM was auctioned (and bid on): their valuation needs BTC's feeds
    // only; the ETH seller, whose valuation the engine refuses, was left out and counted.
    const logs = await world.publicClient.getContractEvents({
      address: liquidator.address,
      abi: liquidator.abi,
      eventName: "AuctionStarted",
      fromBlock: 0n,
    });
    const auctioned = new Set(logs.map((l) => l.args.account));
    for (const a of world.traders) assert.ok(auctioned.has(a), `BTC account ${a} auctioned despite ETH's stale feed`);
    assert.equal(k.stats().failures, 0, "no job failed: the refused account was left out, not fatal");
  });
});
