/**
 * The packed SDK, consumed as a user outside the monorepo would: `npm pack -w @pledge/sdk`,
 * `npm install <tarball> viem ethers` into a fresh app under the OS temp folder, then plain
 * Node 22 (no tsx, no loader, no Hardhat) runs a JavaScript and two TypeScript scripts
 * (Node's own type stripping) against a local chain, and the repo's `tsc` type-checks the
 * app against the shipped `.d.ts`. The chain is this process's in-process network, served
 * over JSON-RPC on 127.0.0.1 for the app.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { network } from "hardhat";
import { type Hex, parseEther, parseUnits } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { deployPledge } from "../../deploy/deployPledge.js";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The version the lockfile pins, so the app installs from the npm cache what the repo tests with. */
async function lockedVersion(name: string): Promise<string> {
  const lock = JSON.parse(await readFile(path.join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json has no ${name}`);
  return version;
}

/**
 * npm as a user runs it: this Node first on PATH (so `prepack` builds with Node 22), and none of
 * the npm_* variables an enclosing `npm test` exports, which would point npm at the repository.
 */
function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`;
  return run("npm", args, { cwd, env, timeout: 120_000, maxBuffer: 1 << 24 });
}

/** Plain Node: the repo's Node 22 binary, no flags, no loader. */
function node(script: string, cwd: string, env: Record<string, string>) {
  return run(process.execPath, [script], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 });
}

const viemScript = `
import { createPublicClient, createWalletClient, http, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { deposit, getAccountId, getAccountMargin, getBalances, healthName, loadAddressBook } from "@pledge/sdk";

const transport = http(process.env.RPC_URL);
const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 50 });
const walletClient = createWalletClient({
  account: privateKeyToAccount(process.env.PRIVATE_KEY),
  chain: hardhat,
  transport,
  pollingInterval: 50,
});
const addressBook = await loadAddressBook(hardhat.id, "./deployments");
const account = getAccountId(walletClient, { subId: 1n });
await deposit(walletClient, {
  publicClient,
  addressBook,
  account,
  asset: addressBook.cash.address,
  amount: parseUnits("1000", 6),
});
const { cash } = await getBalances(publicClient, { addressBook, account });
const [state] = await getAccountMargin(publicClient, { addressBook, accounts: [account] });
console.log(\`js: cash \${cash} health \${healthName(state.health)}\`);
`;

const typescriptScript = `
import { type Address, type Hex, createPublicClient, createWalletClient, http, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import {
  type AccountId,
  type AddressBook,
  type MarginState,
  deposit,
  getAccountId,
  getAccountMargin,
  healthName,
  loadAddressBook,
} from "@pledge/sdk";

const transport = http(process.env.RPC_URL);
const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 50 });
const walletClient = createWalletClient({
  account: privateKeyToAccount(process.env.PRIVATE_KEY as Hex),
  chain: hardhat,
  transport,
  pollingInterval: 50,
});
const addressBook: AddressBook = await loadAddressBook(hardhat.id, "./deployments");
const account: AccountId = getAccountId(walletClient, { subId: 2n });
const asset: Address = addressBook.cash.address;
await deposit(walletClient, { publicClient, addressBook, account, asset, amount: parseUnits("500", 6) });
const states: readonly MarginState[] = await getAccountMargin(publicClient, { addressBook, accounts: [account] });
console.log(\`ts: equityIM \${states[0]!.equityIM} health \${healthName(states[0]!.health)}\`);
`;

const ethersScript = `
import { JsonRpcProvider, Wallet, parseUnits } from "ethers";
import { type AddressBook, type Health, PledgeError, accountId, healthName, loadAddressBook } from "@pledge/sdk";
import {
  CollateralVault__factory,
  MarginEngine__factory,
  MockERC20__factory,
  decodePledgeErrorEthers,
} from "@pledge/sdk/ethers";

// cacheTimeout -1: ethers reuses an identical request's answer for 250 ms, which on an
// automining chain hands the next transaction the previous one's nonce.
const provider = new JsonRpcProvider(process.env.RPC_URL, 31337, {
  staticNetwork: true,
  pollingInterval: 50,
  cacheTimeout: -1,
});
const signer = new Wallet(process.env.PRIVATE_KEY!, provider);
const book: AddressBook = await loadAddressBook(31337, "./deployments");
const vault = CollateralVault__factory.connect(book.contracts.CollateralVault, signer);
const engine = MarginEngine__factory.connect(book.contracts.MarginEngine, signer);
const usdc = MockERC20__factory.connect(book.cash.address, signer);

const account = accountId(signer.address as \`0x\${string}\`, 3n);
const amount = parseUnits("250", 6);
await (await usdc.approve(book.contracts.CollateralVault, amount)).wait();
await (await vault.deposit(account, usdc, amount)).wait();
const state = await engine.accountMargin(account);
console.log(\`ethers: cash \${await vault.cashOf(account)} health \${healthName(Number(state.health) as Health)}\`);

try {
  await vault.withdraw.staticCall(account, usdc, amount + 1n, signer.address);
  console.log("ethers: the over-withdrawal went through");
} catch (error) {
  const decoded = decodePledgeErrorEthers(error);
  if (!(decoded instanceof PledgeError)) throw error;
  console.log(\`ethers: refused \${decoded.errorName}: \${decoded.message}\`);
}
`;

const appTsconfig = {
  compilerOptions: {
    target: "ES2023",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    // DOM: viem's dependency ox names WebCrypto and WebAuthn types in its declarations.
    lib: ["ES2023", "DOM"],
    types: ["node"],
    strict: true,
    noEmit: true,
    // What Node's type stripping runs: no enums or namespaces, type-only imports marked.
    erasableSyntaxOnly: true,
    verbatimModuleSyntax: true,
    // Check the shipped declarations themselves, not only the app's use of them.
    skipLibCheck: false,
  },
  include: ["*.ts"],
};

/** Serves the in-process chain as JSON-RPC over HTTP, single and batched requests. */
async function serve(request: (args: { method: string; params?: unknown[] }) => Promise<unknown>): Promise<Server> {
  type Call = { id: unknown; method: string; params?: unknown[] };
  const answer = async ({ id, method, params }: Call) => {
    try {
      return { jsonrpc: "2.0", id, result: await request({ method, params: params ?? [] }) };
    } catch (error) {
      const { code, message, data } = error as { code?: number; message?: string; data?: unknown };
      return { jsonrpc: "2.0", id, error: { code: code ?? -32603, message: message ?? String(error), data } };
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Call | Call[];
      const reply = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify(reply, (_key, value: unknown) =>
          typeof value === "bigint" ? `0x${value.toString(16)}` : value,
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

describe("the packed SDK in a plain Node 22 app outside the repository", () => {
  let work: string;
  let app: string;
  let server: Server | undefined;
  let env: Record<string, string>;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "pledge-sdk-package-"));
    app = path.join(work, "app");
    await mkdir(path.join(app, "deployments"), { recursive: true });

    // The chain, deployed and served, and a funded key for the app.
    const connection = await network.create();
    const { contracts, book } = await deployPledge(connection, { writeBook: false });
    const key: Hex = generatePrivateKey();
    const user = privateKeyToAccount(key).address;
    await connection.provider.request({
      method: "hardhat_setBalance",
      params: [user, `0x${parseEther("10").toString(16)}`],
    });
    await contracts.usdc.write.mint([user, parseUnits("10000", 6)]);
    await writeFile(path.join(app, "deployments", `${book.chainId}.json`), JSON.stringify(book, null, 2));
    server = await serve((args) => connection.provider.request(args));
    env = { RPC_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, PRIVATE_KEY: key };

    // The package, as `npm pack` builds it (prepack runs the SDK build), installed from its tarball.
    await npm(["pack", "-w", "@pledge/sdk", "--pack-destination", work, "--silent"], root);
    const tarball = (await readdir(work)).find((file) => file.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote no tarball");
    await writeFile(
      path.join(app, "package.json"),
      JSON.stringify({ name: "pledge-sdk-consumer", private: true, type: "module" }, null, 2),
    );
    await npm(
      [
        "install",
        path.join(work, tarball),
        `viem@${await lockedVersion("viem")}`,
        `ethers@${await lockedVersion("ethers")}`,
        `@types/node@${await lockedVersion("@types/node")}`,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
      ],
      app,
    );
    await writeFile(path.join(app, "viem.mjs"), viemScript);
    await writeFile(path.join(app, "viem.ts"), typescriptScript);
    await writeFile(path.join(app, "ethers.ts"), ethersScript);
    await writeFile(path.join(app, "tsconfig.json"), JSON.stringify(appTsconfig, null, 2));
  });

  after(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("ships dist/ only, and both entries resolve to it", async () => {
    const installed = path.join(app, "node_modules/@pledge/sdk");
    const top = (await readdir(installed)).sort();
    assert.deepEqual(top, ["LICENSE", "README.md", "dist", "package.json"]);
    await writeFile(
      path.join(app, "resolve.mjs"),
      'console.log(import.meta.resolve("@pledge/sdk"));\nconsole.log(import.meta.resolve("@pledge/sdk/ethers"));\n',
    );
    const { stdout } = await node("resolve.mjs", app, {});
    const [main, ethers] = stdout.trim().split("\n");
    assert.equal(fileURLToPath(main!), path.join(installed, "dist/index.js"));
    assert.equal(fileURLToPath(ethers!), path.join(installed, "dist/ethers/index.js"));
  });

  it("runs a JavaScript app with viem: deposit, margin, health", async () => {
    const { stdout } = await node("viem.mjs", app, env);
    assert.match(stdout, /^js: cash 1000000000 health HEALTHY$/m);
  });

  it("runs a TypeScript app with Node's own type stripping", async () => {
    const { stdout } = await node("viem.ts", app, env);
    assert.match(stdout, /^ts: equityIM 500000000000000000000 health HEALTHY$/m);
  });

  it("runs an ethers app on @pledge/sdk/ethers and decodes a revert into a PledgeError", async () => {
    const { stdout } = await node("ethers.ts", app, env);
    assert.match(stdout, /^ethers: cash 250000000 health HEALTHY$/m);
    assert.match(stdout, /^ethers: refused VaultInsufficientBalance: Account 0x[0-9a-f]{40}\/3 /m);
  });

  it("type-checks the app against the shipped declarations with the repo's tsc", async () => {
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    await run(process.execPath, [tsc, "-p", path.join(app, "tsconfig.json")], { cwd: app }).catch(
      (error: { stdout?: string }) => {
        throw new Error(`tsc found errors in the app:\n${error.stdout ?? String(error)}`);
      },
    );
  });
});
