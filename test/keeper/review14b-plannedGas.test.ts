/**
 * Regression test (fixed), review r14b finding 3: a tick's later `bidMany` batches are checked (the planned limit's one
 * `eth_call`, or the fallback `eth_estimateGas`) against `latest`, which does not hold the
 * earlier batches of the same tick; those are sent back to back to land in the same block, ahead
 * of it. Each series an earlier batch adds to the bidder's book makes the bidder's final IM check
 * dearer (about 110k gas per position on portfolio margin, ~12k on cross), so a small trailing
 * batch passes its check at its planned limit (simulated gas per bid + 15 %) and runs out of gas
 * on chain, burning its whole limit. The keeper then only cools the accounts down.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";
import { type Hex, maxUint256, parseUnits } from "viem";

import { type Order, Health, accountId, asAccountId, signOrder, seriesId } from "@pledge/sdk";
import { createKeeper } from "../../packages/keeper/src/index.js";
import { toContractsWad } from "../../scripts/lib/population.js";
import { createWorld } from "./helpers/world.js";

const BTC_INDEX = 2;

describe("review r14b (fixed): planned bidMany limits and the batches ahead in the same block", () => {
  for (const traderCount of [5, 6, 8])
    it(`${traderCount} accounts: a later batch checked against latest does not run out of gas behind the tick's first batch`, async () => {
      const world = await createWorld({ accounts: 0 });
      const { contracts, publicClient, testClient, marketMaker, expiry } = world;
      const wallets = await world.connection.viem.getWalletClients();
      const makerWallet = wallets[1]!;
      const traderWallet = wallets[2]!;
      const keeperWallet = world.keepers[0]!.wallet;
      const bidder = world.keepers[0]!.bidderAccount;
      const mined = async (hash: Promise<Hex>) =>
        assert.equal((await publicClient.waitForTransactionReceipt({ hash: await hash })).status, "success");

      // The bidder values its book on portfolio margin (R14B_CROSS=1: cross margin, the default).
      if (!process.env.R14B_CROSS) {
        await mined(contracts.engine.write.setMarginMode([bidder, 2], { account: keeperWallet.account }));
      }

      // Five traders, each short calls of its own series (strikes 60k..68k), near IM.
      const now = (await publicClient.getBlock()).timestamp;
      const traders: bigint[] = [];
      let nonce = 5_000n;
      for (let i = 0; i < traderCount; i++) {
        const spec = {
          underlyingIndex: BTC_INDEX,
          expiry,
          isCall: true,
          strikeWad: BigInt(60_000 + 1_000 * i) * 10n ** 18n,
        };
        await mined(contracts.market.write.createSeries([{ ...spec, expiry: Number(expiry) } as never]));
        const series = seriesId(spec);
        const trader = accountId(traderWallet.account.address, BigInt(100 + i));
        const cash = parseUnits("10000", 6);
        await mined(contracts.usdc.write.mint([traderWallet.account.address, cash]));
        await mined(
          contracts.usdc.write.approve([contracts.vault.address, maxUint256], { account: traderWallet.account }),
        );
        await mined(
          contracts.vault.write.deposit([trader, contracts.usdc.address, cash], { account: traderWallet.account }),
        );
        let size = 10_000 / (0.15 * 60_000);
        for (let attempt = 0; attempt < 12; attempt++, size *= 0.9) {
          const markWad = await contracts.engine.read.mark([series]);
          const order: Order = {
            account: marketMaker,
            seriesId: series,
            size: toContractsWad(size),
            priceWad: (markWad * 99n) / 100n,
            taker: asAccountId(trader),
            nonce: ++nonce,
            deadline: now + 86_400n,
          };
          const { signature } = await signOrder(makerWallet, { order, addressBook: world.book });
          try {
            await mined(
              contracts.market.write.fill([order, signature, trader, order.size], { account: traderWallet.account }),
            );
            break;
          } catch (error) {
            if (!String(error).includes("EngineBelowInitialMargin")) throw error;
          }
        }
        traders.push(trader);
      }
      await world.setSpot(80_000);
      const states = await contracts.engine.read.accountsMargin([traders]);
      assert.ok(
        states.every((s) => s.health >= Health.LIQUIDATABLE),
        "all below MM",
      );

      // The tick's first batch carries 4 bids (2.7M × 10/13 / 500k, the prior set here; its gas is
      // searched for) and the rest go at a planned limit, for the book the first batch leaves (its
      // scans and the bidder's portfolio IM check, `bookGas`), as many as fit 2.7M: 8 accounts
      // make 4 + 4 (since session 45; 4 + 3 + 1 before, each batch at its gas per bid).
      const keeper = createKeeper({
        publicClient: publicClient as never,
        walletClient: keeperWallet as never,
        addressBook: world.book,
        bidderAccount: bidder,
        logger: pino({ level: process.env.R14B_LOG ?? "silent" }),
        maxBatchGas: 2_700_000n,
        maxBidGas: 10_000_000n,
        gasPerBid: 500_000n,
      });
      const keeperAddress = keeperWallet.account.address;
      const pendingCount = () => publicClient.getTransactionCount({ address: keeperAddress, blockTag: "pending" });
      let settled = false;
      let ticking: Promise<unknown> = Promise.resolve();
      try {
        await testClient.setAutomine(false);
        const start = await publicClient.getTransactionCount({ address: keeperAddress });
        ticking = keeper.tick().finally(() => (settled = true));
        // Every batch of the tick in the mempool (two or more, and no new one for a second), then
        // one block: they land together, in nonce order.
        let seen = start;
        for (let i = 0, quiet = 0; i < 600 && !settled && quiet < 20; i++) {
          const pending = await pendingCount();
          quiet = pending >= start + 2 && pending === seen ? quiet + 1 : 0;
          seen = pending;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await testClient.mine({ blocks: 1 });
        const together = await publicClient.getBlock();
        await testClient.setAutomine(true);
        await mineUntil(() => settled);
        await ticking;

        const ours = await keeperBatches(together.number);
        const receipts = ours.map(({ receipt }) => receipt);
        const summary = ours.map(({ tx, receipt }) => ({
          status: receipt.status,
          gasUsed: receipt.gasUsed,
          gasLimit: tx.gas,
        }));
        assert.ok(receipts.length >= 2, `at least two batches in one block, got ${receipts.length}`);
        assert.ok(
          receipts.every((r) => r.status === "success"),
          `a batch reverted on chain: ${JSON.stringify(summary, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`,
        );
        // A batch sent after that block (a slow machine) lands alone; it must not revert either.
        for (let n = together.number + 1n; n <= (await publicClient.getBlockNumber()); n++) {
          for (const { tx, receipt } of await keeperBatches(n)) {
            assert.equal(receipt.status, "success", `a later batch reverted on chain (nonce ${tx.nonce})`);
          }
        }
        const states = await contracts.engine.read.accountsMargin([traders]);
        assert.ok(
          states.every((s) => s.health < Health.LIQUIDATABLE),
          "every account was bid on: none is left below MM",
        );
      } finally {
        // Never leave the tick waiting on a transaction no block will hold (the hang of session 8).
        await testClient.setAutomine(true);
        await mineUntil(() => settled).catch(() => undefined);
        await ticking.catch(() => undefined);
        await keeper.stop();
      }

      /** The keeper's transactions in block `blockNumber`, each with its receipt. */
      async function keeperBatches(blockNumber: bigint) {
        const block = await publicClient.getBlock({ blockNumber, includeTransactions: true });
        const sent = block.transactions.filter(
          (tx) => typeof tx !== "string" && tx.from.toLowerCase() === keeperAddress.toLowerCase(),
        ) as { hash: Hex; gas: bigint; nonce: number }[];
        return Promise.all(
          sent.map(async (tx) => ({ tx, receipt: await publicClient.getTransactionReceipt({ hash: tx.hash }) })),
        );
      }

      /** Mines a block every 100 ms while transactions are pending, until `done` (at most 60 s). */
      async function mineUntil(done: () => boolean) {
        for (let i = 0; i < 600 && !done(); i++) {
          const latest = await publicClient.getTransactionCount({ address: keeperAddress });
          if ((await pendingCount()) > latest) await testClient.mine({ blocks: 1 });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
});
