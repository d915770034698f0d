import type { Address } from "viem";
import type pino from "pino";

import { chainlinkOracleAbi, decodeSeries, feedAnswerToWad, optionMarketAbi } from "@pledge/sdk";
import type { Sender } from "../executor.js";
import type { Readers } from "../readers.js";
import type { Stats } from "../stats.js";
import { type Execute, type Job, type JobReport, emptyReport } from "./job.js";

/**
 * Positions per `settleBatch` unless the operator sets another size (session 43). The market finds
 * a position by scanning the account's book (`OptionMarket._find`): settling one reads up to
 * `MAX_CROSS_POSITIONS` (128) cold entries, about 2,100 gas each, besides the settlement itself
 * (`market.settle` in bench/gas.json, about 54,000). Forty of the dearest pairs, about 13M gas, stay
 * under EIP-7825's 2^24 gas a transaction, so accounts with full books cannot push a chunk over it
 * and stall the keeper's settlement of everyone else in the chunk (review helper-158, P2-1).
 *
 * @example
 * createSettlementJob(context, { market, oracle, settleBatchSize: DEFAULT_SETTLE_BATCH_SIZE });
 */
export const DEFAULT_SETTLE_BATCH_SIZE = 40;

export interface SettlementJobOptions {
  market: Address;
  oracle: Address;
  /** Positions per `settleBatch` (the keeper's default: `DEFAULT_SETTLE_BATCH_SIZE`). */
  settleBatchSize: number;
  /** Series per `retireExpired` (default 100). */
  retireBatchSize?: number;
}

/** What the settlement job works with besides its options. */
export interface SettlementJobContext {
  readers: Readers;
  sender: Pick<Sender, "send">;
  execute: Execute;
  stats: Stats;
  log: pino.Logger;
}

/**
 * The settlement job. First, once per tick and before any settlement, it retires every expired
 * series that still holds room under a capped underlying (`retireExpired`, needs no price), in
 * chunks of `retireBatchSize`, so their unsettled longs stop holding room from expiry on (review
 * rv16c F1, batched per rv16c2 K1); series with no open interest, on an underlying with no cap,
 * or already retired (by anyone) are left out, and the chain skips an id retired meanwhile. Then,
 * per expired series, it posts the settlement price when the oracle has none (waiting for the
 * fallback when the feed's first round after expiry is late or answers no price; after that, for
 * the next round with a price, and warning once when none can come), then settles every holder in
 * `settleBatch` chunks. A series is marked settled in the index once every chunk landed.
 *
 * @example
 * const job = createSettlementJob({ readers, sender, execute, stats, log }, { market, oracle, settleBatchSize: 40 });
 * const report = await job.run({ index, block, timestamp });
 */
export function createSettlementJob(context: SettlementJobContext, options: SettlementJobOptions): Job {
  const { readers, sender, execute, stats, log } = context;
  const { market, oracle, settleBatchSize, retireBatchSize = 100 } = options;
  const underlyingAssets = new Map<number, Address>();
  /**
   * Expired series with nothing to retire: retired (by this keeper or, as read, by anyone), or with
   * no open interest, which an expired series can never regain. The chain answers after a restart.
   */
  const retired = new Set<bigint>();
  /**
   * First rounds (`asset:expiry:roundId:updatedAt`) whose fallback walk found no price: warned once,
   * then left to governance. A re-pointed feed proves another first round, which is walked afresh.
   */
  const unsettleable = new Set<string>();

  /**
   * Retires, in one `retireExpired` per chunk, every expired series of the tick that still holds
   * room under a capped underlying; a failed chunk is retried on a later tick.
   */
  async function retireAll(report: JobReport, expired: readonly bigint[], block: bigint): Promise<void> {
    const caps = new Map<number, bigint>();
    const due: bigint[] = [];
    for (const seriesId of expired) {
      if (retired.has(seriesId)) continue;
      const { underlyingIndex } = decodeSeries(seriesId);
      let cap = caps.get(underlyingIndex);
      if (cap === undefined) {
        cap = await readers.underlyingCap(underlyingIndex);
        caps.set(underlyingIndex, cap);
      }
      if (cap === 0n) continue; // no cap: nothing to release (the cap may come later)
      if ((await readers.seriesRetired(seriesId)) || (await readers.openInterest(seriesId)) === 0n) {
        retired.add(seriesId);
        continue;
      }
      due.push(seriesId);
    }
    for (let i = 0; i < due.length; i += retireBatchSize) {
      const chunk = due.slice(i, i + retireBatchSize);
      const sent = await execute(report, "retire", `retire:${chunk[0]}:${chunk.length}`, block, (label) =>
        sender.send(market, optionMarketAbi, "retireExpired", [chunk], undefined, label),
      );
      if (!sent) continue;
      for (const seriesId of chunk) retired.add(seriesId);
      const count = typeof sent.result === "bigint" ? Number(sent.result) : chunk.length;
      log.info(
        { event: "seriesRetired", series: chunk.map(String), retired: count },
        "expired series retired from the underlying cap",
      );
    }
  }

  async function assetOf(underlyingIndex: number): Promise<Address> {
    let asset = underlyingAssets.get(underlyingIndex);
    if (asset === undefined) {
      asset = await readers.underlyingAsset(underlyingIndex);
      underlyingAssets.set(underlyingIndex, asset);
    }
    return asset;
  }

  return {
    name: "settlement",
    async run({ index, block, timestamp }) {
      const report = emptyReport("settlement");
      const expired: bigint[] = [];
      for (const seriesId of index.holders.keys()) {
        if (!index.settledSeries.has(seriesId) && decodeSeries(seriesId).expiry <= timestamp) expired.push(seriesId);
      }
      if (expired.length > 0) await retireAll(report, expired, block);
      for (const [seriesId, holders] of index.holders) {
        if (index.settledSeries.has(seriesId)) continue;
        const { underlyingIndex, expiry } = decodeSeries(seriesId);
        if (expiry > timestamp) continue;
        const asset = await assetOf(underlyingIndex);
        const { posted } = await readers.settlementPrice(asset, expiry);
        if (!posted) {
          const round = await readers.settlementRound(asset, expiry);
          if (round === undefined) {
            log.debug({ series: seriesId.toString() }, "settlement round not yet available");
            continue;
          }
          // A first round later than the settlement delay, or answering no price (zero or below,
          // or below 1 wei once scaled: the oracle's own test), is only settled through the oracle's
          // fallback, from expiry + settlementFallbackWait on (one with no price at the next round
          // that answers one, docs/oracle.md): wait for it instead of sending reverts. An answer
          // outside the feed's bounds is left to the send's simulation.
          const { maxDelay, fallbackWait } = await readers.settlementWindow();
          const late = round.updatedAt - expiry > maxDelay;
          const noPrice = feedAnswerToWad(round.answer, round.decimals) === 0n;
          if ((late || noPrice) && timestamp < expiry + fallbackWait) {
            log.debug(
              { series: seriesId.toString(), opensAt: (expiry + fallbackWait).toString() },
              late
                ? "first round after expiry is late: waiting for the settlement fallback"
                : "first round after expiry answers no price: waiting for the settlement fallback",
            );
            continue;
          }
          if (noPrice) {
            // The oracle walks on to the next round with a price; read where it would land rather
            // than send a post that reverts every tick (review rv44).
            const key = `${asset}:${expiry}:${round.roundId}:${round.updatedAt}`;
            if (unsettleable.has(key)) continue;
            const next = await readers.fallbackRound(round);
            if (next.status === "missing") {
              log.debug(
                { series: seriesId.toString(), round: next.roundId.toString() },
                "first round after expiry answers no price: waiting for the next round",
              );
              continue;
            }
            if (next.status === "none") {
              unsettleable.add(key);
              log.warn(
                { asset, expiry: expiry.toString(), lastRound: next.roundId.toString() },
                "no round after the settlement round answers a price (or the feed migrated): governance must settle this expiry",
              );
              continue;
            }
          }
          const sent = await execute(report, "postSettlementPrice", `price:${asset}:${expiry}`, block, (label) =>
            sender.send(
              oracle,
              chainlinkOracleAbi,
              "postSettlementPrice",
              [asset, expiry, round.roundId, round.hints],
              undefined,
              label,
            ),
          );
          if (!sent) continue;
          stats.pricePosted();
          log.info({ event: "settlementPricePosted", asset, expiry: expiry.toString() }, "settlement price posted");
        }
        const accounts = [...holders];
        let complete = true;
        for (let i = 0; i < accounts.length; i += settleBatchSize) {
          const chunk = accounts.slice(i, i + settleBatchSize);
          const sent = await execute(report, "settle", `settle:${seriesId}:${i}`, block, (label) =>
            sender.send(market, optionMarketAbi, "settleBatch", [chunk, chunk.map(() => seriesId)], undefined, label),
          );
          if (!sent) {
            complete = false;
            continue;
          }
          const count = typeof sent.result === "bigint" ? Number(sent.result) : chunk.length;
          stats.settled(count);
          log.info({ event: "settled", series: seriesId.toString(), positions: count }, "positions settled");
        }
        if (complete) index.settledSeries.add(seriesId);
      }
      return report;
    },
  };
}
