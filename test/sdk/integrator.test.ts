import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Address, getAddress, parseUnits, zeroAddress } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { sdkWorld } from "./helpers/world.js";
import { writeAddressBook } from "../../deploy/lib/addressBook.js";
import {
  AddressBookNotFoundError,
  ContractNotDeployedError,
  InvalidAddressBookError,
  PledgeError,
  UnknownAssetError,
  WrongChainError,
  createSeries,
  deposit,
  expiryAfter,
  fillOrder,
  getAccountId,
  getAccountMargin,
  getBalances,
  getMarginInputs,
  getMarketParameters,
  getOrderStatus,
  getPledgeEvents,
  getPositions,
  getSeriesList,
  loadAddressBook,
  pledgeActions,
  pledgeWalletActions,
  postSettlementPrice,
  seriesId as packSeriesId,
  signOrder,
  transferPositions,
  withdraw,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const usdc = (amount: string) => parseUnits(amount, 6);
const NO_CODE: Address = getAddress("0x00000000000000000000000000000000000dead1");

/** Issue 13 (the integrator's surface): series listing, position transfers, the client extension, typed errors. */
describe("SDK integrator surface", async () => {
  const { contracts, addressBook, publicClient, testClient, admin, makerWallet, takerWallet, keeperWallet } =
    await sdkWorld();
  const maker = getAccountId(makerWallet, { subId: 1n });
  const makerSpare = getAccountId(makerWallet, { subId: 2n });
  const taker = getAccountId(takerWallet, { subId: 1n });
  const cash = addressBook.cash.address;
  const sentBy = (address: Address) => publicClient.getTransactionCount({ address });

  const now = (await publicClient.getBlock()).timestamp;
  const near = { underlyingIndex: 1, expiry: expiryAfter(now, 2), isCall: true, strikeWad: 3_000n * WAD };
  const far = { underlyingIndex: 1, expiry: expiryAfter(now, 30), isCall: false, strikeWad: 2_500n * WAD };
  const btc = { underlyingIndex: 2, expiry: expiryAfter(now, 30), isCall: true, strikeWad: 90_000n * WAD };
  for (const series of [near, far, btc]) await createSeries(admin, { publicClient, addressBook, series });
  await createSeries(admin, { publicClient, addressBook, series: near }); // again: no new event
  for (const [wallet, account] of [
    [makerWallet, maker],
    [takerWallet, taker],
  ] as const) {
    await contracts.usdc.write.mint([wallet.account.address, usdc("100000")]);
    await deposit(wallet, { publicClient, addressBook, account, asset: cash, amount: usdc("50000") });
  }
  // The maker buys two near calls, so it holds a long to move between its subaccounts.
  const signedOrder = await signOrder(makerWallet, {
    addressBook,
    order: {
      account: maker,
      seriesId: packSeriesId(near),
      size: 2n * WAD,
      priceWad: 50n * WAD,
      taker: 0n,
      nonce: 1n,
      deadline: now + 10n * DAY,
    },
  });
  await fillOrder(takerWallet, { publicClient, addressBook, signedOrder, takerAccount: taker, fillSize: 2n * WAD });

  it("transfers positions between subaccounts of one owner, simulated first", async () => {
    const id = packSeriesId(near);
    const { hash } = await transferPositions(makerWallet, {
      publicClient,
      addressBook,
      from: maker,
      to: makerSpare,
      positions: [{ seriesId: id, amount: WAD / 2n }],
    });
    assert.ok(hash);
    assert.deepEqual(await getPositions(publicClient, { addressBook, account: maker }), [
      { seriesId: id, balance: (3n * WAD) / 2n },
    ]);
    assert.deepEqual(await getPositions(publicClient, { addressBook, account: makerSpare }), [
      { seriesId: id, balance: WAD / 2n },
    ]);

    // Refused moves throw the market's typed error, and nothing is sent.
    const before = await sentBy(makerWallet.account.address);
    const tooMuch = await transferPositions(makerWallet, {
      publicClient,
      addressBook,
      from: maker,
      to: makerSpare,
      positions: [{ seriesId: id, amount: 2n * WAD }],
    }).catch((error: unknown) => error);
    assert.ok(tooMuch instanceof PledgeError && tooMuch.is("MarketInsufficientPosition"), String(tooMuch));
    assert.deepEqual(tooMuch.args, [maker, id, (3n * WAD) / 2n, 2n * WAD]);
    const otherOwner = await transferPositions(makerWallet, {
      publicClient,
      addressBook,
      from: maker,
      to: taker,
      positions: [{ seriesId: id, amount: WAD / 2n }],
    }).catch((error: unknown) => error);
    assert.ok(otherOwner instanceof PledgeError && otherOwner.is("MarketDifferentOwners"), String(otherOwner));
    assert.equal(await sentBy(makerWallet.account.address), before);
  });

  it("binds every read and write to a client, with the same results as the free functions", async () => {
    const pledge = publicClient.extend(pledgeActions({ addressBook }));
    const blockNumber = await publicClient.getBlockNumber();
    assert.deepEqual(
      await pledge.getBalances({ account: maker }),
      await getBalances(publicClient, { addressBook, account: maker }),
    );
    assert.deepEqual(
      await pledge.getPositions({ account: maker, blockNumber }),
      await getPositions(publicClient, { addressBook, account: maker, blockNumber }),
    );
    assert.deepEqual(
      await pledge.getAccountMargin({ accounts: [maker, taker], blockNumber }),
      await getAccountMargin(publicClient, { addressBook, accounts: [maker, taker], blockNumber }),
    );
    assert.deepEqual(
      await pledge.getMarginInputs({ account: maker, blockNumber }),
      await getMarginInputs(publicClient, { addressBook, account: maker, blockNumber }),
    );
    assert.deepEqual(
      await pledge.getMarketParameters({ blockNumber }),
      await getMarketParameters(publicClient, { addressBook, blockNumber }),
    );
    assert.deepEqual(
      await pledge.getOrderStatus({ order: signedOrder.order }),
      await getOrderStatus(publicClient, { addressBook, order: signedOrder.order }),
    );
    assert.equal((await pledge.getOrderStatus({ order: signedOrder.order })).state, "filled");
    assert.deepEqual(await pledge.getSeriesList(), await getSeriesList(publicClient, { addressBook }));
    assert.deepEqual(
      await pledge.getPledgeEvents({ contract: "OptionMarket", eventName: "OrderFilled" }),
      await getPledgeEvents(publicClient, { addressBook, contract: "OptionMarket", eventName: "OrderFilled" }),
    );

    const trader = takerWallet.extend(pledgeWalletActions({ addressBook, publicClient }));
    assert.equal(trader.getAccountId({ subId: 1n }), taker);
    const before = await getBalances(publicClient, { addressBook, account: taker });
    const sent = await trader.deposit({ account: taker, asset: cash, amount: usdc("5") });
    assert.equal(sent.receipt.status, "success");
    await trader.withdraw({ account: taker, asset: cash, amount: usdc("2") });
    const after = await getBalances(publicClient, { addressBook, account: taker });
    assert.equal(after.cash - before.cash, usdc("3"));

    // As of a past block (the web app reads at the block its watcher saw): the state then, and
    // at the head the same as reading without a block.
    const head = await publicClient.getBlockNumber();
    assert.deepEqual(await getBalances(publicClient, { addressBook, account: taker, blockNumber }), before);
    assert.deepEqual(await getBalances(publicClient, { addressBook, account: taker, blockNumber: head }), after);
    const then = await getMarginInputs(publicClient, { addressBook, account: taker, blockNumber });
    assert.equal(then.cash, before.cash);
    assert.equal(then.timestamp, (await publicClient.getBlock({ blockNumber })).timestamp);
    assert.deepEqual(
      await getMarginInputs(publicClient, { addressBook, account: taker, blockNumber: head }),
      await getMarginInputs(publicClient, { addressBook, account: taker }),
    );
  });

  it("refuses an asset the address book does not list, or one with no code, before sending", async () => {
    const before = await sentBy(makerWallet.account.address);
    const unknown = await deposit(makerWallet, {
      publicClient,
      addressBook,
      account: maker,
      asset: NO_CODE,
      amount: 1n,
    }).catch((error: unknown) => error);
    assert.ok(unknown instanceof UnknownAssetError, String(unknown));
    assert.match(unknown.message, new RegExp(`${NO_CODE} is not an asset of this Pledge deployment`));
    for (const entry of [addressBook.cash, ...addressBook.collateral]) {
      assert.ok(unknown.message.includes(`${entry.symbol} ${entry.address}`), entry.symbol);
    }
    const withdrawn = await withdraw(makerWallet, {
      publicClient,
      addressBook,
      account: maker,
      asset: zeroAddress,
      amount: 1n,
    }).catch((error: unknown) => error);
    assert.ok(withdrawn instanceof UnknownAssetError, String(withdrawn));

    // Listed, but nothing deployed there (an address book from another chain or an older node).
    const ghost = {
      ...addressBook,
      collateral: [...addressBook.collateral, { address: NO_CODE, symbol: "GHOST", decimals: 18 }],
    };
    const noCode = await deposit(makerWallet, {
      publicClient,
      addressBook: ghost,
      account: maker,
      asset: NO_CODE,
      amount: 1n,
    }).catch((error: unknown) => error);
    assert.ok(noCode instanceof ContractNotDeployedError, String(noCode));
    assert.match(
      noCode.message,
      new RegExp(`^There is no contract at ${NO_CODE} \\(the GHOST token\\) on chain 31337: the address holds no code`),
    );
    assert.equal(await sentBy(makerWallet.account.address), before);

    // A core contract without code: a read says so instead of viem's "returned no data".
    const stale = { ...addressBook, contracts: { ...addressBook.contracts, OptionMarket: NO_CODE } };
    const missing = await getPositions(publicClient, { addressBook: stale, account: maker }).catch(
      (error: unknown) => error,
    );
    assert.ok(missing instanceof ContractNotDeployedError, String(missing));
    assert.match(missing.message, /\(the OptionMarket contract\)/);
  });

  it("refuses a client on another chain than the address book's, before sending", async () => {
    const elsewhere = { ...addressBook, chainId: 42161 };
    const before = await sentBy(makerWallet.account.address);
    for (const attempt of [
      deposit(makerWallet, { publicClient, addressBook: elsewhere, account: maker, asset: cash, amount: 1n }),
      withdraw(makerWallet, { publicClient, addressBook: elsewhere, account: maker, asset: cash, amount: 1n }),
      getBalances(publicClient, { addressBook: elsewhere, account: maker }),
      getPledgeEvents(publicClient, { addressBook: elsewhere, contract: "CollateralVault" }),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      assert.ok(error instanceof WrongChainError, String(error));
      assert.equal(error.message.split(":")[0], "The client is on chain 31337, the address book is for chain 42161");
    }
    assert.equal(await sentBy(makerWallet.account.address), before);
  });

  it("loads an address book, and says which file is missing or what is wrong with it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pledge-sdk-book-"));
    await writeAddressBook(addressBook, dir);
    assert.deepEqual(await loadAddressBook(addressBook.chainId, dir), addressBook);

    const missing = await loadAddressBook(5, dir).catch((error: unknown) => error);
    assert.ok(missing instanceof AddressBookNotFoundError, String(missing));
    assert.equal(missing.file, path.join(dir, "5.json"));
    assert.match(missing.message, /npm run deploy -- --network <name>/);

    const file = path.join(dir, `${addressBook.chainId}.json`);
    const invalid = async (text: string, problem: RegExp) => {
      await writeFile(file, text);
      const error = await loadAddressBook(addressBook.chainId, dir).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidAddressBookError, String(error));
      assert.match(error.message, problem);
    };
    await invalid("{ not json", /is not a valid address book: it is not JSON/);
    await invalid(JSON.stringify({ ...addressBook, chainId: 1 }), /it is for chain 1, not 31337/);
    const { Liquidator: _, ...fewer } = addressBook.contracts;
    await invalid(JSON.stringify({ ...addressBook, contracts: fewer }), /contracts\.Liquidator is missing/);
    await invalid(
      JSON.stringify({ ...addressBook, cash: { ...addressBook.cash, address: "0x12" } }),
      /cash\.address is not an address: 0x12/,
    );
    await invalid(
      JSON.stringify({ ...addressBook, deployedAtBlock: 7 }),
      /deployedAtBlock should be a block number in a string/,
    );
  });

  it("lists every created series with its parameters, and its expiry and settlement as they change", async () => {
    let list = await getSeriesList(publicClient, { addressBook });
    assert.deepEqual(
      list.map((s) => [s.seriesId, s.underlyingIndex, s.expiry, s.isCall, s.strikeWad]),
      [near, far, btc].map((s) => [packSeriesId(s), s.underlyingIndex, s.expiry, s.isCall, s.strikeWad]),
    );
    assert.deepEqual(
      list.map((s) => s.underlying),
      [contracts.weth.address, contracts.weth.address, contracts.wbtc.address],
    );
    assert.ok(list.every((s) => !s.expired && !s.settled && s.settlementPriceWad === undefined));
    assert.deepEqual(
      list.map((s) => s.openInterest),
      [2n * WAD, 0n, 0n],
    );
    assert.deepEqual(
      (await getSeriesList(publicClient, { addressBook, underlyingIndex: 2 })).map((s) => s.seriesId),
      [packSeriesId(btc)],
    );

    // Past the near expiry: expired, then settled once its price is posted.
    await testClient.setNextBlockTimestamp({ timestamp: near.expiry + 60n });
    // A fresh round on each feed at the expiry, so the expiry can be priced.
    await contracts.ethUsd.write.updateAnswer([(await contracts.ethUsd.read.latestRoundData())[1]]);
    await contracts.btcUsd.write.updateAnswer([(await contracts.btcUsd.read.latestRoundData())[1]]);
    list = await getSeriesList(publicClient, { addressBook });
    assert.deepEqual(
      list.map((s) => s.expired),
      [true, false, false],
    );
    assert.equal(list[0]!.settled, false);
    const { result: priceWad } = await postSettlementPrice(keeperWallet, {
      publicClient,
      addressBook,
      asset: contracts.weth.address,
      expiry: near.expiry,
    });
    list = await getSeriesList(publicClient, { addressBook });
    assert.deepEqual([list[0]!.settled, list[0]!.settlementPriceWad], [true, priceWad]);
    assert.deepEqual(
      (await getSeriesList(publicClient, { addressBook, liveOnly: true })).map((s) => s.seriesId),
      [packSeriesId(far), packSeriesId(btc)],
    );
  });
});
