import { type SignedOrder, asAccountId, asSeriesId } from "@pledge/sdk";
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

/** A signed order from JSON. */
export function orderFromJson({ order, signature }: SignedOrderJson): SignedOrder {
  return {
    order: {
      account: asAccountId(BigInt(order.account)),
      seriesId: asSeriesId(BigInt(order.seriesId)),
      size: BigInt(order.size),
      priceWad: BigInt(order.priceWad),
      taker: BigInt(order.taker) === 0n ? 0n : asAccountId(BigInt(order.taker)),
      nonce: BigInt(order.nonce),
      deadline: BigInt(order.deadline),
    },
    signature,
  };
}

/** The orders the app's server holds (`npm run app` seeds the market maker's quotes). */
export async function fetchOrders(): Promise<SignedOrder[]> {
  const response = await fetch("./orders", { cache: "no-store", signal: AbortSignal.timeout(5_000) });
  if (!response.ok) return [];
  return ((await response.json()) as SignedOrderJson[]).map(orderFromJson);
}

/** Posts a signed order to the app's server. */
export async function postOrder(signed: SignedOrder): Promise<void> {
  const response = await fetch("./orders", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(orderToJson(signed)),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`the order server refused the order: ${await response.text()}`);
}
