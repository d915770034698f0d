import {
  type AccountId,
  type SeriesId,
  type SignedOrder,
  type SimulateFillReturnType,
  type SimulatedSide,
  WAD,
  decodeSeries,
  mulWad,
  mulWadToCashDown,
  mulWadToCashUp,
  mulWadUp,
} from "@pledge/sdk";

/** One position of the bidder's book, with the SDK's mark of one contract (`markAndSpot`). */
export interface HeldPosition {
  seriesId: SeriesId;
  /** Signed WAD contracts: > 0 long (offloaded by selling), < 0 short (offloaded by buying back). */
  balance: bigint;
  markWad: bigint;
}

/** An order that would reduce a held position, at a price within the bound. */
export interface OffloadCandidate {
  position: HeldPosition;
  signedOrder: SignedOrder;
  /** The worst price per contract the keeper accepts for this position (`offloadLimitWad`). */
  limitWad: bigint;
}

/**
 * Why an order of the counterparty is not used for a position the bidder holds: `taker` (for
 * another taker), `expired`, `price` (beyond the bound), `dust` (the most it could fill is worth
 * less than the policy's `minFillUsdWad` at the mark).
 */
export type OffloadSkip = "taker" | "expired" | "price" | "dust";

export interface OffloadPolicy {
  bidderAccount: AccountId;
  /** The worst price accepted, as a fraction of the mark, WAD (1 % = 10^16). */
  maxDiscountWad: bigint;
  /** The block's timestamp, unix seconds. */
  timestamp: bigint;
  /** Smallest fill worth sending, USD at the mark, WAD (`--offload-min-usd`). Default 0. */
  minFillUsdWad?: bigint | undefined;
}

/**
 * What `contracts` (WAD, either sign) are worth at `markWad`, USD WAD, rounded down: the
 * notional `--offload-min-usd` is compared with.
 *
 * @example
 * fillNotionalWad(-(10n ** 14n), 12_000n * WAD); // 1.2 USD: 0.0001 contracts of a $12,000 option
 */
export function fillNotionalWad(contracts: bigint, markWad: bigint): bigint {
  return mulWad(contracts < 0n ? -contracts : contracts, markWad);
}

/**
 * The worst price per contract, WAD, the keeper accepts to offload `balance` at `markWad`:
 * selling a long, the mark less the discount (rounded up); buying back a short, the mark plus
 * the discount (rounded down). Each rounds against the counterparty.
 *
 * @example
 * offloadLimitWad(-10n ** 18n, 1_000n * WAD, WAD / 100n); // 1_010n * WAD: buy back at most 1 % over the mark
 * offloadLimitWad(10n ** 18n, 1_000n * WAD, WAD / 100n); // 990n * WAD: sell at least 1 % under it
 */
export function offloadLimitWad(balance: bigint, markWad: bigint, maxDiscountWad: bigint): bigint {
  return balance > 0n ? mulWadUp(markWad, WAD - maxDiscountWad) : mulWad(markWad, WAD + maxDiscountWad);
}

/**
 * For each live position the bidder holds, the counterparty's orders that would reduce it, best
 * price first (at one price, the larger first): the opposite side of the same series (a long is
 * sold to a buy order, a short bought back from a sell order), fillable by the bidder, not past
 * its deadline, priced within `offloadLimitWad`, and able to fill at least `minFillUsdWad` at the
 * mark (the smaller of the order's size and the position). Orders on the right side of a held
 * series that fail a check come back in `skipped` with the reason. Pure, and cheap: the job runs
 * it before it checks any signature; the chain's view of each order (filled, cancelled) and of
 * the fill's margin is the job's to read.
 *
 * @example
 * const { candidates } = offloadCandidates(positions, feed.orders, { bidderAccount, maxDiscountWad: WAD / 100n, timestamp });
 * for (const [series, orders] of candidates) console.log(series, orders[0]?.signedOrder.order.priceWad);
 */
export function offloadCandidates(
  positions: readonly HeldPosition[],
  orders: readonly SignedOrder[],
  policy: OffloadPolicy,
): { candidates: Map<SeriesId, OffloadCandidate[]>; skipped: { signedOrder: SignedOrder; reason: OffloadSkip }[] } {
  const candidates = new Map<SeriesId, OffloadCandidate[]>();
  const skipped: { signedOrder: SignedOrder; reason: OffloadSkip }[] = [];
  for (const position of positions) {
    if (position.balance === 0n || policy.timestamp >= decodeSeries(position.seriesId).expiry) continue;
    const limitWad = offloadLimitWad(position.balance, position.markWad, policy.maxDiscountWad);
    const selling = position.balance > 0n;
    const held = selling ? position.balance : -position.balance;
    const minFill = policy.minFillUsdWad ?? 0n;
    const usable: OffloadCandidate[] = [];
    for (const signedOrder of orders) {
      const { order } = signedOrder;
      // A long is sold to a maker who buys (size > 0), a short bought back from one who sells.
      if (order.seriesId !== position.seriesId || order.size > 0n !== selling) continue;
      const reason: OffloadSkip | undefined =
        order.taker !== 0n && order.taker !== policy.bidderAccount
          ? "taker"
          : policy.timestamp > order.deadline
            ? "expired"
            : selling
              ? order.priceWad < limitWad
                ? "price"
                : undefined
              : order.priceWad > limitWad
                ? "price"
                : undefined;
      const most = order.size < 0n ? (-order.size < held ? -order.size : held) : order.size < held ? order.size : held;
      const small = reason === undefined && minFill > 0n && fillNotionalWad(most, position.markWad) < minFill;
      if (small) skipped.push({ signedOrder, reason: "dust" });
      else if (reason === undefined) usable.push({ position, signedOrder, limitWad });
      else skipped.push({ signedOrder, reason });
    }
    // Best price first: the highest bid for a long, the lowest offer for a short; then the larger.
    const size = (c: OffloadCandidate) =>
      c.signedOrder.order.size < 0n ? -c.signedOrder.order.size : c.signedOrder.order.size;
    usable.sort((a, b) => {
      const [pa, pb] = [a.signedOrder.order.priceWad, b.signedOrder.order.priceWad];
      if (pa !== pb) return (selling ? pa > pb : pa < pb) ? -1 : 1;
      const [sa, sb] = [size(a), size(b)];
      return sa === sb ? 0 : sa > sb ? -1 : 1;
    });
    if (usable.length > 0) candidates.set(position.seriesId, usable);
  }
  return { candidates, skipped };
}

/** Why a simulated fill is not sent. */
export type FillRefusal = "crossesZero" | "refused" | "price" | "unpriced" | "margin";

/**
 * Judges a fill of `candidate` for `fillSize` contracts from its simulation (`simulateFill`, the
 * bidder as taker): the fill must reduce the bidder's position without taking it past zero, as
 * the chain sees the position now (`crossesZero`: the book moved since it was read, e.g. by this
 * tick's bids); the chain must accept it (`refused`); the cash it moves, the taker fee
 * included, must stay within the limit price (`price`: at most `fillSize × limit` paid buying
 * back, at least that received selling); and the bidder must end at or above initial margin, or,
 * already below it, closer to it (`margin`; `unpriced` when its margin cannot be valued).
 * Undefined: send it.
 *
 * @example
 * const simulation = await simulateFill(publicClient, { signedOrder, takerAccount: bidder, fillSize, addressBook });
 * if (judgeFill(candidate, fillSize, simulation, 6) === undefined) await fillOrder(...);
 */
export function judgeFill(
  candidate: OffloadCandidate,
  fillSize: bigint,
  simulation: Pick<SimulateFillReturnType, "accepted" | "premium" | "takerFee"> & {
    taker?: Pick<SimulatedSide, "change" | "before" | "after"> | undefined;
  },
  cashDecimals: number,
): FillRefusal | undefined {
  // Explicit, not left to the simulation's margin reading: a fill that does not reduce opens risk.
  if (simulation.taker !== undefined && !simulation.taker.change.reducing) return "crossesZero";
  if (!simulation.accepted) return "refused";
  const { premium, takerFee } = simulation;
  if (candidate.position.balance > 0n) {
    if (premium - takerFee < mulWadToCashUp(fillSize, candidate.limitWad, cashDecimals)) return "price";
  } else if (premium + takerFee > mulWadToCashDown(fillSize, candidate.limitWad, cashDecimals)) return "price";
  const before = simulation.taker?.before;
  const after = simulation.taker?.after;
  if (before === undefined || after === undefined || !before.priced) return "unpriced";
  const excessBefore = before.margin.initialExcess;
  const excessAfter = after.margin.initialExcess;
  if (excessAfter >= 0n || (excessBefore < 0n && excessAfter > excessBefore)) return undefined;
  return "margin";
}

/**
 * What a fill frees: the bidder's excess over initial margin after it less before, USD WAD (from
 * `simulateFill`'s taker side, premium and taker fee included); undefined when its margin cannot
 * be valued. Negative when the fill costs more excess than it releases (a portfolio hedge sold
 * near its mark).
 *
 * @example
 * const freed = fillFreedWad(await simulateFill(publicClient, { signedOrder, takerAccount, fillSize, addressBook }));
 */
export function fillFreedWad(simulation: {
  taker?: Pick<SimulatedSide, "before" | "after"> | undefined;
}): bigint | undefined {
  const { before, after } = simulation.taker ?? {};
  if (before === undefined || after === undefined || !before.priced) return undefined;
  return after.margin.initialExcess - before.margin.initialExcess;
}

/**
 * The gas check of an offload `fill` (review r14b, finding 4), for the sender's guard: refuses
 * (`OffloadGasAboveFreed`) a fill whose simulated gas at the fee cap it may pay, priced at
 * `nativePriceWad` (USD per native token, WAD), is worth more than the excess over IM it frees
 * (`fillFreedWad`). Without a native price, gas is not priced and only `--offload-min-usd`
 * applies. `cost` holds the last priced gas, USD WAD, for the log.
 *
 * @example
 * const guard = offloadGasGuard(fillFreedWad(simulation) ?? 0n, 3_000n * WAD);
 * await sender.send(market, optionMarketAbi, "fill", args, guard.check, label);
 */
export function offloadGasGuard(freedWad: bigint, nativePriceWad: bigint | undefined) {
  const guard = {
    cost: undefined as bigint | undefined,
    check: (gas: bigint, fees: { maxFeePerGas: bigint }): string | undefined => {
      if (nativePriceWad === undefined) return undefined;
      guard.cost = (gas * fees.maxFeePerGas * nativePriceWad + WAD - 1n) / WAD;
      return guard.cost > freedWad ? "OffloadGasAboveFreed" : undefined;
    },
  };
  return guard;
}
