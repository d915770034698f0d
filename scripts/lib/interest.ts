import { type KinkParams, getCashMarket } from "../../packages/sdk/src/index.js";
import type { ChainClock } from "./chainClock.js";
import type { World } from "./world.js";

/**
 * Interest on cash in a simulation: governance switching the vault from the zero rate to a
 * kink rate model (as the timelocked admin would on a live deployment), and what the run's
 * debtors paid and creditors earned, read from the vault's `InterestAccrued` events.
 */

const WAD = 10n ** 18n;

/** A kink model and the share of interest the insurance fund keeps. */
export interface InterestPlan {
  params: KinkParams;
  reserveShareWad: bigint;
}

/**
 * The simulations' rate: 10 % a year at low utilisation (the population's, beside desks that
 * hold billions), 30 % at the 80 % kink, 330 % when fully used; a tenth of it to the insurance fund.
 */
export const SIMULATION_INTEREST: InterestPlan = {
  params: { baseRateWad: WAD / 10n, slope1Wad: WAD / 5n, slope2Wad: 3n * WAD, kinkWad: (WAD * 8n) / 10n },
  reserveShareWad: WAD / 10n,
};

/** What interest did over a run, USD, and the rates at its end. */
export interface InterestSummary {
  /** Interest debtors paid (debts grew by it), USD. */
  paidUsd: number;
  /** What creditors other than the insurance fund earned: the interest less the reserve, USD. */
  earnedUsd: number;
  /** The insurance fund's reserve share, at the end's supply index, USD. */
  toInsuranceUsd: number;
  /** Borrow and supply APRs at the end, percent. */
  borrowAprPercent: number;
  supplyAprPercent: number;
}

/**
 * Deploys a `KinkRateModel` with `plan`'s parameters (fixed at construction), sets it on the vault and sets the reserve share, each in a block of the chain
 * clock. Returns the block from which the run's interest counts.
 */
export async function enableInterest(world: World, chain: ChainClock, plan: InterestPlan): Promise<bigint> {
  const { connection, contracts, adminWallet } = world;
  let model: `0x${string}` | undefined;
  const deployed = await chain.mined(async () => {
    const { contract, deploymentTransaction } = await connection.viem.sendDeploymentTransaction(
      "KinkRateModel",
      [plan.params],
      { client: { wallet: adminWallet } },
    );
    model = contract.address;
    return deploymentTransaction.hash;
  });
  if (model === undefined) throw new Error("interest: the rate model was not deployed");
  const rateModel = model;
  await chain.mined(() => contracts.vault.write.setRateModel([rateModel], { account: adminWallet.account }));
  await chain.mined(() =>
    contracts.vault.write.setReserveShare([plan.reserveShareWad], { account: adminWallet.account }),
  );
  return deployed.blockNumber;
}

/** Interest paid and earned since block `fromBlock`, and the APRs now. */
export async function interestSince(world: World, fromBlock: bigint): Promise<InterestSummary> {
  const { vault } = world.contracts;
  const events = await world.publicClient.getContractEvents({
    address: vault.address,
    abi: vault.abi,
    eventName: "InterestAccrued",
    fromBlock,
    strict: true,
  });
  const cash = await getCashMarket(world.publicClient, { addressBook: world.book });
  let paid = 0n;
  let reserveShares = 0n;
  for (const { args } of events) {
    paid += args.interest;
    reserveShares += args.reserveShares;
  }
  const scale = 10 ** world.book.cash.decimals;
  const toInsurance = (reserveShares * cash.market.supplyIndex) / WAD;
  return {
    paidUsd: Number(paid) / scale,
    earnedUsd: Number(paid - toInsurance) / scale,
    toInsuranceUsd: Number(toInsurance) / scale,
    borrowAprPercent: Number(cash.borrowAprWad) / 1e16,
    supplyAprPercent: Number(cash.supplyAprWad) / 1e16,
  };
}
