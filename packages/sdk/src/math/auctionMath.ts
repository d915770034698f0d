/**
 * Line-for-line port of `contracts/libraries/AuctionMath.sol`: the Liquidator's pricing (the
 * discount at a time, the price of a whole account, the largest fraction a bid may take and what
 * a bid pays), same names, arguments and rounding, every rounding against the bidder. Plus
 * `previewBidFromState`, the Liquidator's `_preview` (its checks around `quoteBid`).
 */
import { toWadDown, fromWadDown, fromWadUp } from "./cashUnits.js";
import { Health, type MarginInputs, type MarginState } from "./engine.js";
import { divWadUp, mulWad, mulWadUp } from "./fixedPoint.js";

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
 * The discount at `timestamp` of an auction whose clock started at `clockStart`, as
 * `AuctionMath.discountAt`: linear from the start to the end discount over `duration`, rounded
 * down; no time elapses before the clock start.
 *
 * @example
 * const params = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "auctionParams" });
 * discountAt(params, 1_000n, 1_000n) === params.startDiscountWad; // the clock started at 1,000
 * discountAt(params, 1_000n, 1_000n + BigInt(params.duration)) === params.endDiscountWad;
 * // Half-way through the default 5 % → 30 % over 15 minutes:
 * discountAt({ ...params, startDiscountWad: WAD / 20n, endDiscountWad: (3n * WAD) / 10n, duration: 900 }, 1_000n, 1_450n); // 175n * 10n ** 15n
 */
export function discountAt(params: AuctionParams, clockStart: bigint, timestamp: bigint): bigint {
  const elapsed = timestamp > clockStart ? timestamp - clockStart : 0n;
  const duration = BigInt(params.duration);
  if (elapsed >= duration) return params.endDiscountWad;
  return params.startDiscountWad + ((params.endDiscountWad - params.startDiscountWad) * elapsed) / duration;
}

/**
 * The discount a bid gets at `timestamp`, as `AuctionMath.bidDiscountAt`: `discountAt`, except that
 * while the account's mark value is below zero (`markValue < 0`) it stays at the start discount.
 * Only then can the insurance fund pay the bidder (`|V| + d·|H|`), and it never pays more the
 * longer nobody bids (issue 16; docs/liquidation.md, "Insolvent accounts"). No bid moves an
 * account across V = 0, so split and whole bids get the same discount (review rv16 F1).
 *
 * @example
 * const params = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "auctionParams" });
 * const later = 1_000n + BigInt(params.duration);
 * bidDiscountAt(params, -1n, 1_000n, later) === params.startDiscountWad; // V < 0: no escalation
 * bidDiscountAt(params, 0n, 1_000n, later) === params.endDiscountWad; // V ≥ 0: the clock's discount
 */
export function bidDiscountAt(params: AuctionParams, markValue: bigint, clockStart: bigint, timestamp: bigint): bigint {
  if (markValue < 0n) return params.startDiscountWad;
  return discountAt(params, clockStart, timestamp);
}

/**
 * Price of the whole account, WAD, as `AuctionMath.accountPriceDown`: its signed cash C at face
 * value and the rest H = V − C at the discount, P = V − d·|H| (the discount rounded down); an
 * account worth V ≥ 0 is never priced below 0.
 *
 * @example
 * accountPriceDown(1000n * WAD, 2000n * WAD, WAD / 10n); // { priceWad: 900n * WAD, discountValueWad: 100n * WAD }
 */
export function accountPriceDown(
  markValue: bigint,
  cashWad: bigint,
  discountWad: bigint,
): { priceWad: bigint; discountValueWad: bigint } {
  let discountValueWad = mulWad(discountWad, abs(markValue - cashWad));
  if (markValue >= 0n && discountValueWad > markValue) discountValueWad = markValue;
  return { priceWad: markValue - discountValueWad, discountValueWad };
}

/** `AuctionMath.MIN_BID_FRACTION`: the smallest share of an account a bid must take, 1 %. */
export const MIN_BID_FRACTION = 10n ** 16n;

/**
 * `AuctionMath.minBidFraction`: the smallest fraction a bid must take after the cap at the
 * largest fraction — 1 %, or the largest fraction when that is less (review rv16w W6). A smaller
 * bid reverts `LiquidatorBidTooSmall`.
 *
 * @example
 * minBidFraction(10n ** 18n); // 10n ** 16n (1 %)
 * minBidFraction(5n * 10n ** 15n); // 5n * 10n ** 15n (the largest fraction is 0.5 %)
 */
export function minBidFraction(maxFractionWad: bigint): bigint {
  return maxFractionWad < MIN_BID_FRACTION ? maxFractionWad : MIN_BID_FRACTION;
}

/**
 * The largest fraction a bid may take, rounded up, as `AuctionMath.maxFraction`: the one that
 * brings the account back to `(1 + buffer) × requirementIM`; insolvent and dust-sized accounts go
 * whole; 0 means no bid is needed.
 *
 * @example
 * const params = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "auctionParams" });
 * const state = { equityIM: 900n * WAD, requirementIM: 1_000n * WAD, equityMM: 900n * WAD, requirementMM: 800n * WAD, markValue: 5_000n * WAD, health: Health.MARGIN_CALL };
 * // The share of the account to sell at `priceWad` to get back to (1 + buffer) × requirementIM.
 * const f = maxFraction({ ...params, bufferWad: WAD / 10n }, state, 4_000n * WAD);
 * f === divWadUp(200n * WAD, 4_200n * WAD); // 200 USD short of 1,100: sell 200 / (4,000 + 200)
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
 * `f × x / 1e18` for a signed `x`, rounded toward zero, as `AuctionMath.mulWadTowardZero`.
 *
 * @example
 * mulWadTowardZero(WAD / 2n, -3n) === -1n;
 */
export function mulWadTowardZero(f: bigint, x: bigint): bigint {
  return x >= 0n ? mulWad(f, x) : -mulWad(f, -x);
}

/**
 * What a bid for `fractionWad` of an account pays at `discountWad`, and the state it leaves, as
 * `AuctionMath.quoteBid`: the fraction is capped at `maxFraction` (dust-sized accounts go whole);
 * the bidder pays rounded up, and so is the insurance fund's share of the discount; the fund pays
 * a bidder rounded down. `maxFractionWad === 0n` in the result means no bid is needed.
 *
 * @example
 * const params = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "auctionParams" });
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * const quote = quoteBid(params, accountMargin(inputs), inputs.cash, inputs.cashDecimals, params.startDiscountWad, WAD);
 * quote.maxFractionWad; // 0n: the account is healthy, no bid is needed
 */
export function quoteBid(
  params: AuctionParams,
  state: MarginState,
  cash: bigint,
  cashDecimals: number,
  discountWad: bigint,
  fractionWad: bigint,
): BidPreview {
  const { priceWad, discountValueWad } = accountPriceDown(state.markValue, toWadDown(cash, cashDecimals), discountWad);
  const maxFractionWad = maxFraction(params, state, priceWad);
  const dust = abs(state.markValue) <= params.dustValueWad;
  const f = dust ? WAD : fractionWad < maxFractionWad ? fractionWad : maxFractionWad;

  let payment: bigint;
  let insuranceFee = 0n;
  if (priceWad >= 0n) {
    payment = fromWadUp(mulWadUp(f, priceWad), cashDecimals);
    insuranceFee = fromWadUp(mulWadUp(mulWadUp(f, discountValueWad), params.insuranceShareWad), cashDecimals);
  } else {
    payment = -fromWadDown(mulWad(f, -priceWad), cashDecimals);
  }

  // Expected state of the liquidated account: (1 − f) of everything plus what it is paid.
  const received = payment > 0n ? toWadDown(payment, cashDecimals) : 0n;
  return {
    fractionWad: f,
    maxFractionWad,
    discountWad,
    markValueWad: state.markValue,
    payment,
    insuranceFee,
    equityIMAfter: state.equityIM - mulWadTowardZero(f, state.equityIM) + received,
    requirementIMAfter: state.requirementIM - mulWad(f, state.requirementIM),
    equityMMAfter: state.equityMM - mulWadTowardZero(f, state.equityMM) + received,
    requirementMMAfter: state.requirementMM - mulWad(f, state.requirementMM),
  };
}

/**
 * Exactly what `Liquidator.previewBid` (and so `bid`) returns, for a running auction (its
 * `auctionClock` clock start), or, with `auction` undefined, for an account with no auction
 * running yet or whose auction lapsed (`auctionClock` says not running), which `bid` starts in
 * the same transaction (elapsed time 0: the starting discount). `quoteBid` at `bidDiscountAt` (the
 * start discount while the account's mark value is below zero), with
 * the Liquidator's checks: throws where the contract reverts on the state alone (not below
 * maintenance, invalid fraction, no bid needed); the protocol-account and nothing-to-sell checks
 * need the chain. Works for every margin mode: pass `accountMargin(inputs)` of a standard or
 * portfolio account, and its margin inputs for the cash.
 *
 * @example
 * const params = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "auctionParams" });
 * const inputs = await getMarginInputs(publicClient, { addressBook, account }); // an account below maintenance
 * const clock = await getAuctionClock(publicClient, { addressBook, account });
 * const preview = previewBidFromState(params, accountMargin(inputs), clock, inputs.timestamp, 10n ** 18n, inputs);
 * const onChain = await previewBid(publicClient, { addressBook, account, fractionWad: 10n ** 18n });
 * preview.payment === onChain.payment; // to the cash unit
 */
export function previewBidFromState(
  params: AuctionParams,
  state: MarginState,
  auction: AuctionClock | bigint | undefined,
  timestamp: bigint,
  fractionWad: bigint,
  cash: Pick<MarginInputs, "cash" | "cashDecimals">,
): BidPreview {
  if (fractionWad === 0n || fractionWad > WAD) throw new RangeError(`invalid fraction ${fractionWad}`);
  if (state.health < Health.LIQUIDATABLE) throw new Error(`account is not below maintenance (health ${state.health})`);
  const clockStart = typeof auction === "bigint" ? auction : auction?.clockStart;
  const discountWad = bidDiscountAt(params, state.markValue, clockStart ?? timestamp, timestamp);
  const preview = quoteBid(params, state, cash.cash, cash.cashDecimals, discountWad, fractionWad);
  if (preview.maxFractionWad === 0n) throw new Error("account is healthy: no bid needed");
  const minFractionWad = minBidFraction(preview.maxFractionWad);
  if (preview.fractionWad < minFractionWad) {
    throw new RangeError(`bid fraction ${preview.fractionWad} is below the minimum ${minFractionWad}`);
  }
  return preview;
}
