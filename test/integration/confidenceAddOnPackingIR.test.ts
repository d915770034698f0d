import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";

const STEP = 5n * 10n ** 15n; // MarginEngine.MAX_CONFIDENCE_ADD_ON_STEP
const MAX = 5n * 10n ** 16n; // MarginEngine.MAX_CONFIDENCE_ADD_ON

/**
 * Review rv46 (commit 2bd921e: the confidence add-on shares its underlying's asset slot). The
 * Solidity tests build the engine through the legacy pipeline; the deployment is the IR artifact
 * (hardhat.config.ts `engineSettings`). This test runs the packed writes through the deployed IR
 * engine: raising the add-on to its maximum, re-setting the risk parameters, listing another
 * underlying and lowering the add-on leave every other field as it was, and the add-on is the high
 * 96 bits of the asset's word. Pins correct behaviour; passes on the commit as-is.
 */
describe("confidence add-on packed beside the asset, IR engine", async () => {
  const connection = await network.create();
  const { contracts } = await deployPledge(connection, { writeBook: false });
  const { engine, weth, wbtc } = contracts;
  const publicClient = await connection.viem.getPublicClient();

  const slotOf = (index: number, base: bigint): Hex =>
    keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }], [BigInt(index), base]));
  const word = async (slot: Hex) =>
    BigInt((await publicClient.getStorageAt({ address: engine.address, slot })) ?? "0x0");
  const low160 = (w: bigint) => w & ((1n << 160n) - 1n);

  async function expect(index: number, asset: Address, params: readonly bigint[], addOn: bigint) {
    const u = await engine.read.underlying([index]);
    assert.equal(u.asset.toLowerCase(), asset.toLowerCase(), `asset of ${index}`);
    assert.deepEqual([u.params.aIM, u.params.bIM, u.params.aMM, u.params.bMM], params, `params of ${index}`);
    const [, , got] = await engine.read.surfaceParams([index]);
    assert.equal(got, addOn, `add-on of ${index}`);
  }

  it("keeps asset, params and add-on apart through every writer", async () => {
    const eth = await engine.read.underlying([1]);
    const btc = await engine.read.underlying([2]);
    assert.equal(eth.asset.toLowerCase(), weth.address.toLowerCase());
    assert.equal(btc.asset.toLowerCase(), wbtc.address.toLowerCase());
    const ethParams = [eth.params.aIM, eth.params.bIM, eth.params.aMM, eth.params.bMM];
    const btcParams = [btc.params.aIM, btc.params.bIM, btc.params.aMM, btc.params.bMM];

    for (let a = STEP; a <= MAX; a += STEP) await engine.write.setConfidenceAddOn([1, a]);
    await engine.write.setConfidenceAddOn([2, STEP - 7n]);
    await expect(1, weth.address, ethParams, MAX);
    await expect(2, wbtc.address, btcParams, STEP - 7n);

    const p = { aIM: 2n * 10n ** 17n, bIM: 12n * 10n ** 16n, aMM: 10n ** 17n, bMM: 6n * 10n ** 16n };
    await engine.write.setRiskParams([1, p]);
    await expect(1, weth.address, [p.aIM, p.bIM, p.aMM, p.bMM], MAX);
    await expect(2, wbtc.address, btcParams, STEP - 7n);

    // An asset whose bits are all ones: a write of either field over the other shows.
    const asset = "0xffffffffffffffffffffffffffffffffffffffff" as Address;
    const count = await engine.read.underlyingCount();
    await engine.write.listUnderlying([asset, p]);
    const fresh = count + 1;
    await expect(fresh, asset, [p.aIM, p.bIM, p.aMM, p.bMM], 0n);
    await expect(1, weth.address, [p.aIM, p.bIM, p.aMM, p.bMM], MAX);
    await expect(2, wbtc.address, btcParams, STEP - 7n);
    await engine.write.setConfidenceAddOn([fresh, STEP]);
    await expect(fresh, asset, [p.aIM, p.bIM, p.aMM, p.bMM], STEP);

    // The raw words: the add-on is the high 96 bits of the asset's word.
    let base = -1n;
    for (let b = 0n; b < 64n; b++) {
      if (
        low160(await word(slotOf(1, b))) === BigInt(weth.address) &&
        low160(await word(slotOf(2, b))) === BigInt(wbtc.address)
      ) {
        base = b;
        break;
      }
    }
    assert.ok(base >= 0n, "no _underlyings mapping found");
    assert.equal(await word(slotOf(1, base)), (MAX << 160n) | BigInt(weth.address));
    assert.equal(await word(slotOf(2, base)), ((STEP - 7n) << 160n) | BigInt(wbtc.address));
    assert.equal(await word(slotOf(fresh, base)), (STEP << 160n) | BigInt(asset));

    await engine.write.setConfidenceAddOn([1, 0n]);
    await expect(1, weth.address, [p.aIM, p.bIM, p.aMM, p.bMM], 0n);
    assert.equal(await word(slotOf(1, base)), BigInt(weth.address));
  });
});
