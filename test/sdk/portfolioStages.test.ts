import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Grid,
  type PortfolioParams,
  addCollateral,
  addPosition,
  callPrice,
  contingencyUp,
  coverFloorUp,
  decodeSeries,
  newGrid,
  pruneRows,
  putPrice,
  seriesId,
  startStages,
  worstLoss,
  worstTailLoss,
} from "../../packages/sdk/src/index.js";
import { mulWadUp } from "../../packages/sdk/src/math/fixedPoint.js";
import { portfolioRequirementUp } from "../../packages/sdk/src/math/engine.js";
import { shortRequirementUp } from "../../packages/sdk/src/math/marginMath.js";
import { random } from "./random.js";

// Staged pricing of the PORTFOLIO grid (`startStages`, `pruneRows`; docs/portfolio-margin.md,
// "Pruning rows"). The chain equals this mirror to the wei (portfolio.parity); here
// the mirror's staged requirement is held against the full grid's, written out below as it was
// before staging: never above it, and below it by no more than the prices' stated error.

const WAD = 10n ** 18n;
const NOW = 1_800_000_000n;
const DAY = 86_400n;
const CASES = 1_000;
const RISK = { aIM: 15n * 10n ** 16n, bIM: 10n ** 17n, aMM: 8n * 10n ** 16n, bMM: 5n * 10n ** 16n };
const SPOT_SHOCKS = Array.from({ length: 9 }, (_, i) => BigInt(i) * 45n * 10n ** 15n - 18n * 10n ** 16n);
const DEFAULT: PortfolioParams = {
  spotShocksWad: SPOT_SHOCKS,
  volShocksWad: [(3n * WAD) / 2n, WAD, (7n * WAD) / 10n],
  contingencyWad: 5n * 10n ** 15n,
  mmFactorWad: 8n * 10n ** 17n,
  tailShocksWad: [-WAD / 2n, -33n * 10n ** 16n, 33n * 10n ** 16n, WAD / 2n],
  tailWeightWad: 35n * 10n ** 16n,
  skewShocksWad: [WAD, 0n, 0n],
};

type Pos = { seriesId: bigint; balance: bigint; markWad: bigint; volWad: bigint };

/** The cover floor of `book` with `held` units of the underlying. */
function floorOf(spot: bigint, held: bigint, book: readonly Pos[]): bigint {
  const perContract = book.map(({ seriesId: id, balance }) => {
    if (balance >= 0n) return 0n;
    const { isCall, strikeWad } = decodeSeries(id);
    return shortRequirementUp(isCall, spot, strikeWad, RISK.aIM, RISK.bIM);
  });
  return coverFloorUp(
    book.map((p) => p.seriesId),
    book.map((p) => p.balance),
    perContract,
    held,
  );
}

/** The requirement with every column priced: `portfolioRequirementUp` before staging. */
function fullRequirementUp(spot: bigint, held: bigint, book: readonly Pos[], params: PortfolioParams): bigint {
  const grid = newGrid(spot, params.spotShocksWad, params.volShocksWad, params.tailShocksWad, params.skewShocksWad);
  if (held !== 0n) addCollateral(grid, held, 18);
  for (const p of book) addPosition(grid, p.seriesId, p.balance, p.markWad, p.volWad, NOW);
  let requirement = worstLoss(grid);
  const tail = mulWadUp(worstTailLoss(grid), params.tailWeightWad ?? 0n);
  if (tail > requirement) requirement = tail;
  const floor = floorOf(spot, held, book);
  if (floor > requirement) requirement = floor;
  const shorts = book.reduce((sum, p) => (p.balance < 0n ? sum - p.balance : sum), 0n);
  return requirement + contingencyUp(shorts, spot, params.contingencyWad);
}

/** The prices' stated error (docs/black-scholes.md), twice a contract, plus rounding, per leg. */
function errorBound(spot: bigint, book: readonly Pos[]): bigint {
  let bound = 0n;
  const top = (spot * 3n) / 2n;
  for (const p of book) {
    const strike = decodeSeries(p.seriesId).strikeWad;
    const price = top > strike ? top : strike;
    const size = p.balance < 0n ? -p.balance : p.balance;
    bound += (2n * (top / 10n ** 12n + price / 10n ** 10n + 2n) * size) / WAD + 4n;
  }
  return bound;
}

/** An independent statement of the rule: the first column with both least shocks, the first with both largest. */
function boundingColumns(vols: readonly bigint[], skews: readonly bigint[]): { lo: number; hi: number; ok: boolean } {
  let lo = -1;
  let hi = -1;
  for (let t = 0; t < vols.length; t++) {
    const least = vols.every((v, j) => v >= vols[t]! && skews[j]! >= skews[t]!);
    const largest = vols.every((v, j) => v <= vols[t]! && skews[j]! <= skews[t]!);
    if (least && lo < 0) lo = t;
    if (largest && hi < 0) hi = t;
  }
  return { lo, hi, ok: vols.length >= 3 && lo >= 0 && hi >= 0 && lo !== hi };
}

describe("staged PORTFOLIO grid: the full grid's requirement, fewer cells", () => {
  const rng = random(0x57_57a9en);

  it(`${CASES} random books of longs and shorts on the default grid and on random ordered grids`, () => {
    let stagedGrids = 0;
    let prunedRows = 0;
    let exact = 0;
    for (let c = 0; c < CASES; c++) {
      const spot = rng.logUniform(100n * WAD, 200_000n * WAD);
      let params = DEFAULT;
      if (c % 2 === 1) {
        // 3–5 columns; the least vol shock carries the least skew, the largest the largest.
        const columns = 3 + rng.int(3);
        const vols = Array.from({ length: columns }, () => rng.range(WAD / 4n, 4n * WAD));
        const skews = Array.from({ length: columns }, () => rng.range(0n, 2n * WAD));
        const lo = vols.indexOf(vols.reduce((a, b) => (b < a ? b : a)));
        const hi = vols.indexOf(vols.reduce((a, b) => (b > a ? b : a)));
        const sorted = [...skews].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        skews[skews.indexOf(sorted[0]!)] = skews[lo]!;
        skews[lo] = sorted[0]!;
        const maxAt = skews.indexOf(sorted[sorted.length - 1]!);
        [skews[maxAt], skews[hi]] = [skews[hi]!, skews[maxAt]!];
        params = { ...DEFAULT, volShocksWad: vols, skewShocksWad: skews };
      }
      const legs = 1 + rng.int(8);
      const book: Pos[] = [];
      for (let i = 0; i < legs; i++) {
        const strike = spot / 2n + rng.range(0n, (spot * 3n) / 2n);
        const isCall = rng.float() < 0.5;
        const expiry = NOW + 3_600n + rng.range(0n, 365n * DAY);
        const vol = rng.range(WAD / 20n, (5n * WAD) / 2n);
        const size = rng.range(WAD / 100n, 100n * WAD);
        const balance = rng.float() < 0.5 ? size : -size;
        const id = seriesId({ underlyingIndex: 1, expiry, isCall, strikeWad: strike });
        const markWad = (isCall ? callPrice : putPrice)(spot, strike, expiry - NOW, vol);
        book.push({ seriesId: id, balance, markWad, volWad: vol });
      }
      const held = rng.float() < 0.3 ? rng.range(1n, 50n * WAD) : 0n;
      const staged = portfolioRequirementUp(spot, held, 18, book, params, RISK, NOW);
      const full = fullRequirementUp(spot, held, book, params);
      const bound = errorBound(spot, book);
      assert.ok(staged <= full, `case ${c}: staged ${staged} is above the full grid's ${full}`);
      assert.ok(full - staged <= bound, `case ${c}: staged ${staged} below full ${full} by more than ${bound}`);
      if (staged === full) exact++;
      const grid = newGrid(spot, params.spotShocksWad, params.volShocksWad, params.tailShocksWad, params.skewShocksWad);
      if (startStages(grid)) {
        stagedGrids++;
        if (held !== 0n) addCollateral(grid, held, 18);
        for (const p of book) addPosition(grid, p.seriesId, p.balance, p.markWad, p.volWad, NOW);
        // The base `portfolioRequirementUp` passes: the weighted worst tail loss or the cover floor.
        const tail = mulWadUp(worstTailLoss(grid), params.tailWeightWad ?? 0n);
        const floor = floorOf(spot, held, book);
        pruneRows(grid, tail > floor ? tail : floor);
        prunedRows += grid.pruned.filter(Boolean).length;
      }
    }
    // Every grid here has distinct bounding columns, and pruning happens: the test can tell.
    assert.equal(stagedGrids, CASES);
    assert.ok(prunedRows >= CASES, `only ${prunedRows} rows pruned in ${CASES} grids`);
    assert.ok(exact >= (CASES * 9) / 10, `only ${exact} of ${CASES} requirements equal the full grid's`);
  });

  it("books of shorts deep in the put wing, the steepest skew on the calm column: the full grid's requirement (review rv58)", () => {
    // No column has both the largest vol and the largest skew shock, so a book of shorts is priced
    // in every column; a rule keeping the largest vol shock alone (×1.5, skew 0) would miss the ×0.7
    // column's skewed vol, the worst for a put struck far below spot.
    const params: PortfolioParams = { ...DEFAULT, skewShocksWad: [0n, 0n, 2n * WAD] };
    const skewed = random(0x5e_e58n);
    let above = 0;
    for (let c = 0; c < 200; c++) {
      const spot = skewed.logUniform(100n * WAD, 200_000n * WAD);
      const book: Pos[] = [];
      for (let i = 0, n = 1 + skewed.int(4); i < n; i++) {
        const strike = (spot * skewed.range(40n, 70n)) / 100n;
        const expiry = NOW + DAY * (7n + skewed.range(0n, 180n));
        const vol = skewed.range(WAD / 2n, WAD);
        const markWad = putPrice(spot, strike, expiry - NOW, vol);
        const id = seriesId({ underlyingIndex: 1, expiry, isCall: false, strikeWad: strike });
        book.push({ seriesId: id, balance: -skewed.range(WAD, 50n * WAD), markWad, volWad: vol });
      }
      const staged = portfolioRequirementUp(spot, 0n, 18, book, params, RISK, NOW);
      const full = fullRequirementUp(spot, 0n, book, params);
      assert.ok(staged <= full, `case ${c}: ${staged} above the full grid's ${full}`);
      assert.ok(full - staged <= errorBound(spot, book), `case ${c}: ${staged} below the full grid's ${full}`);
      // The skewed column decides: its worst loss is above the ×1.5 column's alone.
      const crash = portfolioRequirementUp(
        spot,
        0n,
        18,
        book,
        { ...params, volShocksWad: [(3n * WAD) / 2n], skewShocksWad: [0n] },
        RISK,
        NOW,
      );
      if (full > crash) above++;
    }
    assert.ok(above >= 100, `the skewed column decided only ${above} of 200 books`);
  });

  it("a hedged book near the money on the default grid: most rows pruned, the same requirement", () => {
    const spot = 3_000n * WAD;
    const book: Pos[] = [];
    for (let i = 0; i < 8; i++) {
      const strike = (spot * (400n + 15n * BigInt(i))) / 430n;
      const isCall = i % 3 !== 0;
      const expiry = NOW + 7n * DAY * BigInt(1 + (i % 4));
      const vol = (8n * WAD) / 10n;
      const markWad = (isCall ? callPrice : putPrice)(spot, strike, expiry - NOW, vol);
      const balance = (i >> 1) % 2 === 0 ? -WAD : WAD;
      book.push({
        seriesId: seriesId({ underlyingIndex: 1, expiry, isCall, strikeWad: strike }),
        balance,
        markWad,
        volWad: vol,
      });
    }
    assert.equal(
      portfolioRequirementUp(spot, 0n, 18, book, DEFAULT, RISK, NOW),
      fullRequirementUp(spot, 0n, book, DEFAULT),
    );
    const grid = newGrid(spot, SPOT_SHOCKS, DEFAULT.volShocksWad, DEFAULT.tailShocksWad, DEFAULT.skewShocksWad);
    assert.ok(startStages(grid));
    assert.deepEqual([grid.lo, grid.hi], [2, 0]);
    for (const p of book) addPosition(grid, p.seriesId, p.balance, p.markWad, p.volWad, NOW);
    pruneRows(grid, mulWadUp(worstTailLoss(grid), DEFAULT.tailWeightWad ?? 0n));
    // The same rows as `PortfolioStages.t.sol:test_hedgedBookOnTheDefaultGrid` prunes on chain.
    assert.deepEqual(grid.pruned, [true, true, true, true, true, false, false, false, false]);
  });

  it("1,500 adversarial books and grids: every cell of a row left is the full grid's, every pruned cell bounded (review rv57)", () => {
    const strict = random(0xbadc0den);
    for (let c = 0; c < 1_500; c++) {
      const spot = strict.logUniform(10n ** 15n, 10n ** 24n);
      const columns = 3 + strict.int(3);
      // 3 … 45 / columns spot shocks, ±5 % always, the centre one time in two.
      const rows = 3 + strict.int(Math.floor(45 / columns) - 2);
      const shocks = new Set<bigint>([-5n * 10n ** 16n, 5n * 10n ** 16n]);
      if (strict.float() < 0.5) shocks.add(0n);
      while (shocks.size < rows) shocks.add(strict.range(-WAD / 2n, WAD / 2n));
      const spots = [...shocks].sort((a, b) => (a < b ? -1 : 1));
      // Vol shocks often from a small pool (ties, an exact ×1), skews often 0.
      const pool = [WAD / 4n, (7n * WAD) / 10n, WAD, (3n * WAD) / 2n, 4n * WAD];
      const vols = Array.from({ length: columns }, () =>
        strict.float() < 0.5 ? strict.pick(pool) : strict.range(WAD / 4n, 4n * WAD),
      );
      const skews = Array.from({ length: columns }, () => (strict.float() < 0.3 ? 0n : strict.range(0n, 2n * WAD)));
      if (strict.float() < 0.6) {
        // The skews sorted by vol shock: bounding columns exist unless ties decide otherwise.
        const order = [...vols.keys()].sort((a, b) => (vols[a]! < vols[b]! ? -1 : vols[a]! > vols[b]! ? 1 : 0));
        const sorted = [...skews].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        order.forEach((k, r) => {
          skews[k] = sorted[r]!;
        });
      }
      const book: (Pos & { strike: bigint; live: boolean })[] = [];
      for (let i = 0, n = 1 + strict.int(10); i < n; i++) {
        const strike = strict.logUniform(spot / 4n + 1n, spot * 4n);
        const isCall = strict.float() < 0.5;
        const live = strict.float() > 0.15;
        const T = strict.range(60n, 730n * DAY);
        const vol = strict.range(WAD / 50n, 3n * WAD);
        const size = strict.logUniform(1n, 10n ** 22n);
        const k = strict.int(9);
        const balance = k === 0 ? 0n : k % 2 === 0 ? size : -size;
        const intrinsic = isCall ? (spot > strike ? spot - strike : 0n) : strike > spot ? strike - spot : 0n;
        const markWad = live ? (isCall ? callPrice : putPrice)(spot, strike, T, vol) : intrinsic;
        const expiry = live ? NOW + T : NOW - 1n;
        const id = seriesId({ underlyingIndex: 1, expiry, isCall, strikeWad: strike });
        book.push({ seriesId: id, balance, markWad, volWad: vol, strike, live });
      }
      const held = strict.float() < 0.4 ? strict.logUniform(1n, 10n ** 22n) : 0n;
      const tails = [-WAD / 2n, WAD / 2n];
      const addBook = (g: Grid): void => {
        for (const p of book) addPosition(g, p.seriesId, p.balance, p.markWad, p.volWad, NOW);
      };
      const full = newGrid(spot, spots, vols, tails, skews);
      if (held !== 0n) addCollateral(full, held, 18);
      addBook(full);
      const grid = newGrid(spot, spots, vols, tails, skews);
      const staged = startStages(grid);
      const expected = boundingColumns(vols, skews);
      assert.equal(staged, expected.ok, `case ${c}: staged`);
      if (held !== 0n) addCollateral(grid, held, 18);
      addBook(grid);
      const base =
        strict.float() < 0.3 ? mulWadUp(worstTailLoss(grid), 35n * 10n ** 16n) : strict.range(0n, worstLoss(full) + 1n);
      if (staged && pruneRows(grid, base)) addBook(grid);
      assert.deepEqual(grid.tailPnl, full.tailPnl, `case ${c}: tails`);
      if (!staged) {
        assert.deepEqual(grid.pnl, full.pnl, `case ${c}: an unstaged grid is the full grid`);
        continue;
      }
      assert.deepEqual([grid.lo, grid.hi], [expected.lo, expected.hi], `case ${c}: lo and hi`);
      for (let i = 0; i < spots.length; i++) {
        const error = errorBound(
          full.shockedSpots[i]!,
          book.filter((p) => p.live),
        );
        for (let j = 0; j < columns; j++) {
          const cell = grid.pnl[i * columns + j]!;
          const fullCell = full.pnl[i * columns + j]!;
          if (!grid.pruned[i]) {
            assert.equal(cell, fullCell, `case ${c}: priced cell ${i},${j}`);
            continue;
          }
          assert.ok(cell >= -base, `case ${c}: a pruned cell loses more than the base`);
          assert.ok(cell <= fullCell + error, `case ${c}: bound ${cell} above the full cell ${fullCell} (+${error})`);
        }
      }
    }
  });
});
