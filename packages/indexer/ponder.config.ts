import path from "node:path";

import { createConfig, factory } from "ponder";
import { getAbiItem, getContractAddress } from "viem";

import { readAddressBook } from "../sdk/src/addressBook.js";
import { indexedAbis } from "./lib/abis.js";
import { pgliteDir } from "./lib/chainMark.js";
import { settingsFromEnv } from "./lib/settings.js";

/**
 * The Pledge indexer's Ponder config, built from a deployment's address book: every core contract
 * of `PLEDGE_DEPLOYMENT` (plus the portfolio manager the engine deploys and each rate model the
 * vault is given) from its deployment block, on the chain at `PLEDGE_RPC_URL`. The database is
 * PGlite in `db/` of `PLEDGE_INDEXER_DIR` (default `.ponder/pglite`; its chain mark beside it,
 * `lib/chainMark.ts`), or PostgreSQL when `DATABASE_URL`
 * is set. `npm run indexer` (src/cli.ts) sets these from its flags.
 */
const settings = settingsFromEnv(process.env);
const book = await readAddressBook(settings.deployment, settings.chainId);
const startBlock = Number(book.deployedAtBlock);
const { contracts } = book;

export default createConfig({
  // PostgreSQL when DATABASE_URL (or DATABASE_PRIVATE_URL) is set, else PGlite in a directory of its own.
  ...(settings.databaseUrl === undefined
    ? { database: { kind: "pglite" as const, directory: pgliteDir(path.resolve(settings.dataDir)) } }
    : { database: { kind: "postgres" as const, connectionString: settings.databaseUrl } }),
  ordering: "multichain",
  chains: {
    pledge: {
      id: book.chainId,
      // Ponder rate-limits each endpoint it is given (20 requests/s at first, 5 % more only after
      // sustained full use): listing a local node `rpcLanes` times starts the limit that many times
      // higher (see "Lag" in docs/indexer.md).
      rpc: settings.rpcLanes === 1 ? settings.rpcUrl : Array<string>(settings.rpcLanes).fill(settings.rpcUrl),
      pollingInterval: settings.pollingMs,
      // A development chain is restarted under the same id: nothing of an older one may be reused.
      disableCache: settings.disableCache,
    },
  },
  contracts: {
    CollateralVault: {
      chain: "pledge",
      abi: indexedAbis.CollateralVault,
      address: contracts.CollateralVault,
      startBlock,
    },
    ChainlinkOracle: {
      chain: "pledge",
      abi: indexedAbis.ChainlinkOracle,
      address: contracts.ChainlinkOracle,
      startBlock,
    },
    MarginEngine: { chain: "pledge", abi: indexedAbis.MarginEngine, address: contracts.MarginEngine, startBlock },
    // The engine deploys its portfolio manager in its constructor: the engine's first creation (nonce 1).
    PortfolioManager: {
      chain: "pledge",
      abi: indexedAbis.PortfolioManager,
      address: getContractAddress({ from: contracts.MarginEngine, nonce: 1n }),
      startBlock,
    },
    OptionMarket: { chain: "pledge", abi: indexedAbis.OptionMarket, address: contracts.OptionMarket, startBlock },
    Liquidator: { chain: "pledge", abi: indexedAbis.Liquidator, address: contracts.Liquidator, startBlock },
    Backstop: { chain: "pledge", abi: indexedAbis.Backstop, address: contracts.Backstop, startBlock },
    InsuranceFund: { chain: "pledge", abi: indexedAbis.InsuranceFund, address: contracts.InsuranceFund, startBlock },
    // Each rate model the vault is given (`RateModelSet`), from then on.
    RateModel: {
      chain: "pledge",
      abi: indexedAbis.RateModel,
      address: factory({
        address: contracts.CollateralVault,
        event: getAbiItem({ abi: indexedAbis.CollateralVault, name: "RateModelSet" }),
        parameter: "model",
      }),
      startBlock,
    },
    // The signed volatility surfaces (issue 17), when the deployment has the oracle.
    ...(contracts.VolSurfaceOracle === undefined
      ? {}
      : {
          VolSurfaceOracle: {
            chain: "pledge" as const,
            abi: indexedAbis.VolSurfaceOracle,
            address: contracts.VolSurfaceOracle,
            startBlock,
          },
        }),
  },
});
