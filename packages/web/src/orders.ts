import { type SignedOrder, asAccountId, asSeriesId, orderInRange } from "@pledge/sdk";
import type { Hex } from "viem";

/** A signed order as JSON: integers as decimal strings. */
export interface SignedOrderJson {
  order: Record<keyof SignedOrder["order"], string>;
  signature: Hex;
}

/** A signed order to JSON (what `/orders` stores). */
export function orderToJson({ order, signature }: SignedOrder): SignedOrderJson {
  return {
    order: {
      account: order.account.toString(),
      seriesId: order.seriesId.toString(),
      size: order.size.toString(),
      priceWad: order.priceWad.toString(),
      taker: order.taker.toString(),
      nonce: order.nonce.toString(),
      deadline: order.deadline.toString(),
    },
    signature,
  };
}

/** A signed order from JSON; throws on a field that is not a decimal integer in its type's range. */
export function orderFromJson({ order, signature }: SignedOrderJson): SignedOrder {
  const int = (text: unknown, signed = false) => {
    if (typeof text !== "string" || !(signed ? /^-?\d{1,78}$/ : /^\d{1,78}$/).test(text))
      throw new Error("not an order");
    return BigInt(text);
  };
  if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) throw new Error("not a signature");
  const signed = {
    order: {
      account: asAccountId(int(order.account)),
      seriesId: asSeriesId(int(order.seriesId)),
      size: int(order.size, true),
      priceWad: int(order.priceWad),
      taker: int(order.taker) === 0n ? (0n as const) : asAccountId(int(order.taker)),
      nonce: int(order.nonce),
      deadline: int(order.deadline),
    },
    signature,
  };
  if (!orderInRange(signed.order)) throw new Error("out of range");
  return signed;
}

/** What `/orders` holds: the orders that parse, and how many did not (each dropped alone). */
export interface FetchedOrders {
  orders: SignedOrder[];
  malformed: number;
}

/**
 * The orders the app's server holds (`npm run app` seeds the market maker's quotes). One entry
 * that does not parse is dropped and counted, never the list (the server is not trusted).
 */
export async function fetchOrders(): Promise<FetchedOrders> {
  const response = await fetch("./orders", { cache: "no-store", signal: AbortSignal.timeout(5_000) });
  if (!response.ok) return { orders: [], malformed: 0 };
  const rows = (await response.json()) as unknown;
  const orders: SignedOrder[] = [];
  let malformed = 0;
  for (const row of Array.isArray(rows) ? rows : []) {
    try {
      orders.push(orderFromJson(row as SignedOrderJson));
    } catch {
      malformed++;
    }
  }
  return { orders, malformed };
}

/** Posts a signed order to the app's server. */
export async function postOrder(signed: SignedOrder): Promise<void> {
  const response = await fetch("./orders", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(orderToJson(signed)),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`The order server refused the order: ${await response.text()}`);
}
