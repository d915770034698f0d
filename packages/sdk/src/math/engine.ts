import { callPrice, putPrice } from "./blackScholes.js";
import { toWadDown } from "./cashUnits.js";
import {
  applyHaircutDown,
  concentrationAddOnUp,
  intrinsic,
  positionRequirementUp,
  positionValue,
  shortRequirementUp,
  tokenValueDown,
} from "./marginMath.js";
import { WAD, mulWadUp } from "./fixedPoint.js";
import {
  addCollateral,
  addPosition,
  columnsToPrice,
  pruneRows,
  startStages,
  contingencyUp,
  coverFloorUp,
  newGrid,
  tokensToWad,
  worstLoss,
  worstTailLoss,
} from "./portfolioMath.js";
import { decodeSeries } from "./series.js";

/** Where an account stands, as `IMarginEngine.Health`. */
export const Health = { HEALTHY: 0, MARGIN_CALL: 1, LIQUIDATABLE: 2, INSOLVENT: 3 } as const;
export type Health = (typeof Health)[keyof typeof Health];

/** An account's margin mode, as `IMarginEngine.MarginMode`. */
export const MarginMode = { CROSS: 0, ISOLATED: 1, PORTFOLIO: 2 } as const;
export type MarginMode = (typeof MarginMode)[keyof typeof MarginMode];

/**
 * Portfolio-margin parameters of one underlying, as `IMarginEngine.PortfolioParams`: each
 * scenario moves spot by `spotShocksWad[i]` (a signed fraction, −0.18e18 is −18 %) and
 * multiplies implied vol by `volShocksWad[j]` (1e18 is flat), then adds `skewShocksWad[j]` ×
 * max(0, ln(S/K)) to legs struck below spot (the put-wing steepening).
 */
export interface PortfolioParams {
  spotShocksWad: readonly bigint[];
  volShocksWad: readonly bigint[];
  /** Charge per short contract as a share of spot. */
  contingencyWad: bigint;
  /** Maintenance requirement as a share of the initial one. */
  mmFactorWad: bigint;
  /**
   * Tail spot shocks beyond the grid, revalued at unshocked vol (the chain always has 2 to 4;
   * absent here means none, for what-ifs on a grid alone).
   */
  tailShocksWad?: readonly bigint[] | undefined;
  /** Share of the worst tail loss the requirement covers (absent: no tail). */
  tailWeightWad?: bigint | undefined;
  /**
   * Put-wing skew of each vol column, vol per unit of max(0, ln(S/K)) (the chain always has one
   * per vol shock, within [0, 2]; absent here means none).
   */
  skewShocksWad?: readonly bigint[] | undefined;
}

/**
 * Concentration parameters of one underlying, as `IPortfolioManager.ConcentrationParams`
 * (`docs/risk-model.md`, "Concentration"): Q gross short contracts add `κ·S·Q·min(Q / L, maxRatio)`
 * to the initial requirement and half of it to maintenance, in every margin mode.
 */
export interface ConcentrationParams {
  /** κ: the add-on per short contract as a share of spot when Q = L; 0 turns it off. */
  kappaWad: bigint;
  /** The cap on Q / L beyond which the add-on grows only linearly. */
  maxRatioWad: bigint;
  /** L: the governed liquidity reference, WAD contracts. */
  liquidityWad: bigint;
}

/** The share of the initial concentration add-on that maintenance carries (`CONCENTRATION_MAINTENANCE_SHARE`). */
export const CONCENTRATION_MAINTENANCE_SHARE = 5n * 10n ** 17n;

/** Standard margin parameters of one underlying, WAD, as `IMarginEngine.RiskParams`. */
export interface RiskParams {
  aIM: bigint;
  bIM: bigint;
  aMM: bigint;
  bMM: bigint;
}

/** One account's margin, field for field as `IMarginEngine.MarginState`. */
export interface MarginState {
  equityIM: bigint;
  equityMM: bigint;
  requirementIM: bigint;
  requirementMM: bigint;
  health: Health;
  markValue: bigint;
}

/** One collateral balance with its price and haircuts. */
export interface CollateralInput {
  amount: bigint;
  decimals: number;
  priceWad: bigint;
  initialHaircutWad: bigint;
  maintenanceHaircutWad: bigint;
  /**
   * Delisted by the admin: the engine values it at zero. (A `priceWad` of 0, which no valid feed
   * returns, likewise means the price could not be read: it counts as zero too.)
   */
  delisted?: boolean | undefined;
  /**
   * The engine's index of the underlying this asset is (WETH for ETH, say), if it is one. A
   * portfolio account counts such collateral at full value, priced at that underlying's
   * `spotWad`, and moves it in the underlying's scenarios.
   */
  underlyingIndex?: number | undefined;
}

/**
 * One `IVolSurfaceOracle.markVol` read, for one live series (`docs/vol-surface.md`, "Marks and
 * margin"): all zero when nothing was posted for its expiry.
 */
export interface SurfaceRead {
  volWad: bigint;
  timestamp: bigint;
  confidenceWad: bigint;
  mature: boolean;
}

/**
 * The engine's vol surface as it applies to one underlying: present only when the engine has a
 * surface oracle (`MarginEngine.volSurface`) and that oracle lists the underlying.
 */
export interface UnderlyingSurfaceInput {
  /** The underlying's asset, as `EngineVolSurfaceUnusable` names it. */
  asset: `0x${string}`;
  /** `MarginEngine.surfaceMaxAge`: the largest age, in seconds, of a FRESH surface. */
  maxAge: bigint;
  /** The underlying's confidence add-on (`MarginEngine.surfaceParams(index).addOnWad`). */
  addOnWad: bigint;
  /** `markVol(underlying, expiry, spot, strike)` by live series id, at the inputs' spot. */
  reads: ReadonlyMap<bigint, SurfaceRead>;
}

/** What the engine reads about one underlying. */
export interface UnderlyingInput {
  spotWad: bigint;
  /**
   * The flat vol feed. On a surface underlying the chain reads it only off a FRESH surface; 0 here
   * means it could not be read (the chain reverts if a mark needs it).
   */
  volWad: bigint;
  /** The vol surface, when one applies to this underlying; absent: every series marks at `volWad`. */
  surface?: UnderlyingSurfaceInput | undefined;
  params: RiskParams;
  /** Posted settlement prices by expiry (unix seconds). */
  settlementPrices?: ReadonlyMap<bigint, bigint>;
  /** Portfolio-margin parameters; needed for portfolio accounts only. */
  portfolio?: PortfolioParams | undefined;
  /** Concentration parameters (`PortfolioManager.concentrationParams`); absent: the add-on is off. */
  concentration?: ConcentrationParams | undefined;
}

/** Everything `MarginEngine.accountMargin` reads, as plain values. */
export interface MarginInputs {
  /** Block timestamp the margin is computed at. */
  timestamp: bigint;
  /** Signed cash balance in cash-token units. */
  cash: bigint;
  cashDecimals: number;
  collateral: readonly CollateralInput[];
  positions: readonly { seriesId: bigint; balance: bigint }[];
  /** By underlying index (1-based, as the engine's registry). */
  underlyings: ReadonlyMap<number, UnderlyingInput>;
  /** The account's margin mode; CROSS when absent (ISOLATED is valued as CROSS, as on chain). */
  mode?: MarginMode | undefined;
}

/**
 * Black–Scholes marks computed by `markAndSpot`, by series, spot, vol and time to expiry (the
 * mark is a pure function of them, so a cached one is the same to the wei): a keeper or a
 * simulation valuing hundreds of accounts at one block prices each series once, not once per
 * holder. Cleared when it holds `MARKS_KEPT`.
 */
const MARKS = new Map<string, bigint>();
const MARKS_KEPT = 8_192;

/** What `markAndSpot` returns: `MarginValuation._markOf`'s `MarkResult`, and the surface status. */
export interface MarkAndSpot {
  markWad: bigint;
  /** The spot the mark and any requirement use; 0 once a settlement price is posted. */
  spotWad: bigint;
  /** The vol the mark of a live series used (0 at or after expiry). */
  volWad: bigint;
  /** The confidence add-on one short contract adds to each requirement, rounded up; 0 off a surface. */
  addOnWad: bigint;
  /** A live series whose surface is FALLBACK: a check of new risk reverts `EngineVolSurfaceUnusable`. */
  surfaceFallback: boolean;
}

/**
 * The vol of a live series and its confidence add-on per short contract, as
 * `MarginValuation._markVol`: off a surface the flat vol feed; on one, FRESH (posted, mature, at
 * most `maxAge` old) marks at the surface's vol with the add-on at its confidence, FALLBACK at the
 * flat feed if immature or missing, else the last mature posted vol bounded by the feed on the
 * holder's conservative side (at least the feed for a short, at most for a long: review rv20 P1),
 * with the add-on at confidence 0.
 */
function markVol(
  seriesId: bigint,
  underlying: UnderlyingInput,
  timestamp: bigint,
  isLong: boolean,
): { volWad: bigint; addOnWad: bigint; surfaceFallback: boolean } {
  const flat = () => {
    // The chain reverts when a mark needs a vol feed it cannot read.
    if (underlying.volWad === 0n) throw new Error(`no valid vol for series ${seriesId}`);
    return underlying.volWad;
  };
  const surface = underlying.surface;
  if (surface === undefined) return { volWad: flat(), addOnWad: 0n, surfaceFallback: false };
  const read = surface.reads.get(seriesId);
  if (read === undefined) throw new Error(`no surface read for series ${seriesId}`);
  let { volWad, confidenceWad } = read;
  let surfaceFallback = false;
  if (!read.mature || read.timestamp === 0n || read.timestamp + surface.maxAge < timestamp) {
    const feed = flat();
    if (!read.mature || (isLong ? volWad > feed : volWad < feed)) volWad = feed;
    confidenceWad = 0n;
    surfaceFallback = true;
  }
  const perSpot = mulWadUp(underlying.spotWad, surface.addOnWad);
  return { volWad, addOnWad: mulWadUp(perSpot, WAD - confidenceWad), surfaceFallback };
}

/**
 * The mark of one contract and the spot its requirement uses (0 once settled), as
 * `MarginValuation._markOf`: Black–Scholes before expiry, at the flat vol feed or, on a vol-surface
 * underlying, at the series' FRESH or FALLBACK vol (`docs/vol-surface.md`, "Marks and margin"),
 * with the confidence add-on per short contract; `isLong` picks the holder's side of a FALLBACK
 * vol (default: a short's, as `MarginEngine.mark`); after expiry, intrinsic value at the posted
 * settlement price, else at spot (no surface read).
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * const underlying = inputs.underlyings.get(decodeSeries(seriesId).underlyingIndex);
 * const { markWad, spotWad, volWad } = markAndSpot(seriesId, underlying, inputs.timestamp);
 * markWad === callPrice(underlying.spotWad, decodeSeries(seriesId).strikeWad, expiry - inputs.timestamp, volWad);
 * spotWad === underlying.spotWad; // before expiry the requirement uses the live spot
 */
export function markAndSpot(
  seriesId: bigint,
  underlying: UnderlyingInput,
  timestamp: bigint,
  isLong = false,
): MarkAndSpot {
  const { expiry, isCall, strikeWad } = decodeSeries(seriesId);
  const none = { volWad: 0n, addOnWad: 0n, surfaceFallback: false };
  if (timestamp >= expiry) {
    const settlement = underlying.settlementPrices?.get(expiry);
    if (settlement !== undefined) return { markWad: intrinsic(isCall, settlement, strikeWad), spotWad: 0n, ...none };
  }
  // The chain reverts when a position needs a price its oracle cannot give (spotWad 0 here).
  if (underlying.spotWad === 0n) throw new Error(`no valid spot for series ${seriesId}`);
  if (timestamp >= expiry) {
    return { markWad: intrinsic(isCall, underlying.spotWad, strikeWad), spotWad: underlying.spotWad, ...none };
  }
  const secondsToExpiry = expiry - timestamp;
  const vol = markVol(seriesId, underlying, timestamp, isLong);
  // A pure function of the series, spot, vol and time: accounts valued at the same block share it.
  const key = `${seriesId}:${underlying.spotWad}:${vol.volWad}:${secondsToExpiry}`;
  let markWad = MARKS.get(key);
  if (markWad === undefined) {
    markWad = isCall
      ? callPrice(underlying.spotWad, strikeWad, secondsToExpiry, vol.volWad)
      : putPrice(underlying.spotWad, strikeWad, secondsToExpiry, vol.volWad);
    if (MARKS.size >= MARKS_KEPT) MARKS.clear();
    MARKS.set(key, markWad);
  }
  return { markWad, spotWad: underlying.spotWad, ...vol };
}

/**
 * The live series, if any, whose surface is FALLBACK among `inputs`' positions (the first in
 * position order, as the chain meets it): a check of new risk on the account
 * (`checkInitialMargin`, `checkWithdrawal`) reverts `EngineVolSurfaceUnusable(asset, expiry)` for
 * it, while `accountMargin` values it at its FALLBACK mark. In standard margin (CROSS, ISOLATED)
 * only shorts count: initial margin counts a long at zero, so a FALLBACK long refuses nothing.
 * In PORTFOLIO margin longs count too.
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * const stale = surfaceFallbackOf(inputs);
 * if (stale !== undefined) console.log(`no new risk until expiry ${stale.expiry} of ${stale.underlyingIndex} is fresh`);
 */
export function surfaceFallbackOf(
  inputs: MarginInputs,
): { underlyingIndex: number; asset: `0x${string}`; expiry: bigint } | undefined {
  for (const { seriesId, balance } of inputs.positions) {
    const { underlyingIndex, expiry } = decodeSeries(seriesId);
    const underlying = inputs.underlyings.get(underlyingIndex);
    if (balance === 0n || underlying?.surface === undefined || inputs.timestamp >= expiry) continue;
    if (balance > 0n && inputs.mode !== MarginMode.PORTFOLIO) continue;
    if (markAndSpot(seriesId, underlying, inputs.timestamp).surfaceFallback) {
      return { underlyingIndex, asset: underlying.surface.asset, expiry };
    }
  }
  return undefined;
}

/**
 * An account's margin, computed exactly as `MarginEngine.accountMargin` computes it on
 * chain, to the wei: standard margin, or for `mode: MarginMode.PORTFOLIO` the scenario
 * valuation of `MarginEngine._portfolioMargin`.
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * const state = accountMargin(inputs);
 * const [onChain] = await getAccountMargin(publicClient, { addressBook, accounts: [account] });
 * state.requirementIM === onChain.requirementIM; // to the wei
 * // What if the account had 29,000 USDC less?
 * healthName(accountMargin({ ...inputs, cash: inputs.cash - 29_000_000_000n }).health); // "LIQUIDATABLE"
 */
export function accountMargin(inputs: MarginInputs): MarginState {
  if (inputs.mode === MarginMode.PORTFOLIO) return portfolioMargin(inputs);
  let { equityIM, equityMM, markValue } = collateralEquity(inputs, false);
  let requirementIM = 0n;
  let requirementMM = 0n;
  const shorts = new Map<number, bigint>();

  for (const { seriesId, balance } of inputs.positions) {
    const index = decodeSeries(seriesId).underlyingIndex;
    const underlying = inputs.underlyings.get(index);
    if (underlying === undefined) throw new Error(`no inputs for underlying ${index}`);
    const { markWad, spotWad, addOnWad } = markAndSpot(seriesId, underlying, inputs.timestamp, balance > 0n);
    const value = positionValue(balance, markWad);
    // Long options add nothing to initial-margin equity.
    if (value < 0n) equityIM += value;
    equityMM += value;
    markValue += value;
    if (balance >= 0n || spotWad === 0n) continue;
    shorts.set(index, (shorts.get(index) ?? 0n) - balance);
    const { isCall, strikeWad } = decodeSeries(seriesId);
    const p = underlying.params;
    // The confidence add-on (0 off the surface) on both requirements.
    const addOn = positionRequirementUp(balance, addOnWad);
    requirementIM +=
      positionRequirementUp(balance, shortRequirementUp(isCall, spotWad, strikeWad, p.aIM, p.bIM)) + addOn;
    requirementMM +=
      positionRequirementUp(balance, shortRequirementUp(isCall, spotWad, strikeWad, p.aMM, p.bMM)) + addOn;
  }
  const addOn = concentrationAddOn(shorts, inputs);
  requirementIM += addOn.initialWad;
  requirementMM += addOn.maintenanceWad;

  const state = { equityIM, equityMM, requirementIM, requirementMM, markValue, health: Health.HEALTHY as Health };
  state.health = health(state);
  return state;
}

/**
 * Portfolio margin, as `MarginEngine._portfolioMargin` (`docs/portfolio-margin.md`). Equity
 * counts every position at its mark and collateral in a listed underlying at its full value
 * (its price risk is in the scenarios); other collateral keeps its haircuts. The requirement
 * is, per underlying, the largest of the worst grid loss, the weighted worst tail loss and the
 * cover floor, plus the contingency (`portfolioRequirementUp`); maintenance scales each
 * underlying's part by its `mmFactorWad`.
 */
function portfolioMargin(inputs: MarginInputs): MarginState {
  const book = collateralEquity(inputs, true);
  let { equityIM, equityMM, markValue } = book;
  let surfaceAddOn = 0n;
  for (const { seriesId, balance } of inputs.positions) {
    const { markWad, spotWad, volWad, addOnWad } = markAndSpot(
      seriesId,
      underlyingOf(inputs, seriesId),
      inputs.timestamp,
      balance > 0n,
    );
    // spotWad == 0: a posted settlement price has fixed the payoff.
    book.positions.push({ seriesId, balance, markWad, volWad, atRisk: spotWad !== 0n });
    const value = positionValue(balance, markWad);
    equityIM += value;
    equityMM += value;
    markValue += value;
    // The confidence add-on of the shorts (0 off the surface), as in standard margin.
    surfaceAddOn += positionRequirementUp(balance, addOnWad);
  }
  // The engine walks every listed underlying; only those held or with a position at risk
  // need anything, and the sums are exact, so the order is immaterial (kept ascending).
  const indices = new Set<number>(book.held.keys());
  for (const p of book.positions) if (p.atRisk) indices.add(decodeSeries(p.seriesId).underlyingIndex);
  let requirementIM = 0n;
  let requirementMM = 0n;
  for (const u of [...indices].sort((a, b) => a - b)) {
    const requirement = underlyingRequirement(u, book, inputs);
    if (requirement === 0n) continue;
    requirementIM += requirement;
    requirementMM += mulWadUp(requirement, portfolioParamsOf(inputs, u).mmFactorWad);
  }
  const shorts = new Map<number, bigint>();
  for (const { seriesId, balance, atRisk } of book.positions) {
    if (!atRisk || balance >= 0n) continue;
    const u = decodeSeries(seriesId).underlyingIndex;
    shorts.set(u, (shorts.get(u) ?? 0n) - balance);
  }
  const addOn = concentrationAddOn(shorts, inputs);
  requirementIM += addOn.initialWad + surfaceAddOn;
  requirementMM += addOn.maintenanceWad + surfaceAddOn;
  const state = { equityIM, equityMM, requirementIM, requirementMM, markValue, health: Health.HEALTHY as Health };
  state.health = health(state);
  return state;
}

/** A portfolio account as its requirement needs it (`MarginEngine.PortfolioBook`). */
interface PortfolioBook {
  positions: { seriesId: bigint; balance: bigint; markWad: bigint; volWad: bigint; atRisk: boolean }[];
  /** Collateral held in each listed underlying: native units and decimals. */
  held: Map<number, { tokens: bigint; decimals: number }>;
}

/**
 * Collateral plus signed cash, as `MarginEngine._collateralEquity`: equity with initial and
 * with maintenance haircuts, and the mark-to-market value with none. For a portfolio account,
 * collateral in a listed underlying counts at full value, priced at the underlying's spot, and
 * is recorded for the scenarios; every other asset keeps its haircuts. (On chain a standard
 * account's underlying collateral is also priced through the underlying's cached spot, the
 * same oracle read as `priceWad`.)
 */
function collateralEquity(
  inputs: MarginInputs,
  portfolio: boolean,
): PortfolioBook & { equityIM: bigint; equityMM: bigint; markValue: bigint } {
  const cashWad = toWadDown(inputs.cash, inputs.cashDecimals);
  let equityIM = cashWad;
  let equityMM = cashWad;
  let markValue = cashWad;
  const held = new Map<number, { tokens: bigint; decimals: number }>();
  for (const c of inputs.collateral) {
    // Delisted or unpriceable collateral counts as zero (`MarginEngine._collateralValue`).
    if (c.amount === 0n || c.delisted === true) continue;
    const u = portfolio ? (c.underlyingIndex ?? 0) : 0;
    const price = u === 0 ? c.priceWad : underlyingAt(inputs, u).spotWad;
    if (price === 0n) continue;
    const value = tokenValueDown(c.amount, c.decimals, price);
    markValue += value;
    if (u !== 0) {
      held.set(u, { tokens: c.amount, decimals: c.decimals });
      equityIM += value;
      equityMM += value;
    } else {
      equityIM += applyHaircutDown(value, c.initialHaircutWad);
      equityMM += applyHaircutDown(value, c.maintenanceHaircutWad);
    }
  }
  return { equityIM, equityMM, markValue, held, positions: [] };
}

/**
 * The portfolio requirement of underlying `u`, as `MarginEngine._underlyingRequirement`; 0 if
 * the account has nothing at risk on it.
 */
function underlyingRequirement(u: number, book: PortfolioBook, inputs: MarginInputs): bigint {
  const heldTokens = book.held.get(u)?.tokens ?? 0n;
  const heldDecimals = book.held.get(u)?.decimals ?? 0;
  let any = heldTokens !== 0n;
  for (let i = 0; i < book.positions.length && !any; i++) {
    const p = book.positions[i]!;
    any = p.atRisk && decodeSeries(p.seriesId).underlyingIndex === u;
  }
  if (!any) return 0n;
  const underlying = underlyingAt(inputs, u);
  const params = portfolioParamsOf(inputs, u);
  // The on-chain book: the at-risk positions on `u`, in position order (`PortfolioManager.Book`).
  const positions = book.positions.filter((p) => p.atRisk && decodeSeries(p.seriesId).underlyingIndex === u);
  return portfolioRequirementUp(
    underlying.spotWad,
    heldTokens,
    heldDecimals,
    positions,
    params,
    underlying.params,
    inputs.timestamp,
  );
}

/**
 * The initial portfolio requirement of one underlying's book, rounded up, as
 * `PortfolioManager._underlyingRequirementUp`: `max(worst grid loss, tailWeight × worst tail loss, cover
 * floor) + contingency`. Each position is shocked at its own mark's vol (`markAndSpot`'s `volWad`);
 * a book of shorts alone, or of longs alone, is priced in the one vol column that decides it
 * (`columnsToPrice`), and any other book in each position's bounding column first and in full only
 * in the spot rows that could raise the requirement (`startStages`).
 *
 * @example
 * const req = portfolioRequirementUp(spot, 0n, 18, [{ seriesId, balance: -WAD, markWad, volWad }], params, risk, now);
 */
export function portfolioRequirementUp(
  spotWad: bigint,
  heldTokens: bigint,
  heldDecimals: number,
  positions: readonly { seriesId: bigint; balance: bigint; markWad: bigint; volWad: bigint }[],
  params: PortfolioParams,
  standard: RiskParams,
  timestamp: bigint,
): bigint {
  // Only the vol columns the book needs priced (`PortfolioMath.columnsToPrice`).
  const columns = columnsToPrice(
    positions.map((p) => p.balance),
    params.volShocksWad,
    params.skewShocksWad ?? [],
  );
  const grid = newGrid(
    spotWad,
    params.spotShocksWad,
    columns.volShocksWad,
    params.tailShocksWad ?? [],
    columns.skewShocksWad,
  );
  let shorts = 0n;
  const perContract = positions.map(({ seriesId, balance }) => {
    if (balance >= 0n) return 0n;
    shorts += -balance;
    const { isCall, strikeWad } = decodeSeries(seriesId);
    return shortRequirementUp(isCall, spotWad, strikeWad, standard.aIM, standard.bIM);
  });
  const floor = coverFloorUp(
    positions.map((p) => p.seriesId),
    positions.map((p) => p.balance),
    perContract,
    tokensToWad(heldTokens, heldDecimals),
  );
  // Each position in its other columns only in the rows that could raise the requirement (`PortfolioMath.startStages`).
  const staged = startStages(grid);
  if (heldTokens !== 0n) addCollateral(grid, heldTokens, heldDecimals);
  const addBook = (): void => {
    for (const p of positions) addPosition(grid, p.seriesId, p.balance, p.markWad, p.volWad, timestamp);
  };
  addBook();
  const tail = mulWadUp(worstTailLoss(grid), params.tailWeightWad ?? 0n);
  let requirement = tail > floor ? tail : floor;
  if (staged && pruneRows(grid, requirement)) addBook();
  const worst = worstLoss(grid);
  if (worst > requirement) requirement = worst;
  return requirement + contingencyUp(shorts, spotWad, params.contingencyWad);
}

/**
 * The concentration add-on of a book in any margin mode, as
 * `PortfolioManager.concentrationAddOnUp`: `shorts` holds the gross short contracts of unsettled
 * series by underlying index; the initial add-on is the sum over underlyings of
 * `concentrationAddOnUp` at each one's spot, maintenance half of it, rounded up.
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * const { initialWad, maintenanceWad } = concentrationAddOn(new Map([[2, 3n * WAD]]), inputs);
 * initialWad === 0n && maintenanceWad === 0n; // off by default
 */
export function concentrationAddOn(
  shorts: ReadonlyMap<number, bigint>,
  inputs: Pick<MarginInputs, "underlyings">,
): { initialWad: bigint; maintenanceWad: bigint } {
  let initialWad = 0n;
  for (const [u, q] of shorts) {
    const params = inputs.underlyings.get(u)?.concentration;
    if (params === undefined || q === 0n) continue;
    initialWad += concentrationAddOnUp(
      q,
      underlyingAt(inputs, u).spotWad,
      params.kappaWad,
      params.liquidityWad,
      params.maxRatioWad,
    );
  }
  return { initialWad, maintenanceWad: mulWadUp(initialWad, CONCENTRATION_MAINTENANCE_SHARE) };
}

function underlyingAt(inputs: Pick<MarginInputs, "underlyings">, index: number): UnderlyingInput {
  const underlying = inputs.underlyings.get(index);
  if (underlying === undefined) throw new Error(`no inputs for underlying ${index}`);
  return underlying;
}

function underlyingOf(inputs: MarginInputs, seriesId: bigint): UnderlyingInput {
  return underlyingAt(inputs, decodeSeries(seriesId).underlyingIndex);
}

function portfolioParamsOf(inputs: MarginInputs, index: number): PortfolioParams {
  const params = underlyingAt(inputs, index).portfolio;
  if (params === undefined) throw new Error(`no portfolio parameters for underlying ${index}`);
  return params;
}

/**
 * The health classification of `MarginEngine._health`.
 *
 * @example
 * health({ equityIM: 1n, equityMM: 1n, requirementIM: 0n, requirementMM: 0n }) === Health.HEALTHY;
 */
export function health(state: Pick<MarginState, "equityIM" | "equityMM" | "requirementIM" | "requirementMM">): Health {
  if (state.equityMM < 0n) return Health.INSOLVENT;
  if (state.equityMM < state.requirementMM) return Health.LIQUIDATABLE;
  if (state.equityIM < state.requirementIM) return Health.MARGIN_CALL;
  return Health.HEALTHY;
}

/** The name of a `Health` value, as `IMarginEngine.Health` spells it. */
export type HealthName = keyof typeof Health;

/**
 * The name of a health value (`IMarginEngine.Health`), for logs and pages.
 *
 * @example
 * healthName(Health.LIQUIDATABLE) === "LIQUIDATABLE";
 */
export function healthName(value: Health): HealthName {
  const names: Record<Health, HealthName> = {
    [Health.HEALTHY]: "HEALTHY",
    [Health.MARGIN_CALL]: "MARGIN_CALL",
    [Health.LIQUIDATABLE]: "LIQUIDATABLE",
    [Health.INSOLVENT]: "INSOLVENT",
  };
  return names[value];
}
