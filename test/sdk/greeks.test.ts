import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  type MarginInputs,
  type UnderlyingInput,
  accountGreeks,
  callDelta,
  gamma,
  positionGreeks,
  putDelta,
  seriesId,
  theta,
  vega,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const YEAR = 365n * 86_400n;

/** One case of `shared/vectors/black-scholes.json` (60-digit reference, WAD rounded to nearest). */
interface VectorCase {
  spot: string;
  strike: string;
  secondsToExpiry: number;
  vol: string;
  vega: string;
}
const vectors = (JSON.parse(readFileSync("/work/shared/vectors/black-scholes.json", "utf8")) as { cases: VectorCase[] })
  .cases;

/**
 * Gamma and theta from the reference vega (exact identities of Black–Scholes with zero rates):
 * Γ = vega/(S²·σ·T) and Θ = −vega·σ/(2T) per year, /365 per day; WAD, as rationals [num, den].
 */
const gammaFromVega = (v: bigint, s: bigint, vol: bigint, t: bigint): [bigint, bigint] => [
  v * 10n ** 54n * YEAR,
  s * s * vol * t,
];
const thetaFromVega = (v: bigint, vol: bigint, t: bigint): [bigint, bigint] => [-(v * vol * YEAR), WAD * 2n * t * 365n];

/** |got − num/den| ≤ tolerance, all as rationals (no rounding in the check). */
function near(got: bigint, [num, den]: [bigint, bigint], [tolNum, tolDen]: [bigint, bigint], what: string) {
  const diff = got * den - num;
  const abs = diff < 0n ? -diff : diff;
  // abs/den ≤ tolNum/tolDen
  assert.ok(abs * tolDen <= tolNum * den, `${what}: ${got} vs ${Number(num) / Number(den)}`);
}

describe("Greeks: gamma and theta (the SDK's own, analytic)", () => {
  it("equal the reference vega's gamma and theta on every vector case with a vega (491 of 1,000)", () => {
    let checked = 0;
    for (const c of vectors) {
      const [s, k, t, vol] = [BigInt(c.spot), BigInt(c.strike), BigInt(c.secondsToExpiry), BigInt(c.vol)];
      const v = BigInt(c.vega);
      const g = gamma(s, k, t, vol);
      const th = theta(s, k, t, vol);
      if (v === 0n) {
        // No time value's curvature: at expiry, zero vol, or far in a tail where vega rounds to 0.
        if (t === 0n || vol === 0n) {
          assert.equal(g, 0n);
          assert.equal(th, 0n);
        }
        continue;
      }
      // Tolerance: what the reference vega's own rounding (±0.5 wei) moves the identity by; 2 wei
      // of e^(−y1²) in WAD (the chain's expWad, which the SDK's φ(d1) is: relative error 2e-18/e,
      // large only deep in a tail where the Greek is tiny); 1e-12 of the value; 4 wei.
      const x = Number(c.spot) / Number(c.strike);
      const sd = (Number(c.vol) / 1e18) * Math.sqrt(c.secondsToExpiry / 31_536_000);
      const d1 = Math.log(x) / sd + sd / 2;
      const e = Math.exp((-d1 * d1) / 2) * 1e18;
      const rel = BigInt(Math.ceil(1e12 * (2 / e + 1e-12))); // in 1e-12
      const [gn, gd] = gammaFromVega(v, s, vol, t);
      const [gRound] = gammaFromVega(1n, s, vol, t);
      near(
        g,
        [gn, gd],
        [gRound + ((gn < 0n ? -gn : gn) * rel) / 10n ** 12n + 4n * gd, gd],
        `gamma ${JSON.stringify(c)}`,
      );
      const [tn, td] = thetaFromVega(v, vol, t);
      const [tRound] = thetaFromVega(1n, vol, t);
      const tr = tRound < 0n ? -tRound : tRound;
      near(th, [tn, td], [tr + ((tn < 0n ? -tn : tn) * rel) / 10n ** 12n + 4n * td, td], `theta ${JSON.stringify(c)}`);
      assert.ok(g >= 0n && th <= 0n);
      checked++;
    }
    assert.ok(checked > 400, `checked ${checked}`); // 491 cases have a non-zero vega
  });

  it("equal the closed form at hand-picked points (floating point, 1e-12)", () => {
    for (const [S, K, days, sigma] of [
      [2000, 2000, 30, 0.8],
      [2000, 2500, 7, 0.6],
      [66_000, 60_000, 90, 0.55],
      [1, 1.2, 1, 1.5],
      [2000, 1500, 365, 0.3],
    ] as const) {
      const T = days / 365;
      const d1 = (Math.log(S / K) + (sigma * sigma * T) / 2) / (sigma * Math.sqrt(T));
      const phi = Math.exp((-d1 * d1) / 2) / Math.sqrt(2 * Math.PI);
      const wad = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
      const args = [wad(S), wad(K), BigInt(days) * 86_400n, wad(sigma)] as const;
      const g = Number(gamma(...args)) / 1e18;
      const th = Number(theta(...args)) / 1e18;
      const wantG = phi / (S * sigma * Math.sqrt(T));
      const wantTh = -(S * phi * sigma) / (2 * Math.sqrt(T)) / 365;
      assert.ok(Math.abs(g - wantG) <= 1e-12 * Math.abs(wantG), `gamma ${S}/${K}/${days}/${sigma}: ${g} vs ${wantG}`);
      assert.ok(
        Math.abs(th - wantTh) <= 1e-12 * Math.abs(wantTh),
        `theta ${S}/${K}/${days}/${sigma}: ${th} vs ${wantTh}`,
      );
    }
  });

  it("agree with the SDK's delta and price: gamma ≈ Δdelta/ΔS, theta ≈ a day's price change", () => {
    const [S, K, t, vol] = [2000n * WAD, 2100n * WAD, 30n * 86_400n, 8n * 10n ** 17n];
    const h = S / 10_000n;
    const fd = ((callDelta(S + h, K, t, vol) - callDelta(S - h, K, t, vol)) * WAD) / (2n * h);
    const g = gamma(S, K, t, vol);
    assert.ok((fd > g ? fd - g : g - fd) * 10_000n < g, `${fd} vs ${g}`);
    // Put and call share gamma (put delta = call delta − 1).
    const fdPut = ((putDelta(S + h, K, t, vol) - putDelta(S - h, K, t, vol)) * WAD) / (2n * h);
    assert.ok((fdPut > g ? fdPut - g : g - fdPut) * 10_000n < g);
    // vega and theta: Θ·365 = −vega·σ/(2T).
    const yearTheta = theta(S, K, t, vol) * 365n;
    const fromVega = -(vega(S, K, t, vol) * vol * YEAR) / (2n * t * WAD);
    assert.ok((yearTheta > fromVega ? yearTheta - fromVega : fromVega - yearTheta) <= 10n ** 6n);
  });

  it("are 0 at expiry and zero vol, and refuse what the pricer refuses", () => {
    assert.equal(gamma(2000n * WAD, 2000n * WAD, 0n, 8n * 10n ** 17n), 0n);
    assert.equal(theta(2000n * WAD, 2000n * WAD, 86_400n, 0n), 0n);
    assert.throws(() => gamma(2n ** 120n, WAD, 86_400n, WAD), { name: "BlackScholesInputOutOfRangeError" });
    assert.throws(() => theta(WAD, WAD, 2n ** 40n, WAD), { name: "BlackScholesInputOutOfRangeError" });
  });
});

describe("Greeks per position and per account", () => {
  const now = 1_800_000_000n;
  const underlying = (spotWad: bigint, volWad: bigint) => ({ spotWad, volWad }) as unknown as UnderlyingInput;
  const btcCall = seriesId({ underlyingIndex: 2, expiry: now + 30n * 86_400n, isCall: true, strikeWad: 70_000n * WAD });
  const btcPut = seriesId({ underlyingIndex: 2, expiry: now + 7n * 86_400n, isCall: false, strikeWad: 60_000n * WAD });
  const ethCall = seriesId({ underlyingIndex: 1, expiry: now + 14n * 86_400n, isCall: true, strikeWad: 2_500n * WAD });
  const expired = seriesId({ underlyingIndex: 1, expiry: now - 1n, isCall: true, strikeWad: 2_000n * WAD });
  const inputs = {
    timestamp: now,
    positions: [
      { seriesId: btcCall, balance: 3n * WAD },
      { seriesId: btcPut, balance: -(WAD / 2n) },
      { seriesId: ethCall, balance: -7n * WAD },
      { seriesId: expired, balance: WAD },
    ],
    underlyings: new Map([
      [1, underlying(2_200n * WAD, 7n * 10n ** 17n)],
      [2, underlying(65_000n * WAD, 55n * 10n ** 16n)],
    ]),
  } as unknown as MarginInputs;

  it("is each per-contract Greek times the signed size; none once expired", () => {
    const views = positionGreeks(inputs);
    assert.equal(views.length, 4);
    for (const [i, view] of views.entries()) {
      const { seriesId: id, balance } = inputs.positions[i]!;
      assert.equal(view.seriesId, id);
      assert.equal(view.balance, balance);
    }
    const [call, put, eth, old] = views;
    const left = 30n * 86_400n;
    assert.deepEqual(call!.greeks, {
      delta: (3n * WAD * callDelta(65_000n * WAD, 70_000n * WAD, left, 55n * 10n ** 16n)) / WAD,
      gamma: (3n * WAD * gamma(65_000n * WAD, 70_000n * WAD, left, 55n * 10n ** 16n)) / WAD,
      vega: (3n * WAD * vega(65_000n * WAD, 70_000n * WAD, left, 55n * 10n ** 16n)) / WAD,
      theta: (3n * WAD * theta(65_000n * WAD, 70_000n * WAD, left, 55n * 10n ** 16n)) / WAD,
    });
    // A short put: positive delta, negative gamma and vega, positive theta (time pays the writer).
    assert.ok(put!.greeks!.delta > 0n && put!.greeks!.gamma < 0n && put!.greeks!.vega < 0n && put!.greeks!.theta > 0n);
    assert.ok(eth!.greeks!.delta < 0n && eth!.greeks!.theta > 0n);
    assert.equal(old!.greeks, undefined);
    assert.ok(old!.markWad > 0n, "an expired position keeps its mark (intrinsic at spot)");
  });

  it("adds delta and gamma per underlying, value, vega and theta over the account", () => {
    const views = positionGreeks(inputs);
    const total = accountGreeks(inputs);
    assert.deepEqual(total, accountGreeks(inputs, views));
    const [call, put, eth, old] = views;
    assert.deepEqual(total.byUnderlying.get(2), {
      delta: call!.greeks!.delta + put!.greeks!.delta,
      gamma: call!.greeks!.gamma + put!.greeks!.gamma,
    });
    assert.deepEqual(total.byUnderlying.get(1), { delta: eth!.greeks!.delta, gamma: eth!.greeks!.gamma });
    assert.equal(total.valueWad, call!.valueWad + put!.valueWad + eth!.valueWad + old!.valueWad);
    assert.equal(total.vega, call!.greeks!.vega + put!.greeks!.vega + eth!.greeks!.vega);
    assert.equal(total.theta, call!.greeks!.theta + put!.greeks!.theta + eth!.greeks!.theta);
  });
});
