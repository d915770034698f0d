import type { Address, ReadContractErrorType } from "viem";
import { getBlockNumber, multicall, readContract } from "viem/actions";

import { collateralVaultAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import type { AccountId } from "../../accounts.js";

export interface GetBalancesParameters {
  account: AccountId;
  vault?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** The block to read at. Default: the latest. */
  blockNumber?: bigint | undefined;
}

export interface GetBalancesReturnType {
  /** Signed cash balance in cash token units with interest accrued to the block read (negative: the account borrowed cash). */
  cash: bigint;
  /** The signed cash shares stored (`cashSharesOf`), for `cashAt`'s balance at a later time. */
  cashShares: bigint;
  /** Every listed collateral asset with the account's balance, native units (zeros included). */
  collateral: { asset: Address; amount: bigint }[];
}

export type GetBalancesErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Cash and collateral of `account`: the vault's `balancesOf`, `cashSharesOf` and
 * `collateralAssets`, in one multicall when the chain has Multicall3, else as reads at the same block
 * (`blockNumber`, or the head's).
 *
 * @example
 * const { cash, cashShares, collateral } = await getBalances(publicClient, { addressBook, account });
 * cash === cashShares; // at the zero rate, shares are cash units
 * const head = await publicClient.getBlockNumber();
 * const before = await getBalances(publicClient, { addressBook, account, blockNumber: head - 1n }); // a block earlier
 */
export async function getBalances(client: ReadClient, params: GetBalancesParameters): Promise<GetBalancesReturnType> {
  const address = contractAddress(params.vault, params.addressBook, "CollateralVault");
  const balancesOf = {
    address,
    abi: collateralVaultAbi,
    functionName: "balancesOf",
    args: [params.account],
  } as const;
  const collateralAssets = { address, abi: collateralVaultAbi, functionName: "collateralAssets" } as const;
  const cashSharesOf = {
    address,
    abi: collateralVaultAbi,
    functionName: "cashSharesOf",
    args: [params.account],
  } as const;
  return pledgeRead(client, params.addressBook, async () => {
    let balances: readonly [readonly bigint[], bigint];
    let assets: readonly Address[];
    let cashShares: bigint;
    if (client.chain?.contracts?.multicall3) {
      [balances, assets, cashShares] = await multicall(client, {
        contracts: [balancesOf, collateralAssets, cashSharesOf],
        allowFailure: false,
        blockNumber: params.blockNumber,
      });
    } else {
      const blockNumber = params.blockNumber ?? (await getBlockNumber(client, { cacheTime: 0 }));
      [balances, assets, cashShares] = await Promise.all([
        readContract(client, { ...balancesOf, blockNumber }),
        readContract(client, { ...collateralAssets, blockNumber }),
        readContract(client, { ...cashSharesOf, blockNumber }),
      ]);
    }
    const [amounts, cash] = balances;
    return { cash, cashShares, collateral: assets.map((asset, i) => ({ asset, amount: amounts[i] ?? 0n })) };
  });
}
