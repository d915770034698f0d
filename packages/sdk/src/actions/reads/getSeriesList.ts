import type { Address, GetLogsErrorType, ReadContractErrorType } from "viem";
import { getBlock, readContract } from "viem/actions";

import { type SeriesId, asSeriesId } from "../../accounts.js";
import { chainlinkOracleAbi, marginEngineAbi, optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { getPledgeEvents } from "../events/getPledgeEvents.js";

export interface GetSeriesListParameters {
  /** Only series on this underlying (the engine's index). */
  underlyingIndex?: number | undefined;
  /** Leave out series that have expired by the block read. */
  liveOnly?: boolean | undefined;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
  /** First block scanned for `SeriesCreated` (default: the address book's `deployedAtBlock`, else 0). */
  fromBlock?: bigint | undefined;
  /** Blocks per `eth_getLogs` request (see `getPledgeEvents`). */
  chunkSize?: bigint | undefined;
  market?: Address | undefined;
  engine?: Address | undefined;
  oracle?: Address | undefined;
  addressBook?: AddressBook | undefined;
}

/** One created series with its state at the block read. */
export interface SeriesInfo {
  seriesId: SeriesId;
  underlyingIndex: number;
  /** The underlying's token (the engine's registry entry). */
  underlying: Address;
  /** Unix seconds, 08:00 UTC of the expiry day. */
  expiry: bigint;
  isCall: boolean;
  strikeWad: bigint;
  /** The block of its `SeriesCreated` event. */
  createdAtBlock: bigint;
  /** The block's timestamp is at or past `expiry`: it no longer trades and can be settled once priced. */
  expired: boolean;
  /** A settlement price is posted for its underlying and expiry, so its positions can be settled. */
  settled: boolean;
  /** The posted settlement price, WAD USD, when `settled`. */
  settlementPriceWad: bigint | undefined;
  /** Σ of long balances, WAD contracts (positions not yet settled). */
  openInterest: bigint;
}

export type GetSeriesListReturnType = SeriesInfo[];

export type GetSeriesListErrorType = PledgeErrorType | GetLogsErrorType | ReadContractErrorType;

/**
 * Every series created on the market, in creation order, with its decoded parameters, whether it
 * has expired, its settlement price if one is posted, and its open interest. The market keeps no
 * list of series, so the list comes from its `SeriesCreated` events (`getPledgeEvents`, chunked);
 * the state is read at one block.
 *
 * @example
 * const series = await getSeriesList(publicClient, { addressBook, liveOnly: true });
 * for (const s of series) console.log(s.seriesId, s.isCall ? "call" : "put", s.strikeWad, formatTimestamp(s.expiry));
 */
export async function getSeriesList(
  client: ReadClient,
  params: GetSeriesListParameters = {},
): Promise<GetSeriesListReturnType> {
  const market = { address: contractAddress(params.market, params.addressBook, "OptionMarket"), abi: optionMarketAbi };
  const engine = { address: contractAddress(params.engine, params.addressBook, "MarginEngine"), abi: marginEngineAbi };
  const oracle = {
    address: contractAddress(params.oracle, params.addressBook, "ChainlinkOracle"),
    abi: chainlinkOracleAbi,
  };
  return pledgeRead(client, params.addressBook, async () => {
    const block = await getBlock(client, params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber });
    const at = { blockNumber: block.number };
    const created = await getPledgeEvents(client, {
      contract: "OptionMarket",
      eventName: "SeriesCreated",
      address: market.address,
      addressBook: params.addressBook,
      ...(params.underlyingIndex === undefined ? {} : { args: { underlyingIndex: params.underlyingIndex } }),
      ...(params.fromBlock === undefined ? {} : { fromBlock: params.fromBlock }),
      ...(params.chunkSize === undefined ? {} : { chunkSize: params.chunkSize }),
      toBlock: block.number,
    });
    const listed = created.filter((log) => !params.liveOnly || block.timestamp < log.args.expiry);

    // One registry read per underlying and one settlement read per (underlying, expiry).
    const underlyings = new Map<number, Promise<Address>>();
    const underlyingOf = (index: number) => {
      let asset = underlyings.get(index);
      if (!asset) {
        asset = readContract(client, { ...engine, functionName: "underlying", args: [index], ...at }).then(
          (u) => u.asset,
        );
        underlyings.set(index, asset);
      }
      return asset;
    };
    const prices = new Map<string, Promise<readonly [bigint, boolean]>>();
    const settlementOf = (index: number, expiry: bigint) => {
      const key = `${index}:${expiry}`;
      let price = prices.get(key);
      if (!price) {
        price = underlyingOf(index).then((asset) =>
          readContract(client, { ...oracle, functionName: "settlementPrice", args: [asset, expiry], ...at }),
        );
        prices.set(key, price);
      }
      return price;
    };

    return Promise.all(
      listed.map(async (log): Promise<SeriesInfo> => {
        const { seriesId, underlyingIndex, expiry, strikeWad, isCall } = log.args;
        const [underlying, [priceWad, posted], openInterest] = await Promise.all([
          underlyingOf(underlyingIndex),
          settlementOf(underlyingIndex, expiry),
          readContract(client, { ...market, functionName: "openInterest", args: [seriesId], ...at }),
        ]);
        return {
          seriesId: asSeriesId(seriesId),
          underlyingIndex,
          underlying,
          expiry,
          isCall,
          strikeWad,
          createdAtBlock: log.blockNumber,
          expired: block.timestamp >= expiry,
          settled: posted,
          settlementPriceWad: posted ? priceWad : undefined,
          openInterest,
        };
      }),
    );
  });
}
