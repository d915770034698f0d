/**
 * Regression test (fixed), review r14b finding 2: the local starting-bid quote (a8a738e) does not know that the
 * liquidator refuses accounts whose collateral has no valid price (`_checkCollateralPriced`).
 * The engine values such collateral at zero, so a feed failure pushes the account below MM,
 * the keeper quotes a bid locally, the `bidMany` simulation passes (the step is only skipped),
 * and a transaction that buys nothing is mined and paid for, again after every cooldown.
 * Before a8a738e the keeper asked the chain's `previewBid`, which reverts: no preview, a
 * `startAuction` whose simulation reverts, nothing sent.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";
import { type Hex, maxUint256, parseEther, parseUnits } from "viem";

import { type Order, Health, accountId, asAccountId, signOrder, liquidatorAbi } from "@pledge/sdk";
import { createKeeper } from "../../packages/keeper/src/index.js";
import { toFeedAnswer } from "../../scripts/lib/history.js";
import { createWorld } from "./helpers/world.js";

describe("review r14b (fixed): a collateral feed fails (local quote)", () => {
  it("does not mine bidMany transactions that can only be skipped", async () => {
    const world = await createWorld({ accounts: 1 });
    const { contracts, publicClient, testClient, series, marketMaker } = world;
    const wallets = await world.connection.viem.getWalletClients();
    const makerWallet = wallets[1]!;
    const traderWallet = wallets[2]!;
    const keeperWallet = world.keepers[0]!.wallet;
    const mined = async (hash: Promise<Hex>) =>
      assert.equal((await publicClient.waitForTransactionReceipt({ hash: await hash })).status, "success");

    // A trader posting 10 WETH (30,000 USD at 3,000) and a little cash, short BTC calls near IM.
    const trader = accountId(traderWallet.account.address, 77n);
    await mined(contracts.weth.write.mint([traderWallet.account.address, parseEther("10")]));
    await mined(contracts.weth.write.approve([contracts.vault.address, maxUint256], { account: traderWallet.account }));
    await mined(
      contracts.vault.write.deposit([trader, contracts.weth.address, parseEther("10")], {
        account: traderWallet.account,
      }),
    );
    await mined(contracts.usdc.write.mint([traderWallet.account.address, parseUnits("1000", 6)]));
    await mined(
      contracts.vault.write.deposit([trader, contracts.usdc.address, parseUnits("1000", 6)], {
        account: traderWallet.account,
      }),
    );
    const markWad = await contracts.engine.read.mark([series]);
    const now = (await publicClient.getBlock()).timestamp;
    const size = parseEther("2");
    const order: Order = {
      account: marketMaker,
      seriesId: series,
      size,
      priceWad: (markWad * 99n) / 100n,
      taker: asAccountId(trader),
      nonce: 9_999n,
      deadline: now + 86_400n,
    };
    const { signature } = await signOrder(makerWallet, { order, addressBook: world.book });
    await mined(contracts.market.write.fill([order, signature, trader, size], { account: traderWallet.account }));
    assert.equal((await contracts.engine.read.accountMargin([trader])).health, Health.HEALTHY);

    const keeper = createKeeper({
      publicClient: publicClient as never,
      walletClient: keeperWallet as never,
      addressBook: world.book,
      bidderAccount: world.keepers[0]!.bidderAccount,
      logger: pino({ level: "silent" }),
    });
    try {
      await keeper.tick(); // indexes the trader while everything is priced

      // The ETH feed goes haywire (below its 10 USD floor): WETH has no valid price.
      await mined(contracts.ethUsd.write.updateAnswer([toFeedAnswer(1)]));
      const state = await contracts.engine.read.accountMargin([trader]);
      assert.ok(state.health >= Health.LIQUIDATABLE, "the engine counts the WETH as zero");
      // The chain refuses to price a bid on it (what the keeper asked before a8a738e) ...
      await assert.rejects(contracts.liquidator.read.previewBid([trader, 10n ** 18n]));
      // ... and to start its auction.
      await assert.rejects(
        publicClient.simulateContract({
          address: contracts.liquidator.address,
          abi: liquidatorAbi,
          functionName: "startAuction",
          args: [trader],
          account: keeperWallet.account,
        }),
      );

      const balance0 = await publicClient.getBalance({ address: keeperWallet.account.address });
      for (let round = 0; round < 3; round++) {
        await keeper.tick();
        await testClient.mine({ blocks: 4 }); // past the cooldown (3 blocks)
      }
      const balance1 = await publicClient.getBalance({ address: keeperWallet.account.address });
      const skipped = await publicClient.getContractEvents({
        address: contracts.liquidator.address,
        abi: liquidatorAbi,
        eventName: "BidSkipped",
        fromBlock: 0n,
      });
      const bids = await publicClient.getContractEvents({
        address: contracts.liquidator.address,
        abi: liquidatorAbi,
        eventName: "Bid",
        fromBlock: 0n,
      });
      const spent = balance0 - balance1;
      // The finding: every round mined a bidMany that could only be skipped, and paid for it.
      assert.equal(bids.length, 0);
      assert.equal(skipped.length, 0, `${skipped.length} bidMany steps skipped on chain, ${spent} wei of gas spent`);
    } finally {
      await keeper.stop();
    }
  });
});
