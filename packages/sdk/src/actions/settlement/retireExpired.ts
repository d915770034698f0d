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
  /**
   * Expired series. Ids already retired (`seriesRetired`) or with no open interest are skipped on
   * chain; an unknown or unexpired id reverts the whole call.
   */
  seriesIds: readonly SeriesId[];
  market?: Address | undefined;
}

/** `result` is the number of series retired (skipped ids not counted). */
export type RetireExpiredReturnType = WriteReturnType<bigint>;

export type RetireExpiredErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Takes expired series out of their underlying's open interest, so the longs still waiting for
 * settlement stop holding room under the underlying's open-interest cap (permissionless; no
 * settlement price needed). Skips series already retired or with no open interest, so a batch
 * survives one of its ids being retired first; reverts with `MarketSeriesNotFound` or
 * `MarketSeriesNotExpired`.
 *
 * @example
 * const { result: retired } = await retireExpired(keeperWallet, { publicClient, addressBook, seriesIds: [seriesId] });
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
