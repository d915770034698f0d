import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import type { Address, Hex } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";

const WAD = 10n ** 18n;
const MAX_UNDERLYINGS = 32;

/**
 * Review rv47 (commit 1dcaad0: `concentrationFlags` packed into the slot of `market` and `_count`).
 * The Solidity tests build the engine through the legacy pipeline; the deployment is the IR
 * artifact (hardhat.config.ts `engineSettings`). Through the deployed IR engine and manager: the
 * word holds `market` in bits 0..159, `_count` in 160..175 and the flags in 176..239 (240..255
 * zero) after every writer — the manager's setter on and off, `listUnderlying` up to the 32nd
 * underlying, and the flag of index 32. Pins correct behaviour; passes on the commit as-is.
 */
describe("concentration flags packed beside market and the count, IR engine", async () => {
  const connection = await network.create();
  const { contracts } = await deployPledge(connection, { writeBook: false });
  const { engine, market } = contracts;
  const { viem } = connection;
  const publicClient = await viem.getPublicClient();
  const manager = await viem.getContractAt("PortfolioManager", await engine.read.portfolioManager());

  const word = async (slot: bigint) =>
    BigInt(
      (await publicClient.getStorageAt({ address: engine.address, slot: `0x${slot.toString(16)}` as Hex })) ?? "0x0",
    );
  const params = (kappaWad: bigint, liquidityWad: bigint) => ({ kappaWad, maxRatioWad: WAD, liquidityWad });

  it("keeps market, count and flags apart through every writer", async () => {
    let slot = -1n;
    for (let s = 0n; s < 32n; s++) {
      if (((await word(s)) & ((1n << 160n) - 1n)) === BigInt(market.address)) {
        slot = s;
        break;
      }
    }
    assert.ok(slot >= 0n, "no market slot");
    const check = async (flags: bigint, where: string) => {
      const w = await word(slot);
      const count = BigInt(await engine.read.underlyingCount());
      assert.equal(w & ((1n << 160n) - 1n), BigInt(market.address), `${where}: market`);
      assert.equal((w >> 160n) & 0xffffn, count, `${where}: count`);
      assert.equal((w >> 176n) & ((1n << 64n) - 1n), flags, `${where}: flags`);
      assert.equal(w >> 240n, 0n, `${where}: top bits`);
      assert.equal(await engine.read.concentrationFlags(), flags, `${where}: getter`);
      assert.equal((await engine.read.market()).toLowerCase(), market.address.toLowerCase(), `${where}: market()`);
    };
    const before = await engine.read.concentrationFlags();
    assert.equal(before, 0n, "off after the deploy");
    await check(0n, "deployed");

    await manager.write.setConcentrationParams([2, params(10n ** 16n, 50n * WAD)]);
    await check(1n << 2n, "2 on");
    await manager.write.setConcentrationParams([1, params(3n * 10n ** 15n, 50n * WAD)]);
    await check((1n << 1n) | (1n << 2n), "1 and 2 on");

    const count = Number(await engine.read.underlyingCount());
    const risk = { aIM: 15n * 10n ** 16n, bIM: 10n ** 17n, aMM: 8n * 10n ** 16n, bMM: 5n * 10n ** 16n };
    for (let i = count + 1; i <= MAX_UNDERLYINGS; i++) {
      await engine.write.listUnderlying([`0x${(0xb0b0000 + i).toString(16).padStart(40, "0")}` as Address, risk]);
    }
    await check((1n << 1n) | (1n << 2n), "32 listed");

    await manager.write.setConcentrationParams([MAX_UNDERLYINGS, params(10n ** 16n, WAD)]);
    await check((1n << 1n) | (1n << 2n) | (1n << 32n), "32 on");
    await manager.write.setConcentrationParams([1, params(0n, WAD)]);
    await manager.write.setConcentrationParams([2, params(0n, WAD)]);
    await check(1n << 32n, "1 and 2 off");
    await manager.write.setConcentrationParams([MAX_UNDERLYINGS, params(0n, WAD)]);
    await check(0n, "all off");
  });
});
