import type { Account } from "../../packages/sdk/src/index.js";

/**
 * The stress population as pure data: a seeded PRNG, the BTC series grid around spot
 * and, per account, its collateral and the book it wants to trade, sized off-chain with
 * the SDK's exact margin mirror until the account sits just above initial margin. The
 * chain side (`seeding.ts`) deposits and fills exactly what `sizeTrades` returns.
 */

const DAY_SECONDS = 86_400;
const EXPIRY_HOUR_SECONDS = 8 * 3_600;
export const WAD = 10n ** 18n;

/** Mulberry32: a tiny, well-mixed 32-bit PRNG; the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A BTC series as `SeriesLib.Series` takes it. */
export interface SeriesSpec {
  underlyingIndex: number;
  expiry: number;
  isCall: boolean;
  strikeWad: bigint;
}

/** Strikes are rounded to this many USD. */
export function strikeTick(spot: number): number {
  return spot >= 20_000 ? 1_000 : spot >= 2_000 ? 100 : 10;
}

/** The 08:00 UTC expiry `days` after `now` (never earlier than `days` full days). */
export function expiryAfter(now: number, days: number): number {
  const day = Math.floor((now + days * DAY_SECONDS) / DAY_SECONDS);
  const expiry = day * DAY_SECONDS + EXPIRY_HOUR_SECONDS;
  return expiry >= now + days * DAY_SECONDS ? expiry : expiry + DAY_SECONDS;
}

/**
 * Calls and puts at strikes spot × {0.7, 0.8, …, 1.3} (rounded to the tick), expiring
 * 7, 14, 30 and 60 days out at 08:00 UTC.
 */
export function seriesGrid(underlyingIndex: number, spot: number, now: number): SeriesSpec[] {
  const tick = strikeTick(spot);
  const strikes = [0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3].map((m) => Math.round((spot * m) / tick) * tick);
  const grid: SeriesSpec[] = [];
  for (const days of [7, 14, 30, 60]) {
    const expiry = expiryAfter(now, days);
    for (const strike of strikes) {
      for (const isCall of [true, false])
        grid.push({ underlyingIndex, expiry, isCall, strikeWad: BigInt(strike) * WAD });
    }
  }
  return grid;
}

/** One trade an account wants: a series of the grid and a side. */
export interface PlannedTrade {
  series: number;
  side: "long" | "short";
}

/** An account of the population before it trades. */
export interface AccountPlan {
  subId: bigint;
  /** USDC deposited, whole dollars. */
  cashUsd: number;
  /** WBTC deposited, in BTC (8 decimals significant). */
  wbtc: number;
  /** Share of the deposit's value spent on long premiums. */
  longBudgetShare: number;
  trades: PlannedTrade[];
}

export interface PopulationOptions {
  accounts: number;
  seed: number;
  spot: number;
  gridSize: number;
  /**
   * Every `borrowerEvery`-th account is a WBTC holder buying protective puts on credit: its whole
   * deposit in WBTC, every trade a long put (the put beside the call `seriesGrid` lists), 10–30 %
   * of the deposit spent on them, so it owes cash that bears interest (DESIGN.md: WBTC posted as
   * collateral pays for a premium). Default: none.
   */
  borrowerEvery?: number | undefined;
}

/** The borrowers of the interest-bearing simulations: one account in four. */
export const STRESS_BORROWER_EVERY = 4;

/**
 * The population: deposits log-uniform in $10k–$250k, 0–80 % of it in WBTC (all of it for
 * the borrowers of `borrowerEvery`), 2–6 trades each over the grid, about 60 % of them short
 * (the side that uses margin), and up to 30 % of the deposit spent on long premiums.
 */
export function planPopulation(options: PopulationOptions): AccountPlan[] {
  const random = seededRandom(options.seed);
  const plans: AccountPlan[] = [];
  for (let i = 0; i < options.accounts; i++) {
    const deposit = Math.exp(Math.log(10_000) + random() * Math.log(25));
    const borrower = options.borrowerEvery !== undefined && (i + 1) % options.borrowerEvery === 0;
    // Drawn for every account, so the borrowers leave everyone else's plan as it was.
    const drawnShare = random() * 0.8;
    const wbtcShare = borrower ? 1 : drawnShare;
    const trades: PlannedTrade[] = [];
    const count = 2 + Math.floor(random() * 5);
    for (let k = 0; k < count; k++) {
      trades.push({ series: Math.floor(random() * options.gridSize), side: random() < 0.6 ? "short" : "long" });
    }
    // Every account but a borrower carries margin risk: at least one short.
    if (!trades.some((t) => t.side === "short")) trades[0] = { ...trades[0]!, side: "short" };
    const drawnBudget = random() * 0.3;
    plans.push({
      subId: BigInt(i + 1),
      cashUsd: Math.round(deposit * (1 - wbtcShare)),
      wbtc: Math.round(((deposit * wbtcShare) / options.spot) * 1e8) / 1e8,
      longBudgetShare: borrower ? 0.1 + (drawnBudget * 2) / 3 : drawnBudget,
      // `seriesGrid` lists each strike's call, then its put: odd indices are puts.
      trades: borrower
        ? trades.map((t) => ({ series: Math.min(t.series | 1, options.gridSize - 1), side: "long" }))
        : trades,
    });
  }
  return plans;
}

/**
 * DESIGN.md's standard requirement of one short contract, in USD:
 * call `max(a·S − OTM, b·S)`, put `max(a·S − OTM, b·K)`.
 */
export function shortRequirement(isCall: boolean, spot: number, strike: number, a: number, b: number): number {
  const otm = isCall ? Math.max(strike - spot, 0) : Math.max(spot - strike, 0);
  return Math.max(a * spot - otm, b * (isCall ? spot : strike));
}

/** WAD contracts for `size` (a float), rounded down to 0.001 contract; 0 below that. */
export function toContractsWad(size: number): bigint {
  if (!(size > 0)) return 0n;
  return BigInt(Math.floor(size * 1_000)) * (WAD / 1_000n);
}

/** Long premiums and short premiums trade this far from the engine's mark. */
export const SPREAD = 0.01;
/** Sizing stops once excessIM is below this share of requirementIM. */
export const TARGET_EXCESS_SHARE = 0.04;

/** One fill the taker makes against the market maker, at `priceWad` per contract. */
export interface PlannedFill {
  series: number;
  /** Contracts, WAD, > 0. */
  size: bigint;
  long: boolean;
  priceWad: bigint;
}

/** What a fill costs beyond the premium, as `OptionMarket._settleCash` charges it. */
export interface FillTerms {
  cashDecimals: number;
  /** The taker fee (WAD share of the premium), 0 when no fee account is set or the taker is it. */
  takerFeeWad: bigint;
}

/** `OptionMarket._settleCash`'s premium in cash units: down when the maker pays, up when it receives. */
export function fillPremium(size: bigint, priceWad: bigint, makerPays: boolean, cashDecimals: number): bigint {
  const divisor = WAD * 10n ** BigInt(Math.max(0, 18 - cashDecimals));
  const multiplier = 10n ** BigInt(Math.max(0, cashDecimals - 18));
  const product = size * priceWad;
  const premium = makerPays ? product / divisor : (product + divisor - 1n) / divisor;
  return premium * multiplier;
}

/** The signed cash the taker receives for a fill (negative when it pays), fee included. */
export function takerCashDelta(fill: PlannedFill, terms: FillTerms): bigint {
  // The taker going short means the maker buys: the maker pays, rounded down.
  const premium = fillPremium(fill.size, fill.priceWad, !fill.long, terms.cashDecimals);
  const fee = (premium * terms.takerFeeWad + WAD - 1n) / WAD;
  return (fill.long ? -premium : premium) - fee;
}

/**
 * The fills that open `plan` on `start` (its deposits already applied): longs spend
 * `longBudgetShare` of the deposit at mark + spread, then shorts at mark − spread each
 * use about 60 % of the remaining excess over IM until the account sits within
 * `TARGET_EXCESS_SHARE` of its requirement. A fill that would leave the account below
 * IM is refused (as the engine would) and the next one halves. `marks` are the engine's
 * marks per grid series at the block the fills land in; `start` is valued at that block.
 */
export function sizeTrades(
  plan: AccountPlan,
  start: Account,
  grid: readonly SeriesSpec[],
  seriesIds: readonly bigint[],
  marks: readonly bigint[],
  spot: number,
  terms: FillTerms,
): { fills: PlannedFill[]; account: Account } {
  let account = start;
  const fills: PlannedFill[] = [];
  const tryFill = (series: number, size: bigint, long: boolean): boolean => {
    if (size === 0n) return false;
    const priceWad = (marks[series]! * BigInt(Math.round((long ? 1 + SPREAD : 1 - SPREAD) * 10_000))) / 10_000n;
    const fill = { series, size, long, priceWad };
    const after = account.withTrade(seriesIds[series]!, long ? size : -size, takerCashDelta(fill, terms));
    const { equityIM, requirementIM } = after.margin();
    if (equityIM < requirementIM) return false;
    account = after;
    fills.push(fill);
    return true;
  };
  const markUsd = (series: number) => Number(marks[series]!) / 1e18;

  const budget = plan.cashUsd + plan.wbtc * spot;
  const longs = plan.trades.filter((t) => t.side === "long");
  for (const t of longs) {
    tryFill(
      t.series,
      toContractsWad((budget * plan.longBudgetShare) / longs.length / (markUsd(t.series) * (1 + SPREAD))),
      true,
    );
  }
  const shorts = plan.trades.filter((t) => t.side === "short");
  if (shorts.length === 0) return { fills, account };
  let refused = 0;
  for (let k = 0; k < 12 && refused < 3; k++) {
    const state = account.margin();
    const excess = Number(state.equityIM - state.requirementIM) / 1e18;
    const requirement = Number(state.requirementIM) / 1e18;
    if (requirement > 0 && excess < TARGET_EXCESS_SHARE * requirement) break;
    const series = shorts[k % shorts.length]!.series;
    const spec = grid[series]!;
    const perContract =
      shortRequirement(spec.isCall, spot, Number(spec.strikeWad / WAD), 0.15, 0.1) + SPREAD * markUsd(series);
    const size = (excess * 0.6 * 0.5 ** refused) / perContract;
    if (!tryFill(series, toContractsWad(size), false)) refused++;
  }
  return { fills, account };
}
