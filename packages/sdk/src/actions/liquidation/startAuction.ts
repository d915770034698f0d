import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { liquidatorAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { AccountId } from "../../accounts.js";

export interface StartAuctionParameters extends WriteParameters {
  /** An account below maintenance margin. */
  account: AccountId;
  liquidator?: Address | undefined;
}

export type StartAuctionReturnType = WriteReturnType<void>;

export type StartAuctionErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Starts the Dutch auction of an account below maintenance margin (permissionless).
 * A healthy account throws `PledgeError` named `LiquidatorAccountHealthy` before sending.
 *
 * @example
 * await startAuction(keeperWallet, { publicClient, addressBook, account });
 */
export async function startAuction(
  client: SignerClient,
  params: StartAuctionParameters,
): Promise<StartAuctionReturnType> {
  const address = contractAddress(params.liquidator, params.addressBook, "Liquidator");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: liquidatorAbi,
      functionName: "startAuction",
      args: [params.account],
    }),
  );
}
