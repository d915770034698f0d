import { divUp, divWadUp, mulWad, mulWadUp } from "./fixedPoint.js";
import { Health, type MarginInputs, type MarginState } from "./engine.js";

const WAD = 10n ** 18n;

/** Auction parameters, as `ILiquidator.AuctionParams`. */
export interface AuctionParams {
  startDiscountWad: bigint;
  endDiscountWad: bigint;
  /** Seconds (a uint32 on chain, so a number as viem returns it). */
  duration: number;
  insuranceShareWad: bigint;
  bufferWad: bigint;
  dustValueWad: bigint;
}

/** What a bid would do, field for field as `ILiquidator.BidPreview`. */
export interface BidPreview {
  fractionWad: bigint;
  maxFractionWad: bigint;
  discountWad: bigint;
  markValueWad: bigint;
  /** Cash units the bidder pays (> 0), or receives from the insurance fund (< 0). */
  payment: bigint;
  insuranceFee: bigint;
  equityIMAfter: bigint;
  requirementIMAfter: bigint;
  equityMMAfter: bigint;
  requirementMMAfter: bigint;
}

/**
 * A running auction as `bid` prices it: `clockStart` from `Liquidator.auctionClock` (the start
 * moved past price outages found after the last check) and, for information, `liveCheckedAt`
 * from `auctionOf` (the time up to which the feeds were checked). A bare `bigint` is a clock start.
 */
export interface AuctionClock {
  clockStart: bigint;
  liveCheckedAt?: bigint | undefined;
}

const abs = (x: bigint) => (x < 0n ? -x : x);

/**
 * The auction discount at `timestamp` for an auction whose clock started at `startTime`, as
 * `Liquidator.discountAt` (no elapsed time before the clock start).
 *
 * @example
 * discountAt(params, start, start + 450n); // 0.175e18 with the default 5 % → 30 % over 15 min
 */
export function discountAt(params: AuctionParams, startTime: bigint, timestamp: bigint): bigint {
  const elapsed = timestamp > startTime ? timestamp - startTime : 0n;
  const duration = BigInt(params.duration);
  if (elapsed >= duration) return params.endDiscountWad;
  return params.startDiscountWad + ((params.endDiscountWad - params.startDiscountWad) * elapsed) / duration;
}

/**
 * The largest fraction a bid may take, as `Liquidator._maxFraction` (0 = no bid needed).
 *
 * @example
 * const f = maxFraction(params, state, priceWad);
 */
export function maxFraction(params: AuctionParams, state: MarginState, priceWad: bigint): bigint {
  if (state.equityMM < 0n || state.markValue < 0n) return WAD;
  if (abs(state.markValue) <= params.dustValueWad) return WAD;
  const target = state.requirementIM + mulWadUp(params.bufferWad, state.requirementIM);
  const need = target - state.equityIM;
  if (need <= 0n) return 0n;
  const denominator = priceWad + need;
  if (denominator <= 0n) return WAD;
  const f = divWadUp(need, denominator);
  return f < WAD ? f : WAD;
}

/**
 * Exactly what `Liquidator.previewBid` (and so `bid`) returns, for a running auction (its
 * `auctionClock` clock start and `auctionOf` paid-in cash), or, with `auction` undefined, for
 * an account with no auction running yet or whose auction lapsed (`auctionClock` says not
 * running), which `bid` starts in the same transaction (elapsed time 0: the starting discount).
 * The whole account is priced `C + H − d·|H|`: its signed cash C (`cash.cash`, the margin
 * inputs' cash) at face value and the rest H = V − C at the discount, so split bids take what
 * one bid takes and a cash debt costs the insurance fund its face value.
 * Throws where the contract reverts on the state alone (not below maintenance, no bid
 * needed, invalid fraction); the protocol-account and nothing-to-sell checks need the chain.
 * Works for every margin mode: the Liquidator scales the engine's state by the fraction (a
 * slice of a book needs that slice of its requirement, which portfolio margin keeps too), so
 * pass `accountMargin(inputs)` of a standard or portfolio account.
 *
 * @example
 * const [running, clockStart] = await liquidator.read.auctionClock([account]);
 * const preview = previewBidFromState(params, accountMargin(inputs), running ? clockStart : undefined, now, 10n ** 18n, inputs);
 * await bid(client, { account, bidderAccount, fractionWad: preview.fractionWad, maxPayment: preview.payment, ... });
 */
export function previewBidFromState(
  params: AuctionParams,
  state: MarginState,
  auction: AuctionClock | bigint | undefined,
  timestamp: bigint,
  fractionWad: bigint,
  cash: Pick<MarginInputs, "cash" | "cashDecimals">,
): BidPreview {
  if (state.health < Health.LIQUIDATABLE) throw new Error(`account is not below maintenance (health ${state.health})`);
  if (fractionWad === 0n || fractionWad > WAD) throw new RangeError(`invalid fraction ${fractionWad}`);
  const cashScale = 10n ** BigInt(18 - cash.cashDecimals);
  const clockStart = typeof auction === "bigint" ? auction : auction?.clockStart;
  const discountWad = discountAt(params, clockStart ?? timestamp, timestamp);
  let discountValue = mulWad(discountWad, abs(state.markValue - cash.cash * cashScale));
  // An account worth V ≥ 0 is never sold below 0 (its auction never draws on the insurance fund).
  if (state.markValue >= 0n && discountValue > state.markValue) discountValue = state.markValue;
  const priceWad = state.markValue - discountValue;
  const maxFractionWad = maxFraction(params, state, priceWad);
  if (maxFractionWad === 0n) throw new Error("account is healthy: no bid needed");
  const dust = abs(state.markValue) <= params.dustValueWad;
  const f = dust ? WAD : fractionWad < maxFractionWad ? fractionWad : maxFractionWad;

  let payment: bigint;
  let insuranceFee = 0n;
  if (priceWad >= 0n) {
    payment = divUp(mulWadUp(f, priceWad), cashScale);
    insuranceFee = divUp(mulWadUp(mulWadUp(f, discountValue), params.insuranceShareWad), cashScale);
  } else {
    payment = -(mulWad(f, -priceWad) / cashScale);
  }

  const received = payment > 0n ? payment * cashScale : 0n;
  const mulSigned = (x: bigint) => (x >= 0n ? mulWad(f, x) : -mulWad(f, -x));
  return {
    fractionWad: f,
    maxFractionWad,
    discountWad,
    markValueWad: state.markValue,
    payment,
    insuranceFee,
    equityIMAfter: state.equityIM - mulSigned(state.equityIM) + received,
    requirementIMAfter: state.requirementIM - mulWad(f, state.requirementIM),
    equityMMAfter: state.equityMM - mulSigned(state.equityMM) + received,
    requirementMMAfter: state.requirementMM - mulWad(f, state.requirementMM),
  };
}
