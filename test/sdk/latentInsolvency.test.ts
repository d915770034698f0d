import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFunctionData, parseUnits } from "viem";

import * as sdk from "../../packages/sdk/src/index.js";
import { sdkWorld } from "./helpers/world.js";

const WAD = 10n ** 18n;
const usdc = (amount: string) => parseUnits(amount, 6);

/**
 * Issue 16, item 1: latent insolvency from the chain (`Backstop.latentInsolvency`), from the SDK's
 * chunked read (`getLatentInsolvency`) and from margin states already read (`latentInsolvencyOf`,
 * which the keeper's `pledge_keeper_insolvent_accounts` and `pledge_keeper_latent_shortfall_usd`
 * gauges are computed with) agree to the wei, on accounts a BTC rally takes underwater by
 * different amounts.
 */
describe("latent insolvency: chain view, SDK read and the keeper's computation agree", async () => {
  const { contracts, addressBook, publicClient, admin, makerWallet, takerWallet } = await sdkWorld();
  const taker = sdk.getAccountId(takerWallet, { subId: 1n });
  const now = (await publicClient.getBlock()).timestamp;
  const series = { underlyingIndex: 2, expiry: sdk.expiryAfter(now, 7), isCall: true, strikeWad: 66_000n * WAD };
  const { result: seriesId } = await sdk.createSeries(admin, { publicClient, addressBook, series });
  await contracts.usdc.write.mint([takerWallet.account.address, usdc("10000000")]);
  await sdk.deposit(takerWallet, {
    publicClient,
    addressBook,
    account: taker,
    asset: addressBook.cash.address,
    amount: usdc("10000000"),
  });

  // Six of the maker's subaccounts, each short two calls on more or less cash.
  const makers = [1n, 2n, 3n, 4n, 5n, 6n].map((subId) => sdk.getAccountId(makerWallet, { subId }));
  await contracts.usdc.write.mint([makerWallet.account.address, usdc("1000000")]);
  for (const [i, account] of makers.entries()) {
    const amount = usdc(String(12_500 + 4_000 * i));
    await sdk.deposit(makerWallet, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
    const signed = await sdk.signOrder(makerWallet, {
      addressBook,
      order: {
        account,
        seriesId,
        size: -2n * WAD,
        priceWad: 1_000n * WAD,
        taker: 0n,
        nonce: 1n,
        deadline: now + 3n * 86_400n,
      },
    });
    await sdk.fillOrder(takerWallet, {
      publicClient,
      addressBook,
      signedOrder: signed,
      takerAccount: taker,
      fillSize: 2n * WAD,
    });
  }
  // The protocol's own accounts, which the view leaves out and the keeper's twin is told of.
  const [insurance, settlement, fee] = await Promise.all([
    publicClient.readContract({
      address: addressBook.contracts.Liquidator,
      abi: sdk.liquidatorAbi,
      functionName: "insuranceAccount",
    }),
    publicClient.readContract({
      address: addressBook.contracts.OptionMarket,
      abi: sdk.optionMarketAbi,
      functionName: "settlementAccount",
    }),
    publicClient.readContract({
      address: addressBook.contracts.OptionMarket,
      abi: sdk.optionMarketAbi,
      functionName: "feeAccount",
    }),
  ]);
  const protectedAccounts = [insurance, settlement, fee];
  const accounts = [taker, ...makers, sdk.asAccountId(insurance)];

  async function compare() {
    const blockNumber = await publicClient.getBlockNumber();
    const chain = await publicClient.readContract({
      address: addressBook.contracts.Backstop,
      abi: sdk.backstopAbi,
      functionName: "latentInsolvency",
      args: [accounts],
      blockNumber,
    });
    const read = await sdk.getLatentInsolvency(publicClient, { addressBook, accounts, chunkSize: 2, blockNumber });
    const states = await sdk.getAccountMargin(publicClient, { addressBook, accounts, blockNumber });
    const keeper = sdk.latentInsolvencyOf(states, { protectedAccounts });
    assert.deepEqual(read, {
      count: chain.count,
      totalShortfallWad: chain.totalShortfallWad,
      accounts: chain.accounts.map(({ account, shortfallWad }) => ({ account, shortfallWad })),
      unpriced: [...chain.unpriced],
    });
    assert.deepEqual(keeper, read);
    // Against the definition: every account with equityMM < 0, in order, each with −equityMM.
    const below = states.filter((s) => s.equityMM < 0n && !protectedAccounts.includes(s.account));
    assert.deepEqual(
      read.accounts.map((s) => s.account),
      below.map((s) => s.account),
    );
    assert.equal(
      read.totalShortfallWad,
      below.reduce((sum, s) => sum - s.equityMM, 0n),
    );
    return read;
  }

  it("finds nobody before the rally", async () => {
    const latent = await compare();
    assert.equal(latent.count, 0n);
    assert.equal(latent.totalShortfallWad, 0n);
  });

  it("finds the accounts the rally takes below zero, with their shortfalls, through chunks", async () => {
    const counts = new Set<bigint>();
    let btc = 60_000n * 10n ** 8n;
    for (let step = 0; step < 12; step++) {
      btc = (btc * 108n) / 100n;
      await contracts.btcUsd.write.updateAnswer([btc]);
      const latent = await compare();
      counts.add(latent.count);
      if (latent.count === BigInt(makers.length)) break;
    }
    assert.ok(counts.size >= 3, `several stages of insolvency seen: ${[...counts].join(", ")}`);
    assert.ok(
      [...counts].some((c) => c > 0n && c < BigInt(makers.length)),
      "some accounts but not all",
    );
  });

  it("reads an empty list as nothing", async () => {
    assert.deepEqual(await sdk.getLatentInsolvency(publicClient, { addressBook, accounts: [] }), {
      count: 0n,
      totalShortfallWad: 0n,
      accounts: [],
      unpriced: [],
    });
  });

  it("review rv16 F3: a call that runs out of gas is split, not the whole read failed", async () => {
    const blockNumber = await publicClient.getBlockNumber();
    const full = await sdk.getLatentInsolvency(publicClient, { addressBook, accounts, blockNumber });
    assert.ok(full.count > 0n, "some accounts are below zero by now");
    // A budget every single account fits in and the whole list does not, measured rather than
    // written down (valuations get cheaper): the view reverts (BackstopOutOfGas) for the list,
    // and the read splits down to calls that fit.
    const callOf = (list: readonly sdk.AccountId[]) => ({
      to: addressBook.contracts.Backstop,
      data: encodeFunctionData({ abi: sdk.backstopAbi, functionName: "latentInsolvency", args: [list] }),
      blockNumber,
    });
    const gasOf = (list: readonly sdk.AccountId[]) => publicClient.estimateGas(callOf(list));
    const fullGas = await gasOf(accounts);
    const singleGas = await Promise.all(accounts.map((account) => gasOf([account])));
    const gasPerCall = singleGas.reduce((max, gas) => (gas > max ? gas : max));
    assert.ok(
      gasPerCall < fullGas,
      `a budget between the heaviest account (${gasPerCall}) and the whole list (${fullGas})`,
    );
    await assert.rejects(publicClient.call({ ...callOf(accounts), gas: gasPerCall }));
    const split = await sdk.getLatentInsolvency(publicClient, {
      addressBook,
      accounts,
      blockNumber,
      gasPerCall,
      accountGas: () => 1n, // an estimate far too low: every account in one call at first
    });
    assert.deepEqual(split, full);
  });

  it("review rv16 F4: the protocol's own accounts are left out; the twin without them counts them", async () => {
    const states = await sdk.getAccountMargin(publicClient, { addressBook, accounts: [taker] });
    const asInsurance = [{ ...states[0]!, account: sdk.asAccountId(insurance), equityMM: -1n }];
    assert.equal(sdk.latentInsolvencyOf(asInsurance).count, 1n);
    assert.equal(sdk.latentInsolvencyOf(asInsurance, { protectedAccounts }).count, 0n);
  });
});
