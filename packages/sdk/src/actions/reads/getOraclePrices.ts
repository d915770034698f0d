import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { chainlinkOracleAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { orOnRevert } from "../../internal/reverts.js";

export interface GetOraclePricesParameters {
  /** Assets whose spot to read. */
  spot: readonly Address[];
  /** Assets whose implied vol to read. Default: none. */
  vol?: readonly Address[] | undefined;
  oracle?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest), so every price is of the same block. */
  blockNumber?: bigint | undefined;
}

export interface GetOraclePricesReturnType {
  /** Spot by asset, WAD USD; 0n where the oracle refused (a stale feed, a price out of bounds), as the engine counts it. */
  spotWad: Map<Address, bigint>;
  /** Annualised implied vol by asset, WAD; 0n where the oracle refused. */
  volWad: Map<Address, bigint>;
}

export type GetOraclePricesErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Spot and vol of many assets from the oracle, in parallel reads; a client created with
 * `batch: { multicall: true }` folds them into one call. A price the oracle refuses reads as
 * 0n; transport errors throw.
 *
 * @example
 * const { spotWad } = await getOraclePrices(publicClient, { addressBook, spot: [weth, wbtc] });
 * console.log(spotWad.get(weth));
 */
export async function getOraclePrices(
  client: ReadClient,
  params: GetOraclePricesParameters,
): Promise<GetOraclePricesReturnType> {
  const oracle = {
    address: contractAddress(params.oracle, params.addressBook, "ChainlinkOracle"),
    abi: chainlinkOracleAbi,
  } as const;
  const at = params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber };
  return pledgeRead(client, params.addressBook, async () => {
    const read = (functionName: "spot" | "vol", assets: readonly Address[]) =>
      Promise.all(
        assets.map(async (asset): Promise<[Address, bigint]> => [
          asset,
          await orOnRevert(readContract(client, { ...oracle, functionName, args: [asset], ...at }), 0n),
        ]),
      );
    const [spot, vol] = await Promise.all([read("spot", params.spot), read("vol", params.vol ?? [])]);
    return { spotWad: new Map(spot), volWad: new Map(vol) };
  });
}
