import {
  type BidPreview,
  Health,
  type MarginState,
  SKIP_NONCE_CHECK,
  fromWadDown,
  fromWadUp,
  toWadDown,
} from "@pledge/sdk";

import type { Fees } from "./executor.js";

export { SKIP_NONCE_CHECK };

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
   * priced from its batch's simulation when it is sent (`bidManyGasGuard`).
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
  /**
   * Excess over IM, WAD, the bidder keeps unspent (default 0): the bids of a block never use
   * it, so a move right after a cascade finds the bidder with room to spare.
   */
  reserveWad?: bigint | undefined;
  /**
   * Smallest discount the keeper bids at, WAD (default 0): below it, it starts the auction and
   * waits for the discount to grow. An account worth less than nothing (V < 0) keeps the start
   * discount (`bidDiscountAt`): above that, the keeper leaves it for good (`capped`).
   */
  minDiscountWad?: bigint | undefined;
}

/**
 * Why the keeper starts an auction without bidding on it, leaving the slices to other bidders
 * while the discount grows: `margin`, the bidder's excess over IM cannot carry the slice (or
 * nothing is left of it this block); `unprofitable`, the discount does not pay `minProfit`;
 * `exposure`, the payment is above `maxExposure`; `discount`, the discount is below
 * `minDiscountWad` and grows with the clock; `capped`, the discount is below `minDiscountWad`
 * and will not grow: the account is worth less than nothing (V < 0), so the liquidator keeps it
 * at the start discount until a price move or a deposit lifts V (`AuctionMath.bidDiscountAt`);
 * such an auction waits for another bidder or the backstop's waterfall; `noPreview`, the
 * liquidator gave no preview.
 */
export type LeaveReason = (typeof LEAVE_REASONS)[number];

/** Every `LeaveReason`. */
export const LEAVE_REASONS = ["margin", "unprofitable", "exposure", "discount", "capped", "noPreview"] as const;

/** One thing to do, in the order the strategy decided. */
export type Decision =
  | { kind: "startAuction"; account: bigint; reason: LeaveReason }
  /** A running auction below MM the keeper does not bid on this block, and why (reported, nothing sent). */
  | { kind: "withhold"; account: bigint; reason: LeaveReason }
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

/** What the gas check of a `bidMany` batch needs. */
export interface BidGasConfig {
  /** Most gas one bid may use on average in a batch (its simulation ÷ its bids); larger is refused. */
  maxBidGas: bigint;
  /** Most gas one batch may be sent with (simulation + 30 %): the block's share the keeper may fill. */
  maxBatchGas: bigint;
  /** USD price of the chain's native token, WAD; undefined = gas is not priced (only the caps apply). */
  nativePriceWad: bigint | undefined;
  /** Smallest profit of each bid, after its share of the gas. */
  minProfit: bigint;
  cashDecimals: number;
}

/**
 * The check a `bidMany` batch's send runs on its simulated gas (finding 13): refuse it when it
 * would be sent with a limit (default: the simulation + 30 %) above `maxBatchGas`
 * (`BatchGasCap`: the keeper halves it), when it uses
 * more than `maxBidGas` per bid (`BidGasCap`: an account with many positions), or when the
 * bids' total profit less the gas estimate × the fee cap it may pay falls below `minProfit` per
 * bid (`BidUnprofitableAfterGas`: dust accounts whose discount does not pay their gas).
 *
 * @example
 * sender.send(liquidator, liquidatorAbi, "bidMany", args, bidManyGasGuard(bids.map((b) => b.profit), config));
 */
export function bidManyGasGuard(
  profits: readonly bigint[],
  config: BidGasConfig,
): (gas: bigint, fees: Fees, limit?: bigint) => string | undefined {
  const bids = BigInt(profits.length);
  const profit = profits.reduce((sum, p) => sum + p, 0n);
  return (gas, fees, limit = (gas * 13n) / 10n) => {
    if (limit > config.maxBatchGas) return "BatchGasCap";
    if (gas > config.maxBidGas * bids) return "BidGasCap";
    if (config.nativePriceWad === undefined) return undefined;
    const cost = gasCostInCash(gas, fees.maxFeePerGas, config.nativePriceWad, config.cashDecimals);
    return profit - cost < config.minProfit * bids ? "BidUnprofitableAfterGas" : undefined;
  };
}

/**
 * How many bids of about `gasPerBid` gas each one `bidMany` may carry so that it is sent (its
 * simulation + 30 %) with at most `maxBatchGas`; at least one.
 *
 * @example
 * bidsPerBatch(30_000_000n, 900_000n); // 25
 */
export function bidsPerBatch(maxBatchGas: bigint, gasPerBid: bigint): number {
  const fit = (maxBatchGas * 10n) / 13n / (gasPerBid > 0n ? gasPerBid : 1n);
  return fit > 0n ? Number(fit) : 1;
}

/**
 * The initial margin, WAD, that taking `preview`'s slice costs the bidder, rounded up: what it
 * pays (the payment, negative when the fund pays it, and the insurance fee) plus the slice's
 * own shortfall below IM, `f · (requirementIM − equityIM)` of the account, which the bidder
 * takes on with the slice. Linear in the slice, so it ignores any netting with the bidder's
 * book and between slices (a skipped slice then frees margin, never uses it); never below 0.
 * Not counted: the rounding of the slice's cash (a debt's slice is paid in rounded up, and on an
 * index above 1 the vault's share conversion rounds for the vault), a few cash units a slice —
 * keep `reserveWad` above them.
 *
 * @example
 * const cost = bidMarginCost(preview, state, 6);
 */
export function bidMarginCost(preview: BidPreview, state: MarginState, cashDecimals: number): bigint {
  const paid = preview.payment + preview.insuranceFee;
  const paidWad = paid < 0n ? -toWadDown(-paid, cashDecimals) : toWadDown(paid, cashDecimals);
  const shortfall = state.requirementIM - state.equityIM;
  const taken = shortfall > 0n ? (preview.fractionWad * shortfall + WAD - 1n) / WAD : 0n;
  const cost = paidWad + taken;
  return cost > 0n ? cost : 0n;
}

/**
 * The keeper's whole decision for one block, as a pure function of what it read: rank
 * accounts by distance to maintenance; bid where the discount covers gas plus the minimum
 * profit within the keeper's exposure and margin (the bids' summed `bidMarginCost` stays
 * within `bidderExcessIM`, so the bidder never bids itself below IM) — directly on an account below MM with
 * no auction yet (the bid starts it in the same transaction, at the starting discount);
 * start an auction only where it will not bid, saying why (`LeaveReason`), so the discount
 * grows for someone else;
 * terminate auctions of accounts back at or above maintenance; report margin calls.
 *
 * @example
 * for (const decision of decide(views, config)) await execute(decision);
 */
export function decide(views: readonly AccountView[], config: StrategyConfig): Decision[] {
  const decisions: Decision[] = [];
  // Most urgent first: the lowest excess over maintenance per unit of requirement.
  const ranked = [...views].sort((a, b) => compareUrgency(a.state, b.state));
  // What the bids may spend: the excess over IM less the reserve kept unspent.
  const reserve = config.reserveWad ?? 0n;
  let budget = config.bidderExcessIM > reserve ? config.bidderExcessIM - reserve : 0n;
  const minDiscount = config.minDiscountWad ?? 0n;
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
    let leave: LeaveReason = "noPreview";
    if ((belowMM || auctionActive) && preview !== undefined) {
      const magnitude = preview.payment < 0n ? -preview.payment : preview.payment;
      const slippage = ((config.maxSlippageWad ?? 0n) * magnitude + WAD - 1n) / WAD;
      // Counted against the profit as if it were all paid.
      const profit = bidProfit(preview, config) - slippage;
      // Never bid the keeper's own account below IM: skip what its margin cannot carry.
      const cost = bidMarginCost(preview, state, config.cashDecimals);
      const discountOk = preview.discountWad >= minDiscount;
      if (discountOk && profit >= config.minProfit && preview.payment <= config.maxExposure && cost <= budget) {
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
      // V < 0 (the preview's V is the bid's): the liquidator keeps the start discount, so
      // waiting for it to grow is vain.
      const belowMinDiscount: LeaveReason = preview.markValueWad < 0n ? "capped" : "discount";
      leave = !discountOk
        ? belowMinDiscount
        : profit < config.minProfit
          ? "unprofitable"
          : preview.payment > config.maxExposure
            ? "exposure"
            : "margin";
    }
    if (belowMM && !auctionActive) {
      decisions.push({ kind: "startAuction", account: view.account, reason: leave });
      continue;
    }
    // An auction running on an account the keeper will not bid on now: nothing to send.
    if (auctionActive && preview !== undefined) {
      decisions.push({ kind: "withhold", account: view.account, reason: leave });
      continue;
    }
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
