/**
 * Greeks of an account's positions and of the account, from the same inputs as its margin
 * (`getMarginInputs`): per contract from `./blackScholes.ts` (delta and vega as the contracts
 * compute them; gamma and theta the SDK's own), times the position's signed size. Nothing here
 * has an on-chain counterpart: the engine margins on marks, not Greeks.
 */
import { callDelta, gamma, putDelta, theta, vega } from "./blackScholes.js";
import { type MarginInputs, markAndSpot } from "./engine.js";
import { decodeSeries } from "./series.js";

const WAD = 10n ** 18n;

/** One position's Greeks: per-contract Greek × contracts (WAD, signed), cut toward zero. */
export interface Greeks {
  /** Underlying units per contract position (a call's delta × size). */
  delta: bigint;
  /** Delta per 1 unit (USD) of spot. */
  gamma: bigint;
  /** USD per 1.00 of volatility (divide by 100 for a vol point). */
  vega: bigint;
  /** USD per day (negative for a long option). */
  theta: bigint;
}

/** A position's size, mark, value and Greeks. */
export interface PositionGreeks {
  seriesId: bigint;
  underlyingIndex: number;
  /** Contracts, WAD, signed. */
  balance: bigint;
  /** `markAndSpot`'s mark of one contract; 0 when the underlying is not in the inputs. */
  markWad: bigint;
  /** balance × mark, WAD (USD), cut toward zero. */
  valueWad: bigint;
  /** Undefined once expired (or without a spot): an expired position has no Greeks. */
  greeks: Greeks | undefined;
}

/** An account's Greeks: delta and gamma per underlying (they do not add across underlyings), the rest in USD. */
export interface AccountGreeks {
  /** Sum of the positions' delta and gamma, by underlying index. */
  byUnderlying: Map<number, { delta: bigint; gamma: bigint }>;
  /** Sum of the positions' values, WAD (USD). */
  valueWad: bigint;
  /** Sum of the positions' vega, WAD (USD per 1.00 of vol). */
  vega: bigint;
  /** Sum of the positions' theta, WAD (USD per day). */
  theta: bigint;
}

const times = (balance: bigint, perContract: bigint) => (balance * perContract) / WAD;

/**
 * Each position's mark, value and Greeks at `inputs.timestamp`, in the inputs' order. Mark is
 * `markAndSpot`'s; delta (`callDelta`/`putDelta`), gamma, vega and theta are per contract at the
 * underlying's spot and vol, times the signed size.
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account: taker });
 * const [position] = positionGreeks(inputs);
 * const { spotWad, volWad } = inputs.underlyings.get(position.underlyingIndex);
 * const { strikeWad, expiry } = decodeSeries(position.seriesId);
 * position.greeks.gamma === (position.balance * gamma(spotWad, strikeWad, expiry - inputs.timestamp, volWad)) / 10n ** 18n;
 */
export function positionGreeks(inputs: MarginInputs): PositionGreeks[] {
  return inputs.positions.map(({ seriesId, balance }) => {
    const { underlyingIndex, expiry, isCall, strikeWad } = decodeSeries(seriesId);
    const underlying = inputs.underlyings.get(underlyingIndex);
    const base = { seriesId, underlyingIndex, balance };
    if (!underlying) return { ...base, markWad: 0n, valueWad: 0n, greeks: undefined };
    const { markWad } = markAndSpot(seriesId, underlying, inputs.timestamp, balance > 0n);
    const valueWad = times(balance, markWad);
    const left = expiry - inputs.timestamp;
    const { spotWad, volWad } = underlying;
    if (left <= 0n || spotWad === 0n) return { ...base, markWad, valueWad, greeks: undefined };
    const delta = isCall ? callDelta : putDelta;
    return {
      ...base,
      markWad,
      valueWad,
      greeks: {
        delta: times(balance, delta(spotWad, strikeWad, left, volWad)),
        gamma: times(balance, gamma(spotWad, strikeWad, left, volWad)),
        vega: times(balance, vega(spotWad, strikeWad, left, volWad)),
        theta: times(balance, theta(spotWad, strikeWad, left, volWad)),
      },
    };
  });
}

/**
 * The account's Greeks: the sums of `positionGreeks` — delta and gamma per underlying, value,
 * vega and theta in USD over the account. Pass `positionGreeks(inputs)` as `positions` to reuse it.
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account: taker });
 * const total = accountGreeks(inputs);
 * total.theta < 0n; // the taker is long a call: time costs it
 * total.byUnderlying.get(decodeSeries(seriesId).underlyingIndex).delta > 0n;
 */
export function accountGreeks(inputs: MarginInputs, positions = positionGreeks(inputs)): AccountGreeks {
  const total: AccountGreeks = { byUnderlying: new Map(), valueWad: 0n, vega: 0n, theta: 0n };
  for (const p of positions) {
    total.valueWad += p.valueWad;
    if (!p.greeks) continue;
    total.vega += p.greeks.vega;
    total.theta += p.greeks.theta;
    const sum = total.byUnderlying.get(p.underlyingIndex) ?? { delta: 0n, gamma: 0n };
    total.byUnderlying.set(p.underlyingIndex, {
      delta: sum.delta + p.greeks.delta,
      gamma: sum.gamma + p.greeks.gamma,
    });
  }
  return total;
}
