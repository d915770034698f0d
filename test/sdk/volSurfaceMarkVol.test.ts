import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { privateKeyToAccount } from "viem/accounts";
import {
  type VolSurfaceMarkState,
  type VolSurfacePost,
  VOL_SURFACE_MATURITY_STEP,
  getVolSurface,
  signVolSurfacePost,
  volSurfaceMarkVol,
  volSurfaceMaturesAt,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const HOUR = 3600n;
const DAY = 86_400n;
const Q = 10n ** 8n;
const WETH = "0x00000000000000000000000000000000000000e7" as const;
const WBTC = "0x00000000000000000000000000000000000000b7" as const;
const ROUNDS = 40;

/**
 * Randomized parity of the SDK's `volSurfaceMaturesAt` and `volSurfaceMarkVol` (and
 * `getVolSurface`'s `maturesAt`, `mature`, `markVol`) with the oracle's `surface()` and `markVol`,
 * to the wei: first posts landing up to an hour after they were signed, updates at random gaps,
 * reads at random blocks and at the edges of maturity, never-posted, delisted and expired expiries.
 */
describe("VolSurfaceOracle.markVol: SDK parity", async () => {
  const { viem, networkHelpers } = await network.create();
  const publicClient = await viem.getPublicClient();
  const [admin] = await viem.getWalletClients();
  const signers = [1, 2, 3].map((i) => privateKeyToAccount(`0x${String(i).repeat(64)}` as `0x${string}`));
  const oracle = await viem.deployContract("VolSurfaceOracle", [
    admin!.account.address,
    signers.map((s) => s.address),
    2n,
    4n * WAD,
  ]);
  await oracle.write.setUnderlying([WETH, true]);
  const chainId = await publicClient.getChainId();
  const rng = random(0x17b_0001n);

  const start = BigInt(await networkHelpers.time.latest());
  const expiries = [10n, 20n, 30n, 45n].map((d) => (start / DAY + d) * DAY + 8n * HOUR);
  const inForce = new Map<bigint, VolSurfaceMarkState>();
  let listed = true;

  /** The same annualised smile at every expiry and time (w ∝ τ), so no post spends change credit. */
  const smileAt = (expiry: bigint, ts: bigint) => {
    const f = ((expiry - ts) * WAD) / (30n * DAY);
    const q = (x: bigint) => ((x * f) / WAD / Q) * Q;
    return { a: q(WAD / 50n), b: q(WAD / 10n), rho: -3n * 10n ** 17n, m: 0n, sigma: WAD / 5n };
  };

  const post = async (expiry: bigint, ts: bigint, landing: bigint) => {
    const p: VolSurfacePost = {
      underlying: WETH,
      timestamp: ts,
      surfaces: [{ expiry, ...smileAt(expiry, ts), confidence: WAD }],
    };
    const { signatures } = await signVolSurfacePost({
      signers: signers.slice(0, 2),
      oracle: oracle.address,
      chainId,
      post: p,
    });
    await networkHelpers.time.setNextBlockTimestamp(landing);
    await publicClient.waitForTransactionReceipt({ hash: await oracle.write.post([p, signatures]) });
    const previous = inForce.get(expiry);
    inForce.set(expiry, {
      params: smileAt(expiry, ts),
      timestamp: ts,
      confidenceWad: WAD,
      maturesAt: volSurfaceMaturesAt(previous, ts, landing),
    });
  };

  /** Every expiry's markVol at the latest block, chain against SDK, at a random spot and strike. */
  const checkAll = async () => {
    const block = await publicClient.getBlock();
    for (const expiry of expiries) {
      const spotWad = rng.logUniform(10n ** 15n, 10n ** 24n);
      const strikeWad = rng.range(spotWad / 4n + 1n, spotWad * 4n);
      for (const underlying of [WETH, WBTC]) {
        const [volWad, timestamp, confidenceWad, mature] = await oracle.read.markVol(
          [underlying, expiry, spotWad, strikeWad],
          { blockNumber: block.number },
        );
        const sdk = volSurfaceMarkVol({
          surface: underlying === WETH ? inForce.get(expiry) : undefined,
          expiry,
          spotWad,
          strikeWad,
          blockTimestamp: block.timestamp,
          listed: underlying === WETH && listed,
        });
        assert.deepEqual({ volWad, timestamp, confidenceWad, mature }, sdk, `expiry ${expiry} at ${block.timestamp}`);
      }
      const state = inForce.get(expiry);
      if (state === undefined || expiry <= block.timestamp) continue;
      const read = await getVolSurface(publicClient, {
        oracle: oracle.address,
        underlying: WETH,
        expiry,
        blockNumber: block.number,
      });
      assert.equal(read.maturesAt, state.maturesAt);
      assert.equal(read.maturesAt % VOL_SURFACE_MATURITY_STEP, 0n);
      assert.equal(read.mature, block.timestamp >= state.maturesAt);
      if (listed) {
        const [volWad, , , mature] = await oracle.read.markVol([WETH, expiry, spotWad, strikeWad], {
          blockNumber: block.number,
        });
        const mark = read.markVol(spotWad, strikeWad, block.timestamp);
        assert.equal(mark.volWad, volWad);
        assert.equal(mark.mature, mature);
      }
    }
  };

  it("maturity and markVol equal the chain over random first posts, updates and reads", async () => {
    let firstLandings = 0;
    for (let round = 0; round < ROUNDS; ++round) {
      const now = BigInt(await networkHelpers.time.latest());
      const expiry = rng.pick(expiries);
      const previous = inForce.get(expiry);
      const landing = now + rng.range(1n, 2400n);
      // Signed before landing: up to the age limit on a first post; after the one in force (and
      // inside the last hour, so the update earns change credit) on an update.
      let maxDelay = HOUR;
      if (previous !== undefined) {
        maxDelay = landing - previous.timestamp - 1n < HOUR - 1n ? landing - previous.timestamp - 1n : HOUR - 1n;
      }
      const ts = landing - rng.range(0n, maxDelay);
      await post(expiry, ts, landing);
      if (previous === undefined) {
        ++firstLandings;
        const maturesAt = inForce.get(expiry)!.maturesAt;
        assert.ok(maturesAt >= landing + HOUR && maturesAt < landing + HOUR + VOL_SURFACE_MATURITY_STEP);
      }
      await checkAll();
      // Sometimes read at the edges of a pending maturity: a second before it, and at it.
      const pending = [...inForce.values()].map((s) => s.maturesAt).filter((t) => t - 1n > landing);
      if (pending.length > 0 && rng.int(3) === 0) {
        const edge = rng.pick(pending);
        await networkHelpers.time.increaseTo(edge - 1n);
        await checkAll();
        await networkHelpers.time.increaseTo(edge);
        await checkAll();
      } else {
        await networkHelpers.time.increase(rng.range(0n, 1800n));
        await checkAll();
      }
      if (round === ROUNDS / 2) {
        await oracle.write.setUnderlying([WETH, false]);
        listed = false;
        await checkAll();
        await oracle.write.setUnderlying([WETH, true]);
        listed = true;
      }
    }
    assert.equal(firstLandings, expiries.length, "every expiry was first posted");
    // Past the first expiry: it reads zeros, the others still equal the chain.
    await networkHelpers.time.increaseTo(expiries[0]!);
    await checkAll();
    await networkHelpers.time.increase(DAY);
    await checkAll();
  });

  it("the JSDoc examples hold", () => {
    assert.equal(volSurfaceMaturesAt(undefined, 1_700_000_000n, 1_700_000_040n), 1_700_003_640n);
    assert.equal(volSurfaceMaturesAt(undefined, 1_699_996_441n, 1_700_000_041n), 1_700_003_760n);
    assert.equal(
      volSurfaceMaturesAt({ timestamp: 1_700_000_000n, maturesAt: 1_700_003_640n }, 1_700_000_600n, 1_700_000_612n),
      1_700_003_640n,
    );
  });
});
