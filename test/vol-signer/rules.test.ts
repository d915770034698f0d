import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { type SviParams, sviCarriedConfidence } from "../../packages/sdk/src/index.js";
import { ExitCode, type OracleContext, VolSignerError, buildPost } from "../../packages/vol-signer/src/index.js";
import { DAY, NOW, WAD, expiryIn, sviQuotes, wad } from "./helpers.js";

/**
 * The oracle's rules as the signer applies them before signing, without a chain: the change
 * credit in every block the post may land in, the carried confidence, the time limits and the
 * landing latency. The same rules against a deployed oracle: `post.test.ts`.
 */
const truth: SviParams = { a: wad(0.02), b: wad(0.1), rho: wad(-0.3), m: wad(0.01), sigma: wad(0.2) };
const expiry = expiryIn(NOW, 30);
const quotes = (scale = 1, at = NOW, e = expiry) =>
  sviQuotes({
    truth: {
      ...truth,
      a: (truth.a * BigInt(Math.round(scale * 1e6))) / 10n ** 6n,
      b: (truth.b * BigInt(Math.round(scale * 1e6))) / 10n ** 6n,
    },
    now: at,
    expiry: e,
    spread: 0.01,
  });
const posted = buildPost(quotes(), { nowSeconds: NOW }).post.surfaces[0]!;
const chain = (inForce: { timestamp: bigint; confidenceWad: bigint }, blockTimestamp = NOW): OracleContext => ({
  changeRatioWad: 4n * WAD,
  blockTimestamp,
  liveExpiries: [expiry],
  surfaces: new Map([[expiry, { params: posted, ...inForce }]]),
});
const refused =
  (pattern: RegExp, code: number = ExitCode.REJECTED) =>
  (e: unknown) =>
    e instanceof VolSignerError && e.exitCode === code && pattern.test(e.message);

describe("vol-signer: the oracle's rules before signing", () => {
  it("×1.04 two minutes after the surface in force: confidence 1 when stored at the signed time", () => {
    const { fits } = buildPost(quotes(1.04), {
      nowSeconds: NOW,
      oracle: chain({ timestamp: NOW - 120n, confidenceWad: WAD }),
    });
    assert.equal(fits[0]!.confidenceWad, WAD);
    assert.equal(fits[0]!.change?.elapsed, 120n);
  });

  it("after an hour's quiet, checked in the latest block it may land in: 3300 s of credit, not 3600, so the confidence is lowered", () => {
    // Credit starts no earlier than an hour before the landing block: landing up to 300 s after
    // NOW, a post signed at NOW earns 3300–3600 s against a surface two hours old.
    const { fits } = buildPost(quotes(3.8), {
      nowSeconds: NOW,
      oracle: chain({ timestamp: NOW - 7200n, confidenceWad: WAD }),
    });
    assert.equal(fits[0]!.change!.elapsed, 3300n);
    assert.ok(fits[0]!.change!.lowered && fits[0]!.confidenceWad < WAD, String(fits[0]!.confidenceWad));
    // Landing within a minute: 3540 s at worst, and ×3.8 fits at confidence 1 (4^(3540/3600) = 3.91).
    const quick = buildPost(quotes(3.8), {
      nowSeconds: NOW,
      landingLatencySeconds: 60n,
      oracle: chain({ timestamp: NOW - 7200n, confidenceWad: WAD }),
    });
    assert.equal(quick.fits[0]!.confidenceWad, WAD);
  });

  it("the confidence carried forward widens the bound as the oracle's does: ×1.35 ten minutes after a post at 0.25", () => {
    const { fits } = buildPost(quotes(1.35), {
      nowSeconds: NOW,
      oracle: chain({ timestamp: NOW - 600n, confidenceWad: WAD / 4n }),
    });
    const change = fits[0]!.change!;
    assert.equal(fits[0]!.confidenceWad, WAD, "posted at the requested confidence");
    assert.equal(change.lowered, false);
    assert.equal(change.carriedConfidenceWad, sviCarriedConfidence(WAD / 4n, WAD, 600n));
    assert.ok(change.carriedConfidenceWad < WAD / 2n);
  });

  it("not newer than the surface in force, signed after the chain's time, or stale on landing: refused naming the oracle's error", () => {
    assert.throws(
      () => buildPost(quotes(), { nowSeconds: NOW, oracle: chain({ timestamp: NOW, confidenceWad: WAD }) }),
      refused(
        /: the surface in force is stamped .* not before this post's .*VolSurfaceNotNewer\); nothing signed or posted$/,
      ),
    );
    assert.throws(
      () =>
        buildPost(quotes(), {
          nowSeconds: NOW,
          oracle: chain({ timestamp: NOW - 900n, confidenceWad: WAD }, NOW - 1n),
        }),
      refused(/is after the chain's .*VolSurfaceFutureTimestamp\); sign at or before the latest block's time/),
    );
    assert.throws(
      () =>
        buildPost(quotes(), { nowSeconds: NOW - 3400n, oracle: chain({ timestamp: NOW - 3500n, confidenceWad: WAD }) }),
      refused(/more than 3600 s before the chain's .* plus the landing latency \(300 s\).*VolSurfaceStaleTimestamp/),
    );
  });

  it("expiries within the landing latency or past are left out; the latency is configurable; nothing left is a refusal", () => {
    const soon = expiryIn(NOW, 1);
    const at = soon - 200n;
    // The nearest expiry with half the variance, so that it stays below the next (no calendar arbitrage).
    const both = [
      ...quotes(0.5, at, soon),
      ...quotes(1, at, expiryIn(NOW, 30)),
      ...quotes(1, soon - DAY - 3600n, soon - DAY),
    ];
    const { post, dropped } = buildPost(both, { nowSeconds: at });
    assert.deepEqual(
      post.surfaces.map((s) => s.expiry),
      [expiryIn(NOW, 30)],
    );
    assert.deepEqual(
      dropped.map((d) => [d.expiry, d.reason.split(" (")[0]]),
      [
        [soon - DAY, "expired"],
        [soon, "expires within the landing latency"],
      ],
    );
    const tight = buildPost(
      both.filter((q) => q.expiry !== soon - DAY),
      { nowSeconds: at, landingLatencySeconds: 60n },
    );
    assert.equal(tight.post.surfaces.length, 2);
    assert.throws(
      () => buildPost(quotes(0.5, at, soon), { nowSeconds: at }),
      refused(
        /^every expiry of the quotes has expired or expires within the landing latency \(300 s after .*Z\): nothing to post$/,
      ),
    );
  });
});
