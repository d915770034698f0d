import { callPrice, putPrice } from "./blackScholes.js";
import {
  applyHaircutDown,
  cashToWad,
  intrinsic,
  positionRequirementUp,
  positionValue,
  shortRequirementUp,
  tokenValueDown,
} from "./marginMath.js";
import { decodeSeries } from "./series.js";

/** Where an account stands, as `IMarginEngine.Health`. */
export const Health = { HEALTHY: 0, MARGIN_CALL: 1, LIQUIDATABLE: 2, INSOLVENT: 3 } as const;
export type Health = (typeof Health)[keyof typeof Health];

/** Standard margin parameters of one underlying, WAD, as `IMarginEngine.RiskParams`. */
export interface RiskParams {
  aIM: bigint;
  bIM: bigint;
  aMM: bigint;
  bMM: bigint;
}

/** One account's margin, field for field as `IMarginEngine.MarginState`. */
export interface MarginState {
  equityIM: bigint;
  equityMM: bigint;
  requirementIM: bigint;
  requirementMM: bigint;
  health: Health;
  markValue: bigint;
}

/** One collateral balance with its price and haircuts. */
export interface CollateralInput {
  amount: bigint;
  decimals: number;
  priceWad: bigint;
  initialHaircutWad: bigint;
  maintenanceHaircutWad: bigint;
}

/** What the engine reads about one underlying. */
export interface UnderlyingInput {
  spotWad: bigint;
  volWad: bigint;
  params: RiskParams;
  /** Posted settlement prices by expiry (unix seconds). */
  settlementPrices?: ReadonlyMap<bigint, bigint>;
}

/** Everything `MarginEngine.accountMargin` reads, as plain values. */
export interface MarginInputs {
  /** Block timestamp the margin is computed at. */
  timestamp: bigint;
  /** Signed cash balance in cash-token units. */
  cash: bigint;
  cashDecimals: number;
  collateral: readonly CollateralInput[];
  positions: readonly { seriesId: bigint; balance: bigint }[];
  /** By underlying index (1-based, as the engine's registry). */
  underlyings: ReadonlyMap<number, UnderlyingInput>;
}

/**
 * The mark of one contract and the spot its requirement uses (0 once settled), as
 * `MarginEngine._markAndSpot`: Black–Scholes before expiry; after expiry, intrinsic value
 * at the posted settlement price, else at spot.
 *
 * @example
 * const { markWad } = markAndSpot(seriesId, underlying, timestamp);
 */
export function markAndSpot(
  seriesId: bigint,
  underlying: UnderlyingInput,
  timestamp: bigint,
): { markWad: bigint; spotWad: bigint } {
  const { expiry, isCall, strikeWad } = decodeSeries(seriesId);
  if (timestamp >= expiry) {
    const settlement = underlying.settlementPrices?.get(expiry);
    if (settlement !== undefined) return { markWad: intrinsic(isCall, settlement, strikeWad), spotWad: 0n };
    return { markWad: intrinsic(isCall, underlying.spotWad, strikeWad), spotWad: underlying.spotWad };
  }
  const secondsToExpiry = expiry - timestamp;
  const markWad = isCall
    ? callPrice(underlying.spotWad, strikeWad, secondsToExpiry, underlying.volWad)
    : putPrice(underlying.spotWad, strikeWad, secondsToExpiry, underlying.volWad);
  return { markWad, spotWad: underlying.spotWad };
}

/**
 * An account's margin, computed exactly as `MarginEngine.accountMargin` computes it on
 * chain, to the wei.
 *
 * @example
 * const state = accountMargin({ timestamp, cash: 10_000_000_000n, cashDecimals: 6, collateral: [], positions, underlyings });
 * if (state.health >= Health.LIQUIDATABLE) console.log("liquidatable");
 */
export function accountMargin(inputs: MarginInputs): MarginState {
  const cashWad = cashToWad(inputs.cash, inputs.cashDecimals);
  let equityIM = cashWad;
  let equityMM = cashWad;
  let markValue = cashWad;
  let requirementIM = 0n;
  let requirementMM = 0n;

  for (const c of inputs.collateral) {
    if (c.amount === 0n) continue;
    const value = tokenValueDown(c.amount, c.decimals, c.priceWad);
    equityIM += applyHaircutDown(value, c.initialHaircutWad);
    equityMM += applyHaircutDown(value, c.maintenanceHaircutWad);
    markValue += value;
  }

  for (const { seriesId, balance } of inputs.positions) {
    const index = decodeSeries(seriesId).underlyingIndex;
    const underlying = inputs.underlyings.get(index);
    if (underlying === undefined) throw new Error(`no inputs for underlying ${index}`);
    const { markWad, spotWad } = markAndSpot(seriesId, underlying, inputs.timestamp);
    const value = positionValue(balance, markWad);
    // Long options add nothing to initial-margin equity.
    if (value < 0n) equityIM += value;
    equityMM += value;
    markValue += value;
    if (balance >= 0n || spotWad === 0n) continue;
    const { isCall, strikeWad } = decodeSeries(seriesId);
    const p = underlying.params;
    requirementIM += positionRequirementUp(balance, shortRequirementUp(isCall, spotWad, strikeWad, p.aIM, p.bIM));
    requirementMM += positionRequirementUp(balance, shortRequirementUp(isCall, spotWad, strikeWad, p.aMM, p.bMM));
  }

  const state = { equityIM, equityMM, requirementIM, requirementMM, markValue, health: Health.HEALTHY as Health };
  state.health = health(state);
  return state;
}

/**
 * The health classification of `MarginEngine._health`.
 *
 * @example
 * health({ equityIM: 1n, equityMM: 1n, requirementIM: 0n, requirementMM: 0n }) === Health.HEALTHY;
 */
export function health(state: Pick<MarginState, "equityIM" | "equityMM" | "requirementIM" | "requirementMM">): Health {
  if (state.equityMM < 0n) return Health.INSOLVENT;
  if (state.equityMM < state.requirementMM) return Health.LIQUIDATABLE;
  if (state.equityIM < state.requirementIM) return Health.MARGIN_CALL;
  return Health.HEALTHY;
}
