import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEventLogs, parseUnits } from "viem";

import * as sdk from "../../packages/sdk/src/index.js";
import { sdkWorld } from "./helpers/world.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const usdc = (amount: bigint) => parseUnits(amount.toString(), 6);

/**
 * Review rv16w2 (SDK twin coverage): `getBackstopPreview` against the chain to the wei, over several
 * seeds (five). Each seed builds two series (a BTC call and a BTC put); every maker is short calls and
 * long puts, so a rally makes it insolvent with a position on **both** sides: the call series is
 * the short-account branch (m − shade, cash rounded up, holders receive), the put series the
 * long-account branch (m + shade, cash rounded down, holders pay), and the gross value G sums two
 * per-series terms rounded up. Two holders trade identical lots from identical deposits on some
 * seeds, so their keys tie and the id breaks the tie. Each seed deleverages one insolvent maker in
 * the put series and another in the call series and checks every close, its cash and the order
 * `deleverage` accepts. Not covered on chain here (hand examples in the SDK's unit tests): L ≥ G,
 * equityMM ≤ 0 keys and skips below maintenance.
 */
for (const [index, seed] of [0x16a1n, 0x16a2n, 0x16a3n, 0x16a4n, 0x16a5n].entries()) {
  describe(`backstop waterfall, seed ${seed.toString(16)}: SDK and chain agree to the wei`, async () => {
    const { contracts, addressBook, publicClient, testClient, admin, makerWallet, takerWallet, keeperWallet } =
      await sdkWorld({ allowBlocksWithSameTimestamp: true });
    const rng = random(seed);
    const now = (await publicClient.getBlock()).timestamp;
    const expiry = sdk.expiryAfter(now, 7);
    const call = { underlyingIndex: 2, expiry, isCall: true, strikeWad: rng.range(62n, 70n) * 1_000n * WAD };
    const put = { underlyingIndex: 2, expiry, isCall: false, strikeWad: rng.range(58n, 64n) * 1_000n * WAD };
    const { result: callId } = await sdk.createSeries(admin, { publicClient, addressBook, series: call });
    const { result: putId } = await sdk.createSeries(admin, { publicClient, addressBook, series: put });
    const backstop = addressBook.contracts.Backstop;
    const ties = index % 2 === 0; // seeds 1, 3 and 5 make a tie

    const holders = [1n, 2n, 3n, 4n, 5n].map((subId) => sdk.getAccountId(takerWallet, { subId }));
    await contracts.usdc.write.mint([takerWallet.account.address, usdc(100_000_000n)]);
    const tieDeposit = usdc(rng.range(300_000n, 1_000_000n));
    for (const [i, account] of holders.entries()) {
      const amount = ties && i >= 3 ? tieDeposit : usdc(rng.range(300_000n, 2_000_000n));
      await sdk.deposit(takerWallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
    }
    const makers = [1n, 2n, 3n].map((subId) => sdk.getAccountId(makerWallet, { subId }));
    await contracts.usdc.write.mint([makerWallet.account.address, usdc(1_000_000n)]);
    let nonce = 0n;
    async function trade(
      maker: sdk.AccountId,
      seriesId: sdk.SeriesId,
      size: bigint,
      priceWad: bigint,
      taker: sdk.AccountId,
    ) {
      const signed = await sdk.signOrder(makerWallet, {
        addressBook,
        order: { account: maker, seriesId, size, priceWad, taker: 0n, nonce: ++nonce, deadline: now + 86_400n },
      });
      await sdk.fillOrder(takerWallet, {
        publicClient,
        addressBook,
        signedOrder: signed,
        takerAccount: taker,
        fillSize: size < 0n ? -size : size,
      });
    }
    for (const account of makers) {
      // Sizes first, then a deposit just above their initial margin (~6,000 USD per short call at
      // these strikes), so a rally of a few steps takes the maker underwater.
      const lots = Array.from({ length: 2 + rng.int(2) }, () => rng.range(1n, 3n) * (WAD / 2n));
      const tieSize = rng.range(1n, 2n) * (WAD / 2n);
      const calls = lots.reduce((a, b) => a + b, 0n) + (ties ? 2n * tieSize : 0n);
      const amount = usdc((calls * 7_000n) / WAD + rng.range(500n, 3_000n));
      await sdk.deposit(makerWallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
      for (const size of lots) {
        await trade(account, callId, -size, 1_000n * WAD, rng.pick(holders.slice(0, 3)));
        // The maker buys puts: its holders are short puts, the opposite side of a long account.
        await trade(account, putId, size / 2n, 300n * WAD, rng.pick(holders.slice(0, 3)));
      }
      if (ties) {
        // Identical lots to holders 4 and 5 (identical deposits): equal keys, ordered by id.
        for (const h of holders.slice(3)) {
          await trade(account, callId, -tieSize, 1_000n * WAD, h);
          await trade(account, putId, tieSize / 2n, 300n * WAD, h);
        }
      }
    }

    async function compare(account: sdk.AccountId, seriesId: sdk.SeriesId) {
      const preview = await sdk.getBackstopPreview(publicClient, { addressBook, account, seriesId, holders });
      const blockNumber = preview.blockNumber;
      const chain = await publicClient.readContract({
        address: backstop,
        abi: sdk.backstopAbi,
        functionName: "previewTakeover",
        args: [account],
        blockNumber,
      });
      assert.equal(preview.takeover.valueWad, chain.valueWad);
      assert.equal(preview.takeover.lossToFundWad, chain.lossToFundWad);
      assert.equal(preview.takeover.budgetLeftWad, chain.budgetLeftWad);
      const plan = preview.deleverage!;
      assert.ok(plan.complete, "every holder found");
      if (preview.takeover.valueWad < 0n) {
        const [priceWad, shadeWad] = await publicClient.readContract({
          address: backstop,
          abi: sdk.backstopAbi,
          functionName: "bankruptcyPrice",
          args: [account, seriesId],
          blockNumber,
        });
        assert.equal(plan.priceWad, priceWad);
        assert.equal(plan.shadeWad, shadeWad);
      }
      for (const h of plan.holders) {
        const key = await publicClient.readContract({
          address: backstop,
          abi: sdk.backstopAbi,
          functionName: "deleverageKey",
          args: [h.account, seriesId],
          blockNumber,
        });
        assert.equal(h.key, key);
      }
      return preview;
    }

    async function refreshFeeds() {
      for (const feed of [contracts.btcUsd, contracts.btcVol, contracts.ethUsd, contracts.ethVol]) {
        await feed.write.updateAnswer([await feed.read.latestAnswer()]);
      }
    }

    async function send(wallet: typeof keeperWallet, functionName: string, args: unknown[], address = backstop) {
      const hash = await wallet.writeContract({
        address,
        abi: address === backstop ? sdk.backstopAbi : sdk.liquidatorAbi,
        functionName,
        args,
      } as never);
      return publicClient.waitForTransactionReceipt({ hash });
    }

    let insolvent: sdk.AccountId[] = [];

    it("agrees on the preview, the bankruptcy price and every key, both series, through a rally", async () => {
      let btc = 60_000n * 10n ** 8n;
      for (let step = 0; step < 25 && insolvent.length < 2; step++) {
        btc = (btc * (103n + rng.range(0n, 6n))) / 100n;
        await contracts.btcUsd.write.updateAnswer([btc]);
        insolvent = [];
        for (const account of makers) {
          await compare(account, putId);
          const preview = await compare(account, callId);
          if (preview.takeover.valueWad < 0n) insolvent.push(account);
        }
      }
      assert.ok(insolvent.length >= 2, "two makers underwater");
    });

    it(ties ? "ties are ordered by account id, as the chain requires" : "(no tie on this seed)", async () => {
      if (!ties) return;
      const plan = (await compare(insolvent[0]!, callId)).deleverage!;
      const tied = plan.holders.filter((h) => h.account === holders[3] || h.account === holders[4]);
      assert.equal(tied.length, 2);
      assert.equal(tied[0]!.key, tied[1]!.key, "equal keys");
      assert.ok(tied[0]!.account < tied[1]!.account, "ascending ids");
    });

    for (const [label, pick, series] of [
      ["the long account (put series): holders pay m + shade, cash rounded down", 0, "put"],
      ["the short account (call series): holders receive m − shade, cash rounded up", 1, "call"],
    ] as const) {
      it(`deleverage moves exactly the SDK's closes for ${label}`, async () => {
        const account = insolvent[pick]!;
        const seriesId = series === "put" ? putId : callId;
        await send(keeperWallet, "startAuction", [account], addressBook.contracts.Liquidator);
        await testClient.increaseTime({ seconds: 15 * 60 });
        await refreshFeeds();
        await send(admin, "setTakeoverBudget", [{ maxLossPerTakeoverWad: 0n, maxLossPerWindowWad: 0n }]);
        const preview = await compare(account, seriesId);
        const plan = preview.deleverage!;
        assert.ok(plan.closes.length > 0);
        const cashBefore = await Promise.all(plan.closes.map((c) => contracts.vault.read.cashOf([c.account])));
        const accountCashBefore = await contracts.vault.read.cashOf([account]);
        const { timestamp } = await publicClient.getBlock();
        await testClient.setNextBlockTimestamp({ timestamp });
        const receipt = await send(keeperWallet, "deleverage", [account, seriesId, plan.holders.map((h) => h.account)]);
        assert.equal(receipt.status, "success");
        const events = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs, eventName: "Deleveraged" });
        assert.deepEqual(
          events.map((e) => ({
            account: e.args.holder,
            contracts: e.args.contracts,
            price: e.args.priceWad,
            loss: e.args.lossWad,
          })),
          plan.closes.map((c) => ({
            account: c.account,
            contracts: c.contracts,
            price: plan.priceWad,
            loss: c.lossWad,
          })),
        );
        const sign = series === "put" ? -1n : 1n; // a long account is paid by its holders
        let total = 0n;
        for (const [i, c] of plan.closes.entries()) {
          const after = await contracts.vault.read.cashOf([c.account]);
          assert.equal(after - cashBefore[i]!, sign * c.cash, "each holder's cash moves by the SDK's amount");
          total += c.cash;
        }
        assert.equal((await contracts.vault.read.cashOf([account])) - accountCashBefore, -sign * total);
        assert.equal(await contracts.market.read.positionOf([account, seriesId]), 0n);
      });
    }
  });
}
