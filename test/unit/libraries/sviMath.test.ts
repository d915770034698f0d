import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { network } from "hardhat";

/** One reference case of `shared/vectors/svi.json` (WAD strings, 60-digit reference). */
interface SviCase {
  spot: string;
  strike: string;
  secondsToExpiry: number;
  a: string;
  b: string;
  rho: string;
  m: string;
  sigma: string;
  totalVariance: string;
  vol: string;
  call: string;
  put: string;
}

// The vectors live beside the repository: <repoRoot>/../shared/vectors/svi.json.
const vectorsUrl = new URL("../../../../shared/vectors/svi.json", import.meta.url);
const cases: SviCase[] = (JSON.parse(readFileSync(vectorsUrl, "utf8")) as { cases: SviCase[] }).cases;

const CHUNK = 100;
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** Issue 17's bounds, in wei: vol within 1e-12 relative; prices within 1e-12·S + 1e-10·price. */
const volBound = (ref: bigint): bigint => ref / 10n ** 12n;
const priceBound = (spot: bigint, ref: bigint): bigint => spot / 10n ** 12n + abs(ref) / 10n ** 10n;

describe("SviMath against shared/vectors/svi.json", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("SviHarness");

  const inputs = cases.map((c) => ({
    p: { a: BigInt(c.a), b: BigInt(c.b), rho: BigInt(c.rho), m: BigInt(c.m), sigma: BigInt(c.sigma) },
    spotWad: BigInt(c.spot),
    strikeWad: BigInt(c.strike),
    secondsToExpiry: BigInt(c.secondsToExpiry),
  }));
  const results: { k: bigint; totalVariance: bigint; vol: bigint; call: bigint; put: bigint }[] = [];

  before(async () => {
    for (let i = 0; i < inputs.length; i += CHUNK) {
      results.push(...(await harness.read.evaluate([inputs.slice(i, i + CHUNK)])));
    }
  });

  it("loads all 1000 reference cases, every one admissible", async () => {
    assert.equal(cases.length, 1000);
    assert.equal(results.length, cases.length);
    for (let i = 0; i < inputs.length; i += 50) await harness.read.checkAdmissible([inputs[i]!.p]);
  });

  const check = (name: "vol" | "call" | "put", bound: (c: SviCase, ref: bigint) => bigint) => () => {
    let worst = 0;
    let worstAt = -1;
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const ref = BigInt(c[name]);
      const got = results[i]![name];
      const err = abs(got - ref);
      const tol = bound(c, ref);
      const ratio = tol === 0n ? (err === 0n ? 0 : Infinity) : Number(err) / Number(tol);
      if (ratio > worst) [worst, worstAt] = [ratio, i];
      if (err > tol) failures.push(`#${i} ${name}: got ${got}, want ${ref} ± ${tol} (err ${err})`);
    });
    console.log(`    ${name}: worst error = ${worst.toExponential(3)} × bound (case #${worstAt})`);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} cases out of bounds`);
  };

  it(
    "vol within 1e-12 relative of the reference",
    check("vol", (_, r) => volBound(r)),
  );
  it(
    "call at that vol within 1e-12·S + 1e-10·C",
    check("call", (c, r) => priceBound(BigInt(c.spot), r)),
  );
  it(
    "put at that vol within 1e-12·S + 1e-10·P",
    check("put", (c, r) => priceBound(BigInt(c.spot), r)),
  );
  it("total variance within 4 wei + 1e-12 relative of the reference", () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const ref = BigInt(c.totalVariance);
      const err = abs(results[i]!.totalVariance - ref);
      if (err > 4n + ref / 10n ** 12n) failures.push(`#${i}: got ${results[i]!.totalVariance}, want ${ref}`);
    });
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} cases out of bounds`);
  });
});
