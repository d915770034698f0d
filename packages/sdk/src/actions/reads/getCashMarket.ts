import type { Address, ReadContractErrorType } from "viem";
import { getBlock, getBlockNumber, readContract } from "viem/actions";

import { collateralVaultAbi, kinkRateModelAbi } from "../../abis/index.js";
import { type AccountId, asAccountId } from "../../accounts.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { orOnRevert } from "../../internal/reverts.js";
import {
  type CashState,
  type KinkParams,
  borrowApr,
  cashMarketAt,
  supplyApr,
  totalDebt,
  totalSupply,
} from "../../math/cashIndex.js";

export interface GetCashMarketParameters {
  vault?: Address | undefined;
  addressBook?: AddressBook | undefined;
  /** Read at this block (default: latest), so every figure is of the same block. */
  blockNumber?: bigint | undefined;
}

export interface GetCashMarketReturnType extends CashState {
  /** The block read, and its timestamp (the "now" of every figure below). */
  blockNumber: bigint;
  timestamp: bigint;
  /** The reserve share the vault is set to (`reserveShareWad` is the one in force). */
  reserveShareSetWad: bigint;
  /** The insurance fund's account and its stored shares (negative while it owes). */
  insuranceAccount: AccountId;
  insuranceShares: bigint;
  /** Σ positive and Σ negative cash with interest accrued to `timestamp`, cash units. */
  totalCredit: bigint;
  totalDebt: bigint;
  /** What debtors pay and creditors earn a year at the current rate (simple, 365 days), WAD. */
  borrowAprWad: bigint;
  supplyAprWad: bigint;
  /** Losses written off against the creditors so far, and bad debt in all, cash units. */
  lossSocialized: bigint;
  badDebt: bigint;
  /** The loss no claim could absorb, held apart from the index (`unabsorbedLoss()`), cash units. */
  unabsorbedLoss: bigint;
  /**
   * Whether a cash deposit may create or raise a claim: false while a loss is held apart
   * (`unabsorbedLoss` > 0), when only a repayment up to the account's debt, the insurance account
   * and `repayUnabsorbedLoss` are open (`VaultLossHeldApart`).
   */
  cashDepositsOpen: boolean;
  /** The settlement account and its raw cash (outside the index: no interest, no loss). */
  settlementAccount: AccountId;
  settlementCash: bigint;
  /** What the cash creditors may withdraw in all (`cashLiquidity()`), cash units. */
  liquidity: bigint;
  /** The rate model's parameters when it is a `KinkRateModel`. */
  kink?: KinkParams | undefined;
}

export type GetCashMarketErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * The vault's cash market at one block: the stored index state and the rate the next accrual
 * charges (what `cashAt` needs to predict any balance at a later time), the totals accrued to the
 * block, the borrow and supply APRs, the reserve, the insurance account, the losses shared so
 * far and any loss held apart, the settlement account's raw cash, what creditors may withdraw, and
 * a kink model's parameters (everything `cashMove` needs to predict a move). One round of parallel reads after the block; a client
 * created with `batch: { multicall: true }` folds it into one call.
 *
 * @example
 * const cash = await getCashMarket(publicClient, { addressBook });
 * console.log(`borrow ${formatAmount(cash.borrowAprWad * 100n)} %, supply ${formatAmount(cash.supplyAprWad * 100n)} %`);
 * cash.market.supplyIndex; // 1_000_000_000_000_000_000n: the zero rate, no loss so far
 */
export async function getCashMarket(
  client: ReadClient,
  params: GetCashMarketParameters,
): Promise<GetCashMarketReturnType> {
  const vault = {
    address: contractAddress(params.vault, params.addressBook, "CollateralVault"),
    abi: collateralVaultAbi,
  } as const;
  return pledgeRead(client, params.addressBook, async () => {
    const blockNumber = params.blockNumber ?? (await getBlockNumber(client, { cacheTime: 0 }));
    const at = { blockNumber } as const;
    const [
      block,
      stored,
      borrowRate,
      reserveShareSetWad,
      insurance,
      lossSocialized,
      badDebt,
      unabsorbedLoss,
      settlement,
      liquidity,
    ] = await Promise.all([
      getBlock(client, at),
      readContract(client, { ...vault, functionName: "cashMarket", ...at }),
      readContract(client, { ...vault, functionName: "borrowRate", ...at }),
      readContract(client, { ...vault, functionName: "reserveShareWad", ...at }),
      readContract(client, { ...vault, functionName: "insuranceAccount", ...at }),
      readContract(client, { ...vault, functionName: "lossSocialized", ...at }),
      readContract(client, { ...vault, functionName: "badDebt", ...at }),
      readContract(client, { ...vault, functionName: "unabsorbedLoss", ...at }),
      readContract(client, { ...vault, functionName: "settlementAccount", ...at }),
      readContract(client, { ...vault, functionName: "cashLiquidity", ...at }),
    ]);
    const market = { ...stored, lastAccrual: BigInt(stored.lastAccrual) };
    const [insuranceShares, settlementCash, kink] = await Promise.all([
      readContract(client, { ...vault, functionName: "cashSharesOf", args: [insurance], ...at }),
      readContract(client, { ...vault, functionName: "cashOf", args: [settlement], ...at }),
      /^0x0{40}$/i.test(market.rateModel)
        ? undefined
        : orOnRevert(
            readContract(client, { address: market.rateModel, abi: kinkRateModelAbi, functionName: "params", ...at }),
            undefined,
          ),
    ]);
    // The insurance account never owes on the index (its debt is written off at once), so the
    // reserve share set is the one in force.
    const state: CashState = { market, borrowRate, reserveShareWad: reserveShareSetWad };
    const now = cashMarketAt(state, block.timestamp).market;
    const credit = totalSupply(now);
    const debt = totalDebt(now);
    return {
      ...state,
      blockNumber,
      timestamp: block.timestamp,
      reserveShareSetWad,
      insuranceAccount: asAccountId(insurance),
      insuranceShares,
      totalCredit: credit,
      totalDebt: debt,
      borrowAprWad: borrowApr(borrowRate),
      supplyAprWad: supplyApr(borrowRate, credit, debt, reserveShareSetWad),
      lossSocialized,
      badDebt,
      unabsorbedLoss,
      cashDepositsOpen: unabsorbedLoss === 0n,
      settlementAccount: asAccountId(settlement),
      settlementCash,
      liquidity,
      ...(kink === undefined ? {} : { kink }),
    };
  });
}
