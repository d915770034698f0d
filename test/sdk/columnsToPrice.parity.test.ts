import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { columnsToPrice } from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const CASES = 1_200;

/**
 * Which vol columns a book is priced in (`PortfolioMath.columnsToPrice`, docs/portfolio-margin.md,
 * "Pruning") is the SDK's `columnsToPrice`, on random books and grids (of shorts, of longs, mixed).
 * The requirement parity suites compare requirements, where pruning rarely shows (the kept column
 * decides such a book in the full grid too, up to the prices' rounding): this compares the choice
 * itself.
 * Shocks are drawn from a few values so that ties between columns are common.
 */
describe("SDK columnsToPrice equals the chain", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("PortfolioColumnsHarness");
  const rng = random(0xc01_0a5n);

  it(`on ${CASES} random books and grids`, async () => {
    const kinds = { one: 0, longsOnly: 0, all: 0, longInBook: 0, noDecidingColumn: 0 };
    for (let c = 0; c < CASES; c++) {
      const columns = 1 + rng.int(5);
      const vols = Array.from({ length: columns }, () =>
        rng.pick([WAD / 4n, (7n * WAD) / 10n, WAD, (3n * WAD) / 2n, 4n * WAD, rng.range(WAD / 4n, 4n * WAD)]),
      );
      const skews = Array.from({ length: columns }, () =>
        rng.pick([0n, WAD / 2n, WAD, 2n * WAD, rng.range(0n, 2n * WAD)]),
      );
      const n = rng.int(6);
      // Books of shorts, mixed books and books of longs (`longOdds` 1).
      const longOdds = rng.pick([0, 0, 0.2, 1]);
      const balances = Array.from({ length: n }, () => {
        const r = rng.float();
        if (r < longOdds) return rng.range(1n, 50n * WAD);
        return r < longOdds + 0.02 ? 0n : -rng.range(1n, 50n * WAD);
      });
      const expected = columnsToPrice(balances, vols, skews);
      const [onChainVols, onChainSkews] = await harness.read.columnsToPrice([balances, vols, skews]);
      assert.deepEqual(
        { volShocksWad: [...onChainVols], skewShocksWad: [...onChainSkews] },
        { volShocksWad: [...expected.volShocksWad], skewShocksWad: [...expected.skewShocksWad] },
        `case ${c}: balances ${balances}, vols ${vols}, skews ${skews}`,
      );
      if (expected.volShocksWad.length === 1 && columns > 1) {
        kinds.one++;
        if (n > 0 && balances.every((b) => b > 0n)) kinds.longsOnly++;
      } else if (columns > 1) {
        kinds.all++;
        if (balances.some((b) => b >= 0n)) kinds.longInBook++;
        else kinds.noDecidingColumn++;
      }
    }
    assert.ok(
      kinds.one > 200 && kinds.longsOnly > 100 && kinds.longInBook > 100 && kinds.noDecidingColumn > 100,
      JSON.stringify(kinds),
    );
  });
});
