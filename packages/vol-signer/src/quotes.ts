/**
 * Option quotes, read strictly from CSV or JSON (README, "Quote files"). Any malformed row is a
 * `VolSignerError` (INPUT) naming the file, the row and the field; nothing is guessed.
 */
import { readFile } from "node:fs/promises";

import { type Address, formatUnits, isAddress, parseUnits } from "viem";

import { EXPIRY_TIME_OF_DAY } from "@pledge/sdk";
import { ExitCode, VolSignerError } from "./errors.js";

/** One quote: an option's bid and ask, as implied vols or as prices. */
export interface Quote {
  /** Where it came from, for messages: "file:row". */
  source: string;
  underlying: Address;
  /** Unix seconds. */
  expiry: bigint;
  strikeWad: bigint;
  spotWad: bigint;
  /** `iv`: bid and ask are implied vols (fractions, WAD); `price`: prices in the spot's unit, WAD. */
  kind: "iv" | "price";
  /** Set for price quotes (which option the price is of); optional for IV quotes. */
  isCall?: boolean;
  bidWad: bigint;
  askWad: bigint;
}

/** The fields of a quote, by their normalised names (lower case, no `_` or `-`). */
const FIELDS = ["underlying", "expiry", "strike", "spot", "type", "bidiv", "askiv", "bidprice", "askprice"] as const;
type Field = (typeof FIELDS)[number];
const normalise = (name: string) => name.trim().toLowerCase().replace(/[_-]/g, "");
/** Implied vols above this are surely percentages typed as fractions. */
const MAX_IV = 10;

/**
 * Reads a quote file; `.json` is JSON (an array of quotes or `{ "quotes": [...] }`), anything else
 * CSV with a header row.
 *
 * @example
 * const quotes = await readQuotesFile("quotes/eth-2020-03-12.csv");
 */
export async function readQuotesFile(file: string): Promise<Quote[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new VolSignerError(ExitCode.INPUT, `${file}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  return file.toLowerCase().endsWith(".json") ? parseQuotesJson(text, file) : parseQuotesCsv(text, file);
}

/**
 * Parses CSV quotes: a header naming the columns (`underlying, expiry, strike, spot`, then either
 * `bid_iv, ask_iv` or `type, bid_price, ask_price`; case, `_` and `-` ignored), one quote per row.
 * Blank rows and rows starting with `#` are skipped; quoted fields are not supported.
 *
 * @example
 * parseQuotesCsv("underlying,expiry,strike,spot,bid_iv,ask_iv\n0x…e7,2026-03-27,2000,2000,0.6,0.62\n", "q.csv");
 */
export function parseQuotesCsv(text: string, file = "quotes.csv"): Quote[] {
  const rows = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: i + 1, text: line }))
    .filter((row) => row.text.trim() !== "" && !row.text.trimStart().startsWith("#"));
  if (rows.length === 0) throw new VolSignerError(ExitCode.INPUT, `${file}: empty: no header and no quotes`);
  const [header, ...body] = rows;
  if (header!.text.includes('"'))
    throw new VolSignerError(ExitCode.INPUT, `${file}:${header!.line}: quoted fields are not supported`);
  const columns = header!.text.split(",").map((name) => {
    const field = normalise(name) as Field;
    if (!FIELDS.includes(field)) {
      throw new VolSignerError(
        ExitCode.INPUT,
        `${file}:${header!.line}: unknown column "${name.trim()}" (known: underlying, expiry, strike, spot, type, bid_iv, ask_iv, bid_price, ask_price)`,
      );
    }
    return field;
  });
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate) throw new VolSignerError(ExitCode.INPUT, `${file}:${header!.line}: column ${duplicate} appears twice`);
  if (body.length === 0) throw new VolSignerError(ExitCode.INPUT, `${file}: a header but no quotes`);
  return checkSet(
    body.map((row) => {
      const where = `${file}:${row.line}`;
      if (row.text.includes('"')) throw new VolSignerError(ExitCode.INPUT, `${where}: quoted fields are not supported`);
      const cells = row.text.split(",");
      if (cells.length !== columns.length) {
        throw new VolSignerError(ExitCode.INPUT, `${where}: ${cells.length} fields, the header has ${columns.length}`);
      }
      const record: Partial<Record<Field, string>> = {};
      columns.forEach((c, i) => {
        const cell = cells[i]!.trim();
        if (cell !== "") record[c] = cell;
      });
      return toQuote(record, where);
    }),
  );
}

/**
 * Parses JSON quotes: an array of objects, or `{ "quotes": [...] }`, with the CSV's fields as keys
 * (`bidIv` or `bid_iv` alike); numbers as JSON numbers or decimal strings.
 *
 * @example
 * parseQuotesJson('[{"underlying":"0x…e7","expiry":1774598400,"strike":2000,"spot":2000,"bidIv":0.6,"askIv":0.62}]');
 */
export function parseQuotesJson(text: string, file = "quotes.json"): Quote[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new VolSignerError(ExitCode.INPUT, `${file}: not JSON (${(error as Error).message})`);
  }
  const list = Array.isArray(data)
    ? data
    : typeof data === "object" && data !== null && Array.isArray((data as { quotes?: unknown }).quotes)
      ? (data as { quotes: unknown[] }).quotes
      : undefined;
  if (list === undefined)
    throw new VolSignerError(ExitCode.INPUT, `${file}: expected an array of quotes or { "quotes": [...] }`);
  if (list.length === 0) throw new VolSignerError(ExitCode.INPUT, `${file}: no quotes`);
  return checkSet(
    list.map((item, i) => {
      const where = `${file}: quote ${i}`;
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new VolSignerError(ExitCode.INPUT, `${where}: not an object`);
      }
      const record: Partial<Record<Field, string>> = {};
      for (const [key, value] of Object.entries(item)) {
        const field = normalise(key) as Field;
        if (!FIELDS.includes(field)) throw new VolSignerError(ExitCode.INPUT, `${where}: unknown field "${key}"`);
        if (record[field] !== undefined)
          throw new VolSignerError(ExitCode.INPUT, `${where}: field ${field} given twice`);
        if (value === null) continue;
        if (typeof value === "number") {
          const shown = String(value);
          if (!Number.isFinite(value) || /e/i.test(shown)) {
            throw new VolSignerError(ExitCode.INPUT, `${where}: ${key} is ${shown}; write it as a plain decimal`);
          }
          record[field] = shown;
        } else if (typeof value === "string") record[field] = value.trim();
        else throw new VolSignerError(ExitCode.INPUT, `${where}: ${key} must be a number or a string`);
      }
      return toQuote(record, where);
    }),
  );
}

function decimal(record: Partial<Record<Field, string>>, field: Field, where: string): bigint | undefined {
  const text = record[field];
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d{1,18})?$/.test(text)) {
    throw new VolSignerError(
      ExitCode.INPUT,
      `${where}: ${field} "${text}" is not a non-negative decimal (at most 18 decimals)`,
    );
  }
  return parseUnits(text, 18);
}

function required(record: Partial<Record<Field, string>>, field: Field, where: string): bigint {
  const value = decimal(record, field, where);
  if (value === undefined) throw new VolSignerError(ExitCode.INPUT, `${where}: ${field} is missing`);
  if (value === 0n) throw new VolSignerError(ExitCode.INPUT, `${where}: ${field} is 0; it must be positive`);
  return value;
}

/** Unix seconds, `YYYY-MM-DD` (08:00 UTC that day, the series grid) or `YYYY-MM-DDTHH:MM[:SS]Z`. */
function parseExpiry(text: string | undefined, where: string): bigint {
  if (text === undefined) throw new VolSignerError(ExitCode.INPUT, `${where}: expiry is missing`);
  if (/^\d{1,12}$/.test(text)) return BigInt(text);
  if (/^\d{4}-\d\d-\d\d$/.test(text)) {
    const day = Date.parse(`${text}T00:00:00Z`);
    if (Number.isFinite(day)) {
      notRolledOver(text, day, where);
      return BigInt(day / 1000) + EXPIRY_TIME_OF_DAY;
    }
  } else if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z$/.test(text)) {
    const at = Date.parse(text);
    if (Number.isFinite(at)) {
      notRolledOver(text, at, where);
      return BigInt(at / 1000);
    }
  }
  throw new VolSignerError(
    ExitCode.INPUT,
    `${where}: expiry "${text}" is neither unix seconds, YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ`,
  );
}

/**
 * `Date.parse` rolls an impossible day over (2023-11-31 becomes 2023-12-01; review rv17d B1), so
 * the date and time it read must print back as the text given.
 */
function notRolledOver(text: string, parsed: number, where: string): void {
  const given = text.replace(/Z$/, "");
  if (new Date(parsed).toISOString().slice(0, given.length) !== given) {
    throw new VolSignerError(ExitCode.INPUT, `${where}: expiry "${text}" is not a date (no such day or time)`);
  }
}

/**
 * The SDK's Black–Scholes domain (`BlackScholesInputOutOfRange`): spot below 2**120 wei, strike
 * below 2**119 wei. Beyond it neither the signer's fit checks nor the engine can price the option
 * (review rv17d B2).
 */
const MAX_SPOT_WAD = 2n ** 120n - 1n;
const MAX_STRIKE_WAD = 2n ** 119n - 1n;

function toQuote(record: Partial<Record<Field, string>>, where: string): Quote {
  const underlying = record.underlying;
  if (underlying === undefined) throw new VolSignerError(ExitCode.INPUT, `${where}: underlying is missing`);
  if (!isAddress(underlying, { strict: false })) {
    throw new VolSignerError(ExitCode.INPUT, `${where}: underlying "${underlying}" is not an address`);
  }
  const expiry = parseExpiry(record.expiry, where);
  const strikeWad = required(record, "strike", where);
  const spotWad = required(record, "spot", where);
  for (const [field, value, max] of [
    ["strike", strikeWad, MAX_STRIKE_WAD],
    ["spot", spotWad, MAX_SPOT_WAD],
  ] as const) {
    if (value > max) {
      throw new VolSignerError(
        ExitCode.INPUT,
        `${where}: ${field} ${record[field]} is beyond the SDK's Black–Scholes domain (below 2**${field === "spot" ? 120 : 119} wei, about ${Number(formatUnits(max, 18)).toPrecision(3)})`,
      );
    }
  }
  const hasIv = record.bidiv !== undefined || record.askiv !== undefined;
  const hasPrice = record.bidprice !== undefined || record.askprice !== undefined;
  if (hasIv && hasPrice)
    throw new VolSignerError(ExitCode.INPUT, `${where}: give bid/ask IVs or bid/ask prices, not both`);
  if (!hasIv && !hasPrice)
    throw new VolSignerError(
      ExitCode.INPUT,
      `${where}: no bid/ask: give bid_iv and ask_iv, or bid_price and ask_price`,
    );
  let isCall: boolean | undefined;
  if (record.type !== undefined) {
    const type = record.type.toLowerCase();
    if (!["call", "put", "c", "p"].includes(type))
      throw new VolSignerError(ExitCode.INPUT, `${where}: type "${record.type}" is neither call nor put`);
    isCall = type.startsWith("c");
  }
  const kind = hasIv ? "iv" : "price";
  const [bidField, askField] = hasIv ? (["bidiv", "askiv"] as const) : (["bidprice", "askprice"] as const);
  const bidWad = decimal(record, bidField, where);
  if (bidWad === undefined) throw new VolSignerError(ExitCode.INPUT, `${where}: ${bidField} is missing`);
  const askWad = required(record, askField, where);
  if (bidWad > askWad)
    throw new VolSignerError(
      ExitCode.INPUT,
      `${where}: the bid ${record[bidField]} is above the ask ${record[askField]}`,
    );
  if (kind === "iv" && askWad > BigInt(MAX_IV) * 10n ** 18n) {
    throw new VolSignerError(
      ExitCode.INPUT,
      `${where}: ask_iv ${record.askiv} is above ${MAX_IV}: IVs are fractions (0.65 for 65 %)`,
    );
  }
  if (kind === "price" && isCall === undefined)
    throw new VolSignerError(ExitCode.INPUT, `${where}: a price quote needs type (call or put)`);
  return {
    source: where,
    underlying: underlying.toLowerCase() as Address,
    expiry,
    strikeWad,
    spotWad,
    kind,
    ...(isCall === undefined ? {} : { isCall }),
    bidWad,
    askWad,
  };
}

/** One underlying per file; no quote twice (same expiry, strike, type and kind). */
function checkSet(quotes: Quote[]): Quote[] {
  const underlyings = [...new Set(quotes.map((q) => q.underlying))];
  if (underlyings.length > 1) {
    throw new VolSignerError(
      ExitCode.INPUT,
      `${quotes[0]!.source.split(":")[0]}: quotes for ${underlyings.length} underlyings (${underlyings.join(", ")}); a post covers one: split the file`,
    );
  }
  const seen = new Map<string, string>();
  for (const q of quotes) {
    const key = `${q.expiry}/${q.strikeWad}/${q.isCall ?? "-"}/${q.kind}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new VolSignerError(ExitCode.INPUT, `${q.source}: the same option as ${earlier}`);
    seen.set(key, q.source);
  }
  return quotes;
}
