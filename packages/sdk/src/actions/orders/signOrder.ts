import type { Address, SignTypedDataErrorType } from "viem";
import { getChainId, signTypedData } from "viem/actions";

import type { AddressBook } from "../../addressBook.js";
import { type PledgeMissingAddressError, WrongChainError } from "../../errors.js";
import { type SignerClient, contractAddress } from "../../internal/actions.js";
import { type Order, type SignedOrder, orderDomain, orderTypes } from "../../orders/typedData.js";

export interface SignOrderParameters {
  order: Order;
  market?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Defaults to the client's chain, else asks the node. */
  chainId?: number | undefined;
}

export type SignOrderReturnType = SignedOrder;

export type SignOrderErrorType = PledgeMissingAddressError | WrongChainError | SignTypedDataErrorType;

/**
 * Signs a maker order (EIP-712, bound to this chain and market). No transaction.
 *
 * @example
 * const signed = await signOrder(makerWallet, {
 *   addressBook,
 *   order: { account: maker, seriesId, size: -(10n ** 18n), priceWad: 120n * 10n ** 18n, taker: 0n, nonce: 2n, deadline: expiry - 86_400n },
 * });
 */
export async function signOrder(client: SignerClient, params: SignOrderParameters): Promise<SignOrderReturnType> {
  const market = contractAddress(params.market, params.addressBook, "OptionMarket");
  const chainId = params.chainId ?? client.chain?.id ?? (await getChainId(client));
  // An order is bound to its chain and market: signed for another chain than the address book's,
  // it would be valid wherever that market address exists there, and nowhere the user meant.
  const bookChain = params.addressBook?.chainId;
  if (bookChain !== undefined && chainId !== bookChain) throw new WrongChainError(chainId, bookChain);
  const signature = await signTypedData(client, {
    account: client.account,
    domain: orderDomain(chainId, market),
    types: orderTypes,
    primaryType: "Order",
    message: params.order,
  });
  return { order: params.order, signature };
}
