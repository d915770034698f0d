import type { Address, Hex } from "viem";
import type { AccountId, SeriesId } from "../accounts.js";

/** A maker order, field for field as `IOptionMarket.Order`. */
export interface Order {
  /** Maker account id (`owner << 96 | subId`). */
  account: AccountId;
  /** Packed series id (see `seriesId`). */
  seriesId: SeriesId;
  /** Signed size in WAD contracts: > 0 the maker buys, < 0 the maker sells. */
  size: bigint;
  /** Limit price per contract, WAD USD. */
  priceWad: bigint;
  /** The only account allowed to fill, or 0n for anyone. */
  taker: AccountId | 0n;
  nonce: bigint;
  /** Unix seconds. */
  deadline: bigint;
}

/** EIP-712 types of an order, as the market hashes them. */
export const orderTypes = {
  Order: [
    { name: "account", type: "uint256" },
    { name: "seriesId", type: "uint256" },
    { name: "size", type: "int256" },
    { name: "priceWad", type: "uint256" },
    { name: "taker", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/**
 * The EIP-712 domain of an OptionMarket deployment. Binding the chain id and the
 * market's address makes a signature useless on any other chain or contract.
 *
 * @example
 * const domain = orderDomain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
 * const signature = await walletClient.signTypedData({ domain, types: orderTypes, primaryType: "Order", message: order });
 */
export function orderDomain(chainId: number, market: Address) {
  return { name: "Pledge OptionMarket", version: "1", chainId, verifyingContract: market } as const;
}

/** A signed order ready for `fill`. */
export interface SignedOrder {
  order: Order;
  signature: Hex;
}
