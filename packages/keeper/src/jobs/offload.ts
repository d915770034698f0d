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
import type { Sender } from "../executor.js";
import type { KeeperMetrics } from "../metrics.js";
import { type HeldPosition, type OffloadCandidate, judgeFill, offloadCandidates } from "../offload.js";
import { type Counterparty, fetchOrderFeed, signedBy } from "../orderFeed.js";
import type { Stats } from "../stats.js";
import type { ActionJournal } from "../store.js";
import { type Execute, type Job, type JobReport, emptyReport } from "./job.js";

export interface OffloadJobOptions {
  bidderAccount: AccountId;
  /** URL serving the counterparty's signed orders (`orderFeedJson`). */
  ordersUrl: string;
  counterparty: Counterparty;
  /** The worst price accepted, as a fraction of the SDK's mark, WAD. */
  maxDiscountWad: bigint;
  /** How long one fetch of the feed may take, ms. */
  fetchTimeoutMs: number;
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
}

/** An offload's target key, in the history of actions: one fill per series and block. */
export const offloadKey = (series: SeriesId) => `offload:${series}`;

/**
 * The offload job (docs/keeper.md, "Offloading"): after the liquidation job's bids have landed,
 * reduces the positions the bidder holds by filling the counterparty's signed orders. Each tick,
 * when the bidder holds a live position: reads its book and the SDK's marks, fetches the feed,
 * keeps the orders the counterparty signed (`signedBy`), picks per series the best order within
 * the price bound (`offloadCandidates`), reads the order's state on chain, sizes the fill to the
 * smaller of the position and what is left of the order, simulates it (`simulateFill`) and
 * judges it (`judgeFill`: accepted, within the bound with the taker fee, the bidder at or above
 * IM), then sends `fill` through the keeper's sender, journaled under `offload:<series>`. At most
 * one fill per series per tick, one after the other, so each simulation sees the last fill. A
 * series with an offload still `pending` in the journal whose nonce has not been used is left
 * alone: it may still mine, and a second fill could overshoot. A failed read fails the pass, not
 * the tick; a feed that does not answer is asked again after 1 s, doubling up to 60 s, so a dead
 * counterparty does not slow every tick by the fetch timeout.
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
  const ignored = (reason: string) => metrics.offloadOrdersIgnored.inc({ reason });

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

  /** Tries the candidates of one series, best first, until one is sent. */
  async function offloadSeries(report: JobReport, candidates: readonly OffloadCandidate[], block: bigint) {
    for (const candidate of candidates) {
      const { signedOrder, position } = candidate;
      const status = await getOrderStatus(publicClient, { order: signedOrder.order, market });
      if (status.state !== "open") {
        ignored(status.state === "filled" ? "filled" : "closed");
        continue;
      }
      const held = position.balance < 0n ? -position.balance : position.balance;
      const fillSize = held < status.remaining ? held : status.remaining;
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
      const buying = position.balance < 0n;
      const result = await execute(report, "offload", offloadKey(position.seriesId), block, (label) =>
        sender.send(
          market,
          optionMarketAbi,
          "fill",
          [signedOrder.order, signedOrder.signature, bidderAccount, fillSize],
          undefined,
          label,
        ),
      );
      if (result?.receipt === undefined) return;
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
          txHash: result.receipt.transactionHash,
        },
        "offloaded part of the bidder's book",
      );
      return;
    }
  }

  /** Wall time (ms) before which the feed is not fetched again, after failures in a row. */
  let feedRetryAt = 0;
  let feedFailures = 0;

  /** The counterparty's orders, or undefined while the feed is failing (retried after 1 s, doubling up to 60 s). */
  async function readFeed() {
    if (Date.now() < feedRetryAt) return undefined;
    try {
      const fetched = await fetchOrderFeed(options.ordersUrl, options.fetchTimeoutMs);
      feedFailures = 0;
      return await signedBy(fetched, counterparty, { chainId: book.chainId, market });
    } catch (error) {
      feedRetryAt = Date.now() + Math.min(1_000 * 2 ** feedFailures++, 60_000);
      stats.failed("OffloadFeedFailed");
      log.warn({ event: "offloadFeedFailed", err: error }, "could not read the counterparty's order feed");
      return undefined;
    }
  }

  /** One offload pass; throws on a failed read (the caller keeps the tick going). */
  async function offload(report: JobReport, block: bigint, timestamp: bigint) {
    // One cheap read first: a bidder holding nothing costs nothing more.
    const held = (await getPositions(publicClient, { account: bidderAccount, market, blockNumber: block })).filter(
      ({ seriesId, balance }) => balance !== 0n && timestamp < decodeSeries(seriesId).expiry,
    );
    metrics.bidderPositions.set(held.length);
    if (held.length === 0) return;

    // The marks as the engine values the bidder's book (a price it needs and cannot read throws).
    const inputs = await getMarginInputs(publicClient, {
      account: bidderAccount,
      addressBook: book,
      blockNumber: block,
    });
    const positions: HeldPosition[] = held.map(({ seriesId, balance }) => {
      const underlying = inputs.underlyings.get(decodeSeries(seriesId).underlyingIndex)!;
      return { seriesId, balance, markWad: markAndSpot(seriesId, underlying, inputs.timestamp).markWad };
    });
    const feed = await readFeed();
    if (feed === undefined) return;
    for (const { reason, detail } of feed.rejected) {
      ignored(reason);
      log.debug({ event: "offloadOrderRejected", reason, detail }, "order feed entry ignored");
    }
    const { candidates, skipped } = offloadCandidates(positions, feed.orders, {
      bidderAccount,
      maxDiscountWad: options.maxDiscountWad,
      timestamp,
    });
    for (const { reason } of skipped) ignored(reason);
    const busy = candidates.size === 0 ? new Set<string>() : await inFlight();
    for (const [series, orders] of candidates) {
      if (busy.has(offloadKey(series))) {
        report.skipped++;
        log.info(
          { event: "offloadInFlight", series: series.toString() },
          "an earlier offload of this series may still mine: not filling it again",
        );
        continue;
      }
      await offloadSeries(report, orders, block);
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
