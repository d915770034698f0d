import type { Address, ReadContractErrorType } from "viem";
import { getBlockNumber, readContract } from "viem/actions";

import { backstopAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { LatentInsolvency } from "../../math/backstop.js";
import type { AccountId } from "../../accounts.js";

export interface GetLatentInsolvencyParameters {
  /**
   * The accounts to look at. The chain cannot enumerate accounts: pass the ones an indexer
   * found (the keeper's index holds every account that ever held collateral or a position).
   */
  accounts: readonly AccountId[];
  /** Accounts per `latentInsolvency` call; lower it for accounts with many positions. Default 50. */
  chunkSize?: number | undefined;
  backstop?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (all chunks at the same one, so the answers are consistent). */
  blockNumber?: bigint | undefined;
}

/** The accounts with maintenance equity below zero, their count and total shortfall (WAD USD). */
export type GetLatentInsolvencyReturnType = LatentInsolvency;

export type GetLatentInsolvencyErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Latent insolvency: the accounts among `accounts` whose maintenance equity is below zero (what
 * the insurance fund would owe if they were closed now, before any auction realises it), from
 * the Backstop's `latentInsolvency` view in chunks pinned to one block, merged in the order of
 * `accounts`. Reverts, like the engine's `accountsMargin`, while a price a position needs is
 * invalid. `latentInsolvencyOf` computes the same from margin states already read.
 *
 * @example
 * // The accounts come from an indexer (the keeper's); here, two known ones.
 * const latent = await getLatentInsolvency(publicClient, { addressBook, accounts: [maker, taker] });
 * latent.count === BigInt(latent.accounts.length); // true
 * for (const { account, shortfallWad } of latent.accounts) console.warn(formatAccount(account), "short by", shortfallWad);
 */
export async function getLatentInsolvency(
  client: ReadClient,
  params: GetLatentInsolvencyParameters,
): Promise<GetLatentInsolvencyReturnType> {
  const address = contractAddress(params.backstop, params.addressBook, "Backstop");
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
          abi: backstopAbi,
          functionName: "latentInsolvency",
          args: [accounts],
          ...(blockNumber === undefined ? {} : { blockNumber }),
        }),
      ),
    );
    const merged: LatentInsolvency = { count: 0n, totalShortfallWad: 0n, accounts: [] };
    for (const result of results) {
      merged.count += result.count;
      merged.totalShortfallWad += result.totalShortfallWad;
      for (const { account, shortfallWad } of result.accounts) {
        merged.accounts.push({ account: account as AccountId, shortfallWad });
      }
    }
    return merged;
  });
}
