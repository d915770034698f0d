import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { EXPIRY_TIME_OF_DAY, expiryAfter, formatTimestamp } from "../../packages/sdk/src/index.js";

/** Issue 13: the 08:00 UTC expiry rule, as a helper instead of arithmetic in every caller. */
describe("expiryAfter", () => {
  it("lands on 08:00 UTC, whole days after today, whatever the time of day now", () => {
    const newYear = 1_767_225_600n; // 2026-01-01T00:00:00Z
    assert.equal(formatTimestamp(expiryAfter(newYear, 30)), "2026-01-31T08:00:00Z");
    assert.equal(formatTimestamp(expiryAfter(newYear + 86_399n, 1)), "2026-01-02T08:00:00Z");
    assert.equal(expiryAfter(newYear + 12_345n, 7) % 86_400n, EXPIRY_TIME_OF_DAY);
  });
});
