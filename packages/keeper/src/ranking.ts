import {
  type CollateralInput,
  type MarginInputs,
  MarginMode,
  type UnderlyingInput,
  approximateMaintenance,
  decodeSeries,
} from "@pledge/sdk";
import { BigIntSet } from "./bigintKeys.js";

/** What one account holds, as the vault and the market report it; refreshed when its events show it changed. */
export interface AccountHoldings {
  /** Signed cash, cash units, accrued to the block it was read at. */
  cash: bigint;
  /**
   * Signed cash shares as stored (`cashSharesOf`, converted to the epoch of the read): they move
   * only with the account's own events, where `cash` goes stale with interest (`valuation.ts`).
   */
  cashShares?: bigint;
  /** The cash epoch `cashShares` were read in (`cashMarket().epoch`): shares of an older one are stale. */
  cashEpoch?: bigint;
  /** Collateral balances, in the order of the vault's `collateralAssets`. */
  balances: readonly bigint[];
  positions: readonly { seriesId: bigint; balance: bigint }[];
  /** The account's margin mode (`IOptionMarket.MarginMode`); CROSS when absent. */
  mode?: MarginMode;
}

/** The market-wide inputs, refreshed every tick in one batched call. */
export interface MarketInputs {
  timestamp: bigint;
  cashDecimals: number;
  /** Per collateral asset, in the vault's order; `priceWad` is 0 when the oracle refused. */
  collateral: readonly Omit<CollateralInput, "amount">[];
  underlyings: ReadonlyMap<number, UnderlyingInput>;
  /**
   * Underlyings whose live series mark on the engine's vol surface (`onVolSurface`): the keeper
   * values an account holding a live series on one on chain, never locally (its inputs hold no
   * surface reads); the float ranking estimates it at the flat vol.
   */
  onVolSurface?: ReadonlySet<number> | undefined;
}

/** One account's float estimate of its distance to maintenance. */
export interface RankedAccount {
  account: bigint;
  /** `excessMM / requirementMM` (or `excessMM` in USD when nothing is required); lowest is most urgent. -Infinity when it cannot be estimated. */
  ratio: number;
  /** Estimated `equityMM − requirementMM` and `requirementMM`, USD (NaN when not estimated). */
  excessMM: number;
  requirementMM: number;
}

/** How `selectForConfirmation` chooses. */
export interface ConfirmationPolicy {
  /** Confirm accounts whose estimated `excessMM / requirementMM` is below this. */
  nearRatio: number;
  /** Confirm accounts requiring nothing whose estimated excess is below this many USD. */
  nearExcessUsd: number;
}

/**
 * The SDK's `MarginInputs` of one account from its holdings and the market inputs.
 *
 * @example
 * const excess = approximateMaintenance(marginInputsOf(holdings, market)).excessMM;
 */
export function marginInputsOf(holdings: AccountHoldings, market: MarketInputs): MarginInputs {
  return {
    timestamp: market.timestamp,
    cash: holdings.cash,
    cashDecimals: market.cashDecimals,
    collateral: market.collateral.map((c, i) => ({ ...c, amount: holdings.balances[i] ?? 0n })),
    positions: holdings.positions,
    underlyings: market.underlyings,
    ...(holdings.mode === undefined ? {} : { mode: holdings.mode }),
  };
}

/** Rough gas of one account's margin view: standard ~20k per position, portfolio ~100k per position per underlying grid of 27 scenarios, plus a base. */
function marginGasEstimate(held: AccountHoldings | undefined): number {
  if (held === undefined) return 3_500_000; // unknown: assume a full portfolio account
  const perPosition = held.mode === MarginMode.PORTFOLIO ? 100_000 : 20_000;
  return 80_000 + 40_000 * held.balances.filter((b) => b !== 0n).length + perPosition * held.positions.length;
}

/**
 * Splits `accounts` into `accountsMargin` calls of at most `maxAccounts` accounts and about
 * `gasPerCall` estimated gas each (portfolio accounts cost far more than standard ones), so
 * one call never runs into a node's `eth_call` gas cap. An account above the budget alone
 * gets a call of its own.
 *
 * @example
 * const chunks = chunkByGas(accounts, holdings, 50, 20_000_000);
 */
export function chunkByGas(
  accounts: readonly bigint[],
  holdings: ReadonlyMap<bigint, AccountHoldings>,
  maxAccounts: number,
  gasPerCall: number,
): bigint[][] {
  const chunks: bigint[][] = [];
  let chunk: bigint[] = [];
  let gas = 0;
  for (const account of accounts) {
    const cost = marginGasEstimate(holdings.get(account));
    if (chunk.length > 0 && (chunk.length >= maxAccounts || gas + cost > gasPerCall)) {
      chunks.push(chunk);
      chunk = [];
      gas = 0;
    }
    chunk.push(account);
    gas += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Ranks accounts by their float-estimated distance to maintenance (SDK
 * `approximateMaintenance`), most urgent first. Accounts that cannot be estimated
 * (unknown holdings, a missing price, an expired position whose settlement the float
 * model does not follow, a position on a vol-surface underlying) rank first with `-Infinity`, so they are always confirmed.
 *
 * @example
 * const ranked = rankAccounts([...holdings.keys()], holdings, market);
 */
export function rankAccounts(
  accounts: readonly bigint[],
  holdings: ReadonlyMap<bigint, AccountHoldings>,
  market: MarketInputs,
): RankedAccount[] {
  const ranked = accounts.map((account): RankedAccount => {
    const held = holdings.get(account);
    const unknown = { account, ratio: -Infinity, excessMM: NaN, requirementMM: NaN };
    if (held === undefined) return unknown;
    const missingPrice = held.balances.some((b, i) => b !== 0n && (market.collateral[i]?.priceWad ?? 0n) === 0n);
    const expired = held.positions.some((p) => decodeSeries(p.seriesId).expiry <= market.timestamp);
    // A live series on a vol-surface underlying: the float model knows only the flat vol, so the
    // account is confirmed on chain every tick rather than estimated.
    const onSurface = held.positions.some(
      (p) => p.balance !== 0n && market.onVolSurface?.has(decodeSeries(p.seriesId).underlyingIndex) === true,
    );
    if (missingPrice || expired || onSurface) return unknown;
    try {
      const { excessMM, requirementMM } = approximateMaintenance(marginInputsOf(held, market));
      const ratio = requirementMM > 0 ? excessMM / requirementMM : excessMM;
      return Number.isFinite(ratio) ? { account, ratio, excessMM, requirementMM } : unknown;
    } catch {
      return unknown;
    }
  });
  return ranked.sort((a, b) => a.ratio - b.ratio);
}

/**
 * The accounts to confirm on chain: those near or below maintenance by the estimate,
 * plus `always` (open auctions, accounts last seen below IM).
 *
 * @example
 * const confirm = selectForConfirmation(ranked, { nearRatio: 0.5, nearExcessUsd: 1_000 }, openAuctions);
 */
export function selectForConfirmation(
  ranked: readonly RankedAccount[],
  policy: ConfirmationPolicy,
  always: ReadonlySet<bigint>,
): bigint[] {
  const selected = new BigIntSet(always);
  for (const { account, ratio, excessMM, requirementMM } of ranked) {
    if (ratio === -Infinity) selected.add(account);
    // Accounts requiring nothing are near by their USD excess, which a ratio cannot bound.
    else if (requirementMM > 0 ? ratio < policy.nearRatio : excessMM < policy.nearExcessUsd) selected.add(account);
  }
  return [...selected];
}

/**
 * Whether any price moved by more than `thresholdWad` (relative) between two snapshots of
 * the same keys (a key missing from `before` counts as a move).
 *
 * @example
 * if (pricesMoved(lastFull, now, 2n * 10n ** 16n)) confirmEveryone();
 */
export function pricesMoved(
  before: ReadonlyMap<string, bigint>,
  after: ReadonlyMap<string, bigint>,
  thresholdWad: bigint,
): boolean {
  const WAD = 10n ** 18n;
  for (const [key, price] of after) {
    const old = before.get(key);
    if (old === undefined || old === 0n) return true;
    const delta = price > old ? price - old : old - price;
    if (delta * WAD > thresholdWad * old) return true;
  }
  return false;
}
