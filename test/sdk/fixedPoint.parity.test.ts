import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import {
  type Abi,
  type Hex,
  concatHex,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  toFunctionSelector,
} from "viem";
import {
  MathError,
  applyHaircutDown,
  divUp,
  divWad,
  divWadUp,
  expWad,
  fullMulDiv,
  intrinsic,
  lnWad,
  mulWad,
  mulWadUp,
  positionRequirementUp,
  positionValue,
  shortRequirementUp,
  sqrt,
  tokenValueDown,
} from "../../packages/sdk/src/index.js";
import { type Random, random } from "./random.js";

const WAD = 10n ** 18n;
const MAX = (1n << 256n) - 1n;
const MAX_INT = (1n << 255n) - 1n;
const MIN_INT = -(1n << 255n);
const PER_FUNCTION = 600;
const CHUNK = 300;

type Arg = bigint | number | boolean;

/** One call: the harness function, its arguments, and the TypeScript port on the same ones. */
interface Case {
  fn: string;
  args: readonly Arg[];
  ts: () => bigint;
}

/** Values where fixed-point code breaks, if it breaks: 0, 1, WAD, powers of two, type limits. */
const EDGES: readonly bigint[] = [
  0n,
  1n,
  2n,
  WAD - 1n,
  WAD,
  WAD + 1n,
  10n ** 36n,
  (1n << 128n) - 1n,
  1n << 128n,
  MAX_INT,
  1n << 255n,
  MAX / WAD,
  MAX / WAD + 1n,
  MAX - 1n,
  MAX,
];

/** A uint256: an edge ~15 % of the time, otherwise uniform in a random bit length. */
const uint = (rng: Random): bigint => (rng.float() < 0.15 ? rng.pick(EDGES) : rng.bits(1 + rng.int(256)));

/** An int256 in the same way, either sign, with the int256 limits among the edges. */
const int = (rng: Random): bigint => {
  if (rng.float() < 0.1) return rng.pick([0n, 1n, -1n, MAX_INT, MIN_INT, MIN_INT + 1n, WAD, -WAD]);
  const x = rng.bits(1 + rng.int(255));
  return rng.float() < 0.5 ? -x : x;
};

/** ±3 around `x`, kept inside uint256. */
const near = (rng: Random, x: bigint): bigint => {
  const y = x + rng.range(-3n, 3n);
  return y < 0n ? 0n : y > MAX ? MAX : y;
};

/** Thousands of seeded cases, `PER_FUNCTION` per harness function, edges included. */
function makeCases(): Case[] {
  const rng = random(0xf1_3edn);
  const cases: Case[] = [];
  const add = (fn: string, args: readonly Arg[], ts: () => bigint) => cases.push({ fn, args, ts });

  for (let i = 0; i < PER_FUNCTION; i++) {
    // mulWad / mulWadUp: a third right at the overflow boundary x ≈ MAX / y.
    {
      const y = uint(rng);
      const x = i % 3 === 0 && y > 0n ? near(rng, MAX / y) : uint(rng);
      add("mulWad", [x, y], () => mulWad(x, y));
      add("mulWadUp", [x, y], () => mulWadUp(x, y));
    }
    // divWad / divWadUp: boundary x ≈ MAX / WAD, y = 0 sometimes.
    {
      const x = i % 3 === 0 ? near(rng, MAX / WAD) : uint(rng);
      const y = i % 7 === 0 ? 0n : uint(rng);
      add("divWad", [x, y], () => divWad(x, y));
      add("divWadUp", [x, y], () => divWadUp(x, y));
    }
    // divUp.
    {
      const x = uint(rng);
      const d = i % 7 === 0 ? 0n : uint(rng);
      add("divUp", [x, d], () => divUp(x, d));
    }
    // fullMulDiv: a third with d just around the high word (quotient near 2**256), d = 0 sometimes.
    {
      const x = uint(rng);
      const y = uint(rng);
      const d = i % 3 === 0 ? near(rng, (x * y) >> 256n) : i % 11 === 0 ? 0n : uint(rng);
      add("fullMulDiv", [x, y, d], () => fullMulDiv(x, y, d));
    }
    // expWad: mostly inside (−42e18, 136e18), the two cut-offs ±3, any int256 sometimes.
    {
      const r = rng.float();
      const x =
        r < 0.6
          ? rng.range(-42n * WAD, 136n * WAD)
          : r < 0.7
            ? -41446531673892822313n + rng.range(-3n, 3n)
            : r < 0.8
              ? 135305999368893231589n + rng.range(-3n, 3n)
              : r < 0.9
                ? rng.range(-5n * WAD, 5n * WAD)
                : int(rng);
      add("expWad", [x], () => expWad(x));
    }
    // lnWad: positive of every size, around WAD, and ≤ 0.
    {
      const r = rng.float();
      const x = r < 0.6 ? rng.bits(1 + rng.int(255)) : r < 0.8 ? WAD + rng.range(-(10n ** 6n), 10n ** 6n) : int(rng);
      add("lnWad", [x], () => lnWad(x));
    }
    // sqrt: any size, and perfect squares ±1 (where Babylonian iteration cycles).
    {
      const r = rng.bits(1 + rng.int(128));
      const x = i % 2 === 0 ? near(rng, r * r) : uint(rng);
      add("sqrt", [x], () => sqrt(x));
    }
    // MarginMath.
    {
      const decimals = rng.float() < 0.8 ? rng.int(40) : rng.int(256);
      const amount = uint(rng);
      const price = rng.float() < 0.5 ? rng.logUniform(1n, 10n ** 30n) : uint(rng);
      add("tokenValueDown", [amount, decimals, price], () => tokenValueDown(amount, decimals, price));
    }
    {
      const value = uint(rng);
      const haircut = rng.float() < 0.8 ? rng.range(0n, WAD) : uint(rng);
      add("applyHaircutDown", [value, haircut], () => applyHaircutDown(value, haircut));
    }
    {
      const balance = int(rng);
      const mark = rng.float() < 0.5 ? rng.logUniform(1n, 10n ** 24n) : uint(rng);
      add("positionValue", [balance, mark], () => positionValue(balance, mark));
      add("positionRequirementUp", [balance, mark], () => positionRequirementUp(balance, mark));
    }
    {
      const isCall = rng.float() < 0.5;
      const spot = rng.float() < 0.7 ? rng.logUniform(1n, 10n ** 24n) : uint(rng);
      const strike = rng.float() < 0.7 ? rng.logUniform(1n, 10n ** 24n) : uint(rng);
      const a = rng.float() < 0.7 ? rng.range(0n, WAD) : uint(rng);
      const b = rng.float() < 0.7 ? rng.range(0n, WAD) : uint(rng);
      add("intrinsic", [isCall, spot, strike], () => intrinsic(isCall, spot, strike));
      add("shortRequirementUp", [isCall, spot, strike, a, b], () => shortRequirementUp(isCall, spot, strike, a, b));
    }
  }
  return cases;
}

/** The revert data the chain returns for the error a port threw. */
const revertData = (e: MathError): Hex =>
  concatHex([
    toFunctionSelector(e.signature),
    encodeAbiParameters(
      e.args.map(() => ({ type: "uint256" })),
      e.args,
    ),
  ]);

describe("SDK FixedPointMathLib and MarginMath parity (TypeScript === chain, to the wei)", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("MathHarness");
  const abi: Abi = harness.abi;
  const cases = makeCases();
  const results: { ok: boolean; data: Hex }[] = [];

  before(async () => {
    const calls = cases.map((c) => encodeFunctionData({ abi, functionName: c.fn, args: c.args }));
    for (let i = 0; i < calls.length; i += CHUNK) {
      results.push(...(await harness.read.batch([calls.slice(i, i + CHUNK)])));
    }
  });

  it(`covers ${PER_FUNCTION} cases per function, both outcomes`, () => {
    assert.equal(results.length, cases.length);
    const reverts = results.filter((r) => !r.ok).length;
    console.log(`    ${cases.length} cases, ${reverts} of them reverting`);
    assert.ok(reverts > 0 && reverts < cases.length);
  });

  const functions = [...new Set(cases.map((c) => c.fn))];
  for (const fn of functions) {
    it(`${fn}: same value, or the same revert`, () => {
      const mismatches: string[] = [];
      let reverts = 0;
      cases.forEach((c, i) => {
        if (c.fn !== fn) return;
        const chain = results[i]!;
        const label = `${fn}(${c.args.join(", ")})`;
        let ts: { ok: true; value: bigint } | { ok: false; error: unknown };
        try {
          ts = { ok: true, value: c.ts() };
        } catch (error) {
          ts = { ok: false, error };
        }
        if (chain.ok) {
          const value = decodeFunctionResult({ abi, functionName: fn, data: chain.data });
          if (!ts.ok) mismatches.push(`${label}: chain ${String(value)}, ts threw ${String(ts.error)}`);
          else if (ts.value !== value) mismatches.push(`${label}: chain ${String(value)}, ts ${ts.value}`);
        } else {
          reverts++;
          if (ts.ok) mismatches.push(`${label}: chain reverted ${chain.data}, ts ${ts.value}`);
          else if (!(ts.error instanceof MathError)) mismatches.push(`${label}: ts threw ${String(ts.error)}`);
          else if (revertData(ts.error) !== chain.data)
            mismatches.push(`${label}: chain reverted ${chain.data}, ts threw ${ts.error.signature}`);
        }
      });
      console.log(`    ${fn}: ${cases.filter((c) => c.fn === fn).length} cases, ${reverts} reverts`);
      assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
    });
  }
});
