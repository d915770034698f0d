import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { collateralVaultAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  assertAsset,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { AccountId } from "../../accounts.js";

export interface WithdrawParameters extends WriteParameters {
  account: AccountId;
  asset: Address;
  /** Native token units. */
  amount: bigint;
  /** Recipient; defaults to the caller. */
  to?: Address | undefined;
  vault?: Address | undefined;
}

export type WithdrawReturnType = WriteReturnType<void>;

export type WithdrawErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Withdraws `amount` of `asset` from `account`. The account must still meet initial
 * margin afterwards; otherwise this throws a `PledgeError` named `EngineBelowInitialMargin`
 * before anything is sent. An asset the address book does not list throws `UnknownAssetError`.
 *
 * @example
 * try {
 *   await withdraw(walletClient, { publicClient, addressBook, account, asset: addressBook.cash.address, amount });
 * } catch (error) {
 *   if (error instanceof PledgeError) console.error(error.message);
 * }
 */
export async function withdraw(client: SignerClient, params: WithdrawParameters): Promise<WithdrawReturnType> {
  const address = contractAddress(params.vault, params.addressBook, "CollateralVault");
  return sendSimulated(client, params, async () => {
    await assertAsset(params.publicClient, params.addressBook, params.asset);
    return simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: collateralVaultAbi,
      functionName: "withdraw",
      args: [params.account, params.asset, params.amount, params.to ?? client.account.address],
    });
  });
}
