import type { ContractEventName } from "viem";

import {
  backstopAbi,
  chainlinkOracleAbi,
  collateralVaultAbi,
  insuranceFundAbi,
  liquidatorAbi,
  marginEngineAbi,
  optionMarketAbi,
  volSurfaceOracleAbi,
} from "./abis/index.js";
import type { PledgeContractName } from "./addressBook.js";

/**
 * The ABI of each Pledge core contract, keyed by its name in the address book. The portfolio
 * manager is deployed by the engine and is not in the address book (`engine.portfolioManager()`
 * finds it), so it has no entry; its only event, `ConcentrationParamsSet`, is governance, read
 * with `portfolioManagerAbi`.
 *
 * @example
 * const abi = pledgeAbis.OptionMarket;
 * abi.filter((item) => item.type === "event").length > 0; // true
 */
export const pledgeAbis = {
  CollateralVault: collateralVaultAbi,
  ChainlinkOracle: chainlinkOracleAbi,
  MarginEngine: marginEngineAbi,
  OptionMarket: optionMarketAbi,
  Liquidator: liquidatorAbi,
  Backstop: backstopAbi,
  InsuranceFund: insuranceFundAbi,
  VolSurfaceOracle: volSurfaceOracleAbi,
} as const satisfies Record<PledgeContractName, unknown>;

/** The `as const` ABI of the contract `contract`. */
export type PledgeAbi<contract extends PledgeContractName> = (typeof pledgeAbis)[contract];

/** The name of an event the contract `contract` can emit. */
export type PledgeEventName<contract extends PledgeContractName> = ContractEventName<PledgeAbi<contract>>;

/**
 * Every event name of every Pledge core contract, read from the ABIs.
 *
 * @example
 * pledgeEventNames("OptionMarket").includes("OrderFilled"); // true
 */
export function pledgeEventNames<contract extends PledgeContractName>(contract: contract): PledgeEventName<contract>[] {
  const abi: readonly { type: string; name?: string }[] = pledgeAbis[contract];
  return abi.filter((item) => item.type === "event").map((item) => item.name as PledgeEventName<contract>);
}
