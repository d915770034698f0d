import { type Address, type PublicClient, formatUnits } from "viem";
import type pino from "pino";

import {
  type AccountId,
  type AddressBook,
  type SeriesId,
  decodeSeries,
  formatAccount,
  getMarginInputs,
  getOrderStatus,
  getPositions,
  markAndSpot,
  optionMarketAbi,
  simulateFill,
} from "@pledge/sdk";
import { Outcome, type SendResult, type Sender } from "../executor.js";
import type { KeeperMetrics } from "../metrics.js";
import {
  type HeldPosition,
  type OffloadCandidate,
  fillFreedWad,
  fillNotionalWad,
  judgeFill,
  offloadCandidates,
  offloadGasGuard,
} from "../offload.js";
import {
  BoundedMap,
  type Counterparty,
  type FeedLimits,
  createSignatureCheck,
  entryKey,
  fetchOrderFeed,
} from "../orderFeed.js";
import type { Stats } from "../stats.js";
import type { ActionJournal } from "../store.js";
import { type Execute, type Job, type JobReport, emptyReport, failureCause } from "./job.js";

export interface OffloadJobOptions {
  bidderAccount: AccountId;
  /** URL serving the counterparty's signed orders (`orderFeedJson`). */
  ordersUrl: string;
  counterparty: Counterparty;
  /** The worst price accepted, as a fraction of the SDK's mark, WAD. */
  maxDiscountWad: bigint;
  /** How long one fetch of the feed may take, ms. */
  fetchTimeoutMs: number;
  /** Smallest fill worth sending, USD at the mark, WAD (`--offload-min-usd`). Default 100 USD. */
  minFillUsdWad?: bigint | undefined;
  /** Body size and entry count read of the feed (default 1 MiB, 1,000 entries). */
  feedLimits?: FeedLimits | undefined;
  /** Most orders of one series whose state is read on chain in one tick. Default 16. */
  maxOrderReadsPerSeries?: number | undefined;
  /** Most signatures recovered in one tick (about 4 ms each); the rest wait for the next. Default 50. */
  maxRecoveriesPerTick?: number | undefined;
  /** Blocks an order the chain refused at send time (or the gas check) is left alone. Default 10. */
  refusedOrderBlocks?: bigint | undefined;
}

/** What the offload job works with besides its options. */
export interface OffloadJobContext {
  publicClient: PublicClient;
  addressBook: AddressBook;
  sender: Pick<Sender, "send">;
  /** The key that sends: its mined nonce tells whether an offload journaled `pending` may still mine. */
  senderAddress: Address;
  execute: Execute;
  /** The history of actions, to find an offload a previous run (or a lost receipt) left pending. */
  journal?: ActionJournal | undefined;
  stats: Stats;
  metrics: KeeperMetrics;
  log: pino.Logger;
  /**
   * USD price of the chain's native token at `block`, WAD, to price a fill's gas; undefined (or
   * absent) when unknown: only `minFillUsdWad` then bounds what a fill may cost.
   */
  nativePrice?: ((block: bigint) => Promise<bigint | undefined>) | undefined;
}

/** An offload's target key, in the history of actions: one fill per series and block. */
export const offloadKey = (series: SeriesId) => `offload:${series}`;

/**
 * The offload job (docs/keeper.md, "Offloading"): after the liquidation job's bids have landed,
 * reduces the positions the bidder holds by filling the counterparty's signed orders. Each tick,
 * when the bidder holds a live position: reads its book and the SDK's marks at the latest block
 * (so this tick's bids are in it), fetches the feed (at most 1 MiB and 1,000 entries), keeps the
 * entries of the counterparty's account, once each, picks per series the orders within the price
 * bound that can fill at least `minFillUsdWad` (`offloadCandidates`, pure and cheap), and only
 * then, best first, checks each one's signature (cached across ticks, at most
 * `maxRecoveriesPerTick` recovered per tick), reads its state on chain (at most
 * `maxOrderReadsPerSeries` per series; an order found filled, cancelled or expired is remembered
 * and not read again), sizes the fill to the smaller of the position and what is left of the
 * order, simulates it (`simulateFill`) and judges it (`judgeFill`: reducing, accepted, within
 * the bound with the taker fee, the bidder at or above IM), then sends `fill` through the keeper's
 * sender with a gas guard (`offloadGasGuard`: its gas at the fee cap must not exceed the excess
 * over IM it frees), journaled under `offload:<series>`. An order the chain refuses at send time,
 * or the gas guard, is left alone for `refusedOrderBlocks` and the next order of the series is
 * tried; a fill that was sent and failed cools the series down. At most one fill per series per
 * tick, one after the other, so each simulation sees the last fill. A series with an offload
 * still `pending` in the journal whose nonce has not been used is left alone: it may still mine,
 * and a second fill could overshoot. A failed read fails the pass, not the tick; a feed that does
 * not answer is asked again after 1 s, doubling up to 60 s, so a dead counterparty does not slow
 * every tick by the fetch timeout.
 *
 * @example
 * const job = createOffloadJob(context, { bidderAccount, ordersUrl, counterparty, maxDiscountWad: 10n ** 16n, fetchTimeoutMs: 5_000 });
 * await job.run({ index, block, timestamp });
 */
export function createOffloadJob(context: OffloadJobContext, options: OffloadJobOptions): Job {
  const { publicClient, addressBook: book, sender, execute, stats, metrics, log } = context;
  const { bidderAccount, counterparty } = options;
  const market = book.contracts.OptionMarket;
  const cashDecimals = book.cash.decimals;
  const bidder = formatAccount(bidderAccount);
  const minFillUsdWad = options.minFillUsdWad ?? 100n * 10n ** 18n;
  const maxOrderReads = options.maxOrderReadsPerSeries ?? 16;
  const maxRecoveries = options.maxRecoveriesPerTick ?? 50;
  const refusedOrderBlocks = options.refusedOrderBlocks ?? 10n;
  const ignored = (reason: string, count = 1) => metrics.offloadOrdersIgnored.inc({ reason }, count);
  const signatures = createSignatureCheck(counterparty, { chainId: book.chainId, market });
  /** Orders (`entryKey`) found filled, cancelled, expired or below the nonce floor: for good. */
  const closedOrders = new BoundedMap<string, "filled" | "closed">(10_000);
  /** Orders (`entryKey`) refused at send time: the block until which they are left alone, and why. */
  const refusedOrders = new BoundedMap<string, { until: bigint; reason: "dust" | "refused" }>(10_000);

  /** Series whose last offload is journaled `pending` and whose nonce is not used yet. */
  async function inFlight(): Promise<Set<string>> {
    const pending = (context.journal?.pendingActions(book.chainId) ?? []).filter(
      (action) =>
        action.target.startsWith("offload:") && action.sender.toLowerCase() === context.senderAddress.toLowerCase(),
    );
    if (pending.length === 0) return new Set();
    const minedNonce = await publicClient.getTransactionCount({ address: context.senderAddress, blockTag: "latest" });
    return new Set(pending.filter((action) => action.nonce >= minedNonce).map((action) => action.target));
  }

  /** What one pass may still spend on signatures (shared by its series). */
  interface PassBudget {
    recoveries: number;
  }

  /** Counts a fill the chain (or the gas guard) refused at send time: its order is left alone for a while, not the series. */
  function refusedAtSend(
    report: JobReport,
    candidate: OffloadCandidate,
    key: string,
    block: bigint,
    result: SendResult,
  ) {
    const series = candidate.position.seriesId.toString();
    const reason = result.outcome === Outcome.GAS_GUARD ? "dust" : "refused";
    refusedOrders.set(key, { until: block + refusedOrderBlocks, reason });
    metrics.outcomes.inc({ job: "offload", outcome: result.outcome });
    if (reason === "dust") {
      ignored("dust");
      report.skipped++;
      return;
    }
    ignored("refused");
    stats.failed(result.errorName ?? result.outcome);
    report.failed++;
    log.warn(
      {
        job: "offload",
        target: offloadKey(candidate.position.seriesId),
        outcome: result.outcome,
        error: result.errorName,
        cause: failureCause(result, book),
        series,
      },
      "send failed: the order is left alone for a while, the next one of its series is tried",
    );
  }

  /** Tries the candidates of one series, best first, until one is sent. */
  async function offloadSeries(
    report: JobReport,
    candidates: readonly OffloadCandidate[],
    block: bigint,
    budget: PassBudget,
    nativePriceWad: bigint | undefined,
  ) {
    let reads = 0;
    let admitted = false;
    const seriesKey = candidates[0] === undefined ? "" : offloadKey(candidates[0].position.seriesId);
    for (const candidate of candidates) {
      const { signedOrder, position } = candidate;
      const key = entryKey(signedOrder);
      const refused = refusedOrders.get(key);
      if (refused !== undefined && block < refused.until) {
        ignored(refused.reason);
        continue;
      }
      const closed = closedOrders.get(key);
      if (closed !== undefined) {
        ignored(closed);
        continue;
      }
      // The costly checks, only for what may be filled: the signature (cached), then the chain.
      if (!signatures.cached(signedOrder)) {
        if (budget.recoveries <= 0) {
          log.debug(
            { event: "offloadBudget", series: position.seriesId.toString() },
            "signature budget spent: the rest waits",
          );
          return;
        }
        budget.recoveries--;
      }
      const verdict = await signatures.verify(signedOrder);
      if (!verdict.ok) {
        ignored("signer");
        log.debug(
          { event: "offloadOrderRejected", reason: "signer", detail: verdict.detail },
          "order feed entry ignored",
        );
        continue;
      }
      if (reads++ >= maxOrderReads) return;
      const status = await getOrderStatus(publicClient, { order: signedOrder.order, market });
      if (status.state !== "open") {
        const state = status.state === "filled" ? "filled" : "closed";
        closedOrders.set(key, state);
        ignored(state);
        continue;
      }
      const held = position.balance < 0n ? -position.balance : position.balance;
      const fillSize = held < status.remaining ? held : status.remaining;
      if (fillNotionalWad(fillSize, position.markWad) < minFillUsdWad) {
        ignored("dust");
        continue;
      }
      const simulation = await simulateFill(publicClient, {
        signedOrder,
        takerAccount: bidderAccount,
        fillSize,
        addressBook: book,
      });
      const refusal = judgeFill(candidate, fillSize, simulation, cashDecimals);
      if (refusal !== undefined) {
        ignored(refusal);
        log.debug(
          {
            event: "offloadRefused",
            series: position.seriesId.toString(),
            order: status.hash,
            reason: refusal,
            error: simulation.error?.name,
          },
          "counterparty order not used to offload",
        );
        continue;
      }
      // One fill per series and block, and none while the series cools down after a failed fill.
      if (!admitted) {
        if (!execute.admit(report, "offload", seriesKey, block)) return;
        admitted = true;
      }
      const freedWad = fillFreedWad(simulation) ?? 0n;
      const guard = offloadGasGuard(freedWad, nativePriceWad);
      const buying = position.balance < 0n;
      const result = await sender.send(
        market,
        optionMarketAbi,
        "fill",
        [signedOrder.order, signedOrder.signature, bidderAccount, fillSize],
        guard.check,
        { target: seriesKey, tick: block },
      );
      if (result.outcome === Outcome.SIMULATION_REVERTED || result.outcome === Outcome.GAS_GUARD) {
        refusedAtSend(report, candidate, key, block, result);
        if (result.outcome === Outcome.GAS_GUARD) {
          log.info(
            {
              event: "offloadRefused",
              series: position.seriesId.toString(),
              order: status.hash,
              reason: "dust",
              contracts: formatUnits(fillSize, 18),
              gasUsd: guard.cost === undefined ? undefined : formatUnits(guard.cost, 18),
              freesUsd: formatUnits(freedWad, 18),
            },
            "offload fill not sent: its gas at the fee cap is worth more than the margin it frees",
          );
        }
        continue;
      }
      if (!execute.record(report, "offload", [seriesKey], block, result)) return;
      metrics.offloadedContracts.inc(Number(formatUnits(fillSize, 18)));
      log.info(
        {
          event: "offloaded",
          bidderAccount: bidder,
          series: position.seriesId.toString(),
          side: buying ? "bought back" : "sold",
          contracts: formatUnits(fillSize, 18),
          priceWad: signedOrder.order.priceWad.toString(),
          markWad: position.markWad.toString(),
          premium: formatUnits(simulation.premium, cashDecimals),
          takerFee: formatUnits(simulation.takerFee, cashDecimals),
          counterparty: formatAccount(signedOrder.order.account),
          order: status.hash,
          txHash: result.receipt!.transactionHash,
        },
        "offloaded part of the bidder's book",
      );
      return;
    }
  }

  /** Wall time (ms) before which the feed is not fetched again, after failures in a row. */
  let feedRetryAt = 0;
  let feedFailures = 0;

  /** The feed's entries, unchecked, or undefined while the feed is failing (retried after 1 s, doubling up to 60 s). */
  async function readFeed() {
    if (Date.now() < feedRetryAt) return undefined;
    try {
      const fetched = await fetchOrderFeed(options.ordersUrl, options.fetchTimeoutMs, options.feedLimits);
      feedFailures = 0;
      return fetched;
    } catch (error) {
      feedRetryAt = Date.now() + Math.min(1_000 * 2 ** feedFailures++, 60_000);
      stats.failed("OffloadFeedFailed");
      log.warn({ event: "offloadFeedFailed", err: error }, "could not read the counterparty's order feed");
      return undefined;
    }
  }

  /** One offload pass; throws on a failed read (the caller keeps the tick going). */
  async function offload(report: JobReport, block: bigint, timestamp: bigint) {
    // One cheap read first: a bidder holding nothing costs nothing more. Read at the latest
    // block, not the tick's head: the liquidation job's bids of this tick have landed since.
    const held = (await getPositions(publicClient, { account: bidderAccount, market })).filter(
      ({ seriesId, balance }) => balance !== 0n && timestamp < decodeSeries(seriesId).expiry,
    );
    metrics.bidderPositions.set(held.length);
    if (held.length === 0) return;

    // The marks as the engine values the bidder's book (a price it needs and cannot read throws).
    const inputs = await getMarginInputs(publicClient, { account: bidderAccount, addressBook: book });
    const positions: HeldPosition[] = held.map(({ seriesId, balance }) => {
      const underlying = inputs.underlyings.get(decodeSeries(seriesId).underlyingIndex)!;
      return { seriesId, balance, markWad: markAndSpot(seriesId, underlying, inputs.timestamp, balance > 0n).markWad };
    });
    const feed = await readFeed();
    if (feed === undefined) return;
    const counts = new Map<string, number>();
    const count = (reason: string) => counts.set(reason, (counts.get(reason) ?? 0) + 1);
    for (const { reason, detail } of feed.rejected) {
      count(reason);
      log.debug({ event: "offloadOrderRejected", reason, detail }, "order feed entry ignored");
    }
    // Cheap checks first, on every entry: the counterparty's account, once each.
    const seen = new Set<string>();
    const orders = feed.orders.filter((signed) => {
      if (!signatures.ours(signed.order)) {
        count("signer");
        return false;
      }
      const key = entryKey(signed);
      if (seen.has(key)) {
        count("duplicate");
        return false;
      }
      seen.add(key);
      return true;
    });
    const { candidates, skipped } = offloadCandidates(positions, orders, {
      bidderAccount,
      maxDiscountWad: options.maxDiscountWad,
      timestamp,
      minFillUsdWad,
    });
    for (const { reason } of skipped) count(reason);
    for (const [reason, n] of counts) ignored(reason, n);
    const busy = candidates.size === 0 ? new Set<string>() : await inFlight();
    const budget: PassBudget = { recoveries: maxRecoveries };
    const nativePriceWad = candidates.size === 0 ? undefined : await context.nativePrice?.(block);
    for (const [series, orders] of candidates) {
      if (busy.has(offloadKey(series))) {
        report.skipped++;
        log.info(
          { event: "offloadInFlight", series: series.toString() },
          "an earlier offload of this series may still mine: not filling it again",
        );
        continue;
      }
      await offloadSeries(report, orders, block, budget, nativePriceWad);
    }
  }

  return {
    name: "offload",
    async run({ block, timestamp }) {
      const report = emptyReport("offload");
      try {
        await offload(report, block, timestamp);
      } catch (error) {
        // Offloading is the bidder's housekeeping: a failed read must not fail the tick (and hold
        // up the settlement job after it, or turn /health stale). It is tried again next tick.
        stats.failed("OffloadFailed");
        log.warn({ event: "offloadFailed", err: error }, "offload pass failed");
      }
      return report;
    },
  };
}
