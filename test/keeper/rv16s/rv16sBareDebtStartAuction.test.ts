/**
 * Review rv16s, finding D: the liquidation job still tries to auction a bare debtor. An account
 * holding nothing but a cash debt and no auction (a short settled past its cash at expiry) is
 * below maintenance; `quoteStart` has no preview for it (empty holdings), `decide` then says
 * `startAuction` (reason `noPreview`), and `startAndLeave` sends it: its simulation reverts
 * `LiquidatorNothingToSell`, counted as a keeper failure and logged as a failed send. With the
 * backstop job on, that happens once per bare debt (the backstop job pays it later in the same
 * tick); with the backstop job off (a keeper that only liquidates, or `backstop: false`), on every
 * cooldown, forever: the same pattern 29f19fa fixed for the protocol's own accounts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { KeeperOptions } from "../../../packages/keeper/src/index.js";
import { type World, createWorld } from "../helpers/world.js";
import { fundInsurance, keeperOf as keeperOfWorld, settleAtExpiry } from "../helpers/backstopWorld.js";

const keeperOf = (world: World, extra: Partial<KeeperOptions> = {}) =>
  keeperOfWorld(world, { cooldownBlocks: 1n, ...extra });

describe("review rv16s D (regression): the liquidation job leaves bare debtors alone", () => {
  it("sends no startAuction for a bare debt with no auction (it would revert LiquidatorNothingToSell)", async () => {
    const world = await createWorld({ accounts: 2 });
    const { vault, liquidator } = world.contracts;
    await fundInsurance(world, "5000000");
    // Expiry passes quietly; the first BTC round after it (the settlement price) is 60 % up.
    await settleAtExpiry(world, 96_000);
    for (const a of world.traders) {
      assert.ok((await vault.read.cashOf([a])) < 0n, "a bare debt");
      assert.equal((await liquidator.read.auctionOf([a])).active, false, "never auctioned");
    }

    // A keeper that liquidates but does not run the backstop job: five ticks.
    const liquidating = keeperOf(world, {
      jobs: { liquidate: true, settle: false, marginCalls: false, backstop: false },
    });
    for (let i = 0; i < 5; i++) {
      await liquidating.tick();
      await world.testClient.mine({ blocks: 2 });
    }
    const failures = liquidating.stats().failures;
    assert.equal(
      failures,
      0,
      `${failures} failed sends in 5 ticks (startAuction on bare debtors: LiquidatorNothingToSell)`,
    );
  });

  it("with the backstop job on: no failed startAuction, every bare debt paid by absorbDebt", async () => {
    const world = await createWorld({ accounts: 2 });
    const { vault, backstop } = world.contracts;
    await fundInsurance(world, "5000000");
    await settleAtExpiry(world, 96_000);
    const full = keeperOf(world);
    const from = await world.publicClient.getBlockNumber();
    await full.tick();
    for (const a of world.traders) assert.equal(await vault.read.cashOf([a]), 0n, "paid");
    const logs = await world.publicClient.getContractEvents({
      address: backstop.address,
      abi: backstop.abi,
      eventName: "DebtAbsorbed",
      fromBlock: from + 1n,
    });
    const gas = await Promise.all(
      logs.map(async (l) => (await world.publicClient.getTransactionReceipt({ hash: l.transactionHash! })).gasUsed),
    );
    console.log(`absorbDebt gas: ${gas.join(", ")}; failed sends in the tick: ${full.stats().failures}`);
    assert.equal(full.stats().failures, 0, "the liquidation job left the bare debtors alone");
    assert.equal(logs.length, world.traders.length);
  });
});
