import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  expiryAfter,
  type Order,
  accountId,
  cancelOrder,
  createSeries,
  deposit,
  fillOrder,
  getOrderStatus,
  seriesId as packSeriesId,
  setMinNonce,
  signOrder,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;

/** Issue 13 (the integrator's surface): an order's status, read as the market judges it. */
describe("getOrderStatus", async () => {
  const connection = await network.create();
  const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const [admin, makerWallet, takerWallet] = await connection.viem.getWalletClients();
  if (!admin || !makerWallet || !takerWallet) throw new Error("need three wallet clients");
  const maker = accountId(makerWallet.account.address, 1n);
  const taker = accountId(takerWallet.account.address, 1n);

  const now = (await publicClient.getBlock()).timestamp;
  const [, spotAnswer] = await contracts.ethUsd.read.latestRoundData();
  const series = {
    underlyingIndex: 1,
    expiry: expiryAfter(now, 14),
    isCall: false,
    strikeWad: ((spotAnswer * 10n ** 10n * 8n) / 10n / WAD) * WAD,
  };
  await createSeries(admin, { publicClient, addressBook, series });
  for (const [wallet, id] of [
    [makerWallet, maker],
    [takerWallet, taker],
  ] as const) {
    await contracts.usdc.write.mint([wallet.account.address, parseUnits("100000", 6)]);
    await deposit(wallet, {
      publicClient,
      addressBook,
      account: id,
      asset: addressBook.cash.address,
      amount: parseUnits("100000", 6),
    });
  }

  let nonce = 0n;
  async function newOrder(deadline?: bigint): Promise<Order> {
    const block = await publicClient.getBlock();
    return {
      account: maker,
      seriesId: packSeriesId(series),
      size: 2n * WAD, // the maker buys two puts
      priceWad: 50n * WAD,
      taker: 0n,
      nonce: ++nonce,
      deadline: deadline ?? block.timestamp + DAY,
    };
  }

  it("follows an order from open through part-filled to filled", async () => {
    const order = await newOrder();
    const signedOrder = await signOrder(makerWallet, { addressBook, order });
    let status = await getOrderStatus(publicClient, { addressBook, order });
    assert.deepEqual([status.state, status.filled, status.remaining], ["open", 0n, 2n * WAD]);
    assert.equal(status.hash, await contracts.market.read.orderHash([order]));

    await fillOrder(takerWallet, { publicClient, addressBook, signedOrder, takerAccount: taker, fillSize: WAD / 2n });
    status = await getOrderStatus(publicClient, { addressBook, order });
    assert.deepEqual([status.state, status.filled, status.remaining], ["open", WAD / 2n, (3n * WAD) / 2n]);

    await fillOrder(takerWallet, {
      publicClient,
      addressBook,
      signedOrder,
      takerAccount: taker,
      fillSize: (3n * WAD) / 2n,
    });
    status = await getOrderStatus(publicClient, { addressBook, order });
    assert.deepEqual([status.state, status.filled, status.remaining], ["filled", 2n * WAD, 0n]);
  });

  it("tells cancelled, bulk-cancelled and expired orders apart", async () => {
    const cancelled = await newOrder();
    await cancelOrder(makerWallet, { publicClient, addressBook, order: cancelled });
    assert.equal((await getOrderStatus(publicClient, { addressBook, order: cancelled })).state, "cancelled");

    const expired = await newOrder((await publicClient.getBlock()).timestamp);
    await contracts.usdc.write.mint([admin.account.address, 1n]); // one more block
    assert.equal((await getOrderStatus(publicClient, { addressBook, order: expired })).state, "expired");

    const stale = await newOrder();
    await setMinNonce(makerWallet, { publicClient, addressBook, account: maker, minNonce: nonce + 1n });
    assert.equal((await getOrderStatus(publicClient, { addressBook, order: stale })).state, "nonceTooLow");
  });
});
