import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type SviParams, sviCheckAdmissible, sviCheckCalendar, sviCheckChange } from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const vectorsUrl = new URL("../../../shared/vectors/svi.json", import.meta.url);
const cases = (JSON.parse(readFileSync(vectorsUrl, "utf8")) as { cases: Record<string, string>[] }).cases;
const smiles: SviParams[] = cases.map((c) => ({
  a: BigInt(c.a!),
  b: BigInt(c.b!),
  rho: BigInt(c.rho!),
  m: BigInt(c.m!),
  sigma: BigInt(c.sigma!),
}));
/** Each case's time to expiry (6 h to 2 years), the previous smile's τ; the next is posted an hour later. */
const taus: bigint[] = cases.map((c) => BigInt(c.secondsToExpiry!));
const HOUR = 3600n;

/** `p` with total variance scaled by num/den (a and b scaled: the same shape). */
const scaled = (p: SviParams, num: bigint, den: bigint): SviParams => ({
  ...p,
  a: (p.a * num) / den,
  b: (p.b * num) / den,
});

/**
 * Honest surfaces pass the calendar and change checks at every k (rv17b G1): each of the 1,000
 * smiles of `shared/vectors/svi.json` (b up to 1.84, σ down to 0.02, ρ from −0.9 to 0.5, minimum
 * total variance down to 1e-6) as the shorter expiry of a longer one with 3 % more total variance,
 * and moved ×1.2 and ÷1.2 in total variance an hour later at full confidence (×4 allowed in
 * annualised variance, each at its case's time to expiry: rv17c H1), unless the scaled smile breaks Lee's bound. The SDK's verdict is the
 * chain's (a sample through `SviHarness`). The realistic term structure and the crash smile are in
 * test/unit/oracle/VolSurfaceHonest.t.sol.
 */
describe("svi.json smiles pass the calendar and change checks", async () => {
  const { viem } = await network.create();
  const harness = await viem.deployContract("SviHarness");

  it("every smile: calendar against itself +3 %, change ×1.2 and ÷1.2 at ×4 (SDK)", () => {
    const refused: string[] = [];
    let skipped = 0;
    smiles.forEach((p, i) => {
      for (const [name, f] of [
        ["calendar +3 %", () => sviCheckCalendar(p, scaled(p, 103n, 100n))],
        ["change ×1.2", () => sviCheckChange(p, scaled(p, 12n, 10n), 4n * WAD, taus[i]!, taus[i]! - HOUR)],
        ["change ÷1.2", () => sviCheckChange(p, scaled(p, 10n, 12n), 4n * WAD, taus[i]!, taus[i]! - HOUR)],
      ] as const) {
        try {
          // Scaling up can push a steep wing past Lee's bound: no longer a smile anyone may post.
          sviCheckAdmissible(scaled(p, name === "change ×1.2" ? 12n : 103n, name === "change ×1.2" ? 10n : 100n));
        } catch {
          skipped++;
          continue;
        }
        try {
          f();
        } catch (e) {
          refused.push(`#${i} ${name}: ${String(e)}`);
        }
      }
    });
    assert.deepEqual(refused.slice(0, 5), [], `${refused.length} refused`);
    // 39 of the ×1.2 moves break Lee's bound b·(1 + |ρ|) ≤ 2; none of the others.
    assert.equal(skipped, 39);
  });

  it("100 of them on chain: accepted as well", async () => {
    for (let i = 0; i < smiles.length; i += 10) {
      const p = smiles[i]!;
      await harness.read.checkCalendar([p, scaled(p, 103n, 100n)]);
      await harness.read.checkChange([p, scaled(p, 12n, 10n), 4n * WAD, taus[i]!, taus[i]! - HOUR]);
      await harness.read.checkChange([p, scaled(p, 10n, 12n), 4n * WAD, taus[i]!, taus[i]! - HOUR]);
    }
  });
});
