import {
  type Address,
  BaseError,
  type CallErrorType,
  ContractFunctionRevertedError,
  RawContractError,
  decodeFunctionResult,
  encodeFunctionData,
} from "viem";
import { call, getBlockNumber } from "viem/actions";

import { backstopAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { LatentInsolvency } from "../../math/backstop.js";
import type { AccountId } from "../../accounts.js";

/**
 * Gas of one account's valuation assumed by default: a standard account with a dozen positions
 * (`engine.accountMargin` costs ~0.1M gas for 1 position, ~0.33M for 16; a PORTFOLIO account
 * ~0.27M for 1 and ~3.85M for 32, bench/gas.json). Heavier accounts make a chunk fail and split.
 */
const DEFAULT_ACCOUNT_GAS = 400_000n;

export interface GetLatentInsolvencyParameters {
  /**
   * The accounts to look at. The chain cannot enumerate accounts: pass the ones an indexer
   * found (the keeper's index holds every account that ever held collateral or a position).
   */
  accounts: readonly AccountId[];
  /** Most accounts per `latentInsolvency` call. Default 50. */
  chunkSize?: number | undefined;
  /**
   * Gas each call is sent with and sized to. Default 16M: under the per-transaction cap of
   * 2^24 (EIP-7825) that nodes apply to `eth_call` too, and under common `eth_call` caps. A call
   * that runs out inside an account's valuation reverts (`BackstopOutOfGas`) and is split.
   */
  gasPerCall?: bigint | undefined;
  /**
   * Estimated gas of one account's valuation (the keeper knows each account's positions and
   * margin mode). Default 400k for every account.
   */
  accountGas?: ((account: AccountId) => bigint) | undefined;
  backstop?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (all chunks at the same one, so the answers are consistent). */
  blockNumber?: bigint | undefined;
}

/** The accounts with maintenance equity below zero, their count and total shortfall (WAD USD), and those unpriced. */
export type GetLatentInsolvencyReturnType = LatentInsolvency;

export type GetLatentInsolvencyErrorType = PledgeErrorType | CallErrorType;

/**
 * Latent insolvency: the accounts among `accounts` whose maintenance equity is below zero (what
 * the insurance fund would owe if they were closed now, before any auction realises it), from
 * the Backstop's `latentInsolvency` view, merged in the order of `accounts`. The calls are sized
 * by estimated gas (`gasPerCall`, `accountGas`, at most `chunkSize` accounts) and pinned to one
 * block; a call that fails (out of gas, a node's cap) is split in halves and read again, so one
 * heavy account never fails the whole read. An account that fails alone is listed in `unpriced`
 * when the chain refused it, and the error is thrown when the node did (transport). The view
 * values each account on its own: accounts whose prices are invalid come back in `unpriced`; it
 * leaves out the protocol's own accounts (insurance, settlement, fee). Caveat: collateral whose
 * feed is stale counts as zero, so during such an outage a solvent account with a cash debt shows
 * that debt as a shortfall. `latentInsolvencyOf` computes the same from margin states already read.
 *
 * @example
 * // The accounts come from an indexer (the keeper's); here, two known ones.
 * const latent = await getLatentInsolvency(publicClient, { addressBook, accounts: [maker, taker] });
 * latent.count === BigInt(latent.accounts.length); // true
 * for (const { account, shortfallWad } of latent.accounts) console.warn(formatAccount(account), "short by", shortfallWad);
 * if (latent.unpriced.length > 0) console.warn(latent.unpriced.length, "accounts could not be valued now");
 */
export async function getLatentInsolvency(
  client: ReadClient,
  params: GetLatentInsolvencyParameters,
): Promise<GetLatentInsolvencyReturnType> {
  const address = contractAddress(params.backstop, params.addressBook, "Backstop");
  const chunkSize = params.chunkSize ?? 50;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be ≥ 1: ${chunkSize}`);
  const gasPerCall = params.gasPerCall ?? 16_000_000n;
  if (gasPerCall <= 0n) throw new RangeError(`gasPerCall must be > 0: ${gasPerCall}`);
  const accountGas = params.accountGas ?? (() => DEFAULT_ACCOUNT_GAS);
  return pledgeRead(client, params.addressBook, async () => {
    // Pinned whenever the read may take more than one call (a failed call is split).
    const blockNumber =
      params.blockNumber ?? (params.accounts.length > 1 ? await getBlockNumber(client, { cacheTime: 0 }) : undefined);
    const read = async (accounts: readonly AccountId[]): Promise<LatentInsolvency> => {
      try {
        // A plain call: it takes the gas budget, which a read does not.
        const { data } = await call(client, {
          to: address,
          data: encodeFunctionData({ abi: backstopAbi, functionName: "latentInsolvency", args: [accounts] }),
          gas: gasPerCall,
          ...(blockNumber === undefined ? {} : { blockNumber }),
        });
        if (data === undefined) throw new BaseError(`no Backstop at ${address}`);
        const result = decodeFunctionResult({ abi: backstopAbi, functionName: "latentInsolvency", data });
        return {
          count: result.count,
          totalShortfallWad: result.totalShortfallWad,
          accounts: result.accounts.map(({ account, shortfallWad }) => ({
            account: account as AccountId,
            shortfallWad,
          })),
          unpriced: result.unpriced.map((account) => account as AccountId),
        };
      } catch (error) {
        if (accounts.length > 1) {
          const half = Math.ceil(accounts.length / 2);
          return merge(await Promise.all([read(accounts.slice(0, half)), read(accounts.slice(half))]));
        }
        const refused =
          error instanceof BaseError &&
          error.walk((e) => e instanceof RawContractError || e instanceof ContractFunctionRevertedError) !== null;
        if (!refused) throw error;
        return { count: 0n, totalShortfallWad: 0n, accounts: [], unpriced: [...accounts] };
      }
    };
    return merge(await Promise.all(chunkByGas(params.accounts, chunkSize, gasPerCall, accountGas).map(read)));
  });
}

/** Consecutive calls of at most `maxAccounts` accounts and `gasPerCall` estimated gas (one account above it alone). */
function chunkByGas(
  accounts: readonly AccountId[],
  maxAccounts: number,
  gasPerCall: bigint,
  accountGas: (account: AccountId) => bigint,
): AccountId[][] {
  const chunks: AccountId[][] = [];
  let chunk: AccountId[] = [];
  let gas = 0n;
  for (const account of accounts) {
    const cost = accountGas(account);
    if (chunk.length > 0 && (chunk.length >= maxAccounts || gas + cost > gasPerCall)) {
      chunks.push(chunk);
      chunk = [];
      gas = 0n;
    }
    chunk.push(account);
    gas += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The results of consecutive calls, in order. */
function merge(results: readonly LatentInsolvency[]): LatentInsolvency {
  const merged: LatentInsolvency = { count: 0n, totalShortfallWad: 0n, accounts: [], unpriced: [] };
  for (const result of results) {
    merged.count += result.count;
    merged.totalShortfallWad += result.totalShortfallWad;
    merged.accounts.push(...result.accounts);
    merged.unpriced.push(...result.unpriced);
  }
  return merged;
}
