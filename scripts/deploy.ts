import { parseArgs } from "node:util";

/**
 * `npm run deploy -- --network <name> [--parameters <file>] [--reset] [--rpc-url <url>]`: deploys
 * Pledge with Hardhat Ignition and writes `deployments/<chainId>.json` (docs/deploy.md). Every
 * refusal is one line per problem on stderr and exit code 1; never a stack trace.
 */
const USAGE = "usage: npm run deploy -- --network <name> [--parameters <file>] [--reset] [--rpc-url <url>]";

function fail(lines: readonly string[]): never {
  for (const line of lines) console.error(`error: ${line}`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      network: { type: "string" },
      parameters: { type: "string" },
      reset: { type: "boolean", default: false },
      "rpc-url": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  fail([`${(error as Error).message.split("\n")[0]}; ${USAGE}`]);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.network === undefined) fail([`--network is required; ${USAGE}`]);

// Loaded after the arguments are checked: importing Hardhat loads the config and the artifacts.
const { deployToNetwork } = await import("../deploy/deployToNetwork.js");
const { DeployError } = await import("../deploy/lib/deployError.js");
try {
  const result = await deployToNetwork({
    network: args.network,
    parameters: args.parameters,
    reset: args.reset,
    rpcUrl: args["rpc-url"],
    log: (line) => console.log(line),
  });
  console.log(`${result.resumed ? "resumed from the Ignition journal" : "deployed"}; address book: ${result.file}`);
  if (result.timelock !== undefined)
    console.log(`admin: TimelockController ${result.timelock}; the deployer holds no role`);
  process.exit(0);
} catch (error) {
  if (error instanceof DeployError) fail(error.problems);
  // Anything else (an RPC failure, a reverted transaction, an Ignition error): its first line only.
  const message = error instanceof Error ? error.message : String(error);
  fail([message.split("\n").find((line) => line.trim() !== "") ?? "the deployment failed"]);
}
