import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import { blackScholesSpreadInputs } from "../../../scripts/lib/blackScholesSpread.js";

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

// The vectors live beside the repository: <repoRoot>/../shared/vectors/black-scholes.json.
const vectorsUrl = new URL("../../../../shared/vectors/black-scholes.json", import.meta.url);
const cases: VectorCase[] = (JSON.parse(readFileSync(vectorsUrl, "utf8")) as { cases: VectorCase[] }).cases;

const CHUNK = 100;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/**
 * Error bounds, in wei: max(1e-12 × spot + 1e-10 × |reference|, 2) (delta: 1e-12 × 1e18 + 1e-10 ×
 * |delta|). The 2-wei floor is docs/black-scholes.md's: it binds only for spot below ~2e12 wei,
 * outside the vectors (spot ≥ 1e18), where the CDF's last wei shows as 0.3–1.9 wei of error.
 */
const WEI_FLOOR = 2n;
const priceBound = (spot: bigint, ref: bigint): bigint => {
  const bound = spot / 10n ** 12n + abs(ref) / 10n ** 10n;
  return bound > WEI_FLOOR ? bound : WEI_FLOOR;
};
const deltaBound = (ref: bigint): bigint => 10n ** 6n + abs(ref) / 10n ** 10n;

type Output = "call" | "put" | "callDelta" | "putDelta" | "vega";

describe("BlackScholes", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("BlackScholesHarness");

  const inputs = cases.map((c) => ({
    spotWad: BigInt(c.spot),
    strikeWad: BigInt(c.strike),
    secondsToExpiry: BigInt(c.secondsToExpiry),
    volWad: BigInt(c.vol),
  }));

  const results: { call: bigint; put: bigint; callDelta: bigint; putDelta: bigint; vega: bigint }[] = [];

  before(async () => {
    for (let i = 0; i < inputs.length; i += CHUNK) {
      results.push(...(await harness.read.evaluate([inputs.slice(i, i + CHUNK)])));
    }
  });

  it("loads all 1000 reference cases", () => {
    assert.equal(cases.length, 1000);
    assert.equal(results.length, cases.length);
  });

  const check = (output: Output, bound: (c: VectorCase, ref: bigint) => bigint) => () => {
    let worst = 0;
    let worstAt = -1;
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const ref = BigInt(c[output]);
      const got = results[i]![output];
      const err = abs(got - ref);
      const tol = bound(c, ref);
      const ratio = Number(err) / Number(tol);
      if (ratio > worst) [worst, worstAt] = [ratio, i];
      if (err > tol) failures.push(`#${i} ${output}: got ${got}, want ${ref} ± ${tol} (err ${err})`);
    });
    console.log(`    ${output}: worst error = ${worst.toExponential(3)} × bound (case #${worstAt})`);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} cases out of bounds`);
  };

  it(
    "call price within max(1e-12·S + 1e-10·C, 2 wei) of the reference",
    check("call", (c, r) => priceBound(BigInt(c.spot), r)),
  );
  it(
    "put price within max(1e-12·S + 1e-10·P, 2 wei) of the reference",
    check("put", (c, r) => priceBound(BigInt(c.spot), r)),
  );
  it(
    "call delta within 1e-12 + 1e-10·Δ of the reference",
    check("callDelta", (_c, r) => deltaBound(r)),
  );
  it(
    "put delta within 1e-12 + 1e-10·|Δ| of the reference",
    check("putDelta", (_c, r) => deltaBound(r)),
  );
  it(
    "vega within max(1e-12·S + 1e-10·vega, 2 wei) of the reference",
    check("vega", (c, r) => priceBound(BigInt(c.spot), r)),
  );

  it("matches the single-case entry points", async () => {
    for (const i of [3, 10, 500, 999]) {
      const { spotWad, strikeWad, secondsToExpiry, volWad } = inputs[i]!;
      const args = [spotWad, strikeWad, secondsToExpiry, volWad] as const;
      const r = results[i]!;
      assert.equal(await harness.read.callPrice(args), r.call);
      assert.equal(await harness.read.putPrice(args), r.put);
      assert.equal(await harness.read.callDelta(args), r.callDelta);
      assert.equal(await harness.read.putDelta(args), r.putDelta);
      assert.equal(await harness.read.vega(args), r.vega);
    }
  });

  it("reports gas per internal call (gasleft() deltas over all cases)", async () => {
    const gas: bigint[][] = [];
    for (let i = 0; i < inputs.length; i += CHUNK) {
      for (const row of await harness.read.gasBatch([inputs.slice(i, i + CHUNK)])) gas.push([...row]);
    }
    const names = ["callPrice", "putPrice", "callDelta", "vega"];
    names.forEach((name, j) => {
      const xs = gas.map((row) => Number(row[j]!)).sort((a, b) => a - b);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const median = xs[xs.length >> 1]!;
      console.log(`    gas ${name}: mean ${mean.toFixed(0)}, median ${median}, max ${xs[xs.length - 1]}`);
    });
    const { spotWad, strikeWad, secondsToExpiry, volWad } = inputs[500]!;
    const [single] = await harness.read.gasCallPrice([spotWad, strikeWad, secondsToExpiry, volWad]);
    assert.ok(single > 0n);
  });

  it("prices each of the 50 spread inputs in at most 2,900 gas (issue 19's target)", async () => {
    let worst = 0n;
    for (const c of blackScholesSpreadInputs()) {
      const [gasUsed] = await harness.read.gasCallPrice([c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad]);
      if (gasUsed > worst) worst = gasUsed;
    }
    assert.ok(worst <= 2_900n, `worst of 50: ${worst} gas`);
  });
});
