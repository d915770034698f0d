import type { ReadContractErrorType } from "viem";
import { getBlock, readContract } from "viem/actions";

import {
  chainlinkOracleAbi,
  collateralVaultAbi,
  marginEngineAbi,
  optionMarketAbi,
  volSurfaceOracleAbi,
} from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import { PledgeError, type PledgeErrorType, decodePledgeError } from "../../errors.js";
import { type ReadClient, assertChain } from "../../internal/actions.js";
import { mulWadToCashDown, mulWadToCashUp, unitWadUp } from "../../math/cashUnits.js";
import {
  type MarginInputs,
  type UnderlyingInput,
  type UnderlyingSurfaceInput,
  accountMargin,
  surfaceFallbackOf,
} from "../../math/engine.js";
import { mulDivUp } from "../../math/fixedPoint.js";
import {
  type After,
  type Before,
  type Change,
  type Margin,
  Verdict,
  ZERO_MARGIN,
  isReducing,
  marginGateError,
  verdict,
} from "../../math/marginGate.js";
import { decodeSeries } from "../../math/series.js";
import type { SignedOrder } from "../../orders/typedData.js";
import { getMarginInputs } from "../reads/getMarginInputs.js";
import { verifyOrderSignature } from "./verifyOrder.js";
import type { AccountId, SeriesId } from "../../accounts.js";

const WAD = 10n ** 18n;
const MAX_AMOUNT = (1n << 127n) - 1n;
/** The most one position holds either way, as `OptionMarket.MAX_BALANCE` (2^90 − 1 WAD). */
const MAX_BALANCE = (1n << 90n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;

export interface SimulateFillParameters {
  signedOrder: SignedOrder;
  /** The taker's account id. */
  takerAccount: AccountId;
  /** WAD contracts to fill. */
  fillSize: bigint;
  addressBook: AddressBook;
}

/** A custom error the chain would revert with: its name and arguments, as `PledgeError` has them. */
export interface PredictedRevert {
  name: string;
  args: readonly unknown[];
}

/** The margin gate's answer for one side of the fill. */
export interface SimulatedSide {
  account: AccountId;
  change: Change;
  /** The side's state before the fill (a new-risk side is not read: `undefined`). */
  before: Before | undefined;
  /** The side's state after the fill as the gate reads it (`undefined` for a new-risk side). */
  after: After | undefined;
  verdict: Verdict;
  /** Whether the side passes: a `Pass`, or a `NeedsInitialMarginCheck` that passes at a valid price. */
  accepted: boolean;
  /** Why not: the market's gate error, `EngineBelowInitialMargin`, or the oracle's error. */
  error?: PredictedRevert | undefined;
}

export interface SimulateFillReturnType {
  /** Whether the chain would accept the fill, as far as predicted (see `simulateFill`). */
  accepted: boolean;
  /**
   * The first error the chain would revert with: an order check's, else a gate's refusal (the
   * maker's, else the taker's), else a failed IM check (the maker's, else the taker's).
   */
  error?: PredictedRevert | undefined;
  /** Cash units the premium moves, with the market's rounding; and each side's fee. */
  premium: bigint;
  makerFee: bigint;
  takerFee: bigint;
  /** The gate's answer per side (absent when an order check already refuses the fill). */
  maker?: SimulatedSide | undefined;
  taker?: SimulatedSide | undefined;
}

export type SimulateFillErrorType = PledgeErrorType | ReadContractErrorType;

/** What the SDK read about one account: its margin inputs, or, when a price it needs fails, the bare minimum. */
interface AccountRead {
  inputs: MarginInputs | undefined;
  /** The oracle's error that stopped the valuation (the side is then unpriced). */
  priceError: PledgeError | undefined;
  cash: bigint;
  /** Plain `bigint` ids, as `MarginInputs` (the pure math's input) holds them. */
  positions: readonly { seriesId: bigint; balance: bigint }[];
}

/**
 * Predicts, without sending anything, whether `OptionMarket.fill` would accept a fill and, if
 * not, the custom error and arguments it would revert with. It reads both accounts' margin inputs
 * (`getMarginInputs`), applies the fill to copies — position deltas, premium with the market's
 * rounding (`mulWadToCashDown` when the maker pays, `mulWadToCashUp` when it receives), fees
 * rounded up — values them before and after with the exact engine mirror (`accountMargin`) and
 * runs the margin gate's verdict (`marginGateVerdict`) for the maker, then the taker, and then the
 * IM checks the verdicts ask for, maker first, as the chain does. Exact at the block it reads (an `eth_call` of `fill` there gives the same answer).
 *
 * Predicted order checks: `MarketZeroAmount`, `MarketAmountTooLarge`, `MarketOrderCancelled`,
 * `MarketOrderExpired`, `MarketOrderNonceTooLow`, `MarketWrongTaker`, `MarketSelfTrade`,
 * `MarketFeeAccountNotAllowed`, `MarketSeriesNotFound`, `MarketSeriesExpired`, `MarketOverfill`,
 * the signature (`MarketInvalidSignature`: the owner's key, an approved operator's, or the owner's
 * ERC-1271 check, as `verifyOrderSignature`), the bound on one position (`MarketBalanceTooLarge`,
 * `MAX_BALANCE`) and the margin mode's position limit (`MarketTooManyPositions`, from `positionLimitOf`).
 * Not predicted: the caller's authorisation (`MarketUnauthorized`) and a valuation starved of
 * gas (`MarketValuationFailed`).
 * Oracle down: a side the engine cannot value is judged by the unpriced rules; where it would
 * need an IM check, the predicted error is the oracle's, as the SDK's read of the price saw it.
 * Vol surface: a side sent to an IM check while it holds a live series whose surface is FALLBACK
 * (in CROSS and ISOLATED a short one; in PORTFOLIO either side) is refused
 * `EngineVolSurfaceUnusable(underlying, expiry)`, as the engine refuses it.
 *
 * @example
 * const sim = await simulateFill(publicClient, { signedOrder, takerAccount, fillSize: 10n ** 18n, addressBook });
 * if (!sim.accepted) console.log(sim.error?.name, sim.error?.args); // e.g. "MarketRiskIncreased", [account, before, after]
 */
export async function simulateFill(
  client: ReadClient,
  params: SimulateFillParameters,
): Promise<SimulateFillReturnType> {
  const { order } = params.signedOrder;
  const { fillSize, takerAccount, addressBook } = params;
  const market = { address: addressBook.contracts.OptionMarket, abi: optionMarketAbi } as const;
  await assertChain(client, addressBook);
  const block = await getBlock(client);
  const at = { blockNumber: block.number };
  const [hash, minNonce, feeAccount, makerFeeWad, takerFeeWad, paused, seriesExists] = await Promise.all([
    readContract(client, { ...market, functionName: "orderHash", args: [order], ...at }),
    readContract(client, { ...market, functionName: "minNonce", args: [order.account], ...at }),
    readContract(client, { ...market, functionName: "feeAccount", ...at }),
    readContract(client, { ...market, functionName: "makerFeeWad", ...at }),
    readContract(client, { ...market, functionName: "takerFeeWad", ...at }),
    readContract(client, { ...market, functionName: "paused", ...at }),
    readContract(client, { ...market, functionName: "seriesExists", args: [order.seriesId], ...at }),
  ]);
  const done = await readContract(client, { ...market, functionName: "filled", args: [hash], ...at });

  const makerPays = order.size > 0n;
  const cashDecimals = addressBook.cash.decimals;
  const refused = (name: string, args: readonly unknown[]): SimulateFillReturnType => ({
    accepted: false,
    error: { name, args },
    premium: 0n,
    makerFee: 0n,
    takerFee: 0n,
  });

  // `OptionMarket._checkFill`, in its order (authorisation aside).
  if (fillSize === 0n) return refused("MarketZeroAmount", []);
  if (fillSize > MAX_AMOUNT) return refused("MarketAmountTooLarge", [fillSize]);
  if (done === MAX_UINT256) return refused("MarketOrderCancelled", [hash]);
  if (block.timestamp > order.deadline) return refused("MarketOrderExpired", [hash, order.deadline]);
  if (order.nonce < minNonce) return refused("MarketOrderNonceTooLow", [hash, order.nonce, minNonce]);
  if (order.taker !== 0n && order.taker !== takerAccount) return refused("MarketWrongTaker", [hash, order.taker]);
  if (order.account === takerAccount) return refused("MarketSelfTrade", [takerAccount]);
  for (const account of [order.account, takerAccount]) {
    if (account === feeAccount && account !== 0n) return refused("MarketFeeAccountNotAllowed", [account]);
  }
  if (!seriesExists) return refused("MarketSeriesNotFound", [order.seriesId]);
  const { expiry, underlyingIndex } = decodeSeries(order.seriesId);
  if (block.timestamp >= expiry) return refused("MarketSeriesExpired", [order.seriesId, expiry]);
  const size = order.size < 0n ? -order.size : order.size;
  if (fillSize > size - done) return refused("MarketOverfill", [hash, size - done, fillSize]);
  // `OptionMarket._checkSignature`, after `_checkFill`.
  if (
    !(await verifyOrderSignature(client, { signedOrder: params.signedOrder, addressBook, blockNumber: block.number }))
  )
    return refused("MarketInvalidSignature", [hash]);

  // Premium and fees, as `_settleCash` and `_fee`.
  const premium = makerPays
    ? mulWadToCashDown(fillSize, order.priceWad, cashDecimals)
    : mulWadToCashUp(fillSize, order.priceWad, cashDecimals);
  const fee = (feeWad: bigint) => (feeAccount === 0n ? 0n : mulDivUp(premium, feeWad, WAD));
  const makerFee = fee(makerFeeWad);
  const takerFee = fee(takerFeeWad);
  const makerDelta = makerPays ? fillSize : -fillSize;

  const [makerRead, takerRead] = await Promise.all([
    readAccount(client, addressBook, order.account, block.number),
    readAccount(client, addressBook, takerAccount, block.number),
  ]);
  // `_side`, maker then taker: no position may pass MAX_BALANCE either way.
  for (const [account, read, delta] of [
    [order.account, makerRead, makerDelta],
    [takerAccount, takerRead, -makerDelta],
  ] as const) {
    const held = read.positions.find((p) => p.seriesId === order.seriesId)?.balance ?? 0n;
    const balance = held + delta;
    if (balance > MAX_BALANCE || balance < -MAX_BALANCE) {
      return refused("MarketBalanceTooLarge", [account, order.seriesId, balance]);
    }
  }
  // `_applyDelta` → `_open`: a side new to the series must stay within its margin mode's limit.
  for (const [account, read] of [
    [order.account, makerRead],
    [takerAccount, takerRead],
  ] as const) {
    if (read.positions.some((p) => p.seriesId === order.seriesId)) continue;
    const limit = await readContract(client, {
      address: addressBook.contracts.MarginEngine,
      abi: marginEngineAbi,
      functionName: "positionLimitOf",
      args: [account],
      ...at,
    });
    if (BigInt(read.positions.length) >= limit) return refused("MarketTooManyPositions", [account, limit]);
  }
  const traded = await readUnderlying(client, addressBook, underlyingIndex, block.number);
  const tradedSurface =
    traded.input === undefined
      ? undefined
      : await readSurface(client, addressBook, order.seriesId, traded.asset, traded.input.spotWad, block.number);
  const context = { underlyingIndex, traded, tradedSurface, paused, roundingWad: unitWadUp(cashDecimals) };
  const maker = await judge(context, makerRead, order.account, order.seriesId, makerDelta, {
    cash: -(makerPays ? premium : -premium) - makerFee,
  });
  const taker = await judge(context, takerRead, takerAccount, order.seriesId, -makerDelta, {
    cash: (makerPays ? premium : -premium) - takerFee,
  });
  // The chain runs both sides' gates first and their IM checks after (one engine call when both
  // need one), so a gate's refusal of the taker comes before the maker's failed IM check.
  const gateError = [maker, taker].find((side) => side.verdict !== Verdict.NeedsInitialMarginCheck)?.error;
  const error = gateError ?? maker.error ?? taker.error;
  return { accepted: maker.accepted && taker.accepted, error, premium, makerFee, takerFee, maker, taker };
}

/** An account's margin inputs, or, if a price its positions need fails, its cash and positions. */
async function readAccount(
  client: ReadClient,
  addressBook: AddressBook,
  account: AccountId,
  blockNumber: bigint,
): Promise<AccountRead> {
  try {
    const inputs = await getMarginInputs(client, { account, addressBook, blockNumber });
    return { inputs, priceError: undefined, cash: inputs.cash, positions: inputs.positions };
  } catch (error) {
    if (!(error instanceof PledgeError)) throw error;
    const [cash, [ids, balances]] = await Promise.all([
      readContract(client, {
        address: addressBook.contracts.CollateralVault,
        abi: collateralVaultAbi,
        functionName: "cashOf",
        args: [account],
        blockNumber,
      }),
      readContract(client, {
        address: addressBook.contracts.OptionMarket,
        abi: optionMarketAbi,
        functionName: "positionsOf",
        args: [account],
        blockNumber,
      }),
    ]);
    const positions = ids.map((seriesId, i) => ({ seriesId, balance: balances[i]! }));
    return { inputs: undefined, priceError: error, cash, positions };
  }
}

/**
 * The account's positions with `delta` added to one series, in the market's order: a new series
 * goes last, and a closed one is replaced by the last (`OptionMarket._close`, swap-and-pop).
 */
function withDelta(
  positions: readonly { seriesId: bigint; balance: bigint }[],
  seriesId: SeriesId,
  delta: bigint,
): { seriesId: bigint; balance: bigint }[] {
  const next = positions.map((p) => (p.seriesId === seriesId ? { seriesId, balance: p.balance + delta } : p));
  const index = next.findIndex((p) => p.seriesId === seriesId);
  if (index === -1) return [...next, { seriesId, balance: delta }];
  if (next[index]!.balance !== 0n) return next;
  const last = next.pop()!;
  if (index < next.length) next[index] = last;
  return next;
}

const marginOf = (inputs: MarginInputs): Margin => {
  const s = accountMargin(inputs);
  return {
    initialExcess: s.equityIM - s.requirementIM,
    maintenanceExcess: s.equityMM - s.requirementMM,
    maintenanceEquity: s.equityMM,
  };
};

interface JudgeContext {
  underlyingIndex: number;
  /** The traded series' underlying, for a side that had no position in it; or the oracle's error. */
  traded: { asset: `0x${string}`; input: UnderlyingInput | undefined; priceError: PledgeError | undefined };
  /** The engine's surface read of the traded series, when its underlying marks on the surface. */
  tradedSurface: UnderlyingSurfaceInput | undefined;
  paused: boolean;
  roundingWad: bigint;
}

/** `OptionMarket._side` then `_gate` for one side, on copies of its inputs. */
async function judge(
  context: JudgeContext,
  read: AccountRead,
  account: AccountId,
  seriesId: SeriesId,
  delta: bigint,
  move: { cash: bigint },
): Promise<SimulatedSide> {
  const held = read.positions.find((p) => p.seriesId === seriesId)?.balance ?? 0n;
  const reducing = isReducing(held, delta);
  const change: Change = { reducing, givesUpLong: reducing && held > 0n };
  const positionsAfter = withDelta(read.positions, seriesId, delta);
  const cashAfter = read.cash + move.cash;
  const inputsAfter = read.inputs && {
    ...read.inputs,
    cash: cashAfter,
    positions: positionsAfter,
    underlyings: withUnderlying(read.inputs.underlyings, context),
  };

  let before: Before | undefined;
  let after: After | undefined;
  if (reducing) {
    const margin = read.inputs && tryMargin(read.inputs);
    before =
      margin === undefined
        ? { priced: false, margin: ZERO_MARGIN, cash: read.cash }
        : { priced: true, margin, cash: 0n };
    after =
      before.priced && inputsAfter
        ? { margin: marginOf(inputsAfter), cash: 0n, holdsShort: false }
        : { margin: ZERO_MARGIN, cash: cashAfter, holdsShort: positionsAfter.some((p) => p.balance < 0n) };
  }
  // A new-risk side is not read: the verdict does not look at its states.
  const beforeState = before ?? { priced: false, margin: ZERO_MARGIN, cash: 0n };
  const afterState = after ?? { margin: ZERO_MARGIN, cash: 0n, holdsShort: false };
  const result = verdict(change, beforeState, afterState, context.paused, context.roundingWad);
  const side = { account, change, before, after, verdict: result };
  if (result === Verdict.Pass) return { ...side, accepted: true };
  if (result !== Verdict.NeedsInitialMarginCheck) {
    return { ...side, accepted: false, error: marginGateError(account, result, beforeState, afterState) };
  }
  // `engine.checkInitialMargin` after the fill, at a valid price or failing closed.
  const state = inputsAfter && tryState(inputsAfter);
  if (state === undefined) {
    const priceError = read.priceError ?? context.traded.priceError;
    return { ...side, accepted: false, error: priceError && { name: priceError.errorName, args: priceError.args } };
  }
  // The engine refuses new risk on an account holding a live series whose surface is FALLBACK.
  const fallback = inputsAfter && surfaceFallbackOf(inputsAfter);
  if (fallback !== undefined) {
    return {
      ...side,
      accepted: false,
      error: { name: "EngineVolSurfaceUnusable", args: [fallback.asset, fallback.expiry] },
    };
  }
  if (state.equityIM >= state.requirementIM) return { ...side, accepted: true };
  return {
    ...side,
    accepted: false,
    error: { name: "EngineBelowInitialMargin", args: [account, state.equityIM, state.requirementIM] },
  };
}

/** The engine's valuation, or `undefined` where the chain's would revert for want of a price. */
function tryState(inputs: MarginInputs) {
  try {
    return accountMargin(inputs);
  } catch {
    return undefined;
  }
}

function tryMargin(inputs: MarginInputs): Margin | undefined {
  try {
    return marginOf(inputs);
  } catch {
    return undefined;
  }
}

/** The engine's inputs for `underlyingIndex` (a side new to it has none), or the oracle's error. */
async function readUnderlying(
  client: ReadClient,
  addressBook: AddressBook,
  underlyingIndex: number,
  blockNumber: bigint,
): Promise<JudgeContext["traded"]> {
  const engine = { address: addressBook.contracts.MarginEngine, abi: marginEngineAbi } as const;
  const oracle = { address: addressBook.contracts.ChainlinkOracle, abi: chainlinkOracleAbi } as const;
  const [{ asset, params }, portfolio] = await Promise.all([
    readContract(client, { ...engine, functionName: "underlying", args: [underlyingIndex], blockNumber }),
    readContract(client, { ...engine, functionName: "portfolioParams", args: [underlyingIndex], blockNumber }),
  ]);
  try {
    // The engine reads spot, then vol.
    const spotWad = await readContract(client, { ...oracle, functionName: "spot", args: [asset], blockNumber });
    const volWad = await readContract(client, { ...oracle, functionName: "vol", args: [asset], blockNumber });
    return { asset, input: { spotWad, volWad, params, portfolio }, priceError: undefined };
  } catch (error) {
    const decoded = decodePledgeError(error);
    if (!decoded) throw error;
    return { asset, input: undefined, priceError: decoded };
  }
}

/**
 * The engine's surface settings and `markVol` of `seriesId` at `spotWad`, when the engine has a
 * surface whose oracle lists `asset` (as `getMarginInputs` reads them); else undefined.
 */
async function readSurface(
  client: ReadClient,
  addressBook: AddressBook,
  seriesId: SeriesId,
  asset: `0x${string}`,
  spotWad: bigint,
  blockNumber: bigint,
): Promise<UnderlyingSurfaceInput | undefined> {
  const engine = { address: addressBook.contracts.MarginEngine, abi: marginEngineAbi } as const;
  const volSurface = await readContract(client, { ...engine, functionName: "volSurface", blockNumber });
  if (BigInt(volSurface) === 0n) return undefined;
  const oracle = { address: volSurface, abi: volSurfaceOracleAbi } as const;
  if (!(await readContract(client, { ...oracle, functionName: "isListed", args: [asset], blockNumber }))) {
    return undefined;
  }
  const { underlyingIndex, expiry, strikeWad } = decodeSeries(seriesId);
  const [maxAge, params, [volWad, timestamp, confidenceWad, mature]] = await Promise.all([
    readContract(client, { ...engine, functionName: "surfaceMaxAge", blockNumber }),
    readContract(client, { ...engine, functionName: "surfaceParams", args: [underlyingIndex], blockNumber }),
    readContract(client, {
      ...oracle,
      functionName: "markVol",
      args: [asset, expiry, spotWad, strikeWad],
      blockNumber,
    }),
  ]);
  return {
    asset,
    maxAge: BigInt(maxAge),
    addOnWad: params[2],
    reads: new Map([[seriesId as bigint, { volWad, timestamp, confidenceWad, mature }]]),
  };
}

/** `underlyings` with the traded one added if absent (and readable). */
function withUnderlying(
  underlyings: ReadonlyMap<number, UnderlyingInput>,
  context: JudgeContext,
): ReadonlyMap<number, UnderlyingInput> {
  const input = context.traded.input;
  const surface = context.tradedSurface;
  const held = underlyings.get(context.underlyingIndex);
  if (held !== undefined) {
    if (surface === undefined) return underlyings;
    // The side's own reads, and the traded series' (a series new to the side has none yet).
    const reads = new Map([...(held.surface?.reads ?? []), ...surface.reads]);
    return new Map([...underlyings, [context.underlyingIndex, { ...held, surface: { ...surface, reads } }]]);
  }
  if (input === undefined) return underlyings;
  return new Map([...underlyings, [context.underlyingIndex, { ...input, surface }]]);
}
