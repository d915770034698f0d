import type { Server } from "node:http";

import pino from "pino";
import { formatEther, formatUnits } from "viem";

import { Health, asAccountId, formatAccount, getAccountMargin, healthName } from "@pledge/sdk";

import { countingClients } from "./clients.js";
import { dryRunSender } from "./dryRun.js";
import { type Sender, createSender, errorName, withBackoff } from "./executor.js";
import { chainSourceOf, createIndexer } from "./indexer.js";
import { type Job, createExecute } from "./jobs/job.js";
import { bareDebtorsOf, createBackstopJob } from "./jobs/backstop.js";
import { createLiquidationJob } from "./jobs/liquidation.js";
import { createOffloadJob } from "./jobs/offload.js";
import { DEFAULT_SETTLE_BATCH_SIZE, createSettlementJob } from "./jobs/settlement.js";
import { type HealthReport, createMetrics, serveMetrics } from "./metrics.js";
import type { KeeperOptions } from "./options.js";
import { createPlanner } from "./planner.js";
import { createReaders } from "./readers.js";
import { reconcileActions } from "./reconcile.js";
import { type KeeperStats, createStats } from "./stats.js";
import { openStore } from "./store.js";

export { KeeperStaleNodeError } from "./indexer.js";
export type { KeeperOptions, OffloadOptions } from "./options.js";
export type { KeeperStats, Liquidation } from "./stats.js";

export interface Keeper {
  /** One pass at the latest block: index new logs, read margins (batched), decide, execute. */
  tick(): Promise<void>;
  /** Polls `tick` every `intervalMs` (default 1,000), never overlapping; backs off after failures. */
  start(intervalMs?: number): void;
  /** Finishes the current tick, commits and closes the store and closes the HTTP server. */
  stop(): Promise<void>;
  /** Resolves once the metrics server listens (at once without one); rejects with its listen error. */
  ready(): Promise<void>;
  /** What `/health` answers: ok once a tick succeeded and the last one is younger than `maxTickAgeMs`. */
  health(): HealthReport;
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
  /** Wall time (ms) of the last successful tick. */
  let lastTickAt: number | undefined;
  const metrics = createMetrics(() => lastTickAt);
  const stats = createStats(metrics);
  const { addressBook: book, bidderAccount } = options;
  const log = options.logger ?? pino({ level: "info" });
  const { publicClient, walletClient } = countingClients(options.publicClient, options.walletClient, stats.rpcCall);
  const store = options.storePath === undefined ? undefined : openStore(options.storePath);
  const enabled = { liquidate: true, settle: true, marginCalls: true, backstop: true, ...options.jobs };
  const { CollateralVault: vault, OptionMarket: market, Liquidator: liquidator, MarginEngine: engine } = book.contracts;
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
  const maxTickAgeMs = options.maxTickAgeMs ?? 120_000;
  function health(): HealthReport {
    const ageMs = lastTickAt === undefined ? undefined : Date.now() - lastTickAt;
    const status = ageMs === undefined ? "starting" : ageMs > maxTickAgeMs ? "stale" : "ok";
    const body = {
      status,
      lastTickAgeSeconds: ageMs === undefined ? null : ageMs / 1_000,
      maxTickAgeSeconds: maxTickAgeMs / 1_000,
      ...stats.snapshot(),
    };
    return { ok: status === "ok", body };
  }
  const server: Promise<Server> | undefined =
    options.metricsPort === undefined
      ? undefined
      : serveMetrics(metrics, options.metricsPort, health, options.metricsHost ?? "127.0.0.1");
  // A listen error is reported by `ready()` (and `stop()`), not as an unhandled rejection.
  server?.catch(() => {});

  const readers = createReaders(publicClient, book);
  const planner = createPlanner(readers, stats, {
    nearRatio: options.nearRatio ?? 0.5,
    nearExcessUsd: options.nearExcessUsd ?? 1_000,
    fullConfirmEvery: options.fullConfirmEvery ?? 10,
    priceMoveWad: options.priceMoveWad ?? 10n ** 16n,
    cashDecimals: book.cash.decimals,
    // An index behind the head misses the unconfirmed events: value on chain (review rv19v F5).
    localValuation: (options.confirmations ?? 0) === 0,
  });
  const indexer = createIndexer({
    source: chainSourceOf(publicClient),
    chainId: book.chainId,
    deployedAtBlock: BigInt(book.deployedAtBlock),
    addresses: [vault, market, liquidator, engine],
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
  const execute = createExecute({
    stats,
    metrics,
    log,
    cooldownBlocks: options.cooldownBlocks ?? 3n,
    addressBook: book,
  });
  // `--dry-run`: the jobs simulate and log through this sender; nothing is signed.
  const jobSender = options.dryRun ? dryRunSender(publicClient, sender.address, log) : sender;
  const jobs: Job[] = [];
  const nativeAsset =
    options.nativeAsset ?? book.collateral.find((c) => c.symbol === "WETH" || c.symbol === "ETH")?.address;
  if (enabled.liquidate || enabled.marginCalls) {
    const context = { readers, planner, sender: jobSender, execute, stats, metrics, log };
    const { minProfit, bidGasCost, maxExposure, maxSlippageWad, nativePriceWad, bidReserveWad, minDiscountWad } =
      options;
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
        reserveWad: bidReserveWad,
        minDiscountWad,
        nativePriceWad,
        maxBidGas: options.maxBidGas ?? 3_000_000n,
        maxBatchGas: options.maxBatchGas ?? 16_777_216n,
        gasPerBid: options.gasPerBid,
        nativeAsset,
        marginChunkSize: options.marginChunkSize ?? 50,
        marginGasPerCall: options.marginGasPerCall ?? 20_000_000,
        crossCheckSample: options.crossCheckSample,
      }),
    );
  }
  if (enabled.backstop) {
    // After the liquidation job: an auction it just bid on is no longer the backstop's.
    jobs.push(
      createBackstopJob({
        publicClient,
        addressBook: book,
        sender: jobSender,
        execute,
        metrics,
        log,
        // Bare debts with no auction open: the planner's holdings name them (checked on chain).
        bareDebtCandidates: () => bareDebtorsOf(planner.holdings()),
      }),
    );
  }
  if (options.offload !== undefined) {
    // After the liquidation job: its bids have landed, so the book it offloads is the new one.
    const context = { publicClient, addressBook: book, sender: jobSender, senderAddress: sender.address };
    // A fill's gas is priced as a bid's: `nativePriceWad`, else the oracle's spot of the native asset.
    const nativePrice = async (block: bigint) =>
      options.nativePriceWad ?? (nativeAsset === undefined ? undefined : await readers.spot(nativeAsset, block));
    jobs.push(
      createOffloadJob(
        { ...context, execute, journal: store, stats, metrics, log, nativePrice },
        {
          bidderAccount: asAccountId(bidderAccount),
          ordersUrl: options.offload.ordersUrl,
          counterparty: options.offload.counterparty,
          maxDiscountWad: options.offload.maxDiscountWad ?? 10n ** 16n,
          fetchTimeoutMs: options.offload.fetchTimeoutMs ?? 5_000,
          minFillUsdWad: options.offload.minFillUsdWad ?? 100n * 10n ** 18n,
          feedLimits: options.offload.feedLimits,
        },
      ),
    );
  }
  if (enabled.settle) {
    const settlement = {
      market,
      oracle: book.contracts.ChainlinkOracle,
      settleBatchSize: options.settleBatchSize ?? DEFAULT_SETTLE_BATCH_SIZE,
    };
    jobs.push(createSettlementJob({ readers, sender: jobSender, execute, stats, log }, settlement));
  }

  const accountReadIntervalMs = options.accountReadIntervalMs ?? 30_000;
  let accountsReadAt: number | undefined;
  let bidderHealth: Health | undefined;
  const usd = (wad: bigint) => Number(formatUnits(wad, 18));
  /** The key's gas balance and the bidder account's margin, for the gauges; logged when the bidder's health changes. */
  async function readOwnAccounts() {
    accountsReadAt = Date.now();
    try {
      const [balance, [bidder]] = await Promise.all([
        publicClient.getBalance({ address: sender.address }),
        getAccountMargin(publicClient, { addressBook: book, accounts: [asAccountId(bidderAccount)] }),
      ]);
      metrics.gasBalance.set(Number(formatEther(balance)));
      const { equityIM, requirementIM, health: bidderNow } = bidder!;
      metrics.bidderEquity.set(usd(equityIM));
      metrics.bidderExcessIM.set(usd(equityIM - requirementIM));
      for (const value of Object.values(Health)) metrics.bidderHealth.set({ health: healthName(value) }, 0);
      metrics.bidderHealth.set({ health: healthName(bidderNow) }, 1);
      if (bidderNow !== bidderHealth) {
        const fields = {
          event: "bidderHealth",
          bidderAccount: formatAccount(asAccountId(bidderAccount)),
          health: healthName(bidderNow),
          equityUsd: formatUnits(equityIM, 18),
          excessIMUsd: formatUnits(equityIM - requirementIM, 18),
        };
        if (bidderNow === Health.HEALTHY) log.info(fields, "bidder account health");
        else log.warn(fields, "bidder account below initial margin: its bids will be refused");
        bidderHealth = bidderNow;
      }
    } catch (error) {
      stats.failed("OwnAccountsReadFailed");
      log.warn({ err: error }, "could not read the key's balance or the bidder's margin");
    }
  }

  /** Whether the sends a previous run left pending were settled (done once, before the first tick's work). */
  let reconciled = store === undefined;

  async function tick() {
    if (!reconciled) {
      const report = await reconcileActions({
        publicClient,
        journal: store!,
        chainId: book.chainId,
        waitMs: options.reconcileWaitMs,
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
    metrics.headLag.set(Date.now() / 1_000 - Number(head.timestamp));
    let phaseStart = performance.now();
    const { index } = await indexer.sync(head);
    stats.timed("index", performance.now() - phaseStart);
    metrics.indexed.set(index.accounts.size);
    metrics.indexedSeries.set(index.holders.size);
    metrics.openAuctions.set(index.auctions.size);
    metrics.indexLag.set(Number(head.number - index.cursor));
    // Each job on its own: one that throws (a read the engine refuses, a node hiccup past its
    // retries) is counted and logged, and the others still run this tick (review rv16s E: a stale
    // feed in the liquidation job's reads used to stop the backstop's and the settlement's).
    for (const job of jobs) {
      phaseStart = performance.now();
      try {
        await job.run({ index, block: head.number, timestamp: head.timestamp });
      } catch (error) {
        sender.resetNonce();
        stats.failed(errorName(error));
        log.error({ err: error, job: job.name }, "job failed; the other jobs run");
      }
      stats.timed(job.name, performance.now() - phaseStart);
    }
    if (accountsReadAt === undefined || Date.now() - accountsReadAt >= accountReadIntervalMs) await readOwnAccounts();
    stats.ticked(head.number);
    indexer.flush();
    lastTickAt = Date.now();
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
      const listening = await server?.catch(() => undefined);
      if (listening) await new Promise<void>((resolve) => listening.close(() => resolve()));
    },
    async ready() {
      await server;
    },
    health,
    stats: stats.snapshot,
    cursor: indexer.cursor,
  };
}
