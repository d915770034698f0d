import { network } from "hardhat";
import { type Hash, type TransactionReceipt, maxUint256, parseEventLogs, parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { accountId, orderDomain, orderTypes, seriesId, type Order } from "../../packages/sdk/src/index.js";
import { type DailyCandle, type FeedPoint, feedPath, toFeedAnswer } from "./history.js";
import { WAD, type AccountPlan, planPopulation, seriesGrid, shortRequirement, toContractsWad } from "./population.js";

/**
 * One stress episode on a fresh in-process chain: deploy Pledge, seed a population at
 * initial margin, then replay the feed path of `candles` while keeper bots start and
 * bid on auctions after every update. Shared by `npm run stress` and the CI test.
 */

const DAY = 86_400;
const HEALTH = { HEALTHY: 0, MARGIN_CALL: 1, LIQUIDATABLE: 2, INSOLVENT: 3 } as const;
/** Feeds other than BTC/USD are re-posted when their last post is this old. */
const REFRESH_SECONDS = 1_800;
/** Long premiums and short premiums trade this far from the engine's mark. */
const SPREAD = 0.01;
/** Seeding stops once excessIM is below this share of requirementIM. */
const TARGET_EXCESS_SHARE = 0.04;
const MARKET_MAKER_CASH = parseUnits("100000000", 6);
const BIDDER_CASH = parseUnits("100000000", 6);

export interface EpisodeOptions {
  name: string;
  candles: readonly DailyCandle[];
  accounts: number;
  seed: number;
  /** Seconds the bots wait between bidding rounds on auctions nobody could take. */
  roundSeconds?: number;
  /** Bidding rounds after one feed update before the bots give up until the next. */
  maxRounds?: number;
  log?: (line: string) => void;
}

/** The summary row of one episode. */
export interface EpisodeResult {
  episode: string;
  days: string;
  priceMin: number;
  priceMax: number;
  feedUpdates: number;
  accounts: number;
  /** Median excessIM / requirementIM of the population right after seeding. */
  seededExcessIM: number;
  fellBelowMM: number;
  auctionsStarted: number;
  bids: number;
  failedBids: number;
  auctionsEnded: number;
  liquidatedFully: number;
  unresolvedAuctions: number;
  badDebtUsd: number;
  insuranceUsd: number;
  valueTransferredUsd: number;
  botGas: number;
  seconds: number;
}

/** Everything after the run, so callers can check invariants on the final chain state. */
export interface EpisodeOutcome {
  result: EpisodeResult;
  world: Awaited<ReturnType<typeof setUp>>;
  /** Population accounts that ever fell below maintenance margin. */
  flagged: Set<bigint>;
  /** Per ended auction: the account, whether it was emptied, and whether it ended at or above IM. */
  endings: { account: bigint; emptied: boolean; atOrAboveIM: boolean }[];
}

type Connection = Awaited<ReturnType<typeof network.create>>;

/** The deployed protocol on a fresh in-process chain, and the actors of a run. */
export type World = Awaited<ReturnType<typeof setUp>>;

/**
 * A fresh in-process chain whose clock starts two days before `startTime` (unix
 * seconds), so the population trades at the episode's own dates and every timestamp
 * the feeds post is the historical one; Pledge deployed on it with Ignition.
 */
export async function setUp(startTime: number) {
  const connection: Connection = await network.create({
    override: { initialDate: new Date((startTime - 2 * DAY) * 1000) },
  });
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const [, makerWallet, traderWallet, bidderWallet] = await connection.viem.getWalletClients();
  if (!makerWallet || !traderWallet || !bidderWallet) throw new Error("episode: need four wallet clients");
  const chainId = await publicClient.getChainId();
  const insuranceAccount = await contracts.liquidator.read.insuranceAccount();
  return {
    connection,
    contracts,
    book,
    publicClient,
    chainId,
    makerWallet,
    traderWallet,
    bidderWallet,
    marketMaker: accountId(makerWallet.account.address, 1n),
    bidder: accountId(bidderWallet.account.address, 1n),
    insuranceAccount,
    population: [] as bigint[],
    series: [] as bigint[],
  };
}

/** The chain clock of a run: one transaction per block, at chosen timestamps. */
export interface ChainClock {
  /** The timestamp of the last block this clock mined. */
  now(): number;
  /** Mines `send`'s transaction in its own block at `at` (default: one second later); throws on revert. */
  mined(send: () => Promise<Hash>, at?: number): Promise<TransactionReceipt>;
  /** Advances chain time by mining an empty block, keeping every feed fresh. */
  advance(seconds: number): Promise<void>;
  /** Re-posts the ETH and volatility feeds (unchanged answers) so they stay fresh. */
  refreshOthers(): Promise<void>;
  /** Re-posts the other feeds when their last post is older than the refresh period. */
  refreshOthersIfDue(): Promise<void>;
  /** Posts a BTC/USD answer at `time` (or the next free second). */
  postSpot(price: number, time: number): Promise<TransactionReceipt>;
  /** Catches up with blocks mined by someone else (an in-process keeper). */
  sync(): Promise<void>;
}

export async function chainClock(world: World): Promise<ChainClock> {
  const { connection, publicClient, contracts } = world;
  const { btcUsd, btcVol, ethUsd, ethVol } = contracts;
  let clock = Number((await publicClient.getBlock()).timestamp);
  let othersPostedAt = 0;
  const nextBlockAt = async (time: number) => {
    clock = Math.max(clock + 1, time);
    await connection.provider.request({ method: "evm_setNextBlockTimestamp", params: [clock] });
  };
  const mined = async (send: () => Promise<Hash>, at = clock + 1): Promise<TransactionReceipt> => {
    await nextBlockAt(at);
    const hash = await send();
    // Automine has already mined it: read the receipt instead of polling for it.
    const receipt = await publicClient
      .getTransactionReceipt({ hash })
      .catch(() => publicClient.waitForTransactionReceipt({ hash }));
    if (receipt.status !== "success") throw new Error("episode: transaction reverted");
    return receipt;
  };
  const refreshOthers = async () => {
    for (const feed of [ethUsd, ethVol, btcVol]) {
      const [, answer] = await feed.read.latestRoundData();
      await mined(() => feed.write.updateAnswer([answer]));
    }
    othersPostedAt = clock;
  };
  const refreshOthersIfDue = async () => {
    if (clock - othersPostedAt >= REFRESH_SECONDS) await refreshOthers();
  };
  return {
    now: () => clock,
    mined,
    refreshOthers,
    refreshOthersIfDue,
    advance: async (seconds) => {
      await nextBlockAt(clock + seconds);
      await connection.provider.request({ method: "evm_mine", params: [] });
      await refreshOthersIfDue();
    },
    postSpot: (price, time) => mined(() => btcUsd.write.updateAnswer([toFeedAnswer(price)]), time),
    sync: async () => {
      clock = Math.max(clock, Number((await publicClient.getBlock()).timestamp));
    },
  };
}

export interface SeedOptions {
  accounts: number;
  seed: number;
  /** BTC/USD at which the population trades. */
  spot: number;
  /** Called after each seeded account. */
  onAccount?: (done: number, total: number) => void;
}

/**
 * Posts `spot`, funds the market maker and the bidder, lists the BTC series grid and
 * opens the planned population, each account sized until it sits just above initial
 * margin. Returns the median excessIM / requirementIM after seeding.
 */
export async function seedPopulation(world: World, chain: ChainClock, options: SeedOptions) {
  const { contracts, makerWallet, traderWallet, bidderWallet } = world;
  const { vault, engine, market, usdc, wbtc } = contracts;
  const { mined } = chain;
  const open = options.spot;
  await chain.postSpot(open, chain.now() + 1);
  await chain.refreshOthers();
  const asTrader = { account: traderWallet.account };
  for (const [wallet, account, cash] of [
    [makerWallet, world.marketMaker, MARKET_MAKER_CASH],
    [bidderWallet, world.bidder, BIDDER_CASH],
  ] as const) {
    await mined(() => usdc.write.mint([wallet.account.address, cash]));
    await mined(() => usdc.write.approve([vault.address, cash], { account: wallet.account }));
    await mined(() => vault.write.deposit([account, usdc.address, cash], { account: wallet.account }));
  }
  await mined(() => usdc.write.approve([vault.address, maxUint256], asTrader));
  await mined(() => wbtc.write.approve([vault.address, maxUint256], asTrader));

  const grid = seriesGrid(2, open, chain.now());
  for (const spec of grid) {
    await mined(() => market.write.createSeries([{ ...spec, strikeWad: spec.strikeWad }]));
    world.series.push(seriesId({ ...spec, expiry: BigInt(spec.expiry) }));
  }
  const plans = planPopulation({ accounts: options.accounts, seed: options.seed, spot: open, gridSize: grid.length });

  let orderNonce = 0n;
  /** The market maker takes the other side of `taker`'s trade of `size` (> 0 long) at mark ± spread. */
  const trade = async (taker: bigint, series: bigint, contracts: bigint, long: boolean) => {
    const markWad = await engine.read.mark([series]);
    const priceWad = (markWad * BigInt(Math.round((long ? 1 + SPREAD : 1 - SPREAD) * 10_000))) / 10_000n;
    const order: Order = {
      account: world.marketMaker,
      seriesId: series,
      size: long ? -contracts : contracts,
      priceWad,
      taker,
      nonce: ++orderNonce,
      deadline: BigInt(chain.now() + 365 * DAY),
    };
    const signature = await makerWallet.signTypedData({
      domain: orderDomain(world.chainId, market.address),
      types: orderTypes,
      primaryType: "Order",
      message: order,
    });
    await mined(() => market.write.fill([order, signature, taker, contracts], asTrader));
  };

  const seedAccount = async (plan: AccountPlan) => {
    const account = accountId(traderWallet.account.address, plan.subId);
    world.population.push(account);
    const cash = parseUnits(String(plan.cashUsd), 6);
    const btc = parseUnits(plan.wbtc.toFixed(8), 8);
    if (cash > 0n) {
      await mined(() => usdc.write.mint([traderWallet.account.address, cash]));
      await mined(() => vault.write.deposit([account, usdc.address, cash], asTrader));
    }
    if (btc > 0n) {
      await mined(() => wbtc.write.mint([traderWallet.account.address, btc]));
      await mined(() => vault.write.deposit([account, wbtc.address, btc], asTrader));
    }
    const budget = plan.cashUsd + plan.wbtc * open;
    const longs = plan.trades.filter((t) => t.side === "long");
    for (const t of longs) {
      const markUsd = Number(await engine.read.mark([world.series[t.series]!])) / 1e18;
      const size = toContractsWad((budget * plan.longBudgetShare) / longs.length / (markUsd * (1 + SPREAD)));
      if (size > 0n) await tryTrade(account, world.series[t.series]!, size, true);
    }
    // Shorts: each fill uses about 60 % of the remaining excess, until the account
    // sits within TARGET_EXCESS_SHARE of its requirement or a fill is refused.
    const shorts = plan.trades.filter((t) => t.side === "short");
    let refused = 0;
    for (let k = 0; k < 12 && refused < 3; k++) {
      const state = await engine.read.accountMargin([account]);
      const excess = Number(state.equityIM - BigInt(state.requirementIM)) / 1e18;
      const requirement = Number(state.requirementIM) / 1e18;
      if (requirement > 0 && excess < TARGET_EXCESS_SHARE * requirement) break;
      const spec = grid[shorts[k % shorts.length]!.series]!;
      const markUsd = Number(await engine.read.mark([world.series[shorts[k % shorts.length]!.series]!])) / 1e18;
      const perContract =
        shortRequirement(spec.isCall, open, Number(spec.strikeWad / WAD), 0.15, 0.1) + SPREAD * markUsd;
      const size = (excess * 0.6 * 0.5 ** refused) / perContract;
      const ok = await tryTrade(account, world.series[shorts[k % shorts.length]!.series]!, toContractsWad(size), false);
      if (!ok) refused++;
    }
  };
  const tryTrade = async (account: bigint, series: bigint, size: bigint, long: boolean): Promise<boolean> => {
    if (size === 0n) return false;
    try {
      await trade(account, series, size, long);
      return true;
    } catch (error) {
      if (String(error).includes("EngineBelowInitialMargin")) return false;
      throw error;
    }
  };
  for (const [i, plan] of plans.entries()) {
    await seedAccount(plan);
    await chain.refreshOthersIfDue();
    options.onAccount?.(i + 1, plans.length);
  }
  const seeded = await engine.read.accountsMargin([world.population]);
  const shares = seeded
    .map((m) => Number(m.equityIM - BigInt(m.requirementIM)) / Math.max(1, Number(m.requirementIM)))
    .sort((a, b) => a - b);
  return { plans, grid, seededExcessIM: shares[Math.floor(shares.length / 2)] ?? 0 };
}

export interface BotOptions {
  name: string;
  /** Seconds the bots wait between bidding rounds on auctions nobody could take. */
  roundSeconds?: number;
  /** Bidding rounds after one feed update before the bots give up until the next. */
  maxRounds?: number;
  log?: (line: string) => void;
}

/** The first auction start and the first bid the bots made on an account, by block. */
export interface BotLiquidation {
  account: bigint;
  auctionBlock: bigint;
  bidBlock?: bigint;
}

/**
 * The stress test's keeper bots: after each feed update, `tick` starts an auction on
 * every watched account below MM, then bids the largest allowed slice on every open
 * auction (terminating those back above IM), advancing time by `roundSeconds` between
 * rounds while some auction could not be taken, at most `maxRounds` times.
 */
export function createBots(world: World, chain: ChainClock, options: BotOptions) {
  const log = options.log ?? (() => {});
  const roundSeconds = options.roundSeconds ?? 60;
  const maxRounds = options.maxRounds ?? 30;
  const { engine, market, liquidator } = world.contracts;
  const { mined } = chain;
  const asBidder = { account: world.bidderWallet.account };
  const watched = [...world.population, world.marketMaker, world.bidder];
  const flagged = new Set<bigint>();
  const endings: EpisodeOutcome["endings"] = [];
  const liquidations = new Map<bigint, BotLiquidation>();
  const stats = {
    auctionsStarted: 0,
    bids: 0,
    failedBids: 0,
    liquidatedFully: 0,
    valueTransferred: 0n,
    botGas: 0n,
  };
  const recordEndings = async (receipt: TransactionReceipt) => {
    stats.botGas += receipt.gasUsed;
    for (const event of parseEventLogs({ abi: liquidator.abi, logs: receipt.logs, eventName: "AuctionEnded" })) {
      const { account, emptied } = event.args;
      const excess = await engine.read.excessInitial([account]);
      endings.push({ account, emptied, atOrAboveIM: excess >= 0n });
      if (emptied) stats.liquidatedFully++;
    }
  };

  const tick = async () => {
    const states = await engine.read.accountsMargin([watched]);
    for (const [i, state] of states.entries()) {
      if (state.health < HEALTH.LIQUIDATABLE) continue;
      const account = watched[i]!;
      flagged.add(account);
      if ((await liquidator.read.auctionOf([account])).active) continue;
      const receipt = await mined(() => liquidator.write.startAuction([account], asBidder));
      if (!liquidations.has(account)) liquidations.set(account, { account, auctionBlock: receipt.blockNumber });
      await recordEndings(receipt);
      stats.auctionsStarted++;
    }
    for (let round = 0; round < maxRounds; round++) {
      let active = 0;
      // Only the bots start auctions, and only on flagged accounts: the others have none.
      for (const account of watched.filter((a) => flagged.has(a))) {
        if (!(await liquidator.read.auctionOf([account])).active) continue;
        if ((await engine.read.excessInitial([account])) >= 0n) {
          await recordEndings(await mined(() => liquidator.write.terminateAuction([account], asBidder)));
          continue;
        }
        for (let k = 0; k < 10 && (await liquidator.read.auctionOf([account])).active; k++) {
          const preview = await liquidator.read.previewBid([account, WAD]);
          if (preview.fractionWad === 0n) break;
          const nonce = await market.read.accountNonce([account]);
          try {
            const receipt = await mined(() =>
              liquidator.write.bid([account, world.bidder, WAD, preview.payment, nonce], asBidder),
            );
            stats.bids++;
            const first = liquidations.get(account);
            if (first && first.bidBlock === undefined) first.bidBlock = receipt.blockNumber;
            const [bid] = parseEventLogs({ abi: liquidator.abi, logs: receipt.logs, eventName: "Bid" });
            if (bid) {
              const payment = bid.args.payment;
              stats.valueTransferred += (payment < 0n ? -payment : payment) + bid.args.insuranceFee;
            }
            await recordEndings(receipt);
          } catch (error) {
            stats.failedBids++;
            log(`${options.name}: bid failed on ${account}: ${String(error).split("\n")[0]}`);
            break;
          }
        }
        if ((await liquidator.read.auctionOf([account])).active) active++;
      }
      if (active === 0) break;
      await chain.advance(roundSeconds);
    }
  };

  /** Watched accounts whose auction is still open. */
  const unresolved = async () => {
    let open = 0;
    for (const account of watched) if ((await liquidator.read.auctionOf([account])).active) open++;
    return open;
  };
  return { tick, stats, flagged, endings, liquidations, watched, unresolved };
}

/** Runs one episode to the end and returns its summary row and final state. */
export async function runEpisode(options: EpisodeOptions): Promise<EpisodeOutcome> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const first = options.candles[0];
  if (first === undefined) throw new Error("episode: no candles");
  const world = await setUp(first.dayStart);
  const { contracts } = world;
  const { vault, liquidator } = contracts;
  const path = feedPath(options.candles);
  const open = path[0]!.price;
  const chain = await chainClock(world);

  // ------------------------------------------------------------ seed
  const { plans, grid, seededExcessIM } = await seedPopulation(world, chain, {
    accounts: options.accounts,
    seed: options.seed,
    spot: open,
  });
  log(
    `${options.name}: seeded ${plans.length} accounts over ${grid.length} series, median excessIM/IM ${seededExcessIM.toFixed(3)}`,
  );

  // ------------------------------------------------------------ replay and bots
  const bots = createBots(world, chain, {
    name: options.name,
    roundSeconds: options.roundSeconds,
    maxRounds: options.maxRounds,
    log,
  });
  const { stats, flagged, endings } = bots;
  let priceMin = Infinity;
  let priceMax = 0;
  for (const point of path) {
    await postSpot(point);
    priceMin = Math.min(priceMin, point.price);
    priceMax = Math.max(priceMax, point.price);
    await chain.refreshOthersIfDue();
    await bots.tick();
  }
  async function postSpot(point: FeedPoint) {
    await chain.postSpot(point.price, point.time);
  }

  const unresolved = await bots.unresolved();
  const cashScale = 1e6;
  const result: EpisodeResult = {
    episode: options.name,
    days: `${options.candles[0]!.date}..${options.candles.at(-1)!.date}`,
    priceMin,
    priceMax,
    feedUpdates: path.length,
    accounts: world.population.length,
    seededExcessIM: Math.round(seededExcessIM * 1000) / 1000,
    fellBelowMM: [...flagged].filter((a) => world.population.includes(a)).length,
    auctionsStarted: stats.auctionsStarted,
    bids: stats.bids,
    failedBids: stats.failedBids,
    auctionsEnded: endings.length,
    liquidatedFully: stats.liquidatedFully,
    unresolvedAuctions: unresolved,
    badDebtUsd: Number(await liquidator.read.badDebt()) / cashScale,
    insuranceUsd: Number(await vault.read.cashOf([world.insuranceAccount])) / cashScale,
    valueTransferredUsd: Number(stats.valueTransferred) / cashScale,
    botGas: Number(stats.botGas),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  return { result, world, flagged, endings };
}
