import type { Address } from "viem";
import type pino from "pino";

import { chainlinkOracleAbi, decodeSeries, optionMarketAbi } from "@pledge/sdk";
import type { Sender } from "../executor.js";
import type { Readers } from "../readers.js";
import type { Stats } from "../stats.js";
import { type Execute, type Job, type JobReport, emptyReport } from "./job.js";

export interface SettlementJobOptions {
  market: Address;
  oracle: Address;
  /** Positions per `settleBatch`. */
  settleBatchSize: number;
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
 * The settlement job: for every expired series not yet settled, first retires it
 * (`retireExpired`, needs no price), so its unsettled longs stop holding room under the
 * underlying's open-interest cap from expiry on (review rv16c F1); then posts the settlement price
 * when the oracle has none (waiting for the fallback when the feed's first round after expiry
 * is late), then settles every holder in `settleBatch` chunks. A series is marked settled in the
 * index once every chunk landed.
 *
 * @example
 * const job = createSettlementJob({ readers, sender, execute, stats, log }, { market, oracle, settleBatchSize: 100 });
 * const report = await job.run({ index, block, timestamp });
 */
export function createSettlementJob(context: SettlementJobContext, options: SettlementJobOptions): Job {
  const { readers, sender, execute, stats, log } = context;
  const { market, oracle, settleBatchSize } = options;
  const underlyingAssets = new Map<number, Address>();
  /** Series known retired (by this keeper or, as read, by anyone); the chain answers after a restart. */
  const retired = new Set<bigint>();

  /** Retires an expired series unless it already is; a failed send is retried on a later tick. */
  async function retire(report: JobReport, seriesId: bigint, block: bigint): Promise<void> {
    if (retired.has(seriesId)) return;
    if (await readers.seriesRetired(seriesId)) {
      retired.add(seriesId);
      return;
    }
    const sent = await execute(report, "retire", `retire:${seriesId}`, block, (label) =>
      sender.send(market, optionMarketAbi, "retireExpired", [[seriesId]], undefined, label),
    );
    if (!sent) return;
    retired.add(seriesId);
    log.info({ event: "seriesRetired", series: seriesId.toString() }, "expired series retired from the underlying cap");
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
      for (const [seriesId, holders] of index.holders) {
        if (index.settledSeries.has(seriesId)) continue;
        const { underlyingIndex, expiry } = decodeSeries(seriesId);
        if (expiry > timestamp) continue;
        await retire(report, seriesId, block);
        const asset = await assetOf(underlyingIndex);
        const { posted } = await readers.settlementPrice(asset, expiry);
        if (!posted) {
          const round = await readers.settlementRound(asset, expiry);
          if (round === undefined) {
            log.debug({ series: seriesId.toString() }, "settlement round not yet available");
            continue;
          }
          // A first round later than the settlement delay is only accepted through the oracle's
          // fallback, from expiry + settlementFallbackWait on: wait for it instead of sending reverts.
          const { maxDelay, fallbackWait } = await readers.settlementWindow();
          if (round.updatedAt - expiry > maxDelay && timestamp < expiry + fallbackWait) {
            log.debug(
              { series: seriesId.toString(), opensAt: (expiry + fallbackWait).toString() },
              "first round after expiry is late: waiting for the settlement fallback",
            );
            continue;
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
