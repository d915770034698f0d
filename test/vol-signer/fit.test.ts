import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type SviParams,
  callPrice,
  isVolSurfaceInputQuantized,
  putPrice,
  sviCheckAdmissible,
  sviVol,
} from "../../packages/sdk/src/index.js";
import {
  type Quote,
  VolSignerError,
  buildPost,
  crashQuotes,
  crashSmileLevels,
  crashSmileVolAtDelta,
} from "../../packages/vol-signer/src/index.js";
import { NOW, WAD, WETH, expiryIn, num, seeded, sviQuotes, wad } from "./helpers.js";

/** Known smiles: mild, steep put skew with negative a, short-dated narrow. */
const TRUTHS: { name: string; days: number; p: SviParams }[] = [
  { name: "mild", days: 30, p: { a: wad(0.02), b: wad(0.1), rho: wad(-0.3), m: wad(0.01), sigma: wad(0.2) } },
  {
    name: "steep put skew, a < 0",
    days: 60,
    p: { a: wad(-0.01), b: wad(0.25), rho: wad(-0.6), m: wad(0.05), sigma: wad(0.3) },
  },
  {
    name: "short, narrow",
    days: 7,
    p: { a: wad(0.004), b: wad(0.05), rho: wad(-0.4), m: wad(-0.02), sigma: wad(0.08) },
  },
];

/** Recovery tolerance of every parameter on exact quotes (stated in the README). */
const RECOVERY_TOLERANCE = 1e-6;

describe("vol-signer fit: synthetic quotes from known SVI parameters", () => {
  for (const { name, days, p } of TRUTHS) {
    it(`recovers ${name} from exact IV quotes within ${RECOVERY_TOLERANCE}`, () => {
      const expiry = expiryIn(NOW, days);
      const { post, fits } = buildPost(sviQuotes({ truth: p, now: NOW, expiry }), { nowSeconds: NOW });
      const got = post.surfaces[0]!;
      for (const key of ["a", "b", "rho", "m", "sigma"] as const) {
        const error = Math.abs(num(got[key]) - num(p[key]));
        assert.ok(error <= RECOVERY_TOLERANCE, `${key}: ${num(got[key])} vs ${num(p[key])} (error ${error})`);
      }
      console.log(`    ${name}: worst vol error ${(fits[0]!.maxErrorVol * 1e4).toExponential(2)} bp`);
      assert.ok(fits[0]!.maxErrorVol < 1e-7);
    });
  }

  it("recovers a smile from call and put price quotes (inverted on the SDK's Black–Scholes)", () => {
    const { p, days } = TRUTHS[0]!;
    const expiry = expiryIn(NOW, days);
    const seconds = expiry - NOW;
    const quotes: Quote[] = sviQuotes({ truth: p, now: NOW, expiry }).map((q, i) => {
      const vol = sviVol(p, q.spotWad, q.strikeWad, seconds);
      const isCall = q.strikeWad >= q.spotWad;
      const price = (isCall ? callPrice : putPrice)(q.spotWad, q.strikeWad, seconds, vol);
      // A bid–ask of ±0.5 % of the price around the model price.
      return {
        ...q,
        source: `price:${i}`,
        kind: "price",
        isCall,
        bidWad: (price * 995n) / 1000n,
        askWad: (price * 1005n) / 1000n,
      };
    });
    const { post, fits } = buildPost(quotes, { nowSeconds: NOW });
    for (const key of ["a", "b", "rho", "m", "sigma"] as const) {
      assert.ok(Math.abs(num(post.surfaces[0]![key]) - num(p[key])) < 1e-3, key);
    }
    assert.ok(fits[0]!.maxErrorVol < 1e-3, `max error ${fits[0]!.maxErrorVol}`);
  });
});

describe("vol-signer fit: noisy quotes (seeded)", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: ±1 vol point noise, 2-point spreads: admissible, within 1 vol point of the truth`, () => {
      const { p, days } = TRUTHS[seed % TRUTHS.length]!;
      const expiry = expiryIn(NOW, days);
      const random = seeded(seed);
      const quotes = sviQuotes({ truth: p, now: NOW, expiry, spread: 0.02, noise: () => (random() * 2 - 1) * 0.01 });
      const { post, fits } = buildPost(quotes, { nowSeconds: NOW });
      const got = post.surfaces[0]!;
      sviCheckAdmissible(got);
      let worst = 0;
      for (const q of quotes) {
        const truth = num(sviVol(p, q.spotWad, q.strikeWad, expiry - NOW));
        worst = Math.max(worst, Math.abs(num(sviVol(got, q.spotWad, q.strikeWad, expiry - NOW)) - truth));
      }
      console.log(
        `    seed ${seed}: fit RMSE ${(fits[0]!.rmseVol * 100).toFixed(3)} vol pts, worst miss of the truth ${(worst * 100).toFixed(3)} vol pts`,
      );
      assert.ok(worst < 0.01, `worst ${worst}`);
    });
  }
});

describe("vol-signer fit: arbitrage in the quotes is repaired or refused, readably", () => {
  const expiry = expiryIn(NOW, 30);
  const T = 30 / 365;
  const volQuotes = (volAt: (k: number) => number, ks: number[]): Quote[] =>
    ks.map((k, i) => ({
      source: `arb.csv:${i + 2}`,
      underlying: WETH,
      expiry,
      strikeWad: wad(2000 * Math.exp(k)),
      spotWad: wad(2000),
      kind: "iv",
      bidWad: wad(volAt(k) - 0.005),
      askWad: wad(volAt(k) + 0.005),
    }));
  const ks = [-1.2, -0.9, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.9, 1.2];
  // Total variance with wings of slope 3 in k: steeper than Lee's moment bound (2).
  const steep = (k: number) => Math.sqrt((0.01 + 3 * Math.abs(k)) / T);

  it("wings steeper than Lee's bound: refused by default (the best admissible smile misses by too much)", () => {
    assert.throws(
      () => buildPost(volQuotes(steep, ks), { nowSeconds: NOW }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        /misses the quotes by .* vol RMS .* not an arbitrage-free smile, nothing posted/.test(e.message) &&
        !e.message.includes("\n"),
    );
  });

  it("wings steeper than Lee's bound with a looser --max-rmse: repaired to b·(1 + |ρ|) ≤ 2", () => {
    const { post } = buildPost(volQuotes(steep, ks), { nowSeconds: NOW, maxRmseVol: 10 });
    const s = post.surfaces[0]!;
    sviCheckAdmissible(s);
    assert.ok(isVolSurfaceInputQuantized(s), "on the oracle's quantum");
    const absRho = s.rho < 0n ? -s.rho : s.rho;
    assert.ok(s.b * (WAD + absRho) <= 2n * WAD * WAD);
    assert.ok(num(s.b) * (1 + Math.abs(num(s.rho))) > 1.99, "the wing sits on the bound");
  });

  it("every surface is on the oracle's quantum; the confidence is rounded down to 1e-9", () => {
    const { post } = buildPost(volQuotes(steep, ks), {
      nowSeconds: NOW,
      maxRmseVol: 10,
      confidenceWad: 123_456_789_987_654_321n,
    });
    for (const s of post.surfaces) {
      assert.ok(isVolSurfaceInputQuantized(s));
      assert.equal(s.confidence, 123_456_789_000_000_000n);
    }
  });

  it("one quote 30 vol points off the smile (a butterfly arbitrage): repaired, the outlier left outside its spread", () => {
    const { p } = TRUTHS[0]!;
    const quotes = sviQuotes({ truth: p, now: NOW, expiry, spread: 0.01, noise: (i) => (i === 4 ? 0.3 : 0) });
    const { post, fits } = buildPost(quotes, { nowSeconds: NOW, maxRmseVol: 0.2 });
    sviCheckAdmissible(post.surfaces[0]!);
    assert.ok(fits[0]!.outsideSpread >= 1);
  });

  it("calendar arbitrage between two expiries: refused naming both", () => {
    const longer = expiryIn(NOW, 60);
    const quotes = [
      ...volQuotes(() => 1.0, ks.slice(2, 9)),
      ...volQuotes(() => 0.3, ks.slice(2, 9)).map((q) => ({ ...q, expiry: longer })),
    ];
    assert.throws(
      () => buildPost(quotes, { nowSeconds: NOW }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        /^calendar arbitrage between .*Z and .*Z: The longer expiry's .*; nothing posted$/.test(e.message),
    );
  });

  it("a price quote below intrinsic value: refused naming the row", () => {
    const q: Quote[] = sviQuotes({ truth: TRUTHS[0]!.p, now: NOW, expiry });
    q[0] = { ...q[0]!, source: "arb.csv:2", kind: "price", isCall: true, bidWad: 1n, askWad: 2n * WAD };
    assert.throws(
      () => buildPost(q, { nowSeconds: NOW }),
      (e: unknown) => e instanceof VolSignerError && /^arb.csv:2: the ask 2 is below .* an arbitrage$/.test(e.message),
    );
  });

  it("too few strikes, or an expiry off the series grid: refused", () => {
    const few = sviQuotes({ truth: TRUTHS[0]!.p, now: NOW, expiry, ks: [-0.1, 0, 0.1, 0.2] });
    assert.throws(() => buildPost(few, { nowSeconds: NOW }), /4 strikes with a two-sided quote .* at least 5/);
    const offGrid = sviQuotes({ truth: TRUTHS[0]!.p, now: NOW, expiry }).map((q) => ({ ...q, expiry: expiry + 3600n }));
    assert.throws(() => buildPost(offGrid, { nowSeconds: NOW }), /is not on the series grid/);
  });
});

describe("vol-signer crash smile (March 2020 shape)", () => {
  it("ATM vol 60 % → 150 % and the 25-delta risk reversal −5 → −25 points as the price halves", () => {
    const calm = crashSmileLevels(2000, 2000);
    const crash = crashSmileLevels(1000, 2000);
    assert.equal(calm.atmVol, 0.6);
    assert.equal(crash.atmVol, 1.5);
    const rr = (l: typeof calm) => crashSmileVolAtDelta(l, 0.25) - crashSmileVolAtDelta(l, 0.75);
    assert.ok(Math.abs(rr(calm) + 0.05) < 1e-12 && Math.abs(rr(crash) + 0.25) < 1e-12);
    assert.ok(Math.abs(crashSmileLevels(1500, 2000).atmVol - 1.05) < 1e-12, "linear in the drawdown");
    assert.equal(crashSmileLevels(3000, 2000).atmVol, 0.6, "no drawdown above the peak");
  });

  for (const spot of [2000, 1600, 1300, 1000]) {
    it(`spot ${spot} of a 2000 peak: five expiries fit admissibly, calendar-free, ATM and RR within 2 vol points`, () => {
      const expiries = [7, 14, 30, 60, 90].map((d) => expiryIn(NOW, d));
      const quotes = crashQuotes({ underlying: WETH, spot, peakSpot: 2000, nowSeconds: NOW, expiries });
      const { post, fits } = buildPost(quotes, { nowSeconds: NOW });
      const levels = crashSmileLevels(spot, 2000);
      for (const [i, s] of post.surfaces.entries()) {
        const at = (delta: number) => {
          const q = quotes.find((x) => x.expiry === s.expiry && x.source.endsWith(`Δ${delta}`))!;
          return num(sviVol(s, q.spotWad, q.strikeWad, s.expiry - NOW));
        };
        const rr = at(0.25) - at(0.75);
        assert.ok(Math.abs(at(0.5) - levels.atmVol) < 0.02, `ATM ${at(0.5)} vs ${levels.atmVol}`);
        assert.ok(Math.abs(rr - levels.riskReversal) < 0.02, `RR ${rr} vs ${levels.riskReversal}`);
        if (i === 2)
          console.log(
            `    spot ${spot}: 30-day ATM ${(at(0.5) * 100).toFixed(1)} %, RR25 ${(rr * 100).toFixed(1)} pts, fit RMSE ${(fits[i]!.rmseVol * 100).toFixed(2)} pts`,
          );
      }
    });
  }
});
