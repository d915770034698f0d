import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxViem from "@nomicfoundation/hardhat-toolbox-viem";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";

const require = createRequire(import.meta.url);

// Offline compiler: the WASM build shipped in the `solc` npm package. A compiler
// entry with an absolute `path` is treated as local and never downloaded.
const solc = {
  version: require("solc/package.json").version as string,
  path: require.resolve("solc/soljson.js"),
};
const optimizer = { enabled: true, runs: 10_000 };
// Second compiler, for Chainlink's phase-aware aggregator proxy (`pragma solidity 0.8.26`), which the
// settlement tests deploy as-is rather than copying it. 0.8.26 knows no "prague": "cancun" runs on it.
const solc0826 = {
  version: require("solc-0.8.26/package.json").version as string,
  path: require.resolve("solc-0.8.26/soljson.js"),
};
const compilers = [
  { ...solc, settings: { evmVersion: "prague", optimizer } },
  { ...solc0826, settings: { evmVersion: "cancun", optimizer } },
];
// CollateralVault is optimised for size a little more than the rest (fewer runs), to keep its 2 KB
// of EIP-170 headroom with the cash epoch (docs/cash.md) and the one-word collateral deposit
// (docs/performance.md): 4,000 runs left 2,188 B, 5,000 would have left 1,933 B. Since session 42's
// mask of assets held (`_held`) 2,000 runs leave 2,990 B (2,500 would leave 2,064 B, 4,000 1,818 B),
// for 12 to 42 gas more on the cash rows, which still meet the targets at this setting.
// MarginEngine and PortfolioManager compile through the IR pipeline (issue 17 part 2): the vol
// surface's marks and margin did not fit their 2 KB of EIP-170 headroom with the legacy one. The
// engine at 50 runs: lowering it further to 1 run saves 15 B; raising it to 1,000 runs saved only
// 1.4 % of a standard check and cost the engine 1,727 B (issue 19). The manager at 500 runs: its
// scenario loops are where a PORTFOLIO check spends its gas, and its own job builds the code the
// engine deploys (the deploy passes the artifact's creation code to the engine's constructor; until
// session 28 the engine embedded `new PortfolioManager`, so one job built both at 50 runs). It was at
// 1,000 runs until session 31, when the vol-column pruning left it 13 B above the 2 KB rule: 500
// runs give back 764 B for 0.4 % more gas a PORTFOLIO check.
// Sizes in bench/size.json.
const engineSettings = {
  ...solc,
  settings: { evmVersion: "prague", viaIR: true, optimizer: { enabled: true, runs: 50 } },
};
const managerSettings = {
  ...solc,
  settings: { evmVersion: "prague", viaIR: true, optimizer: { enabled: true, runs: 500 } },
};
const overrides: Record<string, typeof engineSettings | (typeof compilers)[number]> = {
  "contracts/vault/CollateralVault.sol": {
    ...solc,
    settings: { evmVersion: "prague", optimizer: { enabled: true, runs: 2_000 } },
  },
  "contracts/engine/MarginEngine.sol": engineSettings,
  // The per-piece gas probe of the standard check (scripts/trace-margin.ts) is an engine: same settings.
  "contracts/test/StandardMarginProbe.sol": engineSettings,
  // The engine deploys its manager from the creation code the deploy passes (`deploy/lib/pledgeCore.ts`):
  // this job's artifact is the deployed manager, which the size test and bench/size.json read.
  "contracts/engine/PortfolioManager.sol": managerSettings,
  // The oracle answers every price read of every check: through the IR pipeline (10,000 runs) a read
  // costs about 200–400 gas less than through the legacy one, and the oracle is far under its limit.
  "contracts/oracle/ChainlinkOracle.sol": { ...solc, settings: { evmVersion: "prague", viaIR: true, optimizer } },
  // The liquidator through the IR pipeline (10,000 runs), since session 47: 1,849 B smaller than
  // through the legacy one (4,152 B of room) and about 1,900 gas less a bid, for 682 more a
  // `startAuction` (the IR dispatcher compares selectors one by one; docs/performance.md).
  "contracts/liquidation/Liquidator.sol": { ...solc, settings: { evmVersion: "prague", viaIR: true, optimizer } },
  "contracts/market/OptionMarket.sol": {
    ...solc,
    settings: { evmVersion: "prague", optimizer: { enabled: true, runs: 1_000 } },
  },
};

// The Solidity tests compile in two jobs, not one. Hardhat merges every file that shares a compiler
// config (by reference) into one solc run, and the WASM solc fails with "Error writing output JSON"
// once that run's output outgrows its memory: it did in session 31, at 89 test files, on a fresh
// clone. The engine's tests (the largest folder) get an equal config of their own, so they
// compile in a second run.
const engineTests = { ...solc, settings: { evmVersion: "prague", optimizer } };
for (const file of readdirSync("test/unit/engine")) {
  if (file.endsWith(".sol")) overrides[`test/unit/engine/${file}`] = engineTests;
}

/** The chain id of the local OP-stack profile: not 31337, so its journal and address book stay apart. */
const OP_LOCAL_CHAIN_ID = 31_338;

export default defineConfig({
  plugins: [hardhatToolboxViem, hardhatEthers, hardhatTypechain],
  // Deploy targets (docs/deploy.md). `npm run node` serves `node` (or `opLocal` with --l2) on
  // 127.0.0.1:8545; `npm run deploy -- --network localhost` (or opLocalhost) deploys to it.
  networks: {
    localhost: { type: "http", url: "http://127.0.0.1:8545" },
    // The OP-stack profile: an in-process chain of Hardhat's `op` type; the local
    // deployment adds a mock sequencer uptime feed that the oracle checks.
    opLocal: { type: "edr-simulated", chainType: "op", chainId: OP_LOCAL_CHAIN_ID },
    opLocalhost: { type: "http", chainType: "op", url: "http://127.0.0.1:8545" },
    // Live networks: the URL and the deployer's key from the environment or the Hardhat keystore
    // (`npx hardhat keystore set SEPOLIA_RPC_URL`), read only when the network is used.
    sepolia: {
      type: "http",
      chainType: "l1",
      chainId: 11_155_111,
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    opSepolia: {
      type: "http",
      chainType: "op",
      chainId: 11_155_420,
      url: configVariable("OP_SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
  solidity: {
    // Hardhat 3 emits artifacts only for local sources and the npm files listed here; importing an
    // npm contract from a local file does not give it an artifact. Chainlink's own mock feed is used
    // by TypeScript tests and local deployments; its phase-aware proxy by the settlement tests;
    // OpenZeppelin's timelock by live deployments.
    npmFilesToBuild: [
      "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol",
      "@chainlink/contracts/src/v0.8/data-feeds/test/helpers/DataFeedsLegacyAggregatorProxy.sol",
      // The admin of a live deployment (`npm run deploy -- --parameters …`, docs/deploy.md).
      "@openzeppelin/contracts/governance/TimelockController.sol",
    ],
    profiles: {
      default: { compilers, overrides },
      production: { compilers, overrides },
    },
  },
  paths: { tests: { solidity: "test", nodejs: "test" } },
  test: {
    solidity: {
      fuzz: { runs: Number(process.env.FUZZ_RUNS ?? 256), seed: process.env.FUZZ_SEED ?? "0x5eed" },
      invariant: { runs: Number(process.env.INVARIANT_RUNS ?? 64), depth: Number(process.env.INVARIANT_DEPTH ?? 32) },
    },
  },
  // TypeChain (ethers v6) types, at the top level; packages/sdk/src/ethers/typechain links here and @pledge/sdk/ethers ships them.
  typechain: { outDir: "typechain-types" },
});
