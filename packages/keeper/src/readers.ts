import { type Address, BaseError, ContractFunctionRevertedError, type PublicClient } from "viem";
import { readContract } from "viem/actions";

import {
  type AccountMarginState,
  type AuctionParams,
  type AddressBook,
  type BidPreview,
  type CashState,
  type FindFallbackRoundReturnType,
  type FindSettlementRoundReturnType,
  type GetMarketParametersReturnType,
  type GetOraclePricesReturnType,
  MarginMode,
  PledgeError,
  PledgeSettlementRoundNotFoundError,
  asAccountId,
  chainlinkOracleAbi,
  collateralVaultAbi,
  findFallbackRound,
  findSettlementRound,
  getAccountMargin,
  getMarketParameters,
  getOraclePrices,
  getPositions,
  liquidatorAbi,
  marginEngineAbi,
  optionMarketAbi,
  previewBid,
} from "@pledge/sdk";
import { errorName, isRevert, withBackoff } from "./executor.js";
import type { AccountHoldings } from "./ranking.js";
import { BigIntMap } from "./bigintKeys.js";

/** The prices, the cash market and the refreshed holdings of one tick, read together at one block. */
export interface Snapshot {
  prices: GetOraclePricesReturnType;
  /** The holdings of each account asked for whose reads succeeded; an account missing here stays unknown. */
  holdings: Map<bigint, AccountHoldings>;
  /**
   * The vault's cash market as stored, the rate its next accrual charges and the reserve share
   * (`getCashMarket`'s `CashState`): with each account's stored shares, the SDK's `cashAt` gives
   * its cash at the tick's timestamp to the wei (`valuation.ts`). Absent when a reader does not
   * read it: the accounts are then valued on chain.
   */
  cash?: CashState | undefined;
}

/** What the liquidation job reads about the accounts it confirms, at one block. */
export interface Confirmation {
  /** The keeper's own excess over initial margin, WAD (may be negative). */
  bidderExcessIM: bigint;
  /** The liquidator's auction parameters: its insurance share, and for quoting bids that start an auction locally. */
  auctionParams: AuctionParams;
  states: AccountMarginState[];
  /**
   * The protocol's own accounts (insurance, settlement, fee), which the Backstop's latent
   * insolvency leaves out: the insurance account's debt is bad debt already counted.
   */
  protectedAccounts?: readonly bigint[] | undefined;
  /**
   * Accounts the engine refused to value (a stale price of a position's underlying, say), left
   * out of `states`, with the error's name: the rest are valued and acted on (review rv16s E).
   */
  unvalued?: readonly { account: bigint; error: string }[] | undefined;
}

/** One candidate's auction and the preview of taking all that is allowed. */
export interface AuctionRead {
  account: bigint;
  auction: { active: boolean; startTime: bigint };
  /** Absent when the preview reverts or allows nothing. */
  preview: BidPreview | undefined;
}

/**
 * The keeper's reads, each returning named values. Reads that a tick makes together are issued
 * together, so a client with `batch: { multicall: true }` sends each group as one call; each
 * group is retried as a whole on transport errors.
 */
/** A first round after expiry (the SDK's `findSettlementRound`) and the spot feed it is on. */
export type SettlementRound = FindSettlementRoundReturnType & { feed: Address };

export interface Readers {
  /** Collateral list, underlyings and their parameters (rarely change). */
  marketParameters(block: bigint): Promise<GetMarketParametersReturnType>;
  /** The protocol's own accounts (insurance, settlement, fee), as `readProtectedAccounts`. */
  protectedAccounts(block: bigint): Promise<bigint[]>;
  /** Spot of `spot`, vol of `vol`, and the holdings of `accounts`, in one batch. */
  snapshot(
    request: { spot: readonly Address[]; vol: readonly Address[]; accounts: readonly bigint[] },
    block: bigint,
  ): Promise<Snapshot>;
  /**
   * The margin of every chunk of accounts (one `accountsMargin` call each), the keeper's own excess
   * (unless `bidderExcessIM` gives it, valued locally) and the insurance share, in one batch.
   */
  confirmation(
    request: { bidderAccount: bigint; chunks: readonly (readonly bigint[])[]; bidderExcessIM?: bigint | undefined },
    block: bigint,
  ): Promise<Confirmation>;
  /** Auction and full-size bid preview of each account, in one batch. */
  auctions(accounts: readonly bigint[], block: bigint): Promise<AuctionRead[]>;
  /** The oracle's spot of `asset`, or undefined when it cannot be read. */
  spot(asset: Address, block: bigint): Promise<bigint | undefined>;
  /**
   * The engine's margin mode of `account` (`marginModeOf`), or undefined when it cannot be read
   * (after retries) or is not a mode the SDK knows.
   */
  marginMode(account: bigint, block: bigint): Promise<MarginMode | undefined>;
  underlyingAsset(underlyingIndex: number): Promise<Address>;
  settlementPrice(asset: Address, expiry: bigint): Promise<{ priceWad: bigint; posted: boolean }>;
  /** Whether `retireExpired` already took the expired series out of its underlying's open interest. */
  seriesRetired(seriesId: bigint): Promise<boolean>;
  /** Σ of the series' long balances (`openInterest`): what it holds against its underlying's cap. */
  openInterest(seriesId: bigint): Promise<bigint>;
  /** The cap on the open interest summed over the underlying's unretired series (0: no cap). */
  underlyingCap(underlyingIndex: number): Promise<bigint>;
  /**
   * The first feed round at or after expiry, with the feed it was read from, or undefined while the
   * feed has none yet.
   */
  settlementRound(asset: Address, expiry: bigint): Promise<SettlementRound | undefined>;
  /**
   * Where the oracle's fallback goes after `round`, a first round after expiry that answers no price
   * (the SDK's `findFallbackRound`, on the feed `settlementRound` read): a priced round, a round still
   * to be published, or none.
   */
  fallbackRound(round: SettlementRound): Promise<FindFallbackRoundReturnType>;
  /** The oracle's settlement delay and fallback wait, seconds. */
  settlementWindow(): Promise<{ maxDelay: bigint; fallbackWait: bigint }>;
}

/** True when the contract refused the call (a revert, decoded or not); transport errors are not. */
function reverted(error: unknown): boolean {
  return (
    error instanceof PledgeError ||
    (error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError) !== null)
  );
}

/** The read's value, or undefined when the contract reverted; other errors propagate. */
async function unlessReverted<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (reverted(error)) return undefined;
    throw error;
  }
}

/** The SDK's `MarginMode` of a raw `marginModeOf` answer. */
function marginModeOf(raw: number): MarginMode | undefined {
  return Object.values(MarginMode).find((mode) => mode === raw);
}

/**
 * The protocol's own accounts at `blockNumber` — insurance, settlement, fee — which are never
 * auctioned nor paid by `absorbDebt`, and which latent insolvency leaves out.
 *
 * @example
 * const [insurance, settlement, fee] = await readProtectedAccounts(publicClient, addressBook, block);
 */
export async function readProtectedAccounts(
  client: PublicClient,
  book: AddressBook,
  blockNumber: bigint,
): Promise<bigint[]> {
  const { OptionMarket: market, Liquidator: liquidator } = book.contracts;
  const at = { blockNumber };
  return Promise.all([
    client.readContract({ address: liquidator, abi: liquidatorAbi, functionName: "insuranceAccount", ...at }),
    client.readContract({ address: market, abi: optionMarketAbi, functionName: "settlementAccount", ...at }),
    client.readContract({ address: market, abi: optionMarketAbi, functionName: "feeAccount", ...at }),
  ]);
}

/**
 * The keeper's typed readers over the SDK's read actions.
 *
 * @example
 * const readers = createReaders(publicClient, addressBook);
 * const { prices, holdings } = await readers.snapshot({ spot: [weth], vol: [weth], accounts: [7n] }, block);
 */
export function createReaders(client: PublicClient, book: AddressBook): Readers {
  const { CollateralVault: vault, OptionMarket: market, Liquidator: liquidator } = book.contracts;
  const { MarginEngine: engine, ChainlinkOracle: oracle } = book.contracts;

  /** The account's margin mode: the one place the keeper reads it. */
  const readMarginMode = (account: bigint, blockNumber: bigint) =>
    readContract(client, {
      address: engine,
      abi: marginEngineAbi,
      functionName: "marginModeOf",
      args: [account],
      blockNumber,
    });

  async function readHoldings(account: bigint, blockNumber: bigint): Promise<AccountHoldings | undefined> {
    const [balances, shares, positions, mode] = await Promise.all([
      unlessReverted(
        readContract(client, {
          address: vault,
          abi: collateralVaultAbi,
          functionName: "balancesOf",
          args: [account],
          blockNumber,
        }),
      ),
      unlessReverted(
        readContract(client, {
          address: vault,
          abi: collateralVaultAbi,
          functionName: "cashSharesOf",
          args: [account],
          blockNumber,
        }),
      ),
      unlessReverted(getPositions(client, { account: asAccountId(account), market, blockNumber })),
      unlessReverted(readMarginMode(account, blockNumber)),
    ]);
    if (balances === undefined || positions === undefined || mode === undefined) return undefined;
    const [amounts, cash] = balances;
    const marginMode = marginModeOf(mode);
    return {
      cash,
      balances: amounts,
      positions,
      ...(shares === undefined ? {} : { cashShares: shares }),
      ...(marginMode === undefined ? {} : { mode: marginMode }),
    };
  }

  /**
   * The margin states of `accounts` in one `accountsMargin` call; when the engine refuses the
   * batch (it fails closed on a stale price of any position's underlying), the halves are read
   * apart, down to the accounts it refuses one by one, which are left out and returned as
   * `unvalued`: one account holding an option on a stale underlying must not stop the keeper
   * from valuing, and liquidating, every other (review rv16s E). A transport error still throws.
   */
  async function marginsOrSkip(
    accounts: readonly bigint[],
    blockNumber: bigint,
  ): Promise<{ states: AccountMarginState[]; unvalued: { account: bigint; error: string }[] }> {
    if (accounts.length === 0) return { states: [], unvalued: [] };
    try {
      const states = await getAccountMargin(client, {
        engine,
        accounts: accounts.map(asAccountId),
        chunkSize: accounts.length,
        blockNumber,
      });
      return { states, unvalued: [] };
    } catch (error) {
      if (!isRevert(error)) throw error;
      if (accounts.length === 1) return { states: [], unvalued: [{ account: accounts[0]!, error: errorName(error) }] };
      const half = accounts.length >> 1;
      const [a, b] = await Promise.all([
        marginsOrSkip(accounts.slice(0, half), blockNumber),
        marginsOrSkip(accounts.slice(half), blockNumber),
      ]);
      return { states: [...a.states, ...b.states], unvalued: [...a.unvalued, ...b.unvalued] };
    }
  }

  /** The cash market as stored, the next accrual's rate and the reserve share, at one block (as `getCashMarket`). */
  async function readCashState(blockNumber: bigint): Promise<CashState> {
    const at = { address: vault, abi: collateralVaultAbi, blockNumber } as const;
    const [stored, borrowRate, reserveShareWad] = await Promise.all([
      readContract(client, { ...at, functionName: "cashMarket" }),
      readContract(client, { ...at, functionName: "borrowRate" }),
      readContract(client, { ...at, functionName: "reserveShareWad" }),
    ]);
    const market = { ...stored, lastAccrual: BigInt(stored.lastAccrual), epoch: BigInt(stored.epoch) };
    return { market, borrowRate, reserveShareWad };
  }

  return {
    marketParameters: (blockNumber) =>
      withBackoff(() => getMarketParameters(client, { addressBook: book, blockNumber })),
    protectedAccounts: (blockNumber) => withBackoff(() => readProtectedAccounts(client, book, blockNumber)),
    snapshot: ({ spot, vol, accounts }, blockNumber) =>
      withBackoff(async () => {
        const [prices, held, cash] = await Promise.all([
          getOraclePrices(client, { oracle, spot, vol, blockNumber }),
          Promise.all(accounts.map((account) => readHoldings(account, blockNumber))),
          readCashState(blockNumber),
        ]);
        const holdings = new BigIntMap<AccountHoldings>();
        accounts.forEach((account, i) => {
          const h = held[i];
          if (h !== undefined) holdings.set(account, h);
        });
        return { prices, holdings, cash };
      }),
    confirmation: ({ bidderAccount, chunks, bidderExcessIM: known }, blockNumber) =>
      withBackoff(async () => {
        const [bidderExcessIM, auctionParams, protectedAccounts, states] = await Promise.all([
          known ??
            readContract(client, {
              address: engine,
              abi: marginEngineAbi,
              functionName: "excessInitial",
              args: [bidderAccount],
              blockNumber,
            }),
          readContract(client, { address: liquidator, abi: liquidatorAbi, functionName: "auctionParams", blockNumber }),
          readProtectedAccounts(client, book, blockNumber),
          Promise.all(chunks.map((accounts) => marginsOrSkip(accounts, blockNumber))),
        ]);
        return {
          bidderExcessIM,
          auctionParams,
          states: states.flatMap((s) => s.states),
          protectedAccounts,
          unvalued: states.flatMap((s) => s.unvalued),
        };
      }),
    auctions: (accounts, blockNumber) =>
      withBackoff(() =>
        Promise.all(
          accounts.map(async (account): Promise<AuctionRead> => {
            const [auction, preview] = await Promise.all([
              readContract(client, {
                address: liquidator,
                abi: liquidatorAbi,
                functionName: "auctionOf",
                args: [account],
                blockNumber,
              }),
              unlessReverted(
                previewBid(client, { liquidator, account: asAccountId(account), fractionWad: 10n ** 18n, blockNumber }),
              ),
            ]);
            return {
              account,
              auction,
              preview: preview !== undefined && preview.fractionWad > 0n ? preview : undefined,
            };
          }),
        ),
      ),
    spot: (asset, blockNumber) =>
      withBackoff(() =>
        readContract(client, {
          address: oracle,
          abi: chainlinkOracleAbi,
          functionName: "spot",
          args: [asset],
          blockNumber,
        }),
      ).catch(() => undefined),
    marginMode: (account, blockNumber) =>
      withBackoff(() => readMarginMode(account, blockNumber)).then(marginModeOf, () => undefined),
    underlyingAsset: async (underlyingIndex) =>
      (
        await withBackoff(() =>
          readContract(client, {
            address: engine,
            abi: marginEngineAbi,
            functionName: "underlying",
            args: [underlyingIndex],
          }),
        )
      ).asset,
    seriesRetired: (seriesId) =>
      withBackoff(() =>
        readContract(client, {
          address: market,
          abi: optionMarketAbi,
          functionName: "seriesRetired",
          args: [seriesId],
        }),
      ),
    openInterest: (seriesId) =>
      withBackoff(() =>
        readContract(client, {
          address: market,
          abi: optionMarketAbi,
          functionName: "openInterest",
          args: [seriesId],
        }),
      ),
    underlyingCap: async (underlyingIndex) => {
      const [, underlyingCap] = await withBackoff(() =>
        readContract(client, {
          address: market,
          abi: optionMarketAbi,
          functionName: "openInterestCaps",
          args: [underlyingIndex],
        }),
      );
      return underlyingCap;
    },
    settlementPrice: async (asset, expiry) => {
      const [priceWad, posted] = await withBackoff(() =>
        readContract(client, {
          address: oracle,
          abi: chainlinkOracleAbi,
          functionName: "settlementPrice",
          args: [asset, expiry],
        }),
      );
      return { priceWad, posted };
    },
    settlementRound: async (asset, expiry) => {
      const { aggregator } = await withBackoff(() =>
        readContract(client, { address: oracle, abi: chainlinkOracleAbi, functionName: "spotFeed", args: [asset] }),
      );
      try {
        return { ...(await findSettlementRound(client, { feed: aggregator, expiry })), feed: aggregator };
      } catch (error) {
        if (error instanceof PledgeSettlementRoundNotFoundError) return undefined;
        throw error;
      }
    },
    fallbackRound: (round) =>
      withBackoff(() =>
        findFallbackRound(client, { feed: round.feed, roundId: round.roundId, decimals: round.decimals }),
      ),
    settlementWindow: async () => {
      const [maxDelay, fallbackWait] = await withBackoff(() =>
        Promise.all([
          readContract(client, { address: oracle, abi: chainlinkOracleAbi, functionName: "maxSettlementDelay" }),
          readContract(client, { address: oracle, abi: chainlinkOracleAbi, functionName: "settlementFallbackWait" }),
        ]),
      );
      return { maxDelay, fallbackWait };
    },
  };
}
