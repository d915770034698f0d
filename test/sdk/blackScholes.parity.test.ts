import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import {
  BlackScholesInputOutOfRangeError,
  callDelta,
  callPrice,
  callPriceAt,
  lnMoneyness,
  lnWad,
  mulWad,
  prices,
  putDelta,
  putPrice,
  vega,
  volTerm,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

/** One reference case of `shared/vectors/black-scholes.json` (WAD strings, 60-digit reference). */
interface VectorCase {
  spot: string;
  strike: string;
  secondsToExpiry: number;
  vol: string;
  call: string;
  put: string;
  callDelta: string;
  putDelta: string;
  vega: string;
}

interface Input {
  spotWad: bigint;
  strikeWad: bigint;
  secondsToExpiry: bigint;
  volWad: bigint;
}

interface Output {
  call: bigint;
  put: bigint;
  callDelta: bigint;
  putDelta: bigint;
  vega: bigint;
}

/** A scenario-pricing case, as `BlackScholesHarness.ScenarioInput`. */
interface ScenarioInput {
  spotWad: bigint;
  strikeWad: bigint;
  shockedSpotWad: bigint;
  lnShiftWad: bigint;
  volWad: bigint;
  secondsToExpiry: bigint;
}

interface ScenarioOutput {
  lnMoneyness: bigint;
  volTerm: bigint;
  callPriceAt: bigint;
}

type OutputName = keyof Output;
const OUTPUTS: readonly OutputName[] = ["call", "put", "callDelta", "putDelta", "vega"];

// The vectors live beside the repository: <repoRoot>/../shared/vectors/black-scholes.json.
const vectorsUrl = new URL("../../../shared/vectors/black-scholes.json", import.meta.url);
const cases: VectorCase[] = (JSON.parse(readFileSync(vectorsUrl, "utf8")) as { cases: VectorCase[] }).cases;

const WAD = 10n ** 18n;
const YEAR = 365n * 86400n;
const CHUNK = 100;
const RANDOM_CASES = 2500;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** Same bounds as test/unit/libraries/blackScholes.test.ts, in wei. */
const WEI_FLOOR = 2n;
const priceBound = (spot: bigint, ref: bigint): bigint => {
  const bound = spot / 10n ** 12n + abs(ref) / 10n ** 10n;
  return bound > WEI_FLOOR ? bound : WEI_FLOOR;
};
const deltaBound = (ref: bigint): bigint => 10n ** 6n + abs(ref) / 10n ** 10n;

/** Every output of the TypeScript port, through its public functions. */
function port({ spotWad, strikeWad, secondsToExpiry, volWad }: Input): Output {
  const args = [spotWad, strikeWad, secondsToExpiry, volWad] as const;
  const [call, put] = prices(...args);
  assert.equal(callPrice(...args), call);
  assert.equal(putPrice(...args), put);
  return { call, put, callDelta: callDelta(...args), putDelta: putDelta(...args), vega: vega(...args) };
}

/**
 * Seeded random inputs over the supported domain (docs/black-scholes.md): spot 1e18..1e24
 * log-uniform, strike/spot 0.2..5 log-uniform with ~5 % extreme ratios (strike at the domain's
 * ends, 0.2e18 and 4.2e24), seconds 0..2 years with some at 0 and a few seconds, vol 1e14..18e18.
 */
function randomInputs(count: number): Input[] {
  const rng = random(0x5eed_b5n);
  const inputs: Input[] = [];
  for (let i = 0; i < count; i++) {
    const spotWad = rng.logUniform(WAD, 10n ** 24n);
    let strikeWad: bigint;
    const roll = rng.float();
    if (roll < 0.025) strikeWad = rng.logUniform(2n * 10n ** 17n, 10n ** 18n);
    else if (roll < 0.05) strikeWad = rng.logUniform(10n ** 24n, 42n * 10n ** 23n);
    else if (roll < 0.07) strikeWad = spotWad + rng.range(-3n, 3n);
    else strikeWad = (spotWad * rng.logUniform(2n * 10n ** 17n, 5n * WAD)) / WAD;
    if (strikeWad < 2n * 10n ** 17n) strikeWad = 2n * 10n ** 17n;
    const t = rng.float();
    const secondsToExpiry =
      t < 0.03 ? 0n : t < 0.08 ? rng.range(1n, 3600n) : t < 0.2 ? rng.range(1n, 7n * 86400n) : rng.range(1n, 2n * YEAR);
    const volWad = rng.logUniform(10n ** 14n, 18n * WAD);
    inputs.push({ spotWad, strikeWad, secondsToExpiry, volWad });
  }
  return inputs;
}

/**
 * Seeded inputs aimed at the CDF's outer intervals (docs/black-scholes.md, "Normal CDF"): σ√T of a
 * listed option (vol 10 %..300 %, 1 day..1 year), then the strike that puts y1 = d1/√2 (or y2) at a
 * random |y| in (2, 3] (erfc, no exponential), (3, 6.5] (the fitted erfcx) or (6.5, 8] (Cody's
 * tail), either sign. Returns the inputs and the float |y|s aimed at, to check every band is hit.
 */
function randomBandInputs(count: number): { inputs: Input[]; ys: number[] } {
  const rng = random(0x5eed_ba7dn);
  const inputs: Input[] = [];
  const ys: number[] = [];
  const bands: readonly (readonly [number, number])[] = [
    [2, 3],
    [3, 6.5],
    [6.5, 8],
  ];
  for (let i = 0; i < count; i++) {
    const spotWad = rng.logUniform(WAD, 10n ** 24n);
    const volWad = rng.logUniform(10n ** 17n, 3n * WAD);
    const secondsToExpiry = rng.range(86_400n, YEAR);
    const sd = Math.sqrt((2 * (Number(volWad) / 1e18) ** 2 * Number(secondsToExpiry)) / Number(YEAR)); // σ√(2T)
    const [lo, hi] = rng.pick(bands);
    const y = (lo + (hi - lo) * rng.float()) * (rng.float() < 0.5 ? -1 : 1);
    // y1 = m/s' + s'/4 (or y2 = m/s' − s'/4) solved for m = ln(S/K).
    const m = (y - (rng.float() < 0.5 ? sd / 4 : -sd / 4)) * sd;
    let strikeWad = (spotWad * BigInt(Math.round(Math.exp(-m) * 1e12))) / 10n ** 12n;
    if (strikeWad < 2n * 10n ** 17n) strikeWad = 2n * 10n ** 17n;
    inputs.push({ spotWad, strikeWad, secondsToExpiry, volWad });
    ys.push(Math.abs(y));
  }
  return { inputs, ys };
}

/** The scenario-pricing chain of `PortfolioMath`, through the port's public functions. */
function portScenario(c: ScenarioInput): ScenarioOutput {
  const m = lnMoneyness(c.spotWad, c.strikeWad);
  const s27 = volTerm(c.volWad, c.secondsToExpiry);
  return {
    lnMoneyness: m,
    volTerm: s27,
    callPriceAt: callPriceAt(c.shockedSpotWad, c.strikeWad, m + c.lnShiftWad, s27),
  };
}

/**
 * Seeded scenario-pricing cases: the same domain as `randomInputs`, a spot shock within ±50 %
 * (a tenth of them 0) applied as `PortfolioMath.newGrid` does (spot × factor rounded down,
 * ln(factor)), a vol shock within [0.25, 4]; one case in twenty takes an arbitrary shift and
 * shocked spot instead, to exercise `callPriceAt` off the grid's path.
 */
function randomScenarios(count: number): ScenarioInput[] {
  const rng = random(0x5eed_5ce7n);
  const base = randomInputs(count);
  return base.map(({ spotWad, strikeWad, secondsToExpiry, volWad }) => {
    const shock = rng.float() < 0.1 ? 0n : rng.range(-WAD / 2n, WAD / 2n);
    const factor = WAD + shock;
    const arbitrary = rng.float() < 0.05;
    return {
      spotWad,
      strikeWad,
      shockedSpotWad: arbitrary ? rng.logUniform(WAD, 10n ** 24n) : mulWad(spotWad, factor),
      lnShiftWad: arbitrary ? rng.range(-10n * WAD, 10n * WAD) : lnWad(factor),
      volWad: mulWad(volWad, rng.range(WAD / 4n, 4n * WAD)),
      secondsToExpiry,
    };
  });
}

describe("SDK BlackScholes parity (TypeScript === chain, to the wei)", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("BlackScholesHarness");

  const vectorInputs: Input[] = cases.map((c) => ({
    spotWad: BigInt(c.spot),
    strikeWad: BigInt(c.strike),
    secondsToExpiry: BigInt(c.secondsToExpiry),
    volWad: BigInt(c.vol),
  }));
  const randomCases = randomInputs(RANDOM_CASES);
  const band = randomBandInputs(600);

  const evaluate = async (inputs: Input[]): Promise<Output[]> => {
    const out: Output[] = [];
    for (let i = 0; i < inputs.length; i += CHUNK) {
      out.push(...(await harness.read.evaluate([inputs.slice(i, i + CHUNK)])));
    }
    return out;
  };

  let chainVectors: Output[] = [];
  let chainRandom: Output[] = [];
  let chainBand: Output[] = [];
  before(async () => {
    chainVectors = await evaluate(vectorInputs);
    chainRandom = await evaluate(randomCases);
    chainBand = await evaluate(band.inputs);
  });

  const assertParity = (inputs: Input[], chain: () => Output[]) => () => {
    const results = chain();
    assert.equal(results.length, inputs.length);
    const mismatches: string[] = [];
    inputs.forEach((input, i) => {
      const ts = port(input);
      for (const name of OUTPUTS) {
        if (ts[name] !== results[i]![name]) {
          const { spotWad, strikeWad, secondsToExpiry, volWad } = input;
          mismatches.push(
            `#${i} ${name}(${spotWad}, ${strikeWad}, ${secondsToExpiry}, ${volWad}): ts ${ts[name]}, chain ${results[i]![name]}`,
          );
        }
      }
    });
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
  };

  it(
    "all 1000 reference vectors: five outputs equal",
    assertParity(vectorInputs, () => chainVectors),
  );

  it(
    `${RANDOM_CASES} seeded random inputs over the domain: five outputs equal`,
    assertParity(randomCases, () => chainRandom),
  );

  it("600 seeded inputs aimed at |y| in (2, 3], (3, 6.5] and (6.5, 8]: five outputs equal", () => {
    for (const [lo, hi] of [
      [2, 3],
      [3, 6.5],
      [6.5, 8],
    ] as const) {
      assert.ok(band.ys.filter((y) => y > lo && y <= hi).length >= 150, `band (${lo}, ${hi}] reached`);
    }
    assertParity(band.inputs, () => chainBand)();
  });

  it(`${RANDOM_CASES} seeded scenario-pricing cases: lnMoneyness, volTerm and callPriceAt equal`, async () => {
    const scenarios = randomScenarios(RANDOM_CASES);
    const mismatches: string[] = [];
    for (let i = 0; i < scenarios.length; i += CHUNK) {
      const chunk = scenarios.slice(i, i + CHUNK);
      const chain = await harness.read.evaluateScenarios([chunk]);
      chunk.forEach((c, k) => {
        const ts = portScenario(c);
        const onChain = chain[k]!;
        for (const name of ["lnMoneyness", "volTerm", "callPriceAt"] as const) {
          if (ts[name] !== onChain[name])
            mismatches.push(
              `#${i + k} ${name} ${JSON.stringify(c, (_, v) => String(v))}: ts ${ts[name]}, chain ${onChain[name]}`,
            );
        }
        // Unshocked, the parts rebuild callPrice exactly.
        if (c.lnShiftWad === 0n && c.shockedSpotWad === c.spotWad) {
          assert.equal(ts.callPriceAt, callPrice(c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad));
        }
      });
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
  });

  it("scenario pricing reverts and throws alike outside the proven range", async () => {
    const outside: [bigint, bigint, bigint, bigint][] = [
      [1n << 120n, WAD, 0n, 10n ** 27n],
      [WAD, 1n << 119n, 0n, 10n ** 27n],
      [WAD, WAD, 0n, 1n << 123n],
      [WAD, WAD, 1n << 100n, 10n ** 27n],
      [WAD, WAD, -(1n << 100n), 10n ** 27n],
    ];
    for (const args of outside) {
      assert.throws(() => callPriceAt(...args), BlackScholesInputOutOfRangeError);
      await assert.rejects(harness.read.callPriceAt([...args]), /BlackScholesInputOutOfRange/);
    }
    assert.throws(() => lnMoneyness(0n, WAD), BlackScholesInputOutOfRangeError);
    await assert.rejects(harness.read.lnMoneyness([0n, WAD]), /BlackScholesInputOutOfRange/);
    assert.throws(() => volTerm(1n << 72n, 1n), BlackScholesInputOutOfRangeError);
    await assert.rejects(harness.read.volTerm([1n << 72n, 1n]), /BlackScholesInputOutOfRange/);
    // Zero vol term: the intrinsic value, on both sides.
    const args = [3n * WAD, 2n * WAD, 5n * WAD, 0n] as const;
    assert.equal(callPriceAt(...args), WAD);
    assert.equal(await harness.read.callPriceAt([...args]), WAD);
  });

  it("the port meets the vectors' accuracy bound", () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const ts = port(vectorInputs[i]!);
      const spot = BigInt(c.spot);
      for (const name of OUTPUTS) {
        const ref = BigInt(c[name]);
        const tol = name === "callDelta" || name === "putDelta" ? deltaBound(ref) : priceBound(spot, ref);
        if (abs(ts[name] - ref) > tol) failures.push(`#${i} ${name}: got ${ts[name]}, want ${ref} ± ${tol}`);
      }
    });
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} cases out of bounds`);
  });

  it("reverts and throws alike outside the proven range", async () => {
    const outside: Input[] = [
      { spotWad: 1n << 120n, strikeWad: WAD, secondsToExpiry: 86400n, volWad: WAD },
      { spotWad: WAD, strikeWad: 1n << 119n, secondsToExpiry: 86400n, volWad: WAD },
      { spotWad: WAD, strikeWad: WAD, secondsToExpiry: 1n << 40n, volWad: WAD },
      { spotWad: WAD, strikeWad: WAD, secondsToExpiry: 86400n, volWad: 1n << 72n },
    ];
    for (const input of outside) {
      const args = [input.spotWad, input.strikeWad, input.secondsToExpiry, input.volWad] as const;
      assert.throws(() => callPrice(...args), BlackScholesInputOutOfRangeError);
      assert.throws(() => putDelta(...args), BlackScholesInputOutOfRangeError);
      await assert.rejects(harness.read.callPrice([...args]), /BlackScholesInputOutOfRange/);
    }
    // Just inside every cap: both succeed and agree.
    const edge: Input = {
      spotWad: (1n << 120n) - 1n,
      strikeWad: (1n << 119n) - 1n,
      secondsToExpiry: (1n << 40n) - 1n,
      volWad: (1n << 72n) - 1n,
    };
    const [chain] = await harness.read.evaluate([[edge]]);
    assert.deepEqual(port(edge), { ...chain });
  });
});
