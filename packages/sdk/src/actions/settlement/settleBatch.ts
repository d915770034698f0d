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

export interface SettleBatchParameters extends WriteParameters {
  /** Pairs to settle; pairs with nothing to settle are skipped on chain. */
  positions: readonly { account: AccountId; seriesId: SeriesId }[];
  market?: Address | undefined;
}

/** `result` is the number of positions settled. */
export type SettleBatchReturnType = WriteReturnType<bigint>;

export type SettleBatchErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Settles many expired positions in one transaction (permissionless).
 *
 * @example
 * const { result: settled } = await settleBatch(keeperWallet, {
 *   publicClient,
 *   addressBook,
 *   positions: [{ account: maker, seriesId }, { account: taker, seriesId }],
 * });
 */
export async function settleBatch(client: SignerClient, params: SettleBatchParameters): Promise<SettleBatchReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "settleBatch",
      args: [params.positions.map((p) => p.account), params.positions.map((p) => p.seriesId)],
    }),
  );
}
