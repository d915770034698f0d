import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { privateKeyToAccount } from "viem/accounts";
import {
  type AddressBook,
  PledgeMissingAddressError,
  getVolSurface,
  signVolSurfacePost,
  type VolSurfacePost,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const WETH = "0x00000000000000000000000000000000000000e7" as const;

/**
 * End to end: the SDK signs a 2-of-3 post, the oracle accepts it, `getVolSurface(...).volAt`
 * equals the chain's `volAt`, and the gas of posting one expiry stays under issue 17's 120k (the
 * bench's rows come from `scripts/bench.ts` on the deployed oracle).
 */
describe("VolSurfaceOracle through the SDK", async () => {
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
  let postedExpiry = 0n; // the expiry the first test posts, read again by the second

  const post = async (timestamp: bigint, level: bigint, expiryOf?: bigint) => {
    const now = BigInt(await networkHelpers.time.latest());
    const expiry = expiryOf ?? (now / 86400n + 30n) * 86400n + 8n * 3600n;
    const p: VolSurfacePost = {
      underlying: WETH,
      timestamp,
      surfaces: [
        {
          expiry,
          a: (2n * level) / 100n,
          b: level / 10n,
          rho: -3n * 10n ** 17n,
          m: 0n,
          sigma: WAD / 5n,
          confidence: WAD,
        },
      ],
    };
    const { signatures } = await signVolSurfacePost({
      signers: signers.slice(0, 2),
      oracle: oracle.address,
      chainId,
      post: p,
    });
    const hash = await oracle.write.post([p, signatures]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    return { expiry, gas: receipt.gasUsed };
  };

  it("posts a first and a second surface for one expiry with 2 of 3 signers (both under 120k gas)", async () => {
    const t0 = BigInt(await networkHelpers.time.latest());
    const first = await post(t0, WAD);
    // An hour later, so ×1.1 is inside the per-hour bound (a minute allows only 4^(1/60) ≈ ×1.023).
    await networkHelpers.time.increase(3600);
    const second = await post(t0 + 3600n, (11n * WAD) / 10n, first.expiry);
    postedExpiry = first.expiry;
    console.log(`    post one expiry, 2-of-3: first ${first.gas} gas, update ${second.gas} gas`);
    // Issue 17's target: ≤ 120k. The first post here is the worst case: the surface's word and
    // the underlying's bitmap word are both fresh.
    assert.ok(first.gas <= 120_000n, `first post ${first.gas}`);
    assert.ok(second.gas <= 120_000n, `update ${second.gas}`);

    const surface = await getVolSurface(publicClient, {
      oracle: oracle.address,
      underlying: WETH,
      expiry: first.expiry,
    });
    assert.equal(surface.timestamp, t0 + 3600n);
    // The oracle's read is the posted vol, annualised by expiry − the surface's timestamp (rv17d
    // V1), whatever the time of the read.
    for (const strike of [1000n, 1500n, 2000n, 2600n, 5000n]) {
      const [vol] = await oracle.read.volAt([WETH, first.expiry, 2000n * WAD, strike * WAD]);
      assert.equal(surface.volAt(2000n * WAD, strike * WAD, first.expiry - surface.timestamp), vol);
      assert.equal(surface.volAt(2000n * WAD, strike * WAD), vol);
    }
  });

  it("finds the oracle in the address book; a book written before it, without `oracle`, is refused", async () => {
    const expiry = postedExpiry;
    const book = { contracts: { VolSurfaceOracle: oracle.address } } as unknown as AddressBook;
    const surface = await getVolSurface(publicClient, { addressBook: book, underlying: WETH, expiry });
    assert.equal(surface.params.rho, -3n * 10n ** 17n);
    const older = { contracts: {} } as unknown as AddressBook;
    await assert.rejects(
      getVolSurface(publicClient, { addressBook: older, underlying: WETH, expiry }),
      PledgeMissingAddressError,
    );
  });
});
