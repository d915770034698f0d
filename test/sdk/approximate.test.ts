import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Health, MarginMode, accountMargin, approximateMaintenance, seriesId } from "../../packages/sdk/src/index.js";
import type { MarginInputs, PortfolioParams } from "../../packages/sdk/src/index.js";
import { seededRandom } from "../../scripts/lib/population.js";

const WAD = 10n ** 18n;
const params = { aIM: (15n * WAD) / 100n, bIM: WAD / 10n, aMM: (8n * WAD) / 100n, bMM: (5n * WAD) / 100n };

describe("approximateMaintenance: a float ranking estimate close to the exact math", () => {
  it("agrees with accountMargin's excess over MM on random portfolios", () => {
    const random = seededRandom(7);
    const timestamp = 1_790_000_000n;
    for (let n = 0; n < 300; n++) {
      const positions = [];
      for (let i = 0; i < 1 + Math.floor(random() * 12); i++) {
        positions.push({
          seriesId: seriesId({
            underlyingIndex: 1,
            expiry: timestamp + BigInt(3_600 + Math.floor(random() * 90 * 86_400)),
            isCall: random() < 0.5,
            strikeWad: BigInt(Math.floor(1_500 + random() * 3_000)) * WAD,
          }),
          balance: (BigInt(Math.floor(random() * 4_000)) - 2_000n) * 10n ** 15n,
        });
      }
      const inputs: MarginInputs = {
        timestamp,
        cash: BigInt(Math.floor(random() * 20_000)) * 10n ** 6n,
        cashDecimals: 6,
        collateral: [],
        positions,
        underlyings: new Map([
          [1, { spotWad: 3_000n * WAD, volWad: BigInt(Math.floor((0.3 + random()) * 1e6)) * 10n ** 12n, params }],
        ]),
      };
      const exact = accountMargin(inputs);
      const fast = approximateMaintenance(inputs);
      const exactExcess = Number(exact.equityMM - exact.requirementMM) / 1e18;
      const scale = Number(exact.requirementMM) / 1e18 + Math.abs(Number(exact.equityMM) / 1e18) + 1;
      assert.ok(
        Math.abs(fast.excessMM - exactExcess) <= 1e-5 * scale,
        `portfolio ${n}: ${fast.excessMM} vs ${exactExcess}`,
      );
      if (Math.abs(exactExcess) > 1e-4 * scale) {
        assert.equal(fast.excessMM < 0, exact.health >= Health.LIQUIDATABLE, `portfolio ${n}: sign of the excess`);
      }
    }
  });

  it("agrees with the exact portfolio margin on random PORTFOLIO accounts", () => {
    const random = seededRandom(11);
    const timestamp = 1_790_000_000n;
    const grid: PortfolioParams = {
      spotShocksWad: Array.from({ length: 9 }, (_, i) => BigInt(i * 45 - 180) * 10n ** 15n),
      volShocksWad: [(WAD * 3n) / 2n, WAD, (WAD * 7n) / 10n],
      contingencyWad: WAD / 200n,
      mmFactorWad: (WAD * 4n) / 5n,
    };
    const spots = new Map([
      [1, 3_000n],
      [2, 60_000n],
    ]);
    for (let n = 0; n < 200; n++) {
      const positions = [];
      for (let i = 0; i < 1 + Math.floor(random() * 12); i++) {
        const index = random() < 0.6 ? 1 : 2;
        const spot = spots.get(index)!;
        // A few expired series: one expiry settled, one not.
        const roll = random();
        const expiry =
          roll < 0.1
            ? timestamp - 3_600n
            : roll < 0.2
              ? timestamp - 7_200n
              : timestamp + BigInt(3_600 + Math.floor(random() * 90 * 86_400));
        positions.push({
          seriesId: seriesId({
            underlyingIndex: index,
            expiry,
            isCall: random() < 0.5,
            strikeWad: (BigInt(Math.floor(500 + random() * 1_000)) * spot * WAD) / 1_000n,
          }),
          balance: (BigInt(Math.floor(random() * 4_000)) - 2_000n) * 10n ** 15n,
        });
      }
      const vol = () => BigInt(Math.floor((0.3 + random()) * 1e6)) * 10n ** 12n;
      const inputs: MarginInputs = {
        timestamp,
        cash: BigInt(Math.floor(random() * 20_000)) * 10n ** 6n,
        cashDecimals: 6,
        collateral: [
          {
            amount: random() < 0.5 ? BigInt(Math.floor(random() * 5e6)) * 10n ** 12n : 0n,
            decimals: 18,
            priceWad: 3_000n * WAD,
            initialHaircutWad: WAD / 10n,
            maintenanceHaircutWad: WAD / 20n,
            underlyingIndex: 1,
          },
          {
            amount: BigInt(Math.floor(random() * 1e8)),
            decimals: 9,
            priceWad: 150n * WAD,
            initialHaircutWad: WAD / 4n,
            maintenanceHaircutWad: (WAD * 3n) / 20n,
          },
        ],
        positions,
        underlyings: new Map(
          [...spots].map(([index, spot]) => [
            index,
            {
              spotWad: spot * WAD,
              volWad: vol(),
              params,
              portfolio: grid,
              settlementPrices: new Map([[timestamp - 3_600n, (spot * 103n * WAD) / 100n]]),
            },
          ]),
        ),
        mode: MarginMode.PORTFOLIO,
      };
      const exact = accountMargin(inputs);
      const fast = approximateMaintenance(inputs);
      const exactExcess = Number(exact.equityMM - exact.requirementMM) / 1e18;
      const scale = Number(exact.requirementMM) / 1e18 + Math.abs(Number(exact.equityMM) / 1e18) + 1;
      assert.ok(
        Math.abs(fast.excessMM - exactExcess) <= 1e-5 * scale,
        `portfolio ${n}: ${fast.excessMM} vs ${exactExcess}`,
      );
      assert.ok(Math.abs(fast.requirementMM - Number(exact.requirementMM) / 1e18) <= 1e-5 * scale, `portfolio ${n}`);
      if (Math.abs(exactExcess) > 1e-4 * scale) {
        assert.equal(fast.excessMM < 0, exact.health >= Health.LIQUIDATABLE, `portfolio ${n}: sign of the excess`);
      }
    }
  });
});
