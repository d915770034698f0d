import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { BaseError, ContractFunctionRevertedError } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  MathError,
  VOL_SURFACE_MAX_BATCH,
  type VolSurfacePost,
  checkVolSurfacePostExpiries,
  getVolSurface,
  signVolSurfacePost,
  volSurfaceLiveExpiriesAfter,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const WETH = "0x00000000000000000000000000000000000000e7" as const;
const STEPS = 60;

/** The revert's name and arguments, or undefined when `error` is not a contract revert. */
function revertOf(error: unknown): { name: string; args: readonly unknown[] } | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError) || reverted.data === undefined) return undefined;
  return { name: reverted.data.errorName, args: reverted.data.args ?? [] };
}

/**
 * Review rv17d S1 and V1 through the SDK: `checkVolSurfacePostExpiries` (the live-expiry cap,
 * `MAX_BATCH` = 64) gives exactly the oracle's verdict and error arguments over a random walk of
 * posts and time, `volSurfaceLiveExpiriesAfter` equals `liveExpiries` after each; and
 * `getVolSurface(...).volAt` equals the oracle's posted (non-drifting) `volAt` hours later.
 */
describe("VolSurfaceOracle live-expiry cap and posted vol (rv17d S1, V1): SDK === chain", async () => {
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

  const smile = (expiry: bigint) => ({
    expiry,
    a: 2n * 10n ** 16n,
    b: 10n ** 17n,
    rho: -3n * 10n ** 17n,
    m: 0n,
    sigma: WAD / 5n,
    confidence: WAD,
  });
  const send = async (timestamp: bigint, expiries: readonly bigint[]) => {
    const p: VolSurfacePost = { underlying: WETH, timestamp, surfaces: expiries.map(smile) };
    const { signatures } = await signVolSurfacePost({
      signers: signers.slice(0, 2),
      oracle: oracle.address,
      chainId,
      post: p,
    });
    return oracle.write.post([p, signatures]);
  };

  it(`${STEPS} random posts of new expiries and time steps: the SDK's cap verdict and live set equal the chain's`, async () => {
    assert.equal(await oracle.read.MAX_BATCH(), VOL_SURFACE_MAX_BATCH);
    const rng = random(0x17dn);
    // Noon UTC (plus a minute a step): every landing block within minutes of it sees the same
    // expiries (08:00) live.
    let t = (BigInt(await networkHelpers.time.latest()) / DAY + 1n) * DAY + 12n * 3600n;
    let refused = 0;
    let accepted = 0;
    for (let step = 0; step < STEPS; step++) {
      t += BigInt(rng.pick([0, 0, 1, 2, 5])) * DAY + 60n;
      await networkHelpers.time.increaseTo(t);
      const inForce = await oracle.read.liveExpiries([WETH]);
      const today = t / DAY;
      const start = today + 1n + BigInt(rng.int(200));
      const count = 1 + rng.int(rng.pick([4, 24, 64]));
      const fresh: bigint[] = [];
      for (let d = start; d < start + BigInt(count) && d <= today + 364n; d++) {
        const e = d * DAY + 8n * 3600n;
        if (!inForce.includes(e)) fresh.push(e);
      }
      if (fresh.length === 0) continue;
      let predicted: MathError | undefined;
      try {
        checkVolSurfacePostExpiries(inForce, fresh, t);
      } catch (e) {
        assert.ok(e instanceof MathError);
        predicted = e;
      }
      try {
        await send(t, fresh);
        assert.equal(
          predicted,
          undefined,
          `step ${step}: the chain accepted what the SDK refused (${predicted?.message})`,
        );
        accepted++;
      } catch (e) {
        const revert = revertOf(e);
        if (revert === undefined) throw e;
        assert.ok(predicted !== undefined, `step ${step}: the chain refused ${revert.name}, the SDK accepted`);
        assert.equal(predicted.signature.split("(")[0], revert.name);
        assert.deepEqual(predicted.args, revert.args);
        refused++;
      }
      const live = await oracle.read.liveExpiries([WETH]);
      assert.deepEqual([...live], volSurfaceLiveExpiriesAfter(inForce, predicted === undefined ? fresh : [], t));
      assert.ok(BigInt(live.length) <= VOL_SURFACE_MAX_BATCH);
      assert.equal(await oracle.read.liveExpiryCount([WETH]), BigInt(live.length));
    }
    assert.ok(refused > 3 && accepted > 10, `both verdicts exercised (${accepted} accepted, ${refused} refused)`);
  });

  it("getVolSurface().volAt equals the chain's posted vol hours later (no drift: expiry − timestamp)", async () => {
    const now = BigInt(await networkHelpers.time.latest());
    const live = await oracle.read.liveExpiries([WETH]);
    const expiry = live[0]!;
    const surface = await getVolSurface(publicClient, { oracle: oracle.address, underlying: WETH, expiry });
    const before = await oracle.read.volAt([WETH, expiry, 2000n * WAD, 1800n * WAD]);
    await networkHelpers.time.increase(6 * 3600);
    assert.ok(BigInt(await networkHelpers.time.latest()) > now);
    const [vol] = await oracle.read.volAt([WETH, expiry, 2000n * WAD, 1800n * WAD]);
    assert.equal(vol, before[0]);
    assert.equal(surface.volAt(2000n * WAD, 1800n * WAD), vol);
    assert.equal(surface.volAt(2000n * WAD, 1800n * WAD, expiry - surface.timestamp), vol);
  });
});
