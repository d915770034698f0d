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
  /**
   * The accounts whose margin could not be valued (a price one of their positions needs is stale,
   * out of bounds or unreadable), in the order given: neither counted nor hidden.
   */
  unpriced: AccountId[];
}

/**
 * `Backstop.latentInsolvency` over states already read (`accountsMargin`, `getAccountMargin`):
 * the accounts whose maintenance equity is below zero, each with `−equityMM`, their count and
 * their total, in the order given. The protocol's own accounts (insurance, settlement, fee),
 * which the view leaves out, are passed as `protectedAccounts` (the keeper reads them each
 * tick); without them they are counted. `states` are accounts already valued, so `unpriced`
 * is empty: an account the caller could not value is the caller's to report.
 *
 * @example
 * const states = await getAccountMargin(publicClient, { addressBook, accounts: [maker, taker] });
 * const insurance = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "insuranceAccount" });
 * // The market's settlementAccount and feeAccount likewise; then what `getLatentInsolvency` reads:
 * const latent = latentInsolvencyOf(states, { protectedAccounts: [insurance] });
 * if (latent.count > 0n) console.warn(`${latent.count} accounts short by ${latent.totalShortfallWad} WAD (USD)`);
 */
export function latentInsolvencyOf(
  states: readonly (MarginState & { account: AccountId })[],
  options: { protectedAccounts?: Iterable<bigint> | undefined } = {},
): LatentInsolvency {
  const excluded = new Set<bigint>(options.protectedAccounts ?? []);
  const accounts: Shortfall[] = [];
  let totalShortfallWad = 0n;
  for (const state of states) {
    if (state.equityMM >= 0n || excluded.has(state.account)) continue;
    accounts.push({ account: state.account, shortfallWad: -state.equityMM });
    totalShortfallWad -= state.equityMM;
  }
  return { count: BigInt(accounts.length), totalShortfallWad, accounts, unpriced: [] };
}
