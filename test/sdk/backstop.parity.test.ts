import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEventLogs, parseUnits } from "viem";

import * as sdk from "../../packages/sdk/src/index.js";
import { sdkWorld } from "./helpers/world.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const usdc = (amount: bigint) => parseUnits(amount.toString(), 6);

/**
 * Issue 16, item 3: the waterfall's numbers from the SDK (`getBackstopPreview`, over
 * `takeoverPreviewFromState` and `deleveragePlanOf`) equal the chain's to the wei: the takeover
 * preview against `previewTakeover`, the bankruptcy price and every holder's key against the
 * views, the order against `deleverage` itself (it refuses any other), and each close's
 * contracts, price, loss and cash against the `Deleveraged` events and the vault, then the
 * takeover against `AccountTakenOver`, on randomly sized books a BTC rally takes underwater.
 */
describe("backstop waterfall: SDK and chain agree to the wei", async () => {
  const { contracts, addressBook, publicClient, testClient, admin, makerWallet, takerWallet, keeperWallet } =
    await sdkWorld({ allowBlocksWithSameTimestamp: true });
  const rng = random(0xb4c6n);
  const now = (await publicClient.getBlock()).timestamp;
  const series = { underlyingIndex: 2, expiry: sdk.expiryAfter(now, 7), isCall: true, strikeWad: 66_000n * WAD };
  const { result: seriesId } = await sdk.createSeries(admin, { publicClient, addressBook, series });
  const backstop = addressBook.contracts.Backstop;
  const read = <T>(functionName: string, args: unknown[] = []) =>
    publicClient.readContract({ address: backstop, abi: sdk.backstopAbi, functionName, args } as never) as Promise<T>;

  // Holders: five taker subaccounts with random cash; makers: three subaccounts each short a
  // random number of calls, sold to random holders.
  const holders = [1n, 2n, 3n, 4n, 5n].map((subId) => sdk.getAccountId(takerWallet, { subId }));
  await contracts.usdc.write.mint([takerWallet.account.address, usdc(100_000_000n)]);
  for (const account of holders) {
    const amount = usdc(rng.range(20_000n, 2_000_000n));
    await sdk.deposit(takerWallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
  }
  const makers = [1n, 2n, 3n].map((subId) => sdk.getAccountId(makerWallet, { subId }));
  await contracts.usdc.write.mint([makerWallet.account.address, usdc(1_000_000n)]);
  let nonce = 0n;
  for (const account of makers) {
    const amount = usdc(rng.range(12_000n, 30_000n));
    await sdk.deposit(makerWallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
    const lots = 2 + rng.int(3);
    for (let i = 0; i < lots; i++) {
      const size = rng.range(1n, 3n) * (WAD / 2n);
      const signed = await sdk.signOrder(makerWallet, {
        addressBook,
        order: {
          account,
          seriesId,
          size: -size,
          priceWad: 1_000n * WAD,
          taker: 0n,
          nonce: ++nonce,
          deadline: now + 86_400n,
        },
      });
      const takerAccount = rng.pick(holders);
      await sdk.fillOrder(takerWallet, {
        publicClient,
        addressBook,
        signedOrder: signed,
        takerAccount,
        fillSize: size,
      });
    }
  }

  async function compare(account: sdk.AccountId) {
    const preview = await sdk.getBackstopPreview(publicClient, { addressBook, account, seriesId, holders });
    const blockNumber = preview.blockNumber;
    const chainTakeover = await publicClient.readContract({
      address: backstop,
      abi: sdk.backstopAbi,
      functionName: "previewTakeover",
      args: [account],
      blockNumber,
    });
    assert.equal(preview.takeover.valueWad, chainTakeover.valueWad);
    assert.equal(preview.takeover.lossToFundWad, chainTakeover.lossToFundWad);
    assert.equal(preview.takeover.budgetLeftWad, chainTakeover.budgetLeftWad);
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

  async function startAndWait(account: sdk.AccountId) {
    await publicClient.waitForTransactionReceipt({
      hash: await keeperWallet.writeContract({
        address: addressBook.contracts.Liquidator,
        abi: sdk.liquidatorAbi,
        functionName: "startAuction",
        args: [account],
      }),
    });
    await testClient.increaseTime({ seconds: 15 * 60 });
    await refreshFeeds();
  }

  async function setBudget(perTakeover: bigint, perWindow: bigint) {
    await publicClient.waitForTransactionReceipt({
      hash: await admin.writeContract({
        address: backstop,
        abi: sdk.backstopAbi,
        functionName: "setTakeoverBudget",
        args: [{ maxLossPerTakeoverWad: perTakeover, maxLossPerWindowWad: perWindow }],
      }),
    });
  }

  /** The next transaction mines at the latest block's timestamp, so a preview read there holds for it. */
  async function pinTime() {
    const { timestamp } = await publicClient.getBlock();
    await testClient.setNextBlockTimestamp({ timestamp });
  }

  let insolvent: sdk.AccountId[] = [];

  it("agrees on the takeover preview, the bankruptcy price and every key through a rally", async () => {
    let btc = 60_000n * 10n ** 8n;
    for (let step = 0; step < 20 && insolvent.length < 2; step++) {
      btc = (btc * (104n + rng.range(0n, 6n))) / 100n;
      await contracts.btcUsd.write.updateAnswer([btc]);
      insolvent = [];
      for (const account of makers) {
        const preview = await compare(account);
        if (preview.takeover.valueWad < 0n) insolvent.push(account);
      }
    }
    assert.ok(insolvent.length >= 2, "two makers underwater");
  });

  it("deleverage accepts the SDK's order and moves exactly the SDK's closes", async () => {
    const account = insolvent[0]!;
    await startAndWait(account);
    await setBudget(0n, 0n);
    const preview = await compare(account);
    const plan = preview.deleverage!;
    const cashBefore = await Promise.all(plan.closes.map((c) => contracts.vault.read.cashOf([c.account])));
    await pinTime();
    const hash = await keeperWallet.writeContract({
      address: backstop,
      abi: sdk.backstopAbi,
      functionName: "deleverage",
      args: [account, seriesId, plan.holders.map((h) => h.account)],
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success");
    const events = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs, eventName: "Deleveraged" });
    assert.deepEqual(
      events.map((e) => ({
        account: e.args.holder,
        contracts: e.args.contracts,
        price: e.args.priceWad,
        loss: e.args.lossWad,
      })),
      plan.closes.map((c) => ({ account: c.account, contracts: c.contracts, price: plan.priceWad, loss: c.lossWad })),
    );
    for (const [i, c] of plan.closes.entries()) {
      const after = await contracts.vault.read.cashOf([c.account]);
      assert.equal(after - cashBefore[i]!, c.cash, "a long holder receives the SDK's cash");
    }
    assert.equal(await contracts.market.read.positionOf([account, seriesId]), 0n);
  });

  it("the takeover moves what the SDK previewed, and the event says so", async () => {
    const account = insolvent[1]!;
    await setBudget(1_000_000n * WAD, 5_000_000n * WAD);
    // The fund needs the margin to hold the short it takes.
    const fund = (await contracts.insurance.read.account()) as sdk.AccountId;
    await contracts.usdc.write.mint([admin.account.address, usdc(1_000_000n)]);
    await sdk.deposit(admin, {
      publicClient,
      addressBook,
      account: fund,
      asset: addressBook.cash.address,
      amount: usdc(1_000_000n),
    });
    await startAndWait(account);
    const preview = await compare(account);
    await pinTime();
    const hash = await keeperWallet.writeContract({
      address: backstop,
      abi: sdk.backstopAbi,
      functionName: "takeover",
      args: [account],
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    const [event] = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs, eventName: "AccountTakenOver" });
    assert.equal(event!.args.valueWad, preview.takeover.valueWad);
    assert.equal(event!.args.lossToFundWad, preview.takeover.lossToFundWad);
    assert.equal(event!.args.budgetLeftWad, preview.takeover.budgetLeftAfterWad);
    assert.equal(await read<bigint>("windowLoss"), preview.windowLossWad + preview.takeover.lossToFundWad);
  });

  it("the plan lists the insurance fund but never closes it, as the chain skips it (review rv16w F4)", () => {
    const input = {
      markValue: -100n * WAD,
      positions: [{ seriesId: 7n, balance: -10n * WAD, markWad: 50n * WAD }],
      seriesId: 7n,
      holders: [
        { account: 1n as sdk.AccountId, balance: 4n * WAD, equityMM: 10_000n * WAD },
        { account: 2n as sdk.AccountId, balance: 6n * WAD, equityMM: 1_000n * WAD },
      ],
      cashDecimals: 6,
    };
    const plan = sdk.deleveragePlanOf({ ...input, insuranceAccount: 2n as sdk.AccountId });
    assert.deepEqual(
      plan.holders.map((h) => h.account),
      [2n, 1n],
      "the fund stays listed (the list must be complete)",
    );
    assert.deepEqual(
      plan.closes.map((c) => [c.account, c.contracts]),
      [[1n, 4n * WAD]],
    );
    const onlyFund = sdk.deleveragePlanOf({
      ...input,
      holders: [input.holders[1]!],
      insuranceAccount: 2n as sdk.AccountId,
    });
    assert.equal(onlyFund.closes.length, 0, "nothing to close: the chain reverts BackstopNothingClosed");
  });
});
