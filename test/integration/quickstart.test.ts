import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * The README's integrator path, as a newcomer runs it: `npm run node`, then in another terminal
 * `npm run deploy -- --network localhost`, then the "SDK quick start" block copied out of README.md.
 * Only the port differs (a free one, so a developer's node on 8545 is left alone): the node gets
 * `--port`, the deploy `--rpc-url`, the quick start `RPC_URL`, as the README says.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
const run = promisify(execFile);

/** The README's quick-start block: the fenced `ts` block whose first line is `// quickstart.ts…`. */
async function quickstartFromReadme(): Promise<string> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const match = /```ts\n(\/\/ quickstart\.ts[\s\S]*?)```/.exec(readme);
  assert.ok(match, "README.md has a ```ts block starting with // quickstart.ts");
  return match[1]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Chain 31337's journal and address book belong to the developer: moved aside, put back after. */
const OWNED = [path.join(ROOT, "ignition/deployments/chain-31337"), path.join(ROOT, "deployments/31337.json")];
const aside = (file: string) => `${file}.quickstart-test-${process.pid}`;

describe("README: npm run node, npm run deploy, then the SDK quick start", () => {
  let node: ChildProcess | undefined;
  let url = "";
  const script = path.join(ROOT, `.quickstart-${process.pid}.ts`);

  before(async () => {
    for (const file of OWNED) if (existsSync(file)) await rename(file, aside(file));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = spawn(process.execPath, [TSX, "scripts/node.ts", "--port", String(port)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run node did not get ready:\n${out}\n${err}`)), 180_000);
      node!.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Next, in another terminal")) {
          clearTimeout(timer);
          resolve();
        }
      });
      node!.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
      node!.once("exit", (code) => reject(new Error(`npm run node exited with ${code}:\n${out}\n${err}`)));
    });
    assert.match(out, /Pledge is deployed on chain 31337; address book: deployments\/31337\.json/);
    assert.match(out, /Seeded 5 dev accounts/);
  });

  after(async () => {
    await rm(script, { force: true });
    if (node && node.exitCode === null) {
      const exited = new Promise((resolve) => node!.once("exit", resolve));
      node.kill("SIGINT");
      await exited;
    }
    for (const file of OWNED) {
      await rm(file, { recursive: true, force: true });
      if (existsSync(aside(file))) await rename(aside(file), file);
    }
  });

  it("npm run deploy -- --network localhost checks the node's deployment and rewrites the address book", async () => {
    const { stdout } = await run(
      process.execPath,
      [TSX, "scripts/deploy.ts", "--network", "localhost", "--rpc-url", url],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    assert.match(stdout, /resuming from ignition\/deployments\/chain-31337/);
    const book = JSON.parse(await readFile(path.join(ROOT, "deployments/31337.json"), "utf8")) as { chainId: number };
    assert.equal(book.chainId, 31337);
  });

  /** `npm run chore -- …` against the node: exit code, stdout and stderr lines. */
  async function chore(...args: string[]) {
    try {
      const { stdout } = await run(process.execPath, [TSX, "scripts/chore.ts", ...args, "--rpc-url", url], {
        cwd: ROOT,
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr: [] as string[] };
    } catch (error) {
      const failure = error as { code?: number; stdout: string; stderr: string };
      return { code: failure.code ?? -1, stdout: failure.stdout, stderr: failure.stderr.split("\n").filter(Boolean) };
    }
  }

  it("npm run chore mints, moves a feed and warps time; a bad chore is one line and exit 1", async () => {
    const { createPublicClient, erc20Abi, http, parseUnits } = await import("viem");
    const publicClient = createPublicClient({ transport: http(url) });
    const book = JSON.parse(await readFile(path.join(ROOT, "deployments/31337.json"), "utf8")) as {
      collateral: { symbol: string; address: `0x${string}`; spotFeed: `0x${string}` }[];
    };
    const weth = book.collateral.find((asset) => asset.symbol === "WETH")!;
    const to = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    const balance = () =>
      publicClient.readContract({ address: weth.address, abi: erc20Abi, functionName: "balanceOf", args: [to] });
    const before = await balance();
    assert.equal((await chore("mint", "WETH", "2.5", to)).code, 0);
    assert.equal(await balance(), before + parseUnits("2.5", 18));

    assert.equal((await chore("price", "WETH", "2345.5")).code, 0);
    const feedAbi = [
      {
        type: "function",
        name: "latestRoundData",
        stateMutability: "view",
        inputs: [],
        outputs: ["uint80", "int256", "uint256", "uint256", "uint80"].map((type) => ({ type })),
      },
      { type: "function", name: "decimals", stateMutability: "view", inputs: [], outputs: [{ type: "uint8" }] },
    ] as const;
    const [, answer] = await publicClient.readContract({
      address: weth.spotFeed,
      abi: feedAbi,
      functionName: "latestRoundData",
    });
    const decimals = await publicClient.readContract({
      address: weth.spotFeed,
      abi: feedAbi,
      functionName: "decimals",
    });
    assert.equal(answer, parseUnits("2345.5", decimals));

    const start = (await publicClient.getBlock()).timestamp;
    assert.equal((await chore("warp", "3600")).code, 0);
    assert.ok((await publicClient.getBlock()).timestamp >= start + 3600n);

    for (const bad of [["mint", "DOGE", "1", to], ["price", "WETH", "abc"], ["fly"]]) {
      const result = await chore(...bad);
      assert.equal(result.code, 1, `${bad.join(" ")}: exit 1`);
      assert.match(result.stderr[0] ?? "", /^error: /, `${bad.join(" ")}: ${result.stderr.join(" | ")}`);
      assert.ok(!result.stderr.some((line) => /^\s+at /.test(line)), `${bad.join(" ")}: no stack trace`);
    }
  });

  it("the README's quick start runs as written, and again", async () => {
    await writeFile(script, await quickstartFromReadme());
    for (const round of [1, 2]) {
      const { stdout, stderr } = await run(process.execPath, [TSX, path.basename(script)], {
        cwd: ROOT,
        env: { ...process.env, RPC_URL: url },
        timeout: 120_000,
      });
      assert.equal(stderr, "", `round ${round} wrote to stderr`);
      assert.match(stdout, /\/1 bought 1 call from 0x[0-9a-fA-F…]+\/1 for 120 USDC/);
      assert.match(stdout, /writer: equity [\d.,]+ USD, initial margin [\d.,]+ USD, HEALTHY/);
      assert.match(stdout, /withdrawing all [\d.,]+ USDC is refused: Account 0x[0-9a-f…]+\/1 is below initial margin/);
    }
  });
});
