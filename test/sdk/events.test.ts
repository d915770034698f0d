import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { sdkWorld } from "./helpers/world.js";
import {
  type AccountId,
  type Order,
  type PledgeContractName,
  type PledgeEventLog,
  cancelOrder,
  createSeries,
  deposit,
  expiryAfter,
  fillOrder,
  getAccountId,
  getPledgeEvents,
  pledgeAbis,
  pledgeEventNames,
  seriesId as packSeriesId,
  signOrder,
  transferPositions,
  watchPledgeEvents,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const usdc = (amount: string) => parseUnits(amount, 6);

/** Issue 13 (the integrator's surface): typed log readers and watchers for every Pledge event. */
describe("getPledgeEvents and watchPledgeEvents", async () => {
  const { contracts, addressBook, publicClient, admin, makerWallet, takerWallet } = await sdkWorld();
  const maker = getAccountId(makerWallet, { subId: 1n });
  const taker = getAccountId(takerWallet, { subId: 1n });
  const takerSpare = getAccountId(takerWallet, { subId: 2n });

  const now = (await publicClient.getBlock()).timestamp;
  const series = { underlyingIndex: 1, expiry: expiryAfter(now, 7), isCall: true, strikeWad: 3_200n * WAD };
  const id = packSeriesId(series);
  let nonce = 0n;
  const order = (account: AccountId): Order => ({
    account,
    seriesId: id,
    size: -2n * WAD,
    priceWad: 100n * WAD,
    taker: 0n,
    nonce: ++nonce,
    deadline: now + 30n * DAY,
  });

  // The session every test reads: a series, two deposits, a fill, a cancel and a transfer.
  const startBlock = await publicClient.getBlockNumber();
  await createSeries(admin, { publicClient, addressBook, series });
  for (const [wallet, account] of [
    [makerWallet, maker],
    [takerWallet, taker],
  ] as const) {
    await contracts.usdc.write.mint([wallet.account.address, usdc("50000")]);
    await deposit(wallet, {
      publicClient,
      addressBook,
      account,
      asset: addressBook.cash.address,
      amount: usdc("50000"),
    });
  }
  const signedOrder = await signOrder(makerWallet, { addressBook, order: order(maker) });
  const filled = await fillOrder(takerWallet, {
    publicClient,
    addressBook,
    signedOrder,
    takerAccount: taker,
    fillSize: WAD,
  });
  const unwanted = order(maker);
  const cancelled = await cancelOrder(makerWallet, { publicClient, addressBook, order: unwanted });
  const transferred = await transferPositions(takerWallet, {
    publicClient,
    addressBook,
    from: taker,
    to: takerSpare,
    positions: [{ seriesId: id, amount: WAD / 4n }],
  });

  it("reads a deposit, a fill, a cancel and a transfer as typed, decoded logs", async () => {
    const deposits = await getPledgeEvents(publicClient, {
      addressBook,
      contract: "CollateralVault",
      eventName: "Deposited",
      args: { account: maker },
      fromBlock: startBlock,
    });
    assert.equal(deposits.length, 1);
    const [first] = deposits;
    assert.deepEqual(first!.args, {
      account: maker,
      asset: addressBook.cash.address,
      from: getAddress(makerWallet.account.address),
      amount: usdc("50000"),
    });

    const fills = await getPledgeEvents(publicClient, {
      addressBook,
      contract: "OptionMarket",
      eventName: "OrderFilled",
    });
    assert.equal(fills.length, 1);
    const fill = fills[0]!;
    assert.equal(fill.transactionHash, filled.hash);
    const { maker: makerArg, taker: takerArg, seriesId, makerDelta, priceWad, premium } = fill.args;
    assert.deepEqual(
      [makerArg, takerArg, seriesId, makerDelta, priceWad, premium],
      [maker, taker, id, -WAD, 100n * WAD, filled.result],
    );

    const cancels = await getPledgeEvents(publicClient, {
      addressBook,
      contract: "OptionMarket",
      eventName: "OrderCancelled",
      args: { account: maker },
    });
    assert.deepEqual(
      cancels.map((log) => [log.transactionHash, log.args.orderHash]),
      [[cancelled.hash, await contracts.market.read.orderHash([unwanted])]],
    );

    const transfers = await getPledgeEvents(publicClient, {
      addressBook,
      contract: "OptionMarket",
      eventName: "PositionsTransferred",
      args: { from: taker },
    });
    assert.equal(transfers.length, 1);
    assert.equal(transfers[0]!.transactionHash, transferred.hash);
    assert.deepEqual(transfers[0]!.args, { from: taker, to: takerSpare, seriesIds: [id], amounts: [WAD / 4n] });

    // Without a name: every event of the contract, in chain order, told apart by `eventName`.
    const market = await getPledgeEvents(publicClient, {
      addressBook,
      contract: "OptionMarket",
      fromBlock: startBlock,
    });
    const positions = market.filter((log) => log.eventName === "PositionChanged");
    assert.deepEqual(
      positions.map((log) => (log.eventName === "PositionChanged" ? [log.args.account, log.args.balance] : [])),
      [
        [maker, -WAD],
        [taker, WAD],
        [taker, (3n * WAD) / 4n],
        [takerSpare, WAD / 4n],
      ],
    );
  });

  it("decodes every log each contract emitted, and answers for every event name of every ABI", async () => {
    const seen = new Set<string>();
    for (const contract of Object.keys(pledgeAbis) as PledgeContractName[]) {
      const address = addressBook.contracts[contract];
      const raw = await publicClient.getLogs({ address, fromBlock: 0n });
      const decoded = await getPledgeEvents(publicClient, { addressBook, contract, fromBlock: 0n });
      assert.equal(decoded.length, raw.length, `${contract}: every log decodes`);
      // The book's deployedAtBlock is the first deployment transaction's block: the default
      // start sees the set-up events (assets listed, feeds set, roles granted) as well.
      const fromDeployment = await getPledgeEvents(publicClient, { addressBook, contract });
      assert.equal(fromDeployment.length, raw.length, `${contract}: nothing before deployedAtBlock`);
      assert.deepEqual(
        decoded.map((log) => [log.blockNumber, log.logIndex]),
        raw.map((log) => [log.blockNumber, log.logIndex]),
        `${contract}: in chain order`,
      );
      for (const log of decoded) seen.add(`${contract}.${log.eventName}`);

      const names = pledgeEventNames(contract);
      assert.ok(names.length > 0, `${contract} has events`);
      for (const eventName of names) {
        const logs = await getPledgeEvents(publicClient, { addressBook, contract, eventName, fromBlock: 0n });
        assert.ok(
          logs.every((log) => log.eventName === eventName),
          `${contract}.${eventName}`,
        );
        assert.equal(
          logs.length,
          decoded.filter((log) => log.eventName === eventName).length,
          `${contract}.${eventName}: the filtered read finds what the full read found`,
        );
      }
    }
    // The deployment and the session above emit these (the rest are governance and liquidation events).
    for (const name of [
      "CollateralVault.AssetListed",
      "CollateralVault.Deposited",
      "CollateralVault.CashMoved",
      "MarginEngine.UnderlyingListed",
      "ChainlinkOracle.SpotFeedSet",
      "OptionMarket.SeriesCreated",
      "OptionMarket.OrderFilled",
      "OptionMarket.OrderCancelled",
      "OptionMarket.PositionsTransferred",
      "InsuranceFund.RoleGranted",
      "Liquidator.RoleGranted",
    ]) {
      assert.ok(seen.has(name), `${name} was emitted and decoded`);
    }
  });

  it("gives the same logs whatever the chunk size, and starts at the address book's block by default", async () => {
    const toBlock = await publicClient.getBlockNumber();
    const whole = await getPledgeEvents(publicClient, {
      addressBook,
      contract: "OptionMarket",
      fromBlock: 0n,
      toBlock,
    });
    for (const chunkSize of [1n, 3n, 1_000_000n]) {
      const chunked = await getPledgeEvents(publicClient, {
        addressBook,
        contract: "OptionMarket",
        fromBlock: 0n,
        toBlock,
        chunkSize,
      });
      assert.deepEqual(chunked, whole, `chunkSize ${chunkSize}`);
    }
    const byDefault = await getPledgeEvents(publicClient, { addressBook, contract: "OptionMarket", toBlock });
    const deployedAt = BigInt(addressBook.deployedAtBlock);
    assert.deepEqual(
      byDefault,
      whole.filter((log) => log.blockNumber >= deployedAt),
    );
    await assert.rejects(
      getPledgeEvents(publicClient, { addressBook, contract: "OptionMarket", chunkSize: 0n }),
      RangeError,
    );
  });

  it("watches new logs until unwatched", { timeout: 30_000 }, async () => {
    const received: PledgeEventLog<"CollateralVault", "Deposited">[] = [];
    const errors: Error[] = [];
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const unwatch = watchPledgeEvents(publicClient, {
      addressBook,
      contract: "CollateralVault",
      eventName: "Deposited",
      args: { account: taker },
      poll: true,
      pollingInterval: 20,
      onLogs: (logs) => {
        received.push(...logs);
        arrived();
      },
      onError: (error) => errors.push(error),
    });
    await contracts.usdc.write.mint([takerWallet.account.address, usdc("1")]);
    let sent;
    try {
      sent = await deposit(takerWallet, {
        publicClient,
        addressBook,
        account: taker,
        asset: addressBook.cash.address,
        amount: usdc("1"),
        permit: true,
      });
      const late = new Promise((_, reject) =>
        setTimeout(() => reject(new Error("no log within 10 s")), 10_000).unref(),
      );
      await Promise.race([arrival, late]);
    } finally {
      unwatch();
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(
      received.map((log) => [log.transactionHash, log.args.amount]),
      [[sent.hash, usdc("1")]],
    );
  });
});

/** Compile-time checks (run by `tsc`): events are typed by contract and name. */
export async function eventTypes(publicClient: Parameters<typeof getPledgeEvents>[0], addressBook: never) {
  const [log] = await getPledgeEvents(publicClient, {
    addressBook,
    contract: "OptionMarket",
    eventName: "OrderFilled",
  });
  const premium: bigint | undefined = log?.args.premium;
  // @ts-expect-error OrderFilled is an OptionMarket event, not a vault one.
  await getPledgeEvents(publicClient, { addressBook, contract: "CollateralVault", eventName: "OrderFilled" });
  await getPledgeEvents(publicClient, {
    addressBook,
    contract: "CollateralVault",
    eventName: "Deposited",
    // @ts-expect-error Deposited has no `maker` argument.
    args: { maker: 1n },
  });
  return premium;
}
