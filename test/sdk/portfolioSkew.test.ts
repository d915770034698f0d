import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  type Grid,
  MAX_SKEWED_VOL,
  addCollateral,
  addPosition,
  callPrice,
  newGrid,
  putPrice,
  seriesId,
  worstLoss,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const NOW = 1_800_000_000n;
const DAY = 86_400n;
const SPOT = 3_000n * WAD;
/** The default grid: spot ±18 % in 9 steps × vol ×1.5 / ×1 / ×0.7, tail ±33 % and ±50 %. */
const SPOT_SHOCKS = Array.from({ length: 9 }, (_, i) => BigInt(i) * 45n * 10n ** 15n - 18n * 10n ** 16n);
const VOL_SHOCKS = [15n * 10n ** 17n, WAD, 7n * 10n ** 17n];
const TAIL_SHOCKS = [-WAD / 2n, -33n * 10n ** 16n, 33n * 10n ** 16n, WAD / 2n];

interface Leg {
  days: bigint;
  strike: bigint;
  isCall: boolean;
  balance: bigint;
  vol: bigint;
}

/** Five ETH legs on both sides of spot, each at its own (smile) vol. */
const BOOK: readonly Leg[] = [
  { days: 30n, strike: 2_400n, isCall: false, balance: -10n * WAD, vol: 95n * 10n ** 16n },
  { days: 30n, strike: 2_700n, isCall: true, balance: -3n * WAD, vol: 88n * 10n ** 16n },
  { days: 60n, strike: 2_900n, isCall: false, balance: 4n * WAD, vol: 84n * 10n ** 16n },
  { days: 7n, strike: 3_000n, isCall: true, balance: -2n * WAD, vol: 80n * 10n ** 16n },
  { days: 60n, strike: 3_400n, isCall: true, balance: 5n * WAD, vol: 76n * 10n ** 16n },
];

function grid(legs: readonly Leg[], heldWad: bigint, skew?: readonly bigint[], volShocks = VOL_SHOCKS): Grid {
  const g =
    skew === undefined
      ? newGrid(SPOT, SPOT_SHOCKS, volShocks, TAIL_SHOCKS)
      : newGrid(SPOT, SPOT_SHOCKS, volShocks, TAIL_SHOCKS, skew);
  if (heldWad !== 0n) addCollateral(g, heldWad, 18);
  for (const l of legs) {
    const expiry = NOW + l.days * DAY;
    const id = seriesId({ underlyingIndex: 1, expiry, isCall: l.isCall, strikeWad: l.strike * WAD });
    const mark = (l.isCall ? callPrice : putPrice)(SPOT, l.strike * WAD, expiry - NOW, l.vol);
    addPosition(g, id, l.balance, mark, l.vol, NOW);
  }
  return g;
}

/** Every scenario's pnl, grid then tail, as one digest. */
const digest = (g: Grid) =>
  createHash("sha256")
    .update([...g.pnl, ...g.tailPnl].join(","))
    .digest("hex");

/**
 * The put-wing skew of the portfolio grid (`docs/portfolio-margin.md`, "Skew") in the SDK's pure
 * mirror; the chain's equality to the wei is `test/sdk/portfolio.parity.test.ts` (random skews)
 * and the engine's own tests are in `test/unit/engine/PortfolioMargin.t.sol`.
 */
describe("portfolio grid: put-wing skew", () => {
  it("skew 0 reproduces the parallel grid of before the skew, every scenario to the wei", () => {
    // Pinned from the SDK before the skew existed (commit 96adbbd), which equals the chain; re-pinned
    // when issue 19 changed the CDF's outer intervals (prices moved by ~1e4 wei of 1.5e21).
    const before = [
      {
        held: 0n,
        worst: 1_510_308_612_353_363_908_810n,
        cells: "59a548d9063f332745a589e2ad3e19674a31aec866936033afcfa1aa2d7198e8",
      },
      {
        held: 2n * WAD,
        worst: 1_546_752_029_681_613_037_290n,
        cells: "b7d4ef749693a195960d39dca2418c2b2417b8c0803340f4c627b7af1ef70c07",
      },
    ];
    for (const { held, worst, cells } of before) {
      for (const skew of [undefined, [0n, 0n, 0n]]) {
        const g = grid(BOOK, held, skew);
        assert.equal(worstLoss(g), worst);
        assert.equal(digest(g), cells);
      }
    }
  });

  it("a steeper crash column raises the loss of a book short the put wing", () => {
    // 2 WETH and the book: the worst scenario is a crash, where the short 2,400 put and the
    // short 2,700 call (a low strike: in the put wing too) now price ln(S/K) × skew vol higher;
    // the long 2,900 put keeps the parallel shift (shorts only, review rv21 K1).
    const flat = worstLoss(grid(BOOK, 2n * WAD, [0n, 0n, 0n]));
    const steeper = worstLoss(grid(BOOK, 2n * WAD, [WAD, 0n, 0n]));
    const steepest = worstLoss(grid(BOOK, 2n * WAD, [2n * WAD, 0n, 0n]));
    assert.equal(steeper, 2_239_896_358_892_823_746_310n);
    assert.ok(flat < steeper && steeper < steepest, `${flat} < ${steeper} < ${steepest}`);
  });

  it("only shorts struck below spot move, calls and puts alike; longs keep the parallel shift", () => {
    const still = BOOK.filter((l) => l.strike >= 3_000n || l.balance > 0n);
    assert.equal(digest(grid(still, 0n, [2n * WAD, 2n * WAD, 2n * WAD])), digest(grid(still, 0n)));
    const moving = BOOK.filter((l) => l.strike < 3_000n && l.balance < 0n);
    assert.equal(moving.length, 2);
    for (const leg of moving) {
      assert.notEqual(digest(grid([leg], 0n, [0n, WAD, 0n])), digest(grid([leg], 0n)), `${leg.strike}`);
    }
  });

  it("the skew never lifts a leg above MAX_SKEWED_VOL", () => {
    // ×4 of 95 % is 380 %, above the 300 % cap: the skew adds nothing to that column.
    const leg = [BOOK[0]!];
    const volShocks = [4n * WAD, WAD];
    assert.equal(MAX_SKEWED_VOL, 3n * WAD);
    const unskewed = grid(leg, 0n, [0n, 0n], volShocks);
    const skewed = grid(leg, 0n, [2n * WAD, 0n], volShocks);
    assert.deepEqual(skewed.pnl, unskewed.pnl);
    // ×3 of 95 % is 285 %: the skew adds up to the cap (15 points), not its full 2 × ln(1.25) ≈ 45.
    const under = grid(leg, 0n, [2n * WAD, 0n], [3n * WAD, WAD]);
    const capped = grid(leg, 0n, [2n * WAD, 0n], [3_157_894_736_842_105_264n, WAD]); // 300 % parallel
    for (let i = 0; i < SPOT_SHOCKS.length; i++) assert.equal(under.pnl[i * 2], capped.pnl[i * 2]);
  });
});
