import type { KeeperStats } from "@pledge/keeper";

import { type ChainClock, type FeedName, chainClock } from "./chainClock.js";
import {
  type DailyCandle,
  type DayWalk,
  type FeedPoint,
  type FeedRules,
  CHAINLINK_RULES,
  feedPath,
} from "./history.js";
import { type InProcessKeeper, type SimKeeperOptions, createInProcessKeeper } from "./inProcessKeeper.js";
import { type InterestPlan, SIMULATION_INTEREST, enableInterest, interestSince } from "./interest.js";
import { STRESS_BORROWER_EVERY, planPopulation } from "./population.js";
import {
  type InsuranceCapital,
  type PopulationPlanner,
  type SeriesGridBuilder,
  BIDDER_CASH,
  seedPopulation,
} from "./seeding.js";
import {
  type SurfaceSample,
  type SurfaceSummary,
  createSurfaceDriver,
  putWingProbe,
  sampleSurface,
  summarizeSurface,
} from "./volSurfaceDriver.js";
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
  /**
   * The insurance fund's capital, cash units, deposited before trading; default `"window"`: the
   * deployed takeover budget's 24 h window ($5M with the deployment's defaults).
   */
  insuranceCash?: InsuranceCapital;
  /** Seconds of chain time between keeper ticks while an auction is open. Default 60. */
  roundSeconds?: number;
  /**
   * Keeper ticks after the first one of a feed update, at most, before the walk moves on. Default 30.
   * They never take chain time past the next update's (historical) time.
   */
  maxRounds?: number;
  /**
   * Chain time after the last update, seconds, in which the keeper keeps ticking (every
   * `roundSeconds`, BTC/USD re-posted at its heartbeat) while an account is below MM or under
   * auction, so the auctions and the backstop's waterfall the last updates started can finish.
   * Default 7,200 (two hours: auctions of 15 min, the takeover after them, a restarted auction
   * after deleveraging).
   */
  tailSeconds?: number;
  log?: (line: string) => void;
  /**
   * The engine marks on the vol surface, which the vol signer (in-process, `volSurfaceDriver.ts`)
   * posts before trading and after every BTC/USD update: the crash smile of the path's drawdown.
   * Default false: every series at the flat vol feed.
   */
  volSurface?: boolean;
}

/** The vol surface over an episode: the signer's posts and the smile and put-wing mark at three moments. */
export type EpisodeSurface = SurfaceSummary;

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

/**
 * What the backstop's waterfall did over an episode, read from the contracts' events (not from the
 * keeper): the fund's takeovers, deleveraging, the fund's payments to the bidders of insolvent
 * accounts, and what was written off.
 */
export interface WaterfallSummary {
  /** `AccountTakenOver` events; the loss the fund absorbed (Σ `lossToFundWad`) and the value it gained (Σ V ≥ 0), USD. */
  takeovers: number;
  /** Of them, accounts worth less than nothing (V < 0): the fund absorbed their loss; the others forfeited V ≥ 0 to it. */
  takeoversBankrupt: number;
  takeoverLossUsd: number;
  takeoverGainUsd: number;
  /**
   * `Deleveraged` events (one per holder closed), the bankrupt accounts deleveraged, the holders
   * skipped (`DeleverageSkipped`), and the shortfall closed against the winners (Σ `lossWad`), USD.
   */
  deleverageCloses: number;
  deleveragedAccounts: number;
  deleverageSkips: number;
  deleverageCoverUsd: number;
  /** Bids on insolvent accounts (payment < 0) and what the fund paid their bidders, USD. */
  insolventBids: number;
  fundPaidBiddersUsd: number;
  /** Bare debts the fund covered at par (`DebtAbsorbed`), USD. */
  debtAbsorbedUsd: number;
  /** Σ `BadDebtIncurred` (the Backstop) and Σ `LossSocialized` (the vault: every write-off, whatever the path), USD. */
  badDebtIncurredUsd: number;
  lossSocializedUsd: number;
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
  /** Every auction started, the bidder's own included (`bidderAuctions` of them, started by another key). */
  auctionsStarted: number;
  bidderAuctions: number;
  bids: number;
  /** Sends or ticks of the keeper that failed. */
  keeperFailures: number;
  auctionsEnded: number;
  liquidatedFully: number;
  unresolvedAuctions: number;
  /** The vault's `badDebt()` at the end: losses no one covered, written off against the cash creditors. */
  badDebtUsd: number;
  /** The insurance fund's cash at the start of the walk (its seeded capital) and at the end, USD. */
  insuranceStartUsd: number;
  insuranceUsd: number;
  /**
   * The fund's mark value at the end (cash, collateral and the positions it took over, at mark),
   * USD; below its cash when the books it took over lost value after the takeover.
   */
  insuranceMarkValueUsd: number;
  /** What the backstop's waterfall did (events). */
  waterfall: WaterfallSummary;
  /** Chain minutes the keeper ticked after the last update (the tail), until nothing was left open. */
  tailMinutes: number;
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
  /**
   * The largest latent shortfall the episode saw after an update or a keeper round (same accounts,
   * same measure), USD, and its chain time (ISO, null when there was none): what was at stake
   * before the auctions and the waterfall closed it.
   */
  peakLatentShortfallUsd: number;
  peakLatentShortfallAt: string | null;
  bidderCapitalNeededUsd: number;
  /** The vol surface the engine marked on (`EpisodeOptions.volSurface`). */
  volSurface?: EpisodeSurface | undefined;
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
  const surface = options.volSurface === true ? createSurfaceDriver(world, chain) : undefined;
  const { plans, grid, seededExcessIM } = await seedPopulation(world, chain, {
    volSurface: surface,
    accounts: options.accounts,
    seed: options.seed,
    spot: path[0]!.price,
    population: options.population ?? stressPopulation,
    grid: options.grid,
    bidderCash: bidderCash(options.bidder),
    insuranceCash: options.insuranceCash,
  });
  log(
    `${options.name}: seeded ${plans.length} accounts over ${grid.length} series, median excessIM/IM ${seededExcessIM.toFixed(3)}`,
  );
  const interest = options.interest === undefined ? SIMULATION_INTEREST : options.interest;
  if (interest !== null) await enableInterest(world, chain, interest);
  const walkFrom = (await world.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
  const insuranceStart = await world.contracts.vault.read.cashOf([world.insuranceAccount]);

  const keeper = createInProcessKeeper(world, chain, options.keeper);
  const watch = watcher(world, chain);
  const keeperTickOnce = keeperTick(keeper, chain, log, options.name);
  const othersAuction = bidderAuctioner(world, chain);
  const away = options.bidder?.absent;
  const isAway = () => away !== undefined && chain.now() >= away.from && chain.now() < away.to;
  /** A keeper tick, unless the bidder is away at this chain time; then the bidder's own auction if due. */
  const tick = Object.assign(
    async () => {
      if (isAway()) return;
      await keeperTickOnce();
      await othersAuction.check();
    },
    { failures: keeperTickOnce.failures },
  );
  const roundSeconds = options.roundSeconds ?? 60;
  const maxRounds = options.maxRounds ?? 30;
  let missed = 0;
  let lastPrice = path[0]!.price;
  let lastPostAt = chain.now();
  const putWing = surface ? await putWingProbe(world) : undefined;
  const surfaceSamples: { price: number; surface: SurfaceSample }[] = [];
  for (const [index, point] of path.entries()) {
    await options.onUpdate?.({ point, index, world, chain });
    if (chain.feedLive("btcUsd")) {
      await chain.postSpot(point.price, point.time);
      lastPrice = point.price;
      lastPostAt = chain.now();
    } else {
      missed++;
      await chain.advance(Math.max(1, point.time - chain.now()));
    }
    await chain.refreshOthersIfDue();
    // The signer fits and posts the crash smile of the new price; the engine marks on it. (After the
    // other feeds' refresh: the put-wing probe reads the flat vol feed.)
    if (surface && putWing && chain.feedLive("btcUsd")) {
      surfaceSamples.push({
        price: point.price,
        surface: await sampleSurface(surface, putWing, await surface.step(point.price)),
      });
    }
    // Tick, then again while some account is below MM or under auction: at once (an
    // auction the keeper started is bid on in its next tick), then with chain time moving
    // between ticks so the discounts grow, never past the next update's time (chain time
    // stays historical time: a bidder that waits does not stretch the crash).
    const next = path[index + 1]?.time ?? Infinity;
    await watch.observe();
    await tick();
    // While the bidder is away nothing ticks: the walk moves on to the next update.
    for (let round = 0; round < maxRounds && !isAway() && (await watch.observe()); round++) {
      if (round > 0) {
        if (chain.now() + roundSeconds >= next) break;
        await chain.advance(roundSeconds);
      }
      await tick();
    }
  }
  // The tail: the last updates' auctions, and the waterfall after them, run their course.
  const walkEnd = chain.now();
  const tailEnd = walkEnd + (options.tailSeconds ?? 7_200);
  const heartbeat = (options.feedRules ?? CHAINLINK_RULES).heartbeat;
  while (chain.now() + roundSeconds <= tailEnd && (await watch.observe())) {
    await chain.advance(roundSeconds);
    if (chain.feedLive("btcUsd") && chain.now() - lastPostAt >= heartbeat - roundSeconds) {
      await chain.postSpot(lastPrice, chain.now() + 1);
      lastPostAt = chain.now();
    }
    await tick();
  }
  const tailMinutes = Math.round((chain.now() - walkEnd) / 60);
  await keeper.stop();

  const { auctions, endings, bids, valueTransferred } = await auctionEvents(world, walkFrom);
  const waterfall = await waterfallEvents(world, walkFrom);
  const { liquidator, vault, engine } = world.contracts;
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
    bidderAuctions: othersAuction.started(),
    bids,
    keeperFailures: stats.failures + tick.failures(),
    auctionsEnded: endings.length,
    liquidatedFully: endings.filter((e) => e.emptied).length,
    unresolvedAuctions: unresolved,
    badDebtUsd: Number(await liquidator.read.badDebt()) / CASH_SCALE,
    insuranceStartUsd: Number(insuranceStart) / CASH_SCALE,
    insuranceUsd: Number(await vault.read.cashOf([world.insuranceAccount])) / CASH_SCALE,
    insuranceMarkValueUsd: usdOfWad((await engine.read.accountMargin([world.insuranceAccount])).markValue),
    waterfall,
    tailMinutes,
    borrowAprPercent: Math.round(paid.borrowAprPercent * 100) / 100,
    interestPaidUsd: Math.round(paid.paidUsd * 100) / 100,
    interestEarnedUsd: Math.round(paid.earnedUsd * 100) / 100,
    valueTransferredUsd: Number(valueTransferred) / CASH_SCALE,
    keeperGas: Number(stats.gasUsed),
    insolventAtEnd: underwater.length,
    latentShortfallUsd: Math.round(Number(shortfall) / 1e16) / 100,
    peakLatentShortfallUsd: usdOfWad(watch.latent.peak),
    peakLatentShortfallAt: watch.latent.peak === 0n ? null : new Date(watch.latent.at * 1000).toISOString(),
    bidderPeakRequirementIMUsd: Math.round(Number(watch.bidder.peakRequirementIM) / 1e16) / 100,
    volSurface: summarizeSurface(surface, putWing, surfaceSamples),
    bidderCapitalNeededUsd: Math.round(
      Number(bidderCash(options.bidder)) / CASH_SCALE - Number(watch.bidder.minExcessIM) / 1e18,
    ),
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
  /** The largest latent shortfall seen (Σ −equityMM over the accounts below zero), WAD, and when. */
  const latent = { peak: 0n, at: 0 };
  const { liquidator } = world.contracts;
  return {
    watched,
    flagged,
    bidder,
    latent,
    /** Reads every watched account, flagging those below MM; true while one needs the keeper. */
    async observe(): Promise<boolean> {
      if (FEEDS.some((feed) => !chain.feedLive(feed))) return false;
      const states = await marginsOf(world, watched);
      const own = states.at(-1)!;
      if (own.requirementIM > bidder.peakRequirementIM) bidder.peakRequirementIM = own.requirementIM;
      if (own.equityIM - own.requirementIM < bidder.minExcessIM) bidder.minExcessIM = own.equityIM - own.requirementIM;
      let below = false;
      let shortfall = 0n;
      for (const state of states) if (state.equityMM < 0n) shortfall -= state.equityMM;
      if (shortfall > latent.peak) Object.assign(latent, { peak: shortfall, at: chain.now() });
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
 * Another keeper's part in the simulation, which has only one: the keeper never starts an auction
 * on its own bidder account (it could not bid on it, `LiquidatorSelfBid`, and an operator does not
 * put its own book up for sale), so once that account is below MM with no auction open, another
 * key starts one (`startAuction` is permissionless), as any other keeper would. The keeper then
 * treats it like any other auction: nobody bids, and after its duration the backstop's waterfall
 * takes it; back at or above MM, the other key ends the auction (`terminateAuction`), which the
 * keeper leaves alone on its own account too. Not while a feed is down.
 */
function bidderAuctioner(world: World, chain: ChainClock) {
  const { liquidator } = world.contracts;
  let started = 0;
  return {
    async check() {
      if (!FEEDS.every((feed) => chain.feedLive(feed))) return;
      const [state] = await marginsOf(world, [world.bidder]);
      const below = state!.health >= HEALTH_LIQUIDATABLE;
      const open = (await liquidator.read.auctionOf([world.bidder])).active;
      const account = world.adminWallet.account;
      if (below && !open) {
        await chain.mined(() => liquidator.write.startAuction([world.bidder], { account }));
        started++;
      } else if (!below && open) {
        await chain.mined(() => liquidator.write.terminateAuction([world.bidder], { account }));
      }
    },
    started: () => started,
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

/** A WAD amount of USD as a number of dollars, to the cent. */
function usdOfWad(wad: bigint): number {
  return Math.round(Number(wad / 10n ** 14n) / 100) / 100;
}

/** The backstop's waterfall from block `fromBlock` on, from the Backstop's, the Liquidator's and the vault's events. */
export async function waterfallEvents(world: World, fromBlock: bigint): Promise<WaterfallSummary> {
  const { backstop, liquidator, vault } = world.contracts;
  const logs = { fromBlock, strict: true } as const;
  const ofBackstop = { ...logs, address: backstop.address, abi: backstop.abi } as const;
  const [takenOver, deleveraged, skipped, absorbed, incurred, socialized, bidLogs] = await Promise.all([
    world.publicClient.getContractEvents({ ...ofBackstop, eventName: "AccountTakenOver" }),
    world.publicClient.getContractEvents({ ...ofBackstop, eventName: "Deleveraged" }),
    world.publicClient.getContractEvents({ ...ofBackstop, eventName: "DeleverageSkipped" }),
    world.publicClient.getContractEvents({ ...ofBackstop, eventName: "DebtAbsorbed" }),
    world.publicClient.getContractEvents({ ...ofBackstop, eventName: "BadDebtIncurred" }),
    world.publicClient.getContractEvents({
      ...logs,
      address: vault.address,
      abi: vault.abi,
      eventName: "LossSocialized",
    }),
    world.publicClient.getContractEvents({
      ...logs,
      address: liquidator.address,
      abi: liquidator.abi,
      eventName: "Bid",
    }),
  ]);
  const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
  const cashUsd = (amount: bigint) => Number(amount) / 10 ** world.book.cash.decimals;
  const insolvent = bidLogs.filter((log) => log.args.payment < 0n);
  return {
    takeovers: takenOver.length,
    takeoversBankrupt: takenOver.filter((log) => log.args.valueWad < 0n).length,
    takeoverLossUsd: usdOfWad(sum(takenOver.map((log) => log.args.lossToFundWad))),
    takeoverGainUsd: usdOfWad(sum(takenOver.map((log) => (log.args.valueWad > 0n ? log.args.valueWad : 0n)))),
    deleverageCloses: deleveraged.length,
    deleveragedAccounts: new Set(deleveraged.map((log) => log.args.account)).size,
    deleverageSkips: skipped.length,
    deleverageCoverUsd: usdOfWad(sum(deleveraged.map((log) => log.args.lossWad))),
    insolventBids: insolvent.length,
    fundPaidBiddersUsd: cashUsd(sum(insolvent.map((log) => -log.args.payment))),
    debtAbsorbedUsd: cashUsd(sum(absorbed.map((log) => log.args.amount))),
    badDebtIncurredUsd: cashUsd(sum(incurred.map((log) => log.args.amount))),
    lossSocializedUsd: cashUsd(sum(socialized.map((log) => log.args.amount))),
  };
}
