import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type Curve, type Reference, scaleChart } from "./lib/scaleChart.js";

/**
 * `npm run bench:plot`: draws bench/gas.json's scale curves (written by `npm run bench`) with the
 * peers' published figures and issue 19's targets into docs/img/gas-scale.svg, shown in
 * docs/performance.md. It reads the committed snapshot, so the chart is redrawn without a chain.
 */
const STANDARD = "standard margin check (engine.accountMargin)";
const PORTFOLIO = "portfolio margin check (engine.accountMargin, PORTFOLIO)";
const FILL = "market.fill (both sides at n positions)";
const BID = "liquidator.bid";

/** The peers' figures quoted in issue 19's table (Lyra v2's managers, Aave v3). */
const PEERS: Reference[] = [
  { curve: STANDARD, label: "Lyra standard manager", positions: 16, gas: 966_000 },
  { curve: STANDARD, label: "Lyra standard manager", positions: 128, gas: 24_100_000 },
  { curve: PORTFOLIO, label: "Lyra PMRM", positions: 16, gas: 17_000_000 },
  { curve: BID, label: "Aave liquidationCall", positions: 1, gas: 351_000 },
];

/** Issue 19's targets (the bid's includes the auction start). */
const TARGETS: Reference[] = [
  { curve: STANDARD, label: "target", positions: 16, gas: 150_000 },
  { curve: STANDARD, label: "target", positions: 128, gas: 1_000_000 },
  { curve: PORTFOLIO, label: "target", positions: 16, gas: 1_200_000 },
  { curve: FILL, label: "target", positions: 1, gas: 300_000 },
  { curve: BID, label: "target", positions: 4, gas: 350_000 },
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
interface GasSnapshot {
  operations: Record<string, number>;
  marginView: Record<string, number>;
  portfolioView: Record<string, number>;
  blackScholes: Record<string, number>;
  scaleCurves?: Record<string, Curve>;
}
const snapshot = JSON.parse(await readFile(path.join(root, "bench/gas.json"), "utf8")) as GasSnapshot;
if (!snapshot.scaleCurves) {
  console.error("bench/gas.json has no scale curves: run `npm run bench` first");
  process.exit(1);
}
// The targets table of docs/performance.md, between its markers, from the same snapshot.
const TABLE_ROWS: {
  measure: string;
  row: (g: GasSnapshot) => number | undefined;
  peer: string;
  target: number;
  /**
   * The least gas the row's transaction or call can cost as Pledge is designed, before its own
   * code: the storage and accounts it must touch, the Black–Scholes prices it must compute
   * (docs/performance.md, "Floors"). Above the target, the target cannot be met without dropping
   * part of the design.
   */
  floor?: number;
  /** Why "met" cannot be judged from this row. */
  unjudged?: string;
}[] = [
  {
    measure: "standard margin check, 16 positions",
    row: (g) => g.marginView["engine.accountMargin, 16 positions"],
    peer: "Lyra standard manager 966k",
    target: 150_000,
    floor: 146_824,
  },
  {
    measure: "standard margin check, 128 positions",
    row: (g) => g.marginView["engine.accountMargin, 128 positions"],
    peer: "Lyra 24.1M",
    target: 1_000_000,
    floor: 700_536,
  },
  {
    measure: "portfolio margin check, 16 positions",
    row: (g) => g.portfolioView["engine.accountMargin, PORTFOLIO, 16 positions"],
    peer: "Lyra PMRM ~17M",
    target: 1_200_000,
    floor: 524_024,
  },
  {
    // The bench's PORTFOLIO book is shorts alone, priced in one vol column; a book of longs and
    // shorts is priced in each position's bounding column and, in the rows their bound leaves, in
    // every column (`PortfolioMath.columnsToPrice`, `startStages`), so it is measured and held to the
    // same target. Its floor: the reads and marks of the row above (170,424) and 240 cells at 1,700:
    // 16 positions × (9 + 4) in stage 1 and the two ETH rows stage 1 leaves, 8 positions × 2 columns
    // each (docs/performance.md).
    measure: "portfolio margin check, 16 positions, hedged (8 long)",
    row: (g) => g.portfolioView["engine.accountMargin, PORTFOLIO, 16 positions, hedged (8 long)"],
    peer: "Lyra PMRM ~17M",
    target: 1_200_000,
    floor: 578_424,
  },
  {
    // One transaction: `bid` on an account with no auction running opens the auction itself (a
    // keeper's usual path), so this row includes the start. The bench's bidder already holds one
    // of the four series, as the two-transaction rows' bidder does. The issue's row (fraction 1):
    // the rally leaves the account worth less than nothing and the fund is empty, so the bid's
    // payment goes through the backstop and writes the loss off, which the floor does not count.
    measure: "`liquidator.bid` starting the auction, 4 positions (insolvent, the fund empty)",
    row: (g) =>
      Object.entries(g.operations).find(([k]) =>
        k.startsWith("liquidator.bid starting the auction, 4 positions ("),
      )?.[1],
    peer: "Aave `liquidationCall` 351k",
    target: 350_000,
    floor: 220_876,
  },
  {
    // The usual liquidation: the same book with cash enough to stay above zero, so its bidder pays
    // into it and the bid takes the fraction that restores it (0.87), leaving it the rest.
    measure: "`liquidator.bid` starting the auction, 4 positions, solvent",
    row: (g) =>
      Object.entries(g.operations).find(([k]) =>
        k.startsWith("liquidator.bid starting the auction, 4 positions, solvent "),
      )?.[1],
    peer: "Aave `liquidationCall` 351k",
    target: 350_000,
  },
  {
    measure: "`vault.deposit`, top-up",
    row: (g) => g.operations["vault.deposit (collateral, top-up)"],
    peer: "Comet supply 143k",
    target: 55_000,
    floor: 53_444,
  },
  {
    measure: "`market.fill`, opening both positions",
    row: (g) => g.operations["market.fill (opens both positions, two margin checks)"],
    peer: "—",
    target: 300_000,
    floor: 176_097,
  },
  {
    measure: "Black–Scholes call, worst of 50 spread inputs",
    row: (g) => g.blackScholes["CallPrice (worst of 50 spread inputs)"],
    peer: "DeFiMath 2,955 (worst case)",
    target: 2_900,
  },
  {
    // The same box drawn at random with a fixed seed: the 50 fixed points do not hold the worst case.
    measure: "Black–Scholes call, worst of 1,000 sampled inputs",
    row: (g) => g.blackScholes["CallPrice (worst of 1000 sampled inputs)"],
    peer: "DeFiMath 2,955 (worst case)",
    target: 2_900,
  },
];
const n = (v: number) => v.toLocaleString("en-US");
const table = [
  "| measure | now (bench/gas.json) | peer | target | floor | |",
  "| --- | ---: | --- | ---: | ---: | --- |",
  ...TABLE_ROWS.map(({ measure, row, peer, target, floor, unjudged }) => {
    const now = row(snapshot);
    if (now === undefined) throw new Error(`bench/gas.json has no row for "${measure}"`);
    const status =
      unjudged ??
      (now <= target ? "met" : floor !== undefined && floor > target ? "target below the floor" : "not met");
    return `| ${measure} | ${n(now)} | ${peer} | ${n(target)} | ${floor === undefined ? "—" : n(floor)} | ${status} |`;
  }),
].join("\n");
const docPath = path.join(root, "docs/performance.md");
const doc = await readFile(docPath, "utf8");
const begin = "<!-- bench:plot begin -->";
const end = "<!-- bench:plot end -->";
if (!doc.includes(begin) || !doc.includes(end)) throw new Error("docs/performance.md lost its bench:plot markers");
await writeFile(
  docPath,
  `${doc.slice(0, doc.indexOf(begin) + begin.length)}\n${table}\n${doc.slice(doc.indexOf(end))}`,
);

const svg = scaleChart("Gas against positions held (log–log)", snapshot.scaleCurves, PEERS, TARGETS);
const out = path.join(root, "docs/img/gas-scale.svg");
await writeFile(out, svg);
console.log(`wrote ${path.relative(process.cwd(), out)} and the table of ${path.relative(process.cwd(), docPath)}`);
