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

const { DeployError } = await import("../deploy/lib/deployError.js");
try {
  // Loaded after the arguments are checked: importing Hardhat loads the config, and the Ignition
  // modules read the artifacts as they load (the manager's creation code): a missing build is one
  // line below, not a stack trace.
  const { deployToNetwork } = await import("../deploy/deployToNetwork.js");
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
  // Anything else (an RPC failure, a reverted transaction, an Ignition error): its first line, with
  // the reasons Ignition lists under it ("  * …"), since its first line alone names none.
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split("\n");
  const first = lines.find((line) => line.trim() !== "") ?? "the deployment failed";
  const reasons = lines.filter((line) => /^\s*\*\s/.test(line)).map((line) => line.replace(/^\s*\*\s*/, "").trim());
  // A journal from an older build of the modules (changed arguments) cannot be resumed.
  const reset = /reconciliation/i.test(message)
    ? ["the Ignition journal is from another version of the modules: re-run with --reset to deploy afresh"]
    : [];
  fail([reasons.length > 0 ? `${first} ${reasons.join("; ")}` : first, ...reset]);
}
