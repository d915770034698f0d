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
  type AuctionParams,
  Health,
  MathError,
  type MarginGateAfter,
  type MarginGateBefore,
  type MarginGateChange,
  type MarginState,
  accountPriceDown,
  checkDecimals,
  bidDiscountAt,
  discountAt,
  fromWadDown,
  fromWadUp,
  isReducing,
  marginGateVerdict,
  maxFraction,
  mulWadToCashDown,
  mulWadToCashUp,
  mulWadTowardZero,
  quoteBid,
  toWadDown,
  unitWadUp,
} from "../../packages/sdk/src/index.js";
import { type Random, random } from "./random.js";

/**
 * `CashUnits`, `AuctionMath` and `MarginGate` in TypeScript against the same libraries on chain
 * (`PolicyHarness`), to the wei, on seeded random inputs: values, struct fields, enums and reverts.
 */
const WAD = 10n ** 18n;
const MAX = (1n << 256n) - 1n;
const MAX_INT = (1n << 255n) - 1n;
const MIN_INT = -(1n << 255n);
const PER_FUNCTION = 400;
const CHUNK = 300;

interface Case {
  fn: string;
  args: readonly unknown[];
  ts: () => unknown;
}

const uint = (rng: Random): bigint =>
  rng.float() < 0.15 ? rng.pick([0n, 1n, WAD, MAX / WAD, MAX - 1n, MAX]) : rng.bits(1 + rng.int(256));
const int = (rng: Random): bigint => {
  if (rng.float() < 0.1) return rng.pick([0n, 1n, -1n, MAX_INT, MIN_INT, MIN_INT + 1n, WAD, -WAD]);
  const x = rng.bits(1 + rng.int(255));
  return rng.float() < 0.5 ? -x : x;
};
/** A realistic signed WAD amount: up to ±1e30, zero sometimes. */
const amountWad = (rng: Random): bigint => {
  if (rng.float() < 0.05) return 0n;
  const x = rng.logUniform(1n, 10n ** 30n);
  return rng.float() < 0.5 ? -x : x;
};
const decimals = (rng: Random): number => (rng.float() < 0.85 ? rng.int(37) : rng.pick([37, 40, 77, 255]));

function params(rng: Random): AuctionParams {
  const start = rng.range(0n, 2n * 10n ** 17n);
  return {
    startDiscountWad: start,
    endDiscountWad: start + rng.range(0n, 3n * 10n ** 17n),
    duration: 60 + rng.int(86_340),
    insuranceShareWad: rng.range(0n, WAD / 2n),
    bufferWad: rng.range(0n, WAD),
    dustValueWad: rng.range(0n, 10_000n * WAD),
  };
}

function state(rng: Random): MarginState {
  const markValue = amountWad(rng);
  const equityMM = rng.float() < 0.3 ? markValue : amountWad(rng);
  return {
    equityIM: equityMM - rng.logUniform(1n, 10n ** 28n),
    equityMM,
    requirementIM: rng.logUniform(1n, 10n ** 30n),
    requirementMM: rng.logUniform(1n, 10n ** 30n),
    health: rng.pick([Health.HEALTHY, Health.MARGIN_CALL, Health.LIQUIDATABLE]),
    markValue,
  };
}

function margin(rng: Random) {
  return { initialExcess: amountWad(rng), maintenanceExcess: amountWad(rng), maintenanceEquity: amountWad(rng) };
}

function makeCases(): Case[] {
  const rng = random(0x9011c7n);
  const cases: Case[] = [];
  const add = (fn: string, args: readonly unknown[], ts: () => unknown) => cases.push({ fn, args, ts });
  for (let i = 0; i < PER_FUNCTION; i++) {
    // CashUnits: any bits, any decimals (reverts above 36 and on overflow included).
    {
      const d = decimals(rng);
      const cash = rng.float() < 0.5 ? int(rng) : amountWad(rng) / WAD;
      const x = uint(rng);
      const y = rng.float() < 0.5 ? rng.logUniform(1n, 10n ** 30n) : uint(rng);
      add("checkDecimals", [d], () => checkDecimals(d));
      add("toWadDown", [cash, d], () => toWadDown(cash, d));
      add("fromWadDown", [x, d], () => fromWadDown(x, d));
      add("fromWadUp", [x, d], () => fromWadUp(x, d));
      add("mulWadToCashDown", [x, y, d], () => mulWadToCashDown(x, y, d));
      add("mulWadToCashUp", [x, y, d], () => mulWadToCashUp(x, y, d));
      add("unitWadUp", [d], () => unitWadUp(d));
    }
    // AuctionMath on realistic states.
    {
      const p = params(rng);
      const s = state(rng);
      const clockStart = rng.range(1000n, 10n ** 10n);
      const stamp = clockStart + rng.range(-1000n, BigInt(p.duration) * 2n);
      const discount = discountAt(p, clockStart, stamp);
      const cashDecimals = rng.float() < 0.7 ? 6 : rng.int(37);
      const cash = rng.float() < 0.3 ? 0n : amountWad(rng) / 10n ** BigInt(18 - Math.min(cashDecimals, 18));
      const cashWad = amountWad(rng);
      const fraction = rng.float() < 0.2 ? WAD : rng.range(1n, WAD);
      const priceWad = amountWad(rng);
      add("discountAt", [p, clockStart, stamp], () => discount);
      add("bidDiscountAt", [p, s.markValue, clockStart, stamp], () => bidDiscountAt(p, s.markValue, clockStart, stamp));
      add("accountPriceDown", [s.markValue, cashWad, discount], () => {
        const r = accountPriceDown(s.markValue, cashWad, discount);
        return [r.priceWad, r.discountValueWad];
      });
      add("maxFraction", [p, s, priceWad], () => maxFraction(p, s, priceWad));
      add("quoteBid", [p, s, cash, cashDecimals, discount, fraction], () =>
        quoteBid(p, s, cash, cashDecimals, discount, fraction),
      );
      add("mulWadTowardZero", [fraction, cashWad], () => mulWadTowardZero(fraction, cashWad));
    }
    // MarginGate: every branch, near-equal excesses included.
    {
      const change: MarginGateChange = { reducing: rng.float() < 0.8, givesUpLong: rng.float() < 0.5 };
      const m = margin(rng);
      const beforeState: MarginGateBefore = { priced: rng.float() < 0.7, margin: m, cash: amountWad(rng) / WAD };
      const near = (x: bigint) =>
        rng.float() < 0.5 ? x + rng.range(-2n * 10n ** 12n, 2n * 10n ** 12n) : amountWad(rng);
      const afterState: MarginGateAfter = {
        margin: {
          initialExcess: near(m.initialExcess),
          maintenanceExcess: near(m.maintenanceExcess),
          maintenanceEquity: near(m.maintenanceEquity),
        },
        cash: rng.float() < 0.3 ? beforeState.cash : amountWad(rng) / WAD,
        holdsShort: rng.float() < 0.5,
      };
      const paused = rng.float() < 0.2;
      const roundingWad = unitWadUp(rng.pick([6, 8, 18, 24]));
      add("verdict", [change, beforeState, afterState, paused, roundingWad], () =>
        marginGateVerdict(change, beforeState, afterState, paused, roundingWad),
      );
      const balance = rng.float() < 0.1 ? 0n : amountWad(rng);
      const delta = rng.float() < 0.5 ? -balance + rng.range(-3n, 3n) : amountWad(rng);
      add("isReducing", [balance, delta], () => isReducing(balance, delta));
    }
  }
  return cases;
}

const revertData = (e: MathError): Hex =>
  concatHex([
    toFunctionSelector(e.signature),
    encodeAbiParameters(
      e.args.map(() => ({ type: "uint256" })),
      e.args,
    ),
  ]);

/** Values compared field by field, so a struct's key order does not matter. */
const same = (a: unknown, b: unknown): boolean => {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
};

describe("SDK CashUnits, AuctionMath and MarginGate parity (TypeScript === chain, to the wei)", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("PolicyHarness");
  const abi: Abi = harness.abi;
  const cases = makeCases();
  const results: { ok: boolean; data: Hex }[] = [];

  before(async () => {
    const calls = cases.map((c) => encodeFunctionData({ abi, functionName: c.fn, args: c.args }));
    for (let i = 0; i < calls.length; i += CHUNK) {
      results.push(...(await harness.read.batch([calls.slice(i, i + CHUNK)])));
    }
  });

  for (const fn of [...new Set(cases.map((c) => c.fn))]) {
    it(`${fn}: same value, or the same revert`, () => {
      const mismatches: string[] = [];
      let reverts = 0;
      cases.forEach((c, i) => {
        if (c.fn !== fn) return;
        const chain = results[i]!;
        const label = `${fn}(${JSON.stringify(c.args, (_, v: unknown) => (typeof v === "bigint" ? `${v}` : v))})`;
        let ts: { ok: true; value: unknown } | { ok: false; error: unknown };
        try {
          ts = { ok: true, value: c.ts() };
        } catch (error) {
          ts = { ok: false, error };
        }
        if (chain.ok) {
          const value: unknown = decodeFunctionResult({ abi, functionName: fn, data: chain.data });
          if (!ts.ok) mismatches.push(`${label}: chain ${String(value)}, ts threw ${String(ts.error)}`);
          else if (!same(ts.value, value)) mismatches.push(`${label}: chain ${String(value)}, ts ${String(ts.value)}`);
        } else {
          reverts++;
          if (ts.ok) mismatches.push(`${label}: chain reverted ${chain.data}, ts ${String(ts.value)}`);
          else if (!(ts.error instanceof MathError)) mismatches.push(`${label}: ts threw ${String(ts.error)}`);
          else if (revertData(ts.error) !== chain.data)
            mismatches.push(`${label}: chain reverted ${chain.data}, ts threw ${ts.error.signature}`);
        }
      });
      console.log(`    ${fn}: ${cases.filter((c) => c.fn === fn).length} cases, ${reverts} reverts`);
      assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    });
  }

  it("hits every verdict", () => {
    const seen = new Set(
      cases.flatMap((c, i) =>
        c.fn === "verdict" && results[i]!.ok
          ? [decodeFunctionResult({ abi, functionName: "verdict", data: results[i]!.data })]
          : [],
      ),
    );
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
  });
});
