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

import { createKeeper } from "../../../packages/keeper/src/index.js";
import { createWorld } from "../helpers/world.js";
import { sellCallToMaker } from "../helpers/backstopWorld.js";

const silent = pino({ level: process.env.KEEPER_LOG ?? "silent" });

describe("review rv16s E (regression): one stale feed no longer halts the keeper", () => {
  it("BTC accounts below MM are auctioned while an ETH position's feed is stale; the ETH account is left out", async () => {
    const world = await createWorld({ accounts: 2 });
    const { engine, liquidator, btcVol } = world.contracts;
    // An ETH call the market maker buys from a fresh account (ETH is underlying 1).
    await sellCallToMaker(world, { underlyingIndex: 1, contracts: 1 });

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
