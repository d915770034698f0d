/**
 * Port of `contracts/libraries/MarginGate.sol`: the market's margin gate as a pure verdict on
 * one side of an action (`docs/margin-gate.md`), same names and fields, plus
 * `marginGateError`, the market's error for a refusal (`OptionMarket._gate`).
 */

/** What an action does to one side, as `MarginGate.Change`. */
export interface Change {
  /** Every position change moves a balance toward zero without crossing it. */
  reducing: boolean;
  /** A long of the side shrinks: sold, moved out, or netted by a short moved in. */
  givesUpLong: boolean;
}

/** A side's margin at a valid price, WAD, as `MarginGate.Margin`. */
export interface Margin {
  /** `equityIM − requirementIM`. */
  initialExcess: bigint;
  /** `equityMM − requirementMM`. */
  maintenanceExcess: bigint;
  /** `equityMM`. */
  maintenanceEquity: bigint;
}

/** A reducing side before the action, as `MarginGate.Before`. */
export interface Before {
  /** The engine could value the side; `margin` is meaningful only then. */
  priced: boolean;
  margin: Margin;
  /** Signed cash in cash units, when not priced. */
  cash: bigint;
}

/** A reducing side after the action, as `MarginGate.After`: margin if priced before, else cash and shorts. */
export interface After {
  margin: Margin;
  cash: bigint;
  holdsShort: boolean;
}

/** The gate's answer for one side, as `MarginGate.Verdict` (same order, so the same uint8). */
export enum Verdict {
  Pass = 0,
  NeedsInitialMarginCheck = 1,
  PausedNewRisk = 2,
  StillLiquidatable = 3,
  MaintenanceEquityFell = 4,
  RiskIncreased = 5,
}

/** A margin of zeros, for a state the gate does not read. */
export const ZERO_MARGIN: Margin = { initialExcess: 0n, maintenanceExcess: 0n, maintenanceEquity: 0n };

/**
 * The verdict on one side, as `MarginGate.verdict`. `afterState` is read only for a reducing
 * side: its margin if `beforeState.priced`, else its cash and shorts. `roundingWad` is one cash
 * unit in WAD (`unitWadUp(cashDecimals)`).
 *
 * @example
 * const margin = (initialExcess: bigint, maintenanceExcess: bigint) => ({ initialExcess, maintenanceExcess, maintenanceEquity: 1_000n * WAD });
 * const before = { priced: true, cash: 0n, margin: margin(-100n * WAD, 50n * WAD) };
 * // Closing part of a short: still below initial margin, but closer to it, so it passes.
 * const after = { holdsShort: true, cash: 0n, margin: margin(-60n * WAD, 70n * WAD) };
 * marginGateVerdict({ reducing: true, givesUpLong: false }, before, after, false, unitWadUp(6)) === MarginGateVerdict.Pass;
 * // New risk always goes to the engine's initial-margin check, and is refused while the market is paused.
 * marginGateVerdict({ reducing: false, givesUpLong: false }, before, after, false, unitWadUp(6)) === MarginGateVerdict.NeedsInitialMarginCheck;
 * marginGateVerdict({ reducing: false, givesUpLong: false }, before, after, true, unitWadUp(6)) === MarginGateVerdict.PausedNewRisk;
 */
export function verdict(
  change: Change,
  beforeState: Before,
  afterState: After,
  paused: boolean,
  roundingWad: bigint,
): Verdict {
  if (!change.reducing) return paused ? Verdict.PausedNewRisk : Verdict.NeedsInitialMarginCheck;
  if (!beforeState.priced) {
    // No liability left behind, or only safer (cash did not fall, no long given up).
    if (afterState.cash >= 0n && !afterState.holdsShort) return Verdict.Pass;
    if (!change.givesUpLong && afterState.cash >= beforeState.cash) return Verdict.Pass;
    return Verdict.NeedsInitialMarginCheck;
  }
  const prior = beforeState.margin;
  const post = afterState.margin;
  if (post.initialExcess >= 0n) return Verdict.Pass;
  if (prior.maintenanceExcess < 0n) {
    if (post.maintenanceExcess < 0n) return Verdict.StillLiquidatable;
    // "At the mark" allows for the premium's rounding and the engine's (a wei).
    if (post.maintenanceEquity < prior.maintenanceEquity - roundingWad - 1n) return Verdict.MaintenanceEquityFell;
    return Verdict.Pass;
  }
  if (post.initialExcess < prior.initialExcess || post.maintenanceExcess < prior.maintenanceExcess) {
    return Verdict.RiskIncreased;
  }
  return Verdict.Pass;
}

/**
 * Whether adding `delta` to `balance` moves it toward zero without crossing it, as `MarginGate.isReducing`.
 *
 * @example
 * isReducing(5n, -2n) === true;
 * isReducing(5n, -6n) === false; // crosses zero: new risk
 */
export function isReducing(balance: bigint, delta: bigint): boolean {
  return balance > 0n ? delta < 0n && -delta <= balance : balance < 0n && delta > 0n && delta <= -balance;
}

/** The market's custom error for a refused side, as `OptionMarket._gate` reverts. */
export type MarginGateError =
  | { name: "MarketPausedNewRisk"; args: readonly [account: bigint] }
  | { name: "MarketStillLiquidatable"; args: readonly [account: bigint, before: bigint, after: bigint] }
  | { name: "MarketMaintenanceEquityFell"; args: readonly [account: bigint, before: bigint, after: bigint] }
  | { name: "MarketRiskIncreased"; args: readonly [account: bigint, before: bigint, after: bigint] };

/**
 * The error and arguments `OptionMarket` reverts with for a refusing verdict; `undefined` for
 * `Pass` and `NeedsInitialMarginCheck` (the latter's outcome is the engine's `checkInitialMargin`).
 *
 * @example
 * const margin = (initialExcess: bigint, maintenanceExcess: bigint) => ({ initialExcess, maintenanceExcess, maintenanceEquity: 1_000n * WAD });
 * const before = { priced: true, cash: 0n, margin: margin(-100n * WAD, 50n * WAD) };
 * const after = { holdsShort: true, cash: 0n, margin: margin(-120n * WAD, 40n * WAD) }; // further below IM
 * const result = marginGateVerdict({ reducing: true, givesUpLong: false }, before, after, false, unitWadUp(6));
 * marginGateError(account, result, before, after); // { name: "MarketRiskIncreased", args: [account, -100n * WAD, -120n * WAD] }
 */
export function marginGateError(
  account: bigint,
  result: Verdict,
  beforeState: Before,
  afterState: After,
): MarginGateError | undefined {
  const prior = beforeState.margin;
  const post = afterState.margin;
  switch (result) {
    case Verdict.Pass:
    case Verdict.NeedsInitialMarginCheck:
      return undefined;
    case Verdict.PausedNewRisk:
      return { name: "MarketPausedNewRisk", args: [account] };
    case Verdict.StillLiquidatable:
      return { name: "MarketStillLiquidatable", args: [account, prior.maintenanceExcess, post.maintenanceExcess] };
    case Verdict.MaintenanceEquityFell:
      return { name: "MarketMaintenanceEquityFell", args: [account, prior.maintenanceEquity, post.maintenanceEquity] };
    case Verdict.RiskIncreased:
      return { name: "MarketRiskIncreased", args: [account, prior.initialExcess, post.initialExcess] };
  }
}
