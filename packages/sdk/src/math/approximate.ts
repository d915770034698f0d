import { decodeSeries } from "./series.js";
import { type MarginInputs, MarginMode, type UnderlyingInput, concentrationAddOn } from "./engine.js";
import { shortRequirementUp } from "./marginMath.js";
import { MAX_SKEWED_VOL, coverFloorUp, tokensToWad } from "./portfolioMath.js";

const SECONDS_PER_YEAR = 365 * 86_400;
const WAD = 1e18;

/** erf to ~1.5e-7 (Abramowitz & Stegun 7.1.26): plenty to rank, never to settle money. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

/** Black–Scholes (r = 0) in float64, for ranking only. */
function bsFloat(isCall: boolean, spot: number, strike: number, seconds: number, vol: number): number {
  const intrinsicCall = Math.max(spot - strike, 0);
  if (seconds <= 0 || vol <= 0) return isCall ? intrinsicCall : Math.max(strike - spot, 0);
  const sd = vol * Math.sqrt(seconds / SECONDS_PER_YEAR);
  const d1 = (Math.log(spot / strike) + 0.5 * sd * sd) / sd;
  const call = spot * cdf(d1) - strike * cdf(d1 - sd);
  return isCall ? Math.max(call, intrinsicCall) : Math.max(call - spot + strike, Math.max(strike - spot, 0));
}

/**
 * A fast float64 estimate of an account's excess over maintenance margin
 * (`equityMM − requirementMM`, in USD) and of its requirement, for ranking thousands of
 * accounts by distance to liquidation. It follows `accountMargin` step for step but in
 * floating point: good to a few parts per million, never exact. Confirm any decision
 * with the exact `accountMargin` or the engine's batch view.
 *
 * Portfolio accounts (`inputs.mode === MarginMode.PORTFOLIO`) get the same scenario grid in
 * float64 (see `approximatePortfolio`), not the exact bigint math: their exact valuation prices
 * every position in every scenario (up to 64 × 45 Black–Scholes evaluations), far too slow to
 * rank thousands of accounts each block, and the float grid keeps the ranking's error at the
 * same few parts per million.
 *
 * @example
 * // Rank accounts by distance to liquidation; confirm the closest with the exact `accountMargin`.
 * const accounts = [taker, maker, bidderAccount];
 * const inputs = await Promise.all(accounts.map((a) => getMarginInputs(publicClient, { addressBook, account: a })));
 * const ranked = accounts
 *   .map((a, i) => ({ account: a, ...approximateMaintenance(inputs[i]) }))
 *   .sort((x, y) => x.excessMM / (x.requirementMM || 1) - y.excessMM / (y.requirementMM || 1));
 * ranked[0].account === maker; // the only one short calls
 */
export function approximateMaintenance(inputs: MarginInputs): { excessMM: number; requirementMM: number } {
  if (inputs.mode === MarginMode.PORTFOLIO) return approximatePortfolio(inputs);
  let equity = Number(inputs.cash) / 10 ** inputs.cashDecimals;
  for (const c of inputs.collateral) {
    // Delisted or unpriceable (priceWad 0) collateral counts as zero, as on chain.
    if (c.amount === 0n || c.delisted === true) continue;
    equity +=
      (Number(c.amount) / 10 ** c.decimals) * (Number(c.priceWad) / WAD) * (1 - Number(c.maintenanceHaircutWad) / WAD);
  }
  let requirement = 0;
  const now = Number(inputs.timestamp);
  const shorts = new Map<number, bigint>();
  for (const { seriesId, balance } of inputs.positions) {
    const { underlyingIndex, expiry, isCall, strikeWad } = decodeSeries(seriesId);
    const u = inputs.underlyings.get(underlyingIndex);
    if (u === undefined) throw new Error(`no inputs for underlying ${underlyingIndex}`);
    const size = Number(balance) / WAD;
    const strike = Number(strikeWad) / WAD;
    const settlement = now >= Number(expiry) ? u.settlementPrices?.get(expiry) : undefined;
    const spot = Number(settlement ?? u.spotWad) / WAD;
    const mark = bsFloat(isCall, spot, strike, Number(expiry) - now, Number(u.volWad) / WAD);
    equity += size * mark;
    if (size >= 0 || settlement !== undefined) continue;
    if (u.concentration?.kappaWad) shorts.set(underlyingIndex, (shorts.get(underlyingIndex) ?? 0n) - balance);
    const otm = isCall ? Math.max(strike - spot, 0) : Math.max(spot - strike, 0);
    const a = Number(u.params.aMM) / WAD;
    const b = Number(u.params.bMM) / WAD;
    requirement += -size * Math.max(a * spot - otm, b * (isCall ? spot : strike));
  }
  // The concentration add-on is a handful of exact multiplications: no need to approximate it.
  if (shorts.size !== 0) requirement += Number(concentrationAddOn(shorts, inputs).maintenanceWad) / WAD;
  return { excessMM: equity - requirement, requirementMM: requirement };
}

/** Mark and risk of one position in float64, as `markAndSpot`: at risk unless a settlement is posted. */
function floatPosition(seriesId: bigint, balance: bigint, u: UnderlyingInput, now: number) {
  const { expiry, isCall, strikeWad } = decodeSeries(seriesId);
  const strike = Number(strikeWad) / WAD;
  const settlement = now >= Number(expiry) ? u.settlementPrices?.get(expiry) : undefined;
  const spot = Number(settlement ?? u.spotWad) / WAD;
  const seconds = Number(expiry) - now;
  return {
    isCall,
    strike,
    seconds,
    seriesId,
    balance,
    size: Number(balance) / WAD,
    mark: bsFloat(isCall, spot, strike, seconds, Number(u.volWad) / WAD),
    atRisk: settlement === undefined,
  };
}

/**
 * The portfolio-margin counterpart of `approximateMaintenance`, in float64: equity counts
 * positions at mark and collateral in a listed underlying at full value (others after the
 * maintenance haircut); per underlying, the worst loss over the spot × vol grid or the weighted
 * worst tail loss, floored by the exact cover floor (no Black–Scholes in it, so it is cheap), plus
 * the contingency, times `mmFactorWad`. Delisted or unpriceable collateral counts as zero. It follows
 * `accountMargin`'s portfolio path step for step; for ranking only.
 *
 * @example
 * // Would the account have more room under portfolio margin?
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * const { excessMM } = approximatePortfolio({ ...inputs, mode: MarginMode.PORTFOLIO });
 * const exact = accountMargin({ ...inputs, mode: MarginMode.PORTFOLIO });
 * Math.abs(excessMM - Number(exact.equityMM - exact.requirementMM) / 1e18) < 0.01; // true: within a cent
 */
export function approximatePortfolio(inputs: MarginInputs): { excessMM: number; requirementMM: number } {
  const now = Number(inputs.timestamp);
  const underlying = (index: number): UnderlyingInput => {
    const u = inputs.underlyings.get(index);
    if (u === undefined) throw new Error(`no inputs for underlying ${index}`);
    return u;
  };
  let equity = Number(inputs.cash) / 10 ** inputs.cashDecimals;
  const held = new Map<number, number>();
  const heldExact = new Map<number, bigint>();
  for (const c of inputs.collateral) {
    if (c.amount === 0n || c.delisted === true) continue;
    const tokens = Number(c.amount) / 10 ** c.decimals;
    if (c.underlyingIndex !== undefined && c.underlyingIndex !== 0) {
      if (underlying(c.underlyingIndex).spotWad === 0n) continue;
      held.set(c.underlyingIndex, tokens);
      heldExact.set(c.underlyingIndex, tokensToWad(c.amount, c.decimals));
      equity += (tokens * Number(underlying(c.underlyingIndex).spotWad)) / WAD;
    } else {
      equity += tokens * (Number(c.priceWad) / WAD) * (1 - Number(c.maintenanceHaircutWad) / WAD);
    }
  }
  const byUnderlying = new Map<number, ReturnType<typeof floatPosition>[]>();
  for (const [index] of held) byUnderlying.set(index, []);
  for (const { seriesId, balance } of inputs.positions) {
    const index = decodeSeries(seriesId).underlyingIndex;
    const p = floatPosition(seriesId, balance, underlying(index), now);
    equity += p.size * p.mark;
    if (!p.atRisk) continue;
    const list = byUnderlying.get(index) ?? [];
    list.push(p);
    byUnderlying.set(index, list);
  }
  let requirement = 0;
  for (const [index, positions] of byUnderlying) {
    const u = underlying(index);
    const params = u.portfolio;
    if (params === undefined) throw new Error(`no portfolio parameters for underlying ${index}`);
    const spot = Number(u.spotWad) / WAD;
    const vol = Number(u.volWad) / WAD;
    const tokens = held.get(index) ?? 0;
    // The book's profit and loss if spot moves by `shockWad` and vol becomes `shockedVol`, plus
    // `skew` × max(0, ln(S/K)) for short strikes below spot (capped at 300 %, as on chain; longs
    // keep the parallel shift alone, review rv21 K1).
    const pnlAt = (shockWad: bigint, shockedVol: number, skew = 0): number => {
      const shocked = spot * (1 + Number(shockWad) / WAD);
      let pnl = tokens * (shocked - spot);
      for (const p of positions) {
        const price =
          p.seconds <= 0
            ? p.isCall
              ? Math.max(shocked - p.strike, 0)
              : Math.max(p.strike - shocked, 0)
            : bsFloat(
                p.isCall,
                shocked,
                p.strike,
                p.seconds,
                shockedVol +
                  Math.min(
                    p.size < 0 ? skew * Math.max(0, Math.log(spot / p.strike)) : 0,
                    Math.max(0, Number(MAX_SKEWED_VOL) / WAD - shockedVol),
                  ),
              );
        pnl += p.size * (price - p.mark);
      }
      return pnl;
    };
    let worst = 0;
    for (const shockWad of params.spotShocksWad) {
      params.volShocksWad.forEach((volShockWad, j) => {
        const skew = Number(params.skewShocksWad?.[j] ?? 0n) / WAD;
        worst = Math.max(worst, -pnlAt(shockWad, (vol * Number(volShockWad)) / WAD, skew));
      });
    }
    const weight = Number(params.tailWeightWad ?? 0n) / WAD;
    for (const shockWad of params.tailShocksWad ?? []) {
      worst = Math.max(worst, -pnlAt(shockWad, vol) * weight);
    }
    // The cover floor, exactly as on chain, and the contingency.
    const floor =
      Number(
        coverFloorUp(
          positions.map((p) => p.seriesId),
          positions.map((p) => p.balance),
          positions.map((p) =>
            p.balance < 0n
              ? shortRequirementUp(p.isCall, u.spotWad, decodeSeries(p.seriesId).strikeWad, u.params.aIM, u.params.bIM)
              : 0n,
          ),
          heldExact.get(index) ?? 0n,
        ),
      ) / WAD;
    const tally = { shortCalls: 0, shortPuts: 0 };
    for (const p of positions) {
      if (p.size >= 0) continue;
      if (p.isCall) tally.shortCalls -= p.size;
      else tally.shortPuts -= p.size;
    }
    const contingency = (tally.shortCalls + tally.shortPuts) * spot * (Number(params.contingencyWad) / WAD);
    requirement += (Math.max(worst, floor) + contingency) * (Number(params.mmFactorWad) / WAD);
  }
  const shorts = new Map<number, bigint>();
  for (const [index, positions] of byUnderlying) {
    if (!underlying(index).concentration?.kappaWad) continue;
    for (const p of positions) if (p.balance < 0n) shorts.set(index, (shorts.get(index) ?? 0n) - p.balance);
  }
  if (shorts.size !== 0) requirement += Number(concentrationAddOn(shorts, inputs).maintenanceWad) / WAD;
  return { excessMM: equity - requirement, requirementMM: requirement };
}
