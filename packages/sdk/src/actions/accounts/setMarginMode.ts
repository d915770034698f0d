import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import { marginEngineAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";
import type { MarginMode } from "../../math/engine.js";
import type { AccountId } from "../../accounts.js";

export interface SetMarginModeParameters extends WriteParameters {
  account: AccountId;
  /** CROSS, ISOLATED or PORTFOLIO (`MarginMode`). */
  mode: MarginMode;
  engine?: Address | undefined;
}

export type SetMarginModeReturnType = WriteReturnType<void>;

export type SetMarginModeErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Chooses how `account` is margined (`IMarginEngine.setMarginMode`). The caller must own the
 * account or be an operator its owner approved; the mode is locked while the account holds any
 * position (`EngineModeLocked`).
 *
 * @example
 * await setMarginMode(walletClient, {
 *   publicClient,
 *   addressBook,
 *   account: getAccountId(walletClient, { subId: 2n }), // a new, empty account
 *   mode: MarginMode.PORTFOLIO,
 * });
 */
export async function setMarginMode(
  client: SignerClient,
  params: SetMarginModeParameters,
): Promise<SetMarginModeReturnType> {
  const address = contractAddress(params.engine, params.addressBook, "MarginEngine");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: marginEngineAbi,
      functionName: "setMarginMode",
      args: [params.account, params.mode],
    }),
  );
}
