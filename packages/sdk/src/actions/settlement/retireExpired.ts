import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { optionMarketAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { SeriesId } from "../../accounts.js";

export interface RetireExpiredParameters extends WriteParameters {
  /** Expired series not yet retired (`seriesRetired`); any other id reverts the whole call. */
  seriesIds: readonly SeriesId[];
  market?: Address | undefined;
}

export type RetireExpiredReturnType = WriteReturnType<void>;

export type RetireExpiredErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Takes expired series out of their underlying's open interest, so the longs still waiting for
 * settlement stop holding room under the underlying's open-interest cap (permissionless; no
 * settlement price needed). Reverts with `MarketSeriesNotExpired` or `MarketSeriesAlreadyRetired`.
 *
 * @example
 * await retireExpired(keeperWallet, { publicClient, addressBook, seriesIds: [seriesId] });
 */
export async function retireExpired(
  client: SignerClient,
  params: RetireExpiredParameters,
): Promise<RetireExpiredReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "retireExpired",
      args: [params.seriesIds],
    }),
  );
}
