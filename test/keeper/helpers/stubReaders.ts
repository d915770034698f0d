import type { Readers } from "../../../packages/keeper/src/readers.js";

/** A `Readers` whose every method throws unless `overrides` gives it: a test states exactly which reads it expects. */
export function stubReaders(overrides: Partial<Readers>): Readers {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected read: ${name}`));
  return {
    marketParameters: unexpected("marketParameters"),
    // Read with every parameter read; none unless a test says so.
    protectedAccounts: async () => [],
    snapshot: unexpected("snapshot"),
    confirmation: unexpected("confirmation"),
    auctions: unexpected("auctions"),
    spot: unexpected("spot"),
    // Refused unless a test answers it: the liquidation job then plans an unindexed bidder at the
    // portfolio rate, the dearer.
    marginMode: unexpected("marginMode"),
    underlyingAsset: unexpected("underlyingAsset"),
    settlementPrice: unexpected("settlementPrice"),
    seriesRetired: unexpected("seriesRetired"),
    openInterest: unexpected("openInterest"),
    underlyingCap: unexpected("underlyingCap"),
    settlementRound: unexpected("settlementRound"),
    fallbackRound: unexpected("fallbackRound"),
    settlementWindow: unexpected("settlementWindow"),
    ...overrides,
  };
}
