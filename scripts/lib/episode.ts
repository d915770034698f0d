import type { KeeperStats } from "@pledge/keeper";

import { type ChainClock, type FeedName, chainClock } from "./chainClock.js";
import { type DailyCandle, type DayWalk, type FeedPoint, type FeedRules, feedPath } from "./history.js";
import { type InProcessKeeper, type SimKeeperOptions, createInProcessKeeper } from "./inProcessKeeper.js";
import { type InterestPlan, SIMULATION_INTEREST, enableInterest, interestSince } from "./interest.js";
import { STRESS_BORROWER_EVERY, planPopulation } from "./population.js";
import { BIDDER_CASH, type PopulationPlanner, type SeriesGridBuilder, seedPopulation } from "./seeding.js";
import { type World, marginsOf, setUp } from "./world.js";

/**
 * One stress episode on a fresh in-process chain: deploy Pledge, seed a population at
 * initial margin, then walk the feed path of `candles`, ticking the real keeper
 * (`packages/keeper`) after every update. Shared by `npm run stress`, the CI test and
 * any custom scenario: the population, the series grid, the walk of each day, a hook
 * before every update (vol moves, feed outages) and the keeper's options are the
 * caller's to choose.
 */

const HEALTH_LIQUIDATABLE = 2;
const CASH_SCALE = 1e6;

/** What a per-update hook sees: the point about to be posted, its index in the path, the world and its clock. */
export interface FeedUpdate {
  point: FeedPoint;
  index: number;
  world: World;
  chain: ChainClock;
}

/**
 * Runs before each point of the feed path is posted. It may post other feeds
 * (`chain.postAnswer("btcVol", …)`) or take a feed down and bring it back
 * (`chain.setFeedLive("btcUsd", false)`): while BTC/USD is down its points are not
 * posted (chain time still moves to them), while another feed is down the clock stops
 * refreshing it.
 */
export type UpdateHook = (update: FeedUpdate) => void | Promise<void>;

export interface EpisodeOptions {
  name: string;
  candles: readonly DailyCandle[];
  accounts: number;
  seed: number;
  /**
   * Plans the population; default `planPopulation` with one account in four posting only WBTC
   * (`STRESS_BORROWER_EVERY`), so interest has debtors.
   */
  population?: PopulationPlanner;
  /** Lists the BTC series; default `btcSeriesGrid`. */
  grid?: SeriesGridBuilder;
  /** The order each day visits its low and high; default `harsherWalk`. */
  walk?: DayWalk;
  /** When the feed posts; default `CHAINLINK_RULES`. */
  feedRules?: FeedRules;
  /** Called before every point of the feed path is posted. */
  onUpdate?: UpdateHook;
  /** Passed to `createKeeper` over the simulations' defaults (`SimKeeperOptions`). */
  keeper?: SimKeeperOptions;
  /**
   * The rate model governance switches on once the population is seeded (seeding checks the
   * engine against the SDK mirror at the zero rate); default `SIMULATION_INTEREST`, `null` for
   * the zero rate throughout.
   */
  interest?: InterestPlan | null;
  /** The keeper's bidder: its capital and when it is away; default 100M USD, always there. */
  bidder?: BidderProfile;
  /** Seconds of chain time between keeper ticks while an auction is open. Default 60. */
  roundSeconds?: number;
  /** Keeper ticks after the first one of a feed update, at most, before the walk moves on. Default 30. */
  maxRounds?: number;
  log?: (line: string) => void;
}

/**
 * The keeper's bidder in an episode. Liquidity is scarce in a crash: a bidder with a few
 * million, away for hours, is the case the liquidation system has to survive (issue 16).
 */
export interface BidderProfile {
  /** Cash its account holds at the start, USD. */
  capitalUsd?: number;
  /** Chain times (unix seconds) `[from, to)` in which the keeper does not tick: it is away. */
  absent?: { from: number; to: number };
}

/** The summary row of one episode. */
export interface EpisodeResult {
  episode: string;
  days: string;
  priceMin: number;
  priceMax: number;
  /** Points of the feed path; `missedUpdates` of them were not posted (BTC/USD down). */
  feedUpdates: number;
  missedUpdates: number;
  accounts: number;
  /** Median excessIM / requirementIM of the population right after seeding. */
  seededExcessIM: number;
  fellBelowMM: number;
  auctionsStarted: number;
  bids: number;
  /** Sends or ticks of the keeper that failed. */
  keeperFailures: number;
  auctionsEnded: number;
  liquidatedFully: number;
  unresolvedAuctions: number;
  badDebtUsd: number;
  insuranceUsd: number;
  /** Borrow APR at the end, percent (0 at the zero rate). */
  borrowAprPercent: number;
  /** Interest debtors paid over the walk, and what creditors other than the insurance fund earned, USD. */
  interestPaidUsd: number;
  interestEarnedUsd: number;
  valueTransferredUsd: number;
  keeperGas: number;
  /**
   * The keeper's bidder account, which keeps every slice it buys: the most initial margin its
   * bought book required, USD, and the capital it needed to stay at or above IM throughout
   * (its seeded cash less its lowest excess over IM, USD).
   */
  bidderPeakRequirementIMUsd: number;
  /**
   * Latent insolvency at the end: accounts (population, desks, the bidder) whose maintenance
   * equity is below zero, and their summed shortfall, USD. `badDebt` only counts losses the
   * insurance fund has paid; this is what it would owe if they were closed now.
   */
  insolventAtEnd: number;
  latentShortfallUsd: number;
  bidderCapitalNeededUsd: number;
  seconds: number;
}

/** One auction that ended: the account, whether it was emptied, and whether it ended at or above IM. */
export interface AuctionEnding {
  account: bigint;
  block: bigint;
  emptied: boolean;
  atOrAboveIM: boolean;
}

/** Everything after the run, so callers can check invariants on the final chain state. */
export interface EpisodeOutcome {
  result: EpisodeResult;
  world: World;
  /** Population, market-maker and bidder accounts that were ever seen below maintenance margin. */
  flagged: Set<bigint>;
  endings: AuctionEnding[];
  /** Each auction start, by account and block. */
  auctions: { account: bigint; block: bigint }[];
  keeper: KeeperStats;
}

/** The episodes' default population: `planPopulation` with borrowers. */
export const stressPopulation: PopulationPlanner = (options) =>
  planPopulation({ ...options, borrowerEvery: STRESS_BORROWER_EVERY });

/** Runs one episode to the end and returns its summary row and final state. */
export async function runEpisode(options: EpisodeOptions): Promise<EpisodeOutcome> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const first = options.candles[0];
  if (first === undefined) throw new Error("episode: no candles");
  const path = feedPath(options.candles, options.feedRules, options.walk);
  const world = await setUp(first.dayStart);
  const chain = await chainClock(world);
  const { plans, grid, seededExcessIM } = await seedPopulation(world, chain, {
    accounts: options.accounts,
    seed: options.seed,
    spot: path[0]!.price,
    population: options.population ?? stressPopulation,
    grid: options.grid,
    bidderCash: bidderCash(options.bidder),
  });
  log(
    `${options.name}: seeded ${plans.length} accounts over ${grid.length} series, median excessIM/IM ${seededExcessIM.toFixed(3)}`,
  );
  const interest = options.interest === undefined ? SIMULATION_INTEREST : options.interest;
  if (interest !== null) await enableInterest(world, chain, interest);
  const walkFrom = (await world.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;

  const keeper = createInProcessKeeper(world, chain, options.keeper);
  const watch = watcher(world, chain);
  const keeperTickOnce = keeperTick(keeper, chain, log, options.name);
  const away = options.bidder?.absent;
  /** A keeper tick, unless the bidder is away at this chain time. */
  const tick = Object.assign(
    async () => {
      if (away !== undefined && chain.now() >= away.from && chain.now() < away.to) return;
      await keeperTickOnce();
    },
    { failures: keeperTickOnce.failures },
  );
  const roundSeconds = options.roundSeconds ?? 60;
  const maxRounds = options.maxRounds ?? 30;
  let missed = 0;
  for (const [index, point] of path.entries()) {
    await options.onUpdate?.({ point, index, world, chain });
    if (chain.feedLive("btcUsd")) {
      await chain.postSpot(point.price, point.time);
    } else {
      missed++;
      await chain.advance(Math.max(1, point.time - chain.now()));
    }
    await chain.refreshOthersIfDue();
    // Tick, then again while some account is below MM or under auction: at once (an
    // auction the keeper started is bid on in its next tick), then with chain time moving
    // between ticks so the discounts grow.
    await watch.observe();
    await tick();
    for (let round = 0; round < maxRounds && (await watch.observe()); round++) {
      if (round > 0) await chain.advance(roundSeconds);
      await tick();
    }
  }
  await keeper.stop();

  const { auctions, endings, bids, valueTransferred } = await auctionEvents(world, walkFrom);
  const { liquidator, vault } = world.contracts;
  const unresolved = (await Promise.all(watch.watched.map((a) => liquidator.read.auctionOf([a])))).filter(
    (auction) => auction.active,
  ).length;
  const stats = keeper.stats();
  const prices = path.map((point) => point.price);
  const paid = await interestSince(world, walkFrom);
  const underwater = (await marginsOf(world, watch.watched)).filter((state) => state.equityMM < 0n);
  const shortfall = underwater.reduce((sum, state) => sum - state.equityMM, 0n);
  const result: EpisodeResult = {
    episode: options.name,
    days: `${first.date}..${options.candles.at(-1)!.date}`,
    priceMin: Math.min(...prices),
    priceMax: Math.max(...prices),
    feedUpdates: path.length,
    missedUpdates: missed,
    accounts: world.population.length,
    seededExcessIM: Math.round(seededExcessIM * 1000) / 1000,
    fellBelowMM: world.population.filter((a) => watch.flagged.has(a)).length,
    auctionsStarted: auctions.length,
    bids,
    keeperFailures: stats.failures + tick.failures(),
    auctionsEnded: endings.length,
    liquidatedFully: endings.filter((e) => e.emptied).length,
    unresolvedAuctions: unresolved,
    badDebtUsd: Number(await liquidator.read.badDebt()) / CASH_SCALE,
    insuranceUsd: Number(await vault.read.cashOf([world.insuranceAccount])) / CASH_SCALE,
    borrowAprPercent: Math.round(paid.borrowAprPercent * 100) / 100,
    interestPaidUsd: Math.round(paid.paidUsd * 100) / 100,
    interestEarnedUsd: Math.round(paid.earnedUsd * 100) / 100,
    valueTransferredUsd: Number(valueTransferred) / CASH_SCALE,
    keeperGas: Number(stats.gasUsed),
    insolventAtEnd: underwater.length,
    latentShortfallUsd: Math.round(Number(shortfall) / 1e16) / 100,
    bidderPeakRequirementIMUsd: Math.round(Number(watch.bidder.peakRequirementIM) / 1e16) / 100,
    bidderCapitalNeededUsd: Math.round(Number(BIDDER_CASH) / CASH_SCALE - Number(watch.bidder.minExcessIM) / 1e18),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  return { result, world, flagged: watch.flagged, endings, auctions, keeper: stats };
}

/** The bidder's seeded cash, cash units. */
function bidderCash(bidder: BidderProfile | undefined): bigint {
  return bidder?.capitalUsd === undefined ? BIDDER_CASH : BigInt(Math.round(bidder.capitalUsd * CASH_SCALE));
}

const FEEDS: readonly FeedName[] = ["btcUsd", "btcVol", "ethUsd", "ethVol"];

/**
 * The episode's own view of the accounts, independent of the keeper: which ever fell
 * below MM, and whether one still needs the keeper (below MM, or under auction). While
 * a feed is down it does not look: once the price is stale the engine cannot value
 * accounts, and the keeper cannot act.
 */
function watcher(world: World, chain: ChainClock) {
  const watched = [...world.population, ...world.marketMakers, world.bidder];
  const flagged = new Set<bigint>();
  /** The bidder's book over the run (WAD): its peak IM requirement and lowest excess over IM. */
  const bidder = { peakRequirementIM: 0n, minExcessIM: BigInt(Number.MAX_SAFE_INTEGER) * 10n ** 18n };
  const { liquidator } = world.contracts;
  return {
    watched,
    flagged,
    bidder,
    /** Reads every watched account, flagging those below MM; true while one needs the keeper. */
    async observe(): Promise<boolean> {
      if (FEEDS.some((feed) => !chain.feedLive(feed))) return false;
      const states = await marginsOf(world, watched);
      const own = states.at(-1)!;
      if (own.requirementIM > bidder.peakRequirementIM) bidder.peakRequirementIM = own.requirementIM;
      if (own.equityIM - own.requirementIM < bidder.minExcessIM) bidder.minExcessIM = own.equityIM - own.requirementIM;
      let below = false;
      for (const [i, state] of states.entries()) {
        if (state.health < HEALTH_LIQUIDATABLE) continue;
        flagged.add(watched[i]!);
        below = true;
      }
      if (below) return true;
      for (const account of flagged) if ((await liquidator.read.auctionOf([account])).active) return true;
      return false;
    },
  };
}

/**
 * A keeper tick that, while a feed is down, survives the keeper's reads reverting on a
 * stale price (counted, as the keeper's own polling loop counts them); any other
 * failure is the run's.
 */
function keeperTick(keeper: InProcessKeeper, chain: ChainClock, log: (line: string) => void, name: string) {
  let failures = 0;
  const tick = async () => {
    try {
      await keeper.tick();
    } catch (error) {
      if (FEEDS.every((feed) => chain.feedLive(feed))) throw error;
      failures++;
      log(`${name}: keeper tick failed with a feed down: ${String(error).split("\n")[0]}`);
      await chain.sync();
    }
  };
  return Object.assign(tick, { failures: () => failures });
}

/** The liquidator's auction events from block `fromBlock` on, with each ending's IM check at its block. */
async function auctionEvents(world: World, fromBlock: bigint) {
  const { liquidator, engine } = world.contracts;
  const query = { address: liquidator.address, abi: liquidator.abi, fromBlock, strict: true } as const;
  const [started, bidLogs, ended] = await Promise.all([
    world.publicClient.getContractEvents({ ...query, eventName: "AuctionStarted" }),
    world.publicClient.getContractEvents({ ...query, eventName: "Bid" }),
    world.publicClient.getContractEvents({ ...query, eventName: "AuctionEnded" }),
  ]);
  const auctions = started.map((event) => ({ account: event.args.account, block: event.blockNumber }));
  let valueTransferred = 0n;
  for (const { args } of bidLogs) {
    const payment = args.payment;
    valueTransferred += (payment < 0n ? -payment : payment) + args.insuranceFee;
  }
  const endings: AuctionEnding[] = await Promise.all(
    ended.map(async (event) => {
      const account = event.args.account;
      const excess = await engine.read.excessInitial([account], { blockNumber: event.blockNumber });
      return { account, block: event.blockNumber, emptied: event.args.emptied, atOrAboveIM: excess >= 0n };
    }),
  );
  return { auctions, endings, bids: bidLogs.length, valueTransferred };
}
