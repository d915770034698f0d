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
