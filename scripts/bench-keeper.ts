import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import {
  type EIP1193Parameters,
  type EIP1193RequestFn,
  type Hash,
  createPublicClient,
  createWalletClient,
  custom,
  encodeFunctionData,
  numberToHex,
  parseEventLogs,
  parseUnits,
} from "viem";

import { type KeeperStats, createKeeper } from "@pledge/keeper";
import {
  type MarginInputs,
  Health,
  accountMargin,
  approximateMaintenance,
  getMarginInputs,
  asAccountId,
} from "../packages/sdk/src/index.js";
import { chainClock } from "./lib/chainClock.js";
import { seedPopulation } from "./lib/seeding.js";
import { BLOCK_GAS_LIMIT, marginsOf, setUp } from "./lib/world.js";
import { toFeedAnswer } from "./lib/history.js";

/**
 * `npm run bench:keeper`: the keeper service (`createKeeper`) against a large population
 * on the in-process chain. Seeds KEEPER_BENCH_ACCOUNTS (default 1,000) accounts at
 * initial margin, lets the keeper index them, posts one liquidating BTC/USD drop
 * (KEEPER_BENCH_DROP percent, default 20) and ticks the keeper until it has nothing left
 * to do. Latencies are read from the Liquidator's events, not from the keeper's stats.
 *
 * Block model: automine is off and the bench mines every block. It mines one when the
 * keeper asks for the receipt of a transaction still waiting in the mempool (the keeper
 * cannot go on without a block) and one after every tick, whatever the keeper sent;
 * each block is BLOCK_SECONDS of chain time later. So every transaction the keeper
 * sends before it next waits shares one block, and a latency in blocks is the least
 * any chain would show: a real chain does not wait for a slow keeper.
 *
 * Prints a table and writes bench/keeper.json. Block counts and gas are deterministic;
 * wall times and rates vary by machine.
 */
const ACCOUNTS = Number(process.env.KEEPER_BENCH_ACCOUNTS ?? 1_000);
const DROP_PERCENT = Number(process.env.KEEPER_BENCH_DROP ?? 20);
const SEED = Number(process.env.KEEPER_BENCH_SEED ?? 20200312);
const SPOT = 7_900;
const MAX_TICKS = 40;
const BLOCK_SECONDS = 2;
/**
 * Gas a block holds from the drop on: KEEPER_BENCH_BLOCK_GAS, default 60M (Ethereum L1's limit
 * since late 2025; OP-stack chains such as Base hold more per 2 s block). Blocks are packed by
 * gas limit, as a block builder does. Seeding runs at the world's own (unbounded) limit.
 */
const BLOCK_GAS = BigInt(process.env.KEEPER_BENCH_BLOCK_GAS ?? 60_000_000);
/** Wall-clock period at which the bench mines a block while transactions wait (see `whileMining`): the chain's block time. */
const MINER_POLL_MS = BLOCK_SECONDS * 1_000;
/** Feeds are re-posted (unchanged) when their last post is this old, in chain seconds. */
const REFRESH_SECONDS = 1_800;
/** Cash for the keeper's bidding account: enough margin to absorb every slice it buys. */
const BIDDER_TOP_UP = parseUnits("100000000000", 6);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const started = Date.now();

// ---------------------------------------------------------------- population
const world = await setUp(Date.UTC(2020, 2, 12) / 1000);
const chain = await chainClock(world);
const { connection, publicClient, contracts, book } = world;
const { engine, liquidator, usdc, vault, btcUsd, ethUsd, btcVol, ethVol } = contracts;
const seedStarted = Date.now();
let lastProgress = 0;
const { seededExcessIM } = await seedPopulation(world, chain, {
  accounts: ACCOUNTS,
  seed: SEED,
  spot: SPOT,
  onAccount: (done, total) => {
    if (done - lastProgress < total / 10 && done !== total) return;
    lastProgress = done;
    process.stderr.write(`seeding ${done}/${total}\n`);
  },
});
const seedSeconds = (Date.now() - seedStarted) / 1000;
const bidder = world.bidderWallet.account.address;
await chain.minedTogether([
  {
    from: world.adminWallet.account.address,
    to: vault.address,
    data: encodeFunctionData({
      abi: vault.abi,
      functionName: "configureAsset",
      args: [usdc.address, true, 0n, 0n, 2n ** 128n],
    }),
    gas: 500_000n,
  },
  {
    from: world.adminWallet.account.address,
    to: usdc.address,
    data: encodeFunctionData({ abi: usdc.abi, functionName: "mint", args: [bidder, BIDDER_TOP_UP] }),
    gas: 500_000n,
  },
]);
await chain.minedTogether([
  {
    from: bidder,
    to: usdc.address,
    data: encodeFunctionData({ abi: usdc.abi, functionName: "approve", args: [vault.address, BIDDER_TOP_UP] }),
    gas: 500_000n,
  },
  {
    from: bidder,
    to: vault.address,
    data: encodeFunctionData({
      abi: vault.abi,
      functionName: "deposit",
      args: [world.bidder, usdc.address, BIDDER_TOP_UP],
    }),
    gas: 500_000n,
  },
]);

// ---------------------------------------------------------------- the block model
const provider = connection.provider;
const raw = (method: string, params: unknown[] = []) => provider.request({ method, params });
await raw("evm_setAutomine", [false]);
await raw("evm_setBlockGasLimit", [numberToHex(BLOCK_GAS)]);
let clock = chain.now();
let feedsPostedAt = clock;
/** Keeper transactions sent and not yet mined. */
const pending = new Set<Hash>();
let blocksForReceipts = 0;
let blocksForInterval = 0;
let blocksForTicks = 0;
const admin = world.adminWallet.account.address;
let adminNonce = await publicClient.getTransactionCount({ address: admin, blockTag: "pending" });

/** Sends a feed update from the admin with an explicit nonce (mined with the next block). */
async function postFeed(feed: { address: `0x${string}`; abi: typeof btcUsd.abi }, answer: bigint) {
  const data = encodeFunctionData({ abi: feed.abi, functionName: "updateAnswer", args: [answer] });
  const { baseFeePerGas } = await publicClient.getBlock();
  await raw("eth_sendTransaction", [
    {
      from: admin,
      to: feed.address,
      data,
      gas: numberToHex(200_000n),
      nonce: numberToHex(adminNonce++),
      maxFeePerGas: numberToHex(2n * (baseFeePerGas ?? 0n) + 1_000_000_000n),
      maxPriorityFeePerGas: numberToHex(1_000_000_000n),
    },
  ]);
}

let btcAnswer = (await btcUsd.read.latestRoundData())[1];
/** Mines one block BLOCK_SECONDS later; re-posts every feed first when they are due, so none goes stale. */
async function mineBlock() {
  clock += BLOCK_SECONDS;
  if (clock - feedsPostedAt >= REFRESH_SECONDS) {
    for (const feed of [ethUsd, ethVol, btcVol]) await postFeed(feed, (await feed.read.latestRoundData())[1]);
    await postFeed(btcUsd, btcAnswer);
    feedsPostedAt = clock;
  }
  await raw("evm_setNextBlockTimestamp", [clock]);
  await raw("evm_mine");
  pending.clear();
}

/** Keeper RPC calls by method: everything the keeper's clients send goes through here. */
const rpc = new Map<string, number>();
let rpcTotal = 0;
/** Wall time the node spent answering the keeper, by method. */
const rpcMs = new Map<string, number>();
const keeperRequest = (async (args: EIP1193Parameters) => {
  rpc.set(args.method, (rpc.get(args.method) ?? 0) + 1);
  rpcTotal++;
  if (args.method === "eth_getTransactionReceipt") {
    const [hash] = args.params as [Hash];
    if (pending.has(hash)) {
      blocksForReceipts++;
      await mineBlock();
    }
  }
  const t = performance.now();
  const result = await provider.request(args as { method: string; params?: unknown[] });
  rpcMs.set(args.method, (rpcMs.get(args.method) ?? 0) + performance.now() - t);
  if (args.method === "eth_sendTransaction" || args.method === "eth_sendRawTransaction") pending.add(result as Hash);
  return result;
}) as EIP1193RequestFn;
const transport = custom({ request: keeperRequest });
const keeperPublic = createPublicClient({ chain: publicClient.chain, transport, pollingInterval: 50 });
const keeperWallet = createWalletClient({ account: bidder, chain: publicClient.chain, transport, pollingInterval: 50 });

const keeper = createKeeper({
  publicClient: keeperPublic,
  walletClient: keeperWallet,
  addressBook: book,
  bidderAccount: world.bidder,
  confirmations: 0,
  jobs: { liquidate: true, settle: true, marginCalls: true },
  minProfit: 0n,
  bidGasCost: 0n,
  logger: pino({ level: process.env.KEEPER_BENCH_LOG ?? "warn" }, pino.destination(2)),
});
/** Fields the keeper may expose (newer versions); read defensively. */
type Extra = Partial<{ accountsRanked: number; rankingMs: number; rpcCalls: number }>;
const keeperStats = () => keeper.stats() as KeeperStats & Extra;

interface Tick {
  ms: number;
  rpcCalls: number;
  blocks: number;
}
/**
 * While a tick runs, the chain produces a block every `MINER_POLL_MS` of wall time in which
 * transactions are waiting (an empty mempool mines nothing), as a real chain keeps
 * producing blocks while the keeper waits for its sends to land.
 */
async function whileMining<T>(run: () => Promise<T>): Promise<T> {
  let running = true;
  const miner = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, MINER_POLL_MS));
      // The keeper's transactions wait in the mempool when its pending nonce is ahead of
      // the mined one (asking for the pending block instead would execute all of them).
      const [mined, queued] = await Promise.all([
        publicClient.getTransactionCount({ address: bidder, blockTag: "latest" }),
        publicClient.getTransactionCount({ address: bidder, blockTag: "pending" }),
      ]).catch(() => [0, 0]);
      if (running && queued > mined) {
        blocksForInterval++;
        await mineBlock();
      }
    }
  })();
  try {
    return await run();
  } finally {
    running = false;
    await miner;
  }
}

async function tick(): Promise<Tick> {
  const calls = rpcTotal;
  const before = await publicClient.getBlockNumber({ cacheTime: 0 });
  const t = performance.now();
  await whileMining(() => keeper.tick());
  const ms = performance.now() - t;
  const rpcCalls = rpcTotal - calls;
  blocksForTicks++;
  await mineBlock();
  const after = await publicClient.getBlockNumber({ cacheTime: 0 });
  return { ms, rpcCalls, blocks: Number(after - before) };
}

// Warm-up: the keeper indexes every account from the deployment block.
await mineBlock();
const warmUp = await tick();
process.stderr.write(`keeper indexed the population in ${(warmUp.ms / 1000).toFixed(1)} s\n`);

// ---------------------------------------------------------------- the drop
const price = SPOT * (1 - DROP_PERCENT / 100);
btcAnswer = toFeedAnswer(price);
await postFeed(btcUsd, btcAnswer);
for (const feed of [ethUsd, ethVol, btcVol]) await postFeed(feed, (await feed.read.latestRoundData())[1]);
feedsPostedAt = clock + BLOCK_SECONDS;
await mineBlock();
const priceBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
const population = world.population;
const atDrop = await marginsOf(world, population, priceBlock);
const liquidatable = population.filter((_, i) => atDrop[i]!.health >= Health.LIQUIDATABLE);
process.stderr.write(`BTC/USD ${SPOT} → ${price}: ${liquidatable.length} of ${population.length} below MM\n`);

// The chain as the drop left it, for the gas comparison after the cascade.
const dropSnapshot = await raw("evm_snapshot");

const rpcBefore = rpcTotal;
const rpcByMethodBefore = new Map(rpc);
const rpcMsBefore = new Map(rpcMs);
const blocksBefore = { receipts: blocksForReceipts, ticks: blocksForTicks, interval: blocksForInterval };
const statsBefore = keeperStats();
const ticks: Tick[] = [];
let idle = 0;
while (ticks.length < MAX_TICKS && idle < 2) {
  const sent = keeperStats();
  const t = await tick();
  ticks.push(t);
  const now = keeperStats();
  const acted = now.auctionsStarted + now.bids + now.failures - (sent.auctionsStarted + sent.bids + sent.failures);
  idle = acted === 0 && t.blocks <= 1 ? idle + 1 : 0;
  process.stderr.write(
    `tick ${ticks.length}: ${(t.ms / 1000).toFixed(2)} s, ${t.rpcCalls} RPC calls, ${t.blocks} blocks, ` +
      `${now.auctionsStarted} auctions, ${now.bids} bids\n`,
  );
}
const lastBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
const statsAfter = keeperStats();
await keeper.stop();

// ---------------------------------------------------------------- latencies from the chain
const logs = await publicClient.getLogs({ address: liquidator.address, fromBlock: priceBlock, toBlock: lastBlock });
const firstAuction = new Map<bigint, bigint>();
const firstBid = new Map<bigint, bigint>();
let keeperGasFromReceipts = 0n;
const keeperTxs = new Set<Hash>();
const liquidatorEvents = ["AuctionStarted", "Bid", "AuctionEnded", "BidSkipped"] as const;
for (const event of parseEventLogs({ abi: liquidator.abi, logs, eventName: [...liquidatorEvents] })) {
  // Only the keeper calls the Liquidator here: its transactions are those that emitted these.
  keeperTxs.add(event.transactionHash);
  if (event.eventName === "AuctionEnded" || event.eventName === "BidSkipped") continue;
  const target = event.eventName === "AuctionStarted" ? firstAuction : firstBid;
  if (!target.has(event.args.account)) target.set(event.args.account, event.blockNumber);
}
/** Gas limits the keeper's transactions were sent with: what they take of a block when it is packed. */
let keeperGasLimits = 0n;
for (const hash of keeperTxs) {
  keeperGasFromReceipts += (await publicClient.getTransactionReceipt({ hash })).gasUsed;
  keeperGasLimits += (await publicClient.getTransaction({ hash })).gas;
}
const blocksTo = (first: Map<bigint, bigint>) =>
  liquidatable.flatMap((account) => {
    const block = first.get(account);
    return block === undefined ? [] : [Number(block - priceBlock)];
  });
const toAuction = blocksTo(firstAuction);
const toBid = blocksTo(firstBid);

// ---------------------------------------------------------------- gas per bid, one by one vs batched
// Back on the chain as the drop left it (the cascade is over and read): the same GAS_SAMPLE
// accounts bid one transaction each, then all in one `bidMany`, by the keeper's bidder, each
// on a snapshot of that state.
const GAS_SAMPLE = 10;
const REALISTIC_BLOCK_GAS = 30_000_000;
const sample = liquidatable.slice(0, GAS_SAMPLE);
async function gasOnSnapshot(calls: `0x${string}`[]): Promise<bigint> {
  const saved = { clock, feedsPostedAt, adminNonce };
  const snapshotId = await raw("evm_snapshot");
  const hashes: Hash[] = [];
  for (const data of calls) {
    hashes.push(
      (await raw("eth_sendTransaction", [
        { from: bidder, to: liquidator.address, data, gas: numberToHex(16_000_000n) },
      ])) as Hash,
    );
  }
  await mineBlock();
  let gas = 0n;
  for (const hash of hashes) {
    const receipt = await publicClient.getTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`bench: a sample bid reverted (${hash})`);
    gas += receipt.gasUsed;
  }
  await raw("evm_revert", [snapshotId]);
  ({ clock, feedsPostedAt, adminNonce } = saved);
  return gas;
}
const bidArgs = (account: bigint) => ({
  account,
  fractionWad: 10n ** 18n,
  maxPayment: 2n ** 255n - 1n,
  expectedNonce: 2n ** 256n - 1n,
});
await raw("evm_revert", [dropSnapshot]);
// The samples' transactions go out with generous limits: one block holds them all.
await raw("evm_setBlockGasLimit", [numberToHex(BLOCK_GAS_LIMIT)]);
const singleGas = await gasOnSnapshot(
  sample.map((account) => {
    const r = bidArgs(account);
    return encodeFunctionData({
      abi: liquidator.abi,
      functionName: "bid",
      args: [r.account, world.bidder, r.fractionWad, r.maxPayment, r.expectedNonce],
    });
  }),
);
const batchedGas = await gasOnSnapshot([
  encodeFunctionData({ abi: liquidator.abi, functionName: "bidMany", args: [sample.map(bidArgs), world.bidder] }),
]);

// ---------------------------------------------------------------- ranking speed
// The SDK's float ranking over every account's inputs, as a keeper would rank them.
const inputs: MarginInputs[] = [];
for (const account of population)
  inputs.push(await getMarginInputs(publicClient, { addressBook: book, account: asAccountId(account) }));
const rank = () =>
  inputs
    .map((input, i) => ({ i, ...approximateMaintenance(input) }))
    .sort((x, y) => x.excessMM / (x.requirementMM || 1) - y.excessMM / (y.requirementMM || 1));
rank();
const rankRuns = 20;
let t0 = performance.now();
for (let k = 0; k < rankRuns; k++) rank();
const floatRankMs = (performance.now() - t0) / rankRuns;
t0 = performance.now();
for (const input of inputs) accountMargin(input);
const exactMs = performance.now() - t0;

// ---------------------------------------------------------------- report
const quantiles = (values: number[]) => {
  if (values.length === 0) return { median: null, p90: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: at(0.5), p90: at(0.9), max: sorted.at(-1)! };
};
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const windowBlocks = Number(lastBlock - priceBlock);
const windowRpc = rpcTotal - rpcBefore;
const byMethod = Object.fromEntries(
  [...rpc.entries()]
    .map(([method, n]) => [method, n - (rpcByMethodBefore.get(method) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
);
const tickMs = ticks.map((t) => t.ms);
const rpcMsByMethod = Object.fromEntries(
  [...rpcMs.entries()]
    .map(([method, ms]) => [method, round(ms - (rpcMsBefore.get(method) ?? 0), 0)] as const)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
);
const ranked = statsAfter.accountsRanked;
const rankingMs = statsAfter.rankingMs;
const snapshot = {
  note:
    "npm run bench:keeper: the keeper service against a seeded population on the in-process chain. " +
    "Blocks, counts and gas are deterministic; every *Ms, *Seconds and *PerSecond figure is wall time " +
    "on the machine that ran it (2 shared cores here) and varies by machine.",
  blockModel:
    "Automine off; the bench mines every block, each " +
    `${BLOCK_SECONDS} s of chain time after the last: while a keeper tick runs, one every ` +
    `${MINER_POLL_MS} ms of wall time in which transactions wait in the mempool; one when the ` +
    "keeper asks for the receipt of a transaction still in the mempool; and one after every tick. " +
    `Everything the keeper sends between two blocks shares one, up to the block gas limit (${BLOCK_GAS} from the ` +
    "drop on), packed by each transaction's gas limit; what does not fit waits for the next. Block counts depend " +
    "on the wall time a tick takes, so on the machine.",
  blockGasLimit: Number(BLOCK_GAS),
  population: {
    accounts: population.length,
    seed: SEED,
    medianExcessIMShare: round(seededExcessIM, 4),
    seedingSeconds: round(seedSeconds),
    seedingSecondsPerAccount: round(seedSeconds / population.length, 3),
  },
  drop: { fromUsd: SPOT, toUsd: price, percent: DROP_PERCENT, accountsBelowMM: liquidatable.length },
  latencyBlocks: {
    auctionStart: { accounts: toAuction.length, ...quantiles(toAuction) },
    firstBid: { accounts: toBid.length, ...quantiles(toBid) },
    target: "every account below MM has an auction and a first bid within 2 blocks of the price update",
    targetMet:
      toAuction.length === liquidatable.length &&
      toBid.length === liquidatable.length &&
      Math.max(...toAuction, ...toBid) <= 2,
  },
  gasPerBid: {
    note:
      `The same ${sample.length} accounts right after the drop (start + bid of each, whole accounts), on a snapshot: ` +
      "one `bid` transaction each, then one `bidMany` of all of them.",
    accounts: sample.length,
    single: Number(singleGas) / sample.length,
    batched: Number(batchedGas) / sample.length,
    batchedSavingPercent: round((1 - Number(batchedGas) / Number(singleGas)) * 100),
    keeperCascadeAverage: round(Number(keeperGasFromReceipts) / Math.max(1, statsAfter.bids - statsBefore.bids), 0),
  },
  otherBlockGas: {
    note:
      "The cascade's gas against blocks of 30M (Ethereum L1 before 2025; Arbitrum holds 32M per 0.25 s block): " +
      "how many such blocks it fills, by gas used.",
    blockGasLimit: REALISTIC_BLOCK_GAS,
    cascadeGas: Number(keeperGasFromReceipts),
    twoBlocksGas: 2 * REALISTIC_BLOCK_GAS,
    blocksNeeded: Math.ceil(Number(keeperGasFromReceipts) / REALISTIC_BLOCK_GAS),
    bidsPerBlock: Math.floor(
      REALISTIC_BLOCK_GAS / (Number(keeperGasFromReceipts) / Math.max(1, statsAfter.bids - statsBefore.bids)),
    ),
  },
  keeper: {
    ticks: ticks.length,
    blocks: windowBlocks,
    blocksMinedForReceipts: blocksForReceipts - blocksBefore.receipts,
    blocksMinedWhileWaiting: blocksForInterval - blocksBefore.interval,
    blocksMinedAfterTicks: blocksForTicks - blocksBefore.ticks,
    auctionsStarted: statsAfter.auctionsStarted - statsBefore.auctionsStarted,
    gasLimits: Number(keeperGasLimits),
    gasLimitOverUsed: round(Number(keeperGasLimits) / Math.max(1, Number(keeperGasFromReceipts)), 2),
    bids: statsAfter.bids - statsBefore.bids,
    failures: statsAfter.failures - statsBefore.failures,
    gasUsed: Number(statsAfter.gasUsed - statsBefore.gasUsed),
    gasFromLiquidatorEvents: Number(keeperGasFromReceipts),
    rpcCalls: windowRpc,
    rpcCallsPerBlock: round(windowRpc / Math.max(1, windowBlocks)),
    rpcCallsPerTick: round(windowRpc / Math.max(1, ticks.length)),
    transactions: keeperTxs.size,
    rpcCallsByMethod: byMethod,
    rpcMsByMethod,
    tickMs: { ...quantiles(tickMs.map((ms) => Math.round(ms))), total: Math.round(tickMs.reduce((a, b) => a + b, 0)) },
    warmUpTick: { ms: Math.round(warmUp.ms), rpcCalls: warmUp.rpcCalls },
    ownStats:
      ranked === undefined
        ? "the keeper exposes no accountsRanked / rankingMs / rpcCalls yet"
        : {
            accountsRanked: ranked,
            rankingMs: rankingMs ?? null,
            rpcCalls: statsAfter.rpcCalls ?? null,
            accountsRankedPerSecond: rankingMs ? Math.round((ranked / rankingMs) * 1000) : null,
          },
  },
  ranking: {
    accounts: inputs.length,
    approximateMaintenanceSortMs: round(floatRankMs, 2),
    approximateMaintenanceAccountsPerSecond: Math.round((inputs.length / floatRankMs) * 1000),
    accountMarginExactMs: round(exactMs),
    accountMarginExactAccountsPerSecond: Math.round((inputs.length / exactMs) * 1000),
  },
  benchSeconds: round((Date.now() - started) / 1000),
};

console.log(`Keeper benchmark: ${population.length} accounts, BTC/USD −${DROP_PERCENT} % in one update`);
console.table({
  "accounts below MM after the drop": { value: liquidatable.length },
  "blocks to auction start (median / p90 / max)": {
    value: `${snapshot.latencyBlocks.auctionStart.median} / ${snapshot.latencyBlocks.auctionStart.p90} / ${snapshot.latencyBlocks.auctionStart.max}`,
  },
  "blocks to first bid (median / p90 / max)": {
    value: `${snapshot.latencyBlocks.firstBid.median} / ${snapshot.latencyBlocks.firstBid.p90} / ${snapshot.latencyBlocks.firstBid.max}`,
  },
  "keeper ticks / blocks": { value: `${ticks.length} / ${windowBlocks}` },
  "RPC calls per block / per tick": {
    value: `${snapshot.keeper.rpcCallsPerBlock} / ${snapshot.keeper.rpcCallsPerTick}`,
  },
  "wall ms per tick (median / max)": { value: `${snapshot.keeper.tickMs.median} / ${snapshot.keeper.tickMs.max}` },
  "keeper gas": { value: snapshot.keeper.gasUsed.toLocaleString("en-US") },
  "keeper transactions": { value: snapshot.keeper.transactions },
  "block gas limit / keeper gas limits sent": {
    value: `${(Number(BLOCK_GAS) / 1e6).toFixed(0)}M / ${(snapshot.keeper.gasLimits / 1e6).toFixed(1)}M`,
  },
  "gas per bid, single / batched": {
    value: `${Math.round(snapshot.gasPerBid.single)} / ${Math.round(snapshot.gasPerBid.batched)}`,
  },
  "blocks the cascade needs at 30M gas": { value: snapshot.otherBlockGas.blocksNeeded },
  "SDK float ranking, accounts/s": { value: snapshot.ranking.approximateMaintenanceAccountsPerSecond },
  "SDK exact margin, accounts/s": { value: snapshot.ranking.accountMarginExactAccountsPerSecond },
  "seeding s/account": { value: snapshot.population.seedingSecondsPerAccount },
  "bench wall time, s": { value: snapshot.benchSeconds },
});
const out = path.resolve(root, "bench/keeper.json");
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(snapshot, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
