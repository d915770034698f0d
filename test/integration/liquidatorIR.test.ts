import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { BaseError, ContractFunctionRevertedError, parseUnits, toFunctionSelector } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { accountId } from "../../packages/sdk/src/index.js";
import { openBenchBook } from "../../scripts/lib/benchBook.js";

const WAD = 10n ** 18n;
const NO_NONCE = 2n ** 256n - 1n;

/**
 * Since session 47 the Liquidator compiles through the IR pipeline (hardhat.config.ts); the
 * Solidity tests build it through the legacy one, so these run the deployed IR artifact on the
 * paths whose behaviour rests on how calls fail (review helper-169, P3): `bidMany` turns a refused
 * step into `BidSkipped` with its reason and lands the rest, and a step that runs out of gas (an
 * empty revert from the self-call) reverts the whole batch with `LiquidatorBatchOutOfGas(i)`.
 */
describe("the liquidator as deployed (IR pipeline)", async () => {
  const connection = await network.create();
  const { contracts } = await deployPledge(connection, { writeBook: false });
  const { liquidator, ethUsd, btcUsd } = contracts;
  const [, makerWallet, takerWallet] = await connection.viem.getWalletClients();
  if (!makerWallet || !takerWallet) throw new Error("need three wallet clients");
  const { book, seriesIds } = await openBenchBook(connection, contracts, makerWallet, takerWallet, 4);
  const holder = accountId(takerWallet.account.address, 7n);
  await book.fund(holder, takerWallet, parseUnits("1000000", 6));
  const bidder = accountId(takerWallet.account.address, 1n);
  await book.fund(bidder, takerWallet, parseUnits("100000000", 6));
  const first = accountId(makerWallet.account.address, 2000n);
  const second = accountId(makerWallet.account.address, 2001n);
  for (const account of [first, second]) await book.thinAccount(account, holder, seriesIds);
  const healthy = accountId(makerWallet.account.address, 2002n);
  await book.fund(healthy, makerWallet, parseUnits("1000", 6));
  // A 40 % rally takes the thin accounts under maintenance.
  await ethUsd.write.updateAnswer([(3_000n * 10n ** 8n * 14n) / 10n]);
  await btcUsd.write.updateAnswer([(60_000n * 10n ** 8n * 14n) / 10n]);

  const request = (account: bigint) => ({
    account,
    fractionWad: WAD,
    maxPayment: 2n ** 255n - 1n,
    expectedNonce: NO_NONCE,
  });
  const asBidder = { account: takerWallet.account.address };
  /** The custom error a simulated `bidMany` reverts with, by name and arguments. */
  async function refusal(requests: ReturnType<typeof request>[], gas?: bigint) {
    try {
      await liquidator.simulate.bidMany([requests, bidder], { ...asBidder, gas });
    } catch (error) {
      const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
      if (reverted instanceof ContractFunctionRevertedError && reverted.data !== undefined) {
        return { name: reverted.data.errorName, args: reverted.data.args };
      }
      throw error;
    }
    assert.fail("bidMany did not revert");
  }

  it("skips a refused step with its reason and lands the rest", async () => {
    const { result } = await liquidator.simulate.bidMany([[request(healthy), request(first)], bidder], asBidder);
    assert.equal(result.length, 2);
    assert.equal(result[0]!.landed, false);
    assert.equal(
      result[0]!.skipReason,
      toFunctionSelector("LiquidatorAccountHealthy(uint256,uint8)"),
      "the healthy account's step is skipped with the liquidator's reason",
    );
    assert.equal(result[1]!.landed, true);
    assert.equal(result[1]!.preview.fractionWad, WAD);
  });

  it("reverts the batch when a step runs out of gas, naming the step", async () => {
    const publicClient = await connection.viem.getPublicClient();
    const one = await publicClient.estimateContractGas({
      address: liquidator.address,
      abi: liquidator.abi,
      functionName: "bidMany",
      args: [[request(first)], bidder],
      account: takerWallet.account.address,
    });
    // Enough for the first step and its landing, too little for the second: its self-call gets
    // 63/64 of what is left and runs out, an empty revert.
    const refused = await refusal([request(first), request(second)], one + 20_000n);
    assert.deepEqual(refused, { name: "LiquidatorBatchOutOfGas", args: [1n] });
    // With gas for both, both land.
    const { result } = await liquidator.simulate.bidMany([[request(first), request(second)], bidder], asBidder);
    assert.deepEqual(
      result.map((outcome) => outcome.landed),
      [true, true],
    );
  });
});
