/**
 * Port of `contracts/libraries/PortfolioMath.sol`: the scenario arithmetic of
 * portfolio margin (`docs/portfolio-margin.md`). One underlying's positions, and collateral in
 * the underlying itself, are revalued on a grid of spot × surface shocks (each vol column a parallel
 * vol multiplier and a put-wing steepening); the requirement is
 * the largest of the worst grid loss, the weighted worst loss over the tail spot shocks (at
 * unshocked vol) and the cover floor (each short charged the spread width to the long that really
 * covers it, else its standard requirement), plus a contingency per short contract. Same names, same arguments, same order of integer
 * operations and same rounding as the Solidity, so `accountMargin` equals the chain to the wei
 * (checked by `test/sdk/portfolio.parity.test.ts`). Line for line except the staged grid
 * (`startStages`), which adds each position's stage-1 change both to `pnl` and to one `bound` word
 * a row, where the contract parks it in one of two halves (longs, others) and adds it back in
 * `pruneRows`: the same sums, so the same numbers.
 *
 * Where the Solidity is checked arithmetic the port uses plain `bigint`s: the engine's bounds
 * (shocks within ±50 %, at most 64 positions, amounts < 2**127, prices < 2**120 WAD) keep every
 * sum far below 2**255, so checked and wrapping arithmetic give the same numbers there.
 */
import { lnMoneyness, volTerm, callPriceAt } from "./blackScholes.js";
import { signed, word } from "./evm.js";
import { MathOverflowError } from "./errors.js";
import { lnWad, mulWad, mulWadUp } from "./fixedPoint.js";
import { intrinsic, positionValue, tokenValueDown } from "./marginMath.js";
import { decodeSeries } from "./series.js";

const WAD = 10n ** 18n;
/** `PortfolioMath.MAX_SKEWED_VOL`: the put-wing skew never lifts a leg's vol above 300 %. */
export const MAX_SKEWED_VOL = 3n * WAD;
const U128_MAX = (1n << 128n) - 1n;

/**
 * One underlying's scenarios at the current spot, as `PortfolioMath.Grid`. `pnl` is
 * Σ (value in the scenario − value now) over everything added, scenario `i × volShocks + j` for
 * spot shock `i` and vol shock `j`.
 */
export interface Grid {
  spotWad: bigint;
  shockedSpots: bigint[];
  lnShifts: bigint[];
  volShocksWad: readonly bigint[];
  /** Put-wing skew of each vol column: vol per unit of max(0, ln(S/K)); absent entries are 0. */
  skewShocksWad: readonly bigint[];
  pnl: bigint[];
  /** Index of the zero spot shock, or −1 if the grid has none (`type(uint256).max` on chain). */
  centre: number;
  tailSpots: bigint[];
  tailShifts: bigint[];
  /** Σ (value − value now) at tail spot shock `k`, unshocked vol. */
  tailPnl: bigint[];
  /**
   * Staged pricing (`startStages`): 0 prices every column; 1 each live position in its bound
   * column alone (`lo` for a long, `hi` otherwise), adding its change there to `bound` too, and the
   * tails; 2 each live position in its other columns, in the rows `pruned` leaves.
   */
  stage: 0 | 1 | 2;
  lo: number;
  hi: number;
  /** Per spot row: whether stage 2 skips it (`pruneRows`). */
  pruned: boolean[];
  /**
   * Per spot row: the sum of the live positions' changes in their bound columns at stage 1; with
   * the collateral's and expired series' changes (`pruneRows`), the least any cell of the row can
   * show (`startStages`).
   */
  bound: bigint[];
}

/** One position as the scenario loops need it (`PortfolioMath.Leg`). */
interface Leg {
  balance: bigint;
  valueNow: bigint;
  strikeWad: bigint;
  isCall: boolean;
  lnMoneyness: bigint;
}

/**
 * A grid at `spotWad`: shocked spots round down, ln(1 + shock) once each.
 * `spotShocksWad` and `tailShocksWad` are signed fractions (−0.18e18 is −18 %), `volShocksWad`
 * vol multipliers, `skewShocksWad` the put-wing skew of each vol column (the chain has one per vol
 * shock; absent here means 0).
 *
 * @example
 * const grid = newGrid(3_000n * WAD, [-WAD / 10n, 0n, WAD / 10n], [WAD], [-WAD / 2n, WAD / 2n]);
 * grid.shockedSpots; // [2_700n * WAD, 3_000n * WAD, 3_300n * WAD]
 * grid.centre; // 1
 */
export function newGrid(
  spotWad: bigint,
  spotShocksWad: readonly bigint[],
  volShocksWad: readonly bigint[],
  tailShocksWad: readonly bigint[] = [],
  skewShocksWad: readonly bigint[] = [],
): Grid {
  const spots = spotShocksWad.length;
  const main = _shock(spotWad, spotShocksWad);
  const tail = _shock(spotWad, tailShocksWad);
  const grid: Grid = {
    spotWad,
    volShocksWad,
    skewShocksWad,
    shockedSpots: main.spots,
    lnShifts: main.shifts,
    pnl: new Array<bigint>(spots * volShocksWad.length).fill(0n),
    centre: -1,
    tailSpots: tail.spots,
    tailShifts: tail.shifts,
    tailPnl: new Array<bigint>(tailShocksWad.length).fill(0n),
    stage: 0,
    lo: 0,
    hi: 0,
    pruned: [],
    bound: [],
  };
  for (let i = 0; i < spots; i++) {
    if (spotShocksWad[i] === 0n) grid.centre = i;
  }
  return grid;
}

/**
 * The vol columns a book must be priced in, as `PortfolioMath.columnsToPrice`: when every balance
 * is short and one column has both the largest vol shock and the largest skew shock (the first
 * such column), that column alone decides the grid (a short's value is lowest at the highest vol
 * in every spot row); when every balance is long, the column with the least vol shock (the least
 * skew among equals, then the first) does (a long's vol takes no skew); otherwise every column,
 * unchanged. Absent skew entries are 0, as in `newGrid`.
 *
 * @example
 * const volShocks = [(3n * WAD) / 2n, WAD, (7n * WAD) / 10n]; // ×1.5, ×1, ×0.7
 * const skewShocks = [WAD, 0n, 0n]; // the put wing steepens in the ×1.5 column
 * columnsToPrice([-WAD, -2n * WAD], volShocks, skewShocks); // { volShocksWad: [(3n * WAD) / 2n], skewShocksWad: [WAD] }
 * columnsToPrice([WAD, 2n * WAD], volShocks, skewShocks); // { volShocksWad: [(7n * WAD) / 10n], skewShocksWad: [0n] }
 * columnsToPrice([-WAD, WAD], volShocks, skewShocks).volShocksWad.length; // 3: longs and shorts
 */
export function columnsToPrice(
  balances: readonly bigint[],
  volShocksWad: readonly bigint[],
  skewShocksWad: readonly bigint[] = [],
): { volShocksWad: readonly bigint[]; skewShocksWad: readonly bigint[] } {
  const all = { volShocksWad, skewShocksWad };
  if (volShocksWad.length < 2) return all;
  const shorts = balances.every((b) => b < 0n);
  const longs = balances.every((b) => b > 0n);
  if (!shorts && !longs) return all;
  const { lo, hi, hiLargestSkew } = _boundingColumns(volShocksWad, skewShocksWad);
  let kept: number;
  if (shorts && hiLargestSkew) kept = hi;
  else if (longs) kept = lo;
  else return all;
  return { volShocksWad: [volShocksWad[kept]!], skewShocksWad: [skewShocksWad[kept] ?? 0n] };
}

/**
 * Starts staged pricing of a fresh grid, as `PortfolioMath.startStages`: with at least three vol
 * columns, one (`lo`) with both the smallest vol shock and the smallest skew shock and another
 * (`hi`) with both the largest, the positions are added at stage 1 (each live position in its bound
 * column alone, `lo` for a long and `hi` otherwise, and the tails), then, after `pruneRows`, at
 * stage 2 (each in its other columns, in the rows left). Returns whether it started. Absent skew
 * entries are 0, as in `newGrid`.
 *
 * @example
 * const spotWad = 60_000n * WAD;
 * const volWad = 6n * 10n ** 17n;
 * const volShocks = [(3n * WAD) / 2n, WAD, (7n * WAD) / 10n]; // ×1.5, ×1, ×0.7
 * const grid = newGrid(spotWad, [-WAD / 10n, 0n, WAD / 10n], volShocks, [-WAD / 2n, WAD / 2n], [WAD, 0n, 0n]);
 * startStages(grid); // true: lo = 2 (×0.7, skew 0), hi = 0 (×1.5, skew 1)
 * const { strikeWad } = decodeSeries(seriesId); // the scene's WBTC call
 * const markWad = callPrice(spotWad, strikeWad, expiry - now, volWad);
 * const addBook = () => addPosition(grid, seriesId, 10n ** 18n, markWad, volWad, now); // long one contract
 * addBook(); // stage 1: the long in column lo, and the tails
 * if (pruneRows(grid, mulWadUp(worstTailLoss(grid), WAD / 2n))) addBook(); // stage 2, if a row is left
 * worstLoss(grid); // the full grid's worst loss, up to the prices' error
 */
export function startStages(grid: Grid): boolean {
  if (grid.volShocksWad.length < 3) return false;
  const { lo, hi, loLeastSkew, hiLargestSkew } = _boundingColumns(grid.volShocksWad, grid.skewShocksWad);
  if (lo === hi || !loLeastSkew || !hiLargestSkew) return false;
  grid.stage = 1;
  grid.lo = lo;
  grid.hi = hi;
  grid.bound = new Array<bigint>(grid.shockedSpots.length).fill(0n);
  return true;
}

/**
 * As `PortfolioMath._boundingColumns`: the first column with the least vol shock and, among those,
 * the least skew shock (`lo`), the first with the largest vol shock and then the largest skew
 * shock (`hi`), and whether `lo`'s skew shock is the least of all and `hi`'s the largest.
 */
function _boundingColumns(
  vols: readonly bigint[],
  skews: readonly bigint[],
): { lo: number; hi: number; loLeastSkew: boolean; hiLargestSkew: boolean } {
  const skew = (j: number): bigint => skews[j] ?? 0n;
  let lo = 0;
  let hi = 0;
  let minSkew = skew(0);
  let maxSkew = minSkew;
  for (let j = 1; j < vols.length; j++) {
    const shock = vols[j]!;
    if (shock > vols[hi]! || (shock === vols[hi]! && skew(j) > skew(hi))) hi = j;
    if (shock < vols[lo]! || (shock === vols[lo]! && skew(j) < skew(lo))) lo = j;
    if (skew(j) > maxSkew) maxSkew = skew(j);
    if (skew(j) < minSkew) minSkew = skew(j);
  }
  return { lo, hi, loLeastSkew: skew(lo) === minSkew, hiLargestSkew: skew(hi) === maxSkew };
}

/**
 * Ends stage 1, as `PortfolioMath.pruneRows`: a row whose `bound` loses no more than `atLeast`
 * (what the requirement is at least without the grid: the weighted worst tail loss, the cover
 * floor) cannot raise the requirement; every cell of it is set to `bound` and is not priced at
 * stage 2. Returns whether a row is left.
 *
 * @example
 * const spotWad = 60_000n * WAD;
 * const grid = newGrid(spotWad, [-WAD / 10n, 0n, WAD / 10n], [(3n * WAD) / 2n, WAD, (7n * WAD) / 10n], [-WAD / 2n, WAD / 2n], [WAD, 0n, 0n]);
 * startStages(grid);
 * const { strikeWad } = decodeSeries(seriesId); // the scene's WBTC call
 * const markWad = callPrice(spotWad, strikeWad, expiry - now, 6n * 10n ** 17n);
 * addPosition(grid, seriesId, 10n ** 18n, markWad, 6n * 10n ** 17n, now); // long one contract
 * pruneRows(grid, 0n); // true: at ×0.7 the long loses where spot falls or stays, and nothing offsets it
 * grid.pruned; // [false, false, true]
 */
export function pruneRows(grid: Grid, atLeast: bigint): boolean {
  const vols = grid.volShocksWad.length;
  const rows = grid.bound.length;
  // A column other than `lo` and `hi`: at stage 1 it holds the collateral's and expired series'
  // changes alone, the same in every column, whenever they were added (the contract reads them from
  // column 0, where it has added nothing else).
  let m = 0;
  while (m === grid.lo || m === grid.hi) m++;
  let left = false;
  grid.pruned = new Array<boolean>(rows).fill(false);
  for (let i = 0; i < rows; i++) {
    const rowBound = grid.bound[i]! + grid.pnl[i * vols + m]!;
    if (rowBound < -atLeast) {
      left = true;
      continue;
    }
    grid.pruned[i] = true;
    for (let j = 0; j < vols; j++) grid.pnl[i * vols + j] = rowBound;
  }
  grid.stage = 2;
  return left;
}

/**
 * Adds `tokens` native units of the underlying itself (collateral) to the grid.
 *
 * @example
 * const grid = newGrid(3_000n * WAD, [-WAD / 10n, 0n, WAD / 10n], [WAD]);
 * addCollateral(grid, 2n * 10n ** 18n, 18); // 2 WETH move with every ETH spot shock
 * grid.pnl; // [-600n * WAD, 0n, 600n * WAD]
 */
export function addCollateral(grid: Grid, tokens: bigint, decimals: number): void {
  const valueNow = signed(tokenValueDown(tokens, decimals, grid.spotWad));
  const vols = grid.volShocksWad.length;
  for (let i = 0; i < grid.shockedSpots.length; i++) {
    const change = signed(tokenValueDown(tokens, decimals, grid.shockedSpots[i]!)) - valueNow;
    for (let j = 0; j < vols; j++) {
      grid.pnl[i * vols + j]! += change;
    }
  }
  for (let k = 0; k < grid.tailSpots.length; k++) {
    grid.tailPnl[k]! += signed(tokenValueDown(tokens, decimals, grid.tailSpots[k]!)) - valueNow;
  }
}

/**
 * Adds a position of `balance` contracts of `seriesId`, now marked at `markWad` with vol `volWad`,
 * to the grid. A live series is repriced with Black–Scholes at every spot shock and, in vol column
 * `j`, its own vol times `volShocksWad[j]` plus `skewShocksWad[j]` × max(0, ln(S/K)) at the current
 * spot (strikes below spot, calls and puts alike, are the put wing; the skew's part capped at
 * `MAX_SKEWED_VOL`), and at every tail spot (its unshocked vol); an expired one whose
 * settlement price is not posted yet is worth its intrinsic value at the shocked spot
 * (positions with a posted price carry no risk and are never added).
 *
 * @example
 * const { timestamp } = await publicClient.getBlock();
 * const { strikeWad, expiry } = decodeSeries(seriesId); // the scene's WBTC call
 * const [spotWad, volWad] = [60_000n * WAD, 6n * 10n ** 17n];
 * const markWad = callPrice(spotWad, strikeWad, expiry - timestamp, volWad);
 * const grid = newGrid(spotWad, [-WAD / 10n, 0n, WAD / 10n], [WAD]);
 * addPosition(grid, seriesId, -(10n ** 18n), markWad, volWad, timestamp); // short one contract
 * grid.pnl[0] > 0n && grid.pnl[2] < 0n; // true: a short call gains when spot falls, loses when it rises
 */
export function addPosition(
  grid: Grid,
  seriesId: bigint,
  balance: bigint,
  markWad: bigint,
  volWad: bigint,
  timestamp: bigint,
): void {
  const { expiry, isCall, strikeWad } = decodeSeries(seriesId);
  const leg: Leg = {
    balance,
    valueNow: positionValue(balance, markWad),
    strikeWad,
    isCall,
    lnMoneyness: 0n,
  };
  if (timestamp >= expiry) {
    // An expired series changes every column alike: added once, at stage 1.
    if (grid.stage !== 2) _addExpired(grid, leg);
    return;
  }
  leg.lnMoneyness = lnMoneyness(grid.spotWad, leg.strikeWad);
  // How far into the put wing the strike is: ln(S/K) when K < S, else 0. Shorts only, as on chain
  // (review rv21 K1: a long far down the wing must not gain at the steeper skew).
  const putWing = balance < 0n && leg.lnMoneyness > 0n ? leg.lnMoneyness : 0n;
  // Stage 1 prices the leg's bound column alone, stage 2 its others (`startStages`).
  const boundColumn = balance > 0n ? grid.lo : grid.hi;
  for (let j = 0; j < grid.volShocksWad.length; j++) {
    if (grid.stage !== 0 && (j === boundColumn) !== (grid.stage === 1)) continue;
    const { vol, unshocked } = _columnVol(volWad, grid.volShocksWad[j]!, grid.skewShocksWad[j] ?? 0n, putWing);
    _addVolColumn(grid, leg, j, volTerm(vol, expiry - timestamp), unshocked);
  }
  if (grid.stage === 2) return;
  _addTails(grid, leg, volTerm(volWad, expiry - timestamp));
}

/** Reprices a live position at every tail spot, at its unshocked vol (σ√(2T) = `term`). */
function _addTails(grid: Grid, leg: Leg, term: bigint): void {
  for (let k = 0; k < grid.tailSpots.length; k++) {
    grid.tailPnl[k]! += _change(leg, grid.tailSpots[k]!, grid.tailShifts[k]!, term);
  }
}

/**
 * The largest loss over the grid's scenarios, 0 if none loses.
 *
 * @example
 * const grid = newGrid(3_000n * WAD, [-WAD / 10n, 0n, WAD / 10n], [WAD]);
 * addCollateral(grid, 10n ** 18n, 18); // 1 WETH
 * worstLoss(grid); // 300n * WAD
 */
export function worstLoss(grid: Grid): bigint {
  return _worst(grid.pnl);
}

/**
 * The largest loss over the tail scenarios, 0 if none loses (not yet weighted).
 *
 * @example
 * const grid = newGrid(3_000n * WAD, [0n], [WAD], [-WAD / 2n, WAD / 2n]);
 * addCollateral(grid, 10n ** 18n, 18); // 1 WETH
 * worstTailLoss(grid); // 1_500n * WAD
 * // The requirement counts it at the market's `tailWeightWad`, e.g. 50 %:
 * mulWadUp(worstTailLoss(grid), WAD / 2n); // 750n * WAD
 */
export function worstTailLoss(grid: Grid): bigint {
  return _worst(grid.tailPnl);
}

/**
 * The cover floor (SPAN's short-option minimum), rounded up, as `PortfolioMath.coverFloorUp`: shorts riskiest first
 * (puts by descending strike, calls by ascending strike, ties: the latest expiry); a short call is
 * first covered by `heldWad` units of the underlying held; then each short takes the best
 * remaining eligible long of its kind (same or later expiry; put: highest strike, call: lowest;
 * ties: the earliest expiry), never by position order, until covered or no long would lower its charge. A matched contract
 * pays the spread width (0 when the long's strike is on the covering side), the rest its
 * standard requirement `perContractUp[i]`; a long is used at most once.
 *
 * @example
 * import { seriesId as packSeriesId } from "@pledge/sdk";
 *
 * const put = (strike: bigint) => packSeriesId({ underlyingIndex: 1, expiry, isCall: false, strikeWad: strike * WAD });
 * // 1,000 short 2000 puts covered by 1,000 long 1900 puts pay the 100 USD spread, not their 200 USD requirement.
 * coverFloorUp([put(2_000n), put(1_900n)], [-1_000n * WAD, 1_000n * WAD], [200n * WAD, 0n], 0n); // 100_000n * WAD
 */
export function coverFloorUp(
  seriesIds: readonly bigint[],
  balances: readonly bigint[],
  perContractUp: readonly bigint[],
  heldWad: bigint,
): bigint {
  const n = seriesIds.length;
  const series = seriesIds.map((id) => decodeSeries(id));
  const left = balances.map((b) => (b < 0n ? -b : b));
  let floor = 0n;
  for (;;) {
    // The riskiest uncovered short.
    let s = n;
    let bestKey = 0n;
    for (let i = 0; i < n; i++) {
      if (balances[i]! >= 0n || left[i] === 0n) continue;
      const key = series[i]!.isCall ? U128_MAX - series[i]!.strikeWad : series[i]!.strikeWad;
      if (s === n || key > bestKey || (key === bestKey && series[i]!.expiry > series[s]!.expiry))
        [s, bestKey] = [i, key];
    }
    if (s === n) break;
    let size = left[s]!;
    left[s] = 0n;
    const short = series[s]!;
    if (short.isCall && heldWad !== 0n) {
      const held = size < heldWad ? size : heldWad;
      heldWad -= held;
      size -= held;
    }
    while (size !== 0n) {
      // The best remaining eligible long.
      let l = n;
      let bestStrike = 0n;
      for (let i = 0; i < n; i++) {
        const c = series[i]!;
        if (balances[i]! <= 0n || left[i] === 0n) continue;
        if (c.isCall !== short.isCall || c.expiry < short.expiry) continue;
        const better = short.isCall ? c.strikeWad < bestStrike : c.strikeWad > bestStrike;
        if (l === n || better || (c.strikeWad === bestStrike && c.expiry < series[l]!.expiry))
          [l, bestStrike] = [i, c.strikeWad];
      }
      if (l === n) break;
      const width = _width(short.isCall, short.strikeWad, series[l]!.strikeWad);
      if (width >= perContractUp[s]!) break;
      const matched = size < left[l]! ? size : left[l]!;
      left[l] = left[l]! - matched;
      size -= matched;
      floor += mulWadUp(matched, width);
    }
    floor += mulWadUp(size, perContractUp[s]!);
  }
  return floor;
}

/**
 * The contingency, rounded up: `contingencyWad` of spot per short contract.
 *
 * @example
 * contingencyUp(10n ** 18n, 3_000n * WAD, 5n * 10n ** 15n); // 15n * WAD: 0.5 % of spot for one short contract
 */
export function contingencyUp(shorts: bigint, spotWad: bigint, contingencyWad: bigint): bigint {
  return mulWadUp(mulWadUp(shorts, spotWad), contingencyWad);
}

/**
 * A token amount in native units as WAD units (for covering short calls), rounded down.
 *
 * @example
 * tokensToWad(150_000_000n, 8) === 15n * 10n ** 17n; // 1.5 WBTC
 */
export function tokensToWad(tokens: bigint, decimals: number): bigint {
  if (decimals <= 18) {
    const scaled = tokens * 10n ** BigInt(18 - decimals);
    if (scaled >> 256n !== 0n) throw new MathOverflowError();
    return scaled;
  }
  return tokens / 10n ** BigInt(decimals - 18);
}

/**
 * The vol of a leg (marked at `volWad`, `putWing` = max(0, ln(S/K))) in a column, as
 * `PortfolioMath._columnVol`: `volWad × volShock` rounded down plus `skew × putWing` rounded down,
 * that part capped so the sum stays at most `MAX_SKEWED_VOL`. `unshocked`: a flat column that
 * adds no skew to this leg.
 */
function _columnVol(
  volWad: bigint,
  volShock: bigint,
  skew: bigint,
  putWing: bigint,
): { vol: bigint; unshocked: boolean } {
  let vol = mulWad(volWad, volShock);
  const added = mulWad(skew, putWing);
  if (added !== 0n) {
    const room = MAX_SKEWED_VOL > vol ? MAX_SKEWED_VOL - vol : 0n;
    vol += added < room ? added : room;
  }
  return { vol, unshocked: volShock === WAD && vol === volWad };
}

/**
 * Reprices a live position at every spot shock for vol shock `j` (σ√(2T) = `term`), skipping
 * the unshocked scenario, which changes nothing.
 */
function _addVolColumn(grid: Grid, leg: Leg, j: number, term: bigint, unshocked: boolean): void {
  const spots = grid.shockedSpots;
  const shifts = grid.lnShifts;
  const pnl = grid.pnl;
  const vols = grid.volShocksWad.length;
  // The unshocked scenario changes nothing: skip it; stage 2 skips the pruned rows too.
  const skip = unshocked ? grid.centre : -1;
  // Stage 1 prices the leg's bound column alone (`addPosition`), which adds to `bound` too.
  const toBound = grid.stage === 1;
  for (let i = 0; i < spots.length; i++) {
    if (i === skip || (grid.stage === 2 && grid.pruned[i])) continue;
    const change = _change(leg, spots[i]!, shifts[i]!, term);
    pnl[i * vols + j]! += change;
    if (toBound) grid.bound[i]! += change;
  }
}

/** An expired position not yet settled: intrinsic value at each shocked spot, any vol. */
function _addExpired(grid: Grid, leg: Leg): void {
  const vols = grid.volShocksWad.length;
  for (let i = 0; i < grid.shockedSpots.length; i++) {
    const change = _expiredChange(leg, grid.shockedSpots[i]!);
    for (let j = 0; j < vols; j++) {
      grid.pnl[i * vols + j]! += change;
    }
  }
  for (let k = 0; k < grid.tailSpots.length; k++) {
    grid.tailPnl[k]! += _expiredChange(leg, grid.tailSpots[k]!);
  }
}

function _expiredChange(leg: Leg, spot: bigint): bigint {
  return positionValue(leg.balance, intrinsic(leg.isCall, spot, leg.strikeWad)) - leg.valueNow;
}

/**
 * The change in value of `leg` at `spot` (ln shift `shift`, σ√(2T) = `term`). The contract writes
 * this cell out in its loop (`PortfolioMath._addCells`: the ys inline, `BlackScholes.terms`, the
 * clamps, parity and value in assembly, only the spot checked against `callPriceAt`'s guard); the
 * results and the revert are `callPriceAt`'s and `positionValue`'s, which this mirror keeps as an
 * independent reference.
 */
function _change(leg: Leg, spot: bigint, shift: bigint, term: bigint): bigint {
  let price = callPriceAt(spot, leg.strikeWad, leg.lnMoneyness + shift, term);
  // Put by parity, exact in integers; the call is at least max(S − K, 0): no underflow.
  if (!leg.isCall) price = price + leg.strikeWad - spot;
  // The contract computes this value inline, without positionValue's checks (|balance| × price
  // provably fits); the result is the same, and calling positionValue here keeps an independent check.
  return positionValue(leg.balance, price) - leg.valueNow;
}

/** Shocked spots (rounded down) and ln(1 + shock); shocks are within ±50 %, factors in [0.5, 1.5]. */
function _shock(spotWad: bigint, shocksWad: readonly bigint[]): { spots: bigint[]; shifts: bigint[] } {
  const spots: bigint[] = [];
  const shifts: bigint[] = [];
  for (const shock of shocksWad) {
    const factor = word(WAD + shock);
    spots.push(mulWad(spotWad, factor));
    shifts.push(lnWad(signed(factor)));
  }
  return { spots, shifts };
}

function _worst(pnl: readonly bigint[]): bigint {
  let loss = 0n;
  for (const value of pnl) {
    if (value < 0n && -value > loss) loss = -value;
  }
  return loss;
}

function _width(isCall: boolean, shortStrike: bigint, longStrike: bigint): bigint {
  if (isCall) return longStrike > shortStrike ? longStrike - shortStrike : 0n;
  return shortStrike > longStrike ? shortStrike - longStrike : 0n;
}
