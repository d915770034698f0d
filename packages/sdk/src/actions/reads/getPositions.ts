import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { type AccountId, type SeriesId, asSeriesId } from "../../accounts.js";

export interface GetPositionsParameters {
  account: AccountId;
  market?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

/** Open positions: `balance` in WAD contracts, > 0 long, < 0 short. */
export type GetPositionsReturnType = { seriesId: SeriesId; balance: bigint }[];

export type GetPositionsErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * The open positions of `account`.
 *
 * @example
 * for (const { seriesId, balance } of await getPositions(publicClient, { addressBook, account })) console.log(seriesId, balance);
 */
export async function getPositions(
  client: ReadClient,
  params: GetPositionsParameters,
): Promise<GetPositionsReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return pledgeRead(client, params.addressBook, async () => {
    const [seriesIds, balances] = await readContract(client, {
      address,
      abi: optionMarketAbi,
      functionName: "positionsOf",
      args: [params.account],
      ...(params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber }),
    });
    return seriesIds.map((seriesId, i) => ({ seriesId: asSeriesId(seriesId), balance: balances[i]! }));
  });
}
