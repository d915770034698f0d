import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { parseUnits } from "viem";

import { IndexerProcess, freePort } from "../packages/indexer/lib/runner.js";
import { createWorld } from "./lib/seedWorld.js";

/**
 * `npm run bench:indexer` (part of `npm run bench`, under a minute): how far the indexer
 * (`npm run indexer`, Ponder on PGlite, polling every 100 ms) falls behind a Hardhat node served
 * over HTTP in this process. Deploys, seeds three short-call traders, starts the indexer, then
 * - paced: 10 deposits one every 400 ms (2.5 blocks/s), the lag in blocks read as each is mined;
 * - burst: 20 deposits mined back to back, the lag after each, the time to catch up, blocks/s
 *   and events/s indexed over it.
 * Prints the numbers and writes bench/indexer.json. Wall times vary with the machine (2 shared
 * cores here); the tests make no timing assertions, this bench reports them.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PACED_BLOCK_MS = 400;
const PACED_BLOCKS = 10;
const BURST_BLOCKS = 20;

const chainId = 31_400; // not 31337: the node's journal of a real `npm run node` is left alone
const server = await network.createServer({ network: "node", override: { chainId } }, "127.0.0.1");
const { port: nodePort } = await server.listen();
const rpcUrl = `http://127.0.0.1:${nodePort}`;
const dir = await mkdtemp(path.join(tmpdir(), "pledge-bench-indexer-"));
const indexers: IndexerProcess[] = [];
try {
  const connection = await network.create({ network: "localhost", override: { url: rpcUrl } });
  const world = await createWorld({ accounts: 3, connection });
  const wallet = (await connection.viem.getWalletClients())[2]!;
  const deployment = path.join(dir, `${chainId}.json`);
  await writeFile(deployment, JSON.stringify(world.book));
  const { vault, usdc } = world.contracts;
  const account = world.traders[0]!;
  const mined = async (send: () => Promise<`0x${string}`>) => {
    const receipt = await world.publicClient.waitForTransactionReceipt({ hash: await send() });
    if (receipt.status !== "success") throw new Error("bench-indexer: a transaction reverted");
    return receipt;
  };
  await mined(() => usdc.write.mint([wallet.account.address, parseUnits("1000", 6)]));
  const deposit = () =>
    mined(() => vault.write.deposit([account, usdc.address, parseUnits("1", 6)], { account: wallet.account }));

  const startIndexer = async (name: string) => {
    const indexer = new IndexerProcess({
      deployment,
      rpcUrl,
      port: await freePort(),
      dataDir: path.join(dir, name),
      pollingMs: 100,
      cwd: ROOT,
    });
    indexers.push(indexer);
    return indexer;
  };
  const live = await startIndexer("live");
  await live.ready();
  await live.caughtUpTo(await world.publicClient.getBlockNumber());

  /** Blocks the indexer is behind the block just mined. */
  const lagAfter = async (receipt: { blockNumber: bigint }) =>
    Number(receipt.blockNumber) - (await live.indexedBlock());
  const paced: number[] = [];
  for (let i = 0; i < PACED_BLOCKS; i++) {
    const started = Date.now();
    paced.push(await lagAfter(await deposit()));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PACED_BLOCK_MS - (Date.now() - started))));
  }
  await live.caughtUpTo(await world.publicClient.getBlockNumber());

  const eventCount = async (indexer: IndexerProcess) =>
    (await indexer.gql<{ eventLogs: { totalCount: number } }>("{ eventLogs { totalCount } }")).eventLogs.totalCount;
  const eventsBefore = await eventCount(live);
  const burstStarted = Date.now();
  const burst: number[] = [];
  let last = 0n;
  for (let i = 0; i < BURST_BLOCKS; i++) {
    const receipt = await deposit();
    last = receipt.blockNumber;
    burst.push(await lagAfter(receipt));
  }
  const minedMs = Date.now() - burstStarted;
  await live.caughtUpTo(last);
  const burstMs = Date.now() - burstStarted;
  const burstEvents = (await eventCount(live)) - eventsBefore;

  const report = {
    note: "wall times on this machine; lag in blocks behind the block just mined, polling every 100 ms",
    paced: { blockMs: PACED_BLOCK_MS, lag: paced, maxLag: Math.max(...paced) },
    burst: {
      blocks: BURST_BLOCKS,
      lag: burst,
      maxLag: Math.max(...burst),
      minedMs,
      caughtUpMs: burstMs,
      events: burstEvents,
      blocksPerSecond: Math.round((BURST_BLOCKS * 10_000) / burstMs) / 10,
      eventsPerSecond: Math.round((burstEvents * 10_000) / burstMs) / 10,
    },
  };
  console.log(
    `indexer lag (blocks) at ${1000 / PACED_BLOCK_MS} blocks/s: ${paced.join(" ")} (max ${report.paced.maxLag})`,
  );
  console.log(
    `burst of ${BURST_BLOCKS} blocks mined in ${minedMs} ms: lag ${burst.join(" ")}; caught up ${burstMs} ms after its start, ` +
      `${report.burst.blocksPerSecond} blocks/s, ${burstEvents} events, ${report.burst.eventsPerSecond} events/s`,
  );
  const out = path.join(ROOT, "bench/indexer.json");
  // `bench:indexer:demo` writes its `demoReplay` and `demoReplayUnpaced` into the same file: keep them.
  const current = JSON.parse(await readFile(out, "utf8").catch(() => "{}")) as Record<string, unknown>;
  await writeFile(out, `${JSON.stringify({ ...current, ...report }, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  for (const indexer of indexers) await indexer.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  await rm(path.join(ROOT, "ignition", "deployments", `chain-${chainId}`), { recursive: true, force: true });
}
