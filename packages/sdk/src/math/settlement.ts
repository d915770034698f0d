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

const MAX_UINT256 = (1n << 256n) - 1n;

/**
 * A Chainlink answer in WAD as `ChainlinkOracle._scaled` scales it, or 0 when it is no price: an
 * answer of zero or less, one that vanishes below 1 wei once scaled (a feed with more than 18
 * decimals), or one past uint256 once scaled. The oracle refuses a first round after expiry that
 * is no price, and from `expiry + settlementFallbackWait` on settles at the next round after it that
 * answers one (`findFallbackRound`).
 *
 * @example
 * feedAnswerToWad(3_100n * 10n ** 8n, 8); // 3_100n * 10n ** 18n
 * feedAnswerToWad(999_999n, 24); // 0n: below 1 wei of WAD
 * feedAnswerToWad(0n, 8); // 0n
 */
export function feedAnswerToWad(answer: bigint, decimals: number): bigint {
  if (answer <= 0n) return 0n;
  if (decimals > 18) return answer / 10n ** BigInt(decimals - 18);
  const scale = 10n ** BigInt(18 - decimals);
  return answer > MAX_UINT256 / scale ? 0n : answer * scale;
}
