import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { coverFloorUp, seriesId as packSeriesId, shortRequirementUp } from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const BOOKS = 1_500;

/**
 * The cover floor (`PortfolioMath.coverFloorUp`, docs/portfolio-margin.md, "Cover floor") equals the
 * SDK's `coverFloorUp` to the wei on random books. The SDK runs the full greedy order to the end;
 * the chain stops ordering once no long has contracts left and no underlying held is left (review
 * rv40), so this is also the check that the shortcut changes no floor. Books are drawn to reach
 * every way into the shortcut (shorts alone, mixed books whose longs may run out, units held that
 * short calls may use up); it counts books of each kind, not which ones ran out.
 */
describe("SDK cover floor equals the chain, to the wei", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("PortfolioCoverHarness");
  const rng = random(0xc0fe4n);
  const expiry0 = 1_800_000_000n;

  it(`on ${BOOKS} random books`, async () => {
    const shapes = { shortsOnly: 0, mixed: 0, held: 0 };
    for (let b = 0; b < BOOKS; b++) {
      const n = 1 + rng.int(b % 4 === 0 ? 24 : 8);
      const longOdds = rng.pick([0, 0.25, 0.5, 0.75]);
      const spot = rng.pick([3_000n, 60_000n, 1n]) * WAD;
      const ids: bigint[] = [];
      const balances: bigint[] = [];
      const perContract: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const isCall = rng.int(2) === 0;
        // Strikes near the spot (so longs cover), far from it, or at 1 wei.
        const strikeWad = rng.int(8) === 0 ? 1n : (spot * BigInt(50 + rng.int(100))) / 100n + BigInt(rng.int(3)) * WAD;
        const expiry = expiry0 + BigInt(rng.int(3)) * 7n * 86_400n;
        const size = rng.int(6) === 0 ? rng.logUniform(1n, (1n << 98n) - 1n) : rng.range(1n, 50n) * WAD;
        const balance = rng.float() < longOdds ? size : -size;
        ids.push(packSeriesId({ underlyingIndex: 1, expiry, isCall, strikeWad }));
        balances.push(balance);
        perContract.push(balance < 0n ? shortRequirementUp(isCall, spot, strikeWad, 15n * 10n ** 16n, 10n ** 17n) : 0n);
      }
      const heldWad = rng.int(3) === 0 ? rng.pick([1n, rng.range(1n, 40n) * WAD, rng.logUniform(1n, 1n << 100n)]) : 0n;
      if (heldWad !== 0n) shapes.held++;
      else if (balances.some((x) => x > 0n)) shapes.mixed++;
      else shapes.shortsOnly++;
      const expected = coverFloorUp(ids, balances, perContract, heldWad);
      const onChain = await harness.read.coverFloorUp([ids, balances, perContract, heldWad]);
      assert.equal(onChain, expected, `book ${b} (${n} positions, held ${heldWad})`);
    }
    assert.ok(shapes.shortsOnly > 100 && shapes.mixed > 400 && shapes.held > 300, JSON.stringify(shapes));
  });

  it("the book of review rv40: two longs run out one after the other", async () => {
    const put = (strike: bigint) =>
      packSeriesId({ underlyingIndex: 1, expiry: expiry0, isCall: false, strikeWad: strike * WAD });
    const ids = [put(2_900n), put(2_850n), put(2_800n), put(2_700n)];
    const balances = [-4n * WAD, -3n * WAD, 4n * WAD, 3n * WAD];
    const perContract = [350n * WAD, 300n * WAD, 0n, 0n];
    // 4 at the 2,900/2,800 width ($100), 3 at the 2,850/2,700 width ($150).
    assert.equal(coverFloorUp(ids, balances, perContract, 0n), 850n * WAD);
    assert.equal(await harness.read.coverFloorUp([ids, balances, perContract, 0n]), 850n * WAD);
  });
});
