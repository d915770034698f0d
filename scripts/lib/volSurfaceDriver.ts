import type { Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import {
  type CrashSmileLevels,
  VolSignerError,
  buildPost,
  crashQuotes,
  crashSmileLevels,
  mergePayloads,
  postSigned,
  readOracleContext,
  signPayload,
} from "../../packages/vol-signer/src/index.js";
import {
  type SurfaceRead,
  type UnderlyingSurfaceInput,
  VOL_SURFACE_MATURITY_STEP,
  decodeSeries,
  markAndSpot,
} from "../../packages/sdk/src/index.js";
import type { ChainClock } from "./chainClock.js";
import type { World } from "./world.js";

/**
 * The vol signer in-process (issue 17 item 5): the demo and the stress replay drive the signer
 * service's library — `crashQuotes` → `buildPost` (fit, quantize, the SDK's checks against the
 * oracle as the chain holds it) → `signPayload` by two of the deployment's three signers →
 * `mergePayloads` → `postSigned` — with the crash smile of the price path, and the engine marks
 * on the posted surface (`engine.setVolSurface`).
 */

/** Hardhat's default mnemonic: the local deployment's signers are its first three accounts. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const HOUR = 3_600;
/** The crash model's ATM vol calm and at full stress (`crashSmileLevels`' defaults). */
const CALM_ATM = 0.6;
const CRASH_ATM = 1.5;

/** The vol surface at one update: the market's crash smile, what was posted, and a put-wing mark. */
export interface SurfaceSample {
  /** ATM vol and 25-delta risk reversal of the crash model at this price (the quotes' smile). */
  marketAtmVol: number;
  marketRiskReversal: number;
  /** The same of the smile posted (the market's, or the nearest the oracle's change bound admits). */
  postedAtmVol: number;
  postedRiskReversal: number;
  /** Lowest confidence the signer posted at (lowered when the move needed it). */
  confidence: number;
  /**
   * The put wing: `engine.mark` of the grid's lowest-strike put of the third expiry (what one short
   * contract owes, USD), and Black–Scholes at the flat vol feed, as the engine marked it before issue 17.
   */
  putWingMarkUsd: number;
  putWingFlatMarkUsd: number;
}

/** One post of the crash smile. */
export interface SurfacePostRecord {
  /** Chain time the post was signed at (the latest block's). */
  timestamp: number;
  spot: number;
  /** The market's smile at this spot (the crash model at its drawdown from the running peak). */
  market: CrashSmileLevels;
  /**
   * The smile posted: the market's, or, when the oracle's change bound cannot admit that at any
   * confidence in the time since the last post, the nearest smile of the crash model it admits.
   */
  posted: CrashSmileLevels;
  /** Lowest confidence posted over the expiries, and the fits' worst RMS miss of the quotes (vol). */
  confidence: number;
  rmseVol: number;
  gasUsed: bigint;
}

export interface SurfaceDriver {
  /** The underlying's asset (WBTC). */
  asset: Address;
  /**
   * Before trading: posts the calm smile for `expiries`, lets it mature (an hour of chain time),
   * re-posts it fresh and wires the engine's marks to the oracle.
   */
  open(spot: number, expiries: readonly bigint[]): Promise<SurfacePostRecord>;
  /** Posts the crash smile at `spot` (running peak kept here) for the expiries opened. */
  step(spot: number): Promise<SurfacePostRecord | undefined>;
  /** Every post, in order. */
  posts: SurfacePostRecord[];
  /** Steps at which nothing could be posted (the oracle's bound refused even the smile in force). */
  skipped: number;
}

/**
 * The smile levels of the crash model at stress `s` (the drawdown whose stress is `s`): the
 * model's own mix, so the posted smile stays one of its shapes.
 */
function levelsAtStress(stress: number): CrashSmileLevels {
  return crashSmileLevels(1 - stress * 0.5, 1);
}

/** The engine's surface input for the BTC underlying as `markVol` reads it now, for seeding's mirror. */
export async function surfaceInputOf(
  world: World,
  asset: Address,
  underlyingIndex: number,
  seriesIds: readonly bigint[],
  spotWad: bigint,
): Promise<UnderlyingSurfaceInput> {
  const { engine, volSurface } = world.contracts;
  const [, maxAge, addOnWad] = await engine.read.surfaceParams([underlyingIndex]);
  const reads = new Map<bigint, SurfaceRead>();
  for (const id of seriesIds) {
    const { expiry, strikeWad } = decodeSeries(id);
    const [volWad, timestamp, confidenceWad, mature] = await volSurface.read.markVol([
      asset,
      expiry,
      spotWad,
      strikeWad,
    ]);
    reads.set(id, { volWad, timestamp, confidenceWad, mature });
  }
  return { asset, maxAge, addOnWad, reads };
}

/** The in-process signer of the world's WBTC surface. */
export function createSurfaceDriver(world: World, chain: ChainClock): SurfaceDriver {
  const { volSurface, engine, wbtc } = world.contracts;
  const signers = [0, 1].map((addressIndex) => mnemonicToAccount(DEV_MNEMONIC, { addressIndex }));
  // The market maker's wallet sends no transaction during a replay (the keeper bids from the bidder's).
  const poster = world.makerWallet;
  let expiries: bigint[] = [];
  let peak = 0;
  let last: CrashSmileLevels | undefined;
  const posts: SurfacePostRecord[] = [];
  const driver: SurfaceDriver = {
    asset: wbtc.address,
    posts,
    skipped: 0,
    async open(spot, grid) {
      for (const signer of signers) {
        if (!(await volSurface.read.isSigner([signer.address]))) {
          throw new Error(`vol surface: ${signer.address} is not a signer of the deployment's oracle`);
        }
      }
      expiries = [...new Set(grid)].sort((a, b) => (a < b ? -1 : 1));
      peak = spot;
      const first = await post(spot, crashSmileLevels(spot, peak));
      // A first post marks only an hour after it lands, rounded up to the 2-minute step
      // (docs/vol-surface.md, "First posts, and maturity").
      await chain.advance(HOUR + Number(VOL_SURFACE_MATURITY_STEP));
      await chain.mined(() => engine.write.setVolSurface([volSurface.address]));
      const fresh = await post(spot, crashSmileLevels(spot, peak));
      if (fresh === undefined || first === undefined) throw new Error("vol surface: the calm smile was refused");
      return fresh;
    },
    async step(spot) {
      peak = Math.max(peak, spot);
      const market = crashSmileLevels(spot, peak);
      const record = await post(spot, market);
      if (record === undefined) driver.skipped++;
      return record;
    },
  };

  /** Fits, signs and posts the smile `levels` at `spot`; undefined if the oracle's bound admits nothing new. */
  async function post(spot: number, market: CrashSmileLevels): Promise<SurfacePostRecord | undefined> {
    const oracle = await readOracleContext(world.publicClient, {
      oracle: volSurface.address,
      underlying: wbtc.address,
    });
    // Signed at the latest block's time, as the signer service does by default.
    const nowSeconds = oracle.blockTimestamp;
    const live = expiries.filter((e) => e > nowSeconds + 600n);
    if (live.length === 0) return undefined;
    const build = (levels: CrashSmileLevels) => {
      // The crash model's quotes at these levels: the peak that puts `spot` at this stress.
      const peakSpot = spot / (1 - levels.stress * 0.5);
      return buildPost(crashQuotes({ underlying: wbtc.address, spot, peakSpot, nowSeconds, expiries: live }), {
        nowSeconds,
        oracle,
        landingLatencySeconds: 60n,
      });
    };
    // In a compressed replay (the demo squeezes two days into half an hour) the oracle's bound
    // (×4 in annualised variance per hour at full confidence, ×16 at confidence ≤ 0.25 with the
    // default ratio) cannot follow the market: then the signer posts the crash model's smile
    // nearest to it that the bound admits. One fit per step where it can: the step is first
    // estimated from the bound at the confidence floor over the credit since the last post (80 %
    // of it in log-variance, for the put wing that moves faster than ATM), then halved if refused.
    const candidates = [market];
    if (last !== undefined) {
      const credit = Math.min(HOUR, Number(nowSeconds) - (posts.at(-1)?.timestamp ?? 0));
      const floorRatio = (Number(oracle.changeRatioWad) / 1e18) * 4;
      const reach = floorRatio ** ((0.4 * credit) / HOUR); // in vol: √ of 80 % of the variance ratio
      const atm = Math.min(Math.max(market.atmVol, last.atmVol / reach), last.atmVol * reach);
      const guess = Math.min(1, Math.max(0, (atm - CALM_ATM) / (CRASH_ATM - CALM_ATM)));
      candidates.length = 0;
      if (Math.abs(guess - market.stress) > 1e-9) {
        for (let k = 0; k < 4; k++) candidates.push(levelsAtStress(last.stress + (guess - last.stress) / 2 ** k));
      } else {
        candidates.push(market, levelsAtStress(last.stress + (market.stress - last.stress) / 2));
      }
    }
    let posted: CrashSmileLevels | undefined;
    let built: ReturnType<typeof buildPost> | undefined;
    for (const levels of candidates) {
      try {
        built = build(levels);
        posted = levels;
        break;
      } catch (error) {
        if (!(error instanceof VolSignerError) || last === undefined) throw error;
      }
    }
    if (built === undefined || posted === undefined) return undefined;
    const { post: signed, fits } = built;
    const payloads = await Promise.all(
      signers.map(async (signer, i) => ({
        file: `signer-${i}`,
        payload: await signPayload(signer, { chainId: world.chainId, oracle: volSurface.address, post: signed }),
      })),
    );
    const merged = await mergePayloads(payloads);
    let gasUsed = 0n;
    await chain.mined(async () => {
      const sent = await postSigned(world.publicClient, poster, {
        oracle: merged.oracle,
        signed: merged.signed,
        signers: merged.signers,
      });
      gasUsed = sent.gasUsed;
      return sent.hash;
    });
    last = posted;
    const record: SurfacePostRecord = {
      timestamp: Number(nowSeconds),
      spot,
      market,
      posted,
      confidence: Math.min(...fits.map((f) => Number(f.confidenceWad) / 1e18)),
      rmseVol: Math.max(...fits.map((f) => f.rmseVol)),
      gasUsed,
    };
    posts.push(record);
    return record;
  }
  return driver;
}

/** A series of the put wing whose mark a report follows: on the surface and at the flat vol feed. */
export interface PutWingProbe {
  seriesId: bigint;
  /** E.g. "30-day put at $5,600". */
  label: string;
  /** `engine.mark` (on the surface) and Black–Scholes at the flat vol feed, WAD, at the latest block. */
  marks(): Promise<{ surfaceWad: bigint; flatWad: bigint }>;
}

/** The grid's lowest-strike put of its third expiry (30 days in the default grid). */
export async function putWingProbe(world: World): Promise<PutWingProbe> {
  const { engine, oracle } = world.contracts;
  const puts = world.series.map((id) => ({ id, ...decodeSeries(id) })).filter((s) => !s.isCall);
  const expiries = [...new Set(puts.map((s) => s.expiry))].sort((a, b) => (a < b ? -1 : 1));
  const expiry = expiries[Math.min(2, expiries.length - 1)];
  const wing = puts.filter((s) => s.expiry === expiry).sort((a, b) => (a.strikeWad < b.strikeWad ? -1 : 1))[0];
  if (wing === undefined) throw new Error("vol surface: the grid lists no put");
  const underlying = await engine.read.underlying([wing.underlyingIndex]);
  const listedAt = BigInt(await world.publicClient.getBlock().then((b) => b.timestamp));
  const days = Math.round(Number(wing.expiry - listedAt) / 86_400);
  return {
    seriesId: wing.id,
    label: `${days}-day put at $${(Number(wing.strikeWad) / 1e18).toLocaleString("en-US")}`,
    async marks() {
      const block = await world.publicClient.getBlock();
      const at = { blockNumber: block.number } as const;
      const [surfaceWad, spotWad, volWad] = await Promise.all([
        engine.read.mark([wing.id], at),
        oracle.read.spot([underlying.asset], at),
        oracle.read.vol([underlying.asset], at),
      ]);
      const flatWad = markAndSpot(wing.id, { spotWad, volWad, params: underlying.params }, block.timestamp).markWad;
      return { surfaceWad, flatWad };
    },
  };
}

/** The report's sample of the surface after a step (the last post if this step posted none). */
export async function sampleSurface(
  driver: SurfaceDriver,
  probe: PutWingProbe,
  record: SurfacePostRecord | undefined,
): Promise<SurfaceSample> {
  const post = record ?? driver.posts.at(-1);
  if (post === undefined) throw new Error("vol surface: nothing posted yet");
  const { surfaceWad, flatWad } = await probe.marks();
  return {
    marketAtmVol: post.market.atmVol,
    marketRiskReversal: post.market.riskReversal,
    postedAtmVol: post.posted.atmVol,
    postedRiskReversal: post.posted.riskReversal,
    confidence: post.confidence,
    putWingMarkUsd: Number(surfaceWad) / 1e18,
    putWingFlatMarkUsd: Number(flatWad) / 1e18,
  };
}

/** The vol surface over a run: the signer's posts and the smile and put-wing mark at three moments. */
export interface SurfaceSummary {
  /** The put-wing series sampled. */
  putWing: string;
  /**
   * Posts sent, steps the signer could not post, and the gas the posts used (a number, as the
   * episode's `keeperGas`, so `npm run stress` can write the summary as JSON).
   */
  posts: number;
  skipped: number;
  postGas: number;
  /** The samples at the first update, at the lowest price and at the last update. */
  start: SurfaceSample;
  trough: SurfaceSample;
  end: SurfaceSample;
}

/**
 * A run's surface summary from its samples (each with the price it was taken at), or undefined
 * when the run had no surface or took no sample.
 */
export function summarizeSurface(
  driver: SurfaceDriver | undefined,
  probe: PutWingProbe | undefined,
  samples: readonly { price: number; surface?: SurfaceSample | undefined }[],
): SurfaceSummary | undefined {
  const taken = samples.filter((s) => s.surface !== undefined);
  if (driver === undefined || probe === undefined || taken.length === 0) return undefined;
  return {
    putWing: probe.label,
    posts: driver.posts.length,
    skipped: driver.skipped,
    postGas: Number(driver.posts.reduce((sum, p) => sum + p.gasUsed, 0n)),
    start: taken[0]!.surface!,
    trough: taken.reduce((low, s) => (s.price < low.price ? s : low)).surface!,
    end: taken.at(-1)!.surface!,
  };
}
