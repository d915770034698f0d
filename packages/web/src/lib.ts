import {
  type AddressBook,
  type MarginInputs,
  PledgeBaseError,
  WAD,
  callDelta,
  callPrice,
  decodePledgeError,
  decodeSeries,
  markAndSpot,
  putDelta,
  putPrice,
  vega,
} from "@pledge/sdk";
import { type Address, BaseError, formatUnits, parseUnits } from "viem";

/**
 * What the user reads when an action fails: a Pledge revert as the SDK's sentence (tokens named,
 * amounts in units), another SDK error's short message, a wallet's or node's short message;
 * never a raw error or a stack.
 */
export function errorSentence(error: unknown, addressBook: AddressBook): string {
  const pledge = decodePledgeError(error, { addressBook });
  if (pledge) return pledge.message;
  if (error instanceof PledgeBaseError) return error.shortMessage;
  if (error instanceof BaseError) return error.shortMessage;
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

/** A token of the address book: the cash asset or a collateral. */
export interface Token {
  address: Address;
  symbol: string;
  decimals: number;
}

/** The cash token first, then the collateral in the vault's order. */
export function tokensOf(book: AddressBook): Token[] {
  return [book.cash, ...book.collateral].map(({ address, symbol, decimals }) => ({ address, symbol, decimals }));
}

/** An amount typed by the user in `token`'s units, or an error sentence. */
export function parseAmount(text: string, token: Token): bigint | string {
  const trimmed = text.trim().replaceAll(",", "");
  if (!/^\d*\.?\d*$/.test(trimmed) || trimmed === "" || trimmed === ".")
    return `Enter an amount in ${token.symbol}, like 100 or 0.5.`;
  const [, fraction = ""] = trimmed.split(".");
  if (fraction.length > token.decimals) return `${token.symbol} has ${token.decimals} decimals at most.`;
  return parseUnits(trimmed, token.decimals);
}

const MINUS = "\u2212";

/**
 * `1,234.56 USDC`: token units with thousands separators, cut (toward zero, never rounded up) to
 * `digits` places, trailing zeros dropped. A value the cut makes zero keeps its sign and shows
 * every place ("−0.00"), so that a small loss never reads as nothing.
 */
export function units(value: bigint, decimals: number, symbol?: string, digits = Math.min(decimals, 6)): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const unit = 10n ** BigInt(Math.max(decimals - digits, 0));
  const cut = (magnitude / unit) * unit;
  let text = formatUnits(cut, decimals);
  if (cut === 0n && magnitude !== 0n) text = digits > 0 ? `0.${"0".repeat(digits)}` : "0";
  const [whole = "0", fraction] = text.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const body = `${negative ? MINUS : ""}${grouped}${fraction ? `.${fraction}` : ""}`;
  return symbol ? `${body} ${symbol}` : body;
}

/** A WAD amount in USD, cut toward zero to cents: `$1,234.56`, `−$0.00`. */
export const usd = (wad: bigint) => {
  const text = units(wad, 18, undefined, 2);
  return text.startsWith(MINUS) ? `${MINUS}$${text.slice(1)}` : `$${text}`;
};

/** A WAD price in USD with every digit it has (what an order is signed at). */
export const usdExact = (wad: bigint) => {
  const text = units(wad, 18, undefined, 18);
  return text.startsWith(MINUS) ? `${MINUS}$${text.slice(1)}` : `$${text}`;
};

/** One position's size, mark, value and Greeks (per the position: contracts × per-contract Greek). */
export interface PositionView {
  seriesId: bigint;
  label: string;
  underlyingIndex: number;
  expiry: bigint;
  /** Contracts, WAD, signed. */
  balance: bigint;
  markWad: bigint;
  valueWad: bigint;
  /** Per position, WAD; undefined once expired. */
  greeks?: { delta: bigint; gamma: bigint; vega: bigint; theta: bigint } | undefined;
}

const DAY = 86_400n;
const mulWad = (a: bigint, b: bigint) => (a * b) / WAD;

/**
 * Marks and Greeks from the SDK's exact Black–Scholes mirror. Delta and vega are the SDK's
 * (`callDelta`/`putDelta`, `vega`: per 1.00 of volatility); gamma is the change of the SDK's delta
 * over ±1 % of spot, per 1 USD; theta the change of the SDK's price over the next day.
 */
export function positionViews(inputs: MarginInputs, underlyingNames: Map<number, string>): PositionView[] {
  return inputs.positions.map(({ seriesId, balance }) => {
    const series = decodeSeries(seriesId);
    const underlying = inputs.underlyings.get(series.underlyingIndex);
    const name = underlyingNames.get(series.underlyingIndex) ?? `#${series.underlyingIndex}`;
    const date = new Date(Number(series.expiry) * 1000).toISOString().slice(0, 10);
    const label = `${name} ${units(series.strikeWad, 18, undefined, 0)} ${series.isCall ? "call" : "put"} ${date}`;
    const base = { seriesId, label, underlyingIndex: series.underlyingIndex, expiry: series.expiry, balance };
    if (!underlying) return { ...base, markWad: 0n, valueWad: 0n };
    const { markWad } = markAndSpot(seriesId, underlying, inputs.timestamp);
    const valueWad = mulWad(balance, markWad);
    const left = series.expiry - inputs.timestamp;
    if (left <= 0n) return { ...base, markWad, valueWad };
    const { spotWad, volWad } = underlying;
    const delta = series.isCall ? callDelta : putDelta;
    const price = series.isCall ? callPrice : putPrice;
    const h = spotWad / 100n;
    const gammaPerContract =
      ((delta(spotWad + h, series.strikeWad, left, volWad) - delta(spotWad - h, series.strikeWad, left, volWad)) *
        WAD) /
      (2n * h);
    const later = left > DAY ? left - DAY : 1n;
    const thetaPerContract =
      price(spotWad, series.strikeWad, later, volWad) - price(spotWad, series.strikeWad, left, volWad);
    return {
      ...base,
      markWad,
      valueWad,
      greeks: {
        delta: mulWad(balance, delta(spotWad, series.strikeWad, left, volWad)),
        gamma: mulWad(balance, gammaPerContract),
        vega: mulWad(balance, vega(spotWad, series.strikeWad, left, volWad)),
        theta: mulWad(balance, thetaPerContract),
      },
    };
  });
}
