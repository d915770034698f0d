import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { parseEventLogs, parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { sdkWorld } from "./helpers/world.js";
import { writeAddressBook } from "../../deploy/lib/addressBook.js";
import {
  expiryAfter,
  Health,
  PledgeError,
  type Order,
  bid,
  bidMany,
  SKIP_NONCE_CHECK,
  liquidatorAbi,
  cancelOrder,
  createSeries,
  decodePledgeError,
  deposit,
  fillOrder,
  findSettlementRound,
  getAccountId,
  getAccountMargin,
  getBalances,
  getMarketParameters,
  getOraclePrices,
  getPositions,
  loadAddressBook,
  postSettlementPrice,
  previewBid,
  seriesId as packSeriesId,
  MarginMode,
  setMarginMode,
  setMinNonce,
  setOperator,
  settleBatch,
  signOrder,
  startAuction,
  withdraw,
  type AccountId,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const usdc = (amount: string) => parseUnits(amount, 6);

describe("SDK actions on the in-process chain", async () => {
  const { contracts, addressBook, publicClient, testClient, admin, makerWallet, takerWallet, keeperWallet } =
    await sdkWorld();
  const cash = addressBook.cash.address;
  const weth = contracts.weth.address;

  const maker = getAccountId(makerWallet, { subId: 1n });
  const taker = getAccountId(takerWallet, { subId: 1n });
  const thin = getAccountId(makerWallet, { subId: 2n });
  const bidder = getAccountId(keeperWallet, { subId: 1n });
  const now = (await publicClient.getBlock()).timestamp;
  const expiry = expiryAfter(now, 7);
  const series = { underlyingIndex: 1, expiry, isCall: true, strikeWad: 3_200n * WAD };
  let nonce = 0n;
  const order = (account: AccountId, overrides: Partial<Order> = {}): Order => ({
    account,
    seriesId: packSeriesId(series),
    size: -WAD,
    priceWad: 100n * WAD,
    taker: 0n,
    nonce: ++nonce,
    deadline: now + 30n * DAY,
    ...overrides,
  });
  for (const wallet of [makerWallet, takerWallet, keeperWallet]) {
    await contracts.usdc.write.mint([wallet.account.address, usdc("1000000")]);
  }

  it("loads the address book the deployment writes", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pledge-sdk-book-"));
    await writeAddressBook(addressBook, dir);
    assert.deepEqual(await loadAddressBook(addressBook.chainId, dir), addressBook);
    await assert.rejects(loadAddressBook(1, dir));
  });

  it("deposits with approve, and with an EIP-2612 permit in one transaction", async () => {
    const approved = await deposit(makerWallet, {
      publicClient,
      addressBook,
      account: maker,
      asset: cash,
      amount: usdc("10000"),
    });
    assert.ok(approved.approveHash);
    const permitted = await deposit(takerWallet, {
      publicClient,
      addressBook,
      account: taker,
      asset: cash,
      amount: usdc("10000"),
      permit: true,
    });
    assert.equal(permitted.approveHash, undefined);
    assert.equal(
      await contracts.usdc.read.allowance([takerWallet.account.address, addressBook.contracts.CollateralVault]),
      0n,
    );
    assert.equal((await getBalances(publicClient, { addressBook, account: taker })).cash, usdc("10000"));
  });

  it("creates a series, signs, fills, and reads positions, balances and margin", async () => {
    const { result: id } = await createSeries(admin, { publicClient, addressBook, series });
    assert.equal(id, packSeriesId(series));

    const signed = await signOrder(makerWallet, { addressBook, order: order(maker) });
    const { result: premium } = await fillOrder(takerWallet, {
      publicClient,
      addressBook,
      signedOrder: signed,
      takerAccount: taker,
      fillSize: WAD,
    });
    assert.equal(premium, usdc("100"));

    assert.deepEqual(await getPositions(publicClient, { addressBook, account: maker }), [
      { seriesId: id, balance: -WAD },
    ]);
    assert.deepEqual(await getPositions(publicClient, { addressBook, account: taker }), [
      { seriesId: id, balance: WAD },
    ]);
    const balances = await getBalances(publicClient, { addressBook, account: maker });
    assert.equal(balances.cash, usdc("10100"));
    assert.deepEqual(
      balances.collateral.map((c) => c.asset).sort(),
      addressBook.collateral.map((c) => c.address).sort(),
    );
    assert.ok(balances.collateral.every((c) => c.amount === 0n));

    // Chunks of one account still come back in order and match the single-account view.
    const states = await getAccountMargin(publicClient, { addressBook, accounts: [maker, taker, maker], chunkSize: 1 });
    assert.deepEqual(
      states.map((s) => s.account),
      [maker, taker, maker],
    );
    const single = await contracts.engine.read.accountMargin([maker]);
    assert.equal(states[0]!.requirementIM, single.requirementIM);
    assert.equal(states[0]!.equityIM, single.equityIM);
    assert.ok(states[0]!.requirementIM > 0n);
    assert.equal(states[0]!.health, Health.HEALTHY);
  });

  it("reads the market parameters and oracle prices as the contracts report them, at one block", async () => {
    const blockNumber = await publicClient.getBlockNumber();
    const { collateral, underlyings } = await getMarketParameters(publicClient, { addressBook, blockNumber });
    const assets = await contracts.vault.read.collateralAssets();
    assert.deepEqual(
      collateral.map((c) => c.asset),
      [...assets],
    );
    for (const c of collateral) {
      const config = await contracts.vault.read.assetConfig([c.asset]);
      assert.deepEqual(
        [c.decimals, c.initialHaircutWad, c.maintenanceHaircutWad, c.delisted],
        [config.decimals, config.initialHaircutWad, config.maintenanceHaircutWad, config.delisted],
      );
      if (c.underlyingIndex !== undefined) assert.equal(underlyings.get(c.underlyingIndex)?.asset, c.asset);
    }
    assert.ok(
      collateral.some((c) => c.asset === weth && c.underlyingIndex !== undefined),
      "WETH is an underlying",
    );
    assert.equal(underlyings.size, await contracts.engine.read.underlyingCount());
    for (const [index, u] of underlyings) {
      const onChain = await contracts.engine.read.underlying([index]);
      assert.deepEqual({ asset: u.asset, params: u.params }, { asset: onChain.asset, params: onChain.params });
      assert.deepEqual(u.portfolio, await contracts.engine.read.portfolioParams([index]));
    }

    const listed = [...underlyings.values()].map((u) => u.asset);
    const { spotWad, volWad } = await getOraclePrices(publicClient, {
      addressBook,
      spot: [...assets],
      vol: listed,
      blockNumber,
    });
    for (const asset of assets) {
      // A price the oracle refuses (the cash asset has no feed) reads as 0, as the engine counts it.
      const expected = await contracts.oracle.read.spot([asset], { blockNumber }).catch(() => 0n);
      assert.equal(spotWad.get(asset), expected);
    }
    for (const asset of listed)
      assert.equal(volWad.get(asset), await contracts.oracle.read.vol([asset], { blockNumber }));
    assert.ok([...volWad.values()].every((vol) => vol > 0n));
  });

  it("withdraws, and a withdrawal below initial margin throws a readable PledgeError before sending", async () => {
    await withdraw(makerWallet, { publicClient, addressBook, account: maker, asset: cash, amount: usdc("100") });
    const before = await publicClient.getTransactionCount({ address: makerWallet.account.address });
    const error = await withdraw(makerWallet, {
      publicClient,
      addressBook,
      account: maker,
      asset: cash,
      amount: usdc("9990"),
    }).catch((e: unknown) => e);
    assert.ok(error instanceof PledgeError, String(error));
    assert.equal(error.errorName, "EngineBelowInitialMargin");
    assert.ok(error.is("EngineBelowInitialMargin"));
    const [account, equityIM, requirementIM] = error.args;
    assert.equal(account, maker);
    assert.ok(equityIM < BigInt(requirementIM));
    assert.match(
      error.message,
      /^Account 0x[0-9a-f]{40}\/1 is below initial margin: equity −?[\d.]+ USD < requirement [\d.]+ USD; deposit collateral or reduce risk$/,
    );
    assert.equal(await publicClient.getTransactionCount({ address: makerWallet.account.address }), before);
  });

  it("decodes other reverts generically, and leaves non-Pledge errors alone", async () => {
    const error = await withdraw(takerWallet, {
      publicClient,
      addressBook,
      account: maker,
      asset: cash,
      amount: 1n,
    }).catch((e: unknown) => e);
    assert.ok(error instanceof PledgeError);
    assert.equal(error.errorName, "VaultUnauthorized");
    assert.match(error.message, /is neither the owner nor an operator of account 0x/);

    const raw = decodePledgeError("0x5ab8f1b3" + "0".repeat(64)); // unknown selector
    assert.equal(raw, undefined);
    assert.equal(decodePledgeError(new Error("network down")), undefined);
    const generic = decodePledgeError(error.data.slice(0, 10)); // right selector, no arguments
    assert.equal(generic, undefined);
  });

  it("an operator acts for the owner's account", async () => {
    await setOperator(makerWallet, {
      publicClient,
      addressBook,
      operator: keeperWallet.account.address,
      approved: true,
    });
    await withdraw(keeperWallet, { publicClient, addressBook, account: maker, asset: cash, amount: 1n });
    await setOperator(makerWallet, {
      publicClient,
      addressBook,
      operator: keeperWallet.account.address,
      approved: false,
    });
  });

  it("sets a flat account's margin mode, and refuses once it holds positions", async () => {
    const fresh = getAccountId(makerWallet, { subId: 7n });
    await setMarginMode(makerWallet, { publicClient, addressBook, account: fresh, mode: MarginMode.PORTFOLIO });
    assert.equal(await contracts.engine.read.marginModeOf([fresh]), MarginMode.PORTFOLIO);
    const locked = await setMarginMode(makerWallet, {
      publicClient,
      addressBook,
      account: maker,
      mode: MarginMode.ISOLATED,
    }).catch((e: unknown) => e);
    assert.ok(locked instanceof PledgeError && locked.errorName === "EngineModeLocked", String(locked));
  });

  it("cancels one order, and many with setMinNonce", async () => {
    const cancelled = await signOrder(makerWallet, { addressBook, order: order(maker) });
    await cancelOrder(makerWallet, { publicClient, addressBook, order: cancelled.order });
    const fill = (signedOrder: typeof cancelled) =>
      fillOrder(takerWallet, { publicClient, addressBook, signedOrder, takerAccount: taker, fillSize: WAD }).catch(
        (e: unknown) => e,
      );
    const first = await fill(cancelled);
    assert.ok(first instanceof PledgeError && first.errorName === "MarketOrderCancelled", String(first));

    const stale = await signOrder(makerWallet, { addressBook, order: order(maker) });
    await setMinNonce(makerWallet, { publicClient, addressBook, account: maker, minNonce: nonce + 1n });
    const second = await fill(stale);
    assert.ok(second instanceof PledgeError && second.errorName === "MarketOrderNonceTooLow", String(second));
    assert.match(second.message, /^Order 0x[0-9a-f]{64} has nonce \d+, below its maker's minimum nonce \d+ /);
  });

  it("liquidates an account pushed under maintenance by a rally", async () => {
    await deposit(makerWallet, { publicClient, addressBook, account: thin, asset: cash, amount: usdc("2000") });
    const signed = await signOrder(makerWallet, { addressBook, order: order(thin, { nonce: 10n ** 6n }) });
    await fillOrder(takerWallet, {
      publicClient,
      addressBook,
      signedOrder: signed,
      takerAccount: taker,
      fillSize: WAD,
    });
    // Down to just above initial margin.
    const excess = await contracts.engine.read.excessInitial([thin]);
    await withdraw(makerWallet, {
      publicClient,
      addressBook,
      account: thin,
      asset: cash,
      amount: (excess * 99n) / 100n / 10n ** 12n,
    });

    const early = await startAuction(keeperWallet, { publicClient, addressBook, account: thin }).catch(
      (e: unknown) => e,
    );
    assert.ok(early instanceof PledgeError && early.errorName === "LiquidatorAccountHealthy", String(early));
    assert.match(early.message, /cannot be auctioned: its health is (MARGIN_CALL|HEALTHY);/);

    await contracts.ethUsd.write.updateAnswer([4_200n * 10n ** 8n]);
    const [state] = await getAccountMargin(publicClient, { addressBook, accounts: [thin] });
    assert.ok(state!.health >= Health.LIQUIDATABLE);

    await startAuction(keeperWallet, { publicClient, addressBook, account: thin });
    await deposit(keeperWallet, { publicClient, addressBook, account: bidder, asset: cash, amount: usdc("100000") });
    const preview = await previewBid(publicClient, { addressBook, account: thin, fractionWad: WAD });
    assert.ok(preview.fractionWad > 0n);
    const { result } = await bid(keeperWallet, {
      publicClient,
      addressBook,
      account: thin,
      bidderAccount: bidder,
      fractionWad: WAD,
    });
    assert.equal(result.fractionWad, preview.fractionWad);
    assert.ok(result.payment <= preview.payment);
    const positions = await getPositions(publicClient, { addressBook, account: bidder });
    assert.equal(positions.length, 1);
    assert.ok(positions[0]!.balance < 0n);

    // A batch skips what a single bid would refuse, and names why; an empty one is refused.
    const batch = await bidMany(keeperWallet, {
      publicClient,
      addressBook,
      bidderAccount: bidder,
      requests: [{ account: thin, fractionWad: WAD, maxPayment: 0n, expectedNonce: SKIP_NONCE_CHECK }],
    });
    assert.equal(batch.result.length, 1);
    assert.equal(batch.result[0]!.landed, false);
    assert.ok(
      batch.result[0]!.skippedBy === "LiquidatorAccountHealthy" ||
        batch.result[0]!.skippedBy === "LiquidatorPriceLimit",
      String(batch.result[0]!.skippedBy),
    );
    const skipped = parseEventLogs({ abi: liquidatorAbi, logs: batch.receipt.logs, eventName: "BidSkipped" });
    assert.deepEqual(
      skipped.map((event) => [event.args.account, event.args.reason]),
      [[thin, batch.result[0]!.skipReason]],
    );
    const empty = await bidMany(keeperWallet, { publicClient, addressBook, bidderAccount: bidder, requests: [] }).catch(
      (e: unknown) => e,
    );
    assert.ok(empty instanceof PledgeError && empty.errorName === "LiquidatorEmptyBatch", String(empty));
    assert.match(empty.message, /The batch holds no bid/);
  });

  it("settles at expiry: finds the first round after expiry, posts it, settles in a batch", async () => {
    const feed = addressBook.collateral.find((c) => c.address === weth)!.spotFeed!;
    const tooEarly = await findSettlementRound(publicClient, { feed, expiry }).catch((e: unknown) => e);
    assert.ok(tooEarly instanceof Error && tooEarly.name === "PledgeSettlementRoundNotFoundError");

    await testClient.setNextBlockTimestamp({ timestamp: expiry - 60n });
    await contracts.ethUsd.write.updateAnswer([3_500n * 10n ** 8n]); // the last round before expiry
    await testClient.setNextBlockTimestamp({ timestamp: expiry + 60n });
    await contracts.ethUsd.write.updateAnswer([3_400n * 10n ** 8n]); // the settlement round
    await contracts.ethUsd.write.updateAnswer([3_300n * 10n ** 8n]);
    await contracts.ethUsd.write.updateAnswer([3_350n * 10n ** 8n]);
    for (const aggregator of [contracts.btcUsd, contracts.ethVol, contracts.btcVol]) {
      await aggregator.write.updateAnswer([await aggregator.read.latestAnswer()]);
    }

    const latest = await contracts.ethUsd.read.latestRound();
    const round = await findSettlementRound(publicClient, { feed, expiry });
    assert.deepEqual(round, {
      roundId: latest - 2n,
      hints: [], // a plain aggregator: no other phase
      answer: 3_400n * 10n ** 8n,
      updatedAt: expiry + 60n,
      decimals: 8,
    });

    const { result: priceWad } = await postSettlementPrice(keeperWallet, {
      publicClient,
      addressBook,
      asset: weth,
      expiry,
    });
    assert.equal(priceWad, 3_400n * WAD);

    const id = packSeriesId(series);
    const holders = [maker, taker, thin, bidder];
    const { result: settled } = await settleBatch(keeperWallet, {
      publicClient,
      addressBook,
      positions: holders.map((account) => ({ account, seriesId: id })),
    });
    assert.ok(settled >= 3n);
    for (const account of holders) assert.deepEqual(await getPositions(publicClient, { addressBook, account }), []);
  });
});
