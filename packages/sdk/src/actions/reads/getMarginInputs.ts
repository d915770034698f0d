import type { Address, ReadContractErrorType } from "viem";
import { getBlock, readContract } from "viem/actions";

import {
  chainlinkOracleAbi,
  collateralVaultAbi,
  marginEngineAbi,
  optionMarketAbi,
  portfolioManagerAbi,
  volSurfaceOracleAbi,
} from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, pledgeRead } from "../../internal/actions.js";
import { orOnRevert } from "../../internal/reverts.js";
import {
  type CollateralInput,
  type MarginInputs,
  MarginMode,
  type SurfaceRead,
  type UnderlyingInput,
} from "../../math/engine.js";
import { decodeSeries } from "../../math/series.js";
import type { AccountId } from "../../accounts.js";

export interface GetMarginInputsParameters {
  account: AccountId;
  addressBook: AddressBook;
  /** The block to read at (its timestamp prices time to expiry). Default: the latest. */
  blockNumber?: bigint | undefined;
}

export type GetMarginInputsReturnType = MarginInputs;

export type GetMarginInputsErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Reads everything the margin engine reads for `account` — its margin mode, balances,
 * collateral parameters and prices (and which collateral assets are listed underlyings),
 * positions, each underlying's spot, vol, risk, portfolio and concentration parameters (the last
 * from the engine's portfolio manager) and posted settlement prices — as plain inputs for the SDK's exact math (`accountMargin`, `Account`), all at one
 * block. When the engine has a vol surface whose oracle lists an underlying, also the engine's
 * surface parameters and one `markVol` read per live series held on it (`docs/vol-surface.md`,
 * "Marks and margin").
 *
 * The underlyings read are those of the account's positions and of the collateral it holds in
 * a listed underlying (so its inputs also value it under portfolio margin); for a portfolio
 * account, every listed underlying (at most 32), so what-ifs that deposit an underlying or trade
 * a new one have their inputs. The reads go out in three rounds of parallel calls (four without a
 * `blockNumber`: the head's header comes first); a client created with `batch: true` sends each
 * round as one JSON-RPC batch, one with `batch: { multicall: true }` folds it into one Multicall3 call.
 *
 * Collateral that is delisted, or whose price read reverts (a stale or dead feed), gets
 * `priceWad: 0n` and counts as zero, as on chain; so does an underlying's spot when no position
 * of the account needs it. A price a position needs still throws, as the chain reverts.
 *
 * @example
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * new Account(inputs).margin().health === Health.HEALTHY;
 * new Account(inputs).withPrice(2, 200_000n * 10n ** 18n).margin().health === Health.INSOLVENT; // BTC at 200,000 USD
 */
export async function getMarginInputs(
  client: ReadClient,
  params: GetMarginInputsParameters,
): Promise<GetMarginInputsReturnType> {
  const book = params.addressBook;
  const vault = { address: book.contracts.CollateralVault, abi: collateralVaultAbi } as const;
  const engine = { address: book.contracts.MarginEngine, abi: marginEngineAbi } as const;
  const oracle = { address: book.contracts.ChainlinkOracle, abi: chainlinkOracleAbi } as const;
  const market = { address: book.contracts.OptionMarket, abi: optionMarketAbi } as const;
  return pledgeRead(client, params.addressBook, async () => {
    // At a given block, its header (for the timestamp) comes with round 1; at the head, first.
    const header = getBlock(client, params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber });
    const at = { blockNumber: params.blockNumber ?? (await header).number };

    // Round 1: the account and the registries.
    const [
      block,
      assets,
      [balances, cash],
      [ids, positionBalances],
      mode,
      underlyingCount,
      portfolioManager,
      volSurface,
      surfaceMaxAge,
    ] = await Promise.all([
      header,
      readContract(client, { ...vault, functionName: "collateralAssets", ...at }) as Promise<readonly Address[]>,
      readContract(client, { ...vault, functionName: "balancesOf", args: [params.account], ...at }),
      readContract(client, { ...market, functionName: "positionsOf", args: [params.account], ...at }),
      readContract(client, { ...engine, functionName: "marginModeOf", args: [params.account], ...at }),
      readContract(client, { ...engine, functionName: "underlyingCount", ...at }),
      readContract(client, { ...engine, functionName: "portfolioManager", ...at }),
      readContract(client, { ...engine, functionName: "volSurface", ...at }),
      readContract(client, { ...engine, functionName: "surfaceMaxAge", ...at }),
    ]);
    const surfaceOracle = { address: volSurface, abi: volSurfaceOracleAbi } as const;
    const hasSurface = BigInt(volSurface) !== 0n;
    const portfolio = mode === MarginMode.PORTFOLIO;

    // Round 2: asset configs and collateral prices, and every listed underlying's asset (to
    // tell which collateral assets are underlyings).
    const listed = Array.from({ length: underlyingCount }, (_, i) => i + 1);
    const [configs, prices, registry] = await Promise.all([
      Promise.all(
        assets.map((asset) => readContract(client, { ...vault, functionName: "assetConfig", args: [asset], ...at })),
      ),
      Promise.all(
        assets.map((asset, i) =>
          balances[i] === 0n
            ? Promise.resolve(0n)
            : zeroOnRevert(readContract(client, { ...oracle, functionName: "spot", args: [asset], ...at })),
        ),
      ),
      Promise.all(
        listed.map((index) => readContract(client, { ...engine, functionName: "underlying", args: [index], ...at })),
      ),
    ]);
    const indexOf = new Map<Address, number>(registry.map((u, i) => [u.asset.toLowerCase() as Address, listed[i]!]));
    const collateral: CollateralInput[] = assets.map((asset, i) => ({
      amount: balances[i]!,
      decimals: configs[i]!.decimals,
      priceWad: configs[i]!.delisted ? 0n : prices[i]!,
      delisted: configs[i]!.delisted,
      initialHaircutWad: configs[i]!.initialHaircutWad,
      maintenanceHaircutWad: configs[i]!.maintenanceHaircutWad,
      underlyingIndex: indexOf.get(asset.toLowerCase() as Address),
    }));

    // Round 3: spot, vol, portfolio parameters and posted settlement prices of the underlyings
    // the valuation needs.
    const needed = new Set<number>(portfolio ? listed : []);
    for (const id of ids) needed.add(decodeSeries(id).underlyingIndex);
    for (const c of collateral) if (c.amount !== 0n && c.underlyingIndex !== undefined) needed.add(c.underlyingIndex);
    const entries = await Promise.all(
      [...needed].map(async (index): Promise<[number, UnderlyingInput]> => {
        const u = registry[index - 1];
        if (u === undefined) throw new RangeError(`underlying ${index} is not listed`);
        const expired = new Set<bigint>();
        let positioned = false;
        for (const id of ids) {
          const s = decodeSeries(id);
          if (s.underlyingIndex === index) positioned = true;
          if (s.underlyingIndex === index && block.timestamp >= s.expiry) expired.add(s.expiry);
        }
        // Prices no position needs may fail (they count as zero); those a position needs may not.
        const optional = <T>(read: Promise<T>) => (positioned ? read : zeroOnRevert(read));
        // On a surface underlying the chain reads the vol feed only when a mark falls back to it,
        // so a failed read is 0 here and `markAndSpot` throws only if a mark needs it.
        const onSurface =
          hasSurface &&
          (await readContract(client, { ...surfaceOracle, functionName: "isListed", args: [u.asset], ...at }));
        const [spotWad, volWad, portfolioParams, concentration, settlements, surfaceParams] = await Promise.all([
          optional(readContract(client, { ...oracle, functionName: "spot", args: [u.asset], ...at })),
          (onSurface ? zeroOnRevert : optional)(
            readContract(client, { ...oracle, functionName: "vol", args: [u.asset], ...at }),
          ),
          readContract(client, { ...engine, functionName: "portfolioParams", args: [index], ...at }),
          readContract(client, {
            address: portfolioManager,
            abi: portfolioManagerAbi,
            functionName: "concentrationParams",
            args: [index],
            ...at,
          }),
          Promise.all(
            [...expired].map(async (expiry) => {
              const [price, posted] = await readContract(client, {
                ...oracle,
                functionName: "settlementPrice",
                args: [u.asset, expiry],
                ...at,
              });
              return [expiry, price, posted] as const;
            }),
          ),
          onSurface
            ? readContract(client, { ...engine, functionName: "surfaceParams", args: [index], ...at })
            : Promise.resolve(undefined),
        ]);
        const settlementPrices = new Map<bigint, bigint>();
        for (const [expiry, price, posted] of settlements) if (posted) settlementPrices.set(expiry, price);
        const input: UnderlyingInput = {
          spotWad,
          volWad,
          params: u.params,
          settlementPrices,
          portfolio: portfolioParams,
          concentration,
        };
        if (surfaceParams !== undefined) {
          // One `markVol` per live series held on the underlying, at the spot the engine uses.
          const live = ids.filter((id) => {
            const s = decodeSeries(id);
            return s.underlyingIndex === index && block.timestamp < s.expiry;
          });
          const reads = await Promise.all(
            live.map(async (id): Promise<[bigint, SurfaceRead]> => {
              const s = decodeSeries(id);
              const [volWad, timestamp, confidenceWad, mature] = await readContract(client, {
                ...surfaceOracle,
                functionName: "markVol",
                args: [u.asset, s.expiry, spotWad, s.strikeWad],
                ...at,
              });
              return [id, { volWad, timestamp, confidenceWad, mature }];
            }),
          );
          input.surface = {
            asset: u.asset,
            maxAge: BigInt(surfaceMaxAge),
            addOnWad: surfaceParams[2],
            reads: new Map(reads),
          };
        }
        return [index, input];
      }),
    );

    return {
      timestamp: block.timestamp,
      cash,
      cashDecimals: book.cash.decimals,
      collateral,
      positions: ids.map((seriesId, i) => ({ seriesId, balance: positionBalances[i]! })),
      underlyings: new Map(entries.sort(([a], [b]) => a - b)),
      mode: mode as MarginMode,
    };
  });
}

/** The read's value, or 0n if the contract reverted (an invalid price); other errors propagate. */
function zeroOnRevert<T>(read: Promise<T>): Promise<T | 0n> {
  return orOnRevert(read, 0n);
}
