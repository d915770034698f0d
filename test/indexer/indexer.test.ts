import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { type Address, getContractAddress, maxUint256, parseUnits } from "viem";

import { IndexerProcess, freePort, waitFor } from "../../packages/indexer/lib/runner.js";
import { postSettlementPrice } from "../../packages/sdk/src/index.js";
import { type World, createWorld } from "../keeper/helpers/world.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WAD = 10n ** 18n;

interface Row {
  [column: string]: string | number | boolean | null;
}

/** The live (not zombie) processes of a process group, from /proc: `pid command` each. */
function liveProcessesOfGroup(group: number): string[] {
  const live: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp …; comm may hold spaces, so split after the last ")".
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === group && state !== "Z") live.push(`${entry} ${stat.slice(0, stat.lastIndexOf(")") + 1)}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return live;
}

describe("indexer: Ponder's tables equal the chain (deposit, fill, price move, auction, bid, settle; restart; reorg)", () => {
  const chainId = 610_000 + (process.pid % 90_000); // 610,000–699,999: no other test file's range
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let url: string;
  let world: World;
  let dir: string;
  let deployment: string;
  let port: number;
  let indexer: IndexerProcess | undefined;
  let traderWallet: Awaited<ReturnType<World["connection"]["viem"]["getWalletClients"]>>[number];
  let addresses: Address[];

  const gql = <T>(query: string) => indexer!.gql<T>(query);
  async function startIndexer() {
    indexer = new IndexerProcess({
      deployment,
      rpcUrl: url,
      port,
      dataDir: path.join(dir, "pglite"),
      pollingMs: 100,
      cwd: ROOT,
    });
    await indexer.ready();
  }
  async function caughtUp() {
    const head = Number(await world.publicClient.getBlockNumber());
    await indexer!.caughtUpTo(head);
    return head;
  }
  const mined = async (send: () => Promise<`0x${string}`>) => {
    const receipt = await world.publicClient.waitForTransactionReceipt({ hash: await send() });
    assert.equal(receipt.status, "success");
    return receipt;
  };

  /** Every indexed account, collateral balance and position equals the vault's, engine's and market's views. */
  async function assertTablesMatchChain() {
    const head = await caughtUp();
    const { vault, engine, market } = world.contracts;
    const data = await gql<{
      accounts: { items: Row[] };
      collateralBalances: { items: Row[] };
      positions: { items: Row[] };
      eventLogs: { totalCount: number };
    }>(`{
      accounts(limit: 1000) {
        items {
          id cashShares cashAtLastEvent lastEventBlock
          equityIMAtLastEvent equityMMAtLastEvent requirementIMAtLastEvent requirementMMAtLastEvent
          healthAtLastEvent markValueAtLastEvent
        }
      }
      collateralBalances(limit: 1000) { items { account asset amount } }
      positions(limit: 1000) { items { account seriesId balance } }
      eventLogs { totalCount }
    }`);
    const known = [...world.traders, world.marketMaker, ...world.keepers.map((keeper) => keeper.bidderAccount)];
    const indexedIds = new Set(data.accounts.items.map((row) => BigInt(row.id as string)));
    for (const id of known) assert.ok(indexedIds.has(id), `account ${id} is indexed`);
    for (const row of data.accounts.items) {
      const id = BigInt(row.id as string);
      // The …AtLastEvent columns against the views at the same block; shares also equal the head's.
      const blockNumber = BigInt(row.lastEventBlock as string);
      const shares = BigInt(row.cashShares as string);
      assert.equal(shares, await vault.read.cashSharesOf([id], { blockNumber }), `cash shares of ${id}`);
      assert.equal(shares, await vault.read.cashSharesOf([id]), `cash shares of ${id} at the head`);
      assert.equal(
        BigInt(row.cashAtLastEvent as string),
        await vault.read.cashOf([id], { blockNumber }),
        `cash of ${id}`,
      );
      const margin = await engine.read.accountMargin([id], { blockNumber });
      assert.deepEqual(
        [
          row.equityIMAtLastEvent,
          row.equityMMAtLastEvent,
          row.requirementIMAtLastEvent,
          row.requirementMMAtLastEvent,
          row.healthAtLastEvent,
          row.markValueAtLastEvent,
        ].map(String),
        [
          margin.equityIM,
          margin.equityMM,
          margin.requirementIM,
          margin.requirementMM,
          margin.health,
          margin.markValue,
        ].map(String),
        `margin of ${id} at block ${blockNumber}`,
      );
    }
    for (const row of data.collateralBalances.items) {
      const [id, asset] = [BigInt(row.account as string), row.asset as Address];
      assert.equal(BigInt(row.amount as string), await vault.read.collateralOf([id, asset]), `${asset} of ${id}`);
    }
    const positions = new Map(data.positions.items.map((row) => [`${row.account}-${row.seriesId}`, row.balance]));
    for (const row of data.positions.items) {
      const [id, series] = [BigInt(row.account as string), BigInt(row.seriesId as string)];
      assert.equal(
        BigInt(row.balance as string),
        await market.read.positionOf([id, series]),
        `position ${id}/${series}`,
      );
    }
    for (const id of known) {
      const onChain = await market.read.positionOf([id, world.series]);
      if (onChain !== 0n) assert.equal(positions.get(`${id}-${world.series}`), onChain.toString(), `position of ${id}`);
    }
    // Every log of the protocol's contracts is one row of event_log.
    const logs = await world.publicClient.getLogs({
      address: addresses,
      fromBlock: BigInt(world.book.deployedAtBlock),
      toBlock: BigInt(head),
    });
    assert.equal(data.eventLogs.totalCount, logs.length, "one event_log row per protocol log");
    return data;
  }

  before(async () => {
    server = await network.createServer({ network: "node", override: { chainId } }, "127.0.0.1");
    const listening = await server.listen();
    url = `http://127.0.0.1:${listening.port}`;
    const connection = await network.create({ network: "localhost", override: { url } });
    world = await createWorld({ accounts: 3, connection });
    traderWallet = (await connection.viem.getWalletClients())[2]!;
    dir = await mkdtemp(path.join(tmpdir(), "pledge-indexer-"));
    deployment = path.join(dir, `${chainId}.json`);
    await writeFile(deployment, JSON.stringify(world.book));
    port = await freePort();
    const { contracts } = world.book;
    addresses = [
      ...Object.values(contracts),
      getContractAddress({ from: contracts.MarginEngine, nonce: 1n }), // the engine's portfolio manager
    ];
  });
  after(async () => {
    await indexer?.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await rm(path.join(ROOT, "ignition", "deployments", `chain-${chainId}`), { recursive: true, force: true });
  });

  it("indexes the scripted sequence: balances, positions, margin, fills, auction, bid, settlement", async () => {
    const { vault, liquidator, market, weth, wbtc } = world.contracts;
    const [trader, other] = world.traders as [bigint, bigint, bigint];
    // Collateral: WETH into the first trader's account.
    const weth2 = parseUnits("2", 18);
    await mined(() => weth.write.mint([traderWallet.account.address, weth2]));
    await mined(() => weth.write.approve([vault.address, maxUint256], { account: traderWallet.account }));
    await mined(() => vault.write.deposit([trader, weth.address, weth2], { account: traderWallet.account }));

    await startIndexer();
    await assertTablesMatchChain();

    // Price move: BTC up 40 %, the short calls fall below maintenance; an auction, and a bid on half.
    await world.setSpot(84_000);
    await mined(() => liquidator.write.startAuction([other]));
    const keeper = world.keepers[0]!;
    const preview = await liquidator.read.previewBid([other, WAD / 2n]);
    const nonce = await market.read.accountNonce([other]);
    // The bid lands a block after the preview: the price may move by a few units of interest.
    const maxPayment = preview.payment + 1_000_000n;
    await mined(() =>
      liquidator.write.bid([other, keeper.bidderAccount, WAD / 2n, maxPayment, nonce], {
        account: keeper.wallet.account,
      }),
    );

    // Expiry: a round just before and one after, the settlement price posted, the maker and bidder settled.
    const now = (await world.publicClient.getBlock()).timestamp;
    await world.testClient.increaseTime({ seconds: Number(world.expiry - now) - 120 });
    await world.refreshFeeds(85_000);
    await world.testClient.increaseTime({ seconds: 240 });
    await world.refreshFeeds(86_000);
    await postSettlementPrice(keeper.wallet, {
      publicClient: world.publicClient,
      addressBook: world.book,
      asset: wbtc.address,
      expiry: world.expiry,
    });
    for (const account of [world.marketMaker, keeper.bidderAccount]) {
      await mined(() => market.write.settle([account, world.series]));
    }

    const data = await assertTablesMatchChain();
    const history = await gql<{
      fills: { totalCount: number };
      auctions: { items: Row[] };
      bids: { items: Row[] };
      settlements: { items: Row[] };
      settlementPrices: { items: Row[] };
      series: { items: Row[] };
      transfers: { items: Row[] };
      eventLogs: { items: Row[] };
    }>(`{
      fills { totalCount }
      auctions { items { id account bids endedBlock } }
      bids { items { auction account bidderAccount fractionWad payment } }
      settlements { items { account seriesId balance payoff } }
      settlementPrices { items { asset expiry priceWad } }
      series: seriess { items { id retired } }
      transfers(where: { kind: "deposit" }, limit: 1000) { items { toAccount asset amount } }
      eventLogs(where: { kind: "parameter" }, limit: 1) { items { event } }
    }`);
    assert.equal(history.fills.totalCount, world.traders.length, "one fill per trader");
    const auction = history.auctions.items.find((row) => row.account === other.toString());
    assert.ok(auction, "the auction is indexed");
    assert.equal(auction.bids, 1);
    assert.deepEqual(
      history.bids.items.map(({ payment: _, ...row }) => row),
      [
        {
          auction: auction.id,
          account: other.toString(),
          bidderAccount: keeper.bidderAccount.toString(),
          fractionWad: (WAD / 2n).toString(),
        },
      ],
    );
    const paid = BigInt(history.bids.items[0]!.payment as string);
    assert.ok(paid >= preview.payment && paid <= maxPayment, `payment ${paid} near the preview ${preview.payment}`);
    assert.equal(history.settlements.items.length, 2, "the maker and the bidder settled");
    assert.deepEqual(history.settlementPrices.items, [
      { asset: wbtc.address.toLowerCase(), expiry: world.expiry.toString(), priceWad: (86_000n * WAD).toString() },
    ]);
    assert.deepEqual(history.series.items, [{ id: world.series.toString(), retired: false }]);
    assert.ok(
      history.transfers.items.some(
        (row) =>
          row.toAccount === trader.toString() &&
          row.asset === weth.address.toLowerCase() &&
          row.amount === weth2.toString(),
      ),
    );
    assert.ok(history.eventLogs.items.length === 1, "parameter changes (the deployment's set-up) are indexed");
    assert.ok(data.collateralBalances.items.length >= 1);
  });

  it("resumes after a restart with the same tables", async () => {
    const before = await assertTablesMatchChain();
    const group = indexer!.pid!;
    await indexer!.stop();
    // rv18 7b: nothing of the indexer's process group (cli.ts, Ponder) outlives stop().
    assert.deepEqual(liveProcessesOfGroup(group), [], "a process of the indexer's group is left");
    const { vault, usdc } = world.contracts;
    const [, , third] = world.traders as [bigint, bigint, bigint];
    await mined(() => usdc.write.mint([traderWallet.account.address, parseUnits("500", 6)]));
    await mined(() =>
      vault.write.deposit([third, usdc.address, parseUnits("500", 6)], { account: traderWallet.account }),
    );
    const firstRun = indexer!.output.join("");
    await startIndexer();
    const afterRestart = await assertTablesMatchChain();
    assert.match(firstRun, /Created database tables/);
    assert.doesNotMatch(indexer!.output.join(""), /Created database tables/, "the restart reused the tables");
    assert.ok(existsSync(path.join(dir, "pglite", "chain.json")), "the data is marked with its chain (rv18 6b)");
    assert.equal(
      afterRestart.eventLogs.totalCount,
      before.eventLogs.totalCount + 1,
      "the deposit; the mint is no protocol event",
    );
  });

  it("follows a reorg: rows of the dropped blocks are gone, the canonical chain's are there", async () => {
    const { vault, usdc } = world.contracts;
    const [, , third] = world.traders as [bigint, bigint, bigint];
    await mined(() => usdc.write.mint([traderWallet.account.address, parseUnits("10000", 6)]));
    const snapshot = await world.testClient.snapshot();
    await mined(() => vault.write.deposit([third, usdc.address, 1_234_000n], { account: traderWallet.account }));
    await mined(() => vault.write.deposit([third, usdc.address, 1_235_000n], { account: traderWallet.account }));
    await caughtUp();
    const deposits = async () =>
      (
        await gql<{ transfers: { items: Row[] } }>(
          `{ transfers(where: { kind: "deposit", toAccount: "${third}" }, limit: 1000) { items { amount } } }`,
        )
      ).transfers.items.map((row) => row.amount);
    assert.ok((await deposits()).includes("1234000"));

    await world.testClient.revert({ id: snapshot });
    await mined(() => vault.write.deposit([third, usdc.address, 777_000n], { account: traderWallet.account }));
    await world.testClient.mine({ blocks: 3 });
    await waitFor("the reorg in the tables", async () => {
      const amounts = await deposits();
      return amounts.includes("777000") && !amounts.includes("1234000") && !amounts.includes("1235000");
    });
    await assertTablesMatchChain();
  });
});
