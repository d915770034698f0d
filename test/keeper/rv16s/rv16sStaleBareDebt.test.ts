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

import { createWorld } from "../helpers/world.js";
import {
  bankruptAndUnbid,
  fundInsurance,
  keeperOf,
  sellCallToMaker,
  settleAtExpiry,
} from "../helpers/backstopWorld.js";

describe("review rv16s A (regression): a stale price does not hold the bare-debt step up", () => {
  it("the default keeper pays a bare debt while a feed is stale, as the backstop-only keeper does", async () => {
    const world = await createWorld({ accounts: 2 });
    await fundInsurance(world, "5000000");
    const btc = await bankruptAndUnbid(world);
    const { vault } = world.contracts;
    // The shorts expire deep in the money and are settled: nothing but a debt is left.
    await settleAtExpiry(world, btc);
    for (const account of world.traders) assert.ok((await vault.read.cashOf([account])) < 0n, "a bare debt");

    // Someone else holds a live position: a 30-day call the market maker buys from a fresh account.
    await sellCallToMaker(world, { underlyingIndex: 2, contracts: 0.1, strikeUsd: btc });

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
