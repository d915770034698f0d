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
import type { AccountId } from "../../accounts.js";

export interface SetMinNonceParameters extends WriteParameters {
  account: AccountId;
  /** Orders of `account` with a lower nonce die. Only grows. */
  minNonce: bigint;
  market?: Address | undefined;
}

export type SetMinNonceReturnType = WriteReturnType<void>;

export type SetMinNonceErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Cancels every order of `account` with `nonce < minNonce` in one transaction.
 *
 * @example
 * await setMinNonce(makerWallet, { publicClient, addressBook, account: maker, minNonce: 100n });
 */
export async function setMinNonce(client: SignerClient, params: SetMinNonceParameters): Promise<SetMinNonceReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "setMinNonce",
      args: [params.account, params.minNonce],
    }),
  );
}
