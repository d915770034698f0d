import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import {
  MathError,
  type SviParams,
  callPrice,
  putPrice,
  VOL_SURFACE_PARAM_QUANTUM,
  SVI_MAX_CHANGE_TAU,
  sviAllowedChangeRatio,
  sviAllowedChangeRatioOver,
  sviCarriedConfidence,
  sviChangeElapsed,
  sviCheckAdmissible,
  sviCheckCalendar,
  sviCheckChange,
  sviLogMoneyness,
  sviTotalVariance,
  sviVolFromVariance,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

/** One reference case of `shared/vectors/svi.json`. */
interface SviCase {
  spot: string;
  strike: string;
  secondsToExpiry: number;
  a: string;
  b: string;
  rho: string;
  m: string;
  sigma: string;
  vol: string;
  call: string;
  put: string;
}

interface Input {
  p: SviParams;
  spotWad: bigint;
  strikeWad: bigint;
  secondsToExpiry: bigint;
}

const vectorsUrl = new URL("../../../shared/vectors/svi.json", import.meta.url);
const cases: SviCase[] = (JSON.parse(readFileSync(vectorsUrl, "utf8")) as { cases: SviCase[] }).cases;

const WAD = 10n ** 18n;
const CHUNK = 100;
const RANDOM_CASES = 1500;
const CHECK_CASES = 300;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** The port's outputs for one case, through its public functions (as `SviHarness.evaluate`). */
function port({ p, spotWad, strikeWad, secondsToExpiry }: Input) {
  const k = sviLogMoneyness(spotWad, strikeWad);
  const totalVariance = sviTotalVariance(p, k);
  const vol = sviVolFromVariance(totalVariance, secondsToExpiry);
  return {
    k,
    totalVariance,
    vol,
    call: callPrice(spotWad, strikeWad, secondsToExpiry, vol),
    put: putPrice(spotWad, strikeWad, secondsToExpiry, vol),
  };
}

/** The name of the error `f` throws (the Solidity name), or "ok". */
function tsOutcome(f: () => void): string {
  try {
    f();
    return "ok";
  } catch (e) {
    assert.ok(e instanceof MathError, String(e));
    return e.signature.slice(0, e.signature.indexOf("("));
  }
}

/** The custom error name a harness call reverts with, or "ok". */
async function chainOutcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (e) {
    const match = /(Svi\w+)/.exec(String(e));
    return match ? match[1]! : `unknown: ${String(e).slice(0, 200)}`;
  }
}

describe("SDK SviMath parity (TypeScript === chain, to the wei)", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("SviHarness");
  const rng = random(0x5eed_5f1n);

  /** Random smile: mostly admissible, a fifth pushed outside one bound or another. */
  const randomParams = (): SviParams => {
    const p: SviParams = {
      a: rng.range(-WAD / 2n, 2n * WAD),
      b: rng.range(0n, (19n * WAD) / 10n),
      rho: rng.range(-WAD + 1n, WAD - 1n),
      m: rng.range(-WAD / 2n, WAD / 2n),
      sigma: rng.range(1n, WAD),
    };
    const roll = rng.float();
    if (roll < 0.04) p.b = -rng.range(1n, WAD);
    else if (roll < 0.08) p.rho = (rng.float() < 0.5 ? -1n : 1n) * rng.range(WAD, 2n * WAD);
    else if (roll < 0.12) p.sigma = -rng.range(0n, WAD);
    else if (roll < 0.14) p.a = rng.range(1n << 64n, 1n << 70n);
    return p;
  };

  const vectorInputs: Input[] = cases.map((c) => ({
    p: { a: BigInt(c.a), b: BigInt(c.b), rho: BigInt(c.rho), m: BigInt(c.m), sigma: BigInt(c.sigma) },
    spotWad: BigInt(c.spot),
    strikeWad: BigInt(c.strike),
    secondsToExpiry: BigInt(c.secondsToExpiry),
  }));
  const randomInputs: Input[] = Array.from({ length: RANDOM_CASES }, () => {
    const p = randomParams();
    // In range (the harness evaluates w for any in-range parameters, admissible or not).
    if (p.a >= 1n << 64n) p.a = -p.a % (1n << 63n);
    const spotWad = rng.logUniform(WAD, 10n ** 24n);
    return {
      p,
      spotWad,
      strikeWad: (spotWad * rng.logUniform(WAD / 5n, 5n * WAD)) / WAD,
      secondsToExpiry: rng.range(1n, 2n * 365n * 86400n),
    };
  });

  type Output = ReturnType<typeof port>;
  const evaluate = async (inputs: Input[]): Promise<Output[]> => {
    const out: Output[] = [];
    for (let i = 0; i < inputs.length; i += CHUNK) {
      out.push(...(await harness.read.evaluate([inputs.slice(i, i + CHUNK)])));
    }
    return out;
  };

  let chainVectors: Output[] = [];
  let chainRandom: Output[] = [];
  before(async () => {
    chainVectors = await evaluate(vectorInputs);
    chainRandom = await evaluate(randomInputs);
  });

  const assertParity = (inputs: Input[], chain: () => Output[]) => () => {
    const results = chain();
    assert.equal(results.length, inputs.length);
    const mismatches: string[] = [];
    inputs.forEach((input, i) => {
      const ts = port(input);
      for (const name of ["k", "totalVariance", "vol", "call", "put"] as const) {
        if (ts[name] !== results[i]![name])
          mismatches.push(`#${i} ${name}: ts ${ts[name]}, chain ${results[i]![name]}`);
      }
    });
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
  };

  it(
    "all 1000 svi.json vectors: k, w, vol, call and put equal",
    assertParity(vectorInputs, () => chainVectors),
  );
  it(
    `${RANDOM_CASES} seeded random smiles (admissible or not): equal`,
    assertParity(randomInputs, () => chainRandom),
  );

  it("the port meets the vectors' accuracy bound (vol 1e-12 relative; prices 1e-12·S + 1e-10·P)", () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const ts = port(vectorInputs[i]!);
      const vref = BigInt(c.vol);
      if (abs(ts.vol - vref) > vref / 10n ** 12n) failures.push(`#${i} vol ${ts.vol} vs ${vref}`);
      for (const name of ["call", "put"] as const) {
        const ref = BigInt(c[name]);
        if (abs(ts[name] - ref) > BigInt(c.spot) / 10n ** 12n + ref / 10n ** 10n)
          failures.push(`#${i} ${name} ${ts[name]} vs ${ref}`);
      }
    });
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} out of bounds`);
  });

  it(`${CHECK_CASES} random smiles: admissibility check throws exactly what the chain reverts with`, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < CHECK_CASES; i++) {
      const p = randomParams();
      const ts = tsOutcome(() => sviCheckAdmissible(p));
      const chain = await chainOutcome(harness.read.checkAdmissible([p]));
      assert.equal(
        ts,
        chain,
        JSON.stringify(p, (_, v) => String(v)),
      );
      seen.add(ts);
    }
    for (const name of ["ok", "SviNegativeB", "SviRhoOutOfRange", "SviNonPositiveSigma", "SviNegativeVariance"])
      assert.ok(seen.has(name), `no case hit ${name}: ${[...seen].join(", ")}`);
  });

  /** A random admissible smile: b, σ across their ranges, a at or above its minimum. */
  const admissible = (): SviParams => {
    const rho = rng.range(-(95n * WAD) / 100n, (95n * WAD) / 100n);
    const b = rng.range(0n, (((19n * WAD) / 10n) * WAD) / (WAD + abs(rho)));
    const sigma = rng.logUniform(WAD / 1000n, WAD);
    const sqrtOneMinusRho2 = BigInt(Math.floor(Math.sqrt(Number((WAD - rho) * (WAD + rho)) / 1e36) * 1e18));
    const floor = -(((b * sigma) / WAD) * sqrtOneMinusRho2) / WAD;
    return { a: floor + rng.range(0n, WAD / 5n), b, rho, m: rng.range(-WAD / 2n, WAD / 2n), sigma };
  };
  /** A second smile near `p`: every parameter moved a little, some a lot, kept admissible. */
  const near = (p: SviParams): SviParams => {
    const scale = (x: bigint, lo: bigint, hi: bigint) => (x * rng.range(lo, hi)) / 1000n;
    for (;;) {
      const q: SviParams = {
        a: scale(p.a, 900n, 1300n) + rng.range(-WAD / 100n, WAD / 50n),
        b: scale(p.b, 850n, 1400n),
        rho: p.rho + rng.range(-WAD / 10n, WAD / 10n),
        m: p.m + rng.range(-WAD / 20n, WAD / 20n),
        sigma: scale(p.sigma, 800n, 1250n) + 1n,
      };
      if (tsOutcome(() => sviCheckAdmissible(q)) === "ok") return q;
    }
  };

  /** The error a check throws, name and arguments, or "ok". */
  const tsFull = (f: () => void): string => {
    try {
      f();
      return "ok";
    } catch (e) {
      assert.ok(e instanceof MathError, String(e));
      return `${e.signature.slice(0, e.signature.indexOf("("))}(${e.args.join(",")})`;
    }
  };
  const chainFull = async (call: Promise<unknown>): Promise<string> => {
    try {
      await call;
      return "ok";
    } catch (e) {
      let cause: unknown = e;
      while (cause && typeof cause === "object") {
        const data = (cause as { data?: { errorName?: string; args?: readonly unknown[] } }).data;
        // A bool argument (the wing) is 1n / 0n in the SDK's `args`.
        const args = (data?.args ?? []).map((x) => (typeof x === "boolean" ? (x ? 1n : 0n) : x));
        if (data?.errorName) return `${data.errorName}(${args.join(",")})`;
        cause = (cause as { cause?: unknown }).cause;
      }
      return `unknown: ${String(e).slice(0, 200)}`;
    }
  };

  it(`${CHECK_CASES} random nearby pairs: calendar and change checks equal the chain's, error arguments included`, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < CHECK_CASES; i++) {
      const shorter = admissible();
      const longer = near(shorter);
      const cal = tsFull(() => sviCheckCalendar(shorter, longer));
      assert.equal(cal, await chainFull(harness.read.checkCalendar([shorter, longer])), `calendar #${i}`);
      // Allowances from a minute's credit (×1.02) to the most a post may get (×64).
      const ratio = i % 3 === 0 ? rng.range(WAD, (103n * WAD) / 100n) : rng.range(11n * 10n ** 17n, 64n * WAD);
      // Each smile's time to expiry (rv17c H1): the previous one's from a second to past 365 days
      // (now and then the largest τ, 2**26 − 1), the next one's up to an hour less (at least 1 s),
      // now and then unrelated; a few 0 (SviZeroTime) and beyond the range (SviInputOutOfRange).
      const pick = i % 4;
      const previousTau =
        pick === 0 ? rng.range(1n, 3600n) : i % 29 === 0 ? SVI_MAX_CHANGE_TAU : rng.range(1n, 366n * 86400n);
      let nextTau =
        i % 7 === 0
          ? rng.range(1n, 366n * 86400n)
          : previousTau - rng.range(0n, previousTau > 3600n ? 3600n : previousTau - 1n);
      if (i % 97 === 0) nextTau = 0n;
      if (i % 89 === 0) nextTau = SVI_MAX_CHANGE_TAU + 1n;
      const chg = tsFull(() => sviCheckChange(shorter, longer, ratio, previousTau, nextTau));
      assert.equal(
        chg,
        await chainFull(harness.read.checkChange([shorter, longer, ratio, previousTau, nextTau])),
        `change #${i}`,
      );
      seen.add(`calendar ${cal.replace(/\(.*/, "")}`).add(`change ${chg.replace(/\(.*/, "")}`);
    }
    for (const name of [
      "calendar ok",
      "calendar SviCalendarArbitrage",
      "calendar SviCalendarWingArbitrage",
      "change ok",
      "change SviChangeTooLarge",
      "change SviChangeWingTooLarge",
      "change SviZeroTime",
      "change SviInputOutOfRange",
    ])
      assert.ok(seen.has(name), `no case hit ${name}: ${[...seen].join(", ")}`);
  });

  it(`${CHECK_CASES} random (ratio, confidence): the change allowance equals the chain's`, async () => {
    for (let i = 0; i < CHECK_CASES; i++) {
      const ratio = rng.range(11n * 10n ** 17n, 16n * WAD);
      // Half the cases around the 0.25 floor, the rest anywhere in [0, 1].
      const confidence = i % 2 === 0 ? rng.range(WAD / 5n, (3n * WAD) / 10n) : rng.range(0n, WAD);
      assert.equal(
        sviAllowedChangeRatio(ratio, confidence),
        await harness.read.allowedChangeRatio([ratio, confidence]),
      );
    }
    assert.equal(sviAllowedChangeRatio(4n * WAD, WAD), 4n * WAD);
    assert.equal(sviAllowedChangeRatio(4n * WAD, 0n), 16n * WAD);
  });

  it(`${CHECK_CASES} random (ratio, confidence, elapsed): the per-time allowance and carried confidence equal the chain's`, async () => {
    for (let i = 0; i < CHECK_CASES; i++) {
      const ratio = rng.range(11n * 10n ** 17n, 16n * WAD);
      const confidence = rng.range(0n, WAD / 10n ** 9n) * 10n ** 9n;
      const previous = rng.range(0n, WAD / 10n ** 9n) * 10n ** 9n;
      // Mostly within the period (the power), some at or beyond it (the plain ratio).
      const elapsed = i % 5 === 0 ? rng.range(3600n, 7200n) : rng.range(1n, 3599n);
      const ts = sviAllowedChangeRatioOver(ratio, confidence, elapsed);
      assert.equal(ts, await harness.read.allowedChangeRatioOver([ratio, confidence, elapsed]));
      assert.ok(ts >= WAD && ts <= sviAllowedChangeRatio(ratio, confidence) + 1n, `allowance ${ts} out of [1, R]`);
      const carried = sviCarriedConfidence(previous, confidence, elapsed);
      assert.equal(carried, await harness.read.carriedConfidence([previous, confidence, elapsed]));
      assert.equal(carried % 10n ** 9n, 0n);
    }
    assert.equal(sviAllowedChangeRatioOver(4n * WAD, WAD, 3600n), 4n * WAD);
    assert.equal(sviCarriedConfidence(0n, WAD, 1800n), WAD / 2n);
    assert.equal(sviCarriedConfidence(WAD, 0n, 1n), 0n);
  });

  it(`${CHECK_CASES} random (stored, signed, block) times: the change credit equals the chain's`, async () => {
    for (let i = 0; i < CHECK_CASES; i++) {
      const block = rng.range(3600n, 2n ** 40n);
      // Signed within the hour before the block; stored before it, a little or a lot.
      const ts = block - rng.range(0n, 3600n);
      const stored = i % 3 === 0 ? ts - rng.range(1n, 3n * 3600n) : rng.range(0n, ts);
      const credit = sviChangeElapsed(stored, ts, block);
      assert.equal(credit, await harness.read.changeElapsed([stored, ts, block]));
      assert.ok(credit <= 3600n && credit <= ts - stored, `credit ${credit}`);
    }
    assert.equal(sviChangeElapsed(0n, 3_600n, 7_212n), 0n);
    assert.equal(sviAllowedChangeRatioOver(16n * WAD, 0n, 0n), WAD);
  });

  it("every svi.json case is on the oracle's stored precision (1e8 wei), so one-word packing loses nothing", () => {
    for (const c of cases) {
      for (const field of [c.a, c.b, c.rho, c.m, c.sigma])
        assert.equal(BigInt(field) % VOL_SURFACE_PARAM_QUANTUM, 0n, `${field} off the quantum`);
    }
  });
});
