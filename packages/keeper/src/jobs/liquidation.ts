import { type Address, type Hex, formatUnits, maxUint256, parseEventLogs } from "viem";
import type pino from "pino";

import {
  type AccountMarginState,
  type AuctionParams,
  type BidPreview,
  Health,
  MarginMode,
  asAccountId,
  formatAccount,
  healthName,
  latentInsolvencyOf,
  liquidatorAbi,
  pledgeErrorNameOf,
  previewBidFromState,
} from "@pledge/sdk";
import { type GasPlan, Outcome, type Sender } from "../executor.js";
import type { KeeperMetrics } from "../metrics.js";
import type { Planner } from "../planner.js";
import { chunkByGas } from "../ranking.js";
import type { Readers } from "../readers.js";
import type { Stats } from "../stats.js";
import { marginDifference } from "../valuation.js";
import {
  type AccountView,
  type BidGasConfig,
  type Decision,
  type LeaveReason,
  LEAVE_REASONS,
  bidManyGasGuard,
  bidsPerBatch,
  decide,
} from "../strategy.js";
import { type Execute, type Job, type JobReport, emptyReport } from "./job.js";
import { bareDebtorsOf } from "./backstop.js";
import { BigIntMap, BigIntSet } from "../bigintKeys.js";

const WAD = 10n ** 18n;
/**
 * A planned `bidMany` limit's margin over the gas its bids are modelled to use (`planFor`):
 * room for what the model leaves out (accounts' books differ; the marks move). Small, so batches
 * pack blocks by limit; the `eth_call` at the limit proves it fits.
 */
const PLANNED_MARGIN_PERCENT = 15n;
/**
 * Gas the bidder's IM check costs over a book of S series, `base + perSeries × min(S, cap)`, by its
 * margin mode: `upper` for planning (`bookGas`), at or above every measured point; `lower` for
 * learning and for the headroom (`knownBookGas`, `growthBound`), at or below every one on either
 * mode. Measured (bench/gas.json, engine.accountMargin, session 45): standard 82,275 at 1
 * position, 140,749 at 4, 219,416 at 16, 528,774 at 64, 945,289 at 128; portfolio 199,116 at 1,
 * 422,647 at 4, 866,991 at 16 (789k near the money, 1.05M hedged or at 45 scenarios, 1.47M in
 * calendars), 1.46M at 32, 2.05M at 48. Both are bounds point by point, not of the slope: the
 * cost of one more series is up to 19.5k on standard margin (from 1 to 4) and up to about 116k on
 * portfolio margin (review r14b), so a growth is bounded by the lesser of `slope` a series added
 * and `upper` at the end less `lower` at the start (`growthBound`). A portfolio book holds at
 * most `MarginEngine.MAX_PORTFOLIO_POSITIONS` = 48 series.
 */
const IM_CHECK_GAS = {
  standard: { base: 110_000n, perSeries: 10_000n, cap: 128n, slope: 25_000n },
  portfolio: { base: 240_000n, perSeries: 100_000n, cap: 48n, slope: 130_000n },
  lower: { base: 76_000n, perSeries: 6_000n, cap: 128n, slope: 0n },
} as const;
/** A margin mode's IM check gas over a book of `size` series (`IM_CHECK_GAS`). */
type ImCheckGas = { base: bigint; perSeries: bigint; cap: bigint; slope: bigint };
const imCheckGas = ({ base, perSeries, cap }: ImCheckGas, size: bigint) => base + perSeries * (size < cap ? size : cap);
/**
 * The most the IM check's gas can grow from the least book a batch can leave on the latest block
 * (`least` series) to the book it leaves where it lands (`most`): `slope` a series added, and
 * never more than `upper` there less `lower` here.
 */
function imGrowth(im: ImCheckGas, least: bigint, most: bigint): bigint {
  const bySlope = im.slope * (most > least ? most - least : 0n);
  const byCurves = imCheckGas(im, most) - imCheckGas(IM_CHECK_GAS.lower, least);
  return bySlope < byCurves ? bySlope : byCurves;
}
/**
 * Gas a slice spends per entry of the bidder's book for each series it moves: the market finds
 * a series in the receiver's book by scanning it (`OptionMarket._find`, one warm read and a
 * compare, about 130 gas an entry), so a bid's gas grows with the book the bids before it
 * filled. `upper` counts every series as a whole scan (a series new to the book reads all of
 * it), rounded up; `lower` counts only the series new to the book, at the read alone.
 */
const SLICE_SCAN_GAS_PER_ENTRY = { upper: 140n, lower: 100n } as const;
/**
 * The most series a book holds (`OptionMarket.MAX_OPEN`, the engine's `MAX_CROSS_POSITIONS`): a
 * slice into a full book is refused, so no scan or IM check reads more entries than this.
 */
const MAX_BOOK = 128n;
/** A book's size as the market can hold it (`MAX_BOOK` at most). */
const bookSize = (book: BigIntSet) => (BigInt(book.size) < MAX_BOOK ? BigInt(book.size) : MAX_BOOK);
/** The guard's reason for a batch whose simulation skips some of its requests (they are dropped). */
const SKIPS_STEPS = "SimulationSkipsSteps";

export interface LiquidationJobOptions {
  liquidator: Address;
  bidderAccount: bigint;
  cashDecimals: number;
  /** Start auctions and bid; off, the job only reports margin calls. */
  liquidate: boolean;
  /** Log accounts below IM (once each, until they recover). */
  marginCalls: boolean;
  minProfit?: bigint | undefined;
  bidGasCost?: bigint | undefined;
  maxExposure?: bigint | undefined;
  maxSlippageWad?: bigint | undefined;
  /** Excess over IM the bidder keeps unspent, WAD (`StrategyConfig.reserveWad`). */
  reserveWad?: bigint | undefined;
  /** Smallest discount bid at, WAD (`StrategyConfig.minDiscountWad`). */
  minDiscountWad?: bigint | undefined;
  maxBidGas: bigint;
  /** Most gas one `bidMany` may be sent with (simulation + 30 %); a tick's bids are packed under it. */
  maxBatchGas: bigint;
  /**
   * Gas one bid of a batch is assumed to simulate at before the first batch was simulated
   * (then the simulated figure, `eth_estimateGas` ÷ bids, sizes the rest). Default 400k:
   * `bench:keeper` simulates about 370k per start-and-bid in a batch of whole accounts, the
   * bidder's IM check included; a batch that turns out larger than `maxBatchGas` is halved.
   * The first batch's size matters: the tick's other batches wait for its simulation.
   */
  gasPerBid?: bigint | undefined;
  /** A fixed USD price of the native token, WAD; else read from the oracle's spot of `nativeAsset`. */
  nativePriceWad?: bigint | undefined;
  nativeAsset?: Address | undefined;
  /** Most accounts per `accountsMargin` call. */
  marginChunkSize: number;
  /** Estimated gas one `accountsMargin` call may use. */
  marginGasPerCall: number;
  /**
   * Accounts valued locally that are cross-checked on chain each tick besides those the job acts
   * on (a rotating sample; `valuation.ts`). Default 8.
   */
  crossCheckSample?: number | undefined;
}

/** What the liquidation job works with besides its options. */
export interface LiquidationJobContext {
  readers: Readers;
  planner: Planner;
  sender: Pick<Sender, "send">;
  execute: Execute;
  stats: Stats;
  metrics: KeeperMetrics;
  log: pino.Logger;
}

type BidDecision = Extract<Decision, { kind: "bid" }>;

/**
 * The liquidation job: confirms the planner's accounts on chain, reads auctions and previews
 * of those below IM or under auction, lets the pure `decide` choose, and sends back to back, so
 * a tick's transactions can land in one block: auction starts and terminations one each, the
 * bids packed into as few `bidMany` batches as `maxBatchGas` allows. A batch whose simulation
 * needs more gas than that (or than the node lets it estimate), or leaves the bidder below IM,
 * is halved until it fits (a single
 * bid that still fails is counted as failed). Requests a mined batch skipped cool down like
 * failed sends. Margin calls are logged once per account until it recovers.
 *
 * @example
 * const job = createLiquidationJob({ readers, planner, sender, execute, stats, metrics, log }, options);
 * const report = await job.run({ index, block, timestamp });
 */
export function createLiquidationJob(context: LiquidationJobContext, options: LiquidationJobOptions): Job {
  const { readers, planner, sender, execute, stats, metrics, log } = context;
  const { liquidator, bidderAccount } = options;
  const inMarginCall = new BigIntSet();
  const crossCheckSample = options.crossCheckSample ?? 8;
  /**
   * Where the next tick's cross-check sample starts in the index's account order (insertion order:
   * stable, new accounts at the end), whatever each tick selected: every account valued locally is
   * cross-checked at least every ceil(N / crossCheckSample) ticks (review rv19v F1).
   */
  let sampleCursor = 0;

  /** The next `crossCheckSample` accounts of the index from the cursor, the cursor moved past them. */
  function nextSample(index: Parameters<Job["run"]>[0]["index"]): bigint[] {
    const all = [...index.accounts];
    if (all.length === 0) return [];
    const n = Math.min(crossCheckSample, all.length);
    const start = sampleCursor % all.length;
    sampleCursor = (start + n) % all.length;
    return Array.from({ length: n }, (_, i) => all[(start + i) % all.length]!);
  }

  /**
   * The states the job works with, in the order of `accounts`: each valued locally where the
   * planner can (`Planner.value`), cross-checked on chain for every account the job may act on
   * (below MM, or under auction) and for a sample of every indexed account walked in turn; the
   * others, and any whose cross-check differs, as the chain's `accountsMargin` gives them. A
   * difference is an error (`pledge_keeper_valuation_mismatch_total`): the chain's state is used
   * for that account (a sampled account outside `accounts` is added to the states), the planner
   * re-reads its holdings and the market parameters (`Planner.disagreed`).
   */
  async function valueAccounts(index: Parameters<Job["run"]>[0]["index"], accounts: bigint[], block: bigint) {
    const { local, chain } = planner.value(accounts);
    // Acted on: below MM (an auction to start, a bid) or under auction. A margin call is only logged.
    const actsOn = (s: AccountMarginState) => s.health >= Health.LIQUIDATABLE || index.auctions.has(s.account);
    const acted = local.filter(actsOn);
    const selected = new BigIntSet(accounts);
    const inActed = new BigIntSet(acted.map((s) => s.account));
    const localOf = new BigIntMap<AccountMarginState>(local.map((s) => [s.account, s]));
    const sampled = nextSample(index).filter((a) => !inActed.has(a));
    const unselected = sampled.filter((a) => !selected.has(a));
    for (const state of planner.value(unselected).local) localOf.set(state.account, state);
    const sample = sampled.flatMap((a) => {
      const state = localOf.get(a);
      return state === undefined ? [] : [state];
    });
    const checked = [...acted, ...sample];
    const read = [...chain, ...checked.map((s) => s.account)];
    const chunks = chunkByGas(read, planner.holdings(), options.marginChunkSize, options.marginGasPerCall);
    // The bidder's own excess over IM, valued locally too when the cache can (its IM check in
    // `bidMany` is simulated on chain before anything is sent; it is cross-checked in the rotation).
    const [own] = planner.value([bidderAccount]).local;
    const bidderExcessIM = own === undefined ? undefined : own.equityIM - BigInt(own.requirementIM);
    const confirmation = await readers.confirmation({ bidderAccount, chunks, bidderExcessIM }, block);
    stats.confirmed(confirmation.states.length);
    stats.valuedLocally(local.length);
    const onChain = new BigIntMap<AccountMarginState>(confirmation.states.map((s) => [s.account, s]));
    const byAccount = new BigIntMap<AccountMarginState>(confirmation.states.map((s) => [s.account, s]));
    for (const state of local) byAccount.set(state.account, state);
    const extra: bigint[] = [];
    for (const state of checked) {
      const truth = onChain.get(state.account);
      const fields = truth === undefined ? ["unvalued"] : marginDifference(state, truth);
      if (fields.length === 0) continue;
      metrics.valuationMismatch.inc();
      stats.valuationMismatch();
      log.error(
        {
          event: "valuationMismatch",
          account: formatAccount(asAccountId(state.account)),
          fields,
          block: block.toString(),
        },
        "local valuation differs from the chain's: using the chain's for this account",
      );
      // Refused by the engine (left out, as `unvalued`), or its state instead of ours.
      if (truth === undefined) byAccount.delete(state.account);
      else byAccount.set(state.account, truth);
      planner.disagreed(state.account);
      // A sampled account outside the selection joins it, with the chain's state.
      if (!selected.has(state.account) && truth !== undefined) extra.push(state.account);
    }
    const states = [...accounts, ...extra].flatMap((account) => {
      const state = byAccount.get(account);
      return state === undefined ? [] : [state];
    });
    return { ...confirmation, states };
  }
  /** The native token's USD price for pricing bid gas, read once per block; undefined when unknown. */
  let nativePriceAt: { block: bigint; price: Promise<bigint | undefined> } | undefined;

  function nativePrice(block: bigint): Promise<bigint | undefined> {
    if (options.nativePriceWad !== undefined) return Promise.resolve(options.nativePriceWad);
    if (options.nativeAsset === undefined) return Promise.resolve(undefined);
    if (nativePriceAt?.block !== block) nativePriceAt = { block, price: readers.spot(options.nativeAsset, block) };
    return nativePriceAt.price;
  }

  async function carryOut(report: JobReport, decision: Decision, block: bigint, marginCalls: Set<bigint>) {
    const { account } = decision;
    /** The account as `owner/subId`, in logs and target keys. */
    const who = formatAccount(asAccountId(account));
    switch (decision.kind) {
      case "marginCall":
        if (!options.marginCalls) return;
        marginCalls.add(account);
        if (!inMarginCall.has(account)) {
          inMarginCall.add(account);
          log.info({ event: "marginCall", account: who, excessIM: decision.excessIM.toString() }, "margin call");
        }
        return;
      case "startAuction":
        if (!options.liquidate) return;
        return startAndLeave(report, account, decision.reason, block);
      case "terminateAuction": {
        if (!options.liquidate) return;
        const sent = await execute(report, "terminateAuction", `auction:${who}`, block, (label) =>
          sender.send(liquidator, liquidatorAbi, "terminateAuction", [account], undefined, label),
        );
        if (sent) log.info({ event: "auctionTerminated", account: who }, "auction terminated");
        return;
      }
      case "bid":
        return; // sent in batches (`sendBids`)
      case "withhold":
        return; // reported by the tick (`reportWithheld`)
    }
  }

  /** Whether the last tick left a bid for lack of room, to log the change once. */
  let outOfRoom = false;

  /**
   * Reports the accounts below MM the tick does not bid on, by reason (`bids_withheld`), and
   * logs once when the bidder stops bidding for lack of room over its reserve, and once when
   * it has room again.
   */
  function reportWithheld(decisions: readonly Decision[], bidderExcessIM: bigint) {
    const counts = new Map<LeaveReason, number>();
    for (const d of decisions) {
      if (d.kind === "startAuction" || d.kind === "withhold") counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
    }
    for (const reason of LEAVE_REASONS) metrics.bidsWithheld.set({ reason }, counts.get(reason) ?? 0);
    const now = (counts.get("margin") ?? 0) > 0;
    if (now === outOfRoom) return;
    outOfRoom = now;
    const fields = {
      event: "bidderRoom",
      bidderAccount: formatAccount(asAccountId(bidderAccount)),
      excessIMUsd: formatUnits(bidderExcessIM, 18),
      reserveUsd: formatUnits(options.reserveWad ?? 0n, 18),
      withheld: counts.get("margin") ?? 0,
    };
    if (now) log.warn(fields, "bidder out of room over its reserve: not bidding on accounts it cannot carry");
    else log.info(fields, "bidder has room again");
  }

  /**
   * Latent insolvency among the confirmed accounts (maintenance equity below zero), computed by
   * the SDK's `latentInsolvencyOf`, the exact twin of the Backstop's `latentInsolvency` view over
   * the same states (test/sdk/latentInsolvency.test.ts), so no second read is needed. The
   * protocol's own accounts are left out as the view leaves them out: the index holds the
   * insurance account (its deposits), whose debt is `badDebt()`, already realised (review rv16 F4).
   */
  function reportInsolvent(states: readonly AccountMarginState[], protectedAccounts: readonly bigint[] = []) {
    const latent = latentInsolvencyOf(states, { protectedAccounts });
    metrics.insolventAccounts.set(Number(latent.count));
    metrics.latentShortfall.set(Number(formatUnits(latent.totalShortfallWad, 18)));
  }

  /**
   * The preview of the bid that starts `state`'s auction, quoted locally (`previewBidFromState`
   * with no auction: the starting discount); undefined when the account is not below MM, the
   * quote needs no bid, or its holdings are unknown or empty (the liquidator refuses accounts
   * with nothing to sell).
   */
  function quoteStart(state: AccountMarginState, params: AuctionParams, timestamp: bigint): BidPreview | undefined {
    if (state.health < Health.LIQUIDATABLE) return undefined;
    const held = planner.holdings().get(state.account);
    if (held === undefined || (held.positions.length === 0 && held.balances.every((b) => b === 0n))) return undefined;
    try {
      return previewBidFromState(params, state, undefined, timestamp, WAD, {
        cash: held.cash,
        cashDecimals: options.cashDecimals,
      });
    } catch {
      return undefined;
    }
  }

  /**
   * Starts the auction of `account` without bidding (start-and-leave): the discount grows from
   * here for whoever can absorb the slices. Counted by `reason` and logged.
   */
  async function startAndLeave(report: JobReport, account: bigint, reason: LeaveReason, block: bigint) {
    const who = formatAccount(asAccountId(account));
    const sent = await execute(report, "startAuction", `auction:${who}`, block, (label) =>
      sender.send(liquidator, liquidatorAbi, "startAuction", [account], undefined, label),
    );
    if (!sent?.receipt) return;
    stats.auctionStarted(account, sent.receipt.blockNumber);
    metrics.auctionsLeft.inc({ reason });
    log.info(
      { event: "auctionStarted", account: who, block: sent.receipt.blockNumber.toString(), reason },
      "auction started, left to other bidders",
    );
  }

  /**
   * A request the liquidator skips (`BidSkipped`, or its batch's simulation says it would):
   * counted, cooled down like a failed send, and logged with the error's name.
   */
  function skipBid(bid: BidDecision, reason: Hex | undefined, block: bigint, message: string) {
    const cause = reason === undefined ? "unknown" : (pledgeErrorNameOf(reason) ?? reason);
    metrics.outcomes.inc({ job: "bid", outcome: Outcome.SKIPPED_IN_BATCH });
    execute.coolDown(bidKey(bid.account), block);
    log.info({ event: "bidSkipped", account: formatAccount(asAccountId(bid.account)), cause }, message);
  }

  /** A bid's target key, as the other jobs name accounts (`owner/subId`). */
  const bidKey = (account: bigint) => `bid:${formatAccount(asAccountId(account))}`;

  /** Gas one bid of a batch is assumed to use (simulated) before any batch was simulated. */
  const priorGasPerBid = options.gasPerBid ?? 400_000n;
  /** The series a bid's slice moves (from the index; none when the account is not indexed). */
  const seriesOf = (bid: BidDecision) =>
    (planner.holdings().get(bid.account)?.positions ?? []).filter((p) => p.balance !== 0n).map((p) => p.seriesId);
  /** Whether the index holds the bid's account (else `seriesOf` counts it as moving no series). */
  const indexed = (bid: BidDecision) => planner.holdings().has(bid.account);

  /** Where a batch's bids leave the bidder's book (`landing`). */
  interface Landed {
    /** Gas of the scans so far: each series a bid moves read against the whole book then. */
    scans: bigint;
    /** The book's size where the batch lands, after the batches ahead of it. */
    ahead: bigint;
    /** The least it can be on the latest block: the series held at the tick's start and the bids'. */
    least: bigint;
  }

  /**
   * The bidder's book as a batch's bids land one by one from `book` (the series the bidder holds
   * before the first of them lands, the batches ahead of it counted), yielded after each bid: each
   * series a bid moves costs a whole scan of the book as it then stands
   * (`SLICE_SCAN_GAS_PER_ENTRY.upper`), and the bid adds its series to it. The scans grow with
   * the book, not with the bids: a batch sized from a first batch that met a small book runs out
   * of gas in the bigger book the earlier batches leave, and a small last batch pays the whole IM
   * check over few bids (bench:keeper, session 44: 221k a bid in the first batch of 32, 254k in
   * a batch of 59 after it, 298k in a last batch of 9).
   */
  function* landing(bids: readonly BidDecision[], book: Iterable<bigint>, tick: TickBatches): Generator<Landed> {
    const [ahead, least] = [new BigIntSet(book), new BigIntSet(tick.held)];
    let scans = 0n;
    for (const bid of bids) {
      const series = seriesOf(bid);
      scans += SLICE_SCAN_GAS_PER_ENTRY.upper * BigInt(series.length) * bookSize(ahead);
      for (const seriesId of series) (ahead.add(seriesId), least.add(seriesId));
      yield { scans, ahead: bookSize(ahead), least: bookSize(least) };
    }
  }

  /** `landing` after all of a batch's bids (where it starts, for none). */
  function afterLanding(bids: readonly BidDecision[], book: Iterable<bigint>, tick: TickBatches): Landed {
    let state: Landed = { scans: 0n, ahead: bookSize(new BigIntSet(book)), least: bookSize(tick.held) };
    for (const next of landing(bids, book, tick)) state = next;
    return state;
  }

  /**
   * The most gas a batch's bids can spend on the bidder's book: its scans and the bidder's IM
   * check over the book it leaves (`IM_CHECK_GAS`, by its mode).
   */
  const bookGas = ({ scans, ahead }: Landed, { im }: TickBatches) => scans + imCheckGas(im, ahead);

  /**
   * The least gas a batch's bids can have spent on the bidder's book from `book`: the scans of the
   * series new to it (those read the whole book) and the IM check at the lower curve, whatever
   * the bidder's mode (an unindexed bidder may be on either).
   */
  function knownBookGas(bids: readonly BidDecision[], book: Iterable<bigint>): bigint {
    const grown = new BigIntSet(book);
    let gas = 0n;
    for (const bid of bids) {
      for (const seriesId of seriesOf(bid)) {
        if (grown.has(seriesId)) continue;
        gas += SLICE_SCAN_GAS_PER_ENTRY.lower * bookSize(grown);
        grown.add(seriesId);
      }
    }
    return gas + imCheckGas(IM_CHECK_GAS.lower, bookSize(grown));
  }

  /**
   * The most a batch's gas can grow between a latest block that holds none of the batches ahead
   * of it and the block it lands in, after all of them: every scan it makes there, read whole
   * (the latest block may have found each series at its first place), and the growth of the IM
   * check from the least book it can leave on the latest block to the book it then leaves
   * (`imGrowth`).
   */
  const growthBound = ({ scans, ahead, least }: Landed, { im }: TickBatches) => scans + imGrowth(im, least, ahead);

  /** `gas` and `PLANNED_MARGIN_PERCENT` over it. */
  const withMargin = (gas: bigint) => (gas * (100n + PLANNED_MARGIN_PERCENT)) / 100n;

  /**
   * How a later batch of `bids` bids is sent, from where it leaves the book (`landing`). Its plan
   * is `PLANNED_MARGIN` over `tick.perBid` a bid plus `bookGas` of the book it will meet (the
   * batches ahead of it landed), and its `eth_call` checks that `limit` against the latest block,
   * which holds anywhere from none to all of the tick's earlier batches. `growthBound` goes on top
   * as `headroom`: a batch whose call passed on a latest block short of the batches ahead needs at
   * most that much more once they land. A call that runs out of gas (the bids cost more than the
   * figure) falls back to the search, plus the same headroom.
   */
  const planFor = (bids: bigint, state: Landed, tick: TickBatches) => ({
    limit: withMargin(tick.perBid! * bids + bookGas(state, tick)),
    headroom: growthBound(state, tick),
  });

  /** The most of `bids` from `from` (one at least) whose plan, its headroom included, fits `maxBatchGas`. */
  function plannedSize(bids: readonly BidDecision[], from: number, book: Iterable<bigint>, tick: TickBatches) {
    let size = 0;
    for (const state of landing(bids.slice(from), book, tick)) {
      const { limit, headroom } = planFor(BigInt(size + 1), state, tick);
      if (size > 0 && limit + headroom > options.maxBatchGas) break;
      size++;
    }
    return Math.max(1, size);
  }

  /** What the batches of one tick share. */
  interface TickBatches {
    block: bigint;
    config: BidGasConfig;
    /** Series the bidder does not hold that the tick's batches sent so far add to its book. */
    ahead: BigIntSet;
    /** Series the bidder holds (from the index; empty when unknown, which only adds gas). */
    held: BigIntSet;
    /**
     * Gas the bidder's IM check costs, by its margin mode (`IM_CHECK_GAS`): the index's, else the
     * engine's read at the tick's block, else (that read failed) portfolio, the dearer.
     */
    im: ImCheckGas;
    /**
     * Gas per bid beside what the bidder's book adds, learnt from the tick's first batch (or,
     * when that batch is split, from its first half, recursively), whose gas is searched for
     * (`eth_estimateGas`): that gas less the least its book can have cost
     * (`knownBookGas`, from the book held at the tick's start), ÷ its bids, so at least what a
     * bid of that batch cost beside its book; at least half its gas a bid, at most `maxBidGas`.
     * The tick's later batches are sized by it and sent at a planned limit (`planFor`). Learnt
     * per tick and only from that batch, so neither one heavy account alone in an earlier tick
     * nor a small retry sets it for a cascade (review r14b, finding 1; session 45's review).
     */
    perBid?: bigint;
  }

  /**
   * The bidder's margin mode when the index does not hold the bidder (not indexed yet), read from
   * the engine at the tick's block; undefined when that read fails, and the tick then plans the
   * bidder's IM check at the portfolio rate, the dearer.
   */
  async function unindexedBidderMode(block: bigint): Promise<MarginMode | undefined> {
    const mode = await readers.marginMode(bidderAccount, block).catch(() => undefined);
    if (mode === undefined) {
      log.debug(
        {
          event: "bidderModeUnread",
          bidderAccount: formatAccount(asAccountId(bidderAccount)),
          block: block.toString(),
        },
        "the bidder's margin mode could not be read: its IM check is planned at the portfolio rate",
      );
    }
    return mode;
  }

  /** Unindexed account → the tick's block it last went alone in (`sendBids`): a rotation among them. */
  const loneSentAt = new Map<bigint, bigint>();

  /** The series the bidder's book holds once the tick's batches sent so far have landed. */
  const bookAhead = (tick: TickBatches) => [...tick.held, ...tick.ahead];

  /**
   * Packs the tick's bids (those not cooling down or already sent) into batches and sends them
   * back to back. The first is sized by `priorGasPerBid` and searched for, and the rest wait for
   * its simulation (or, when it is split, its first half's), which sizes them (`TickBatches.perBid`).
   * A bid on an account the index does not hold goes alone, one a tick, once every other batch
   * of the tick (its re-sends and halves included) is done: nothing counts the series it adds to
   * the bidder's book, so no batch may land behind it in the same block (review helper-165 and
   * helper-166, P1-1: a batch planned behind one ran out of gas on chain). The unindexed account
   * sent longest ago goes first; the others wait for the next tick (`bidsDeferred`).
   */
  async function sendBids(report: JobReport, bids: readonly BidDecision[], block: bigint) {
    if (!options.liquidate || bids.length === 0) return;
    const admit = (bid: BidDecision) => execute.admit(report, "bidMany", bidKey(bid.account), block);
    const admitted = bids.filter((bid) => indexed(bid) && admit(bid));
    const unindexed = bids
      .filter((bid) => !indexed(bid))
      .sort((a, b) => Number((loneSentAt.get(a.account) ?? -1n) - (loneSentAt.get(b.account) ?? -1n)));
    const lone = unindexed.find(admit);
    // Those after `lone` were not asked (`admit` counts the ones before it that it refused).
    const deferred = lone === undefined ? 0 : unindexed.length - unindexed.indexOf(lone) - 1;
    if (deferred > 0) {
      log.info(
        { event: "bidsDeferred", bids: deferred, block: block.toString() },
        "bids on accounts the index does not hold wait for the next tick, one a tick",
      );
    }
    const own = planner.holdings().get(bidderAccount);
    const [nativePriceWad, mode] = await Promise.all([
      nativePrice(block),
      own === undefined ? unindexedBidderMode(block) : (own.mode ?? MarginMode.CROSS),
    ]);
    const tick: TickBatches = {
      block,
      config: {
        maxBidGas: options.maxBidGas,
        maxBatchGas: options.maxBatchGas,
        nativePriceWad,
        minProfit: options.minProfit ?? 0n,
        cashDecimals: options.cashDecimals,
      },
      ahead: new BigIntSet(),
      held: new BigIntSet(own?.positions.filter((p) => p.balance !== 0n).map((p) => p.seriesId) ?? []),
      // Unknown (the bidder not indexed yet and its mode unread): counted as portfolio, the dearer.
      im: mode === undefined || mode === MarginMode.PORTFOLIO ? IM_CHECK_GAS.portfolio : IM_CHECK_GAS.standard,
    };
    const sent: Promise<void>[] = [];
    for (let i = 0; i < admitted.length;) {
      const size =
        tick.perBid === undefined
          ? bidsPerBatch(options.maxBatchGas, priorGasPerBid)
          : plannedSize(admitted, i, bookAhead(tick), tick);
      const batch = admitted.slice(i, i + size);
      i += size;
      if (tick.perBid !== undefined || i >= admitted.length) {
        sent.push(sendBatch(report, batch, tick));
        continue;
      }
      let simulated!: () => void;
      const sizing = new Promise<void>((resolve) => (simulated = resolve));
      sent.push(sendBatch(report, batch, tick, { simulated }).finally(simulated));
      await sizing;
    }
    await Promise.all(sent);
    // Searched, not planned, after every batch of the tick is done: `seriesOf` counts its account
    // as moving no series, so a plan would leave out the scans and the IM check its series cost;
    // searched, the limit is what it costs on the latest block, its series included, + 30 % and
    // the headroom.
    if (lone !== undefined) {
      loneSentAt.set(lone.account, block);
      await sendBatch(report, [lone], tick, { search: true });
    }
  }

  /** Counts a batch's series new to the bidder's book into `tick.ahead`, for the batches after it. */
  function countAhead(bids: readonly BidDecision[], tick: TickBatches) {
    for (const bid of bids) {
      for (const seriesId of seriesOf(bid)) if (!tick.held.has(seriesId)) tick.ahead.add(seriesId);
    }
  }

  /**
   * Sends one `bidMany`, at a planned limit once `tick.perBid` is known (`planFor`), or searched
   * for (`search`: a re-search, or the lone bid on an account the index does not hold, whose series
   * a plan would count as none; or before it is known). Either way the batch's limit carries
   * headroom for the series the batches ahead of it add to the bidder's book: they land ahead of it
   * in the same block, but its simulation (against the latest block) may not see them (review r14b, finding
   * 3). A re-send (`resend`: the rest of a batch whose simulation skips a request, a search after
   * the guard refused a plan, either half of a split) lands behind every batch the tick has sent,
   * so it is planned for the book they all leave. The simulation's outcomes come back first:
   * requests it skips are dropped before anything is sent (a transaction in which nothing lands
   * still costs its gas; review r14b, finding 2). Halves a batch that needs too much gas or leaves
   * the bidder below IM. `simulated` marks the tick's first batch: its gas sets `tick.perBid`,
   * and `simulated` is called once that gas is known; split, it hands `simulated` to its first
   * half (recursively), whose gas sets the figure instead, and the tick's other batches wait for it.
   */
  async function sendBatch(
    report: JobReport,
    bids: readonly BidDecision[],
    tick: TickBatches,
    how: { simulated?: (() => void) | undefined; search?: boolean; resend?: boolean } = {},
  ) {
    const { block, config } = tick;
    const requests = bids.map(({ account, fractionWad, maxPayment, expectedNonce }) => ({
      account,
      fractionWad,
      maxPayment,
      expectedNonce,
    }));
    const n = BigInt(bids.length);
    // The bidder's book once the batches ahead have landed, taken before this batch's own series
    // are counted (a re-send's are already: it is planned for a book that holds them).
    const book = bookAhead(tick);
    // Nothing of the tick's ahead of it (its first batch): the latest block is the one it meets.
    const first = tick.ahead.size === 0 && how.resend !== true;
    if (how.resend !== true) countAhead(bids, tick);
    const state = afterLanding(bids, book, tick);
    const planned = how.search === true || tick.perBid === undefined ? undefined : planFor(n, state, tick);
    const fits = planned !== undefined && planned.limit + planned.headroom <= options.maxBatchGas;
    const plan: GasPlan = {
      limit: fits ? planned.limit : undefined,
      callGas: options.maxBatchGas,
      headroom: first ? 0n : fits ? planned.headroom : growthBound(state, tick),
      retryOn: ["LiquidatorBatchOutOfGas"],
    };
    const guard = bidManyGasGuard(
      bids.map((bid) => bid.profit),
      config,
    );
    let outcomes: readonly { landed: boolean; skipReason: Hex }[] | undefined;
    const result = await sender.send(
      liquidator,
      liquidatorAbi,
      "bidMany",
      [requests, bidderAccount],
      (gas, fees, sendLimit, fromPlan, decoded) => {
        outcomes = decoded as typeof outcomes;
        if (outcomes?.some((outcome) => !outcome.landed)) {
          how.simulated?.();
          return SKIPS_STEPS;
        }
        const refused = guard(gas, fees, sendLimit);
        log.debug(
          { event: "batchSimulated", bids: bids.length, gas: gas.toString(), planned: fromPlan, refused },
          "bidMany simulated",
        );
        if (refused === undefined && !fromPlan && how.simulated !== undefined) {
          const known = knownBookGas(bids, tick.held);
          const perBid = gas - known > gas / 2n ? (gas - known) / n : gas / (2n * n);
          tick.perBid = perBid < options.maxBidGas ? perBid : options.maxBidGas;
        }
        // Split below: its first half learns instead, and the tick's other batches wait for it.
        if (refused !== "BatchGasCap" || bids.length === 1) how.simulated?.();
        return refused;
      },
      { target: bids.map((bid) => bidKey(bid.account)).join(" "), tick: block },
      plan,
    );
    // Too much gas for the cap (or for the node's `eth_estimateGas` cap: a step then runs out of
    // gas), or more slices than the bidder's margin carries: two halves may each pass.
    const tooBig =
      (result.outcome === Outcome.GAS_GUARD && result.errorName === "BatchGasCap") ||
      (result.outcome === Outcome.SIMULATION_REVERTED &&
        (result.errorName === "EngineBelowInitialMargin" || result.errorName === "LiquidatorBatchOutOfGas"));
    const split = tooBig && bids.length > 1;
    if (!split) how.simulated?.();
    if (result.outcome === Outcome.GAS_GUARD && result.errorName === SKIPS_STEPS) {
      // Dropped before sending: each cools down like a request a mined batch skipped.
      const landing = bids.filter((_, i) => outcomes![i]!.landed);
      bids.forEach((bid, i) => {
        const { landed, skipReason } = outcomes![i]!;
        if (!landed) skipBid(bid, skipReason, block, "bid dropped: its batch's simulation skips it");
      });
      if (landing.length > 0) await sendBatch(report, landing, tick, { resend: true });
      return;
    }
    if (
      plan.limit !== undefined &&
      result.outcome === Outcome.GAS_GUARD &&
      (result.errorName === "BidGasCap" || result.errorName === "BidUnprofitableAfterGas")
    ) {
      // Judged on the learnt figure, not this batch's own gas: search for it once.
      await sendBatch(report, bids, tick, { search: true, resend: true });
      return;
    }
    const [lone] = bids;
    if (
      bids.length === 1 &&
      lone!.startsAuction &&
      result.outcome === Outcome.SIMULATION_REVERTED &&
      result.errorName === "EngineBelowInitialMargin"
    ) {
      // The bidder's margin cannot carry even this one slice (the strategy's estimate was off, or
      // the marks moved): start the auction anyway and leave it to other bidders.
      execute.record(report, "bidMany", [bidKey(lone!.account)], block, result);
      await startAndLeave(report, lone!.account, "margin", block);
      return;
    }
    if (split) {
      metrics.outcomes.inc({ job: "bidMany", outcome: Outcome.SPLIT });
      log.info({ event: "batchSplit", bids: bids.length, cause: result.errorName }, "batch split in two");
      const half = Math.ceil(bids.length / 2);
      // The tick's first batch (`simulated`) hands the learning over to its first half, simulated
      // first. (A split's second half may land before a first quarter simulates: the figure then
      // comes out high, which is safe.)
      await Promise.all([
        sendBatch(report, bids.slice(0, half), tick, { resend: true, simulated: how.simulated }),
        sendBatch(report, bids.slice(half), tick, { resend: true }),
      ]);
      return;
    }
    const keys = bids.map((bid) => bidKey(bid.account));
    if (!execute.record(report, "bidMany", keys, block, result) || !result.receipt) return;
    const { receipt } = result;
    const events = parseEventLogs({ abi: liquidatorAbi, logs: receipt.logs });
    const started = new BigIntSet();
    const landed = new BigIntSet();
    const skipped = new BigIntMap<Hex>();
    for (const event of events) {
      if (event.eventName === "AuctionStarted") started.add(event.args.account);
      else if (event.eventName === "Bid" && event.args.bidderAccount === bidderAccount) landed.add(event.args.account);
      else if (event.eventName === "BidSkipped") skipped.set(event.args.account, event.args.reason);
    }
    for (const bid of bids) {
      const account = formatAccount(asAccountId(bid.account));
      if (started.has(bid.account)) stats.auctionStarted(bid.account, receipt.blockNumber);
      if (landed.has(bid.account)) {
        stats.bidLanded(bid.account, receipt.blockNumber);
        log.info(
          { event: "bid", account, fractionWad: bid.fractionWad.toString(), profit: bid.profit.toString() },
          "bid landed",
        );
      } else {
        skipBid(bid, skipped.get(bid.account), block, "bid skipped in its batch");
      }
    }
  }

  return {
    name: "liquidation",
    async run({ index, block, timestamp }) {
      const report = emptyReport("liquidation");
      const accounts = await planner.plan(index, block, timestamp);
      // Nothing selected still cross-checks the tick's sample (review rv19v F1).
      if (accounts.length === 0 && (crossCheckSample === 0 || index.accounts.size === 0)) return report;
      const confirmation = await valueAccounts(index, accounts, block);
      const { bidderExcessIM, auctionParams, states } = confirmation;
      const unvalued = confirmation.unvalued ?? [];
      metrics.unvaluedAccounts.set(unvalued.length);
      if (unvalued.length > 0) {
        log.warn(
          {
            event: "accountsUnvalued",
            count: unvalued.length,
            first: formatAccount(asAccountId(unvalued[0]!.account)),
            error: unvalued[0]!.error,
          },
          "the engine refused to value some accounts (a stale price?): acting on the others",
        );
      }
      planner.confirmed(states);
      reportInsolvent(states, confirmation.protectedAccounts);

      const atRisk = { [Health.MARGIN_CALL]: 0, [Health.LIQUIDATABLE]: 0, [Health.INSOLVENT]: 0 };
      for (const state of states) {
        if (state.health !== Health.HEALTHY) atRisk[state.health]++;
        if (state.health >= Health.LIQUIDATABLE) stats.belowMaintenance(state.account, block);
      }
      for (const [health, count] of Object.entries(atRisk)) {
        metrics.atRisk.set({ health: healthName(Number(health) as Health) }, count);
      }
      // The protocol's own accounts (insurance, settlement, fee) are never auctioned
      // (`LiquidatorProtectedAccount`): an insurance fund below maintenance after takeovers is the
      // backstop's and governance's to handle. Sending `startAuction` for it only failed its
      // simulation, every cooldown (the stress replay with 300 accounts: 71 times).
      const own = new Set(confirmation.protectedAccounts ?? []);
      // An account holding nothing but a cash debt has nothing to sell: the liquidator refuses to
      // auction it (`LiquidatorNothingToSell`) and no bid can take it; the backstop job pays it
      // (`absorbDebt`). Sending `startAuction` only failed, every cooldown (review rv16s D).
      const bare = new Set(bareDebtorsOf(planner.holdings()));
      const candidates = states.filter(
        (s) =>
          !own.has(s.account) && !bare.has(s.account) && (s.health !== Health.HEALTHY || index.auctions.has(s.account)),
      );
      if (candidates.length === 0) {
        reportWithheld([], bidderExcessIM);
        return report;
      }
      // A running auction's discount clock (moved past outages, lapsed or not) is the chain's
      // to say: those are read with the liquidator's own preview. Below MM with no auction,
      // the bid starts one at the starting discount, which the SDK's exact mirror quotes from
      // the confirmed state and the indexed cash, with no read (a wrong index costs a skipped
      // request in the batch, never a worse price: the cap is the quote). Accounts below IM
      // but above MM need no preview.
      const running = candidates.filter((s) => index.auctions.has(s.account));
      const stateOf = new BigIntMap<(typeof candidates)[number]>(running.map((state) => [state.account, state]));
      const read = stateOf.size === 0 ? [] : await readers.auctions([...stateOf.keys()], block);
      const views: AccountView[] = read.flatMap(({ account, auction, preview }) => {
        const state = stateOf.get(account);
        return state === undefined ? [] : [{ account, state, auction, preview }];
      });
      for (const state of candidates) {
        if (index.auctions.has(state.account)) continue;
        const preview = quoteStart(state, auctionParams, timestamp);
        views.push({ account: state.account, state, preview });
      }
      const decisions = decide(views, {
        minProfit: options.minProfit ?? 0n,
        bidGasCost: options.bidGasCost ?? 0n,
        maxExposure: options.maxExposure ?? maxUint256,
        bidderAccount,
        bidderExcessIM: bidderExcessIM > 0n ? bidderExcessIM : 0n,
        insuranceShareWad: auctionParams.insuranceShareWad,
        cashDecimals: options.cashDecimals,
        maxSlippageWad: options.maxSlippageWad ?? WAD / 1_000n,
        reserveWad: options.reserveWad,
        minDiscountWad: options.minDiscountWad,
      });
      reportWithheld(decisions, bidderExcessIM);
      const stillInMarginCall = new BigIntSet();
      // Sent back to back with consecutive nonces, then the receipts are awaited together,
      // so a tick's transactions can land in the same block.
      const bids = decisions.filter((decision): decision is BidDecision => decision.kind === "bid");
      await Promise.all([
        ...decisions.map((decision) => carryOut(report, decision, block, stillInMarginCall)),
        sendBids(report, bids, block),
      ]);
      const checked = new BigIntSet(states.map((s) => s.account));
      for (const account of inMarginCall)
        if (checked.has(account) && !stillInMarginCall.has(account)) inMarginCall.delete(account);
      return report;
    },
  };
}
