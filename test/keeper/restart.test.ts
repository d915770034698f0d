import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { type Hex, getAddress, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import { Health } from "@pledge/sdk";
import { type SendStage } from "../../packages/keeper/src/executor.js";
import { openStore } from "../../packages/keeper/src/store.js";
import { startRpcProxy } from "./helpers/rpcProxy.js";
import { type World, createWorld } from "./helpers/world.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "packages/keeper/src/cli.ts");
/** The in-process chain's accounts are Hardhat's default ones. */
const MNEMONIC = "test test test test test test test test test test test junk";
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The private key of one of the in-process chain's default accounts. */
function keyOf(address: string): Hex {
  for (let addressIndex = 0; addressIndex < 20; addressIndex++) {
    const account = mnemonicToAccount(MNEMONIC, { addressIndex });
    if (account.address === getAddress(address)) return toHex(account.getHdKey().privateKey!);
  }
  throw new Error(`no default key for ${address}`);
}

/** A keeper CLI process (`pledge-keeper run`) on the proxy's URL; its log lines are kept. */
function startKeeper(options: { rpc: string; book: string; store: string; key: Hex; pauseAt?: SendStage }) {
  const env: NodeJS.ProcessEnv = { ...process.env, KEEPER_KEY: options.key };
  delete env.PLEDGE_KEEPER_TEST_PAUSE;
  if (options.pauseAt !== undefined) env.PLEDGE_KEEPER_TEST_PAUSE = options.pauseAt;
  const args = ["run", "--rpc", options.rpc, "--deployment", options.book, "--key-env", "KEEPER_KEY"];
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CLI, ...args, "--store", options.store, "--interval", "200"],
    {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, exited, stderr: () => stderr };
}

/** Polls `done` until it holds; fails with the keeper's output after `seconds`. */
async function until(done: () => Promise<boolean> | boolean, seconds: number, what: string, output: () => string) {
  const deadline = Date.now() + seconds * 1_000;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${output()}`);
    await pause(200);
  }
}

function kill(child: ChildProcess, signal: NodeJS.Signals) {
  assert.ok(child.pid !== undefined);
  process.kill(child.pid, signal);
}

async function belowMM(world: World) {
  const states = await world.contracts.engine.read.accountsMargin([world.traders]);
  return world.traders.filter((_, i) => states[i]!.health >= Health.LIQUIDATABLE);
}

/**
 * Kills a keeper process with SIGKILL at `stage` of its first send (a bid, after the price
 * drop), restarts it, and checks what must never happen: a bid lost or doubled, an action
 * row lost or doubled, a nonce of the key carrying two actions or none.
 */
async function killAndRestart(stage: SendStage) {
  const world = await createWorld({ accounts: 6 });
  const provider = world.connection.provider;
  const proxy = await startRpcProxy({ request: (args) => provider.request(args), seed: 1, faults: {} });
  const dir = await mkdtemp(path.join(os.tmpdir(), "keeper-restart-"));
  const book = path.join(dir, "deployment.json");
  await writeFile(book, JSON.stringify(world.book));
  const store = path.join(dir, "keeper.sqlite");
  const { wallet, bidderAccount } = world.keepers[0]!;
  const key = keyOf(wallet.account.address);
  const address = wallet.account.address;
  const { liquidator, engine } = world.contracts;
  try {
    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    assert.ok(flagged.length >= 3, `only ${flagged.length} accounts fell below MM`);
    const firstNonce = await world.publicClient.getTransactionCount({ address });

    // 1. A keeper that stops for good at `stage` of its first send, killed there.
    const first = startKeeper({ rpc: proxy.url, book, store, key, pauseAt: stage });
    const paused = () => first.lines.find((line) => line.event === "paused");
    await until(() => paused() !== undefined, 180, `the keeper to pause at ${stage}`, first.stderr);
    kill(first.child, "SIGKILL");
    assert.deepEqual(await first.exited, { code: null, signal: "SIGKILL" });
    const pausedNonce = paused()!.nonce as number;
    assert.equal(pausedNonce, firstNonce);
    const minedNonce = await world.publicClient.getTransactionCount({ address });
    assert.equal(minedNonce, stage === "recorded" ? firstNonce : firstNonce + 1, "broadcast only after `recorded`");
    let db = openStore(store);
    const [journaled] = db.pendingActions(world.book.chainId);
    assert.ok(journaled !== undefined && journaled.nonce === pausedNonce, "the send was journaled before it left");
    assert.equal(journaled.hashes.length, 1, "with its hash, signed before the broadcast");
    assert.equal(db.actions().length, 1);
    db.close();

    // 2. The same keeper restarted: it settles the pending row, then finishes the job.
    const second = startKeeper({ rpc: proxy.url, book, store, key });
    const resolved = async () => {
      for (const account of flagged) {
        if ((await liquidator.read.auctionOf([account])).active) return false;
        if ((await engine.read.accountMargin([account])).health >= Health.LIQUIDATABLE) return false;
      }
      return true;
    };
    // Its first tick settles the row (killed after the broadcast, the bids may already have
    // mined: the book is resolved before it even starts, and a SIGTERM sent before its handler
    // is installed would kill it instead of stopping it).
    const settledRow = () => second.lines.some((l) => l.event === "reconciled" && l.action === journaled.id);
    await until(settledRow, 180, "the restarted keeper to settle the pending row", second.stderr);
    await until(resolved, 180, "every flagged account to be liquidated", second.stderr);
    // Let it tick on the resolved book for a while (a repeated bid would show), then stop it gracefully.
    await pause(2_000);
    kill(second.child, "SIGTERM");
    assert.equal((await second.exited).code, 0, second.stderr());
    const reconciled = second.lines.find((l) => l.event === "reconciled" && l.action === journaled.id);
    assert.equal(reconciled?.status, stage === "recorded" ? "dropped" : "mined");

    // Every auction got exactly the bids it should: started once, one bid (at the start
    // discount, which covers the whole deficit), none twice.
    const liquidatorEvents = { address: liquidator.address, abi: liquidator.abi, fromBlock: 0n } as const;
    const started = await world.publicClient.getContractEvents({ ...liquidatorEvents, eventName: "AuctionStarted" });
    const bids = await world.publicClient.getContractEvents({ ...liquidatorEvents, eventName: "Bid" });
    for (const account of flagged) {
      assert.equal(started.filter((e) => e.args.account === account).length, 1, `auctions on ${account}`);
      const on = bids.filter((e) => e.args.account === account);
      assert.equal(on.length, 1, `bids on ${account}`);
      assert.equal(on[0]!.args.bidderAccount, bidderAccount);
    }
    assert.equal(await liquidator.read.badDebt(), 0n);

    // No action row lost or doubled: each of the key's transactions is exactly one row.
    db = openStore(store);
    const actions = db.actions();
    db.close();
    assert.equal(actions.filter((a) => a.status === "pending").length, 0, "nothing left pending");
    const landed = actions.filter((a) => a.status === "mined" || a.status === "reverted");
    const finalNonce = await world.publicClient.getTransactionCount({ address });
    assert.deepEqual(
      landed.map((a) => a.nonce).sort((a, b) => a - b),
      Array.from({ length: finalNonce - firstNonce }, (_, i) => firstNonce + i),
      "one landed row per nonce the key used",
    );
    assert.deepEqual(
      landed
        .filter((a) => a.kind === "bidMany")
        .map((a) => a.txHash)
        .sort(),
      [...new Set(bids.map((e) => e.transactionHash))].sort(),
      "one mined bidMany row per transaction that carried Bid events",
    );
    const killed = actions.find((a) => a.id === journaled.id)!;
    if (stage === "recorded") {
      assert.equal(killed.status, "dropped");
      assert.equal(actions.length, landed.length + 1, "the dropped row, and one row per transaction");
    } else {
      assert.equal(killed.status, "mined");
      assert.equal(actions.length, landed.length);
    }
  } finally {
    await proxy.close();
  }
}

describe("keeper restart after kill -9 (a real process, a real kill)", () => {
  it("killed after journaling a bid and before broadcasting it: the row is dropped, the bid sent once by the restart", async () => {
    await killAndRestart("recorded");
  });

  it("killed after broadcasting a bid and before its receipt: the row is settled as mined, the bid not repeated", async () => {
    await killAndRestart("broadcast");
  });
});
