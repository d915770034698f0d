import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { zeroAddress } from "viem";

const WETH = "0x00000000000000000000000000000000000000e7";

describe("ChainlinkOracle (viem)", async () => {
  const { viem, networkHelpers } = await network.create();
  const [admin] = await viem.getWalletClients();
  if (admin === undefined) throw new Error("no wallet client");

  // L1 deployment: no sequencer feed, grace 0, 1 h settlement delay.
  const oracle = await viem.deployContract("ChainlinkOracle", [admin.account.address, zeroAddress, 0n, 3600n, 86_400n]);
  const feed = await viem.deployContract("MockV3Aggregator", [8, 2_000n * 10n ** 8n]);
  await oracle.write.setSpotFeed([
    WETH,
    { aggregator: feed.address, maxAge: 3600, minAnswerWad: 0n, maxAnswerWad: 0n },
  ]);

  it("reads spot normalised to 18 decimals", async () => {
    assert.equal(await oracle.read.spot([WETH]), 2_000n * 10n ** 18n);
  });

  it("fails closed once the answer is older than maxAge", async () => {
    await networkHelpers.time.increase(3601);
    await viem.assertions.revertWithCustomError(oracle.read.spot([WETH]), oracle, "OracleStalePrice");
  });
});
