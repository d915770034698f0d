import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { network } from "hardhat";
import { type Address, BaseError, ContractFunctionRevertedError } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  type VolSurfacePost,
  getVolSurface,
  signVolSurfacePost,
  sviAllowedChangeRatioOver,
  sviCarriedConfidence,
} from "../../packages/sdk/src/index.js";
import {
  MAX_BATCH,
  MAX_POST_AGE,
  type Quote,
  VolSignerError,
  buildPost,
  mergePayloads,
  parsePayload,
  payloadToJson,
  postSigned,
  readOracleContext,
  signPayload,
} from "../../packages/vol-signer/src/index.js";
import { DAY, WAD, WETH, expiryIn, num, seeded, sviQuotes, wad } from "./helpers.js";

/** The oracle's custom error name of a failed simulation. */
function revertName(error: unknown): string | undefined {
  const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

/**
 * End to end on the in-process chain: two of three signers fit the same quotes, check them
 * against the oracle as it stands (surface in force, its timestamp and carried confidence), sign
 * and hand their payloads (as JSON files would carry them) to a poster, which merges them to the
 * 2-of-3 quorum and posts. Whatever the signer signs, the oracle accepts; whatever it refuses, the
 * oracle refuses too.
 */
describe("vol-signer: two signers sign, the poster posts, the oracle holds the fit", async () => {
  const { viem, networkHelpers } = await network.create();
  const publicClient = await viem.getPublicClient();
  const [admin, poster] = await viem.getWalletClients();
  const signers = [1, 2, 3].map((i) => privateKeyToAccount(`0x${String(i).repeat(64)}` as `0x${string}`));
  const oracle = await viem.deployContract("VolSurfaceOracle", [
    admin!.account.address,
    signers.map((s) => s.address),
    2n,
    4n * WAD,
  ]);
  const WBTC: Address = "0x00000000000000000000000000000000000000b7";
  // 12:00 UTC: the tests' expiries (whole days ahead at 08:00) stay the same days throughout.
  await networkHelpers.time.increaseTo((BigInt(await networkHelpers.time.latest()) / DAY + 1n) * DAY + 12n * 3600n);
  await oracle.write.setUnderlying([WETH, true]);
  await oracle.write.setUnderlying([WBTC, true]);
  const chainId = await publicClient.getChainId();
  const truths = [
    { days: 14, p: { a: wad(0.004), b: wad(0.06), rho: wad(-0.4), m: wad(0.0), sigma: wad(0.1) } },
    { days: 45, p: { a: wad(0.02), b: wad(0.1), rho: wad(-0.3), m: wad(0.01), sigma: wad(0.2) } },
  ];
  const scaled = (p: (typeof truths)[number]["p"], scale: number) => ({
    ...p,
    a: BigInt(Math.round(Number(p.a) * scale)),
    b: BigInt(Math.round(Number(p.b) * scale)),
  });

  /** Quotes of the truths with total variance ×`scale` (a and b scaled), at the chain's time. */
  async function quotesNow(scale = 1, underlying: Address = WETH, extraExpiries: bigint[] = []) {
    const now = BigInt(await networkHelpers.time.latest());
    const expiries = [
      ...extraExpiries.map((expiry) => ({ expiry, p: truths[0]!.p })),
      ...truths.map(({ days, p }) => ({ expiry: expiryIn(now, days), p })),
    ];
    const quotes = expiries.flatMap(({ expiry, p }) =>
      sviQuotes({ truth: scaled(p, scale), now, expiry, spread: 0.01 }).map((q) => ({ ...q, underlying })),
    );
    return { now, quotes };
  }

  /** What one signer does: read the oracle, fit, sign; the payload goes through its JSON form. */
  async function signerRun(
    index: number,
    scale = 1,
    options: { keepConfidence?: boolean; underlying?: Address; extraExpiries?: bigint[] } = {},
  ) {
    const { now, quotes } = await quotesNow(scale, options.underlying, options.extraExpiries);
    const context = await readOracleContext(publicClient, {
      oracle: oracle.address,
      underlying: options.underlying ?? WETH,
    });
    const built = buildPost(quotes, {
      nowSeconds: now,
      oracle: context,
      keepConfidence: options.keepConfidence ?? false,
    });
    const payload = await signPayload(signers[index]!, { chainId, oracle: oracle.address, post: built.post });
    const file = `signer-${index}.json`;
    return { built, file, payload: parsePayload(payloadToJson(payload), file) };
  }

  /** Signs `post` with two signers, skipping the signer's checks, and asks the oracle (no transaction). */
  async function oracleVerdict(post: VolSurfacePost): Promise<string> {
    const signed = await signVolSurfacePost({ signers: signers.slice(0, 2), chainId, oracle: oracle.address, post });
    try {
      await publicClient.simulateContract({
        address: oracle.address,
        abi: oracle.abi,
        functionName: "post",
        args: [{ ...post, surfaces: [...post.surfaces] }, signed.signatures],
        account: poster!.account,
      });
      return "accepted";
    } catch (error) {
      return revertName(error) ?? String(error);
    }
  }

  const onChain = (expiry: bigint, underlying: Address = WETH) =>
    getVolSurface(publicClient, { oracle: oracle.address, underlying, expiry });

  it("the signer's copies of the oracle's time limits are the deployed oracle's", async () => {
    assert.equal(await oracle.read.MAX_POST_AGE(), MAX_POST_AGE);
    assert.equal(await oracle.read.MAX_BATCH(), BigInt(MAX_BATCH));
  });

  it("posts a 2-of-3 merge of two signers' payloads; getVolSurface equals the fitted, quantized parameters", async () => {
    // A fresh block to sign at: the in-process chain stamps blocks from the wall clock, so on a loaded
    // machine the set-up's last block can be many minutes old, and a post signed at it would leave the
    // oracle that much change credit for the tests below (a ×5 move then fits).
    await networkHelpers.mine();
    const [alice, bob] = [await signerRun(0), await signerRun(1)];
    assert.deepEqual(alice.payload.post, bob.payload.post, "both signers fit the same quotes to the same post");
    const merged = await mergePayloads([alice, bob]);
    const { gasUsed } = await postSigned(publicClient, poster!, {
      oracle: merged.oracle,
      signed: merged.signed,
      signers: merged.signers,
    });
    console.log(`    posted 2 expiries, 2-of-3: ${gasUsed} gas`);
    for (const s of alice.built.post.surfaces) {
      const held = await onChain(s.expiry);
      assert.deepEqual(held.params, { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma });
      assert.equal(held.confidenceWad, WAD);
      assert.equal(held.timestamp, alice.built.post.timestamp);
    }
  });

  it("one payload is not a quorum: refused before sending, naming the quorum", async () => {
    await networkHelpers.time.increase(60);
    const alice = await signerRun(0);
    const merged = await mergePayloads([alice, alice]);
    await assert.rejects(
      postSigned(publicClient, poster!, { oracle: merged.oracle, signed: merged.signed, signers: merged.signers }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        /^1 signature\(s\); oracle 0x[0-9a-fA-F]{40} needs a quorum of 2/.test(e.message),
    );
  });

  it("payloads of different posts are not merged", async () => {
    await networkHelpers.time.increase(60);
    const alice = await signerRun(0);
    await networkHelpers.time.increase(1);
    const bob = await signerRun(1);
    await assert.rejects(mergePayloads([alice, bob]), /signer-1.json: signs a different post from signer-0.json/);
  });

  it("a signer the oracle does not know: the poster refuses before sending", async () => {
    await networkHelpers.time.increase(60);
    const alice = await signerRun(0);
    const stranger = privateKeyToAccount(`0x${"4".repeat(64)}`);
    const forged = await signPayload(stranger, { chainId, oracle: oracle.address, post: alice.payload.post });
    const merged = await mergePayloads([alice, { file: "stranger.json", payload: forged }]);
    await assert.rejects(
      postSigned(publicClient, poster!, { oracle: merged.oracle, signed: merged.signed, signers: merged.signers }),
      new RegExp(`${stranger.address} is not a signer of oracle`),
    );
  });

  it("a ×5 move minutes after the last post: refused before signing, naming when it would fit; the oracle refuses it too", async () => {
    await networkHelpers.time.increase(60);
    await assert.rejects(
      signerRun(0, 5),
      (e: unknown) =>
        e instanceof VolSignerError &&
        /^expiry .*Z: (total variance at k = .*|the (left|right) .*wing's slope of total variance) moves from .* to .* \(×5\.000\); \d+ s of credit after the surface in force .* the oracle allows ×[\d.]+ in annualised variance at confidence 1; even at confidence ≤ 0\.25 it allows only ×[\d.]+; the move fits from .*Z \(\d+ s after the surface in force\); nothing signed or posted$/.test(
          e.message,
        ),
    );
    // The same post signed without the signer's checks: the oracle refuses it, and nothing changed.
    const { now, quotes } = await quotesNow(5);
    const unchecked = buildPost(quotes, { nowSeconds: now });
    // The whole smile ×5: its wings fail first (the oracle's check order, which the signer's mirrors).
    assert.match(await oracleVerdict(unchecked.post), /^SviChange(Wing)?TooLarge$/);
    assert.equal((await onChain(unchecked.post.surfaces[0]!.expiry)).confidenceWad, WAD);
  });

  it("a move between the bounds at confidence 1 and 0.25: signed at the highest confidence the oracle admits, posted, held", async () => {
    await networkHelpers.time.increase(60);
    // Total variance ×s, s strictly between the allowances at confidence 1 and 0.25 over the elapsed time.
    const held = await onChain(expiryIn(BigInt(await networkHelpers.time.latest()), truths[0]!.days));
    const elapsed = BigInt(await networkHelpers.time.latest()) - held.timestamp;
    const [tight, wide] = [WAD, WAD / 4n].map((c) => num(sviAllowedChangeRatioOver(4n * WAD, c, elapsed)));
    const s = Math.sqrt(tight! * wide!);
    await assert.rejects(
      signerRun(0, s, { keepConfidence: true }),
      /it admits the move at confidence ≤ 0\.\d+ \(signed so without --keep-confidence\); nothing signed or posted$/,
    );
    const [alice, bob] = [await signerRun(0, s), await signerRun(1, s)];
    const fit = alice.built.fits[0]!;
    assert.ok(
      fit.change?.lowered && fit.confidenceWad < WAD && fit.confidenceWad >= WAD / 4n,
      String(fit.confidenceWad),
    );
    // Tight: one confidence step higher, the oracle refuses it.
    const higher = alice.built.post.surfaces.map((x, i) =>
      i === 0 ? { ...x, confidence: x.confidence + 10n ** 9n } : x,
    );
    assert.match(await oracleVerdict({ ...alice.built.post, surfaces: higher }), /^SviChange(Wing)?TooLarge$/);

    const merged = await mergePayloads([alice, bob]);
    await postSigned(publicClient, poster!, { oracle: merged.oracle, signed: merged.signed, signers: merged.signers });
    for (const [i, x] of alice.built.post.surfaces.entries()) {
      const now = await onChain(x.expiry);
      assert.deepEqual(now.params, { a: x.a, b: x.b, rho: x.rho, m: x.m, sigma: x.sigma });
      // Stored at the carried confidence the signer predicted (the SDK's sviCarriedConfidence).
      assert.equal(now.confidenceWad, alice.built.fits[i]!.change!.carriedConfidenceWad);
      assert.equal(now.confidenceWad, sviCarriedConfidence(WAD, x.confidence, alice.built.fits[i]!.change!.elapsed));
    }
  });

  it("an expiry within the landing latency is left out; the rest is posted", async () => {
    const latest = BigInt(await networkHelpers.time.latest());
    const soon = (latest / DAY + 1n) * DAY + 8n * 3600n;
    await networkHelpers.time.increaseTo(soon - 100n);
    const run = (i: number) => signerRun(i, 1, { underlying: WBTC, extraExpiries: [soon] });
    const [alice, bob] = [await run(0), await run(1)];
    assert.deepEqual(
      alice.built.dropped.map((d) => d.expiry),
      [soon],
    );
    assert.match(alice.built.dropped[0]!.reason, /expires within the landing latency \(300 s after .*Z\)/);
    assert.ok(!alice.built.post.surfaces.some((x) => x.expiry === soon));
    const merged = await mergePayloads([alice, bob]);
    await postSigned(publicClient, poster!, { oracle: merged.oracle, signed: merged.signed, signers: merged.signers });
    for (const x of alice.built.post.surfaces) assert.equal((await onChain(x.expiry, WBTC)).params.a, x.a);
    await assert.rejects(onChain(soon, WBTC), /VolSurfaceNotPosted/);
  });

  /**
   * rv17c H2: independent per-expiry fits of a dense term structure are refused by the oracle's
   * calendar bound; the joint (SSVI) fit is accepted. rv17d S1: the whole live term structure goes
   * in one post (at most 64 expiries), so a skew move is never split. Noisy quotes (±1 vol point,
   * seeded, 2-point spreads) of a 60 %-vol SSVI surface (ρ −0.3, φ = θ^−½) on every day out to 64
   * days: one post, every smile held as signed. The same quotes fitted per expiry are refused
   * before signing with one line. A 65th expiry is refused with one line, before fitting.
   */
  it("a daily term structure of 64 expiries from noisy quotes: one post, accepted; +10 % 15 min later; a minute later unchanged, shape kept; two hours later ρ −0.3 → −0.35 in one post (rv17d S1); a 65th expiry refused", async () => {
    const DAILY: Address = "0x00000000000000000000000000000000000000d1";
    await oracle.write.setUnderlying([DAILY, true]);
    const start = BigInt(await networkHelpers.time.latest());
    const expiries = Array.from({ length: 64 }, (_, d) => expiryIn(start, d + 1));
    /** Noisy quotes (seed `seed`) of the SSVI surface with total variance ×`scale` and skew ρ, at `now`. */
    const dailyQuotes = (now: bigint, seed: number, scale = 1, rho = -0.3, days = expiries): Quote[] => {
      const rnd = seeded(seed);
      return days.flatMap((expiry) => {
        const T = Number(expiry - now) / (365 * 86400);
        const theta = 0.36 * T * scale;
        const phi = 1 / Math.sqrt(theta);
        const truth = {
          a: wad((theta * (1 - rho * rho)) / 2),
          b: wad((theta * phi) / 2),
          rho: wad(rho),
          m: wad(-rho / phi),
          sigma: wad(Math.sqrt(1 - rho * rho) / phi),
        };
        // Strikes over about ±2 standard deviations of each expiry.
        const ks = [-2, -1.5, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.5, 2].map((z) => z * 0.6 * Math.sqrt(T));
        return sviQuotes({ truth, now, expiry, ks, spread: 0.02, noise: () => (rnd() - 0.5) * 0.02 }).map((q) => ({
          ...q,
          underlying: DAILY,
        }));
      });
    };
    /** Two signers sign the post of `built`; the poster lands it; the oracle holds it. */
    const postAll = async (built: ReturnType<typeof buildPost>) => {
      const post = built.post;
      const payloads = await Promise.all(
        [0, 1].map(async (i) => ({
          file: `daily-${i}.json`,
          payload: await signPayload(signers[i]!, { chainId, oracle: oracle.address, post }),
        })),
      );
      const merged = await mergePayloads(payloads);
      const { gasUsed } = await postSigned(publicClient, poster!, {
        oracle: merged.oracle,
        signed: merged.signed,
        signers: merged.signers,
      });
      console.log(`    posted ${post.surfaces.length} daily expiries in one post: ${gasUsed} gas`);
      for (const x of post.surfaces) {
        const held = await onChain(x.expiry, DAILY);
        assert.deepEqual(held.params, { a: x.a, b: x.b, rho: x.rho, m: x.m, sigma: x.sigma });
        assert.equal(held.timestamp, post.timestamp);
      }
    };
    const context = () => readOracleContext(publicClient, { oracle: oracle.address, underlying: DAILY });
    const now = start;
    const quotes = dailyQuotes(now, 17);
    const ctx0 = await context();
    // 65 expiries: refused with one line before anything is fitted.
    const day65 = expiryIn(start, 65);
    assert.throws(
      () => buildPost(dailyQuotes(now, 17, 1, -0.3, [...expiries, day65]), { nowSeconds: now, oracle: undefined }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        !e.message.includes("\n") &&
        /^65 expiries quoted: the oracle holds at most 64 live expiries per underlying and takes them all in one post .*; nothing signed or posted$/.test(
          e.message,
        ),
    );
    // Per expiry: refused before signing, one line naming the pair.
    assert.throws(
      () => buildPost(quotes, { nowSeconds: now, oracle: ctx0, fit: "per-expiry" }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        !e.message.includes("\n") &&
        /^calendar arbitrage between .*Z and .*Z.*: .*; fitted per expiry: if the quotes are free of arbitrage, --fit joint .*; nothing posted$/.test(
          e.message,
        ),
    );
    const built = buildPost(quotes, { nowSeconds: now, oracle: ctx0 });
    assert.equal(built.fitMode, "joint", "auto picks the joint fit for daily expiries");
    assert.equal(built.post.surfaces.length, 64);
    for (const f of built.fits) assert.ok(f.rmseVol < 0.02, `${f.expiry}: ${f.rmseVol}`);
    await postAll(built);
    assert.equal(await oracle.read.liveExpiryCount([DAILY]), 64n);

    // With 64 live, a 65th expiry alone is refused before signing (the chain's cap), one line.
    await assert.rejects(
      async () =>
        buildPost(dailyQuotes(now + 1n, 20, 1, -0.3, [day65]), { nowSeconds: now + 1n, oracle: await context() }),
      (e: unknown) =>
        e instanceof VolSignerError &&
        !e.message.includes("\n") &&
        /^1 expiries quoted and 64 other live on chain \(.*, … 61 more\) make 65 live expiries: .*VolSurfaceTooManyExpiries.*; nothing signed or posted$/.test(
          e.message,
        ),
    );

    // 15 minutes later: the level up 10 %, fresh noise; refitted jointly, checked against the
    // surfaces in force (change and calendar), all accepted at full confidence in one post.
    await networkHelpers.time.increase(900);
    const later = BigInt(await networkHelpers.time.latest());
    const update = buildPost(dailyQuotes(later, 18, 1.1), { nowSeconds: later, oracle: await context() });
    assert.ok(
      update.fits.every((f) => f.change !== undefined && f.confidenceWad === WAD),
      "every expiry an update at full confidence",
    );
    assert.deepEqual(update.unquoted, []);
    await postAll(update);

    // A minute later, the same market with fresh noise (rv17d S2): the shape in force is read back
    // from the chain and kept, the levels stay within the quotes' noise, and all 64 expiries are
    // accepted at full confidence (a free refit's noise exceeds the minute's ×1.023).
    await networkHelpers.time.increase(60);
    const minute = BigInt(await networkHelpers.time.latest());
    const refit = buildPost(dailyQuotes(minute, 19, 1.1), { nowSeconds: minute, oracle: await context() });
    assert.equal(refit.shape?.held, true, "the shape in force is kept");
    assert.ok(
      refit.fits.every((f) => f.change !== undefined && f.confidenceWad === WAD),
      "every expiry an update at full confidence",
    );
    await postAll(refit);

    // rv17d S1: two hours later the skew steepens, ρ −0.3 → −0.35 at the same level. Split at a
    // post boundary it was refused for every expiry (a wing inversion at the boundary either way);
    // in one post it is signed and accepted, every expiry at full confidence.
    await networkHelpers.time.increase(7200);
    const skewed = BigInt(await networkHelpers.time.latest());
    const skew = buildPost(dailyQuotes(skewed, 21, 1.1, -0.35), { nowSeconds: skewed, oracle: await context() });
    assert.equal(skew.shape?.held, false, "the quotes' shape moved");
    assert.ok(skew.fits.every((f) => f.confidenceWad === WAD));
    await postAll(skew);
    assert.ok(num((await onChain(expiries[0]!, DAILY)).params.rho) < -0.33);
  });
});
