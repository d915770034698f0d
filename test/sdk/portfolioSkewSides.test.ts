import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type PortfolioParams,
  addCollateral,
  addPosition,
  callPrice,
  newGrid,
  putPrice,
  seriesId,
  worstLoss,
} from "../../packages/sdk/src/index.js";
import { portfolioRequirementUp } from "../../packages/sdk/src/math/engine.js";

// Review rv21 K1, fixed: the put-wing skew moves shorts only (docs/portfolio-margin.md, "Skew").
// Before, a long in the middle of the put wing gained ~49× its price in the skewed crash column (the
// 300 % cap bounds only the extreme wing) and cheap far longs hid a book's crash loss. The SDK mirror
// equals the chain to the wei (test/sdk/portfolio.parity.test.ts), so these numbers are the engine's;
// test/unit/engine/PortfolioSkewSides.t.sol pins the covered-call case on chain.

const WAD = 10n ** 18n;
const NOW = 1_800_000_000n;
const DAY = 86_400n;
const SPOT = 3_000n * WAD;
const EXPIRY = NOW + 365n * DAY;
const SPOT_SHOCKS = Array.from({ length: 9 }, (_, i) => BigInt(i) * 45n * 10n ** 15n - 18n * 10n ** 16n);
const BASE: PortfolioParams = {
  spotShocksWad: SPOT_SHOCKS,
  volShocksWad: [15n * 10n ** 17n, WAD, 7n * 10n ** 17n],
  contingencyWad: 5n * 10n ** 15n,
  mmFactorWad: 8n * 10n ** 17n,
  tailShocksWad: [-WAD / 2n, -33n * 10n ** 16n, 33n * 10n ** 16n, WAD / 2n],
  tailWeightWad: 35n * 10n ** 16n,
};
const DEFAULT: PortfolioParams = { ...BASE, skewShocksWad: [WAD, 0n, 0n] };
const NO_SKEW: PortfolioParams = { ...BASE, skewShocksWad: [0n, 0n, 0n] };
const RISK = { aIM: 15n * 10n ** 16n, bIM: 10n ** 17n, aMM: 8n * 10n ** 16n, bMM: 5n * 10n ** 16n };
const VOL = 8n * 10n ** 17n; // 80 %, both legs (a flat-vol underlying)

function leg(isCall: boolean, strike: bigint, balance: bigint) {
  const id = seriesId({ underlyingIndex: 1, expiry: EXPIRY, isCall, strikeWad: strike * WAD });
  const markWad = (isCall ? callPrice : putPrice)(SPOT, strike * WAD, EXPIRY - NOW, VOL);
  return { seriesId: id, balance, markWad, volWad: VOL };
}
const put = (strike: bigint, balance: bigint) => leg(false, strike, balance);
type Pos = ReturnType<typeof leg>;

const req = (book: Pos[], p: PortfolioParams, held = 0n) => portfolioRequirementUp(SPOT, held, 18, book, p, RISK, NOW);

/** Worst grid loss of `book` (and `held` WETH) at the parallel shifts alone (no skew anywhere). */
function parallelCrashLoss(book: Pos[], held: bigint): bigint {
  const g = newGrid(SPOT, SPOT_SHOCKS, BASE.volShocksWad, [], [0n, 0n, 0n]);
  if (held !== 0n) addCollateral(g, held, 18);
  for (const p of book) addPosition(g, p.seriesId, p.balance, p.markWad, p.volWad, NOW);
  return worstLoss(g);
}

describe("portfolio skew: the put wing steepens for shorts only (rv21 K1 fixed)", () => {
  it("a long 600-strike put gains nothing more in the skewed column than at the parallel shift", () => {
    const wing = put(600n, WAD);
    const skewed = newGrid(SPOT, SPOT_SHOCKS, DEFAULT.volShocksWad, [], DEFAULT.skewShocksWad);
    const flat = newGrid(SPOT, SPOT_SHOCKS, NO_SKEW.volShocksWad, [], NO_SKEW.skewShocksWad);
    addPosition(skewed, wing.seriesId, WAD, wing.markWad, VOL, NOW);
    addPosition(flat, wing.seriesId, WAD, wing.markWad, VOL, NOW);
    assert.deepEqual(skewed.pnl, flat.pnl);
    // The same strike short does move: the skew is still a crash shock for the seller.
    const shortSkewed = newGrid(SPOT, SPOT_SHOCKS, DEFAULT.volShocksWad, [], DEFAULT.skewShocksWad);
    addPosition(shortSkewed, wing.seriesId, -WAD, wing.markWad, VOL, NOW);
    assert.ok(shortSkewed.pnl[0]! < -flat.pnl[0]!, "a short wing put loses more in the skewed crash column");
  });

  it("short 10 ATM puts: far long puts never cut the requirement below the parallel crash loss", () => {
    const book = [put(3_000n, -10n * WAD), put(600n, 5n * WAD)];
    const hedged = req(book, DEFAULT);
    assert.ok(hedged >= req(book, NO_SKEW), "the skew only ever adds to a book's requirement");
    assert.ok(hedged >= parallelCrashLoss(book, 0n));
  });

  it("covered-call book (floor 0): ten far puts for $82 change nothing under the skew", () => {
    const book = [leg(true, 3_000n, -10n * WAD), put(600n, 10n * WAD)];
    const held = 10n * WAD;
    assert.ok(book[1]!.markWad * 10n < 100n * WAD, "the ten longs cost under $100");
    assert.equal(req(book, DEFAULT, held), req(book, NO_SKEW, held));
    assert.ok(req(book, DEFAULT, held) >= parallelCrashLoss(book, held));
  });
});
