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
import type { AccountId, SeriesId } from "../../accounts.js";

export interface SettleParameters extends WriteParameters {
  account: AccountId;
  /** An expired series whose settlement price is posted. */
  seriesId: SeriesId;
  market?: Address | undefined;
}

/** `result` is the payoff credited (> 0) or debited (< 0), cash units. */
export type SettleReturnType = WriteReturnType<bigint>;

export type SettleErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Settles one expired position of `account` in cash (permissionless).
 *
 * @example
 * const { result: payoff } = await settle(keeperWallet, { publicClient, addressBook, account, seriesId });
 */
export async function settle(client: SignerClient, params: SettleParameters): Promise<SettleReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "settle",
      args: [params.account, params.seriesId],
    }),
  );
}
