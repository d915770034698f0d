import { type Address, type Hex, getAddress, hexToBigInt, isAddress, isHex, recoverTypedDataAddress } from "viem";

import {
  type AccountId,
  type Order,
  type SignedOrder,
  accountId,
  asAccountId,
  asSeriesId,
  formatAccount,
  orderDomain,
  orderTypes,
  ownerOf,
} from "@pledge/sdk";

/**
 * Whose signed orders the keeper fills to offload what its bidder bought: every sub-account of
 * `owner`, or only `account` when the operator named one (`owner/subId`).
 */
export interface Counterparty {
  owner: Address;
  account?: AccountId | undefined;
}

/** The counterparty setting did not parse; its message is one line naming the expected forms. */
export class CounterpartyFormatError extends Error {
  override name = "CounterpartyFormatError";
}

/**
 * Parses `--offload-counterparty`: an address (any of its sub-accounts) or `owner/subId` (that
 * account only), as `formatAccount` prints accounts. Throws `CounterpartyFormatError`.
 *
 * @example
 * parseCounterparty("0x70997970C51812dc3A010C7d01b50e0d17dc79C8/1");
 * // { owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", account: accountId(owner, 1n) }
 */
export function parseCounterparty(text: string): Counterparty {
  const [owner, subId, ...rest] = text.trim().split("/");
  const refuse = (): never => {
    throw new CounterpartyFormatError(`expected an address or owner/subId, got ${text}`);
  };
  if (owner === undefined || rest.length > 0 || !isAddress(owner, { strict: false })) return refuse();
  const checksummed = getAddress(owner);
  if (subId === undefined) return { owner: checksummed };
  if (!/^\d+$/.test(subId) || BigInt(subId) >= 1n << 96n) return refuse();
  return { owner: checksummed, account: accountId(checksummed, BigInt(subId)) };
}

/**
 * The counterparty as the logs show it: `owner/subId`, or `owner/*` for every sub-account.
 *
 * @example
 * formatCounterparty({ owner: "0x7099…79C8" }); // "0x7099…79c8/*"
 */
export function formatCounterparty(counterparty: Counterparty): string {
  return counterparty.account === undefined
    ? `${counterparty.owner.toLowerCase()}/*`
    : formatAccount(counterparty.account);
}

/**
 * Why one entry of a feed was not taken as an order of the counterparty: `malformed` (not a
 * signed order), `overflow` (past the feed's first `maxEntries` entries), `duplicate` (the same
 * order and signature again), `signer` (not the counterparty's account, or not signed by its
 * key with a canonical signature).
 */
export type FeedRejection = "malformed" | "overflow" | "duplicate" | "signer";

/**
 * Bounds on what the keeper reads of a feed (review r14b, finding 5). A real counterparty quotes
 * a few orders per series the bidder holds; anything near these bounds is a broken or hostile
 * feed, and every entry kept costs work each tick.
 */
export interface FeedLimits {
  /** Largest body read, bytes; the read stops as soon as it passes (default 1 MiB). */
  maxBytes?: number | undefined;
  /** Entries kept, in feed order; the rest are rejected as `overflow` unparsed (default 1,000). */
  maxEntries?: number | undefined;
}

/** The default `FeedLimits`: 1 MiB and 1,000 entries (about 600 bytes an entry). */
export const FEED_LIMITS = { maxBytes: 1 << 20, maxEntries: 1_000 } as const;

/** One entry of a feed the keeper will not fill, and why. */
export interface RejectedEntry {
  reason: FeedRejection;
  detail: string;
}

/** A feed's entries: the orders the counterparty signed, and the rest with their reasons. */
export interface OrderFeed {
  orders: SignedOrder[];
  rejected: RejectedEntry[];
}

/** The order feed could not be read: not reachable, an HTTP error, or not a JSON list of orders. */
export class OrderFeedError extends Error {
  override name = "OrderFeedError";
  /** True when the endpoint answered (an HTTP error or a body that is not a feed): a wrong URL, not an outage. */
  readonly answered: boolean;
  constructor(message: string, answered: boolean, options: { cause?: unknown } = {}) {
    super(message, options);
    this.answered = answered;
  }
}

const ORDER_FIELDS = ["account", "seriesId", "size", "priceWad", "taker", "nonce", "deadline"] as const;

/**
 * A feed as JSON, the format `--offload-orders` serves: a list of `{ order, signature }` (the
 * SDK's `SignedOrder`) with every integer as a decimal string, since JSON numbers lose precision
 * past 2^53. What a counterparty's service writes; `parseOrderFeed` reads it back.
 *
 * @example
 * const signed = await signOrder(makerWallet, { addressBook, order });
 * response.end(orderFeedJson([signed]));
 */
export function orderFeedJson(orders: readonly SignedOrder[]): string {
  return JSON.stringify(
    orders.map(({ order, signature }) => ({
      order: Object.fromEntries(ORDER_FIELDS.map((field) => [field, order[field].toString()])),
      signature,
    })),
  );
}

/** A JSON integer field: a decimal or 0x-hex string, or a number that is a safe integer. */
function integer(value: unknown, field: string, signed: boolean): bigint {
  let parsed: bigint | undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === "string" && /^-?\d+$/.test(value)) parsed = BigInt(value);
  else if (typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value)) parsed = BigInt(value);
  if (parsed === undefined) throw new Error(`${field} is not an integer`);
  const bound = signed ? 1n << 255n : 1n << 256n;
  if (signed ? parsed < -bound || parsed >= bound : parsed < 0n || parsed >= bound) {
    throw new Error(`${field} is out of range`);
  }
  return parsed;
}

/**
 * Reads a feed's JSON (a list of signed orders, or an object with an `orders` list): each entry
 * that is not a well-formed `{ order, signature }` is rejected as `malformed`, the others kept
 * in order. Only the first `maxEntries` entries (default 1,000) are read; the rest are rejected
 * as `overflow`. Throws only when the whole text is not such a list.
 *
 * @example
 * const { orders, rejected } = parseOrderFeed(await (await fetch(url)).text());
 */
export function parseOrderFeed(text: string, limits: Pick<FeedLimits, "maxEntries"> = {}): OrderFeed {
  const maxEntries = limits.maxEntries ?? FEED_LIMITS.maxEntries;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`, { cause: error });
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { orders?: unknown }).orders)
      ? (parsed as { orders: unknown[] }).orders
      : undefined;
  if (list === undefined) throw new Error("not a JSON list of signed orders");
  const feed: OrderFeed = { orders: [], rejected: [] };
  list.forEach((entry: unknown, index) => {
    if (index >= maxEntries) {
      feed.rejected.push({ reason: "overflow", detail: `entry ${index}: past the first ${maxEntries}` });
      return;
    }
    try {
      feed.orders.push(signedOrderOf(entry));
    } catch (error) {
      feed.rejected.push({ reason: "malformed", detail: `entry ${index}: ${(error as Error).message}` });
    }
  });
  return feed;
}

function signedOrderOf(entry: unknown): SignedOrder {
  if (typeof entry !== "object" || entry === null) throw new Error("not an object");
  const { order, signature } = entry as { order?: unknown; signature?: unknown };
  if (typeof order !== "object" || order === null) throw new Error("order is missing");
  if (typeof signature !== "string" || !isHex(signature) || signature.length < 4) {
    throw new Error("signature is not hex");
  }
  const fields = order as Record<string, unknown>;
  const parsed: Order = {
    account: asAccountId(integer(fields.account, "account", false)),
    seriesId: asSeriesId(integer(fields.seriesId, "seriesId", false)),
    size: integer(fields.size, "size", true),
    priceWad: integer(fields.priceWad, "priceWad", false),
    taker: integer(fields.taker, "taker", false) as AccountId | 0n,
    nonce: integer(fields.nonce, "nonce", false),
    deadline: integer(fields.deadline, "deadline", false),
  };
  if (parsed.size === 0n) throw new Error("size is 0");
  return { order: parsed, signature: signature as Hex };
}

const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * Whether `signature` is in the only form `OptionMarket` accepts from a key (OpenZeppelin's
 * `ECDSA.tryRecover`): 65 bytes, `s` in the lower half of the curve order, `v` 27 or 28. viem
 * also recovers high-s signatures and `v` 0/1, which the market refuses
 * (`MarketInvalidSignature`): such a copy of a good order must not be taken for it (review
 * r14b, finding 6).
 *
 * @example
 * isCanonicalSignature(await signOrder(wallet, { addressBook, order }).then((s) => s.signature)); // true
 */
export function isCanonicalSignature(signature: Hex): boolean {
  if (signature.length !== 2 + 65 * 2) return false;
  const s = hexToBigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  return s <= SECP256K1_HALF_N && (v === 27 || v === 28);
}

/** A key for one entry: the order's fields and its signature (the same text for the same entry). */
export function entryKey({ order, signature }: SignedOrder): string {
  return `${ORDER_FIELDS.map((field) => order[field].toString()).join(":")}:${signature.toLowerCase()}`;
}

/** A map that forgets its least recently used entries past `capacity`. */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();
  constructor(readonly capacity: number) {}
  get size(): number {
    return this.#entries.size;
  }
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as K);
  }
  delete(key: K): void {
    this.#entries.delete(key);
  }
}

/** Whether one entry is the counterparty's signed order, and if not why (a `signer` rejection's detail). */
export type SignatureVerdict = { ok: true } | { ok: false; detail: string };

/**
 * The counterparty's signature check, with a cache: `ours` is the cheap test (the order's account
 * is the counterparty's: any sub-account of its owner, or the one named), `verify` the costly one
 * (a canonical EIP-712 signature for this chain and market that recovers to the account's owner:
 * about 4 ms of CPU on the event loop). Verdicts are kept by order and signature (`entryKey`) in
 * a bounded cache (`cacheSize`, default 10,000), so a feed that does not change costs nothing
 * after its first tick; `recoveries` counts the signatures actually recovered.
 *
 * @example
 * const check = createSignatureCheck(counterparty, { chainId: 31337, market });
 * if (check.ours(signed.order) && (await check.verify(signed)).ok) console.log("the counterparty's");
 */
export function createSignatureCheck(
  counterparty: Counterparty,
  where: { chainId: number; market: Address },
  options: { cacheSize?: number } = {},
) {
  const domain = orderDomain(where.chainId, where.market);
  const cache = new BoundedMap<string, SignatureVerdict>(options.cacheSize ?? 10_000);
  const owner = counterparty.owner.toLowerCase();
  let recoveries = 0;
  return {
    ours(order: Order): boolean {
      return counterparty.account === undefined
        ? ownerOf(order.account) === owner
        : order.account === counterparty.account;
    },
    /** Whether `verify` would answer from the cache (no recovery). */
    cached(signed: SignedOrder): boolean {
      return cache.get(entryKey(signed)) !== undefined;
    },
    async verify(signed: SignedOrder): Promise<SignatureVerdict> {
      const key = entryKey(signed);
      const known = cache.get(key);
      if (known !== undefined) return known;
      const { order, signature } = signed;
      const expected = ownerOf(order.account);
      let verdict: SignatureVerdict;
      if (!isCanonicalSignature(signature)) {
        verdict = { ok: false, detail: "a signature the market refuses (not 65 bytes, high s, or v not 27/28)" };
      } else {
        let signer: Address | undefined;
        recoveries++;
        try {
          signer = await recoverTypedDataAddress({
            domain,
            types: orderTypes,
            primaryType: "Order",
            message: order,
            signature,
          });
        } catch {
          signer = undefined;
        }
        verdict =
          signer !== undefined && signer.toLowerCase() === expected
            ? { ok: true }
            : { ok: false, detail: `signed by ${signer ?? "an unreadable signature"}, not ${expected}` };
      }
      cache.set(key, verdict);
      return verdict;
    },
    get recoveries() {
      return recoveries;
    },
  };
}

/**
 * Keeps the orders `counterparty` signed for this chain and market: the order's account is the
 * counterparty's (any sub-account of its owner, or the one named), and the EIP-712 signature,
 * in the canonical form the market accepts (`isCanonicalSignature`), recovers to that account's
 * owner. Orders signed by an operator or by a contract (ERC-1271), which the market also
 * accepts, are rejected (`signer`): the keeper trusts one key only. Recovers every entry's
 * signature: the offload job checks only the entries it may fill (`createSignatureCheck`).
 *
 * @example
 * const { orders } = await signedBy(parseOrderFeed(text), counterparty, { chainId: 31337, market });
 */
export async function signedBy(
  feed: OrderFeed,
  counterparty: Counterparty,
  where: { chainId: number; market: Address },
): Promise<OrderFeed> {
  const check = createSignatureCheck(counterparty, where);
  const kept: SignedOrder[] = [];
  const rejected = [...feed.rejected];
  for (const signed of feed.orders) {
    if (!check.ours(signed.order)) {
      rejected.push({
        reason: "signer",
        detail: `order of ${formatAccount(signed.order.account)}, not the counterparty's`,
      });
      continue;
    }
    const verdict = await check.verify(signed);
    if (verdict.ok) kept.push(signed);
    else rejected.push({ reason: "signer", detail: verdict.detail });
  }
  return { orders: kept, rejected };
}

/**
 * Fetches and parses the feed at `url` within `timeoutMs`, reading at most `limits.maxBytes` of
 * body (default 1 MiB: a larger `content-length` is refused unread, and a stream that passes it
 * is cut there) and `limits.maxEntries` entries (`parseOrderFeed`). Throws `OrderFeedError`:
 * `answered` when the endpoint answered with an HTTP error, a body over the limit, or a body that
 * is not a list of orders.
 *
 * @example
 * const feed = await fetchOrderFeed("https://mm.example.com/pledge/orders", 5_000);
 */
export async function fetchOrderFeed(url: string, timeoutMs: number, limits: FeedLimits = {}): Promise<OrderFeed> {
  const maxBytes = limits.maxBytes ?? FEED_LIMITS.maxBytes;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : causeOf(error);
    throw new OrderFeedError(`cannot reach the order feed: ${reason}`, false, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new OrderFeedError(`the order feed answered HTTP ${response.status}`, true);
  }
  const tooLarge = () => new OrderFeedError(`the order feed's answer is larger than ${maxBytes} bytes`, true);
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  let text = "";
  if (response.body !== null) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let bytes = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        text += decoder.decode(value, { stream: true });
      }
      text += decoder.decode();
    } catch (error) {
      if (error instanceof OrderFeedError) throw error;
      throw new OrderFeedError(`the order feed's answer broke off: ${causeOf(error)}`, false, { cause: error });
    }
  }
  try {
    return parseOrderFeed(text, limits);
  } catch (error) {
    throw new OrderFeedError(`the order feed's answer is ${(error as Error).message}`, true, { cause: error });
  }
}

/** A fetch error's cause in a few words (`ECONNREFUSED`, `ENOTFOUND`, ...). */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
