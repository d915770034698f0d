import type { Address } from "viem";

const SUB_ID_BITS = 96n;
const SUB_ID_MASK = (1n << SUB_ID_BITS) - 1n;

/**
 * The account id of `owner`'s subaccount `subId`: `(owner << 96) | subId`, as
 * `AccountLib.accountId` packs it.
 *
 * @example
 * const account = accountId("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 1n);
 */
export function accountId(owner: Address, subId: bigint): bigint {
  if (subId < 0n || subId > SUB_ID_MASK) throw new RangeError(`subId out of range: ${subId}`);
  return (BigInt(owner) << SUB_ID_BITS) | subId;
}

/**
 * The owner encoded in an account id.
 *
 * @example
 * ownerOf(accountId(owner, 7n)) === owner.toLowerCase();
 */
export function ownerOf(account: bigint): Address {
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
}): bigint {
  return (
    (BigInt(series.underlyingIndex) << 169n) |
    (series.expiry << 129n) |
    (series.isCall ? 1n << 128n : 0n) |
    series.strikeWad
  );
}
