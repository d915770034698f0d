#!/usr/bin/env -S npx tsx
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { ChainMismatchError, blockHashAt, chainMarkFile, checkChainMark } from "./lib/chainMark.js";
import { DEFAULT_RPC_URL, ENV, IndexerSettingsError, settingsFromEnv } from "./lib/settings.js";

/**
 * `npm run indexer -- [--deployment <file> | --chain-id <id>] [--rpc <url>] [--port 42069]`:
 * Ponder (`ponder start`) indexing the Pledge deployment of an address book, on the chain at
 * `--rpc`, serving GraphQL at /graphql and SQL over HTTP at /sql. The data is PGlite under
 * `--data-dir` (default packages/indexer/.ponder/pglite), or PostgreSQL when DATABASE_URL is set.
 * A restart resumes where it stopped — only on the same chain: data built from another chain (a
 * restarted local node under the same id) is refused (`lib/chainMark.ts`). Ctrl-C stops it.
 */
const USAGE =
  "usage: npm run indexer -- [--deployment <file> | --chain-id <id>] [--rpc <url>] [--port <port>] " +
  "[--schema <name>] [--data-dir <dir>] [--polling-ms <ms>] [--rpc-lanes <n>] [--dev]";

const ROOT = path.dirname(fileURLToPath(import.meta.url));

function fail(line: string): never {
  console.error(`error: ${line}`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      deployment: { type: "string" },
      "chain-id": { type: "string" },
      rpc: { type: "string", default: process.env[ENV.rpcUrl] || DEFAULT_RPC_URL },
      port: { type: "string", default: "42069" },
      schema: { type: "string", default: process.env.DATABASE_SCHEMA || "pledge" },
      "data-dir": { type: "string" },
      "polling-ms": { type: "string" },
      "rpc-lanes": { type: "string" },
      dev: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  fail(`${(error as Error).message.split("\n")[0]}; ${USAGE}`);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port <= 0 || port > 65_535) fail(`--port ${args.port} is not a port; ${USAGE}`);
if (!/^[a-z_][a-z0-9_]*$/i.test(args.schema)) fail(`--schema ${args.schema} is not a schema name; ${USAGE}`);
const chainId = args["chain-id"] ?? process.env[ENV.chainId];
const deployment =
  args.deployment ?? process.env[ENV.deployment] ?? (chainId ? `deployments/${chainId}.json` : undefined);
if (deployment === undefined) fail(`name the address book with --deployment, or the chain with --chain-id; ${USAGE}`);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  // Ponder runs in packages/indexer: paths given here are the caller's.
  [ENV.deployment]: path.resolve(deployment),
  [ENV.rpcUrl]: args.rpc,
  ...(chainId ? { [ENV.chainId]: chainId } : {}),
  ...(args["data-dir"] ? { [ENV.dataDir]: path.resolve(args["data-dir"]) } : {}),
  ...(args["polling-ms"] ? { [ENV.pollingMs]: args["polling-ms"] } : {}),
  ...(args["rpc-lanes"] ? { [ENV.rpcLanes]: args["rpc-lanes"] } : {}),
};
// Ponder's config reads these too: a bad one is refused here in one line, not by Ponder's build.
try {
  settingsFromEnv(env);
} catch (error) {
  if (!(error instanceof IndexerSettingsError)) throw error;
  fail(`${error.message}; ${USAGE}`);
}
// `ponder start` resumes the data's checkpoint: refuse data that another chain built, and refuse
// to start when the chain cannot be checked (review rv18b, RV18b-5).
if (!args.dev) {
  let book: { chainId: number; deployedAtBlock?: string };
  try {
    book = JSON.parse(await readFile(path.resolve(deployment), "utf8")) as typeof book;
  } catch (error) {
    fail(`cannot read the address book ${deployment}: ${(error as Error).message}`);
  }
  const block = BigInt(book.deployedAtBlock ?? "0");
  let blockHash: string | undefined;
  try {
    blockHash = await blockHashAt(args.rpc, block);
  } catch (error) {
    fail(`cannot check the data's chain: the node at ${args.rpc} does not answer (${(error as Error).message}).`);
  }
  if (blockHash === undefined)
    fail(
      `cannot check the data's chain: the node at ${args.rpc} has no block ${block}, where the address book ` +
        `${deployment} starts (a restarted node not yet redeployed?): deploy to it, then start the indexer again.`,
    );
  const dataDir = path.resolve(ROOT, process.env[ENV.dataDir] || ".ponder/pglite");
  const markFile = process.env.DATABASE_URL
    ? path.join(ROOT, ".ponder", `chain-${args.schema}.json`)
    : chainMarkFile(args["data-dir"] ? path.resolve(args["data-dir"]) : dataDir);
  try {
    await checkChainMark(markFile, { chainId: book.chainId, block: block.toString(), blockHash });
  } catch (error) {
    fail(error instanceof ChainMismatchError ? error.message : `cannot write the chain mark ${markFile}: ${error}`);
  }
}

// Ponder's entry is dist/esm/index.js; its command line sits beside it (the package exports no bin path).
const ponderBin = fileURLToPath(new URL("bin/ponder.js", import.meta.resolve("ponder")));
// `ponder dev` rebuilds on file changes and drops its tables on a restart; `start` resumes.
const command = args.dev ? ["dev", "--disable-ui"] : ["start"];
const child = spawn(
  process.execPath,
  [ponderBin, ...command, "--root", ROOT, "--port", String(port), "--schema", args.schema],
  // In its own folder: Ponder writes generated/ (the GraphQL schema) under the working directory.
  { cwd: ROOT, env, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
