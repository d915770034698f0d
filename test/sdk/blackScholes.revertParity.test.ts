import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  encodeFunctionResult,
  type Hex,
  toFunctionSelector,
} from "viem";
import {
  callDelta,
  callPrice,
  callPriceAt,
  lnMoneyness,
  MathError,
  prices,
  putDelta,
  putPrice,
  vega,
  volTerm,
} from "../../packages/sdk/src/index.js";
import { random, type Random } from "./random.js";

/**
 * The SDK's Black–Scholes against the chain on inputs of every magnitude, reverts included: the
 * same return value, or the same revert data (error selector and arguments, or the panic code) as
 * the SDK's thrown `MathError`. The in-domain parity lives in blackScholes.parity.test.ts; this file
 * covers what it does not: the whole word range of every argument, the guards' edges, zeros, and
 * `callPriceAt` aimed within a few wei of the |y| = 2, 3 and 6.5 interval ends (review rv33 of 85ac8c1).
 */

const WAD = 10n ** 18n;
const CASES = 400;

/** A value of any bit length (0..256), of any length inside a `limitBits`-bit guard, or one of its edges. */
function anyWidth(rng: Random, limitBits: number): bigint {
  const roll = rng.int(16);
  if (roll === 0) return 0n;
  if (roll === 1) return 1n;
  if (roll === 2) return (1n << BigInt(limitBits)) - 1n;
  if (roll === 3) return 1n << BigInt(limitBits);
  if (roll === 4) return (1n << 256n) - 1n;
  if (roll < 8) return rng.bits(rng.int(257));
  return rng.bits(rng.int(limitBits + 1));
}

/** What the SDK does: the result's ABI encoding, or the revert data its error stands for. */
type Outcome = { ok: true; data: Hex } | { ok: false; data: Hex };

function sdkOutcome(run: () => Hex): Outcome {
  try {
    return { ok: true, data: run() };
  } catch (e) {
    if (!(e instanceof MathError)) throw e;
    const selector = toFunctionSelector(e.signature);
    const args = encodeAbiParameters(
      e.args.map(() => ({ type: "uint256" })),
      e.args,
    );
    return { ok: false, data: `${selector}${args.slice(2)}` as Hex };
  }
}

describe("SDK BlackScholes reverts and results equal the chain's over every magnitude (rv33)", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("BlackScholesHarness");
  const abi = harness.abi;

  type Name =
    "callPrice" | "putPrice" | "prices" | "callDelta" | "putDelta" | "vega" | "lnMoneyness" | "volTerm" | "callPriceAt";

  async function chainOutcome(name: Name, args: readonly bigint[]): Promise<Outcome> {
    try {
      // The harness is pure: a read returns the decoded result; re-encode it to compare bytes.
      const read = harness.read as unknown as Record<Name, (a: readonly bigint[]) => Promise<unknown>>;
      const result = await read[name](args);
      return { ok: true, data: encodeFunctionResult({ abi, functionName: name, result } as never) };
    } catch (e) {
      const reverted = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
      assert.ok(reverted instanceof ContractFunctionRevertedError, `${name}(${args.join(", ")}): ${String(e)}`);
      assert.ok(reverted.raw !== undefined, `${name}: revert without data`);
      return { ok: false, data: reverted.raw };
    }
  }

  const sdk: Record<Name, (a: readonly bigint[]) => Hex> = {
    callPrice: ([s, k, t, v]) =>
      encodeFunctionResult({ abi, functionName: "callPrice", result: callPrice(s!, k!, t!, v!) }),
    putPrice: ([s, k, t, v]) =>
      encodeFunctionResult({ abi, functionName: "putPrice", result: putPrice(s!, k!, t!, v!) }),
    prices: ([s, k, t, v]) =>
      encodeFunctionResult({ abi, functionName: "prices", result: [...prices(s!, k!, t!, v!)] as [bigint, bigint] }),
    callDelta: ([s, k, t, v]) =>
      encodeFunctionResult({ abi, functionName: "callDelta", result: callDelta(s!, k!, t!, v!) }),
    putDelta: ([s, k, t, v]) =>
      encodeFunctionResult({ abi, functionName: "putDelta", result: putDelta(s!, k!, t!, v!) }),
    vega: ([s, k, t, v]) => encodeFunctionResult({ abi, functionName: "vega", result: vega(s!, k!, t!, v!) }),
    lnMoneyness: ([s, k]) => encodeFunctionResult({ abi, functionName: "lnMoneyness", result: lnMoneyness(s!, k!) }),
    volTerm: ([v, t]) => encodeFunctionResult({ abi, functionName: "volTerm", result: volTerm(v!, t!) }),
    callPriceAt: ([s, k, m, s27]) =>
      encodeFunctionResult({ abi, functionName: "callPriceAt", result: callPriceAt(s!, k!, m!, s27!) }),
  };

  async function mismatches(cases: readonly (readonly [Name, readonly bigint[]])[]): Promise<string[]> {
    const out: string[] = [];
    for (const [name, args] of cases) {
      const ts = sdkOutcome(() => sdk[name](args));
      const chain = await chainOutcome(name, args);
      if (ts.ok !== chain.ok || ts.data !== chain.data) {
        out.push(
          `${name}(${args.join(", ")}): sdk ${ts.ok ? "ok" : "throws"} ${ts.data}, chain ${chain.ok ? "ok" : "reverts"} ${chain.data}`,
        );
      }
    }
    return out;
  }

  it(`${CASES} inputs of every magnitude: the eight four- and two-input functions agree, reverts included`, async () => {
    const rng = random(0x5eed_33n);
    const cases: [Name, bigint[]][] = [];
    let reverting = 0;
    for (let i = 0; i < CASES; i++) {
      const s = anyWidth(rng, 120);
      const k = anyWidth(rng, 119);
      const t = anyWidth(rng, 40);
      const v = anyWidth(rng, 72);
      if (s >> 120n || k >> 119n || t >> 40n || v >> 72n) reverting++;
      for (const name of ["callPrice", "putPrice", "prices", "callDelta", "putDelta", "vega"] as const) {
        cases.push([name, [s, k, t, v]]);
      }
      cases.push(["lnMoneyness", [s, k]], ["volTerm", [v, t]]);
    }
    assert.ok(reverting > CASES / 10 && reverting < (9 * CASES) / 10, `${reverting} of ${CASES} outside the guard`);
    assert.deepEqual((await mismatches(cases)).slice(0, 10), []);
  });

  it("callPriceAt on raw parts of every magnitude, type(int256).min included", async () => {
    const rng = random(0x5eed_33a7n);
    const cases: [Name, bigint[]][] = [];
    const MIN = -(1n << 255n);
    for (let i = 0; i < CASES; i++) {
      const s = anyWidth(rng, 120);
      const k = anyWidth(rng, 119);
      const roll = rng.int(8);
      const mag = roll === 0 ? (1n << 100n) - 1n : roll === 1 ? 1n << 100n : rng.bits(rng.int(256));
      const m = roll === 2 ? MIN : rng.int(2) === 0 ? mag : -mag;
      const s27 = rng.int(4) === 0 ? BigInt(1 + rng.int(4)) : anyWidth(rng, 123);
      cases.push(["callPriceAt", [s, k, m, s27]]);
    }
    assert.deepEqual((await mismatches(cases)).slice(0, 10), []);
  });

  it("callPriceAt with y1 (or y2) within 8 wei of ±2, ±3 and ±6.5, or anywhere in ±[6.3, 6.6]", async () => {
    // At s27 = 1e27, y1 = m + 0.25e18 and y2 = y1 − 0.5e18 exactly.
    const targets = [2n, 3n, -2n, -3n].map((y) => y * WAD).concat([65n * 10n ** 17n, -65n * 10n ** 17n]);
    const pairs: [bigint, bigint][] = [
      [3000n * WAD, 3000n * WAD],
      [WAD, 42n * 10n ** 23n],
      [(1n << 120n) - 1n, 1n],
      [1n, (1n << 119n) - 1n],
    ];
    const cases: [Name, bigint[]][] = [];
    for (const target of targets) {
      for (const onY2 of [0n, WAD / 2n]) {
        for (let d = -8n; d <= 8n; d++) {
          for (const [s, k] of pairs) cases.push(["callPriceAt", [s, k, target + onY2 + d - WAD / 4n, 10n ** 27n]]);
        }
      }
    }
    // And y1 anywhere in ±[6.3, 6.6]: across expWad's cut to 0 (|y1| ≈ 6.4379) and the 6.5 test.
    const rng = random(0x5eed_65n);
    for (let i = 0; i < 200; i++) {
      const y1 = rng.range(63n * 10n ** 17n, 66n * 10n ** 17n) * (rng.int(2) === 0 ? 1n : -1n);
      const [s, k] = rng.pick(pairs);
      cases.push(["callPriceAt", [s, k, y1 - WAD / 4n, 10n ** 27n]]);
    }
    assert.deepEqual((await mismatches(cases)).slice(0, 10), []);
  });
});
