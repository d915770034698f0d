import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import pino from "pino";
import { keccak256, toHex } from "viem";

import { type Keeper, type KeeperOptions, createKeeper } from "../../packages/keeper/src/index.js";
import { Health, asAccountId, decodeSeries, formatAccount } from "@pledge/sdk";
import { countingClients } from "../../packages/keeper/src/clients.js";
import { createReaders } from "../../packages/keeper/src/readers.js";
import { openStore } from "../../packages/keeper/src/store.js";
import { type World, createWorld } from "./helpers/world.js";

const silent = pino({ level: process.env.KEEPER_LOG ?? "silent" });

function keeperFor(world: World, which = 0, extra: Partial<KeeperOptions> = {}): Keeper {
  const keeper = world.keepers[which]!;
  return createKeeper({
    publicClient: world.publicClient as never,
    walletClient: keeper.wallet as never,
    addressBook: world.book,
    bidderAccount: keeper.bidderAccount,
    logger: silent,
    ...extra,
  });
}

/** Ticks the keepers in turn until a full round changes nothing (no auction open, no sends). */
async function tickUntilQuiet(world: World, keepers: Keeper[], maxRounds = 40) {
  const { liquidator } = world.contracts;
  for (let round = 0; round < maxRounds; round++) {
    const before = keepers.map((k) => sendsOf(k)).reduce((a, b) => a + b, 0);
    for (const keeper of keepers) await keeper.tick();
    const after = keepers.map((k) => sendsOf(k)).reduce((a, b) => a + b, 0);
    let open = 0;
    for (const account of world.traders) if ((await liquidator.read.auctionOf([account])).active) open++;
    if (open === 0 && after === before) return round;
    // Let the discount grow for auctions nobody could take yet.
    if (after === before) await world.testClient.increaseTime({ seconds: 60 });
  }
  throw new Error("keepers did not go quiet");
}

function sendsOf(keeper: Keeper) {
  const s = keeper.stats();
  return s.auctionsStarted + s.bids + s.settled + s.pricesPosted;
}

async function belowMM(world: World) {
  const states = await world.contracts.engine.read.accountsMargin([world.traders]);
  return world.traders.filter((_, i) => states[i]!.health >= Health.LIQUIDATABLE);
}

async function assertResolved(world: World, flagged: readonly bigint[]) {
  const { liquidator, engine } = world.contracts;
  for (const account of flagged) {
    assert.equal((await liquidator.read.auctionOf([account])).active, false, `auction still open on ${account}`);
    const state = await engine.read.accountMargin([account]);
    assert.ok(state.health < Health.LIQUIDATABLE, `account ${account} still below MM`);
  }
  assert.equal(await liquidator.read.badDebt(), 0n);
}

describe("keeper", () => {
  it("liquidates every account a crash pushes below maintenance", async () => {
    const world = await createWorld({ accounts: 20 });
    const keeper = keeperFor(world);
    await keeper.tick();
    assert.equal(keeper.stats().auctionsStarted, 0, "nothing to do before the move");
    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    assert.ok(flagged.length >= 10, `only ${flagged.length} accounts fell below MM`);
    await tickUntilQuiet(world, [keeper]);
    await assertResolved(world, flagged);
    const stats = keeper.stats();
    assert.equal(stats.auctionsStarted, flagged.length);
    assert.ok(stats.bids >= flagged.length);
    for (const liquidation of stats.liquidations) {
      // Profitable at the starting discount: one transaction starts the auction and bids.
      assert.equal(liquidation.bidBlock, liquidation.auctionBlock);
      assert.ok(liquidation.priceBlock !== undefined && liquidation.priceBlock < liquidation.auctionBlock);
    }
  });

  it("liquidates portfolio-margined accounts the same way", async () => {
    const world = await createWorld({ accounts: 12, portfolio: true });
    const modes = await Promise.all(world.traders.map((a) => world.contracts.engine.read.marginModeOf([a])));
    assert.ok(
      modes.every((mode) => mode === 2),
      "traders are on portfolio margin",
    );
    const keeper = keeperFor(world);
    await keeper.tick();
    assert.equal(keeper.stats().auctionsStarted, 0, "nothing to do before the move");
    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    assert.ok(flagged.length >= 6, `only ${flagged.length} accounts fell below MM`);
    await tickUntilQuiet(world, [keeper]);
    await assertResolved(world, flagged);
    assert.equal(keeper.stats().auctionsStarted, flagged.length);
  });

  it("starts and bids on every account in the block right after the price update (automine off)", async () => {
    const world = await createWorld({ accounts: 10 });
    const keeper = keeperFor(world, 0, { pollIntervalMs: 10 });
    await keeper.tick();
    await world.setSpot(69_000);
    const priceBlock = await world.publicClient.getBlockNumber();
    const flagged = await belowMM(world);
    assert.ok(flagged.length >= 5);
    const address = world.keepers[0]!.wallet.account.address;
    const nonce = await world.publicClient.getTransactionCount({ address });
    await world.testClient.setAutomine(false);
    const ticking = keeper.tick();
    // Every bid goes out in one bidMany before anything is mined.
    while ((await world.publicClient.getTransactionCount({ address, blockTag: "pending" })) < nonce + 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await world.testClient.mine({ blocks: 1 });
    await ticking;
    await world.testClient.setAutomine(true);
    assert.equal(await world.publicClient.getTransactionCount({ address }), nonce + 1, "one transaction");
    const { liquidations } = keeper.stats();
    assert.deepEqual(liquidations.map((l) => l.account).sort(), [...flagged].sort());
    for (const l of liquidations) {
      assert.equal(l.priceBlock, priceBlock);
      assert.equal(l.auctionBlock, priceBlock + 1n, "started in the next block");
      assert.equal(l.bidBlock, priceBlock + 1n, "first bid in the next block");
    }
    await assertResolved(world, flagged);
  });

  it("confirms on chain only accounts the float ranking puts near MM, and misses none", async () => {
    const world = await createWorld({ accounts: 20 });
    // No full re-confirmation and no price-move trigger: the ranking alone must find them.
    const keeper = keeperFor(world, 0, { nearRatio: 0.2, fullConfirmEvery: 1_000, priceMoveWad: 10n ** 18n });
    await keeper.tick();
    const first = keeper.stats();
    assert.equal(first.fullConfirmations, 1);
    // Everyone valued: locally, exactly (issue 19), or on chain (the rest and the cross-checks).
    assert.ok(first.accountsValuedLocally > 0, "valued locally");
    assert.ok(
      first.accountsValuedLocally + first.accountsConfirmed >= first.accountsRanked,
      "the first tick values everyone",
    );
    await keeper.tick();
    const quiet = keeper.stats();
    const indexed = quiet.accountsRanked - first.accountsRanked;
    assert.ok(indexed >= world.traders.length);
    assert.ok(quiet.accountsValuedLocally - first.accountsValuedLocally < indexed / 2, "most accounts skipped");
    assert.ok(quiet.accountsConfirmed - first.accountsConfirmed < indexed / 2, "most accounts not read on chain");
    // A quiet tick costs a handful of requests, however many accounts there are.
    assert.ok(quiet.rpcCalls - first.rpcCalls <= 6, `${quiet.rpcCalls - first.rpcCalls} requests in a quiet tick`);
    assert.ok(quiet.rankingMs >= 0);

    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    assert.ok(flagged.length >= 10);
    await tickUntilQuiet(world, [keeper]);
    await assertResolved(world, flagged);
    const stats = keeper.stats();
    assert.equal(stats.fullConfirmations, 1, "found without a full pass");
    assert.equal(stats.valuationMismatches, 0, "every cross-check equal to the chain");
    assert.equal(stats.auctionsStarted, flagged.length);
    assert.equal(new Set(stats.liquidations.map((l) => l.account)).size, flagged.length);
  });

  it("reads the auctions and previews of 48 accounts below MM at once: each batch's answer fits a deployless call", async () => {
    // A deployless multicall answers as contract code, capped at 24,576 bytes (EIP-170); 40 or
    // more `auctionOf` + `previewBid` pairs in one batch used to exceed it and revert.
    const world = await createWorld({ accounts: 48 });
    await world.setSpot(80_000);
    const flagged = await belowMM(world);
    assert.equal(flagged.length, world.traders.length, "every trader below MM");
    let calls = 0;
    const { publicClient } = countingClients(
      world.publicClient as never,
      world.keepers[0]!.wallet as never,
      () => calls++,
    );
    const block = await publicClient.getBlockNumber();
    calls = 0;
    const auctions = await createReaders(publicClient, world.book).auctions(flagged, block);
    assert.equal(auctions.length, flagged.length);
    assert.ok(
      auctions.every((a) => a.preview !== undefined && a.preview.fractionWad > 0n),
      "every preview read",
    );
    assert.ok(calls >= 2 && calls <= 4, `${calls} calls`);
  });

  it("two competing keepers handle every target once, without throwing", async () => {
    const world = await createWorld({ accounts: 12, keepers: 2 });
    const keepers = [keeperFor(world, 0), keeperFor(world, 1)];
    for (const keeper of keepers) await keeper.tick();
    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    assert.ok(flagged.length > 0);
    const startBlock = await world.publicClient.getBlockNumber();
    await tickUntilQuiet(world, keepers);
    await assertResolved(world, flagged);
    const started = keepers.reduce((n, k) => n + k.stats().auctionsStarted, 0);
    assert.equal(started, flagged.length, "each auction started exactly once");
    // Together, the two keepers' stats account for every auction exactly once: each keeper
    // lists every auction once, and exactly one of them lists it as its own.
    const auctions = await world.publicClient.getContractEvents({
      address: world.contracts.liquidator.address,
      abi: world.contracts.liquidator.abi,
      eventName: "AuctionStarted",
      fromBlock: startBlock,
    });
    const keyOf = (account: bigint, block: bigint) => `${account}:${block}`;
    const expected = auctions.map((e) => keyOf(e.args.account!, e.blockNumber)).sort();
    assert.equal(expected.length, flagged.length);
    const own = new Map<string, number>();
    for (const keeper of keepers) {
      const { liquidations } = keeper.stats();
      assert.deepEqual(liquidations.map((l) => keyOf(l.account, l.auctionBlock)).sort(), expected);
      for (const l of liquidations) {
        if (l.startedBy === "self")
          own.set(keyOf(l.account, l.auctionBlock), (own.get(keyOf(l.account, l.auctionBlock)) ?? 0) + 1);
        assert.ok(l.bidBlock !== undefined && l.bidBy !== undefined, "the first bid is recorded, whoever made it");
      }
    }
    assert.deepEqual([...own.keys()].sort(), expected);
    assert.ok(
      [...own.values()].every((n) => n === 1),
      "each auction is one keeper's own",
    );
    // No account was bid on twice in one block.
    const bids = await world.publicClient.getContractEvents({
      address: world.contracts.liquidator.address,
      abi: world.contracts.liquidator.abi,
      eventName: "Bid",
      fromBlock: startBlock,
    });
    const seen = new Set<string>();
    for (const bid of bids) {
      const key = `${bid.blockNumber}:${bid.args.account}`;
      assert.ok(!seen.has(key), `two bids on ${bid.args.account} in block ${bid.blockNumber}`);
      seen.add(key);
    }
  });

  it("resumes from its store after a restart", async () => {
    const world = await createWorld({ accounts: 8 });
    const storePath = path.join(await mkdtemp(path.join(os.tmpdir(), "keeper-")), "keeper.sqlite");
    const first = keeperFor(world, 0, { storePath });
    await first.tick();
    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    await first.tick(); // starts the auctions
    await first.stop();
    let store = openStore(storePath);
    const stored = store.loadIndex(world.book.chainId)!;
    assert.equal(stored.cursor, first.cursor());
    assert.ok(stored.accounts.size >= world.traders.length);
    const sent = store.actions();
    // Bids go out in bidMany batches: every flagged account is a target of some recorded send.
    for (const account of flagged) {
      const who = formatAccount(asAccountId(account));
      assert.ok(
        sent.some((a) => a.target.split(" ").some((target) => target.endsWith(who))),
        `${who}'s send is in the history`,
      );
    }
    assert.ok(
      sent.every((a) => a.status === "mined" && a.txHash !== undefined && a.gasUsed! > 0n && a.tick !== undefined),
      "each with its outcome, hash, gas and tick",
    );
    store.close();

    const second = keeperFor(world, 0, { storePath });
    await second.tick();
    assert.ok(second.cursor()! > stored.cursor, "the new keeper indexed on from the stored cursor");
    assert.equal(second.stats().auctionsStarted, 0, "the auctions were already started");
    await tickUntilQuiet(world, [second]);
    await assertResolved(world, flagged);
    await second.stop();

    // A store that is ahead of the chain (a reset node) is rebuilt from the deployment block.
    store = openStore(storePath);
    store.replaceIndex({ ...store.loadIndex()!, cursor: 999_999n, accounts: new Set(), holders: new Map() });
    store.close();
    const third = keeperFor(world, 0, { storePath, metricsPort: 19_000 + (process.pid % 1_000) });
    await third.tick();
    const latest = await world.publicClient.getBlockNumber();
    assert.equal(third.cursor(), latest);
    store = openStore(storePath);
    assert.ok(store.loadIndex()!.accounts.size >= world.traders.length, "accounts re-indexed");
    store.close();
    const health = await fetch(`http://127.0.0.1:${19_000 + (process.pid % 1_000)}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { lastBlock: string }).lastBlock, latest.toString());
    const metrics = await (await fetch(`http://127.0.0.1:${19_000 + (process.pid % 1_000)}/metrics`)).text();
    assert.match(metrics, /pledge_keeper_ticks_total 1/);
    assert.match(metrics, /pledge_keeper_failures_total\{error="IndexMismatch"\} 1/);
    await third.stop();
  });

  it("posts the settlement price and settles every position after expiry", async () => {
    const world = await createWorld({ accounts: 5, expiryDays: 1 });
    // The keeper retires only series on a capped underlying (review rv16c2 K1): cap BTC.
    const { underlyingIndex } = decodeSeries(world.series);
    const [admin] = await world.connection.viem.getWalletClients();
    if (!admin) throw new Error("no admin wallet");
    const riskManagerRole = keccak256(toHex("pledge.role.riskManager"));
    await world.contracts.market.write.grantRole([riskManagerRole, admin.account.address]);
    await world.contracts.market.write.setOpenInterestCaps([underlyingIndex, 0n, 10n ** 27n]);
    const keeper = keeperFor(world);
    await keeper.tick();
    const now = (await world.publicClient.getBlock()).timestamp;
    // A round just before expiry, then one just after it.
    await world.testClient.increaseTime({ seconds: Number(world.expiry - now) - 120 });
    await world.refreshFeeds(61_000);
    await world.testClient.increaseTime({ seconds: 240 });
    await world.refreshFeeds(62_000);
    assert.ok(
      (await world.contracts.market.read.underlyingOpenInterest([decodeSeries(world.series).underlyingIndex])) > 0n,
    );
    await keeper.tick();
    const stats = keeper.stats();
    assert.equal(stats.pricesPosted, 1);
    // Retired at expiry (review rv16c F1): the series no longer holds room under the underlying cap.
    assert.ok(await world.contracts.market.read.seriesRetired([world.series]));
    assert.equal(
      await world.contracts.market.read.underlyingOpenInterest([decodeSeries(world.series).underlyingIndex]),
      0n,
    );
    const [priceWad, posted] = await world.contracts.oracle.read.settlementPrice([
      world.contracts.wbtc.address,
      world.expiry,
    ]);
    assert.ok(posted);
    assert.equal(priceWad, 62_000n * 10n ** 18n);
    for (const account of [...world.traders, world.marketMaker]) {
      assert.equal(await world.contracts.market.read.positionOf([account, world.series]), 0n);
    }
    assert.equal(stats.settled, world.traders.length + 1);
    await keeper.tick();
    assert.equal(keeper.stats().settled, stats.settled, "nothing settled twice");
  });

  it("waits for the oracle's settlement fallback when the first round after expiry is late", async () => {
    const world = await createWorld({ accounts: 5, expiryDays: 1 });
    const keeper = keeperFor(world);
    await keeper.tick();
    const now = (await world.publicClient.getBlock()).timestamp;
    const [maxDelay, fallbackWait] = await Promise.all([
      world.contracts.oracle.read.maxSettlementDelay(),
      world.contracts.oracle.read.settlementFallbackWait(),
    ]);
    // A round just before expiry, then none until after the settlement delay (an outage).
    await world.testClient.increaseTime({ seconds: Number(world.expiry - now) - 120 });
    await world.refreshFeeds(61_000);
    await world.testClient.increaseTime({ seconds: 120 + Number(maxDelay) + 60 });
    await world.refreshFeeds(62_000);
    await keeper.tick();
    assert.equal(keeper.stats().pricesPosted, 0, "not before the fallback opens");
    assert.equal(keeper.stats().failures, 0, "and no reverting transaction sent");

    const later = (await world.publicClient.getBlock()).timestamp;
    await world.testClient.increaseTime({ seconds: Number(world.expiry + fallbackWait - later) });
    await world.refreshFeeds(63_000); // spot moves on; the settlement price is the late first round
    await keeper.tick();
    assert.equal(keeper.stats().pricesPosted, 1);
    const [priceWad, posted] = await world.contracts.oracle.read.settlementPrice([
      world.contracts.wbtc.address,
      world.expiry,
    ]);
    assert.ok(posted);
    assert.equal(priceWad, 62_000n * 10n ** 18n);
  });
});
