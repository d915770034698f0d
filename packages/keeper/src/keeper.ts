import type { Server } from "node:http";

import { type Hash, type PublicClient, type WalletClient, maxUint256, parseEventLogs } from "viem";
import pino from "pino";

import {
  type AddressBook,
  type BidPreview,
  Health,
  PledgeSettlementRoundNotFoundError,
  chainlinkOracleAbi,
  collateralVaultAbi,
  decodeSeries,
  findSettlementRound,
  getAccountMargin,
  liquidatorAbi,
  marginEngineAbi,
  optionMarketAbi,
} from "../../sdk/src/index.js";
import { type Sender, type SendResult, Outcome, createSender, withBackoff } from "./executor.js";
import { type KeeperMetrics, createMetrics, serveMetrics } from "./metrics.js";
import { type KeeperIndex, emptyIndex, loadIndex, saveIndex } from "./store.js";
import { type AccountView, type Decision, decide } from "./strategy.js";

export interface KeeperOptions {
  publicClient: PublicClient;
  /** Signs and sends; must carry an account. */
  walletClient: WalletClient;
  addressBook: AddressBook;
  /** The keeper's funded account id, which receives what it wins at auction. */
  bidderAccount: bigint;
  /** JSON file for the index (block cursor, known accounts, series); a restart resumes from it. */
  storePath?: string;
  /** Blocks behind the head the index stays. Default 0. */
  confirmations?: number;
  /** Largest block range of one `getLogs`. Default 2,000. */
  maxLogRange?: bigint;
  jobs?: { liquidate?: boolean; settle?: boolean; marginCalls?: boolean };
  /** Smallest profit of a bid after gas, cash units. Default 0. */
  minProfit?: bigint;
  /** Largest payment for one slice, cash units. Default unbounded. */
  maxExposure?: bigint;
  /** Expected gas cost of one bid, cash units. Default 0. */
  bidGasCost?: bigint;
  /** Extra a bid may pay over its preview, WAD of |payment| (the marks move between blocks). Default 0.1 %. */
  maxSlippageWad?: bigint;
  logger?: pino.Logger;
  /** Serves `/metrics` and `/health` on this port when set. */
  metricsPort?: number;
  /** Blocks a target waits after a failed send. Default 3. */
  cooldownBlocks?: bigint;
  /** EIP-1559 fee cap, wei, fee bumps included. Default 500 gwei. */
  maxFeePerGas?: bigint;
  /** Priority fee cap, wei, fee bumps included. Default 2 gwei. */
  maxPriorityFeePerGas?: bigint;
  /** Re-send a transaction not mined after this many blocks with the same nonce and fees +12.5 %. Default 3. */
  replaceAfterBlocks?: number;
  /** ... or after this many ms. Default: blocks only. */
  replaceAfterMs?: number;
  /** How often a pending transaction polls for its receipt, ms. Default: the public client's polling interval. */
  pollIntervalMs?: number;
  /** Positions per `settleBatch`. Default 100. */
  settleBatchSize?: number;
}

export interface KeeperStats {
  blocks: number;
  auctionsStarted: number;
  bids: number;
  settled: number;
  pricesPosted: number;
  failures: number;
  gasUsed: bigint;
  lastBlock: bigint;
  liquidations: { account: bigint; priceBlock?: bigint; auctionBlock: bigint; bidBlock?: bigint }[];
}

export interface Keeper {
  /** One pass at the latest block: index new logs, read margins (batched), decide, execute. */
  tick(): Promise<void>;
  /** Polls `tick` every `intervalMs` (default 1,000), never overlapping; backs off after failures. */
  start(intervalMs?: number): void;
  /** Finishes the current tick, flushes the store and closes the HTTP server. */
  stop(): Promise<void>;
  stats(): KeeperStats;
  /** The current index cursor (last indexed block). */
  cursor(): bigint | undefined;
}

const WAD = 10n ** 18n;
const indexedEvents = ["Deposited", "PositionChanged", "PositionSettled", "AuctionStarted", "AuctionEnded"] as const;
const indexAbi = [...collateralVaultAbi, ...optionMarketAbi, ...liquidatorAbi];

/**
 * The keeper service: a small I/O loop around the pure `decide`. Indexes accounts from
 * events, reads their margin in one batched view per tick, decides, then simulates and
 * sends through a single writer per key. Every outcome is counted.
 *
 * @example
 * const keeper = createKeeper({ publicClient, walletClient, addressBook, bidderAccount, storePath: "keeper.json" });
 * keeper.start(1_000);
 * process.on("SIGINT", () => void keeper.stop());
 */
export function createKeeper(options: KeeperOptions): Keeper {
  const { publicClient, walletClient, addressBook: book, bidderAccount } = options;
  const log = options.logger ?? pino({ level: "info" });
  const jobs = { liquidate: true, settle: true, marginCalls: true, ...options.jobs };
  const confirmations = BigInt(options.confirmations ?? 0);
  const maxLogRange = options.maxLogRange ?? 2_000n;
  const cooldownBlocks = options.cooldownBlocks ?? 3n;
  const settleBatchSize = options.settleBatchSize ?? 100;
  const deployedAtBlock = BigInt(book.deployedAtBlock);
  const { CollateralVault: vault, OptionMarket: market, Liquidator: liquidator } = book.contracts;
  const { MarginEngine: engine, ChainlinkOracle: oracle } = book.contracts;
  const metrics: KeeperMetrics = createMetrics();
  const sender: Sender = createSender({
    publicClient,
    walletClient,
    maxFeePerGas: options.maxFeePerGas ?? 500_000_000_000n,
    maxPriorityFeePerGas: options.maxPriorityFeePerGas ?? 2_000_000_000n,
    replaceAfterBlocks: options.replaceAfterBlocks,
    replaceAfterMs: options.replaceAfterMs,
    pollIntervalMs: options.pollIntervalMs,
    onReplaced: ({ nonce, hash, replaced, fees }) => {
      metrics.replacements.inc();
      log.info(
        { event: "replaced", nonce, hash, replaced, maxFeePerGas: fees.maxFeePerGas.toString() },
        "transaction re-sent with bumped fees",
      );
    },
    onFeeCap: ({ nonce, hash, fees }) => {
      metrics.failures.inc({ error: "FeeCapReached" });
      log.warn(
        { event: "feeCap", nonce, hash, maxFeePerGas: fees.maxFeePerGas.toString() },
        "fee cap reached: no more bumps",
      );
    },
  });
  const server: Promise<Server> | undefined =
    options.metricsPort === undefined ? undefined : serveMetrics(metrics, options.metricsPort, () => statsCopy());

  const stats: KeeperStats = {
    blocks: 0,
    auctionsStarted: 0,
    bids: 0,
    settled: 0,
    pricesPosted: 0,
    failures: 0,
    gasUsed: 0n,
    lastBlock: 0n,
    liquidations: [],
  };
  let index: KeeperIndex | undefined;
  /** Target key → block until which it is skipped after a failure. */
  const cooldownUntil = new Map<string, bigint>();
  /** Target key → last block this keeper sent for it. */
  const sentAt = new Map<string, bigint>();
  /** Account → first block the keeper saw it below maintenance. */
  const firstBelowMM = new Map<bigint, bigint>();
  const inMarginCall = new Set<bigint>();
  const underlyingAssets = new Map<number, `0x${string}`>();
  let insuranceShareWad: bigint | undefined;
  let lastBlockSeen = -1n;

  function statsCopy(): KeeperStats {
    return { ...stats, liquidations: stats.liquidations.map((l) => ({ ...l })) };
  }

  async function loadOrCreateIndex(): Promise<KeeperIndex> {
    const stored = options.storePath === undefined ? undefined : await loadIndex(options.storePath, book.chainId);
    if (stored) log.info({ cursor: stored.cursor.toString(), accounts: stored.accounts.size }, "index resumed");
    return stored ?? emptyIndex(book.chainId, deployedAtBlock);
  }

  async function flush() {
    if (index !== undefined && options.storePath !== undefined) await saveIndex(options.storePath, index);
  }

  /** Rebuilds from the deployment block when the stored cursor is ahead of the chain or its block changed. */
  async function checkCursor(current: KeeperIndex, latest: bigint): Promise<KeeperIndex> {
    if (current.cursor < deployedAtBlock || current.cursorHash === undefined) return current;
    let mismatch = current.cursor > latest;
    if (!mismatch) {
      const block = await withBackoff(() => publicClient.getBlock({ blockNumber: current.cursor }));
      mismatch = block.hash !== current.cursorHash;
    }
    if (!mismatch) return current;
    log.warn(
      { cursor: current.cursor.toString(), latest: latest.toString() },
      "index does not match the chain; rebuilding",
    );
    metrics.failures.inc({ error: "IndexMismatch" });
    return emptyIndex(book.chainId, deployedAtBlock);
  }

  async function indexTo(current: KeeperIndex, target: bigint) {
    while (current.cursor < target) {
      const fromBlock = current.cursor + 1n;
      const toBlock = fromBlock + maxLogRange - 1n < target ? fromBlock + maxLogRange - 1n : target;
      const logs = await withBackoff(() =>
        publicClient.getLogs({ address: [vault, market, liquidator], fromBlock, toBlock }),
      );
      for (const event of parseEventLogs({ abi: indexAbi, logs, eventName: [...indexedEvents], strict: true })) {
        switch (event.eventName) {
          case "Deposited":
            current.accounts.add(event.args.account);
            break;
          case "PositionChanged":
          case "PositionSettled": {
            const { account, seriesId, balance } = event.args;
            current.accounts.add(account);
            const holders = current.holders.get(seriesId) ?? new Set<bigint>();
            if (event.eventName === "PositionChanged" && balance !== 0n) holders.add(account);
            else holders.delete(account);
            current.holders.set(seriesId, holders);
            break;
          }
          case "AuctionStarted":
            current.accounts.add(event.args.account);
            current.auctions.add(event.args.account);
            break;
          case "AuctionEnded":
            current.auctions.delete(event.args.account);
            break;
        }
      }
      const block = await withBackoff(() => publicClient.getBlock({ blockNumber: toBlock }));
      current.cursor = toBlock;
      current.cursorHash = block.hash as Hash;
    }
  }

  /** Runs a send unless the target is cooling down or was already sent for in this block; counts the outcome. */
  async function execute(job: string, key: string, block: bigint, send: () => Promise<SendResult>) {
    const until = cooldownUntil.get(key);
    if (until !== undefined && block < until) {
      metrics.outcomes.inc({ job, outcome: Outcome.COOLDOWN });
      return undefined;
    }
    if (sentAt.get(key) === block) {
      metrics.outcomes.inc({ job, outcome: Outcome.DUPLICATE });
      return undefined;
    }
    sentAt.set(key, block);
    const result = await send();
    metrics.outcomes.inc({ job, outcome: result.outcome });
    if (result.receipt) {
      stats.gasUsed += result.receipt.gasUsed;
      metrics.gasUsed.inc(Number(result.receipt.gasUsed));
    }
    if (result.outcome !== Outcome.SENT) {
      stats.failures++;
      metrics.failures.inc({ error: result.errorName ?? result.outcome });
      cooldownUntil.set(key, block + cooldownBlocks);
      log.warn({ job, target: key, outcome: result.outcome, error: result.errorName }, "send failed");
      return undefined;
    }
    cooldownUntil.delete(key);
    return result;
  }

  async function liquidationJob(current: KeeperIndex, latest: bigint) {
    const accounts = [...current.accounts];
    if (accounts.length === 0) return;
    const states = await withBackoff(() =>
      getAccountMargin(publicClient, { addressBook: book, accounts, blockNumber: latest }),
    );
    const atRisk = { [Health.MARGIN_CALL]: 0, [Health.LIQUIDATABLE]: 0, [Health.INSOLVENT]: 0 };
    const views: AccountView[] = [];
    const candidates = states.filter((s) => s.health !== Health.HEALTHY || current.auctions.has(s.account));
    for (const state of states) if (state.health !== Health.HEALTHY) atRisk[state.health]++;
    for (const [health, count] of Object.entries(atRisk)) metrics.atRisk.set({ health }, count);
    await Promise.all(
      candidates.map(async (state) => {
        const [auction, nonce] = await withBackoff(() =>
          Promise.all([
            publicClient.readContract({
              address: liquidator,
              abi: liquidatorAbi,
              functionName: "auctionOf",
              args: [state.account],
            }),
            publicClient.readContract({
              address: market,
              abi: optionMarketAbi,
              functionName: "accountNonce",
              args: [state.account],
            }),
          ]),
        );
        let preview: BidPreview | undefined;
        // Below MM with no auction yet, the preview is of the bid that would start it.
        if (auction.active || state.health >= Health.LIQUIDATABLE) {
          const read = await withBackoff(() =>
            publicClient.readContract({
              address: liquidator,
              abi: liquidatorAbi,
              functionName: "previewBid",
              args: [state.account, WAD],
            }),
          ).catch(() => undefined);
          if (read !== undefined && read.fractionWad > 0n) preview = { ...read };
        }
        if (state.health >= Health.LIQUIDATABLE && !firstBelowMM.has(state.account))
          firstBelowMM.set(state.account, latest);
        views.push({ account: state.account, state, nonce, auction, preview });
      }),
    );
    if (views.length === 0) return;
    insuranceShareWad ??= (
      await withBackoff(() =>
        publicClient.readContract({ address: liquidator, abi: liquidatorAbi, functionName: "auctionParams" }),
      )
    ).insuranceShareWad;
    const bidderExcessIM = await withBackoff(() =>
      publicClient.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: "excessInitial",
        args: [bidderAccount],
      }),
    );
    const decisions = decide(views, {
      minProfit: options.minProfit ?? 0n,
      bidGasCost: options.bidGasCost ?? 0n,
      maxExposure: options.maxExposure ?? maxUint256,
      bidderAccount,
      bidderExcessIM: bidderExcessIM > 0n ? bidderExcessIM : 0n,
      insuranceShareWad,
      cashDecimals: book.cash.decimals,
      maxSlippageWad: options.maxSlippageWad ?? WAD / 1_000n,
    });
    const stillInMarginCall = new Set<bigint>();
    // Sent back to back with consecutive nonces, then the receipts are awaited together,
    // so a tick's transactions can land in the same block.
    await Promise.all(decisions.map((decision) => executeDecision(decision, latest, stillInMarginCall)));
    for (const account of inMarginCall) if (!stillInMarginCall.has(account)) inMarginCall.delete(account);
  }

  async function executeDecision(decision: Decision, block: bigint, marginCalls: Set<bigint>) {
    const { account } = decision;
    switch (decision.kind) {
      case "marginCall":
        if (!jobs.marginCalls) return;
        marginCalls.add(account);
        if (!inMarginCall.has(account)) {
          inMarginCall.add(account);
          log.info(
            { event: "marginCall", account: account.toString(), excessIM: decision.excessIM.toString() },
            "margin call",
          );
        }
        return;
      case "startAuction": {
        if (!jobs.liquidate) return;
        const sent = await execute("startAuction", `auction:${account}`, block, () =>
          sender.send(liquidator, liquidatorAbi, "startAuction", [account]),
        );
        if (!sent?.receipt) return;
        stats.auctionsStarted++;
        metrics.auctionsStarted.inc();
        const priceBlock = firstBelowMM.get(account);
        stats.liquidations.push({
          account,
          ...(priceBlock === undefined ? {} : { priceBlock }),
          auctionBlock: sent.receipt.blockNumber,
        });
        log.info(
          { event: "auctionStarted", account: account.toString(), block: sent.receipt.blockNumber.toString() },
          "auction started",
        );
        return;
      }
      case "terminateAuction": {
        if (!jobs.liquidate) return;
        const sent = await execute("terminateAuction", `auction:${account}`, block, () =>
          sender.send(liquidator, liquidatorAbi, "terminateAuction", [account]),
        );
        if (sent) log.info({ event: "auctionTerminated", account: account.toString() }, "auction terminated");
        return;
      }
      case "bid": {
        if (!jobs.liquidate) return;
        const sent = await execute("bid", `bid:${account}`, block, () =>
          sender.send(liquidator, liquidatorAbi, "bid", [
            account,
            bidderAccount,
            decision.fractionWad,
            decision.maxPayment,
            decision.expectedNonce,
          ]),
        );
        if (!sent?.receipt) return;
        stats.bids++;
        metrics.bids.inc();
        const startedHere = parseEventLogs({
          abi: liquidatorAbi,
          logs: sent.receipt.logs,
          eventName: "AuctionStarted",
        }).some((event) => event.args.account === account);
        if (startedHere) {
          stats.auctionsStarted++;
          metrics.auctionsStarted.inc();
          const priceBlock = firstBelowMM.get(account);
          stats.liquidations.push({
            account,
            ...(priceBlock === undefined ? {} : { priceBlock }),
            auctionBlock: sent.receipt.blockNumber,
          });
        }
        const record = stats.liquidations.findLast((l) => l.account === account);
        if (record && record.bidBlock === undefined) record.bidBlock = sent.receipt.blockNumber;
        firstBelowMM.delete(account);
        log.info(
          {
            event: "bid",
            account: account.toString(),
            fractionWad: decision.fractionWad.toString(),
            profit: decision.profit.toString(),
          },
          "bid landed",
        );
        return;
      }
    }
  }

  async function settlementJob(current: KeeperIndex, latest: bigint) {
    const { timestamp } = await withBackoff(() => publicClient.getBlock({ blockNumber: latest }));
    for (const [seriesId, holders] of current.holders) {
      if (current.settledSeries.has(seriesId)) continue;
      const { underlyingIndex, expiry } = decodeSeries(seriesId);
      if (expiry > timestamp) continue;
      let asset = underlyingAssets.get(underlyingIndex);
      if (asset === undefined) {
        asset = (
          await withBackoff(() =>
            publicClient.readContract({
              address: engine,
              abi: marginEngineAbi,
              functionName: "underlying",
              args: [underlyingIndex],
            }),
          )
        ).asset;
        underlyingAssets.set(underlyingIndex, asset);
      }
      const [, posted] = await withBackoff(() =>
        publicClient.readContract({
          address: oracle,
          abi: chainlinkOracleAbi,
          functionName: "settlementPrice",
          args: [asset, expiry],
        }),
      );
      if (!posted) {
        const { aggregator } = await withBackoff(() =>
          publicClient.readContract({
            address: oracle,
            abi: chainlinkOracleAbi,
            functionName: "spotFeed",
            args: [asset],
          }),
        );
        let rounds;
        try {
          rounds = await findSettlementRound(publicClient, { feed: aggregator, expiry });
        } catch (error) {
          if (error instanceof PledgeSettlementRoundNotFoundError) {
            log.debug({ series: seriesId.toString(), reason: error.message }, "settlement round not yet available");
            continue;
          }
          throw error;
        }
        const sent = await execute("postSettlementPrice", `price:${asset}:${expiry}`, latest, () =>
          sender.send(oracle, chainlinkOracleAbi, "postSettlementPrice", [
            asset,
            expiry,
            rounds.roundId,
            rounds.previousRoundId,
          ]),
        );
        if (!sent) continue;
        stats.pricesPosted++;
        metrics.pricesPosted.inc();
        log.info({ event: "settlementPricePosted", asset, expiry: expiry.toString() }, "settlement price posted");
      }
      const accounts = [...holders];
      let complete = true;
      for (let i = 0; i < accounts.length; i += settleBatchSize) {
        const chunk = accounts.slice(i, i + settleBatchSize);
        const sent = await execute("settle", `settle:${seriesId}:${i}`, latest, () =>
          sender.send(market, optionMarketAbi, "settleBatch", [chunk, chunk.map(() => seriesId)]),
        );
        if (!sent) {
          complete = false;
          continue;
        }
        const count = typeof sent.result === "bigint" ? Number(sent.result) : chunk.length;
        stats.settled += count;
        metrics.settlements.inc(count);
        log.info({ event: "settled", series: seriesId.toString(), positions: count }, "positions settled");
      }
      if (complete) current.settledSeries.add(seriesId);
    }
  }

  async function tick() {
    index ??= await loadOrCreateIndex();
    const latest = await withBackoff(() => publicClient.getBlockNumber({ cacheTime: 0 }));
    index = await checkCursor(index, latest);
    const current = index;
    const target = latest - confirmations;
    await indexTo(current, target);
    metrics.indexed.set(current.accounts.size);
    if (jobs.liquidate || jobs.marginCalls) await liquidationJob(current, latest);
    if (jobs.settle) await settlementJob(current, latest);
    if (latest !== lastBlockSeen) {
      stats.blocks++;
      lastBlockSeen = latest;
    }
    stats.lastBlock = latest;
    metrics.ticks.inc();
    metrics.lastBlock.set(Number(latest));
    await flush();
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
            stats.failures++;
            sender.resetNonce();
            metrics.failures.inc({ error: error instanceof Error ? error.name : "UnknownError" });
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
      await flush();
      if (server) {
        const s = await server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
    stats: statsCopy,
    cursor: () => index?.cursor,
  };
}
