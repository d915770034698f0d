/**
 * Review rv16s, finding C: test/integration/stressWaterfall.test.ts reconciles the waterfall's
 * events with the *accounts'* valuations and the Backstop's own booked window, but never looks at
 * the insurance fund itself. A Backstop that leaks fund cash on every takeover passes all five of
 * its tests (mutation: `vault.moveCash(fund, market.settlementAccount(), 100e6)` after `_moveAll`
 * in `_takeover`, a $100 leak a takeover: 5 passing). This test is the missing fund-side check, on
 * the same episode: over each takeover's block the fund's mark value must move by the V it took
 * (a cent of marks' decay a takeover). It passes on d0081a1 and fails on the mutant.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { parseUnits } from "viem";

import { type UpdateHook, runEpisode } from "../../../scripts/lib/episode.js";
import { CHAINLINK_RULES, candlesBetween, loadCandles } from "../../../scripts/lib/history.js";
import { btcSeriesGrid } from "../../../scripts/lib/seeding.js";

const CSV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../shared/data/btc-usd-daily.csv");
const WAD = 10n ** 18n;
const HOUR = 3_600;
const TOLERANCE = 10n ** 16n;

describe("review rv16s C: the waterfall episode, reconciled on the fund's side", async () => {
  const candles = candlesBetween(await loadCandles(CSV), "2020-03-12", "2020-03-12");
  const smallBudget: UpdateHook = async ({ index, world, chain }) => {
    if (index !== 0) return;
    await chain.mined(() =>
      world.contracts.backstop.write.setTakeoverBudget(
        [{ maxLossPerTakeoverWad: 30_000n * WAD, maxLossPerWindowWad: 1_000_000n * WAD }],
        { account: world.adminWallet.account },
      ),
    );
  };
  // Exactly stressWaterfall.test.ts's episode.
  const { world } = await runEpisode({
    name: "waterfall-2020-03-12",
    candles,
    accounts: 8,
    seed: 20200312,
    grid: (spot, now) => btcSeriesGrid(spot, now).slice(0, 14),
    feedRules: { ...CHAINLINK_RULES, deviation: 0.03 },
    bidder: { capitalUsd: 20_000, absent: { from: candles[0]!.dayStart + HOUR, to: candles[0]!.dayStart + 8 * HOUR } },
    keeper: { minDiscountWad: parseUnits("10", 16), bidReserveWad: parseUnits("5000", 18) },
    onUpdate: smallBudget,
  });
  const { backstop, engine } = world.contracts;
  const fund = world.insuranceAccount;
  const valueAt = async (account: bigint, blockNumber: bigint) =>
    (await engine.read.accountMargin([account], { blockNumber })).markValue;

  it("over each takeover's block the fund's mark value moves by the V it took over, no less", async () => {
    const events = await world.publicClient.getContractEvents({
      address: backstop.address,
      abi: backstop.abi,
      eventName: "AccountTakenOver",
      fromBlock: 0n,
      strict: true,
    });
    assert.ok(events.length > 0);
    const byBlock = new Map<bigint, { value: bigint; count: bigint }>();
    for (const { args, blockNumber } of events) {
      const b = byBlock.get(blockNumber) ?? { value: 0n, count: 0n };
      b.value += args.valueWad;
      b.count += 1n;
      byBlock.set(blockNumber, b);
    }
    const misses: string[] = [];
    for (const [block, { value, count }] of byBlock) {
      const moved = (await valueAt(fund, block)) - (await valueAt(fund, block - 1n));
      const drift = moved > value ? moved - value : value - moved;
      if (drift > TOLERANCE * count) misses.push(`block ${block}: fund moved ${moved}, took V = ${value}`);
    }
    assert.deepEqual(misses, [], "the fund's value moved by something other than what it took over");
  });
});
