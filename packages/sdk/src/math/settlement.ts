import { intrinsic } from "./marginMath.js";
import { decodeSeries } from "./series.js";

/**
 * The cash an account receives (> 0) or pays (< 0) when its position settles, as
 * `OptionMarket._settle`: longs rounded down, shorts rounded up, in cash-token units.
 *
 * @example
 * import { seriesId as packSeriesId } from "@pledge/sdk";
 *
 * const call3000 = packSeriesId({ underlyingIndex: 1, expiry, isCall: true, strikeWad: 3_000n * WAD });
 * // Two short 3000 calls settled at 3,250 pay 2 × 250 USDC (6 decimals).
 * settlementPayoff(call3000, -2n * 10n ** 18n, 3_250n * 10n ** 18n, 6); // -500_000_000n
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
