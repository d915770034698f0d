import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { optionMarketAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { Order } from "../../orders/typedData.js";

export interface CancelOrderParameters extends WriteParameters {
  order: Order;
  market?: Address | undefined;
}

export type CancelOrderReturnType = WriteReturnType<void>;

export type CancelOrderErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Cancels one signed order on chain; later fills revert with `MarketOrderCancelled`.
 *
 * @example
 * await cancelOrder(makerWallet, { publicClient, addressBook, order: signed.order });
 */
export async function cancelOrder(client: SignerClient, params: CancelOrderParameters): Promise<CancelOrderReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "cancelOrder",
      args: [params.order],
    }),
  );
}
