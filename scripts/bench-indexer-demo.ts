import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { IndexerProcess, freePort } from "../packages/indexer/lib/runner.js";
import { demoOptions, runDemo } from "./lib/demo.js";

/**
 * `npm run bench:indexer:demo`: the indexer's lag while the demo's replay runs (issue 18: "keeps
 * up with the demo's replay, lag ≤ 2 blocks, reported"). Runs `npm run demo`'s job with its chain
 * served over HTTP (BENCH_DEMO_ACCOUNTS accounts, default 20; the demo's other options by its
 * DEMO_* variables), starts the indexer (polling every 100 ms) once the population is seeded and
 * waits until it has caught up, then after each replayed feed update and the keeper's tick reads
 * the head and the indexer's last indexed block. Writes `demoReplay` into bench/indexer.json.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = await mkdtemp(path.join(tmpdir(), "pledge-bench-indexer-demo-"));
let indexer: IndexerProcess | undefined;
let served: { close(): Promise<void> } | undefined;
const lag: number[] = [];
let firstBlock = 0n;
let lastBlock = 0n;
let replayStarted = 0;
let caughtUpMs = 0;
const options = {
  ...demoOptions(ROOT, [], { ...process.env, DEMO_ACCOUNTS: process.env.BENCH_DEMO_ACCOUNTS ?? "20" }),
  html: path.join(dir, "demo.html"),
  progress: false,
  serve: true,
  hooks: {
    async seeded(world) {
      served = world;
      const deployment = path.join(dir, `${world.chainId}.json`);
      await writeFile(deployment, JSON.stringify(world.book));
      indexer = new IndexerProcess({
        deployment,
        rpcUrl: world.rpcUrl!,
        port: await freePort(),
        dataDir: path.join(dir, "pglite"),
        pollingMs: 100,
        cwd: ROOT,
      });
      await indexer.ready();
      firstBlock = await world.publicClient.getBlockNumber({ cacheTime: 0 });
      await indexer.caughtUpTo(firstBlock, 600_000); // the seeding's blocks first
      replayStarted = Date.now();
    },
    async step(world) {
      const head = await world.publicClient.getBlockNumber({ cacheTime: 0 });
      lag.push(Number(head) - (await indexer!.indexedBlock()));
      lastBlock = head;
    },
  },
} satisfies Parameters<typeof runDemo>[0];
try {
  const report = await runDemo(options);
  const replayMs = Date.now() - replayStarted;
  const head = lastBlock;
  const caught = Date.now();
  await indexer!.caughtUpTo(head);
  caughtUpMs = Date.now() - caught;
  const sorted = [...lag].sort((a, b) => a - b);
  const demoReplay = {
    note:
      "the demo's job (seeded population, in-process keeper, the BTC path) on a node over HTTP; lag in blocks " +
      "between the head and the indexer's last indexed block, read after each feed update and keeper tick; wall times on this machine",
    accounts: report.accounts,
    feedUpdates: report.feedUpdates,
    blocks: Number(head - firstBlock),
    replayMs,
    blocksPerSecond: Math.round((Number(head - firstBlock) * 10_000) / replayMs) / 10,
    lag,
    maxLag: sorted.at(-1) ?? 0,
    medianLag: sorted[Math.floor(sorted.length / 2)] ?? 0,
    samplesAtMost2: lag.filter((l) => l <= 2).length,
    caughtUpAfterReplayMs: caughtUpMs,
  };
  const out = path.join(ROOT, "bench/indexer.json");
  const current = JSON.parse(await readFile(out, "utf8").catch(() => "{}")) as Record<string, unknown>;
  await writeFile(out, `${JSON.stringify({ ...current, demoReplay }, null, 2)}\n`);
  console.log(
    `indexer during the demo's replay (${demoReplay.accounts} accounts, ${demoReplay.blocks} blocks in ${replayMs} ms, ` +
      `${demoReplay.blocksPerSecond} blocks/s): lag max ${demoReplay.maxLag}, median ${demoReplay.medianLag}, ` +
      `${demoReplay.samplesAtMost2}/${lag.length} samples ≤ 2; caught up ${caughtUpMs} ms after; wrote bench/indexer.json`,
  );
} finally {
  await indexer?.stop();
  await served?.close();
  await rm(dir, { recursive: true, force: true });
}
