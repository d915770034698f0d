import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { zeroAddress } from "viem";

import { feedAnswerToWad } from "../../../packages/sdk/src/index.js";
import { random } from "../../sdk/random.js";

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

  /** The SDK's `feedAnswerToWad` (what the keeper uses to tell "no price") is the oracle's scaling. */
  it("scales every answer as the SDK's feedAnswerToWad does, 0 exactly where the oracle refuses it", async () => {
    const rng = random(0xfeedn);
    const maxInt256 = (1n << 255n) - 1n;
    for (const decimals of [0, 6, 8, 18, 19, 24, 36]) {
      const aggregator = await viem.deployContract("MockV3Aggregator", [decimals, 1n]);
      await oracle.write.setSpotFeed([
        WETH,
        { aggregator: aggregator.address, maxAge: 3600, minAnswerWad: 0n, maxAnswerWad: 0n },
      ]);
      const answers = [0n, -1n, 1n, maxInt256, 10n ** BigInt(Math.max(0, decimals - 18)) - 1n];
      for (let i = 0; i < 12; i++) answers.push(rng.logUniform(1n, maxInt256), -rng.logUniform(1n, maxInt256));
      for (const answer of answers) {
        await aggregator.write.updateAnswer([answer]);
        const expected = feedAnswerToWad(answer, decimals);
        if (expected === 0n) {
          await viem.assertions.revertWithCustomError(oracle.read.spot([WETH]), oracle, "OracleInvalidPrice");
        } else {
          assert.equal(await oracle.read.spot([WETH]), expected, `answer ${answer} at ${decimals} decimals`);
        }
      }
    }
  });
});
