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
import { type SeriesId, asSeriesId } from "../../accounts.js";

export interface CreateSeriesParameters extends WriteParameters {
  series: {
    /** The engine's index of the underlying (1-based, as `listUnderlying` returned it). */
    underlyingIndex: number;
    /** Unix seconds. */
    expiry: bigint;
    isCall: boolean;
    strikeWad: bigint;
  };
  market?: Address | undefined;
}

/** `result` is the packed series id (equal to `seriesId(series)`). */
export type CreateSeriesReturnType = WriteReturnType<SeriesId>;

export type CreateSeriesErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Lists an option series (permissionless within the market's rules) and returns its id. The
 * rules: a listed underlying, an expiry at 08:00 UTC within 365 days, and a strike from a tenth of
 * the underlying's spot (`MarketStrikeBelowBand`) up to 10^12 USD; the market reads the spot, so
 * without a valid price (stale feed, sequencer down) the oracle's error refuses the series.
 *
 * @example
 * const { result: id } = await createSeries(walletClient, {
 *   publicClient,
 *   addressBook,
 *   series: { underlyingIndex: 1, expiry, isCall: true, strikeWad: 3_200n * 10n ** 18n }, // a WETH call
 * });
 */
export async function createSeries(
  client: SignerClient,
  params: CreateSeriesParameters,
): Promise<CreateSeriesReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  const { underlyingIndex, expiry, isCall, strikeWad } = params.series;
  const sent = await sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "createSeries",
      args: [{ underlyingIndex, expiry: Number(expiry), isCall, strikeWad }],
    }),
  );
  return { ...sent, result: asSeriesId(sent.result) };
}
