import {
  backstopAbi,
  chainlinkOracleAbi,
  collateralVaultAbi,
  insuranceFundAbi,
  kinkRateModelAbi,
  liquidatorAbi,
  marginEngineAbi,
  optionMarketAbi,
  portfolioManagerAbi,
  volSurfaceOracleAbi,
} from "../../sdk/src/abis/index.js";

/** The ABI of each contract the indexer reads, by its name in the Ponder config. */
export const indexedAbis = {
  CollateralVault: collateralVaultAbi,
  ChainlinkOracle: chainlinkOracleAbi,
  MarginEngine: marginEngineAbi,
  PortfolioManager: portfolioManagerAbi,
  OptionMarket: optionMarketAbi,
  Liquidator: liquidatorAbi,
  Backstop: backstopAbi,
  InsuranceFund: insuranceFundAbi,
  RateModel: kinkRateModelAbi,
  // Only when the deployment has one (`contracts.VolSurfaceOracle`, issue 17): ponder.config.ts
  // leaves it out otherwise, and src/index.ts registers only the configured contracts.
  VolSurfaceOracle: volSurfaceOracleAbi,
} as const;

/** A contract name in the Ponder config. */
export type IndexedContract = keyof typeof indexedAbis;

/** Every event the indexer records, as `Contract:Event` (the log table's source). */
export const indexedEvents: readonly { contract: IndexedContract; event: string }[] = Object.entries(
  indexedAbis,
).flatMap(([contract, abi]) =>
  (abi as readonly { type: string; name?: string }[])
    .filter((item) => item.type === "event")
    .map((item) => ({ contract: contract as IndexedContract, event: item.name! })),
);
