import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type AccountHoldings,
  type MarketInputs,
  chunkByGas,
  pricesMoved,
  rankAccounts,
  selectForConfirmation,
} from "../../packages/keeper/src/index.js";
import { MarginMode, accountMargin, seriesId } from "@pledge/sdk";

const WAD = 10n ** 18n;
const now = 1_800_000_000n;
const call = seriesId({ underlyingIndex: 1, expiry: now + 7n * 86_400n, isCall: true, strikeWad: 3_000n * WAD });
const market: MarketInputs = {
  timestamp: now,
  cashDecimals: 6,
  collateral: [{ decimals: 6, priceWad: WAD, initialHaircutWad: 0n, maintenanceHaircutWad: 0n }],
  underlyings: new Map([
    [
      1,
      {
        spotWad: 3_000n * WAD,
        volWad: WAD / 2n,
        params: { aIM: WAD / 5n, bIM: WAD / 10n, aMM: WAD / 8n, bMM: WAD / 16n },
      },
    ],
  ]),
};
const short = (cash: bigint): AccountHoldings => ({
  cash: cash * 10n ** 6n,
  balances: [0n],
  positions: [{ seriesId: call, balance: -10n * WAD }],
});

describe("keeper ranking (pure)", () => {
  it("ranks by the float distance to maintenance, in the exact math's order", () => {
    const holdings = new Map<bigint, AccountHoldings>([
      [1n, short(9_000n)],
      [2n, short(4_500n)],
      [3n, short(20_000n)],
    ]);
    const ranked = rankAccounts([1n, 2n, 3n, 4n], holdings, market);
    // Account 4 has no holdings yet: it cannot be estimated, so it ranks first.
    assert.deepEqual(
      ranked.map((r) => r.account),
      [4n, 2n, 1n, 3n],
    );
    for (const r of ranked.slice(1)) {
      const exact = accountMargin({ ...market, collateral: [], ...holdings.get(r.account)! });
      const excess = Number(exact.equityMM - exact.requirementMM) / 1e18;
      assert.ok(Math.abs(r.excessMM - excess) <= 1e-4 * Math.abs(excess) + 1e-6, `${r.excessMM} vs ${excess}`);
    }
  });

  it("selects the near, the unknown and the always-confirmed accounts", () => {
    const ranked = [
      { account: 1n, ratio: -Infinity, excessMM: NaN, requirementMM: NaN },
      { account: 2n, ratio: 0.1, excessMM: 100, requirementMM: 1_000 },
      { account: 3n, ratio: 2, excessMM: 2_000, requirementMM: 1_000 },
      { account: 4n, ratio: 500, excessMM: 500, requirementMM: 0 },
      { account: 5n, ratio: 5_000, excessMM: 5_000, requirementMM: 0 },
    ];
    const selected = selectForConfirmation(ranked, { nearRatio: 0.5, nearExcessUsd: 1_000 }, new Set([3n]));
    assert.deepEqual([...selected].sort(), [1n, 2n, 3n, 4n]);
  });

  it("detects a price move above the threshold", () => {
    const before = new Map([["spot:a", 100n * WAD]]);
    assert.equal(pricesMoved(before, new Map([["spot:a", 101n * WAD]]), WAD / 50n), false);
    assert.equal(pricesMoved(before, new Map([["spot:a", 97n * WAD]]), WAD / 50n), true);
    assert.equal(pricesMoved(before, new Map([["vol:a", WAD]]), WAD / 50n), true, "a new key is a move");
  });

  it("splits margin reads by estimated gas, so portfolio-heavy chunks stay under a node's call cap", () => {
    const portfolio: AccountHoldings = {
      ...short(9_000n),
      positions: Array.from({ length: 32 }, () => ({ seriesId: call, balance: -WAD })),
      mode: MarginMode.PORTFOLIO,
    };
    const holdings = new Map<bigint, AccountHoldings>();
    const accounts = Array.from({ length: 100 }, (_, i) => BigInt(i + 1));
    for (const a of accounts) holdings.set(a, a % 2n === 0n ? portfolio : short(9_000n));
    const chunks = chunkByGas(accounts, holdings, 50, 20_000_000);
    assert.deepEqual(chunks.flat(), accounts, "every account once, in order");
    for (const chunk of chunks) {
      const portfolios = chunk.filter((a) => a % 2n === 0n).length;
      assert.ok(chunk.length <= 50);
      assert.ok(portfolios <= 6, `${portfolios} 32-position portfolio accounts in one call`);
    }
    // Standard accounts alone fill chunks of 50.
    assert.equal(chunkByGas(accounts, new Map(accounts.map((a) => [a, short(9_000n)])), 50, 20_000_000).length, 2);
  });

  it("ranks a portfolio account with the scenario estimate, not the standard rules", () => {
    const grid = {
      spotShocksWad: [-18n, -9n, 0n, 9n, 18n].map((p) => (p * WAD) / 100n),
      volShocksWad: [(3n * WAD) / 2n, WAD, (7n * WAD) / 10n],
      contingencyWad: WAD / 200n,
      mmFactorWad: (8n * WAD) / 10n,
    };
    const withGrid: MarketInputs = {
      ...market,
      underlyings: new Map([[1, { ...market.underlyings.get(1)!, portfolio: grid }]]),
    };
    const held: AccountHoldings = { ...short(9_000n), mode: MarginMode.PORTFOLIO };
    const [ranked] = rankAccounts([1n], new Map([[1n, held]]), withGrid);
    const exact = accountMargin({
      timestamp: now,
      cash: held.cash,
      cashDecimals: 6,
      collateral: [],
      positions: held.positions,
      underlyings: withGrid.underlyings,
      mode: MarginMode.PORTFOLIO,
    });
    const exactExcess = Number(exact.equityMM - exact.requirementMM) / 1e18;
    assert.ok(Math.abs(ranked!.excessMM - exactExcess) < 1, `${ranked!.excessMM} vs ${exactExcess}`);
  });
});
