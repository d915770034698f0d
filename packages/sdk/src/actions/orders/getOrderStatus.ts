import type { Address, Hash, ReadContractErrorType } from "viem";
import { getBlock, readContract } from "viem/actions";

import { optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { Order } from "../../orders/typedData.js";

/** `OptionMarket.filled` of a cancelled order. */
const CANCELLED = (1n << 256n) - 1n;

export interface GetOrderStatusParameters {
  order: Order;
  market?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

/**
 * Where an order stands, in the order `OptionMarket.fill` checks: `cancelled` (by `cancelOrder`),
 * `expired` (its deadline has passed at the block read), `nonceTooLow` (bulk-cancelled by
 * `setMinNonce`), `filled` (nothing left), else `open`.
 */
export type OrderState = "open" | "filled" | "cancelled" | "expired" | "nonceTooLow";

export interface GetOrderStatusReturnType {
  /** The EIP-712 digest the market keys the order by. */
  hash: Hash;
  state: OrderState;
  /** Contracts filled so far (WAD); 0 for a cancelled order. */
  filled: bigint;
  /** Contracts still fillable (WAD); 0 unless `state` is `open`. */
  remaining: bigint;
}

export type GetOrderStatusErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * How much of a signed order has been filled and whether the rest can still be, as
 * `OptionMarket.fill` would judge it (margin aside: `simulateFill` answers that).
 *
 * @example
 * const { state, remaining } = await getOrderStatus(publicClient, { addressBook, order });
 * if (state === "open") console.log(`${remaining} contracts left`);
 */
export async function getOrderStatus(
  client: ReadClient,
  params: GetOrderStatusParameters,
): Promise<GetOrderStatusReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  const market = { address, abi: optionMarketAbi } as const;
  const { order } = params;
  return pledgeRead(client, params.addressBook, async () => {
    const block = await getBlock(client, params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber });
    const at = { blockNumber: block.number };
    const [hash, minNonce] = await Promise.all([
      readContract(client, { ...market, functionName: "orderHash", args: [order], ...at }),
      readContract(client, { ...market, functionName: "minNonce", args: [order.account], ...at }),
    ]);
    const done = await readContract(client, { ...market, functionName: "filled", args: [hash], ...at });
    const size = order.size < 0n ? -order.size : order.size;
    if (done === CANCELLED) return { hash, state: "cancelled", filled: 0n, remaining: 0n };
    const closed = (state: OrderState) => ({ hash, state, filled: done, remaining: 0n });
    if (block.timestamp > order.deadline) return closed("expired");
    if (order.nonce < minNonce) return closed("nonceTooLow");
    if (done >= size) return closed("filled");
    return { hash, state: "open", filled: done, remaining: size - done };
  });
}
