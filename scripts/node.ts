import path from "node:path";
import { parseArgs } from "node:util";

/**
 * `npm run node [-- --l2] [--port 8545]`: a local chain for trying Pledge from outside the repository.
 * Starts Hardhat's node on 127.0.0.1 (the `node` network, or the OP-stack `opLocal` with `--l2`),
 * deploys Pledge to it with the deploy command (fresh each time: a new node is a new chain), mints
 * mock tokens to the first dev accounts, prints what to do next and serves until Ctrl-C.
 */
const USAGE = "usage: npm run node [-- --l2] [--port <port>]";

function fail(line: string): never {
  console.error(`error: ${line}`);
  process.exit(1);
}

/** A CLI prints an unexpected error's first line, never a stack trace. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((line) => line.trim() !== "") ?? "the node failed";
}

let args;
try {
  args = parseArgs({
    options: { l2: { type: "boolean", default: false }, port: { type: "string", default: "8545" } },
    strict: true,
  }).values;
} catch (error) {
  fail(`${(error as Error).message.split("\n")[0]}; ${USAGE}`);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port <= 0 || port > 65_535) fail(`--port ${args.port} is not a port; ${USAGE}`);

const { default: hre } = await import("hardhat");
const { erc20Abi, parseUnits } = await import("viem");
const { DeployError } = await import("../deploy/lib/deployError.js");
// The Ignition modules read the artifacts as they load (the manager's creation code): a missing
// build is one line, not a stack trace.
const { deployToNetwork } = await import("../deploy/deployToNetwork.js").catch((error: unknown) =>
  fail(firstLine(error)),
);

const served = args.l2 ? "opLocal" : "node";
const deployTo = args.l2 ? "opLocalhost" : "localhost";
const server = await hre.network.createServer({ network: served }, "127.0.0.1", port);
const { address, port: actualPort } = await server.listen().catch((error: NodeJS.ErrnoException) => {
  if (error.code === "EADDRINUSE") fail(`port ${port} is in use: is another node running? Stop it, or pass --port`);
  fail(firstLine(error));
});
const url = `http://${address}:${actualPort}`;
console.log(`${args.l2 ? "OP-stack" : "Hardhat"} node (network ${served}) at ${url}`);

let result;
try {
  result = await deployToNetwork({
    network: deployTo,
    rpcUrl: url,
    reset: true, // the node was just started: any journal of this chain id is from an older node
    log: (line) => console.log(line),
  });
} catch (error) {
  await server.close();
  if (error instanceof DeployError) fail(error.problems.join("; "));
  fail(firstLine(error));
}

// Seed: the first five dev accounts get mock tokens (anyone may mint a MockERC20).
const connection = await hre.network.create({ network: deployTo, override: { url } });
const [deployer, ...others] = await connection.viem.getWalletClients();
const publicClient = await connection.viem.getPublicClient();
const mockErc20Abi = [
  ...erc20Abi,
  {
    type: "function",
    name: "mint",
    stateMutability: "nonpayable",
    inputs: [
      { name: "to", type: "address" },
      { name: "amount", type: "uint256" },
    ],
    outputs: [],
  },
] as const;
const grants = { USDC: "1000000", WETH: "100", WBTC: "10" } as Record<string, string>;
const seeded = [deployer, ...others].slice(0, 5).filter((wallet) => wallet !== undefined);
for (const asset of [result.book.cash, ...result.book.collateral]) {
  const amount = parseUnits(grants[asset.symbol] ?? "0", asset.decimals);
  for (const wallet of seeded) {
    const hash = await deployer!.writeContract({
      address: asset.address,
      abi: mockErc20Abi,
      functionName: "mint",
      args: [wallet.account.address, amount],
    });
    await publicClient.waitForTransactionReceipt({ hash });
  }
}
await connection.close();

const book = path.relative(process.cwd(), result.file);
const chainId = result.book.chainId;
console.log(`
Pledge is deployed on chain ${chainId}; address book: ${book}
Seeded ${seeded.length} dev accounts (Hardhat's default mnemonic; account 0 is the deployer and holds every role) with ${Object.entries(
  grants,
)
  .map(([symbol, amount]) => `${amount} ${symbol}`)
  .join(", ")} each:
${seeded.map((wallet, i) => `  #${i} ${wallet.account.address}`).join("\n")}${
  args.l2
    ? `
Sequencer uptime feed (MockV3Aggregator: answer 0 = up, 1 = down): ${result.sequencerFeed}`
    : ""
}

Next, in another terminal:
  npm run deploy -- --network ${deployTo}${actualPort === 8545 ? "" : ` --rpc-url ${url}`}   # checks the deployment and rewrites ${book}
  then the SDK quick start (README.md, "Using the SDK") against ${url} with loadAddressBook(${chainId})
Chores (mint, move a feed, warp time): docs/deploy.md. Ctrl-C stops the node; its chain is gone with it.`);

process.on("SIGINT", () => {
  console.log("\nstopping the node");
  void server.close();
});
await server.afterClosed();
process.exit(0);
