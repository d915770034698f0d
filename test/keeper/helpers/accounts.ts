import { type AccountMarginState, Health, asAccountId } from "@pledge/sdk";

const WAD = 10n ** 18n;

/** An account's confirmed margin at `health`: requirement 10 USD at IM and 5 at MM, no equity, no mark. */
export function marginState(account: bigint, health: Health): AccountMarginState {
  return {
    account: asAccountId(account),
    equityIM: 0n,
    equityMM: 0n,
    requirementIM: 10n * WAD,
    requirementMM: 5n * WAD,
    health,
    markValue: 0n,
  };
}

/**
 * An account below MM whose whole-account bid at the 5 % starting discount pays off: marked at
 * 1,000 USD with no cash, so the bidder pays 950 USD for 1,000 USD (less the insurance fee); its
 * maintenance equity is negative, so the liquidator sells it whole.
 */
export function quotable(account: bigint): AccountMarginState {
  return { ...marginState(account, Health.LIQUIDATABLE), markValue: 1_000n * WAD, equityMM: -WAD };
}

/** The liquidator's parameters the confirmation reads (the deployment's, `docs/liquidation.md`). */
export const auctionParams = {
  startDiscountWad: WAD / 20n,
  endDiscountWad: (3n * WAD) / 10n,
  duration: 900,
  insuranceShareWad: WAD / 10n,
  bufferWad: (15n * WAD) / 100n,
  dustValueWad: 0n,
};
