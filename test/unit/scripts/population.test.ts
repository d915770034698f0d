import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  WAD,
  expiryAfter,
  planPopulation,
  seededRandom,
  seriesGrid,
  shortRequirement,
  toContractsWad,
} from "../../../scripts/lib/population.js";

describe("population: seeded plan of the stress accounts", () => {
  it("the PRNG is reproducible and uniform enough", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    assert.deepEqual(
      xs.slice(0, 5),
      Array.from({ length: 5 }, () => b()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02);
    assert.notEqual(seededRandom(43)(), seededRandom(42)());
  });

  it("expiries sit on the 08:00 UTC grid at least the asked days out", () => {
    const now = 1583884800 + 12_345; // 2020-03-11 03:25:45
    for (const days of [7, 14, 30, 60]) {
      const expiry = expiryAfter(now, days);
      assert.equal(expiry % 86_400, 28_800);
      assert.ok(expiry >= now + days * 86_400 && expiry < now + (days + 1) * 86_400);
    }
  });

  it("the grid spans ±30 % of spot, calls and puts, 4 expiries", () => {
    const grid = seriesGrid(2, 7_938.05, 1583884800);
    assert.equal(grid.length, 56);
    const strikes = [...new Set(grid.map((s) => Number(s.strikeWad / WAD)))];
    assert.deepEqual(strikes, [5_600, 6_400, 7_100, 7_900, 8_700, 9_500, 10_300]);
    assert.ok(grid.every((s) => s.underlyingIndex === 2));
  });

  it("plans are reproducible, every account has a short and sane deposits", () => {
    const options = { accounts: 60, seed: 7, spot: 40_000, gridSize: 56 };
    const plans = planPopulation(options);
    assert.deepEqual(plans, planPopulation(options));
    assert.equal(plans.length, 60);
    for (const plan of plans) {
      assert.ok(plan.trades.some((t) => t.side === "short"));
      assert.ok(plan.trades.every((t) => t.series >= 0 && t.series < 56));
      const value = plan.cashUsd + plan.wbtc * options.spot;
      assert.ok(value >= 9_999 && value <= 250_001, `deposit ${value}`);
    }
    assert.equal(new Set(plans.map((p) => p.subId)).size, 60);
  });

  it("borrowers hold only WBTC and buy puts on credit; everyone else plans as before", () => {
    const options = { accounts: 40, seed: 7, spot: 40_000, gridSize: 56 };
    const plain = planPopulation(options);
    const withBorrowers = planPopulation({ ...options, borrowerEvery: 4 });
    for (const [i, plan] of withBorrowers.entries()) {
      if ((i + 1) % 4 !== 0) {
        assert.deepEqual(plan, plain[i]);
        continue;
      }
      assert.equal(plan.cashUsd, 0);
      assert.ok(plan.wbtc > 0);
      assert.ok(plan.trades.every((t) => t.side === "long" && t.series % 2 === 1 && t.series < 56));
      assert.ok(plan.longBudgetShare >= 0.1 && plan.longBudgetShare < 0.3);
    }
  });

  it("short requirement follows DESIGN.md", () => {
    // ATM call: 15 % of spot.
    assert.equal(shortRequirement(true, 100, 100, 0.15, 0.1), 15);
    // Deep OTM call: floor 10 % of spot.
    assert.equal(shortRequirement(true, 100, 130, 0.15, 0.1), 10);
    // Deep OTM put: floor 10 % of strike.
    assert.equal(shortRequirement(false, 100, 70, 0.15, 0.1), 7);
    // ITM put: a·S, OTM = 0.
    assert.equal(shortRequirement(false, 100, 120, 0.15, 0.1), 15);
  });

  it("contract sizes round down to 0.001", () => {
    assert.equal(toContractsWad(1.23456), 1_234n * 10n ** 15n);
    assert.equal(toContractsWad(0.0009), 0n);
    assert.equal(toContractsWad(-1), 0n);
    assert.equal(toContractsWad(Number.NaN), 0n);
  });
});
