import type { Server } from "node:http";

import pino from "pino";

import { countingClients } from "./clients.js";
import { type Sender, createSender, withBackoff } from "./executor.js";
import { chainSourceOf, createIndexer } from "./indexer.js";
import { type Job, createExecute } from "./jobs/job.js";
import { createLiquidationJob } from "./jobs/liquidation.js";
import { createSettlementJob } from "./jobs/settlement.js";
import { createMetrics, serveMetrics } from "./metrics.js";
import type { KeeperOptions } from "./options.js";
import { createPlanner } from "./planner.js";
import { createReaders } from "./readers.js";
import { reconcileActions } from "./reconcile.js";
import { type KeeperStats, createStats } from "./stats.js";
import { openStore } from "./store.js";

export { KeeperStaleNodeError } from "./indexer.js";
export type { KeeperOptions } from "./options.js";
export type { KeeperStats, Liquidation } from "./stats.js";

export interface Keeper {
  /** One pass at the latest block: index new logs, read margins (batched), decide, execute. */
  tick(): Promise<void>;
  /** Polls `tick` every `intervalMs` (default 1,000), never overlapping; backs off after failures. */
  start(intervalMs?: number): void;
  /** Finishes the current tick, commits and closes the store and closes the HTTP server. */
  stop(): Promise<void>;
  stats(): KeeperStats;
  /** The current index cursor (last indexed block). */
  cursor(): bigint | undefined;
}

/**
 * The keeper service, wired from its parts: the indexer (events → index), the readers (typed,
 * batched reads), the confirmation planner, the jobs (liquidation, settlement) and the stats.
 * Each tick indexes to the head, then runs the jobs in order; sends go through a single writer
 * per key. Every outcome is counted. With a store (`storePath`, SQLite), the index is
 * committed range by range and every send is journaled; before its first tick the keeper
 * settles the sends a previous run left pending (`reconcileActions`).
 *
 * @example
 * const keeper = createKeeper({ publicClient, walletClient, addressBook, bidderAccount, storePath: "keeper.sqlite" });
 * keeper.start(1_000);
 * process.on("SIGINT", () => void keeper.stop());
 */
export function createKeeper(options: KeeperOptions): Keeper {
  const metrics = createMetrics();
  const stats = createStats(metrics);
  const { addressBook: book, bidderAccount } = options;
  const log = options.logger ?? pino({ level: "info" });
  const { publicClient, walletClient } = countingClients(options.publicClient, options.walletClient, stats.rpcCall);
  const store = options.storePath === undefined ? undefined : openStore(options.storePath);
  const enabled = { liquidate: true, settle: true, marginCalls: true, ...options.jobs };
  const { CollateralVault: vault, OptionMarket: market, Liquidator: liquidator } = book.contracts;
  const sender: Sender = createSender({
    publicClient,
    walletClient,
    maxFeePerGas: options.maxFeePerGas ?? 500_000_000_000n,
    maxPriorityFeePerGas: options.maxPriorityFeePerGas ?? 2_000_000_000n,
    replaceAfterBlocks: options.replaceAfterBlocks,
    replaceAfterMs: options.replaceAfterMs,
    pollIntervalMs: options.pollIntervalMs,
    // Settlement counts what `settleBatch` returns; everything else needs no return value.
    resultFor: ["settleBatch"],
    journal: store,
    onStage: options.onSendStage,
    onReplaced: ({ nonce, hash, replaced, fees }) => {
      metrics.replacements.inc();
      const maxFeePerGas = fees.maxFeePerGas.toString();
      log.info({ event: "replaced", nonce, hash, replaced, maxFeePerGas }, "transaction re-sent with bumped fees");
    },
    onFeeCap: ({ nonce, hash, fees }) => {
      metrics.failures.inc({ error: "FeeCapReached" });
      const maxFeePerGas = fees.maxFeePerGas.toString();
      log.warn({ event: "feeCap", nonce, hash, maxFeePerGas }, "fee cap reached: no more bumps");
    },
  });
  const server: Promise<Server> | undefined =
    options.metricsPort === undefined ? undefined : serveMetrics(metrics, options.metricsPort, stats.snapshot);

  const readers = createReaders(publicClient, book);
  const planner = createPlanner(readers, stats, {
    nearRatio: options.nearRatio ?? 0.5,
    nearExcessUsd: options.nearExcessUsd ?? 1_000,
    fullConfirmEvery: options.fullConfirmEvery ?? 10,
    priceMoveWad: options.priceMoveWad ?? 10n ** 16n,
    cashDecimals: book.cash.decimals,
  });
  const indexer = createIndexer({
    source: chainSourceOf(publicClient),
    chainId: book.chainId,
    deployedAtBlock: BigInt(book.deployedAtBlock),
    addresses: [vault, market, liquidator],
    store,
    confirmations: options.confirmations,
    maxLogRange: options.maxLogRange,
    onResume: (index) => log.info({ cursor: index.cursor.toString(), accounts: index.accounts.size }, "index resumed"),
    listener: {
      changed: planner.changed,
      auctionStarted: (account, block, keeper) =>
        stats.auctionSeen(account, block, keeper.toLowerCase() === sender.address.toLowerCase() ? "self" : "other"),
      bid: (account, block, bidder) => stats.bidSeen(account, block, bidder === bidderAccount ? "self" : "other"),
      rebuilt: (cursor, latest) => {
        log.warn(
          { cursor: cursor.toString(), latest: latest.toString() },
          "index does not match the chain; rebuilding",
        );
        metrics.failures.inc({ error: "IndexMismatch" });
        planner.reset();
      },
    },
  });
  const execute = createExecute({ stats, metrics, log, cooldownBlocks: options.cooldownBlocks ?? 3n });
  const jobs: Job[] = [];
  if (enabled.liquidate || enabled.marginCalls) {
    const nativeAsset =
      options.nativeAsset ?? book.collateral.find((c) => c.symbol === "WETH" || c.symbol === "ETH")?.address;
    const context = { readers, planner, sender, execute, stats, metrics, log };
    const { minProfit, bidGasCost, maxExposure, maxSlippageWad, nativePriceWad } = options;
    jobs.push(
      createLiquidationJob(context, {
        liquidator,
        cashDecimals: book.cash.decimals,
        liquidate: enabled.liquidate,
        marginCalls: enabled.marginCalls,
        bidderAccount,
        minProfit,
        bidGasCost,
        maxExposure,
        maxSlippageWad,
        nativePriceWad,
        maxBidGas: options.maxBidGas ?? 3_000_000n,
        nativeAsset,
        marginChunkSize: options.marginChunkSize ?? 50,
        marginGasPerCall: options.marginGasPerCall ?? 20_000_000,
      }),
    );
  }
  if (enabled.settle) {
    const settlement = {
      market,
      oracle: book.contracts.ChainlinkOracle,
      settleBatchSize: options.settleBatchSize ?? 100,
    };
    jobs.push(createSettlementJob({ readers, sender, execute, stats, log }, settlement));
  }

  /** Whether the sends a previous run left pending were settled (done once, before the first tick's work). */
  let reconciled = store === undefined;

  async function tick() {
    if (!reconciled) {
      const report = await reconcileActions({
        publicClient,
        journal: store!,
        chainId: book.chainId,
        onSettled: (action, status) =>
          log.info(
            {
              event: "reconciled",
              action: action.id,
              kind: action.kind,
              target: action.target,
              nonce: action.nonce,
              status,
            },
            "pending action from a previous run settled",
          ),
      });
      reconciled = true;
      if (Object.values(report).some((n) => n > 0))
        log.info({ event: "reconciled", ...report }, "pending actions reconciled");
    }
    const head = await withBackoff(() => publicClient.getBlock({ blockTag: "latest" }));
    const { index } = await indexer.sync(head);
    metrics.indexed.set(index.accounts.size);
    for (const job of jobs) await job.run({ index, block: head.number, timestamp: head.timestamp });
    stats.ticked(head.number);
    indexer.flush();
  }

  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  return {
    tick,
    start(intervalMs = 1_000) {
      if (running) return;
      running = true;
      loop = (async () => {
        let failuresInARow = 0;
        while (running) {
          try {
            await tick();
            failuresInARow = 0;
          } catch (error) {
            failuresInARow++;
            sender.resetNonce();
            stats.failed(error instanceof Error ? error.name : "UnknownError");
            log.error({ err: error }, "tick failed");
          }
          if (!running) break;
          await sleep(failuresInARow === 0 ? intervalMs : Math.min(intervalMs * 2 ** failuresInARow, 60_000));
        }
      })();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      if (store?.isOpen() ?? false) {
        indexer.flush();
        store!.close();
      }
      if (server) {
        const s = await server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
    stats: stats.snapshot,
    cursor: indexer.cursor,
  };
}
