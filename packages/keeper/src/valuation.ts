import {
  type AccountMarginState,
  type CashState,
  type MarginInputs,
  type MarginState,
  asAccountId,
  accountMargin,
  cashAt,
  decodeSeries,
} from "@pledge/sdk";
import type { AccountHoldings, MarketInputs } from "./ranking.js";
import { marginInputsOf } from "./ranking.js";

/**
 * Exact local valuation: an account's margin computed with the SDK's mirror of the engine
 * (`accountMargin`, equal to the chain to the wei given the engine's inputs) from what the keeper
 * already holds — positions, collateral and cash shares cached from the account's events, the
 * tick's batched price read, the cash market of the tick's block accrued to its timestamp with the
 * SDK's `cashMarketAt` (inside `cashAt`), and the market parameters. No `accountsMargin` call.
 *
 * What the cache cannot give exactly is left to the chain (`undefined`): holdings never read or
 * read without shares, shares read in an older cash epoch (a loss that ended the epoch converted
 * every positive balance), an expired position (its settlement price is not cached), a price
 * (spot, or a live position's vol) a position or a held collateral needs that the oracle refused
 * (the engine would revert), a live position on an underlying that marks on the engine's vol
 * surface (`MarketInputs.onVolSurface`: valued on chain, docs/keeper.md), and the accounts in `chainOnly` (the protocol's own: the insurance account's stored shares grow with
 * every accrual's reserve, the settlement account's cash is raw).
 */

/**
 * The engine's inputs for one account at the tick of `market` and `cash`, or undefined when they
 * cannot be known exactly from the cache (see above).
 *
 * @example
 * const inputs = exactInputsOf(holdings, marketInputsOf(parameters, prices, timestamp, 6), cashState, epoch);
 * if (inputs !== undefined) accountMargin(inputs).health; // what `accountsMargin` answers at that block
 */
export function exactInputsOf(
  holdings: AccountHoldings | undefined,
  market: MarketInputs,
  cash: CashState | undefined,
): MarginInputs | undefined {
  if (holdings === undefined || cash === undefined || holdings.cashShares === undefined) return undefined;
  if ((holdings.cashEpoch ?? -1n) !== (cash.market.epoch ?? 0n)) return undefined;
  for (const p of holdings.positions) {
    if (p.balance === 0n) continue;
    const { expiry, underlyingIndex } = decodeSeries(p.seriesId);
    if (expiry <= market.timestamp) return undefined;
    // A live series on a vol-surface underlying: its mark needs `markVol` reads the cache lacks.
    if (market.onVolSurface?.has(underlyingIndex) === true) return undefined;
    const u = market.underlyings.get(underlyingIndex);
    // A refused spot or vol: the engine's `_markOf` reverts for this account.
    if (u === undefined || u.spotWad === 0n || u.volWad === 0n) return undefined;
  }
  for (const [i, amount] of holdings.balances.entries()) {
    const c = market.collateral[i];
    if (amount !== 0n && (c === undefined || (!c.delisted && c.priceWad === 0n))) return undefined;
  }
  return {
    ...marginInputsOf(holdings, market),
    cash: cashAt(cash, holdings.cashShares, market.timestamp),
  };
}

/**
 * The exact margin of each account of `accounts` the cache can value, and those it cannot (to be
 * read on chain), in the order given.
 *
 * @example
 * const { states, chain } = valueLocally(accounts, planner.holdings(), market, cash, protectedAccounts);
 * const onChain = await getAccountMargin(publicClient, { addressBook, accounts: chain.map(asAccountId) });
 */
export function valueLocally(
  accounts: readonly bigint[],
  holdings: ReadonlyMap<bigint, AccountHoldings>,
  market: MarketInputs,
  cash: CashState | undefined,
  chainOnly: Pick<ReadonlySet<bigint>, "has"> = new Set(),
): { states: AccountMarginState[]; chain: bigint[] } {
  const states: AccountMarginState[] = [];
  const chain: bigint[] = [];
  for (const account of accounts) {
    const inputs = chainOnly.has(account) ? undefined : exactInputsOf(holdings.get(account), market, cash);
    let state: MarginState | undefined;
    try {
      state = inputs === undefined ? undefined : accountMargin(inputs);
    } catch {
      // A math error the engine would raise too (a revert): the chain says which.
      state = undefined;
    }
    if (state === undefined) chain.push(account);
    else states.push({ ...state, account: asAccountId(account) });
  }
  return { states, chain };
}

/** A `MarginState`, or the engine's raw answer (health a plain number). */
type MarginLike = Omit<MarginState, "health"> & { health: number };

/** The fields of `MarginState` compared by a cross-check. */
const FIELDS = ["equityIM", "equityMM", "requirementIM", "requirementMM", "markValue", "health"] as const;

/**
 * The fields where a local state and the chain's differ (none: equal to the wei).
 *
 * @example
 * const diff = marginDifference(local, onChain); // [] when they agree
 * if (diff.length > 0) log.error({ fields: diff }, "local valuation differs from the chain");
 */
export function marginDifference(local: MarginLike, chain: MarginLike): string[] {
  return FIELDS.filter((field) => BigInt(local[field]) !== BigInt(chain[field]));
}
