import assert from "node:assert/strict";
import { type Abi, type TransactionReceipt, parseEventLogs } from "viem";

import * as sdk from "../../../packages/sdk/src/index.js";
import { type Random, random } from "../random.js";
import { sdkWorld } from "./world.js";

type World = Awaited<ReturnType<typeof sdkWorld>>;
export type Wallet = World["admin"];

/** A series as `createSeries` takes it. */
export interface SeriesSpec {
  underlyingIndex: number;
  expiry: bigint;
  isCall: boolean;
  strikeWad: bigint;
}

/** What one `checkedDeleverage` saw, for the caller's counts. */
export interface DeleverageOutcome {
  plan: sdk.GetBackstopPreviewReturnType["deleverage"] & {};
  receipt: TransactionReceipt | undefined;
  /** Each listed holder's margin before the call. */
  before: Map<sdk.AccountId, sdk.MarginState>;
}

/**
 * The backstop parity tests' scene (`backstop.parity.test.ts`, `backstop.parity.random.test.ts`):
 * a fresh world, a seeded generator, and the steps both tests take — trade, move prices, open and
 * age an auction, set the budget, and run `takeover` and `deleverage` with every number the SDK
 * previews (`getBackstopPreview`) checked against the chain to the wei: the takeover preview, the
 * bankruptcy price and shade, every holder's key, the order, each close and skip (`Deleveraged`,
 * `DeleverageSkipped`), every cash move (the vault's `CashMoved`), the balances and positions
 * after, and each closed holder's margin after its close. Not a test file.
 */
export async function backstopScene(seed: bigint) {
  const world = await sdkWorld({ allowBlocksWithSameTimestamp: true });
  const { contracts, addressBook, publicClient, testClient, admin, keeperWallet } = world;
  const rng: Random = random(seed);
  const now = (await publicClient.getBlock()).timestamp;
  const backstop = addressBook.contracts.Backstop;
  const fund = (await contracts.insurance.read.account()) as sdk.AccountId;
  const minted = new Set<string>();
  let nonce = 0n;

  async function createSeries(series: SeriesSpec): Promise<sdk.SeriesId> {
    const { result } = await sdk.createSeries(admin, { publicClient, addressBook, series });
    return result;
  }

  /** Deposits `amount` USDC units into `account` from `wallet` (minted once per wallet). */
  async function deposit(wallet: Wallet, account: sdk.AccountId, amount: bigint) {
    if (!minted.has(wallet.account.address)) {
      await contracts.usdc.write.mint([wallet.account.address, 10n ** 18n]); // 10^12 USDC
      minted.add(wallet.account.address);
    }
    await sdk.deposit(wallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
  }

  /** `maker` (signed by `makerWallet`) trades `size` contracts (its side's sign) at `priceWad` with `taker`. */
  async function trade(o: {
    makerWallet: Wallet;
    maker: sdk.AccountId;
    takerWallet: Wallet;
    taker: sdk.AccountId;
    seriesId: sdk.SeriesId;
    size: bigint;
    priceWad: bigint;
  }) {
    const signedOrder = await sdk.signOrder(o.makerWallet, {
      addressBook,
      order: {
        account: o.maker,
        seriesId: o.seriesId,
        size: o.size,
        priceWad: o.priceWad,
        taker: 0n,
        nonce: ++nonce,
        deadline: now + 365n * 86_400n,
      },
    });
    await sdk.fillOrder(o.takerWallet, {
      publicClient,
      addressBook,
      signedOrder,
      takerAccount: o.taker,
      fillSize: o.size < 0n ? -o.size : o.size,
    });
  }

  async function send(wallet: Wallet, address: `0x${string}`, abi: Abi, functionName: string, args: unknown[]) {
    const hash = await wallet.writeContract({ address, abi, functionName, args } as never);
    return publicClient.waitForTransactionReceipt({ hash });
  }

  /** The revert a call would end with, decoded (`undefined` if it would pass). */
  async function refusal(wallet: Wallet, address: `0x${string}`, abi: Abi, functionName: string, args: unknown[]) {
    try {
      await publicClient.simulateContract({ address, abi, functionName, args, account: wallet.account } as never);
      return undefined;
    } catch (error) {
      const decoded = sdk.decodePledgeError(error);
      assert.ok(decoded, `an undecodable revert: ${String(error)}`);
      return decoded;
    }
  }

  async function refreshFeeds() {
    for (const feed of [contracts.btcUsd, contracts.btcVol, contracts.ethUsd, contracts.ethVol]) {
      await feed.write.updateAnswer([await feed.read.latestAnswer()]);
    }
  }

  /** Opens an auction on each account, lets it run its 15-minute duration, and refreshes the feeds. */
  async function startAuctionsAndWait(accounts: readonly sdk.AccountId[]) {
    for (const account of accounts) {
      await send(keeperWallet, addressBook.contracts.Liquidator, sdk.liquidatorAbi, "startAuction", [account]);
    }
    await testClient.increaseTime({ seconds: 15 * 60 });
    await refreshFeeds();
  }

  async function setBudget(perTakeoverWad: bigint, perWindowWad: bigint) {
    await send(admin, backstop, sdk.backstopAbi, "setTakeoverBudget", [
      { maxLossPerTakeoverWad: perTakeoverWad, maxLossPerWindowWad: perWindowWad },
    ]);
  }

  /** The next transaction mines at the latest block's timestamp, so a preview read there holds for it. */
  async function pinTime() {
    const { timestamp } = await publicClient.getBlock();
    await testClient.setNextBlockTimestamp({ timestamp });
  }

  const cashOf = (account: sdk.AccountId) => contracts.vault.read.cashOf([account]);
  const positionOf = (account: sdk.AccountId, seriesId: sdk.SeriesId) =>
    contracts.market.read.positionOf([account, seriesId]);
  const marginOf = async (account: sdk.AccountId) => {
    const [state] = await sdk.getAccountMargin(publicClient, { addressBook, accounts: [account] });
    return state!;
  };

  /**
   * `getBackstopPreview` against the chain's views at its block: the takeover preview, and for
   * `seriesId` the bankruptcy price and shade (when V < 0) and every holder's key.
   */
  async function compare(
    account: sdk.AccountId,
    seriesId: sdk.SeriesId,
    candidates: readonly sdk.AccountId[],
    options: { valueHolders?: boolean } = {},
  ) {
    const preview = await sdk.getBackstopPreview(publicClient, {
      addressBook,
      account,
      seriesId,
      holders: candidates,
      valueHolders: options.valueHolders,
    });
    const at = { blockNumber: preview.blockNumber };
    const read = (functionName: string, args: unknown[]) =>
      publicClient.readContract({ address: backstop, abi: sdk.backstopAbi, functionName, args, ...at } as never);
    const chain = (await read("previewTakeover", [account])) as sdk.TakeoverPreview;
    assert.equal(preview.takeover.valueWad, chain.valueWad);
    assert.equal(preview.takeover.lossToFundWad, chain.lossToFundWad);
    assert.equal(preview.takeover.budgetLeftWad, chain.budgetLeftWad);
    const plan = preview.deleverage!;
    assert.ok(plan.complete, "every holder found");
    if (preview.takeover.valueWad < 0n) {
      const [priceWad, shadeWad] = (await read("bankruptcyPrice", [account, seriesId])) as [bigint, bigint];
      assert.equal(plan.priceWad, priceWad, "bankruptcy price");
      assert.equal(plan.shadeWad, shadeWad, "shade");
    }
    for (const h of plan.holders) {
      assert.equal(h.key, (await read("deleverageKey", [h.account, seriesId])) as bigint, "key");
    }
    return preview;
  }

  /**
   * Raises BTC step by step (each step `minPercent`…`minPercent + 6` %), comparing every account's
   * preview in every series at each step, until two of `accounts` are worth less than nothing;
   * those two (or more), in `accounts`' order.
   */
  async function rallyUntilBankrupt(o: {
    accounts: readonly sdk.AccountId[];
    seriesIds: readonly sdk.SeriesId[];
    candidates: readonly sdk.AccountId[];
    minPercent: bigint;
    maxSteps: number;
  }): Promise<sdk.AccountId[]> {
    let btc = 60_000n * 10n ** 8n;
    let bankrupt: sdk.AccountId[] = [];
    for (let step = 0; step < o.maxSteps && bankrupt.length < 2; step++) {
      btc = (btc * (100n + o.minPercent + rng.range(0n, 6n))) / 100n;
      await contracts.btcUsd.write.updateAnswer([btc]);
      bankrupt = [];
      for (const account of o.accounts) {
        let value = 0n;
        for (const seriesId of o.seriesIds) {
          value = (await compare(account, seriesId, o.candidates, { valueHolders: false })).takeover.valueWad;
        }
        if (value < 0n) bankrupt.push(account);
      }
    }
    assert.ok(bankrupt.length >= 2, "two accounts underwater");
    return bankrupt;
  }

  /**
   * Runs `deleverage` with the SDK's sorted list and checks it moved exactly the plan: the
   * `Deleveraged` and `DeleverageSkipped` events in order, every `CashMoved`, each holder's and the
   * account's cash and position after, and each closed holder's margin after its close. A plan
   * that closes nothing is checked to revert `BackstopNothingClosed`.
   */
  async function checkedDeleverage(
    account: sdk.AccountId,
    seriesId: sdk.SeriesId,
    candidates: readonly sdk.AccountId[],
  ): Promise<DeleverageOutcome> {
    const preview = await compare(account, seriesId, candidates);
    const plan = preview.deleverage!;
    assert.ok(plan.checked, "every close valued");
    const list = plan.holders.map((h) => h.account);
    const involved = [account, ...list];
    const cashBefore = await Promise.all(involved.map(cashOf));
    const positionBefore = await Promise.all(involved.map((a) => positionOf(a, seriesId)));
    const states = await sdk.getAccountMargin(publicClient, { addressBook, accounts: list });
    const before = new Map(list.map((a, i) => [a, states[i]!]));
    await pinTime();
    if (plan.closes.length === 0) {
      const error = await refusal(keeperWallet, backstop, sdk.backstopAbi, "deleverage", [account, seriesId, list]);
      assert.equal(error?.errorName, "BackstopNothingClosed");
      return { plan, receipt: undefined, before };
    }
    const receipt = await send(keeperWallet, backstop, sdk.backstopAbi, "deleverage", [account, seriesId, list]);
    assert.equal(receipt.status, "success");

    // The events, in the order the chain walked the list.
    type Step = { holder: bigint; contracts?: bigint; priceWad?: bigint; lossWad?: bigint; reason?: string };
    const steps = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs }).flatMap((e): Step[] =>
      e.eventName === "Deleveraged"
        ? [{ holder: e.args.holder, contracts: e.args.contracts, priceWad: e.args.priceWad, lossWad: e.args.lossWad }]
        : e.eventName === "DeleverageSkipped"
          ? [{ holder: e.args.holder, reason: sdk.pledgeErrorNameOf(e.args.reason) ?? e.args.reason }]
          : [],
    );
    const closed = new Map(plan.closes.map((c) => [c.account, c]));
    const skipped = new Map(plan.skips.map((s) => [s.account, s]));
    const reasonName = {
      insuranceFund: "BackstopProtectedAccount",
      belowMaintenance: "BackstopHolderBelowMaintenance",
    };
    const expected = list.flatMap((holder): Step[] => {
      const c = closed.get(holder);
      if (c !== undefined) return [{ holder, contracts: c.contracts, priceWad: plan.priceWad, lossWad: c.lossWad }];
      const s = skipped.get(holder);
      return s !== undefined ? [{ holder, reason: reasonName[s.reason] }] : [];
    });
    assert.deepEqual(steps, expected, "Deleveraged and DeleverageSkipped, in order");

    // Every cash move: the account pays its long holders, its short holders pay it.
    const moves = parseEventLogs({ abi: sdk.collateralVaultAbi, logs: receipt.logs, eventName: "CashMoved" });
    assert.deepEqual(
      moves.map((e) => [e.args.from, e.args.to, e.args.amount]),
      plan.closes
        .filter((c) => c.cash !== 0n)
        .map((c) => (plan.accountIsLong ? [c.account, account, c.cash] : [account, c.account, c.cash])),
      "CashMoved",
    );

    // Balances and positions after (the scene keeps the zero rate: cash units are shares).
    const sign = plan.accountIsLong ? 1n : -1n; // the account's side
    let accountContracts = 0n;
    for (const [i, who] of involved.entries()) {
      if (i === 0) continue;
      const c = closed.get(who);
      assert.equal(await cashOf(who), cashBefore[i]! - sign * (c?.cash ?? 0n), "a holder's cash");
      assert.equal(await positionOf(who, seriesId), positionBefore[i]! + sign * (c?.contracts ?? 0n), "its position");
      accountContracts += c?.contracts ?? 0n;
      if (c !== undefined) {
        const state = await marginOf(who);
        assert.equal(state.equityMM - state.requirementMM, c.excessMMAfter, "a closed holder's margin after");
      }
    }
    assert.equal(await cashOf(account), cashBefore[0]! + plan.accountCashDelta, "the account's cash");
    assert.equal(await positionOf(account, seriesId), positionBefore[0]! - sign * accountContracts);
    return { plan, receipt, before };
  }

  /** Runs `takeover` and checks `AccountTakenOver` and the window against the SDK's preview. */
  async function checkedTakeover(account: sdk.AccountId, candidates: readonly sdk.AccountId[], seriesId: sdk.SeriesId) {
    const preview = await compare(account, seriesId, candidates, { valueHolders: false });
    assert.ok(preview.takeover.withinBudget, "the takeover fits the budget");
    await pinTime();
    const receipt = await send(keeperWallet, backstop, sdk.backstopAbi, "takeover", [account]);
    const [event] = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs, eventName: "AccountTakenOver" });
    assert.equal(event!.args.valueWad, preview.takeover.valueWad);
    assert.equal(event!.args.lossToFundWad, preview.takeover.lossToFundWad);
    assert.equal(event!.args.budgetLeftWad, preview.takeover.budgetLeftAfterWad);
    const windowLoss = await publicClient.readContract({
      address: backstop,
      abi: sdk.backstopAbi,
      functionName: "windowLoss",
    });
    assert.equal(windowLoss, preview.windowLossWad + preview.takeover.lossToFundWad);
    return preview;
  }

  return {
    ...world,
    rng,
    now,
    backstop,
    fund,
    createSeries,
    deposit,
    trade,
    send,
    refusal,
    refreshFeeds,
    startAuctionsAndWait,
    setBudget,
    pinTime,
    cashOf,
    positionOf,
    marginOf,
    compare,
    rallyUntilBankrupt,
    checkedDeleverage,
    checkedTakeover,
  };
}

export type BackstopScene = Awaited<ReturnType<typeof backstopScene>>;
