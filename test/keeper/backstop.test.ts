import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";

import { Health, backstopAbi } from "@pledge/sdk";
import {
  BUDGET_REFUSALS,
  bareDebtorsOf,
  createBackstopJob,
  decideBackstop,
} from "../../packages/keeper/src/jobs/backstop.js";
import { createExecute } from "../../packages/keeper/src/jobs/job.js";
import { createMetrics } from "../../packages/keeper/src/metrics.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { Outcome } from "../../packages/keeper/src/executor.js";
import { createWorld } from "./helpers/world.js";
import { backstopKeeper, bankruptAndUnbid, fundInsurance, settleAtExpiry } from "./helpers/backstopWorld.js";

const silent = pino({ level: "silent" });
const WAD = 10n ** 18n;

describe("keeper: the backstop job (docs/backstop.md)", () => {
  const preview = (over: Partial<Parameters<typeof decideBackstop>[0]> = {}) => ({
    auctionActive: true,
    readyAt: 100n,
    health: Health.INSOLVENT,
    takeover: { valueWad: -5n, lossToFundWad: 5n, budgetLeftWad: 10n, withinBudget: true, budgetLeftAfterWad: 5n },
    ...over,
  });

  it("decides: nothing without an open auction or once healthy, wait until readyAt, takeover within budget, else ADL for V < 0", () => {
    assert.deepEqual(decideBackstop(preview({ auctionActive: false }), 200n), { kind: "none", reason: "noAuction" });
    // Review rv16w F1: an auction that lapsed but is still open is acted on (its readyAt is past).
    assert.deepEqual(decideBackstop(preview({ readyAt: 50n }), 200n), { kind: "takeover" });
    assert.deepEqual(decideBackstop(preview(), 99n), { kind: "wait", readyAt: 100n });
    assert.deepEqual(decideBackstop(preview({ health: Health.MARGIN_CALL }), 100n), {
      kind: "none",
      reason: "healthy",
    });
    assert.deepEqual(decideBackstop(preview(), 100n), { kind: "takeover" });
    const beyond = {
      valueWad: -50n,
      lossToFundWad: 50n,
      budgetLeftWad: 10n,
      withinBudget: false,
      budgetLeftAfterWad: 10n,
    };
    assert.deepEqual(decideBackstop(preview({ takeover: beyond }), 100n), { kind: "deleverage" });
    const solvent = { ...beyond, valueWad: 1n, lossToFundWad: 0n };
    assert.deepEqual(decideBackstop(preview({ takeover: solvent }), 100n), {
      kind: "none",
      reason: "solventBeyondBudget",
    });
  });

  it("review rv16w F5: a full fund's MarketTooManyPositions is a failed takeover, not a refusal for budget", () => {
    // The chain bubbles it from deleverage too: the keeper must not fall through to ADL.
    assert.equal(BUDGET_REFUSALS.has("MarketTooManyPositions"), false);
    assert.deepEqual([...BUDGET_REFUSALS].sort(), ["BackstopBudgetExceeded", "BackstopFundBelowInitialMargin"]);
  });

  it("waits for the auction's duration, then has the fund take the accounts over (nothing in a dry run)", async () => {
    const world = await createWorld({ accounts: 2 });
    await fundInsurance(world, "5000000");
    const btc = await bankruptAndUnbid(world);
    const { market, vault, liquidator } = world.contracts;
    const keeper = backstopKeeper(world);
    await keeper.tick();
    for (const account of world.traders) assert.notEqual(await market.read.positionOf([account, world.series]), 0n);

    await world.testClient.increaseTime({ seconds: 15 * 60 });
    await world.refreshFeeds(btc);
    await backstopKeeper(world, { dryRun: true }).tick();
    for (const account of world.traders) assert.ok((await liquidator.read.auctionOf([account])).active, "dry run");

    await keeper.tick();
    for (const account of world.traders) {
      assert.equal(await market.read.positionOf([account, world.series]), 0n, "taken over");
      assert.equal(await vault.read.cashOf([account]), 0n);
      assert.equal((await liquidator.read.auctionOf([account])).active, false);
    }
  });

  it("deleverages against the indexed holders when the takeover is refused for budget", async () => {
    const world = await createWorld({ accounts: 2 });
    await fundInsurance(world, "5000000");
    const deployer = (await world.connection.viem.getWalletClients())[0]!;
    await deployer.writeContract({
      address: world.book.contracts.Backstop,
      abi: backstopAbi,
      functionName: "setTakeoverBudget",
      args: [{ maxLossPerTakeoverWad: 0n, maxLossPerWindowWad: 0n }],
    });
    const btc = await bankruptAndUnbid(world);
    await world.testClient.increaseTime({ seconds: 15 * 60 });
    await world.refreshFeeds(btc);
    const { market, engine } = world.contracts;
    const openInterest = await market.read.openInterest([world.series]);
    const shorts = await Promise.all(world.traders.map((a) => market.read.positionOf([a, world.series])));
    await backstopKeeper(world).tick();
    for (const account of world.traders) {
      assert.equal(await market.read.positionOf([account, world.series]), 0n, "closed against the market maker");
      const { markValue } = await engine.read.accountMargin([account]);
      assert.ok(markValue <= 0n && markValue > -WAD, `worth ≈ 0 after its loss was shared: ${markValue}`);
    }
    const closed = shorts.reduce((sum, s) => sum - s, 0n);
    assert.equal(await market.read.openInterest([world.series]), openInterest - closed);
  });

  it("pays a bare debt at par with absorbDebt, at once and whatever the budget, and ends its auction", async () => {
    const world = await createWorld({ accounts: 2 });
    await fundInsurance(world, "5000000");
    const deployer = (await world.connection.viem.getWalletClients())[0]!;
    // A zero budget: a takeover would be refused, and ADL cannot close an expired series.
    await deployer.writeContract({
      address: world.book.contracts.Backstop,
      abi: backstopAbi,
      functionName: "setTakeoverBudget",
      args: [{ maxLossPerTakeoverWad: 0n, maxLossPerWindowWad: 0n }],
    });
    const btc = await bankruptAndUnbid(world);
    const { market, vault, liquidator, insurance } = world.contracts;
    // The shorts expire deep in the money; settling them leaves nothing but a debt.
    await settleAtExpiry(world, btc);
    const fund = await insurance.read.account();
    const fundBefore = await vault.read.cashOf([fund]);
    let debt = 0n;
    for (const account of world.traders) {
      assert.equal(await market.read.positionOf([account, world.series]), 0n, "settled");
      const cash = await vault.read.cashOf([account]);
      assert.ok(cash < 0n, `a bare debt: ${cash}`);
      assert.ok((await liquidator.read.auctionOf([account])).active, "still under auction");
      debt -= cash;
    }

    await backstopKeeper(world, { dryRun: true }).tick();
    for (const account of world.traders) assert.ok((await vault.read.cashOf([account])) < 0n, "dry run");

    // Before readyAt would matter: the auction started long ago, but no wait applies anyway.
    const fromBlock = await world.publicClient.getBlockNumber();
    await backstopKeeper(world).tick();
    for (const account of world.traders) {
      assert.equal(await vault.read.cashOf([account]), 0n, "paid at par");
      assert.equal((await liquidator.read.auctionOf([account])).active, false, "auction ended");
    }
    assert.equal(await vault.read.cashOf([fund]), fundBefore - debt, "the fund paid exactly the debt");
    const events = await world.publicClient.getContractEvents({
      address: world.book.contracts.Backstop,
      abi: backstopAbi,
      eventName: "DebtAbsorbed",
      fromBlock: fromBlock + 1n,
    });
    assert.equal(events.length, world.traders.length);
    await backstopKeeper(world).tick();
    const again = await world.publicClient.getContractEvents({
      address: world.book.contracts.Backstop,
      abi: backstopAbi,
      eventName: "DebtAbsorbed",
      fromBlock: fromBlock + 1n,
    });
    assert.equal(again.length, world.traders.length, "nothing left to pay");
  });

  it("finds bare debts with no auction among the holdings, checks each on chain, never the protocol's accounts", async () => {
    const [insurance, settlement, fee] = [900n, 901n, 902n];
    const chain = new Map<bigint, { cash: bigint; balances: bigint[]; series: bigint[] }>([
      [5n, { cash: -100n, balances: [0n, 0n], series: [] }], // a bare debt
      [6n, { cash: -100n, balances: [0n, 1n], series: [] }], // the hint was stale: it holds collateral now
      [7n, { cash: 0n, balances: [0n, 0n], series: [] }], // repaid since
      [8n, { cash: -100n, balances: [0n, 0n], series: [] }], // under auction, no position indexed
      [insurance, { cash: -100n, balances: [0n, 0n], series: [] }],
    ]);
    const publicClient = {
      readContract: async ({ functionName, args }: { functionName: string; args?: readonly unknown[] }) => {
        const held = () => chain.get(args![0] as bigint)!;
        switch (functionName) {
          case "insuranceAccount":
            return insurance;
          case "settlementAccount":
            return settlement;
          case "feeAccount":
            return fee;
          case "balancesOf":
            return [held().balances, held().cash];
          case "positionsOf":
            return [held().series, []];
          default:
            throw new Error(`unexpected read ${functionName}`);
        }
      },
    };
    const sent: bigint[] = [];
    const sender = {
      send: async (_to: unknown, _abi: unknown, functionName: string, args: readonly unknown[]) => {
        assert.equal(functionName, "absorbDebt");
        sent.push(args[0] as bigint);
        return { outcome: Outcome.SENT } as never;
      },
    };
    const metrics = createMetrics();
    const book = {
      contracts: { Backstop: "0x01", CollateralVault: "0x02", OptionMarket: "0x03", Liquidator: "0x04" },
    } as unknown as Parameters<typeof createBackstopJob>[0]["addressBook"];
    const holdings = new Map([
      [5n, { cash: -100n, balances: [0n, 0n], positions: [] }],
      [6n, { cash: -100n, balances: [0n, 0n], positions: [] }],
      [7n, { cash: -100n, balances: [0n, 0n], positions: [] }],
      [insurance, { cash: -100n, balances: [0n, 0n], positions: [] }],
      [9n, { cash: -100n, balances: [0n, 0n], positions: [{ seriesId: 1n, balance: -1n }] }], // holds a position
      [10n, { cash: -100n, balances: [3n], positions: [] }], // holds collateral
    ]);
    assert.deepEqual(bareDebtorsOf(holdings), [5n, 6n, 7n, insurance]);
    const job = createBackstopJob({
      publicClient: publicClient as never,
      addressBook: book,
      sender: sender as never,
      execute: createExecute({ stats: createStats(metrics), metrics, log: silent, cooldownBlocks: 3n }),
      metrics,
      log: silent,
      bareDebtCandidates: () => bareDebtorsOf(holdings),
    });
    const index = { auctions: new Set([8n]), holders: new Map<bigint, Set<bigint>>() };
    const report = await job.run({ index: index as never, block: 10n, timestamp: 1_000n });
    assert.deepEqual(sent.sort(), [5n, 8n]);
    assert.equal(report.sent, 2);
    const steps = await metrics.registry.getSingleMetricAsString("pledge_keeper_backstop_steps_total");
    assert.match(steps, /step="absorbDebt",outcome="sent"\} 2/);
  });
});
