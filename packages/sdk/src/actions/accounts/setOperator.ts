import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { collateralVaultAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";

export interface SetOperatorParameters extends WriteParameters {
  operator: Address;
  approved: boolean;
  vault?: Address | undefined;
}

export type SetOperatorReturnType = WriteReturnType<void>;

export type SetOperatorErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Lets `operator` act for every account of the caller (deposit, withdraw, trade,
 * sign orders), or revokes it.
 *
 * @example
 * await setOperator(walletClient, { publicClient, addressBook, operator: keeperWallet.account.address, approved: true });
 */
export async function setOperator(client: SignerClient, params: SetOperatorParameters): Promise<SetOperatorReturnType> {
  const address = contractAddress(params.vault, params.addressBook, "CollateralVault");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: collateralVaultAbi,
      functionName: "setOperator",
      args: [params.operator, params.approved],
    }),
  );
}
