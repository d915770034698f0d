import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { optionMarketAbi } from "../../abis/index.js";
import { type PledgeErrorType, PremiumChangedError } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { SignedOrder } from "../../orders/typedData.js";
import type { AccountId } from "../../accounts.js";

export interface FillOrderParameters extends WriteParameters {
  signedOrder: SignedOrder;
  /** The taker's account id; the caller must own it or operate it. */
  takerAccount: AccountId;
  /** WAD contracts to fill, ≤ the order's remaining size. */
  fillSize: bigint;
  /**
   * The premium the caller previewed (`simulateFill`'s `premium`, cash units). When given, the
   * market's own simulation just before sending must move exactly this premium, or nothing is
   * sent and `PremiumChangedError` is thrown (the order or its price changed since the preview).
   */
  expectedPremium?: bigint | undefined;
  market?: Address | undefined;
}

/** `result` is the premium moved, in cash token units. */
export type FillOrderReturnType = WriteReturnType<bigint>;

export type FillOrderErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Fills (part of) a signed maker order from `takerAccount`, at the order's price. With
 * `expectedPremium`, refuses to send a fill whose simulated premium differs from the previewed one.
 *
 * @example
 * const preview = await simulateFill(publicClient, { signedOrder, takerAccount, fillSize: 10n ** 18n, addressBook });
 * const { result: premium } = await fillOrder(takerWallet, {
 *   publicClient, addressBook, signedOrder, takerAccount, fillSize: 10n ** 18n, expectedPremium: preview.premium,
 * });
 */
export async function fillOrder(client: SignerClient, params: FillOrderParameters): Promise<FillOrderReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return sendSimulated(client, params, async () => {
    const simulated = await simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "fill",
      args: [params.signedOrder.order, params.signedOrder.signature, params.takerAccount, params.fillSize],
    });
    if (params.expectedPremium !== undefined && simulated.result !== params.expectedPremium)
      throw new PremiumChangedError(params.expectedPremium, simulated.result);
    return simulated;
  });
}
