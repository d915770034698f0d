import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { createLocalBook, marginDifference } from "@pledge/keeper";
import {
  type AccountMarginState,
  type MarginState,
  asAccountId,
  getLatentInsolvency,
} from "../../packages/sdk/src/index.js";
import { chainClock } from "./chainClock.js";
import { type WaterfallSummary, waterfallEvents } from "./episode.js";
import { createInProcessKeeper } from "./inProcessKeeper.js";
import { SIMULATION_INTEREST, enableInterest, interestSince } from "./interest.js";
import { STRESS_BORROWER_EVERY, planPopulation } from "./population.js";
import { seedPopulation } from "./seeding.js";
import {
  type SurfaceSample,
  type SurfaceSummary,
  createSurfaceDriver,
  putWingProbe,
  sampleSurface,
  summarizeSurface,
} from "./volSurfaceDriver.js";
import { MARGIN_CHUNK, type World, marginsOf, setUp } from "./world.js";
import {
  CHAINLINK_RULES,
  type FeedPoint,
  UNFOLDED_ORDER,
  candlesBetween,
  feedPath,
  loadCandles,
  unfoldedWalk,
} from "./history.js";

/**
 * The main job (`npm run demo`): a fresh in-process chain, Pledge deployed with Ignition,
 * a population opened at initial margin, the keeper in-process, the vol signer in-process
 * posting the crash smile the engine marks on (`volSurfaceDriver.ts`; with `--vol-surface`),
 * and a BTC price path replayed through the feed in minutes of chain time, ending with a
 * report on stdout and an offline HTML page of charts.
 */

const HEALTH_LIQUIDATABLE = 2;
/** The desks are valued every this many updates (they hold every series; they never bind). */
const DESK_SAMPLE_EVERY = 10;
/**
 * The population and the desks are valued locally (the keeper's exact mirror, `createLocalBook`).
 * Every this many updates (and at the last) some of the same states are read with the engine's
 * batch view too, and any difference stops the demo: every account then below maintenance, and a
 * rotating sample of `CROSS_CHECK_SAMPLE` others (two desks when the desks are valued), so the run
 * checks every account more than once without paying for `accountsMargin` over all of them.
 */
export const CROSS_CHECK_EVERY = 16;
export const CROSS_CHECK_SAMPLE = 20;

export interface DemoOptions {
  /** Accounts in the population. */
  accounts: number;
  seed: number;
  /** CSV of daily candles (`timestamp,open,close,volume,unix_timestamp,high,low`). */
  csv: string;
  /** First and last day replayed (`YYYY-MM-DD`); default: the whole CSV. */
  from?: string;
  to?: string;
  /** A synthetic drop of this many percent from `startPrice`, instead of the CSV. */
  drop?: number;
  /** Where the synthetic drop starts, USD. */
  startPrice: number;
  /** Chain minutes the replayed path is compressed into. */
  minutes: number;
  /** Where the HTML report goes. */
  html: string;
  /** Progress bar on stderr. */
  progress: boolean;
  /**
   * The engine marks on the vol surface, posted by the vol signer in-process at every update
   * (`scripts/lib/volSurfaceDriver.ts`); false: every series at the flat vol feed, as before issue 17.
   */
  volSurface: boolean;
  /** Serve the chain over HTTP (`World.rpcUrl`), for another process to follow (the indexer's bench). */
  serve?: boolean;
  /** Called once the population is seeded, before the replay; and after each replayed update's keeper tick. */
  hooks?: {
    seeded?(world: World): Promise<void>;
    step?(world: World, update: number): Promise<void>;
  };
}

/** One sample of the run, taken after every feed update (before the keeper acts). */
export interface DemoSample {
  /** Chain minutes since the replay started. */
  minute: number;
  block: bigint;
  price: number;
  /** Σ excessMM over the population, USD. */
  excessMMUsd: number;
  /**
   * Σ excessMM, USD, of the population's accounts now below their excess at the replay's start
   * (losing: short calls and puts as BTC falls) and of the others (gaining: mostly long puts, whose
   * gains would otherwise hide the losers in one sum).
   */
  losingExcessMMUsd: number;
  gainingExcessMMUsd: number;
  /**
   * Σ excessMM of the market makers' desks, USD, every `DESK_SAMPLE_EVERY`-th update (and the
   * last): apart from the population, they are funded so they never bind.
   */
  desksExcessMMUsd?: number | undefined;
  belowIM: number;
  belowMM: number;
  /** The vol surface after this update's post (absent when the demo runs at the flat vol feed). */
  surface?: SurfaceSample | undefined;
  /** Cumulative, after the keeper's tick. */
  auctionsStarted: number;
  bids: number;
}

/** One population account that fell below MM. */
export interface DemoLiquidation {
  account: bigint;
  /** The price update after which it was first seen below MM. */
  priceBlock: bigint;
  auctionBlock?: bigint;
  bidBlock?: bigint;
  /** At the end: no auction open, and above MM. */
  resolved: boolean;
}

export interface DemoReport {
  keeper: "keeper";
  path: string;
  /** The order each day's extremes are walked in (the CSV has daily candles only). */
  walk: string;
  accounts: number;
  feedUpdates: number;
  priceStart: number;
  priceMin: number;
  priceEnd: number;
  chainMinutes: number;
  seededExcessIM: number;
  fellBelowMM: number;
  liquidated: number;
  resolved: number;
  auctionsStarted: number;
  bids: number;
  failures: number;
  /** Blocks from the liquidating price update to the auction start / the first bid. */
  blocksToAuction: { median: number; max: number };
  blocksToBid: { median: number; max: number };
  badDebtUsd: number;
  /**
   * Latent insolvency at the end: population accounts with maintenance equity below zero and
   * their summed shortfall, USD (the Backstop's view, through the SDK's `getLatentInsolvency`).
   */
  latentInsolvent: number;
  latentShortfallUsd: number;
  /** The insurance fund's cash at the start of the replay (its seeded capital) and at the end, USD. */
  insuranceStartUsd: number;
  insuranceUsd: number;
  /** What the backstop's waterfall did (takeovers, deleveraging, fund payments, write-offs), from events. */
  waterfall: WaterfallSummary;
  /** Interest on cash over the replay (`scripts/lib/interest.ts`): paid by debtors, earned by creditors, USD. */
  interest: {
    paidUsd: number;
    earnedUsd: number;
    toInsuranceUsd: number;
    borrowAprPercent: number;
    supplyAprPercent: number;
  };
  keeperGas: bigint;
  /**
   * The vol surface the signer posted (absent at the flat vol feed): the put-wing series sampled,
   * posts sent and steps it could not post, and the samples at the start, the price low and the end.
   */
  volSurface?: SurfaceSummary | undefined;
  /**
   * Wall seconds of the run (deployment and seeding, replay), and the process's CPU seconds over it
   * (user and system, every thread: the in-process node's included), which a busy machine stretches
   * less than the wall time.
   */
  seconds: { seed: number; replay: number; total: number; cpu: number };
  /** The machine's one-minute load average when the run started and when it ended. */
  load: { start: number; end: number };
  /**
   * Where the replay's wall time went, seconds: posting the feeds, valuing the population for the
   * charts, and the keeper's ticks, split into reading events (`index`) and each job.
   */
  phases: {
    feed: number;
    /** The vol signer's fits, signatures and posts (0 at the flat vol feed). */
    surface: number;
    value: number;
    keeper: number;
    drain: number;
    keeperParts: Record<string, number>;
  };
  /** The keeper's JSON-RPC requests and accounts it confirmed on chain, over the run. */
  keeperRpcCalls: number;
  keeperConfirmed: number;
  /** Accounts the keeper valued locally, and its cross-checks that differed from the chain (0). */
  keeperValuedLocally: number;
  keeperMismatches: number;
  /**
   * The charts' valuations: account states computed locally and read on chain (those the cache
   * cannot value), and the on-chain cross-checks of the population, each equal to the wei.
   */
  valuation: {
    local: number;
    chain: number;
    /** On-chain cross-checks, and the account states they compared (each equal to the wei, or the run stops). */
    crossChecks: number;
    checkedStates: number;
    seconds: Record<string, number>;
  };
  liquidations: DemoLiquidation[];
  samples: DemoSample[];
  html: string;
}

/** The feed path to replay, with unix times, and a label. */
async function pricePath(options: DemoOptions): Promise<{ label: string; walk: string; points: FeedPoint[] }> {
  if (options.drop !== undefined) {
    if (!(options.drop > 0 && options.drop < 100)) throw new Error("demo: --drop must be in (0, 100)");
    // A steady fall posted at Chainlink's 0.5 % deviation threshold, one post a minute.
    const start = Date.UTC(2020, 2, 12) / 1000;
    const end = options.startPrice * (1 - options.drop / 100);
    const steps = Math.ceil(Math.log(options.startPrice / end) / -Math.log(1 - 0.005));
    const points: FeedPoint[] = [];
    for (let k = 0; k <= steps; k++) {
      const price = options.startPrice * (end / options.startPrice) ** (k / steps);
      points.push({ time: start + 60 * k, price, reason: k === 0 ? "open" : "deviation" });
    }
    return { label: `synthetic ${options.drop} % drop from $${options.startPrice}`, walk: "a steady fall", points };
  }
  const all = await loadCandles(options.csv);
  const from = options.from ?? all[0]?.date ?? "";
  const to = options.to ?? all.at(-1)?.date ?? "";
  const candles = candlesBetween(all, from, to);
  // The days on record walk as they unfolded (2020-03-12 high before low), the rest harsher-first;
  // the label says which (`npm run stress` keeps the harsher order everywhere, as a stress test).
  const walk = unfoldedWalk();
  const known = candles.filter((c) => c.date in UNFOLDED_ORDER);
  const order = (c: (typeof candles)[number]) =>
    `${c.date} open → ${walk(c) === "high-first" ? "high → low" : "low → high"} → close`;
  const walkLabel =
    known.length === candles.length
      ? `as the days unfolded: ${candles.map(order).join("; ")}`
      : `${known.length > 0 ? `as they unfolded for ${known.map(order).join("; ")}; ` : ""}other days the harsher order (a down day's low first)`;
  return {
    label: `${path.basename(options.csv)} ${from}..${to}`,
    walk: walkLabel,
    points: feedPath(candles, CHAINLINK_RULES, walk),
  };
}

/** Squeezes the path into `minutes` of chain time from its first point, keeping order. */
function compress(points: FeedPoint[], minutes: number): FeedPoint[] {
  const t0 = points[0]?.time ?? 0;
  const span = Math.max(1, (points.at(-1)?.time ?? t0) - t0);
  const scale = Math.min(1, (minutes * 60) / span);
  return points.map((p) => ({ ...p, time: t0 + Math.round((p.time - t0) * scale) }));
}

type BookBlockOf = Parameters<ReturnType<typeof createLocalBook>["margins"]>[1] & {};

/** Throws unless every local state equals the chain's (same order), field by field, to the wei. */
export function crossCheck(
  local: readonly AccountMarginState[],
  chain: readonly (Omit<MarginState, "health"> & { health: number })[],
  block: bigint,
): void {
  if (local.length !== chain.length) {
    throw new Error(`demo: cross-check at block ${block}: ${local.length} local states, ${chain.length} on chain`);
  }
  for (const [k, state] of local.entries()) {
    const fields = marginDifference(state, chain[k]!);
    if (fields.length > 0) {
      throw new Error(
        `demo: the local valuation of account ${state.account} differs from the chain at block ${block} (${fields.join(", ")}): the charts would not be exact`,
      );
    }
  }
}

/** An account's excess over maintenance margin, WAD. */
const excessMMOf = (m: { equityMM: bigint; requirementMM: bigint | number }) => m.equityMM - BigInt(m.requirementMM);

/** Milliseconds as seconds to a tenth. */
const tenths = (ms: number) => Math.round(ms / 100) / 10;

function quantiles(values: number[]): { median: number; max: number } {
  if (values.length === 0) return { median: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, max: sorted.at(-1)! };
}

/** A hand-written progress bar on stderr (`\r`-redrawn on a TTY, a line per 10 % otherwise). */
function progressBar(enabled: boolean) {
  let lastDecile = -1;
  return {
    update(phase: string, done: number, total: number, extra = "") {
      if (!enabled) return;
      const share = total === 0 ? 1 : done / total;
      if (process.stderr.isTTY) {
        const width = 30;
        const filled = Math.round(share * width);
        const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
        process.stderr.write(
          `\r${phase.padEnd(7)} ${bar} ${String(Math.round(share * 100)).padStart(3)}% ${done}/${total} ${extra}\x1b[K`,
        );
      } else {
        const decile = Math.floor(share * 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        process.stderr.write(`${phase} ${decile * 10}% ${done}/${total} ${extra}\n`);
      }
    },
    done() {
      if (enabled && process.stderr.isTTY) process.stderr.write("\n");
      lastDecile = -1;
    },
  };
}

/** Runs the whole demo and returns its report (also written as HTML to `options.html`). */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  const loadStart = loadavg()[0]!;
  const bar = progressBar(options.progress);
  const { label, walk, points: raw } = await pricePath(options);
  const points = compress(raw, options.minutes);
  const first = points[0];
  if (first === undefined) throw new Error("demo: empty price path");

  // 1. chain and deployment
  const world = await setUp(first.time, { serve: options.serve ?? false });
  const chain = await chainClock(world);
  const { engine, liquidator, vault } = world.contracts;

  // 2. the vol signer in-process, and the population at initial margin on its surface
  const surface = options.volSurface ? createSurfaceDriver(world, chain) : undefined;
  const { seededExcessIM } = await seedPopulation(world, chain, {
    accounts: options.accounts,
    seed: options.seed,
    spot: first.price,
    volSurface: surface,
    // One account in four holds only WBTC and buys puts on credit: it owes cash at interest.
    population: (o) => planPopulation({ ...o, borrowerEvery: STRESS_BORROWER_EVERY }),
    onAccount: (done, total) => bar.update("seeding", done, total),
  });
  bar.done();
  // Governance switches the zero rate to a kink model before the replay (docs/cash.md).
  const interestFrom = await enableInterest(world, chain, SIMULATION_INTEREST);
  const insuranceStart = await vault.read.cashOf([world.insuranceAccount]);
  await options.hooks?.seeded?.(world);
  const seeded = Date.now();
  // The chain clock may have passed the path's start while seeding: shift the path.
  const shift = Math.max(0, chain.now() + 1 - first.time);

  // 3. the keeper, in-process
  const keeper = createInProcessKeeper(world, chain);

  // 4. the replay, valued for the charts with the keeper's exact local valuation
  const population = world.population;
  const book = createLocalBook(world.publicClient, world.book);
  let crossChecks = 0;
  let checkedStates = 0;
  const rotation = new Map<readonly bigint[], number>();
  /**
   * The local states of `accounts` at `block`; with `sample` > 0, those below MM and `sample` others
   * (rotating over the run) are read with `accountsMargin` too and must equal them.
   */
  const valued = async (accounts: readonly bigint[], block: BookBlockOf, sample: number) => {
    const states = await book.margins(accounts, block);
    if (sample > 0) {
      const start = rotation.get(accounts) ?? 0;
      const picked = new Set<number>();
      for (let k = 0; k < Math.min(sample, accounts.length); k++) picked.add((start + k) % accounts.length);
      rotation.set(accounts, (start + sample) % Math.max(1, accounts.length));
      for (const [k, state] of states.entries()) if (state.health >= HEALTH_LIQUIDATABLE) picked.add(k);
      const ks = [...picked].sort((a, b) => a - b);
      const chosen = ks.map((k) => accounts[k]!);
      crossCheck(
        ks.map((k) => states[k]!),
        await marginsOf(world, chosen, block.number),
        block.number,
      );
      crossChecks++;
      checkedStates += chosen.length;
    }
    return states;
  };
  // Each account's excess at the replay's first update: below it, the account is losing.
  let startExcess: bigint[] | undefined;
  const firstBelowMM = new Map<bigint, bigint>();
  const samples: DemoSample[] = [];
  const replayStart = first.time + shift;
  let priceMin = Infinity;
  const phases = { feed: 0, surface: 0, value: 0, keeper: 0, drain: 0 };
  let mark = performance.now();
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  const putWing = surface ? await putWingProbe(world) : undefined;
  for (const [i, point] of points.entries()) {
    mark = performance.now();
    const receipt = await chain.postSpot(point.price, point.time + shift);
    priceMin = Math.min(priceMin, point.price);
    await chain.refreshOthersIfDue();
    lap("feed");
    // The signer fits and posts the crash smile of the new price; the engine marks on it.
    const surfaceSample =
      surface && putWing ? await sampleSurface(surface, putWing, await surface.step(point.price)) : undefined;
    lap("surface");
    const last = i === points.length - 1;
    const head = await world.publicClient.getBlock({ blockTag: "latest" });
    const check = i % CROSS_CHECK_EVERY === 0 || last;
    const states = await valued(population, head, check ? CROSS_CHECK_SAMPLE : 0);
    const desks =
      i % DESK_SAMPLE_EVERY === 0 || last
        ? (await valued(world.marketMakers, head, check ? 2 : 0)).reduce((sum, m) => sum + excessMMOf(m), 0n)
        : undefined;
    lap("value");
    const excesses = states.map(excessMMOf);
    startExcess ??= excesses;
    let losingExcess = 0n;
    let gainingExcess = 0n;
    let belowIM = 0;
    let belowMM = 0;
    for (const [k, state] of states.entries()) {
      const excess = excesses[k]!;
      if (excess < startExcess[k]!) losingExcess += excess;
      else gainingExcess += excess;
      if (state.equityIM < BigInt(state.requirementIM)) belowIM++;
      if (state.health >= HEALTH_LIQUIDATABLE) {
        belowMM++;
        const account = population[k]!;
        if (!firstBelowMM.has(account)) firstBelowMM.set(account, receipt.blockNumber);
      }
    }
    await keeper.tick();
    lap("keeper");
    await options.hooks?.step?.(world, i);
    const stats = keeper.stats();
    samples.push({
      minute: (point.time + shift - replayStart) / 60,
      block: receipt.blockNumber,
      price: point.price,
      excessMMUsd: Number(losingExcess + gainingExcess) / 1e18,
      losingExcessMMUsd: Number(losingExcess) / 1e18,
      gainingExcessMMUsd: Number(gainingExcess) / 1e18,
      desksExcessMMUsd: desks === undefined ? undefined : Number(desks) / 1e18,
      belowIM,
      belowMM,
      surface: surfaceSample,
      auctionsStarted: stats.auctionsStarted,
      bids: stats.bids,
    });
    bar.update("replay", i + 1, points.length, `$${point.price.toFixed(0)} below MM ${belowMM}`);
  }
  bar.done();
  mark = performance.now();
  // Drain: let the keeper finish what the last updates started (an auction started in one
  // tick is bid on in the next), a minute of chain time apart so discounts can grow, and the
  // backstop's waterfall after an auction that ran its 15 minutes unbid.
  for (let round = 0; round < 30; round++) {
    const open = await Promise.all(population.map((account) => liquidator.read.auctionOf([account])));
    const states = await marginsOf(world, population);
    if (!open.some((a) => a.active) && !states.some((st) => st.health >= HEALTH_LIQUIDATABLE)) break;
    await chain.sync();
    await chain.advance(60);
    await keeper.tick();
  }
  lap("drain");
  await keeper.stop();

  // 6. the report
  const stats = keeper.stats();
  // An account can be auctioned several times in a crash: latency counts from its first
  // fall below MM to its first auction and first bid.
  const byAccount = new Map<bigint, (typeof stats.liquidations)[number]>();
  for (const l of stats.liquidations) if (!byAccount.has(l.account)) byAccount.set(l.account, l);
  const finalStates = await marginsOf(world, population);
  const liquidations: DemoLiquidation[] = [];
  for (const [k, account] of population.entries()) {
    const priceBlock = firstBelowMM.get(account);
    if (priceBlock === undefined) continue;
    const handled = byAccount.get(account);
    const open = (await liquidator.read.auctionOf([account])).active;
    liquidations.push({
      account,
      priceBlock,
      auctionBlock: handled?.auctionBlock,
      bidBlock: handled?.bidBlock,
      resolved: !open && finalStates[k]!.health < HEALTH_LIQUIDATABLE,
    });
  }
  const auctioned = liquidations.filter((l) => l.auctionBlock !== undefined);
  const latent = await getLatentInsolvency(world.publicClient, {
    addressBook: world.book,
    accounts: population.map(asAccountId),
    // Small calls: the in-process node's time grows faster than the accounts of one call (`MARGIN_CHUNK`).
    chunkSize: MARGIN_CHUNK,
  });
  const cashScale = 10 ** world.book.cash.decimals;
  const report: DemoReport = {
    keeper: keeper.kind,
    path: label,
    walk,
    accounts: population.length,
    feedUpdates: points.length,
    priceStart: first.price,
    priceMin,
    priceEnd: points.at(-1)!.price,
    chainMinutes: Math.round((chain.now() - replayStart) / 6) / 10,
    seededExcessIM,
    fellBelowMM: liquidations.length,
    liquidated: auctioned.length,
    resolved: liquidations.filter((l) => l.resolved).length,
    auctionsStarted: stats.auctionsStarted,
    bids: stats.bids,
    failures: stats.failures,
    blocksToAuction: quantiles(auctioned.map((l) => Number(l.auctionBlock! - l.priceBlock))),
    blocksToBid: quantiles(
      auctioned.filter((l) => l.bidBlock !== undefined).map((l) => Number(l.bidBlock! - l.priceBlock)),
    ),
    badDebtUsd: Number(await liquidator.read.badDebt()) / cashScale,
    latentInsolvent: Number(latent.count),
    latentShortfallUsd: Math.round(Number(latent.totalShortfallWad) / 1e16) / 100,
    insuranceStartUsd: Number(insuranceStart) / cashScale,
    insuranceUsd: Number(await vault.read.cashOf([world.insuranceAccount])) / cashScale,
    waterfall: await waterfallEvents(world, interestFrom),
    interest: await interestSince(world, interestFrom),
    keeperGas: stats.gasUsed,
    volSurface: summarizeSurface(surface, putWing, samples),
    seconds: {
      seed: tenths(seeded - started),
      replay: tenths(Date.now() - seeded),
      total: tenths(Date.now() - started),
      cpu: (({ user, system }) => tenths((user + system) / 1_000))(process.cpuUsage(cpuStart)),
    },
    load: { start: Math.round(loadStart * 10) / 10, end: Math.round(loadavg()[0]! * 10) / 10 },
    phases: {
      feed: tenths(phases.feed),
      surface: tenths(phases.surface),
      value: tenths(phases.value),
      keeper: tenths(phases.keeper),
      drain: tenths(phases.drain),
      keeperParts: Object.fromEntries(Object.entries(stats.phaseMs).map(([part, ms]) => [part, tenths(ms)])),
    },
    keeperRpcCalls: stats.rpcCalls,
    keeperConfirmed: stats.accountsConfirmed,
    keeperValuedLocally: stats.accountsValuedLocally,
    keeperMismatches: stats.valuationMismatches,
    valuation: (({ local, chain, ms }) => ({
      local,
      chain,
      crossChecks,
      checkedStates,
      seconds: Object.fromEntries(Object.entries(ms).map(([part, t]) => [part, tenths(t)])),
    }))(book.counts()),
    liquidations,
    samples,
    html: options.html,
  };
  await mkdir(path.dirname(options.html), { recursive: true });
  await writeFile(options.html, renderHtml(report));
  return report;
}

/** The report's vol-surface summary: the samples at the start, at the price low and at the end. */
const usd = (x: number) => `$${x.toLocaleString("en-US", { maximumFractionDigits: 2 })}`;
const percent = (x: number) => `${x.toLocaleString("en-US", { maximumFractionDigits: 3 })} %`;

/** The backstop's waterfall in one line. */
function waterfallLine(w: WaterfallSummary): string {
  return (
    `${w.takeovers} takeovers (fund lost ${usd(w.takeoverLossUsd)}, gained ${usd(w.takeoverGainUsd)}), ` +
    `${w.deleveragedAccounts} accounts deleveraged (${usd(w.deleverageCoverUsd)} against winners), ` +
    `${usd(w.fundPaidBiddersUsd)} paid to bidders of insolvent accounts, ${usd(w.badDebtIncurredUsd)} written off`
  );
}

/** Where the replay's time went, the keeper's by part, largest first (stdout and the page). */
function phasesLine(r: DemoReport): string {
  const parts = Object.entries(r.phases.keeperParts)
    .sort(([, a], [, b]) => b - a)
    .map(([part, seconds]) => `${part} ${seconds} s`)
    .join(", ");
  const { feed, surface, value, keeper, drain } = r.phases;
  const v = r.valuation.seconds;
  const valuing = `events ${v.index} s, reads ${v.read} s, exact math ${v.value} s, on chain ${v.chain} s`;
  return `feeds ${feed} s, vol signer ${surface} s, valuing the population ${value} s (${valuing}), keeper ${keeper} s (${parts}), drain ${drain} s`;
}

const volPoints = (x: number) => `${(x * 100).toFixed(1)}`;

/** The vol surface in the report: ATM vol and 25-delta RR, market and posted, and the put wing's mark. */
function surfaceLines(r: DemoReport): string[] {
  const v = r.volSurface;
  if (v === undefined) return [`  vol surface            off: every series marks at the flat vol feed`];
  const at = (name: string, s: SurfaceSample) =>
    `  ${name.padEnd(23)}ATM ${volPoints(s.postedAtmVol)} %, RR ${volPoints(s.postedRiskReversal)} posted ` +
    `(market ${volPoints(s.marketAtmVol)} %, ${volPoints(s.marketRiskReversal)}; confidence ${s.confidence.toFixed(2)}); ` +
    `put wing mark ${usd(s.putWingMarkUsd)} (flat vol ${usd(s.putWingFlatMarkUsd)})`;
  return [
    `  vol surface            ${v.posts} posts by the vol signer in-process (2 of 3 signers), ${v.skipped} steps unposted, ${v.postGas.toLocaleString("en-US")} gas; put wing: ${v.putWing}`,
    at("  at the start", v.start),
    at("  at the price low", v.trough),
    at("  at the end", v.end),
  ];
}

/** The stdout report. */
export function formatReport(r: DemoReport): string {
  const lines = [
    `Pledge demo — ${r.path}`,
    `  keeper                 packages/keeper service`,
    `  population             ${r.accounts} accounts, median excessIM/IM after seeding ${r.seededExcessIM.toFixed(3)}`,
    `  day walk               ${r.walk}`,
    `  price path             ${r.feedUpdates} feed updates over ${r.chainMinutes} chain minutes: ${usd(r.priceStart)} → min ${usd(r.priceMin)} → ${usd(r.priceEnd)}`,
    `  fell below MM          ${r.fellBelowMM}`,
    `  accounts liquidated    ${r.liquidated} (resolved at the end: ${r.resolved}/${r.fellBelowMM})`,
    `  auctions / bids        ${r.auctionsStarted} started, ${r.bids} bids, ${r.failures} failures`,
    `  blocks to auction      median ${r.blocksToAuction.median}, max ${r.blocksToAuction.max} (from the price update that put the account below MM)`,
    `  blocks to first bid    median ${r.blocksToBid.median}, max ${r.blocksToBid.max}`,
    `  bad debt               ${usd(r.badDebtUsd)}`,
    `  latent insolvency      ${r.latentInsolvent} accounts below zero maintenance equity, short ${usd(r.latentShortfallUsd)}`,
    `  insurance fund         ${usd(r.insuranceUsd)} (seeded with ${usd(r.insuranceStartUsd)})`,
    `  backstop               ${waterfallLine(r.waterfall)}`,
    `  interest on cash       borrow APR ${percent(r.interest.borrowAprPercent)}, supply APR ${percent(r.interest.supplyAprPercent)}; paid ${usd(r.interest.paidUsd)}, earned ${usd(r.interest.earnedUsd)} (+ ${usd(r.interest.toInsuranceUsd)} to the insurance fund)`,
    `  keeper gas             ${r.keeperGas.toLocaleString("en-US")}`,
    ...surfaceLines(r),
    `  wall time              ${r.seconds.total} s (seeding ${r.seconds.seed} s, replay ${r.seconds.replay} s); ${r.seconds.cpu} s of CPU, load average ${r.load.start} → ${r.load.end}`,
    `  replay phases          ${phasesLine(r)}`,
    `  keeper reads           ${r.keeperRpcCalls.toLocaleString("en-US")} JSON-RPC requests, ${r.keeperConfirmed.toLocaleString("en-US")} accounts read on chain, ${r.keeperValuedLocally.toLocaleString("en-US")} valued locally (${r.keeperMismatches} cross-checks differed)`,
    `  chart valuations       ${r.valuation.local.toLocaleString("en-US")} account states valued locally, ${r.valuation.chain.toLocaleString("en-US")} on chain; ${r.valuation.crossChecks} on-chain cross-checks of ${r.valuation.checkedStates.toLocaleString("en-US")} states, all equal to the wei`,
    `  charts                 ${path.relative(process.cwd(), r.html)}`,
  ];
  return lines.join("\n");
}

// ---------------------------------------------------------------------------- HTML

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Line {
  name: string;
  color: string;
  values: number[];
}

/** A self-contained SVG line chart of `lines` against `xs` (minutes). */
export function lineChart(title: string, xs: number[], lines: Line[], format: (y: number) => string): string {
  const W = 760;
  const H = 240;
  const m = { l: 80, r: 16, t: 28, b: 32 };
  const all = lines.flatMap((l) => l.values).filter(Number.isFinite);
  // Counts and sums start at zero; a price axis hugs the data.
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (!lines.some((l) => l.name.startsWith("$"))) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const x0 = xs[0] ?? 0;
  const x1 = Math.max(x0 + 1e-9, xs.at(-1) ?? 1);
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - lo) / (hi - lo)) * (H - m.t - m.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
  const grid = ticks
    .map(
      (y) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#e5e7eb"/>` +
        `<text x="${m.l - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${escape(format(y))}</text>`,
    )
    .join("");
  const xTicks = [0, 0.5, 1]
    .map((f) => x0 + f * (x1 - x0))
    .map((x) => `<text x="${px(x).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${x.toFixed(0)} min</text>`)
    .join("");
  const paths = lines
    .map((l) => {
      const d = l.values.map((y, i) => `${i === 0 ? "M" : "L"}${px(xs[i]!).toFixed(1)},${py(y).toFixed(1)}`).join("");
      return `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"/>`;
    })
    .join("");
  const legend = lines
    .map(
      (l, i) =>
        `<rect x="${m.l + 8 + i * 170}" y="10" width="10" height="10" fill="${l.color}"/>` +
        `<text x="${m.l + 22 + i * 170}" y="19">${escape(l.name.replace(/^\$/, ""))}</text>`,
    )
    .join("");
  return (
    `<figure><figcaption>${escape(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">` +
    `${grid}${xTicks}<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#9ca3af"/>${paths}${legend}</svg></figure>`
  );
}

/** The report as one offline HTML page: summary table and inline SVG charts. */
export function renderHtml(r: DemoReport): string {
  const xs = r.samples.map((s) => s.minute);
  const compact = (y: number) =>
    Math.abs(y) >= 1e6 ? `${(y / 1e6).toFixed(1)}M` : Math.abs(y) >= 1e3 ? `${(y / 1e3).toFixed(0)}k` : y.toFixed(0);
  const rows: [string, string][] = [
    ["price path", r.path],
    ["keeper", r.keeper],
    ["accounts", String(r.accounts)],
    ["feed updates", `${r.feedUpdates} over ${r.chainMinutes} chain minutes`],
    ["fell below MM", String(r.fellBelowMM)],
    ["accounts liquidated", `${r.liquidated} (resolved ${r.resolved})`],
    ["auctions started / bids / failures", `${r.auctionsStarted} / ${r.bids} / ${r.failures}`],
    ["blocks to auction (median / max)", `${r.blocksToAuction.median} / ${r.blocksToAuction.max}`],
    ["blocks to first bid (median / max)", `${r.blocksToBid.median} / ${r.blocksToBid.max}`],
    ["bad debt", usd(r.badDebtUsd)],
    ["latent insolvency", `${r.latentInsolvent} accounts, ${usd(r.latentShortfallUsd)}`],
    ["insurance fund (seeded)", `${usd(r.insuranceUsd)} (${usd(r.insuranceStartUsd)})`],
    ["backstop", waterfallLine(r.waterfall)],
    [
      "interest on cash (borrow / supply APR; paid / earned)",
      `${percent(r.interest.borrowAprPercent)} / ${percent(r.interest.supplyAprPercent)}; ${usd(r.interest.paidUsd)} / ${usd(r.interest.earnedUsd)}`,
    ],
    ["keeper gas", r.keeperGas.toLocaleString("en-US")],
    ["wall time", `${r.seconds.total} s (${r.seconds.cpu} s of CPU, load average ${r.load.start} → ${r.load.end})`],
    ["replay phases", phasesLine(r)],
  ];
  const table = rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join("");
  const desks = r.samples.filter((s) => s.desksExcessMMUsd !== undefined);
  const charts = [
    lineChart(
      `BTC/USD posted by the feed (${r.walk})`,
      xs,
      [{ name: "$BTC/USD", color: "#2563eb", values: r.samples.map((s) => s.price) }],
      (y) => `$${compact(y)}`,
    ),
    lineChart(
      "Aggregate health of the population: Σ excess over maintenance margin, losing and gaining accounts apart (USD)",
      xs,
      [
        { name: "losing (below their start)", color: "#dc2626", values: r.samples.map((s) => s.losingExcessMMUsd) },
        { name: "gaining", color: "#059669", values: r.samples.map((s) => s.gainingExcessMMUsd) },
      ],
      (y) => `$${compact(y)}`,
    ),
    lineChart(
      "The market makers' desks, apart: Σ excess over maintenance margin (USD; funded so they never bind)",
      desks.map((s) => s.minute),
      [{ name: "desks", color: "#6b7280", values: desks.map((s) => s.desksExcessMMUsd!) }],
      (y) => `$${compact(y)}`,
    ),
    lineChart(
      "Accounts below initial and maintenance margin (after each update, before the keeper acts)",
      xs,
      [
        { name: "below IM", color: "#d97706", values: r.samples.map((s) => s.belowIM) },
        { name: "below MM", color: "#dc2626", values: r.samples.map((s) => s.belowMM) },
      ],
      (y) => y.toFixed(0),
    ),
    lineChart(
      "Liquidations (cumulative)",
      xs,
      [
        { name: "auctions started", color: "#7c3aed", values: r.samples.map((s) => s.auctionsStarted) },
        { name: "bids", color: "#0891b2", values: r.samples.map((s) => s.bids) },
      ],
      (y) => y.toFixed(0),
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pledge demo</title>
<style>body{font-family:sans-serif;max-width:800px;margin:2em auto;color:#111}th{text-align:left;padding-right:1em;font-weight:normal;color:#555}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}</style>
</head><body>
<h1>Pledge demo</h1>
<table>${table}</table>
${charts.join("\n")}
</body></html>
`;
}

// ---------------------------------------------------------------------------- CLI

/** Options from argv (`--accounts 50 --drop 35 ...`) over env (`DEMO_ACCOUNTS=50 ...`) over defaults. */
export function demoOptions(root: string, argv: string[] = [], env: NodeJS.ProcessEnv = process.env): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      accounts: { type: "string" },
      seed: { type: "string" },
      csv: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      drop: { type: "string" },
      minutes: { type: "string" },
      html: { type: "string" },
      "vol-surface": { type: "boolean" },
    },
  });
  const pick = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : env[`DEMO_${name.toUpperCase()}`];
  };
  const num = (name: string, fallback: number): number => {
    const raw = pick(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`demo: --${name} must be a number, got ${raw}`);
    return value;
  };
  const csv = pick("csv");
  const drop = pick("drop");
  return {
    accounts: num("accounts", 200),
    seed: num("seed", 20200312),
    csv: csv ? path.resolve(csv) : path.resolve(root, "../shared/data/btc-usd-daily.csv"),
    // The default is the 2020-03-12/13 crash; a custom CSV is replayed whole unless told.
    from: pick("from") ?? (csv ? undefined : "2020-03-12"),
    to: pick("to") ?? (csv ? undefined : "2020-03-13"),
    drop: drop === undefined ? undefined : num("drop", 0),
    startPrice: 8_000,
    minutes: num("minutes", 30),
    html: path.resolve(pick("html") ?? path.resolve(root, "reports/demo.html")),
    progress: true,
    volSurface: values["vol-surface"] === true || env.DEMO_VOL_SURFACE === "1",
  };
}
