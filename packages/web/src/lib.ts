import {
  type AddressBook,
  type MarginInputs,
  PledgeBaseError,
  type PositionGreeks,
  decodePledgeError,
  decodeSeries,
  positionGreeks,
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

/** One position's size, mark, value and Greeks (the SDK's `positionGreeks`), with its label. */
export interface PositionView extends PositionGreeks {
  label: string;
  expiry: bigint;
}

/**
 * Marks and Greeks from the SDK (`positionGreeks`): mark from `markAndSpot`, delta and vega as
 * the contracts compute them, gamma (per 1 USD of spot) and theta (USD per day) the SDK's
 * analytic ones; per position, each per-contract Greek times the size.
 */
export function positionViews(inputs: MarginInputs, underlyingNames: Map<number, string>): PositionView[] {
  return positionGreeks(inputs).map((view) => {
    const series = decodeSeries(view.seriesId);
    const name = underlyingNames.get(series.underlyingIndex) ?? `#${series.underlyingIndex}`;
    const date = new Date(Number(series.expiry) * 1000).toISOString().slice(0, 10);
    const label = `${name} ${units(series.strikeWad, 18, undefined, 0)} ${series.isCall ? "call" : "put"} ${date}`;
    return { ...view, label, expiry: series.expiry };
  });
}
