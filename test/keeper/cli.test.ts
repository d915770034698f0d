import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { network } from "hardhat";
import { type Hex, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import { ExitCode, KeeperStartupError, resolveRunConfig } from "../../packages/keeper/src/config.js";
import { getCashMarket } from "../../packages/sdk/src/index.js";
import { type World, createWorld } from "./helpers/world.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "packages/keeper/src/cli.ts");
const execute = promisify(execFile);

/** Hardhat's default accounts: 2 is the world's trader, 3 its first keeper. */
const keyOf = (index: number): Hex =>
  toHex(
    mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: index }).getHdKey()
      .privateKey!,
  );

/** `pledge-keeper …` as a child process, with `env` added: its exit code and its stderr lines. */
async function keeperCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execute(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr: lines(stderr) };
  } catch (error) {
    const failure = error as { code?: number; stdout: string; stderr: string };
    return { code: failure.code ?? -1, stdout: failure.stdout, stderr: lines(failure.stderr) };
  }
}
const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "");

/** One refusal: exit `code`, exactly one line on stderr matching `pattern`, no stack trace. */
function assertRefused(result: Awaited<ReturnType<typeof keeperCli>>, code: number, pattern: RegExp) {
  assert.equal(result.code, code, `expected exit code ${code}, got ${result.code}: ${result.stderr.join(" | ")}`);
  assert.equal(result.stderr.length, 1, `expected one line, got:\n${result.stderr.join("\n")}`);
  assert.match(result.stderr[0]!, /^error: /);
  assert.doesNotMatch(result.stderr[0]!, /\bat .*:\d+:\d+/, "a stack trace");
  assert.match(result.stderr[0]!, pattern);
}

describe("pledge-keeper run: start-up validation against a node served over HTTP", () => {
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let url: string;
  let world: World;
  let dir: string;
  let deployment: string;
  const key = { KEEPER_KEY: keyOf(3) };

  /** Writes the world's address book as changed by `edit` to a file of its own. */
  async function bookWith(edit: (book: Record<string, unknown>) => void, name = `${Math.random()}.json`) {
    const copy = structuredClone(world.book) as unknown as Record<string, unknown>;
    edit(copy);
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify(copy));
    return file;
  }
  const base = () => ["run", "--rpc", url, "--deployment", deployment, "--key-env", "KEEPER_KEY"];

  const chainId = 700_000 + (process.pid % 90_000);
  before(async () => {
    // A chain id of its own: a deployment over HTTP keeps an Ignition journal per chain id, and a
    // developer's chain-31337 journal (from `npm run node`) must neither be reused nor clobbered.
    server = await network.createServer({ network: "node", override: { chainId } }, "127.0.0.1");
    const { port } = await server.listen();
    url = `http://127.0.0.1:${port}`;
    const connection = await network.create({ network: "localhost", override: { url } });
    world = await createWorld({ accounts: 1, connection });
    dir = await mkdtemp(path.join(tmpdir(), "pledge-keeper-cli-"));
    deployment = path.join(dir, `${world.book.chainId}.json`);
    await writeFile(deployment, JSON.stringify(world.book));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    await rm(path.join(ROOT, "ignition", "deployments", `chain-${chainId}`), { recursive: true, force: true });
  });

  it("rejects an unknown flag by name, and a numeric flag that does not parse", async () => {
    assertRefused(await keeperCli([...base(), "--frobnicate"], key), ExitCode.USAGE, /unknown option '--frobnicate'/);
    assertRefused(
      await keeperCli([...base(), "--min-profit", "abc"], key),
      ExitCode.USAGE,
      /^error: --min-profit must be a number of USD, got abc$/,
    );
    assertRefused(
      await keeperCli([...base(), "--interval", "-5"], key),
      ExitCode.USAGE,
      /--interval must be a positive integer of milliseconds, got -5/,
    );
    assertRefused(await keeperCli(["run", "--deployment", deployment], key), ExitCode.USAGE, /--rpc is required/);
  });

  it("refuses a missing and a malformed key without printing it", async () => {
    assertRefused(await keeperCli(base(), { KEEPER_KEY: "" }), ExitCode.KEY, /KEEPER_KEY is empty/);
    const result = await keeperCli(base(), { KEEPER_KEY: "0x1234secret" });
    assertRefused(result, ExitCode.KEY, /KEEPER_KEY does not hold a private key/);
    assert.doesNotMatch(result.stderr[0]!, /secret/);
    assertRefused(
      await keeperCli(["run", "--rpc", url, "--deployment", deployment]),
      ExitCode.KEY,
      /give --key-env <VAR> or --keystore <file>/,
    );
  });

  it("refuses a missing deployment file, one that is not JSON, and one without the liquidator", async () => {
    const args = (file: string) => ["run", "--rpc", url, "--deployment", file, "--key-env", "KEEPER_KEY"];
    assertRefused(
      await keeperCli(args(path.join(dir, "nowhere.json")), key),
      ExitCode.DEPLOYMENT_NOT_FOUND,
      /No address book at .*nowhere\.json/,
    );
    const notJson = path.join(dir, "broken.json");
    await writeFile(notJson, "{ not json");
    assertRefused(
      await keeperCli(args(notJson), key),
      ExitCode.DEPLOYMENT_INVALID,
      /is not a valid address book: it is not JSON/,
    );
    const noLiquidator = await bookWith((book) => delete (book.contracts as Record<string, unknown>).Liquidator);
    assertRefused(
      await keeperCli(args(noLiquidator), key),
      ExitCode.DEPLOYMENT_INVALID,
      /contracts\.Liquidator is missing/,
    );
  });

  it("refuses a malformed RPC URL and an unreachable one, without retrying forever", async () => {
    const args = (rpc: string) => ["run", "--rpc", rpc, "--deployment", deployment, "--key-env", "KEEPER_KEY"];
    assertRefused(
      await keeperCli(args("localhost:8545"), key),
      ExitCode.RPC_URL,
      /--rpc localhost:8545 is not an http\(s\) URL/,
    );
    assertRefused(
      await keeperCli(args("http://127.0.0.1:9"), key),
      ExitCode.RPC_UNREACHABLE,
      /no --rpc endpoint answered eth_chainId/,
    );
  });

  it("refuses a deployment of another chain and an address without code", async () => {
    const chain1 = await bookWith((book) => (book.chainId = 1));
    assertRefused(
      await keeperCli(["run", "--rpc", url, "--deployment", chain1, "--key-env", "KEEPER_KEY"], key),
      ExitCode.WRONG_CHAIN,
      new RegExp(`on chain ${world.book.chainId}, the address book is for chain 1`),
    );
    const dead = "0x000000000000000000000000000000000000dEaD";
    const empty = await bookWith((book) => ((book.contracts as Record<string, unknown>).Liquidator = dead));
    assertRefused(
      await keeperCli(["run", "--rpc", url, "--deployment", empty, "--key-env", "KEEPER_KEY"], key),
      ExitCode.CONTRACT_NOT_DEPLOYED,
      new RegExp(`no contract at ${dead} \\(contracts.Liquidator of the address book\\)`),
    );
  });

  it("refuses a bidder account below initial margin, naming it and its health", async () => {
    await world.setSpot(69_000); // the trader's short call is now below maintenance
    try {
      const trader = mnemonicToAccount("test test test test test test test test test test test junk", {
        addressIndex: 2,
      }).address;
      assertRefused(
        await keeperCli([...base(), "--bidder-sub-id", "1"], { KEEPER_KEY: keyOf(2) }),
        ExitCode.BIDDER_BELOW_IM,
        new RegExp(`bidder account ${trader}/1 is below initial margin \\((LIQUIDATABLE|INSOLVENT)`, "i"),
      );
    } finally {
      await world.setSpot(60_000);
    }
  });

  it("reads settings from --config, flags override them, and its values are checked like flags", async () => {
    const config = path.join(dir, "keeper.json");
    await writeFile(config, JSON.stringify({ rpc: [url], deployment, "key-env": "KEEPER_KEY", "min-profit": "abc" }));
    assertRefused(
      await keeperCli(["run", "--config", config], key),
      ExitCode.USAGE,
      /keeper\.json: min-profit must be a number of USD, got abc/,
    );
    // The flag overrides the file's bad value; the file's deployment of chain 1 is then refused.
    const chain1 = await bookWith((book) => (book.chainId = 1));
    await writeFile(config, JSON.stringify({ rpc: [url], deployment: chain1, "key-env": "KEEPER_KEY" }));
    assertRefused(
      await keeperCli(["run", "--config", config, "--deployment", deployment, "--rpc", "http://127.0.0.1:9"], key),
      ExitCode.RPC_UNREACHABLE,
      /no --rpc endpoint answered/,
    );
    await writeFile(config, JSON.stringify({ rpc: url, "min-proft": "5" }));
    assertRefused(await keeperCli(["run", "--config", config], key), ExitCode.CONFIG, /unknown setting "min-proft"/);
  });

  it("refuses an offload feed that answers, but not with a list of orders (exit code 14)", async () => {
    const feed = createServer((request, response) => {
      response.writeHead(request.url === "/orders" ? 200 : 404);
      response.end("<html>not orders</html>");
    });
    await new Promise<void>((resolve) => feed.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
    const counterparty = ["--offload-counterparty", world.book.contracts.OptionMarket];
    try {
      assertRefused(
        await keeperCli([...base(), ...counterparty, "--offload-orders", `${origin}/wrong`], key),
        ExitCode.OFFLOAD,
        new RegExp(`^error: --offload-orders ${origin}: the order feed answered HTTP 404$`),
      );
      assertRefused(
        await keeperCli([...base(), ...counterparty, "--offload-orders", `${origin}/orders`], key),
        ExitCode.OFFLOAD,
        /the order feed's answer is not JSON/,
      );
    } finally {
      feed.closeAllConnections();
      feed.close();
    }
  });

  it("cash prints the APRs, utilisation and losses; --json the same figures; bad input in one line", async () => {
    const { vault } = world.contracts;
    const [admin] = await world.connection.viem.getWalletClients();
    // Governance sets a 10 % base rate: the borrow APR is 10 % whatever the utilisation.
    const model = await world.connection.viem.deployContract("KinkRateModel", [
      { baseRateWad: 10n ** 17n, slope1Wad: 0n, slope2Wad: 0n, kinkWad: 8n * 10n ** 17n },
    ]);
    await vault.write.setRateModel([model.address]);
    try {
      const table = await keeperCli(["cash", "--rpc", url, "--deployment", deployment]);
      assert.equal(table.code, 0, table.stderr.join("\n"));
      const rows = Object.fromEntries(
        lines(table.stdout).map((line) => [line.slice(0, 16).trim(), line.slice(16).trim()] as const),
      );
      assert.match(rows["borrow APR"]!, /^(9\.99|10) %$/);
      assert.match(rows["supply APR"]!, /^\d+(\.\d{1,2})? %$/);
      assert.match(rows["withdrawable"]!, /^[\d,]+(\.\d{1,2})? USDC$/);
      assert.equal(rows["rate model"]!.toLowerCase(), model.address.toLowerCase());
      assert.equal(rows["cash deposits"], "open", "no loss held apart");

      const json = await keeperCli(["cash", "--rpc", url, "--deployment", deployment, "--json"]);
      assert.equal(json.code, 0, json.stderr.join("\n"));
      const fields = JSON.parse(json.stdout) as Record<string, string>;
      const market = await getCashMarket(world.publicClient, {
        addressBook: world.book,
        blockNumber: BigInt(fields.blockNumber!),
      });
      assert.equal(BigInt(fields.borrowAprWad!), market.borrowAprWad);
      assert.equal(BigInt(fields.supplyAprWad!), market.supplyAprWad);
      assert.equal(BigInt(fields.liquidity!), market.liquidity);
      assert.equal(BigInt(fields.badDebt!), market.badDebt);
      assert.ok(market.borrowAprWad > 99n * 10n ** 15n, "a 10 % base rate");

      assertRefused(await keeperCli(["cash", "--deployment", deployment]), ExitCode.USAGE, /--rpc/);
      assertRefused(
        await keeperCli(["cash", "--rpc", url, "--deployment", path.join(dir, "missing.json")]),
        ExitCode.DEPLOYMENT_NOT_FOUND,
        /missing\.json/,
      );
    } finally {
      await vault.write.setRateModel(["0x0000000000000000000000000000000000000000"]);
    }
  });

  it("starts with good inputs, answers /health once it has ticked, and in --dry-run sends nothing", async () => {
    await world.setSpot(69_000);
    const keeperAddress = world.keepers[0]!.wallet.account.address;
    const nonceBefore = await world.publicClient.getTransactionCount({ address: keeperAddress });
    const port = 20_000 + (process.pid % 5_000);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI,
        ...base(),
        "--dry-run",
        "--metrics-port",
        String(port),
        "--store",
        path.join(dir, "s.sqlite"),
      ],
      { cwd: ROOT, env: { ...process.env, ...key } },
    );
    try {
      const output = collect(child);
      const health = await waitFor(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return response?.status === 200 ? ((await response.json()) as { status: string }) : undefined;
      });
      assert.equal(health.status, "ok");
      await waitFor(async () => (output.stdout.includes("dry run: would send") ? true : undefined));
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /pledge_keeper_bidder_health\{health="HEALTHY"\} 1/);
      assert.match(metrics, /pledge_keeper_accounts_at_risk\{health="LIQUIDATABLE"\} 1/);
      assert.match(metrics, /pledge_keeper_gas_balance_ether \d/);
      assert.match(output.stdout, new RegExp(`"bidderAccount":"${keeperAddress}/1"`, "i"));
      assert.equal(
        await world.publicClient.getTransactionCount({ address: keeperAddress }),
        nonceBefore,
        "nothing sent",
      );
      assert.equal((await world.contracts.liquidator.read.auctionOf([world.traders[0]!])).active, false);
      child.kill("SIGTERM");
      assert.equal(await exited(child), 0);
      assert.equal(output.stderr, "");
    } finally {
      child.kill("SIGKILL");
      await world.setSpot(60_000);
    }
  });
});

describe("pledge-keeper bin", () => {
  it("runs through npm exec and prints its help", async () => {
    const { stdout } = await execute("npm", ["exec", "--offline", "pledge-keeper", "--", "run", "--help"], {
      cwd: ROOT,
      timeout: 60_000,
    });
    assert.match(stdout, /--metrics-host <host>/);
    assert.match(stdout, /--dry-run/);
  });
});

function collect(child: ChildProcess) {
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  return output;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

/** Polls `probe` until it returns a value (at most 60 s: the child's first tick indexes the chain). */
async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("timed out");
}

describe("pledge-keeper run: bidding settings (no node)", () => {
  const base = { rpc: ["http://a"], deployment: "d.json" };
  const usage = (pattern: RegExp) => (error: unknown) =>
    error instanceof KeeperStartupError && error.exitCode === ExitCode.USAGE && pattern.test(error.message);

  it("parses --bid-reserve (USD) and --min-discount (percent), default 0, and refuses bad values in one line", () => {
    const defaults = resolveRunConfig(base);
    assert.deepEqual([defaults.bidReserve, defaults.minDiscount], ["0", 0n]);
    const set = resolveRunConfig({ ...base, "bid-reserve": "250000.5" }, { "min-discount": "12.5" });
    assert.deepEqual([set.bidReserve, set.minDiscount], ["250000.5", 125n * 10n ** 15n]);
    assert.throws(
      () => resolveRunConfig({ ...base, "bid-reserve": "-5" }),
      usage(/^--bid-reserve must be a number of USD, got -5$/),
    );
    assert.throws(
      () => resolveRunConfig({ ...base, "min-discount": "100" }),
      usage(/^--min-discount must be a percentage from 0 to below 100, got 100$/),
    );
  });
});
