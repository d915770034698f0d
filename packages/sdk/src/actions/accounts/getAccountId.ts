import type { Address } from "viem";

import { type AccountId, accountId } from "../../accounts.js";
import type { SignerClient } from "../../internal/actions.js";

export interface GetAccountIdParameters {
  /** Subaccount number, < 2^96. */
  subId: bigint;
  /** Defaults to the client's account. */
  owner?: Address | undefined;
}

export type GetAccountIdReturnType = AccountId;

export type GetAccountIdErrorType = RangeError;

/**
 * The account id of a subaccount of the client's account (or of `owner`): pure, no RPC.
 *
 * @example
 * const account = getAccountId(walletClient, { subId: 1n });
 */
export function getAccountId(client: SignerClient, { subId, owner }: GetAccountIdParameters): GetAccountIdReturnType {
  return accountId(owner ?? client.account.address, subId);
}
