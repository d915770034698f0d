import type { Address } from "viem";

import {
  type AccountMarginState,
  type CashState,
  type GetMarketParametersReturnType,
  type GetOraclePricesReturnType,
  Health,
  type MarginInputs,
  decodeSeries,
} from "@pledge/sdk";
import type { Readers } from "./readers.js";
import {
  type AccountHoldings,
  type ConfirmationPolicy,
  type MarketInputs,
  pricesMoved,
  rankAccounts,
  selectForConfirmation,
} from "./ranking.js";
import type { Stats } from "./stats.js";
import type { KeeperIndex } from "./store.js";
import { exactInputsOf, valueLocally } from "./valuation.js";
import { BigIntMap, BigIntSet } from "./bigintKeys.js";

export interface PlannerOptions extends ConfirmationPolicy {
  /** Confirm every indexed account at least every this many ticks. */
  fullConfirmEvery: number;
  /** Confirm every account when a spot or vol moved more than this (WAD, relative) since the last full pass. */
  priceMoveWad: bigint;
  cashDecimals: number;
  /**
   * Value accounts locally (`value`, `inputs`). Default true. The keeper turns it off when its
   * index stays `confirmations` blocks behind the head (its cached holdings would miss the
   * unconfirmed events while prices are read at the head): every account is then left to the chain.
   */
  localValuation?: boolean;
}

/**
 * Chooses which accounts to confirm on chain each tick, from a float ranking of cheaply
 * refreshed inputs. Owns what the ranking needs: each account's holdings (re-read when its
 * events show a change), the market parameters, the prices of the last full pass, and the
 * accounts last seen below IM.
 */
export interface Planner {
  /** The account's holdings changed: re-read them next tick. */
  changed(account: bigint): void;
  /**
   * A cross-check found the local valuation of `account` wrong: it is valued on chain until its
   * holdings are re-read (next tick), and the market parameters are re-read next tick.
   */
  disagreed(account: bigint): void;
  /** The index was rebuilt: forget everything derived from the old one. */
  reset(): void;
  /** The accounts to confirm at `block`. */
  plan(index: KeeperIndex, block: bigint, timestamp: bigint): Promise<bigint[]>;
  /**
   * The exact margin of `accounts` at the last planned tick, computed locally (`valuation.ts`)
   * where the cache allows, and the accounts left to the chain's `accountsMargin`.
   */
  value(accounts: readonly bigint[]): { local: AccountMarginState[]; chain: bigint[] };
  /** The engine's inputs of `account` at the last planned tick as the cache gives them (`exactInputsOf`), or undefined. */
  inputs(account: bigint): MarginInputs | undefined;
  /** What the confirmation found: accounts below IM are confirmed again every tick. */
  confirmed(states: readonly AccountMarginState[]): void;
  /** The holdings known, for sizing the confirmation's calls. */
  holdings(): ReadonlyMap<bigint, AccountHoldings>;
}

/** The ranking's market inputs from the market parameters and the prices of one block. */
export function marketInputsOf(
  parameters: GetMarketParametersReturnType,
  prices: GetOraclePricesReturnType,
  timestamp: bigint,
  cashDecimals: number,
): MarketInputs {
  return {
    timestamp,
    cashDecimals,
    collateral: parameters.collateral.map((c) => ({
      decimals: c.decimals,
      priceWad: prices.spotWad.get(c.asset) ?? 0n,
      initialHaircutWad: c.initialHaircutWad,
      maintenanceHaircutWad: c.maintenanceHaircutWad,
      // Delisted collateral counts as zero on chain; the estimate must not count it either.
      delisted: c.delisted,
      ...(c.underlyingIndex === undefined ? {} : { underlyingIndex: c.underlyingIndex }),
    })),
    underlyings: new Map(
      [...parameters.underlyings].map(([index, u]) => [
        index,
        {
          spotWad: prices.spotWad.get(u.asset) ?? 0n,
          volWad: prices.volWad.get(u.asset) ?? 0n,
          params: u.params,
          ...(u.portfolio === undefined ? {} : { portfolio: u.portfolio }),
          concentration: u.concentration,
        },
      ]),
    ),
    onVolSurface: new Set([...parameters.underlyings].filter(([, u]) => u.onVolSurface === true).map(([i]) => i)),
  };
}

/** Every price of a snapshot under one key (`spot:<asset>`, `vol:<asset>`), for `pricesMoved`. */
export function priceKeysOf(prices: GetOraclePricesReturnType): Map<string, bigint> {
  return new Map([
    ...[...prices.spotWad].map(([asset, price]): [string, bigint] => [`spot:${asset}`, price]),
    ...[...prices.volWad].map(([asset, price]): [string, bigint] => [`vol:${asset}`, price]),
  ]);
}

/** The underlyings of every series held, by the holdings and by the index. */
function underlyingsHeld(index: KeeperIndex, holdings: ReadonlyMap<bigint, AccountHoldings>): Set<number> {
  const held = new Set<number>();
  for (const h of holdings.values()) for (const p of h.positions) held.add(decodeSeries(p.seriesId).underlyingIndex);
  for (const seriesId of index.holders.keys()) held.add(decodeSeries(seriesId).underlyingIndex);
  return held;
}

/**
 * The confirmation planner: ranks every indexed account with the SDK's float approximation and
 * returns those near or below MM, open auctions and accounts last seen below IM; everyone every
 * `fullConfirmEvery` ticks or after a price move above `priceMoveWad`.
 *
 * @example
 * const planner = createPlanner(readers, stats, { nearRatio: 0.5, nearExcessUsd: 1_000, fullConfirmEvery: 10, priceMoveWad: 10n ** 16n, cashDecimals: 6 });
 * const accounts = await planner.plan(index, block, timestamp);
 */
export function createPlanner(readers: Readers, stats: Stats, options: PlannerOptions): Planner {
  const holdings = new BigIntMap<AccountHoldings>();
  const dirty = new BigIntSet();
  const watched = new BigIntSet();
  let parameters: GetMarketParametersReturnType | undefined;
  let lastFullPrices = new Map<string, bigint>();
  let ticksSinceFull = Infinity;
  /** The last planned tick's market inputs and cash market, for `value`. */
  let tick: { market: MarketInputs; cash: CashState | undefined } | undefined;
  /** The protocol's own accounts, valued on chain only (re-read with the parameters). */
  let chainOnly = new BigIntSet();
  /** A cross-check disagreed: re-read the market parameters next tick. */
  let rereadParameters = false;
  const localValuation = options.localValuation ?? true;
  /** Left to the chain: the protocol's own accounts and those whose holdings must be re-read. */
  const leftToChain = { has: (account: bigint) => chainOnly.has(account) || dirty.has(account) };
  async function readParameters(block: bigint): Promise<GetMarketParametersReturnType> {
    const read = await readers.marketParameters(block);
    chainOnly = new BigIntSet(await readers.protectedAccounts(block));
    parameters = read;
    rereadParameters = false;
    return read;
  }

  return {
    changed: (account) => void dirty.add(account),
    disagreed(account) {
      dirty.add(account);
      rereadParameters = true;
    },
    reset() {
      holdings.clear();
      dirty.clear();
      parameters = undefined;
      ticksSinceFull = Infinity;
      tick = undefined;
    },
    async plan(index, block, timestamp) {
      const accounts = [...index.accounts];
      for (const account of accounts) if (!holdings.has(account)) dirty.add(account);
      let full = ticksSinceFull + 1 >= options.fullConfirmEvery;
      // Re-read on every full pass (a price-move one too, below), after a cross-check disagreed,
      // and when a series of an underlying not read yet appeared.
      const known = parameters;
      let current =
        known !== undefined &&
        !full &&
        !rereadParameters &&
        [...underlyingsHeld(index, holdings)].every((i) => known.underlyings.has(i))
          ? known
          : await readParameters(block);
      const underlyingAssets = [...current.underlyings.values()].map((u) => u.asset);
      const refresh = [...dirty];
      const {
        prices,
        holdings: read,
        cash,
      } = await readers.snapshot(
        {
          spot: [...new Set<Address>([...current.collateral.map((c) => c.asset), ...underlyingAssets])],
          vol: [...new Set(underlyingAssets)],
          accounts: refresh,
        },
        block,
      );
      for (const account of refresh) {
        const held = read.get(account);
        if (held === undefined) {
          holdings.delete(account);
          continue;
        }
        // Shares read now are in the epoch read now: an epoch ended later makes them stale.
        holdings.set(account, cash === undefined ? held : { ...held, cashEpoch: cash.market.epoch ?? 0n });
        dirty.delete(account);
      }
      // Shares of an ended epoch: re-read next tick (valued on chain meanwhile).
      if (cash !== undefined) {
        for (const [account, held] of holdings) if (held.cashEpoch !== (cash.market.epoch ?? 0n)) dirty.add(account);
      }

      const keyed = priceKeysOf(prices);
      if (!full && pricesMoved(lastFullPrices, keyed, options.priceMoveWad)) {
        full = true;
        // A price-move pass values everyone: with the parameters of this block (review rv19v F2:
        // in a crash every pass is one, and a haircut raised meanwhile was never seen). An asset
        // new in them has no price read this tick: 0, so what needs it is left to the chain.
        if (current === known) current = await readParameters(block);
      }
      const started = performance.now();
      const market = marketInputsOf(current, prices, timestamp, options.cashDecimals);
      tick = { market, cash };
      const ranked = rankAccounts(accounts, holdings, market);
      const always = new BigIntSet([...watched, ...index.auctions]);
      const selected = full ? accounts : selectForConfirmation(ranked, options, always);
      stats.ranked(ranked.length, performance.now() - started);
      if (full) {
        ticksSinceFull = 0;
        lastFullPrices = keyed;
        stats.fullConfirmation();
      } else {
        ticksSinceFull++;
      }
      return selected;
    },
    confirmed(states) {
      for (const state of states) {
        if (state.health !== Health.HEALTHY) watched.add(state.account);
        else watched.delete(state.account);
      }
    },
    value(accounts) {
      if (tick === undefined || !localValuation) return { local: [], chain: [...accounts] };
      const { states, chain } = valueLocally(accounts, holdings, tick.market, tick.cash, leftToChain);
      return { local: states, chain };
    },
    inputs: (account) =>
      tick === undefined || !localValuation || leftToChain.has(account)
        ? undefined
        : exactInputsOf(holdings.get(account), tick.market, tick.cash),
    holdings: () => holdings,
  };
}
