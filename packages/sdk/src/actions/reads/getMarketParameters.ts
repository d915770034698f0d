import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import {
  collateralVaultAbi,
  marginEngineAbi,
  optionMarketAbi,
  portfolioManagerAbi,
  volSurfaceOracleAbi,
} from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { orOnRevert } from "../../internal/reverts.js";
import type { ConcentrationParams, PortfolioParams, RiskParams } from "../../math/engine.js";

export interface GetMarketParametersParameters {
  vault?: Address | undefined;
  engine?: Address | undefined;
  /** The market whose open-interest caps to read (default: the address book's; neither: left out). */
  market?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

/** One listed collateral asset, as the vault's `assetConfig` reports it. */
export interface ListedCollateral {
  asset: Address;
  decimals: number;
  initialHaircutWad: bigint;
  maintenanceHaircutWad: bigint;
  delisted: boolean;
  /** The engine's index of the underlying this asset is, if it is one. */
  underlyingIndex?: number | undefined;
}

/**
 * One listed underlying, as the engine's `underlying` and `portfolioParams`, the portfolio
 * manager's `concentrationParams` and the market's `openInterestCaps` report it.
 */
export interface ListedUnderlying {
  asset: Address;
  params: RiskParams;
  /** Absent when the engine has no portfolio grid for it (the read reverted). */
  portfolio?: PortfolioParams | undefined;
  /** The concentration add-on's parameters (`kappaWad` 0: off); always read, optional for hand-built values. */
  concentration?: ConcentrationParams | undefined;
  /** Open-interest caps, WAD contracts, 0 meaning no cap; read whenever the market's address is known. */
  openInterestCaps?: { seriesCap: bigint; underlyingCap: bigint } | undefined;
  /**
   * Whether its live series mark on the engine's vol surface: the engine has a surface oracle and
   * that oracle lists the asset (`docs/vol-surface.md`, "Marks and margin"). Absent: false.
   */
  onVolSurface?: boolean | undefined;
}

export interface GetMarketParametersReturnType {
  /** Every listed collateral asset, in the vault's `collateralAssets` order. */
  collateral: ListedCollateral[];
  /** Every listed underlying by engine index (1-based); an index whose read reverts is left out. */
  underlyings: Map<number, ListedUnderlying>;
}

export type GetMarketParametersErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * The market-wide parameters that rarely change: the vault's collateral list with each asset's
 * decimals and haircuts, and the engine's underlyings (at most 32) with their risk, portfolio and
 * concentration parameters, open-interest caps and whether they mark on the engine's vol surface.
 * Three rounds of parallel reads (the third asks the surface oracle whether it lists each
 * underlying); a client created with `batch: { multicall: true }` folds each round into one call.
 *
 * @example
 * const { collateral, underlyings } = await getMarketParameters(publicClient, { addressBook });
 * for (const [index, { asset, params }] of underlyings) console.log(index, asset, params.aIM);
 */
export async function getMarketParameters(
  client: ReadClient,
  params: GetMarketParametersParameters,
): Promise<GetMarketParametersReturnType> {
  const vault = {
    address: contractAddress(params.vault, params.addressBook, "CollateralVault"),
    abi: collateralVaultAbi,
  };
  const engine = { address: contractAddress(params.engine, params.addressBook, "MarginEngine"), abi: marginEngineAbi };
  const marketAddress = params.market ?? params.addressBook?.contracts.OptionMarket;
  const at = params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber };
  return pledgeRead(client, params.addressBook, async () => {
    const [assets, count, portfolioManager, volSurface] = await Promise.all([
      readContract(client, { ...vault, functionName: "collateralAssets", ...at }),
      readContract(client, { ...engine, functionName: "underlyingCount", ...at }),
      readContract(client, { ...engine, functionName: "portfolioManager", ...at }),
      readContract(client, { ...engine, functionName: "volSurface", ...at }),
    ]);
    const manager = { address: portfolioManager, abi: portfolioManagerAbi };
    const indices = Array.from({ length: count }, (_, i) => i + 1);
    const [configs, listed] = await Promise.all([
      Promise.all(
        assets.map((asset) => readContract(client, { ...vault, functionName: "assetConfig", args: [asset], ...at })),
      ),
      Promise.all(
        indices.map(async (index): Promise<[number, ListedUnderlying | undefined]> => {
          const [underlying, portfolio, concentration, caps] = await Promise.all([
            orOnRevert(
              readContract(client, { ...engine, functionName: "underlying", args: [index], ...at }),
              undefined,
            ),
            orOnRevert(
              readContract(client, { ...engine, functionName: "portfolioParams", args: [index], ...at }),
              undefined,
            ),
            readContract(client, { ...manager, functionName: "concentrationParams", args: [index], ...at }),
            marketAddress === undefined
              ? undefined
              : readContract(client, {
                  address: marketAddress,
                  abi: optionMarketAbi,
                  functionName: "openInterestCaps",
                  args: [index],
                  ...at,
                }),
          ]);
          if (underlying === undefined) return [index, undefined];
          const { asset, params: risk } = underlying;
          const onVolSurface =
            BigInt(volSurface) !== 0n &&
            (await readContract(client, {
              address: volSurface,
              abi: volSurfaceOracleAbi,
              functionName: "isListed",
              args: [asset],
              ...at,
            }));
          return [
            index,
            {
              asset,
              params: risk,
              ...(portfolio === undefined ? {} : { portfolio }),
              concentration,
              ...(caps === undefined ? {} : { openInterestCaps: { seriesCap: caps[0], underlyingCap: caps[1] } }),
              ...(onVolSurface ? { onVolSurface } : {}),
            },
          ];
        }),
      ),
    ]);
    const underlyings = new Map<number, ListedUnderlying>();
    for (const [index, underlying] of listed) if (underlying !== undefined) underlyings.set(index, underlying);
    const indexOf = (asset: Address) =>
      [...underlyings].find(([, u]) => u.asset.toLowerCase() === asset.toLowerCase())?.[0];
    const collateral = assets.map((asset, i): ListedCollateral => {
      const { decimals, initialHaircutWad, maintenanceHaircutWad, delisted } = configs[i]!;
      const underlyingIndex = indexOf(asset);
      return {
        asset,
        decimals,
        initialHaircutWad,
        maintenanceHaircutWad,
        delisted,
        ...(underlyingIndex === undefined ? {} : { underlyingIndex }),
      };
    });
    return { collateral, underlyings };
  });
}
