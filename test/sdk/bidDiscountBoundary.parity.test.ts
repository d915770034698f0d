import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Abi, type Hex, decodeFunctionResult, encodeFunctionData } from "viem";
import {
  type AuctionParams,
  Health,
  MIN_BID_FRACTION,
  type MarginState,
  bidDiscountAt,
  minBidFraction,
  previewBidFromState,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

/**
 * The insolvent-discount cap at its boundary (review rv16; kept as a test): the mark value V just
 * below, at and just above zero (and ±1e12, the cash-unit step), equityMM at V or below it
 * (haircuts only lower it: V ≥ 0 > equityMM is the haircut-only zone of F1), with the clock before,
 * inside and past the duration. The SDK's `bidDiscountAt` and `previewBidFromState` against
 * `AuctionMath.bidDiscountAt` and `AuctionMath.quoteBid(…, bidDiscountAt(…), …)` on chain
 * (PolicyHarness), to the wei, including the throw where the Liquidator reverts (maxFraction 0).
 */
const WAD = 10n ** 18n;
const N = 1500;

describe("insolvent discount cap: SDK === chain at V ∈ {…, -1, 0, 1, …}", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("PolicyHarness");
  const abi: Abi = harness.abi;
  const rng = random(0x16b0a7dn);

  type Case = { p: AuctionParams; s: MarginState; clockStart: bigint; stamp: bigint; cash: bigint; f: bigint };
  const cases: Case[] = [];
  const edges = [-(10n ** 12n), -2n, -1n, 0n, 1n, 2n, 10n ** 12n];
  for (let i = 0; i < N; i++) {
    const start = rng.range(0n, 2n * 10n ** 17n);
    const p: AuctionParams = {
      startDiscountWad: start,
      endDiscountWad: start + rng.range(0n, 3n * 10n ** 17n),
      duration: 60 + rng.int(86_340),
      insuranceShareWad: rng.range(0n, WAD / 2n),
      bufferWad: rng.range(0n, WAD),
      dustValueWad: rng.range(0n, 10_000n * WAD),
    };
    const markValue = rng.float() < 0.8 ? rng.pick(edges) : rng.range(-(10n ** 24n), 10n ** 24n);
    // equityMM ≤ V as the engine guarantees, sometimes equal, sometimes across zero from V.
    const equityMM = markValue - (rng.float() < 0.4 ? 0n : rng.logUniform(1n, 10n ** 24n));
    const requirementMM = (equityMM > 0n ? equityMM : 0n) + rng.logUniform(1n, 10n ** 24n);
    const s: MarginState = {
      equityIM: equityMM - rng.logUniform(1n, 10n ** 22n),
      equityMM,
      requirementIM: requirementMM + rng.logUniform(1n, 10n ** 24n),
      requirementMM,
      health: equityMM < 0n ? Health.INSOLVENT : Health.LIQUIDATABLE,
      markValue,
    };
    const clockStart = rng.range(1000n, 10n ** 10n);
    const stamp = clockStart + rng.pick([0n, 1n, BigInt(p.duration) / 2n, BigInt(p.duration), 2n * BigInt(p.duration)]);
    const cash = rng.range(-(10n ** 15n), 10n ** 15n); // USDC units
    const f = rng.float() < 0.3 ? WAD : rng.range(1n, WAD);
    cases.push({ p, s, clockStart, stamp, cash, f });
  }

  const batch = async (xs: Hex[]) => {
    const out: { ok: boolean; data: Hex }[] = [];
    for (let i = 0; i < xs.length; i += 250) {
      out.push(...((await harness.read.batch([xs.slice(i, i + 250)])) as { ok: boolean; data: Hex }[]));
    }
    return out;
  };

  it("bidDiscountAt and previewBidFromState agree with the chain; only V < 0 is capped", async () => {
    const calls = cases.map((c) =>
      encodeFunctionData({ abi, functionName: "bidDiscountAt", args: [c.p, c.s.markValue, c.clockStart, c.stamp] }),
    );
    const chainDiscounts = (await batch(calls)).map((r) => {
      assert.ok(r.ok);
      return decodeFunctionResult({ abi, functionName: "bidDiscountAt", data: r.data }) as bigint;
    });
    const qcalls = cases.map((c, i) =>
      encodeFunctionData({ abi, functionName: "quoteBid", args: [c.p, c.s, c.cash, 6, chainDiscounts[i], c.f] }),
    );
    const qres = await batch(qcalls);
    // The liquidator's minimum material bid (review rv16w W6), read from the chain for each quote.
    const mins = await batch(
      qres.map((r) => {
        const q = r.ok
          ? (decodeFunctionResult({ abi, functionName: "quoteBid", data: r.data }) as { maxFractionWad: bigint })
          : { maxFractionWad: 0n };
        return encodeFunctionData({ abi, functionName: "minBidFraction", args: [q.maxFractionWad] });
      }),
    );
    const mismatches: string[] = [];
    let atZero = 0;
    let haircutOnlyGrown = 0;
    let compared = 0;
    cases.forEach((c, i) => {
      const ts = bidDiscountAt(c.p, c.s.markValue, c.clockStart, c.stamp);
      const clock = c.stamp > c.clockStart ? c.stamp - c.clockStart : 0n;
      if (ts !== chainDiscounts[i]) mismatches.push(`discount #${i}: chain ${chainDiscounts[i]} ts ${ts}`);
      if (c.s.markValue < 0n && ts !== c.p.startDiscountWad) mismatches.push(`#${i}: V < 0 but not the start discount`);
      if (c.s.markValue >= 0n && c.s.equityMM < 0n && clock > 0n && c.p.endDiscountWad > c.p.startDiscountWad) {
        // Haircut-only: the clock's discount, as for any solvent account (review rv16 F1).
        if (ts === c.p.startDiscountWad && clock * 2n >= BigInt(c.p.duration)) mismatches.push(`#${i}: V ≥ 0 capped`);
        haircutOnlyGrown++;
      }
      if (c.s.markValue === 0n) atZero++;
      const chain = qres[i]!;
      assert.ok(chain.ok);
      const q = decodeFunctionResult({ abi, functionName: "quoteBid", data: chain.data }) as {
        maxFractionWad: bigint;
        fractionWad: bigint;
      };
      const minimum = decodeFunctionResult({ abi, functionName: "minBidFraction", data: mins[i]!.data }) as bigint;
      let sdk: unknown;
      try {
        sdk = previewBidFromState(c.p, c.s, c.clockStart, c.stamp, c.f, { cash: c.cash, cashDecimals: 6 });
      } catch (error) {
        // The liquidator reverts exactly when maxFraction is 0 (LiquidatorAccountHealthy) or the
        // capped fraction is below the minimum bid (LiquidatorBidTooSmall).
        if (q.maxFractionWad !== 0n && q.fractionWad >= minimum)
          mismatches.push(`#${i}: sdk threw ${String(error)}, chain quoted`);
        return;
      }
      if (q.fractionWad < minimum) mismatches.push(`#${i}: sdk quoted below the minimum bid`);
      compared++;
      try {
        assert.deepEqual(sdk, q);
      } catch {
        mismatches.push(`#${i}: quote differs`);
      }
    });
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    assert.ok(atZero > 100, `${atZero} cases at V = 0`);
    assert.ok(haircutOnlyGrown > 50, `${haircutOnlyGrown} haircut-only cases with a running clock`);
    assert.ok(compared > 500, `${compared} quotes compared`);
  });
  it("the minimum bid, min(1 %, largest fraction), at every edge, and a largest fraction below 1 %", async () => {
    // The rule itself at its edges (review rv16w W6): the SDK's twin against AuctionMath.
    assert.equal(MIN_BID_FRACTION, 10n ** 16n);
    for (const x of [0n, 1n, 10n ** 16n - 1n, 10n ** 16n, 10n ** 16n + 1n, WAD / 2n, WAD]) {
      assert.equal(minBidFraction(x), await harness.read.minBidFraction([x]), `minBidFraction(${x})`);
    }
    // Accounts a sliver of a large book restores (largest fraction < 1 %): a bid of that sliver
    // passes, one wei of fraction less is refused, by the SDK exactly where the Liquidator would.
    let below = 0;
    for (let i = 0; i < 40; i++) {
      const p: AuctionParams = {
        startDiscountWad: rng.range(0n, WAD / 10n),
        endDiscountWad: WAD / 10n + rng.range(0n, WAD / 5n),
        duration: 900,
        insuranceShareWad: rng.range(0n, WAD / 2n),
        bufferWad: rng.range(0n, WAD / 100n),
        dustValueWad: 1_000n * WAD,
      };
      const equityMM = rng.range(10_000n, 100_000n) * WAD;
      const s: MarginState = {
        equityIM: equityMM - rng.range(0n, 100n) * WAD,
        equityMM,
        requirementIM: equityMM + rng.range(1n, 100n) * WAD,
        requirementMM: equityMM + rng.range(1n, 10n) * WAD,
        health: Health.LIQUIDATABLE,
        markValue: equityMM + rng.range(10n ** 6n, 10n ** 8n) * WAD,
      };
      const cash = rng.range(0n, 10n ** 12n);
      const whole = previewBidFromState(p, s, 1_000n, 1_000n, WAD, { cash, cashDecimals: 6 });
      const maxFractionWad = whole.maxFractionWad;
      assert.equal(
        maxFractionWad,
        (await harness.read.quoteBid([p, s, cash, 6, whole.discountWad, WAD])).maxFractionWad,
      );
      if (maxFractionWad >= MIN_BID_FRACTION || maxFractionWad < 2n) continue;
      below++;
      const minimum = (await harness.read.minBidFraction([maxFractionWad])) as bigint;
      assert.equal(minimum, maxFractionWad, "the largest fraction is the minimum");
      assert.equal(previewBidFromState(p, s, 1_000n, 1_000n, minimum, { cash, cashDecimals: 6 }).fractionWad, minimum);
      assert.throws(() => previewBidFromState(p, s, 1_000n, 1_000n, minimum - 1n, { cash, cashDecimals: 6 }));
    }
    assert.ok(below > 20, `${below} accounts with a largest fraction below 1 %`);
  });
});
