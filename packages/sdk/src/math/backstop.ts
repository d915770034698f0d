/**
 * The Backstop's views as pure functions over margin states, same names and results as
 * `contracts/liquidation/Backstop.sol`: what the keeper computes from the states it already
 * confirmed, and what `getLatentInsolvency` reads from the chain, agree to the wei.
 */
import type { AccountId } from "../accounts.js";
import type { MarginState } from "./engine.js";

/** One account with maintenance equity below zero, as `IBackstop.Shortfall`. */
export interface Shortfall {
  account: AccountId;
  /** `−equityMM`, WAD (USD). */
  shortfallWad: bigint;
}

/** The latent insolvency among a list of accounts, as `IBackstop.LatentInsolvency`. */
export interface LatentInsolvency {
  /** How many have maintenance equity below zero (`accounts.length`). */
  count: bigint;
  /** The sum of their shortfalls, WAD. */
  totalShortfallWad: bigint;
  /** Those accounts, in the order given, each with its shortfall. */
  accounts: Shortfall[];
}

/**
 * `Backstop.latentInsolvency` over states already read (`accountsMargin`, `getAccountMargin`):
 * the accounts whose maintenance equity is below zero, each with `−equityMM`, their count and
 * their total, in the order given.
 *
 * @example
 * const states = await getAccountMargin(publicClient, { addressBook, accounts: [maker, taker] });
 * const latent = latentInsolvencyOf(states); // what `getLatentInsolvency` reads for the same accounts
 * if (latent.count > 0n) console.warn(`${latent.count} accounts short by ${latent.totalShortfallWad} WAD (USD)`);
 */
export function latentInsolvencyOf(states: readonly (MarginState & { account: AccountId })[]): LatentInsolvency {
  const accounts: Shortfall[] = [];
  let totalShortfallWad = 0n;
  for (const state of states) {
    if (state.equityMM >= 0n) continue;
    accounts.push({ account: state.account, shortfallWad: -state.equityMM });
    totalShortfallWad -= state.equityMM;
  }
  return { count: BigInt(accounts.length), totalShortfallWad, accounts };
}
