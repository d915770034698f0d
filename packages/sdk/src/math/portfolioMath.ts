/**
 * Line-for-line port of `contracts/libraries/PortfolioMath.sol`: the scenario arithmetic of
 * portfolio margin (`docs/portfolio-margin.md`). One underlying's positions, and collateral in
 * the underlying itself, are revalued on a grid of spot × volatility shocks; the requirement is
 * the worst loss, floored by the standard requirement of the short contracts nothing hedges,
 * plus a contingency per short contract. Same names, same arguments, same order of integer
 * operations and same rounding as the Solidity, so `accountMargin` equals the chain to the wei
 * (checked by `test/sdk/portfolio.parity.test.ts`).
 *
 * Where the Solidity is checked arithmetic the port uses plain `bigint`s: the engine's bounds
 * (shocks within ±50 %, at most 64 positions, amounts < 2**127, prices < 2**120 WAD) keep every
 * sum far below 2**255, so checked and wrapping arithmetic give the same numbers there.
 */
import { lnMoneyness, volTerm, callPriceAt } from "./blackScholes.js";
import { signed, word } from "./evm.js";
import { MathOverflowError } from "./errors.js";
import { lnWad, mulDivUp, mulWad, mulWadUp } from "./fixedPoint.js";
import { intrinsic, positionRequirementUp, positionValue, tokenValueDown } from "./marginMath.js";
import { decodeSeries } from "./series.js";

const WAD = 10n ** 18n;

/**
 * One underlying's scenarios at the current spot and vol, as `PortfolioMath.Grid`. `pnl` is
 * Σ (value in the scenario − value now) over everything added, scenario `i × volShocks + j` for
 * spot shock `i` and vol shock `j`.
 */
export interface Grid {
  spotWad: bigint;
  volWad: bigint;
  shockedSpots: bigint[];
  lnShifts: bigint[];
  volShocksWad: readonly bigint[];
  pnl: bigint[];
  /** Index of the zero spot shock, or −1 if the grid has none (`type(uint256).max` on chain). */
  centre: number;
}

/** Contract counts and standard requirements of one underlying's book, WAD, as `PortfolioMath.Exposure`. */
export interface Exposure {
  shortCalls: bigint;
  longCalls: bigint;
  shortPuts: bigint;
  longPuts: bigint;
  callStandardUp: bigint;
  putStandardUp: bigint;
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
 * A grid at `spotWad` and `volWad`: shocked spots round down, ln(1 + shock) once each.
 * `spotShocksWad` are signed fractions (−0.18e18 is −18 %), `volShocksWad` vol multipliers.
 *
 * @example
 * const grid = newGrid(3_000n * WAD, 8n * 10n ** 17n, [-WAD / 10n, 0n, WAD / 10n], [WAD]);
 * grid.shockedSpots; // [2700e18, 3000e18, 3300e18]
 */
export function newGrid(
  spotWad: bigint,
  volWad: bigint,
  spotShocksWad: readonly bigint[],
  volShocksWad: readonly bigint[],
): Grid {
  const spots = spotShocksWad.length;
  const grid: Grid = {
    spotWad,
    volWad,
    volShocksWad,
    shockedSpots: new Array<bigint>(spots),
    lnShifts: new Array<bigint>(spots),
    pnl: new Array<bigint>(spots * volShocksWad.length).fill(0n),
    centre: -1,
  };
  for (let i = 0; i < spots; i++) {
    if (spotShocksWad[i] === 0n) grid.centre = i;
    // Shocks are bounded to ±50 % by the engine, so the factor is in [0.5, 1.5] WAD.
    const factor = word(WAD + spotShocksWad[i]!);
    grid.shockedSpots[i] = mulWad(spotWad, factor);
    grid.lnShifts[i] = lnWad(signed(factor));
  }
  return grid;
}

/**
 * Adds `tokens` native units of the underlying itself (collateral) to the grid.
 *
 * @example
 * addCollateral(grid, 2n * 10n ** 18n, 18); // 2 WETH move with every ETH spot shock
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
}

/**
 * Adds a position of `balance` contracts of `seriesId`, now marked at `markWad`, to the grid. A
 * live series is repriced with Black–Scholes at every (spot, vol) point; an expired one whose
 * settlement price is not posted yet is worth its intrinsic value at the shocked spot
 * (positions with a posted price carry no risk and are never added).
 *
 * @example
 * addPosition(grid, seriesId, -10n ** 18n, markWad, timestamp); // short one contract
 */
export function addPosition(grid: Grid, seriesId: bigint, balance: bigint, markWad: bigint, timestamp: bigint): void {
  const { expiry, isCall, strikeWad } = decodeSeries(seriesId);
  const leg: Leg = {
    balance,
    valueNow: positionValue(balance, markWad),
    strikeWad,
    isCall,
    lnMoneyness: 0n,
  };
  if (timestamp >= expiry) {
    _addExpired(grid, leg);
    return;
  }
  leg.lnMoneyness = lnMoneyness(grid.spotWad, leg.strikeWad);
  for (let j = 0; j < grid.volShocksWad.length; j++) {
    const term = volTerm(mulWad(grid.volWad, grid.volShocksWad[j]!), expiry - timestamp);
    _addVolColumn(grid, leg, j, term);
  }
}

/**
 * The largest loss over the grid's scenarios, 0 if none loses.
 *
 * @example
 * const loss = worstLoss(grid);
 */
export function worstLoss(grid: Grid): bigint {
  let loss = 0n;
  for (const pnl of grid.pnl) {
    if (pnl < 0n && -pnl > loss) loss = -pnl;
  }
  return loss;
}

/**
 * A fresh, empty `Exposure` (Solidity's zero-initialised memory struct).
 *
 * @example
 * const exposure = newExposure();
 * addExposure(exposure, true, -10n ** 18n, 450n * WAD);
 */
export function newExposure(): Exposure {
  return { shortCalls: 0n, longCalls: 0n, shortPuts: 0n, longPuts: 0n, callStandardUp: 0n, putStandardUp: 0n };
}

/**
 * Counts a position of `balance` contracts into `exposure`; a short also adds its standard
 * requirement (`perContractUp`, from `shortRequirementUp`).
 *
 * @example
 * addExposure(exposure, false, -2n * 10n ** 18n, shortRequirementUp(false, spot, strike, aIM, bIM));
 */
export function addExposure(exposure: Exposure, isCall: boolean, balance: bigint, perContractUp: bigint): void {
  if (balance > 0n) {
    if (isCall) exposure.longCalls += balance;
    else exposure.longPuts += balance;
    return;
  }
  const size = -balance;
  const standard = positionRequirementUp(balance, perContractUp);
  if (isCall) {
    exposure.shortCalls += size;
    exposure.callStandardUp += standard;
  } else {
    exposure.shortPuts += size;
    exposure.putStandardUp += standard;
  }
}

/**
 * The short-option minimum, rounded up: the share of short calls that neither long calls nor
 * `coverWad` units of the underlying held cover, times the standard requirement of all short
 * calls; likewise for puts, covered by long puts. A naked book therefore needs at least its
 * standard requirement; a fully covered one needs none.
 *
 * @example
 * const floor = nakedFloorUp(exposure, tokensToWad(wethHeld, 18));
 */
export function nakedFloorUp(exposure: Exposure, coverWad: bigint): bigint {
  let floor = 0n;
  const callCover = exposure.longCalls + coverWad;
  if (exposure.shortCalls > callCover) {
    floor = mulDivUp(exposure.callStandardUp, exposure.shortCalls - callCover, exposure.shortCalls);
  }
  if (exposure.shortPuts > exposure.longPuts) {
    floor += mulDivUp(exposure.putStandardUp, exposure.shortPuts - exposure.longPuts, exposure.shortPuts);
  }
  return floor;
}

/**
 * The contingency, rounded up: `contingencyWad` of spot per short contract.
 *
 * @example
 * contingencyUp(exposure, 3_000n * WAD, 5n * 10n ** 15n); // 0.5 % of spot per short contract
 */
export function contingencyUp(exposure: Exposure, spotWad: bigint, contingencyWad: bigint): bigint {
  const shorts = exposure.shortCalls + exposure.shortPuts;
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
 * Reprices a live position at every spot shock for vol shock `j` (σ√(2T) = `term`), skipping
 * the unshocked scenario, which changes nothing.
 */
function _addVolColumn(grid: Grid, leg: Leg, j: number, term: bigint): void {
  const spots = grid.shockedSpots;
  const shifts = grid.lnShifts;
  const pnl = grid.pnl;
  const vols = grid.volShocksWad.length;
  // The unshocked scenario changes nothing: skip it.
  const skip = grid.volShocksWad[j] === WAD ? grid.centre : -1;
  for (let i = 0; i < spots.length; i++) {
    if (i === skip) continue;
    const spot = spots[i]!;
    let price = callPriceAt(spot, leg.strikeWad, leg.lnMoneyness + shifts[i]!, term);
    // Put by parity, exact in integers; the call is at least max(S − K, 0): no underflow.
    if (!leg.isCall) price = price + leg.strikeWad - spot;
    const change = positionValue(leg.balance, price) - leg.valueNow;
    pnl[i * vols + j]! += change;
  }
}

/** An expired position not yet settled: intrinsic value at each shocked spot, any vol. */
function _addExpired(grid: Grid, leg: Leg): void {
  const vols = grid.volShocksWad.length;
  for (let i = 0; i < grid.shockedSpots.length; i++) {
    const price = intrinsic(leg.isCall, grid.shockedSpots[i]!, leg.strikeWad);
    const change = positionValue(leg.balance, price) - leg.valueNow;
    for (let j = 0; j < vols; j++) {
      grid.pnl[i * vols + j]! += change;
    }
  }
}
