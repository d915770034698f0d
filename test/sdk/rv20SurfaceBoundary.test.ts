import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { callPrice, markAndSpot, seriesId } from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;

/**
 * Review rv20 (P3e): the SDK's FRESH/FALLBACK edge is the chain's (`MarginValuation._markVol`,
 * pinned on chain by `test_stale_boundaryIsMaxAge`): at exactly `timestamp + maxAge` the surface is
 * still FRESH, a second later FALLBACK. The randomized parity test never lands on that second, so a
 * `<` → `<=` mutant of the SDK survived it.
 */
describe("SDK surface FRESH/FALLBACK edge at maxAge", () => {
  const expiry = 1_800_000_000n + 8n * 3_600n - (1_800_000_000n % 86_400n);
  const id = seriesId({ underlyingIndex: 1, expiry, isCall: true, strikeWad: 3_300n * WAD });
  const postedAt = expiry - 30n * 86_400n;
  const maxAge = 7_200n;
  const read = { volWad: 7n * 10n ** 17n, timestamp: postedAt, confidenceWad: WAD, mature: true };
  const underlying = {
    spotWad: 3_000n * WAD,
    volWad: 8n * 10n ** 17n,
    params: { aIM: 15n * 10n ** 16n, bIM: 10n ** 17n, aMM: 8n * 10n ** 16n, bMM: 5n * 10n ** 16n },
    surface: {
      asset: "0x00000000000000000000000000000000000000c2" as const,
      maxAge,
      addOnWad: 10n ** 16n,
      reads: new Map([[id, read]]),
    },
  };

  it("is FRESH at exactly maxAge: the surface's vol, no add-on at confidence 1", () => {
    const now = postedAt + maxAge;
    const m = markAndSpot(id, underlying, now);
    assert.equal(m.surfaceFallback, false);
    assert.equal(m.volWad, read.volWad);
    assert.equal(m.addOnWad, 0n);
    assert.equal(m.markWad, callPrice(underlying.spotWad, 3_300n * WAD, expiry - now, read.volWad));
  });

  it("is FALLBACK a second later: a short at max(last, feed), and the full add-on", () => {
    const m = markAndSpot(id, underlying, postedAt + maxAge + 1n);
    assert.equal(m.surfaceFallback, true);
    assert.equal(m.volWad, underlying.volWad);
    assert.equal(m.addOnWad, 30n * WAD);
  });

  it("values a long at FALLBACK at min(last, feed), a short at max (review rv20 P1)", () => {
    const now = postedAt + maxAge + 1n;
    assert.equal(markAndSpot(id, underlying, now, true).volWad, read.volWad);
    assert.equal(markAndSpot(id, underlying, now, false).volWad, underlying.volWad);
    const high = { ...underlying, volWad: 6n * 10n ** 17n };
    assert.equal(markAndSpot(id, high, now, true).volWad, high.volWad);
    assert.equal(markAndSpot(id, high, now, false).volWad, read.volWad);
  });
});
