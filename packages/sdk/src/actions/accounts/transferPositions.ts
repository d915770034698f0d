import type { Address, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract } from "viem/actions";

import type { AccountId, SeriesId } from "../../accounts.js";
import { optionMarketAbi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  contractAddress,
  sendSimulated,
} from "../../internal/actions.js";

export interface TransferPositionsParameters extends WriteParameters {
  /** The source subaccount; the caller must own it or operate it. */
  from: AccountId;
  /** The destination: another subaccount of the same owner. */
  to: AccountId;
  /**
   * What moves, applied in order: `amount` WAD contracts of `seriesId` leave `from` and reach `to`
   * (> 0 moves a long part, < 0 a short part; at most what `from` holds, on its side).
   */
  positions: readonly { seriesId: SeriesId; amount: bigint }[];
  market?: Address | undefined;
}

export type TransferPositionsReturnType = WriteReturnType<void>;

export type TransferPositionsErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Moves positions between two subaccounts of one owner (`OptionMarket.transferPositions`), with
 * no premium. Both accounts pass the margin gate afterwards: at or above initial margin, unless
 * the move only reduces their risk. Simulated first, so a refused transfer throws a typed
 * `PledgeError` (`MarketDifferentOwners`, `MarketInsufficientPosition`, `MarketRiskIncreased`,
 * …) before anything is sent. Neither side may be the fee account, and `from` must not be `to`.
 *
 * @example
 * const held = await getPositions(publicClient, { addressBook, account });
 * const long = held.find((position) => position.balance > 0n);
 * if (long) {
 *   await transferPositions(walletClient, {
 *     publicClient,
 *     addressBook,
 *     from: account,
 *     to: getAccountId(walletClient, { subId: 2n }),
 *     positions: [{ seriesId: long.seriesId, amount: long.balance }],
 *   });
 * }
 */
export async function transferPositions(
  client: SignerClient,
  params: TransferPositionsParameters,
): Promise<TransferPositionsReturnType> {
  const address = contractAddress(params.market, params.addressBook, "OptionMarket");
  const { from, to, positions } = params;
  return sendSimulated(client, params, () =>
    simulateContract(params.publicClient, {
      account: client.account,
      address,
      abi: optionMarketAbi,
      functionName: "transferPositions",
      args: [from, to, positions.map((p) => p.seriesId), positions.map((p) => p.amount)],
    }),
  );
}
