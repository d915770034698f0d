import { intrinsic } from "./marginMath.js";
import { decodeSeries } from "./series.js";

/**
 * The cash an account receives (> 0) or pays (< 0) when its position settles, as
 * `OptionMarket._settle`: longs rounded down, shorts rounded up, in cash-token units.
 *
 * @example
 * settlementPayoff(seriesId, -2n * 10n ** 18n, 3_250n * 10n ** 18n, 6); // -500_000_000n for a 3000 call
 */
export function settlementPayoff(seriesId: bigint, balance: bigint, priceWad: bigint, cashDecimals: number): bigint {
  const { isCall, strikeWad } = decodeSeries(seriesId);
  const value = intrinsic(isCall, priceWad, strikeWad);
  const size = balance < 0n ? -balance : balance;
  const divisor = 10n ** 18n * 10n ** BigInt(Math.max(0, 18 - cashDecimals));
  const multiplier = 10n ** BigInt(Math.max(0, cashDecimals - 18));
  const product = size * value;
  const cash = (balance > 0n ? product / divisor : (product + divisor - 1n) / divisor) * multiplier;
  return balance > 0n ? cash : -cash;
}
