import type { Address, ReadContractErrorType } from "viem";
import { getBlockNumber, readContract } from "viem/actions";

import { marginEngineAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { Health, MarginState } from "../../math/engine.js";
import type { AccountId } from "../../accounts.js";

/** One account's margin (`IMarginEngine.MarginState`, all WAD USD) with its account id. */
export type AccountMarginState = MarginState & { account: AccountId };

export interface GetAccountMarginParameters {
  accounts: readonly AccountId[];
  /** Accounts per `accountsMargin` call; lower it for accounts with many positions. Default 50. */
  chunkSize?: number | undefined;
  engine?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (all chunks at the same one, so the answers are consistent). */
  blockNumber?: bigint | undefined;
}

export type GetAccountMarginReturnType = AccountMarginState[];

export type GetAccountMarginErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Margin of many accounts: the engine's `accountsMargin` in chunks, pinned to one block.
 * Results come back in the order of `accounts`.
 *
 * @example
 * const [state] = await getAccountMargin(publicClient, { addressBook, accounts: [account] });
 * if (state.health !== Health.HEALTHY) console.warn("top up", state.requirementIM - state.equityIM);
 */
export async function getAccountMargin(
  client: ReadClient,
  params: GetAccountMarginParameters,
): Promise<GetAccountMarginReturnType> {
  const address = contractAddress(params.engine, params.addressBook, "MarginEngine");
  const chunkSize = params.chunkSize ?? 50;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be ≥ 1: ${chunkSize}`);
  return pledgeRead(client, params.addressBook, async () => {
    const blockNumber =
      params.blockNumber ??
      (params.accounts.length > chunkSize ? await getBlockNumber(client, { cacheTime: 0 }) : undefined);
    const chunks: bigint[][] = [];
    for (let i = 0; i < params.accounts.length; i += chunkSize) {
      chunks.push(params.accounts.slice(i, i + chunkSize));
    }
    const results = await Promise.all(
      chunks.map((accounts) =>
        readContract(client, {
          address,
          abi: marginEngineAbi,
          functionName: "accountsMargin",
          args: [accounts],
          ...(blockNumber === undefined ? {} : { blockNumber }),
        }),
      ),
    );
    return results.flat().map((state, i) => ({
      account: params.accounts[i]!,
      equityIM: state.equityIM,
      equityMM: state.equityMM,
      requirementIM: state.requirementIM,
      requirementMM: state.requirementMM,
      health: state.health as Health,
      markValue: state.markValue,
    }));
  });
}
