import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VolSurfaceTooManyExpiriesError, checkVolSurfacePostExpiries } from "../../packages/sdk/src/index.js";

// rv17e T1 (SDK half): the chain caps a post that adds one expiry among updates (the signer's
// whole-surface post). The SDK parity test posts only fresh expiries, so a mutant that checks the
// cap only when *every* member is new (`some` → `every`) passes it. This pure test pins the mixed
// case: passes on HEAD, fails on that mutant.
describe("rv17e T1: checkVolSurfacePostExpiries caps a mixed post", () => {
  it("64 in force, one new expiry posted with an update is refused (65, 64)", () => {
    const DAY = 86_400n;
    const day = (d: bigint) => (19_676n + d) * DAY + 28_800n;
    const now = day(0n) + 1n;
    const inForce = Array.from({ length: 64 }, (_, i) => day(BigInt(i) + 2n)); // days 2–65
    const post = [day(1n), day(2n)]; // day 1 new, day 2 an update
    assert.throws(
      () => checkVolSurfacePostExpiries(inForce, post, now),
      (e: unknown) => e instanceof VolSurfaceTooManyExpiriesError && e.args[0] === 65n && e.args[1] === 64n,
    );
  });
});
