import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";

import { ChainMismatchError, chainMarkFile, checkChainMark } from "../../packages/indexer/lib/chainMark.js";
import { freePort } from "../../packages/indexer/lib/runner.js";

/**
 * Review rv18b's repros of the indexer's chain mark (RV18b-4, RV18b-5), kept as regression tests;
 * each failed on r18/indexer c4a4975 (the mark sat beside the data folder, and a node without the
 * book's block skipped the check).
 */
describe("rv18b regressions: the indexer's chain mark", { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const old = { chainId: 31337, block: "5", blockHash: `0x${"ab".repeat(32)}` };
  const fresh = { ...old, blockHash: `0x${"cd".repeat(32)}` };

  it("RV18b-4: the mark is inside the data folder: deleting the folder, as the refusal says, starts afresh", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rv18b-mark-"));
    dirs.push(dir);
    const dataDir = path.join(dir, "pglite"); // what --data-dir names
    await mkdir(dataDir);
    await checkChainMark(chainMarkFile(dataDir), old);
    // "A restarted local node is a new chain: point --data-dir at a new folder, or delete the old one."
    await rm(dataDir, { recursive: true, force: true });
    const outcome = await checkChainMark(chainMarkFile(dataDir), fresh).then(
      (result) => result,
      (error: Error) =>
        error instanceof ChainMismatchError ? `refused: ${error.message.slice(0, 80)}…` : String(error),
    );
    assert.equal(outcome, "new", "the data folder was deleted, yet its mark still refuses");
    assert.equal(path.dirname(chainMarkFile(dataDir)), dataDir, "the mark is inside the data folder");
  });

  it("RV18b-5: a node without the book's block (restarted, not yet redeployed) makes the CLI refuse in one line", async () => {
    // A node that answers, but has no block `deployedAtBlock` yet: eth_getBlockByNumber → null.
    const rpc = createServer((request, response) => {
      let body = "";
      request.on("data", (c) => (body += c));
      request.on("end", () => {
        const call = JSON.parse(body || "{}") as { id?: number; method?: string };
        const result = call.method === "eth_chainId" ? "0x7a69" : call.method === "eth_blockNumber" ? "0x1" : null;
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id: call.id ?? 1, result }));
      });
    });
    await new Promise<void>((resolve) => rpc.listen(0, "127.0.0.1", resolve));
    const port = (rpc.address() as { port: number }).port;
    const dir = await mkdtemp(path.join(tmpdir(), "rv18b-mark-"));
    dirs.push(dir);
    const book = path.join(dir, "31337.json");
    await writeFile(book, JSON.stringify({ chainId: 31337, deployedAtBlock: "5", contracts: {} }));
    const dataDir = path.join(dir, "pglite");
    await checkChainMark(chainMarkFile(dataDir), old); // the data an older node built
    const cli = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "packages/indexer/cli.ts",
        "--deployment",
        book,
        "--rpc",
        `http://127.0.0.1:${port}`,
        "--port",
        String(await freePort()),
        "--data-dir",
        dataDir,
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, NO_COLOR: "1" } },
    );
    let output = "";
    cli.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    cli.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const exited = await Promise.race([
      new Promise<number | null>((resolve) => cli.on("exit", (code) => resolve(code))),
      new Promise<"running">((resolve) => setTimeout(() => resolve("running"), 20_000)),
    ]);
    try {
      process.kill(-cli.pid!, "SIGKILL");
    } catch {
      // gone
    }
    rpc.close();
    assert.match(
      output,
      /error: cannot check the data's chain: the node at \S+ has no block 5/,
      `the CLI went on past the chain check (${exited === "running" ? "still running after 20 s" : `exit ${exited}`}): ${output.slice(0, 300)}`,
    );
  });
});
