import { type BidPreview, Health, type MarginState, fromWadDown, fromWadUp, toWadDown } from "@pledge/sdk";

import type { Fees } from "./executor.js";

/** `expectedNonce` that tells `Liquidator.bid` not to check the account's nonce (`type(uint256).max`). */
export const SKIP_NONCE_CHECK = 2n ** 256n - 1n;

/** What the keeper knows about one account at a block. */
export interface AccountView {
  account: bigint;
  state: MarginState;
  auction?: { active: boolean; startTime: bigint } | undefined;
  /**
   * The liquidator's preview of taking as much as allowed, for accounts under auction or
   * below maintenance (where a bid would start the auction).
   */
  preview?: BidPreview | undefined;
}

/** The keeper's limits, from its configuration. */
export interface StrategyConfig {
  /** Smallest expected profit of a bid, in cash units, after gas. */
  minProfit: bigint;
  /**
   * A fixed cost counted against every bid, in cash units (default 0). The gas itself is
   * priced per bid from its simulation when it is sent (`bidGasGuard`).
   */
  bidGasCost: bigint;
  /** Largest payment the keeper will make for one slice, in cash units. */
  maxExposure: bigint;
  /** The keeper's own bidding account; its excess over IM bounds what it can absorb. */
  bidderAccount: bigint;
  /** The keeper's own excess over initial margin, WAD (from the engine). */
  bidderExcessIM: bigint;
  /** Insurance share of the discount, WAD (the liquidator's parameter). */
  insuranceShareWad: bigint;
  /** Cash-token decimals. */
  cashDecimals: number;
  /**
   * How much more than the preview's payment a bid may pay, WAD of |payment| (default 0).
   * The preview is of the latest block; the bid lands in a later one, where the marks
   * moved with time. A running auction's growing discount absorbs that; a bid that starts
   * the auction is priced at the fixed starting discount, so it needs this allowance.
   */
  maxSlippageWad?: bigint | undefined;
}

/** One thing to do, in the order the strategy decided. */
export type Decision =
  | { kind: "startAuction"; account: bigint }
  | { kind: "terminateAuction"; account: bigint }
  | {
      kind: "bid";
      account: bigint;
      fractionWad: bigint;
      maxPayment: bigint;
      expectedNonce: bigint;
      profit: bigint;
      /** No auction is running: the bid starts it in the same transaction. */
      startsAuction: boolean;
    }
  | { kind: "marginCall"; account: bigint; excessIM: bigint };

const WAD = 10n ** 18n;

/**
 * The expected profit of taking `preview`'s slice, in cash units, before gas: the slice is
 * worth f·V at the mark and costs the preview's payment (f·(V − d·|V − paidIn|), negative when
 * the insurance fund pays) plus the insurance fee; the fixed `bidGasCost` is subtracted too.
 * Taken from the payment itself, so it stays exact whatever the liquidator's pricing rule
 * (cash earlier bids paid in is bought back at par and earns nothing).
 *
 * @example
 * const profit = bidProfit(preview, config);
 */
export function bidProfit(preview: BidPreview, config: StrategyConfig): bigint {
  // Toward zero, as before, in the cash asset's units (any decimals `CashUnits` accepts).
  const sliceWad = (preview.fractionWad * preview.markValueWad) / WAD;
  const sliceValue =
    sliceWad < 0n ? -fromWadDown(-sliceWad, config.cashDecimals) : fromWadDown(sliceWad, config.cashDecimals);
  return sliceValue - preview.payment - preview.insuranceFee - config.bidGasCost;
}

/**
 * Cash units that `gas` costs at `feePerGasWei`, with the native token worth
 * `nativePriceWad` USD (WAD), rounded up.
 *
 * @example
 * gasCostInCash(1_000_000n, 10n ** 9n, 3_000n * 10n ** 18n, 6); // 3_000_000n: 1M gas at 1 gwei, ETH at $3,000
 */
export function gasCostInCash(gas: bigint, feePerGasWei: bigint, nativePriceWad: bigint, cashDecimals: number): bigint {
  const usdWad = (gas * feePerGasWei * nativePriceWad + WAD - 1n) / WAD;
  return fromWadUp(usdWad, cashDecimals);
}

/** What the per-bid gas check needs. */
export interface BidGasConfig {
  /** Most gas one bid may use (its simulation); larger bids are skipped. */
  maxBidGas: bigint;
  /** USD price of the chain's native token, WAD; undefined = gas is not priced (only the cap applies). */
  nativePriceWad: bigint | undefined;
  minProfit: bigint;
  cashDecimals: number;
}

/**
 * The check a bid's send runs on its simulated gas (finding 13): refuse it above
 * `maxBidGas`, or when its profit less the gas estimate × the fee cap it may pay falls below
 * `minProfit` (a dust account with many positions costs more gas than its discount pays).
 *
 * @example
 * sender.send(liquidator, liquidatorAbi, "bid", args, bidGasGuard(decision.profit, config));
 */
export function bidGasGuard(profit: bigint, config: BidGasConfig): (gas: bigint, fees: Fees) => string | undefined {
  return (gas, fees) => {
    if (gas > config.maxBidGas) return "BidGasCap";
    if (config.nativePriceWad === undefined) return undefined;
    const cost = gasCostInCash(gas, fees.maxFeePerGas, config.nativePriceWad, config.cashDecimals);
    return profit - cost < config.minProfit ? "BidUnprofitableAfterGas" : undefined;
  };
}

/**
 * The keeper's whole decision for one block, as a pure function of what it read: rank
 * accounts by distance to maintenance; bid where the discount covers gas plus the minimum
 * profit within the keeper's exposure and margin — directly on an account below MM with
 * no auction yet (the bid starts it in the same transaction, at the starting discount);
 * start an auction only where it will not bid (so the discount grows for someone else);
 * terminate auctions of accounts back at or above maintenance; report margin calls.
 *
 * @example
 * for (const decision of decide(views, config)) await execute(decision);
 */
export function decide(views: readonly AccountView[], config: StrategyConfig): Decision[] {
  const decisions: Decision[] = [];
  // Most urgent first: the lowest excess over maintenance per unit of requirement.
  const ranked = [...views].sort((a, b) => compareUrgency(a.state, b.state));
  let budget = config.bidderExcessIM;
  for (const view of ranked) {
    if (view.account === config.bidderAccount) continue;
    const { state, preview } = view;
    const auctionActive = view.auction?.active === true;
    const belowMM = state.health >= Health.LIQUIDATABLE;
    const excessIM = state.equityIM - state.requirementIM;
    // Back at or above maintenance: end the auction, so a later dip starts a new one at the
    // start discount (the liquidator lapses forgotten ones too, finding 3).
    if (auctionActive && !belowMM) {
      decisions.push({ kind: "terminateAuction", account: view.account });
      continue;
    }
    if ((belowMM || auctionActive) && preview !== undefined) {
      const magnitude = preview.payment < 0n ? -preview.payment : preview.payment;
      const slippage = ((config.maxSlippageWad ?? 0n) * magnitude + WAD - 1n) / WAD;
      // Counted against the profit as if it were all paid.
      const profit = bidProfit(preview, config) - slippage;
      // A slice costs at most its payment in margin; skip what the keeper cannot carry.
      const cost = preview.payment > 0n ? toWadDown(preview.payment, config.cashDecimals) : 0n;
      if (profit >= config.minProfit && preview.payment <= config.maxExposure && cost <= budget) {
        budget -= cost;
        decisions.push({
          kind: "bid",
          account: view.account,
          fractionWad: preview.fractionWad,
          maxPayment: preview.payment + slippage,
          // No nonce check (review R3): anyone who moves the account first would void a
          // nonce-checked bid; `maxPayment` bounds the price and the liquidator prices at execution.
          expectedNonce: SKIP_NONCE_CHECK,
          profit,
          startsAuction: !auctionActive,
        });
        continue;
      }
    }
    if (belowMM && !auctionActive) {
      decisions.push({ kind: "startAuction", account: view.account });
      continue;
    }
    // An auction running on an account the keeper will not bid on now: nothing to do.
    if (auctionActive && preview !== undefined) continue;
    if (state.health === Health.MARGIN_CALL) decisions.push({ kind: "marginCall", account: view.account, excessIM });
  }
  return decisions;
}

/** Orders accounts by `excessMM / requirementMM`, lowest (most urgent) first, exactly. */
function compareUrgency(a: MarginState, b: MarginState): number {
  const excessA = a.equityMM - a.requirementMM;
  const excessB = b.equityMM - b.requirementMM;
  // Cross-multiply to compare excessA/reqA with excessB/reqB without division; a zero
  // requirement counts as one wei so accounts without shorts still order by excess.
  const reqA = a.requirementMM === 0n ? 1n : a.requirementMM;
  const reqB = b.requirementMM === 0n ? 1n : b.requirementMM;
  const left = excessA * reqB;
  const right = excessB * reqA;
  return left < right ? -1 : left > right ? 1 : 0;
}
