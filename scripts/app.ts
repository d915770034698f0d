import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/**
 * `npm run app [-- --port 5173] [--node-port 8545] [--no-build]`: the web app against a local
 * chain in one command. Builds packages/web, starts a Hardhat node (chain 31337), deploys Pledge,
 * seeds a market maker, a keeper's bidder and three traders short BTC calls, funds two
 * development wallets, starts the indexer, serves the app and prints its URL. Ctrl-C stops all.
 */
const USAGE = "usage: npm run app -- [--port <port>] [--node-port <port>] [--no-build]";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function fail(line: string): never {
  console.error(`error: ${line}`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: "string", default: "5173" },
      "node-port": { type: "string", default: "8545" },
      "no-build": { type: "boolean", default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  fail(`${(error as Error).message.split("\n")[0]}; ${USAGE}`);
}
const port = (flag: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) fail(`--${flag} ${text} is not a port; ${USAGE}`);
  return value;
};
const webPort = port("port", args.port);
const nodePort = port("node-port", args["node-port"]);

if (!args["no-build"]) {
  console.log("building the web app (packages/web)…");
  // Through npm, so that the web app's own Vite runs (the root's node_modules/vite is Ponder's).
  const build = spawnSync("npm", ["run", "build", "--silent", "-w", "@pledge/web"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 180_000,
  });
  if (build.status !== 0) fail("the web app's build failed (npm run build -w @pledge/web shows why)");
}

const { startAppStack } = await import("./lib/app.js");
let stack;
try {
  stack = await startAppStack({ chainId: 31337, nodePort, webPort, log: (line) => console.log(line) });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  fail(message.includes("EADDRINUSE") ? `a port is in use (is another node or app running?): ${message}` : message);
}
console.log(`
Pledge app: ${stack.url}
Connect with a development account (no extension needed), or a wallet on chain 31337 at ${stack.rpcUrl}.
Ctrl-C stops the node, the indexer and the app.`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping");
    void stack.close().then(() => process.exit(0));
  });
