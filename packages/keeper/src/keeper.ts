import type { Server } from "node:http";

import {
  type Address,
  type ContractFunctionParameters,
  type Hash,
  type PublicClient,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  custom,
  maxUint256,
  parseEventLogs,
} from "viem";
import pino from "pino";

import {
  type AddressBook,
  type BidPreview,
  Health,
  PledgeSettlementRoundNotFoundError,
  chainlinkOracleAbi,
  collateralVaultAbi,
  type MarginMode,
  type MarginState,
  type PortfolioParams,
  type RiskParams,
  decodeSeries,
  findSettlementRound,
  liquidatorAbi,
  marginEngineAbi,
  optionMarketAbi,
} from "../../sdk/src/index.js";
import { type Sender, type SendResult, Outcome, createSender, withBackoff } from "./executor.js";
import { type KeeperMetrics, createMetrics, serveMetrics } from "./metrics.js";
import { type KeeperIndex, emptyIndex, loadIndex, saveIndex } from "./store.js";
import { type AccountView, type Decision, bidGasGuard, decide } from "./strategy.js";
import {
  type AccountHoldings,
  type MarketInputs,
  chunkByGas,
  pricesMoved,
  rankAccounts,
  selectForConfirmation,
} from "./ranking.js";

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
  /** A fixed cost counted against every bid, cash units, on top of its priced gas. Default 0. */
  bidGasCost?: bigint;
  /**
   * Most gas one bid may use (its simulation); larger bids are skipped (finding 13: an account
   * holding many positions can cost more gas than its discount pays). Default 3M.
   */
  maxBidGas?: bigint;
  /**
   * USD price of the chain's native token, WAD, to price each bid's gas (simulated gas × the
   * fee cap it may pay). Default: the oracle's spot of `nativeAsset`.
   */
  nativePriceWad?: bigint;
  /**
   * The listed asset whose oracle spot prices the native token. Default: the address book's
   * collateral entry with symbol WETH or ETH; without one (and no `nativePriceWad`) bids are
   * checked against `maxBidGas` only.
   */
  nativeAsset?: Address;
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
  /**
   * Confirm on chain only accounts whose float-estimated `excessMM / requirementMM` is
   * below this (plus open auctions and accounts last seen below IM). Default 0.5.
   */
  nearRatio?: number;
  /** ... or, for accounts requiring nothing, whose estimated excess is below this many USD. Default 1,000. */
  nearExcessUsd?: number;
  /** Confirm every indexed account at least every this many ticks. Default 10. */
  fullConfirmEvery?: number;
  /** Confirm every account when a spot or vol moved more than this (WAD, relative) since the last full pass. Default 1 %. */
  priceMoveWad?: bigint;
  /** Most accounts per `accountsMargin` call inside the batched read. Default 50. */
  marginChunkSize?: number;
  /**
   * Estimated gas one `accountsMargin` call may use, so portfolio-heavy chunks stay under a
   * node's `eth_call` gas cap (a 32-position portfolio account is about 3M gas). Default 20M.
   */
  marginGasPerCall?: number;
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
  /**
   * Every auction the keeper saw start, exactly once each (keyed by account and start
   * block): those it started itself (`startedBy: "self"`, from its receipts) and those
   * others started (`"other"`, from the liquidator's events), with the first bid's block
   * and who made it.
   */
  liquidations: Liquidation[];
  /** JSON-RPC requests the keeper made (reads and sends; a transport's own retries not counted). */
  rpcCalls: number;
  /** Accounts ranked by the float pre-filter, cumulative. */
  accountsRanked: number;
  /** Milliseconds spent ranking and selecting, cumulative. */
  rankingMs: number;
  /** Accounts confirmed with the on-chain batch view, cumulative. */
  accountsConfirmed: number;
  /** Ticks that confirmed every indexed account. */
  fullConfirmations: number;
}

/** One auction, as the keeper saw it. */
export interface Liquidation {
  account: bigint;
  /** The block where the keeper first saw the account below MM (absent when another keeper got there first). */
  priceBlock?: bigint;
  auctionBlock: bigint;
  startedBy: "self" | "other";
  bidBlock?: bigint;
  bidBy?: "self" | "other";
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

/** The node's head is behind the index's cursor though it knows that block: a lagging node. The tick is skipped. */
export class KeeperStaleNodeError extends Error {
  override name = "KeeperStaleNodeError";
  constructor(latest: bigint, cursor: bigint) {
    super(`the node's head ${latest} is behind the index cursor ${cursor}`);
  }
}

const WAD = 10n ** 18n;
const indexedEvents = [
  "Deposited",
  "Withdrawn",
  "CollateralMoved",
  "CashMoved",
  "PositionChanged",
  "PositionsTransferred",
  "PositionsSliced",
  "PositionSettled",
  "AuctionStarted",
  "AuctionEnded",
  "Bid",
] as const;
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
  const metrics: KeeperMetrics = createMetrics();
  const { addressBook: book, bidderAccount } = options;
  const log = options.logger ?? pino({ level: "info" });
  // Every request goes through one counter: the clients are re-wrapped around the given ones.
  let rpcCalls = 0;
  const counting = (client: { request: (args: never) => Promise<unknown> }) =>
    custom(
      {
        request: (args: { method: string; params?: unknown }) => {
          rpcCalls++;
          metrics.rpcCalls.inc({ method: args.method });
          return client.request(args as never);
        },
      },
      { retryCount: 0 },
    );
  const publicClient = createPublicClient({
    chain: options.publicClient.chain,
    transport: counting(options.publicClient),
    pollingInterval: options.publicClient.pollingInterval,
    cacheTime: 0,
  }) as PublicClient;
  const walletClient = createWalletClient({
    account: options.walletClient.account,
    chain: options.walletClient.chain,
    transport: counting(options.walletClient),
    pollingInterval: options.walletClient.pollingInterval,
  }) as WalletClient;
  const jobs = { liquidate: true, settle: true, marginCalls: true, ...options.jobs };
  const confirmations = BigInt(options.confirmations ?? 0);
  const maxLogRange = options.maxLogRange ?? 2_000n;
  const cooldownBlocks = options.cooldownBlocks ?? 3n;
  const settleBatchSize = options.settleBatchSize ?? 100;
  const deployedAtBlock = BigInt(book.deployedAtBlock);
  const { CollateralVault: vault, OptionMarket: market, Liquidator: liquidator } = book.contracts;
  const { MarginEngine: engine, ChainlinkOracle: oracle } = book.contracts;
  const nearRatio = options.nearRatio ?? 0.5;
  const nearExcessUsd = options.nearExcessUsd ?? 1_000;
  const fullConfirmEvery = options.fullConfirmEvery ?? 10;
  const priceMoveWad = options.priceMoveWad ?? WAD / 100n;
  const marginChunkSize = options.marginChunkSize ?? 50;
  const marginGasPerCall = options.marginGasPerCall ?? 20_000_000;
  const maxBidGas = options.maxBidGas ?? 3_000_000n;
  const nativeAsset =
    options.nativeAsset ?? book.collateral.find((c) => c.symbol === "WETH" || c.symbol === "ETH")?.address;
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
    rpcCalls: 0,
    accountsRanked: 0,
    rankingMs: 0,
    accountsConfirmed: 0,
    fullConfirmations: 0,
  };
  /** `${account}:${auctionBlock}` → its entry in `stats.liquidations`. */
  const auctionsSeen = new Map<string, Liquidation>();
  /** Account → its latest auction's entry. */
  const latestAuction = new Map<bigint, Liquidation>();
  /** What each indexed account holds, for the float pre-filter; `dirty` ones are re-read. */
  const holdings = new Map<bigint, AccountHoldings>();
  const dirty = new Set<bigint>();
  /** Accounts the last confirmation found below IM: confirmed again every tick. */
  const watched = new Set<bigint>();
  let statics:
    | {
        assets: readonly Address[];
        collateral: MarketInputs["collateral"];
        underlyings: Map<number, { asset: Address; params: RiskParams; portfolio?: PortfolioParams }>;
      }
    | undefined;
  let lastFullPrices = new Map<string, bigint>();
  let ticksSinceFull = Infinity;
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
    return { ...stats, rpcCalls, liquidations: stats.liquidations.map((l) => ({ ...l })) };
  }

  /** Records an auction once, whoever saw it first: this keeper's receipt or the indexed event. */
  function recordAuction(account: bigint, auctionBlock: bigint, startedBy: "self" | "other") {
    const key = `${account}:${auctionBlock}`;
    const seen = auctionsSeen.get(key);
    if (seen !== undefined) return seen;
    const priceBlock = firstBelowMM.get(account);
    const entry: Liquidation = {
      account,
      ...(priceBlock === undefined ? {} : { priceBlock }),
      auctionBlock,
      startedBy,
    };
    auctionsSeen.set(key, entry);
    latestAuction.set(account, entry);
    stats.liquidations.push(entry);
    return entry;
  }

  function recordBid(account: bigint, block: bigint, bidBy: "self" | "other") {
    const entry = latestAuction.get(account);
    if (entry === undefined || entry.bidBlock !== undefined || block < entry.auctionBlock) return;
    entry.bidBlock = block;
    entry.bidBy = bidBy;
  }

  /** Runs view calls in as few `eth_call`s as possible (viem's deployless multicall: no Multicall3 needed on chain). */
  async function batchRead(contracts: ContractFunctionParameters[], blockNumber: bigint) {
    if (contracts.length === 0) return [];
    return withBackoff(() =>
      publicClient.multicall({ contracts, deployless: true, allowFailure: true, blockNumber, batchSize: 4_096 }),
    );
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
  async function checkCursor(current: KeeperIndex, latest: bigint, head: { hash: Hash }): Promise<KeeperIndex> {
    if (current.cursor < deployedAtBlock || current.cursorHash === undefined) return current;
    let mismatch: boolean;
    if (current.cursor > latest) {
      // Either the chain was reset, or this node lags behind the one that served the
      // cursor: it is only a reset if the node does not know the cursor's block as indexed.
      const block = await withBackoff(() => publicClient.getBlock({ blockNumber: current.cursor })).catch(
        () => undefined,
      );
      if (block?.hash === current.cursorHash) throw new KeeperStaleNodeError(latest, current.cursor);
      mismatch = true;
    } else {
      const block =
        current.cursor === latest
          ? head
          : await withBackoff(() => publicClient.getBlock({ blockNumber: current.cursor }));
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

  async function indexTo(current: KeeperIndex, target: bigint, head: { number: bigint; hash: Hash }) {
    while (current.cursor < target) {
      const fromBlock = current.cursor + 1n;
      const toBlock = fromBlock + maxLogRange - 1n < target ? fromBlock + maxLogRange - 1n : target;
      const logs = await withBackoff(() =>
        publicClient.getLogs({ address: [vault, market, liquidator], fromBlock, toBlock }),
      );
      for (const event of parseEventLogs({ abi: indexAbi, logs, eventName: [...indexedEvents], strict: true })) {
        switch (event.eventName) {
          case "Deposited":
          case "Withdrawn":
            current.accounts.add(event.args.account);
            dirty.add(event.args.account);
            break;
          case "CollateralMoved":
          case "CashMoved":
          case "PositionsTransferred":
          case "PositionsSliced":
            for (const account of [event.args.from, event.args.to])
              if (current.accounts.has(account)) dirty.add(account);
            break;
          case "PositionChanged":
          case "PositionSettled": {
            const { account, seriesId, balance } = event.args;
            current.accounts.add(account);
            dirty.add(account);
            const holders = current.holders.get(seriesId) ?? new Set<bigint>();
            if (event.eventName === "PositionChanged" && balance !== 0n) holders.add(account);
            else holders.delete(account);
            current.holders.set(seriesId, holders);
            break;
          }
          case "AuctionStarted":
            current.accounts.add(event.args.account);
            current.auctions.add(event.args.account);
            recordAuction(
              event.args.account,
              event.blockNumber,
              event.args.keeper.toLowerCase() === sender.address.toLowerCase() ? "self" : "other",
            );
            break;
          case "AuctionEnded":
            current.auctions.delete(event.args.account);
            break;
          case "Bid":
            recordBid(
              event.args.account,
              event.blockNumber,
              event.args.bidderAccount === bidderAccount ? "self" : "other",
            );
            break;
        }
      }
      const block =
        toBlock === head.number ? head : await withBackoff(() => publicClient.getBlock({ blockNumber: toBlock }));
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

  /** Reads the collateral list and configs and each underlying's asset and risk parameters (rarely change). */
  async function readStatics(latest: bigint) {
    const [assets, count] = await withBackoff(() =>
      Promise.all([
        publicClient.readContract({
          address: vault,
          abi: collateralVaultAbi,
          functionName: "collateralAssets",
          blockNumber: latest,
        }),
        publicClient.readContract({
          address: engine,
          abi: marginEngineAbi,
          functionName: "underlyingCount",
          blockNumber: latest,
        }),
      ]),
    );
    // Every underlying (at most 32): portfolio accounts need the grid of each one they hold
    // positions or collateral in.
    const indices = Array.from({ length: count }, (_, i) => i + 1);
    const results = await batchRead(
      [
        ...assets.map((asset) => ({
          address: vault,
          abi: collateralVaultAbi,
          functionName: "assetConfig",
          args: [asset],
        })),
        ...indices.flatMap((index) => [
          { address: engine, abi: marginEngineAbi, functionName: "underlying", args: [index] },
          { address: engine, abi: marginEngineAbi, functionName: "portfolioParams", args: [index] },
        ]),
      ],
      latest,
    );
    type Config = { decimals: number; initialHaircutWad: bigint; maintenanceHaircutWad: bigint };
    type Underlying = { asset: Address; params: RiskParams; portfolio?: PortfolioParams };
    const underlyings = new Map<number, Underlying>();
    indices.forEach((index, i) => {
      const u = results[assets.length + 2 * i]!;
      const grid = results[assets.length + 2 * i + 1]!;
      if (u.status !== "success") return;
      const read = u.result as Underlying;
      underlyings.set(index, {
        ...read,
        ...(grid.status === "success" ? { portfolio: grid.result as PortfolioParams } : {}),
      });
    });
    const collateral = assets.map((asset, i) => {
      const r = results[i]!;
      if (r.status !== "success") throw r.error;
      const c = r.result as Config;
      const underlyingIndex = [...underlyings].find(([, u]) => u.asset.toLowerCase() === asset.toLowerCase())?.[0];
      return {
        decimals: c.decimals,
        priceWad: 0n,
        initialHaircutWad: c.initialHaircutWad,
        maintenanceHaircutWad: c.maintenanceHaircutWad,
        ...(underlyingIndex === undefined ? {} : { underlyingIndex }),
      };
    });
    return { assets, collateral, underlyings };
  }

  /**
   * Ranks every indexed account with the SDK's float approximation from cheaply refreshed
   * inputs (prices every tick, holdings only when the account's events show a change), and
   * returns the accounts to confirm on chain: those near or below MM, open auctions,
   * accounts last seen below IM, and everyone every `fullConfirmEvery` ticks or after a
   * price move above `priceMoveWad`.
   */
  async function accountsToConfirm(current: KeeperIndex, latest: bigint, timestamp: bigint) {
    const accounts = [...current.accounts];
    for (const account of accounts) if (!holdings.has(account)) dirty.add(account);
    const indicesHeld = () => {
      const set = new Set<number>();
      for (const held of holdings.values())
        for (const p of held.positions) set.add(decodeSeries(p.seriesId).underlyingIndex);
      for (const seriesId of current.holders.keys()) set.add(decodeSeries(seriesId).underlyingIndex);
      return set;
    };
    let full = ticksSinceFull + 1 >= fullConfirmEvery;
    if (statics === undefined || full || [...indicesHeld()].some((i) => !statics!.underlyings.has(i))) {
      statics = await readStatics(latest);
    }
    const { assets, underlyings } = statics;
    const refresh = [...dirty];
    const priceKeys: { key: string; call: ContractFunctionParameters }[] = [];
    for (const asset of assets) {
      priceKeys.push({
        key: `spot:${asset}`,
        call: { address: oracle, abi: chainlinkOracleAbi, functionName: "spot", args: [asset] },
      });
    }
    for (const { asset } of underlyings.values()) {
      priceKeys.push({
        key: `spot:${asset}`,
        call: { address: oracle, abi: chainlinkOracleAbi, functionName: "spot", args: [asset] },
      });
      priceKeys.push({
        key: `vol:${asset}`,
        call: { address: oracle, abi: chainlinkOracleAbi, functionName: "vol", args: [asset] },
      });
    }
    const results = await batchRead(
      [
        ...priceKeys.map((p) => p.call),
        ...refresh.flatMap((account) => [
          { address: vault, abi: collateralVaultAbi, functionName: "balancesOf", args: [account] },
          { address: market, abi: optionMarketAbi, functionName: "positionsOf", args: [account] },
          { address: engine, abi: marginEngineAbi, functionName: "marginModeOf", args: [account] },
        ]),
      ],
      latest,
    );
    const prices = new Map<string, bigint>();
    priceKeys.forEach(({ key }, i) => {
      const r = results[i]!;
      // A price the oracle refuses (stale, out of bounds) stays 0: accounts that need it are confirmed.
      prices.set(key, r.status === "success" ? (r.result as bigint) : 0n);
    });
    refresh.forEach((account, i) => {
      const balances = results[priceKeys.length + 3 * i]!;
      const positions = results[priceKeys.length + 3 * i + 1]!;
      const mode = results[priceKeys.length + 3 * i + 2]!;
      if (balances.status !== "success" || positions.status !== "success" || mode.status !== "success") {
        holdings.delete(account);
        return;
      }
      const [amounts, cash] = balances.result as readonly [readonly bigint[], bigint];
      const [ids, sizes] = positions.result as readonly [readonly bigint[], readonly bigint[]];
      holdings.set(account, {
        cash,
        balances: amounts,
        positions: ids.map((seriesId, j) => ({ seriesId, balance: sizes[j]! })),
        mode: mode.result as MarginMode,
      });
      dirty.delete(account);
    });

    const started = performance.now();
    const marketInputs: MarketInputs = {
      timestamp,
      cashDecimals: book.cash.decimals,
      collateral: statics.collateral.map((c, i) => ({ ...c, priceWad: prices.get(`spot:${assets[i]}`) ?? 0n })),
      underlyings: new Map(
        [...underlyings].map(([index, u]) => [
          index,
          {
            spotWad: prices.get(`spot:${u.asset}`) ?? 0n,
            volWad: prices.get(`vol:${u.asset}`) ?? 0n,
            params: u.params,
            ...(u.portfolio === undefined ? {} : { portfolio: u.portfolio }),
          },
        ]),
      ),
    };
    const ranked = rankAccounts(accounts, holdings, marketInputs);
    if (!full && pricesMoved(lastFullPrices, prices, priceMoveWad)) full = true;
    const always = new Set([...watched, ...current.auctions]);
    const selected = full ? accounts : selectForConfirmation(ranked, { nearRatio, nearExcessUsd }, always);
    stats.accountsRanked += ranked.length;
    stats.rankingMs += performance.now() - started;
    if (full) {
      ticksSinceFull = 0;
      lastFullPrices = prices;
      stats.fullConfirmations++;
    } else {
      ticksSinceFull++;
    }
    return selected;
  }

  async function liquidationJob(current: KeeperIndex, latest: bigint, timestamp: bigint) {
    const accounts = await accountsToConfirm(current, latest, timestamp);
    if (accounts.length === 0) return;
    // One batched read: the margin of every selected account, the keeper's own margin and the auction parameters.
    const chunks = chunkByGas(accounts, holdings, marginChunkSize, marginGasPerCall);
    const confirmed = await batchRead(
      [
        { address: engine, abi: marginEngineAbi, functionName: "excessInitial", args: [bidderAccount] },
        { address: liquidator, abi: liquidatorAbi, functionName: "auctionParams" },
        ...chunks.map((chunk) => ({
          address: engine,
          abi: marginEngineAbi,
          functionName: "accountsMargin",
          args: [chunk],
        })),
      ],
      latest,
    );
    for (const r of confirmed) if (r.status !== "success") throw r.error;
    const bidderExcessIM = confirmed[0]!.result as bigint;
    insuranceShareWad = (confirmed[1]!.result as { insuranceShareWad: bigint }).insuranceShareWad;
    const states = chunks.flatMap((chunk, c) =>
      (confirmed[2 + c]!.result as readonly MarginState[]).map((state, i) => ({ ...state, account: chunk[i]! })),
    );
    stats.accountsConfirmed += states.length;

    const atRisk = { [Health.MARGIN_CALL]: 0, [Health.LIQUIDATABLE]: 0, [Health.INSOLVENT]: 0 };
    for (const state of states) {
      if (state.health !== Health.HEALTHY) {
        atRisk[state.health]++;
        watched.add(state.account);
      } else {
        watched.delete(state.account);
      }
      if (state.health >= Health.LIQUIDATABLE && !firstBelowMM.has(state.account))
        firstBelowMM.set(state.account, latest);
    }
    for (const [health, count] of Object.entries(atRisk)) metrics.atRisk.set({ health }, count);
    const candidates = states.filter((s) => s.health !== Health.HEALTHY || current.auctions.has(s.account));
    if (candidates.length === 0) return;
    // One batched read for every candidate: auction and the preview of taking all that is allowed
    // (below MM with no auction yet, the preview of the bid that would start it).
    const reads = await batchRead(
      candidates.flatMap((state) => [
        { address: liquidator, abi: liquidatorAbi, functionName: "auctionOf", args: [state.account] },
        { address: liquidator, abi: liquidatorAbi, functionName: "previewBid", args: [state.account, WAD] },
      ]),
      latest,
    );
    const views: AccountView[] = candidates.map((state, i) => {
      const [auction, preview] = [reads[2 * i]!, reads[2 * i + 1]!];
      if (auction.status !== "success") throw auction.error;
      const read = preview.status === "success" ? (preview.result as BidPreview) : undefined;
      return {
        account: state.account,
        state,
        auction: auction.result as { active: boolean; startTime: bigint },
        preview: read !== undefined && read.fractionWad > 0n ? { ...read } : undefined,
      };
    });
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
    const checked = new Set(states.map((s) => s.account));
    for (const account of inMarginCall)
      if (checked.has(account) && !stillInMarginCall.has(account)) inMarginCall.delete(account);
  }

  /** The native token's USD price for pricing bid gas, read once per block; undefined when unknown. */
  let nativePriceAt: { block: bigint; price: Promise<bigint | undefined> } | undefined;
  function nativePrice(block: bigint): Promise<bigint | undefined> {
    if (options.nativePriceWad !== undefined) return Promise.resolve(options.nativePriceWad);
    if (nativeAsset === undefined) return Promise.resolve(undefined);
    if (nativePriceAt?.block !== block) {
      const price = withBackoff(() =>
        publicClient.readContract({
          address: oracle,
          abi: chainlinkOracleAbi,
          functionName: "spot",
          args: [nativeAsset],
          blockNumber: block,
        }),
      ).catch(() => undefined);
      nativePriceAt = { block, price };
    }
    return nativePriceAt.price;
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
        recordAuction(account, sent.receipt.blockNumber, "self");
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
        const guard = bidGasGuard(decision.profit, {
          maxBidGas,
          nativePriceWad: await nativePrice(block),
          minProfit: options.minProfit ?? 0n,
          cashDecimals: book.cash.decimals,
        });
        const sent = await execute("bid", `bid:${account}`, block, () =>
          sender.send(
            liquidator,
            liquidatorAbi,
            "bid",
            [account, bidderAccount, decision.fractionWad, decision.maxPayment, decision.expectedNonce],
            guard,
          ),
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
          recordAuction(account, sent.receipt.blockNumber, "self");
        }
        recordBid(account, sent.receipt.blockNumber, "self");
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

  async function settlementJob(current: KeeperIndex, latest: bigint, timestamp: bigint) {
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
        // A first round later than the settlement delay is only accepted through the oracle's
        // fallback, from expiry + settlementFallbackWait on: wait for it instead of sending reverts.
        const [maxDelay, fallbackWait] = await withBackoff(() =>
          Promise.all([
            publicClient.readContract({ address: oracle, abi: chainlinkOracleAbi, functionName: "maxSettlementDelay" }),
            publicClient.readContract({
              address: oracle,
              abi: chainlinkOracleAbi,
              functionName: "settlementFallbackWait",
            }),
          ]),
        );
        if (rounds.updatedAt - expiry > maxDelay && timestamp < expiry + fallbackWait) {
          log.debug(
            { series: seriesId.toString(), opensAt: (expiry + fallbackWait).toString() },
            "first round after expiry is late: waiting for the settlement fallback",
          );
          continue;
        }
        const sent = await execute("postSettlementPrice", `price:${asset}:${expiry}`, latest, () =>
          sender.send(oracle, chainlinkOracleAbi, "postSettlementPrice", [asset, expiry, rounds.roundId, rounds.hints]),
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
    const head = await withBackoff(() => publicClient.getBlock({ blockTag: "latest" }));
    const latest = head.number;
    const checked = await checkCursor(index, latest, head);
    if (checked !== index) {
      // A rebuilt index: forget what was derived from the old one.
      holdings.clear();
      dirty.clear();
      statics = undefined;
      ticksSinceFull = Infinity;
    }
    index = checked;
    const current = index;
    const target = latest - confirmations;
    await indexTo(current, target, head);
    metrics.indexed.set(current.accounts.size);
    if (jobs.liquidate || jobs.marginCalls) await liquidationJob(current, latest, head.timestamp);
    if (jobs.settle) await settlementJob(current, latest, head.timestamp);
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
