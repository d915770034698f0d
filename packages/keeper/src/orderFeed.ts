import { type Address, type Hex, getAddress, isAddress, isHex, recoverTypedDataAddress } from "viem";

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

/** Why one entry of a feed was not taken as an order of the counterparty. */
export type FeedRejection = "malformed" | "signer";

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
 * in order. Throws only when the whole text is not such a list.
 *
 * @example
 * const { orders, rejected } = parseOrderFeed(await (await fetch(url)).text());
 */
export function parseOrderFeed(text: string): OrderFeed {
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

/**
 * Keeps the orders `counterparty` signed for this chain and market: the order's account is the
 * counterparty's (any sub-account of its owner, or the one named), and the EIP-712 signature
 * recovers to that account's owner. Orders signed by an operator or by a contract (ERC-1271),
 * which the market also accepts, are rejected (`signer`): the keeper trusts one key only.
 *
 * @example
 * const { orders } = await signedBy(parseOrderFeed(text), counterparty, { chainId: 31337, market });
 */
export async function signedBy(
  feed: OrderFeed,
  counterparty: Counterparty,
  where: { chainId: number; market: Address },
): Promise<OrderFeed> {
  const domain = orderDomain(where.chainId, where.market);
  const kept: SignedOrder[] = [];
  const rejected = [...feed.rejected];
  for (const signed of feed.orders) {
    const { order } = signed;
    const owner = ownerOf(order.account);
    const ours =
      counterparty.account === undefined
        ? owner === counterparty.owner.toLowerCase()
        : order.account === counterparty.account;
    let signer: Address | undefined;
    try {
      signer = await recoverTypedDataAddress({
        domain,
        types: orderTypes,
        primaryType: "Order",
        message: order,
        signature: signed.signature,
      });
    } catch {
      signer = undefined;
    }
    if (ours && signer !== undefined && signer.toLowerCase() === owner) kept.push(signed);
    else {
      const detail = !ours
        ? `order of ${formatAccount(order.account)}, not the counterparty's`
        : `signed by ${signer ?? "an unreadable signature"}, not ${owner}`;
      rejected.push({ reason: "signer", detail });
    }
  }
  return { orders: kept, rejected };
}

/**
 * Fetches and parses the feed at `url` within `timeoutMs`. Throws `OrderFeedError`: `answered`
 * when the endpoint answered with an HTTP error or a body that is not a list of orders.
 *
 * @example
 * const feed = await fetchOrderFeed("https://mm.example.com/pledge/orders", 5_000);
 */
export async function fetchOrderFeed(url: string, timeoutMs: number): Promise<OrderFeed> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : causeOf(error);
    throw new OrderFeedError(`cannot reach the order feed: ${reason}`, false, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new OrderFeedError(`the order feed answered HTTP ${response.status}`, true);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new OrderFeedError(`the order feed's answer broke off: ${causeOf(error)}`, false, { cause: error });
  }
  try {
    return parseOrderFeed(text);
  } catch (error) {
    throw new OrderFeedError(`the order feed's answer is ${(error as Error).message}`, true, { cause: error });
  }
}

/** A fetch error's cause in a few words (`ECONNREFUSED`, `ENOTFOUND`, ...). */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
