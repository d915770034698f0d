/**
 * Implied vol from an option price by bisection on the SDK's Black–Scholes (the chain's own
 * pricing, r = 0, forward = spot): a price quote turns into the vol the oracle's marks would need
 * to reproduce it.
 */
import { callPrice, putPrice } from "@pledge/sdk";

const WAD = 10n ** 18n;
/** Bisection bounds: 0.01 % and 1,000 % vol. */
const VOL_LOW = 10n ** 14n;
const VOL_HIGH = 10n * WAD;

/** What a price says about vol: a vol, or that it is outside what any vol in [0.01 %, 1,000 %] gives. */
export type ImpliedVol = { volWad: bigint } | { below: true } | { above: true };

/**
 * The vol at which Black–Scholes gives `priceWad`, to within 1e-12 (WAD, rounded down), or where
 * the price falls outside the prices of the bisection range.
 *
 * @example
 * impliedVolWad(true, 2000n * 10n ** 18n, 2000n * 10n ** 18n, 30n * 86400n, 180n * 10n ** 18n);
 */
export function impliedVolWad(
  isCall: boolean,
  spotWad: bigint,
  strikeWad: bigint,
  secondsToExpiry: bigint,
  priceWad: bigint,
): ImpliedVol {
  const price = (vol: bigint) =>
    isCall ? callPrice(spotWad, strikeWad, secondsToExpiry, vol) : putPrice(spotWad, strikeWad, secondsToExpiry, vol);
  if (priceWad < price(VOL_LOW)) return { below: true };
  if (priceWad > price(VOL_HIGH)) return { above: true };
  let low = VOL_LOW;
  let high = VOL_HIGH;
  while (high - low > 10n ** 6n) {
    const mid = (low + high) / 2n;
    if (price(mid) < priceWad) low = mid;
    else high = mid;
  }
  return { volWad: low };
}
