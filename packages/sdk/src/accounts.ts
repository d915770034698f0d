import type { Address } from "viem";

/**
 * An account id, `(owner << 96) | subId`: the SDK twin of the contracts' `AccountId` value
 * type. A branded `bigint`, so an account cannot be passed where a series id or an amount is
 * expected; it goes to viem and to the chain as the plain `uint256` it is. Get one from
 * `accountId(owner, subId)`, or `asAccountId(value)` for a value read from elsewhere.
 */
export type AccountId = bigint & { readonly __brand: "AccountId" };

/**
 * A series id, the series' parameters packed in one word: the SDK twin of the contracts'
 * `SeriesId` value type. A branded `bigint`; get one from `seriesId(series)`, or
 * `asSeriesId(value)` for a value read from elsewhere (an event, a position list).
 */
export type SeriesId = bigint & { readonly __brand: "SeriesId" };

/**
 * Brands a `bigint` read from elsewhere (a chain read, an event, a config file) as an account id.
 * Throws if it is not a `uint256`.
 *
 * @example
 * asAccountId(maker) === maker; // true: an id read as a bare uint256 (an event's `account`), typed again
 */
export function asAccountId(value: bigint): AccountId {
  if (value < 0n || value >> 256n !== 0n) throw new RangeError(`account id out of range: ${value}`);
  return value as AccountId;
}

/**
 * Brands a `bigint` read from elsewhere (a chain read, an event, a config file) as a series id.
 * Throws if it is not a `uint256`.
 *
 * @example
 * const [ids] = await publicClient.readContract({
 *   address: addressBook.contracts.OptionMarket,
 *   abi: optionMarketAbi,
 *   functionName: "positionsOf",
 *   args: [account],
 * });
 * ids.map(asSeriesId).includes(seriesId); // true
 */
export function asSeriesId(value: bigint): SeriesId {
  if (value < 0n || value >> 256n !== 0n) throw new RangeError(`series id out of range: ${value}`);
  return value as SeriesId;
}

const SUB_ID_BITS = 96n;
const SUB_ID_MASK = (1n << SUB_ID_BITS) - 1n;

/**
 * The account id of `owner`'s subaccount `subId`: `(owner << 96) | subId`, as
 * `AccountLib.accountId` packs it.
 *
 * @example
 * const account = accountId("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 1n);
 */
export function accountId(owner: Address, subId: bigint): AccountId {
  if (subId < 0n || subId > SUB_ID_MASK) throw new RangeError(`subId out of range: ${subId}`);
  return asAccountId((BigInt(owner) << SUB_ID_BITS) | subId);
}

/**
 * The owner encoded in an account id.
 *
 * @example
 * ownerOf(accountId("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 7n)); // "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
 */
export function ownerOf(account: AccountId): Address {
  return `0x${(account >> SUB_ID_BITS).toString(16).padStart(40, "0")}`;
}

/**
 * The packed series id, as `SeriesLib.id` packs it.
 *
 * @example
 * const id = seriesId({ underlyingIndex: 1, expiry: 1769846400n, isCall: true, strikeWad: 3200n * 10n ** 18n });
 */
export function seriesId(series: {
  underlyingIndex: number;
  expiry: bigint;
  isCall: boolean;
  strikeWad: bigint;
}): SeriesId {
  return asSeriesId(
    (BigInt(series.underlyingIndex) << 169n) |
      (series.expiry << 129n) |
      (series.isCall ? 1n << 128n : 0n) |
      series.strikeWad,
  );
}
