import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { network } from "hardhat";
import { privateKeyToAccount } from "viem/accounts";

import { getVolSurface } from "../../packages/sdk/src/index.js";
import {
  VolSignerError,
  buildPost,
  mergePayloads,
  parsePayload,
  payloadToJson,
  postSigned,
  readOracleContext,
  signPayload,
} from "../../packages/vol-signer/src/index.js";
import { WAD, WETH, expiryIn, sviQuotes, wad } from "./helpers.js";

/**
 * End to end on the in-process chain: two of three signers fit the same quotes, check them
 * against the oracle, sign and hand their payloads (as JSON files would carry them) to a poster,
 * which merges them to the 2-of-3 quorum and posts; the oracle's surfaces then equal the fit.
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
  await oracle.write.setUnderlying([WETH, true]);
  const chainId = await publicClient.getChainId();
  const truths = [
    { days: 14, p: { a: wad(0.004), b: wad(0.06), rho: wad(-0.4), m: wad(0.0), sigma: wad(0.1) } },
    { days: 45, p: { a: wad(0.02), b: wad(0.1), rho: wad(-0.3), m: wad(0.01), sigma: wad(0.2) } },
  ];

  /** What one signer does: read the oracle, fit, sign; the payload goes through its JSON form. */
  async function signerRun(index: number, scale = 1, confidenceWad = WAD) {
    const now = BigInt(await networkHelpers.time.latest());
    const quotes = truths.flatMap(({ days, p }) =>
      sviQuotes({
        truth: { ...p, a: BigInt(Math.round(Number(p.a) * scale)), b: BigInt(Math.round(Number(p.b) * scale)) },
        now,
        expiry: expiryIn(now, days),
        spread: 0.01,
      }),
    );
    const context = await readOracleContext(publicClient, {
      oracle: oracle.address,
      underlying: WETH,
      expiries: [...new Set(quotes.map((q) => q.expiry))],
    });
    const built = buildPost(quotes, { nowSeconds: now, confidenceWad, oracle: context });
    const payload = await signPayload(signers[index]!, { chainId, oracle: oracle.address, post: built.post });
    const file = `signer-${index}.json`;
    return { built, file, payload: parsePayload(payloadToJson(payload), file) };
  }

  it("posts a 2-of-3 merge of two signers' payloads; getVolSurface equals the fitted, quantized parameters", async () => {
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
      const onChain = await getVolSurface(publicClient, { oracle: oracle.address, underlying: WETH, expiry: s.expiry });
      assert.deepEqual(onChain.params, { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma });
      assert.equal(onChain.confidenceWad, WAD);
      assert.equal(onChain.timestamp, alice.built.post.timestamp);
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

  it("a smile that moves more than the change ratio is refused by the signer before signing (the SDK's check)", async () => {
    await networkHelpers.time.increase(60);
    await assert.rejects(
      signerRun(0, 5),
      (e: unknown) =>
        e instanceof VolSignerError &&
        /^expiry .*Z: Total variance at k = .* moves from .* more than the allowed ratio .*\(allowed ratio 4 at confidence 1\); nothing posted$/.test(
          e.message,
        ),
    );
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

  it("the same move at confidence 0.25 fits the widened bound (ratio / 0.25): signed, posted, held", async () => {
    await networkHelpers.time.increase(60);
    const [alice, bob] = [await signerRun(0, 5, WAD / 4n), await signerRun(1, 5, WAD / 4n)];
    const merged = await mergePayloads([alice, bob]);
    await postSigned(publicClient, poster!, { oracle: merged.oracle, signed: merged.signed, signers: merged.signers });
    for (const s of alice.built.post.surfaces) {
      const onChain = await getVolSurface(publicClient, { oracle: oracle.address, underlying: WETH, expiry: s.expiry });
      assert.equal(onChain.confidenceWad, WAD / 4n);
      assert.deepEqual(onChain.params, { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma });
    }
  });
});
