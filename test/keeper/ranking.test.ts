import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type AccountHoldings,
  type MarketInputs,
  pricesMoved,
  rankAccounts,
  selectForConfirmation,
} from "../../packages/keeper/src/index.js";
import { accountMargin, seriesId } from "../../packages/sdk/src/index.js";

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
});
