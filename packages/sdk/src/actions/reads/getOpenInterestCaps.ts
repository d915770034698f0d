import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { decodeSeries } from "../../math/series.js";

export interface GetOpenInterestCapsParameters {
  /** The series a fill would trade; its underlying's caps apply. */
  seriesId: bigint;
  market?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

/** One open-interest cap, WAD contracts. */
export interface OpenInterestCap {
  /** The cap, or `undefined` when there is none (0 on chain). */
  cap: bigint | undefined;
  /** The open interest it bounds now. */
  openInterest: bigint;
  /** How much more it can take: cap − open interest (0 when at or above it), `undefined` with no cap. */
  room: bigint | undefined;
}

export interface GetOpenInterestCapsReturnType {
  underlyingIndex: number;
  /** The per-series cap of the underlying, applied to this series. */
  series: OpenInterestCap;
  /** The cap on the open interest summed over every series of the underlying not yet retired (`retireExpired`). */
  underlying: OpenInterestCap;
  /**
   * The most a fill may still raise this series' open interest by: the smaller room, `undefined`
   * when neither is capped. A fill that does not raise open interest (one side closing) is never
   * held to it.
   */
  room: bigint | undefined;
}

export type GetOpenInterestCapsErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * The open-interest caps a fill of `seriesId` meets (`OptionMarket.openInterestCaps` of its
 * underlying, 0 on chain meaning no cap) with the open interest each bounds and the room left:
 * the largest size a fill that opens on both sides can take before it reverts with
 * `MarketSeriesOpenInterestCap` or `MarketUnderlyingOpenInterestCap`. One round of parallel reads.
 *
 * @example
 * const { room, series, underlying } = await getOpenInterestCaps(publicClient, { addressBook, seriesId });
 * room === undefined; // no cap by default
 * series.openInterest === WAD / 2n; // the taker bought half a call
 * underlying.openInterest >= series.openInterest; // true
 */
export async function getOpenInterestCaps(
  client: ReadClient,
  params: GetOpenInterestCapsParameters,
): Promise<GetOpenInterestCapsReturnType> {
  const market = { address: contractAddress(params.market, params.addressBook, "OptionMarket"), abi: optionMarketAbi };
  const at = params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber };
  const { underlyingIndex } = decodeSeries(params.seriesId);
  return pledgeRead(client, params.addressBook, async () => {
    const [[seriesCap, underlyingCap], seriesOpenInterest, underlyingOpenInterest] = await Promise.all([
      readContract(client, { ...market, functionName: "openInterestCaps", args: [underlyingIndex], ...at }),
      readContract(client, { ...market, functionName: "openInterest", args: [params.seriesId], ...at }),
      readContract(client, { ...market, functionName: "underlyingOpenInterest", args: [underlyingIndex], ...at }),
    ]);
    const series = openInterestCap(seriesCap, seriesOpenInterest);
    const underlying = openInterestCap(underlyingCap, underlyingOpenInterest);
    const rooms = [series.room, underlying.room].filter((r): r is bigint => r !== undefined);
    const room = rooms.length === 0 ? undefined : rooms.reduce((a, b) => (a < b ? a : b));
    return { underlyingIndex, series, underlying, room };
  });
}

function openInterestCap(cap: bigint, openInterest: bigint): OpenInterestCap {
  if (cap === 0n) return { cap: undefined, openInterest, room: undefined };
  return { cap, openInterest, room: cap > openInterest ? cap - openInterest : 0n };
}
