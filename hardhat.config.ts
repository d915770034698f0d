import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
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

export default defineConfig({
  plugins: [hardhatToolboxViem, hardhatEthers, hardhatTypechain],
  solidity: {
    // Hardhat 3 emits artifacts only for local sources and the npm files listed here; importing an
    // npm contract from a local file does not give it an artifact. Chainlink's own mock feed is used
    // by TypeScript tests and local deployments; its phase-aware proxy by the settlement tests.
    npmFilesToBuild: [
      "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol",
      "@chainlink/contracts/src/v0.8/data-feeds/test/helpers/DataFeedsLegacyAggregatorProxy.sol",
    ],
    profiles: {
      default: { compilers },
      production: { compilers },
    },
  },
  paths: { tests: { solidity: "test", nodejs: "test" } },
  test: {
    solidity: {
      fuzz: { runs: Number(process.env.FUZZ_RUNS ?? 256), seed: "0x5eed" },
      invariant: { runs: Number(process.env.INVARIANT_RUNS ?? 64), depth: Number(process.env.INVARIANT_DEPTH ?? 32) },
    },
  },
  // TypeChain (ethers v6) types, at the top level; packages/sdk/src/ethers/typechain links here and @pledge/sdk/ethers ships them.
  typechain: { outDir: "typechain-types" },
});
