/** A European, cash-settled option series, as `SeriesLib.Series`. */
export interface Series {
  underlyingIndex: number;
  expiry: bigint;
  isCall: boolean;
  strikeWad: bigint;
}

const MASK_128 = (1n << 128n) - 1n;
const MASK_40 = (1n << 40n) - 1n;
const MASK_16 = (1n << 16n) - 1n;

/**
 * The fields packed in a series id, as `SeriesLib.decode` unpacks them.
 *
 * @example
 * const { underlyingIndex, expiry, isCall, strikeWad } = decodeSeries(seriesId);
 */
export function decodeSeries(seriesId: bigint): Series {
  return {
    underlyingIndex: Number((seriesId >> 169n) & MASK_16),
    expiry: (seriesId >> 129n) & MASK_40,
    isCall: ((seriesId >> 128n) & 1n) === 1n,
    strikeWad: seriesId & MASK_128,
  };
}

/** Series expire at 08:00 UTC (`OptionMarket.EXPIRY_TIME_OF_DAY`), as Deribit's do. */
export const EXPIRY_TIME_OF_DAY = 8n * 3_600n;

/**
 * The expiry `days` whole days after the day of `nowSeconds`, at 08:00 UTC: the only time of
 * day `createSeries` accepts (and at most 365 days ahead, `MAX_EXPIRY_HORIZON`).
 *
 * @example
 * expiryAfter(1_767_225_600n, 30) === 1_769_846_400n; // 2026-01-01 → 2026-01-31T08:00:00Z
 */
export function expiryAfter(nowSeconds: bigint, days: number): bigint {
  const DAY = 86_400n;
  return (nowSeconds / DAY + BigInt(days)) * DAY + EXPIRY_TIME_OF_DAY;
}
