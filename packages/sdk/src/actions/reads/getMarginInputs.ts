import type { Address, ReadContractErrorType } from "viem";
import { getBlock, readContract } from "viem/actions";

import { chainlinkOracleAbi, collateralVaultAbi, marginEngineAbi, optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, withPledgeErrors } from "../../internal/actions.js";
import type { CollateralInput, MarginInputs, UnderlyingInput } from "../../math/engine.js";
import { decodeSeries } from "../../math/series.js";

export interface GetMarginInputsParameters {
  account: bigint;
  addressBook: AddressBook;
}

export type GetMarginInputsReturnType = MarginInputs;

export type GetMarginInputsErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Reads everything the margin engine reads for `account` — balances, collateral
 * parameters and prices, positions, each underlying's spot, vol, risk parameters and
 * posted settlement prices — as plain inputs for the SDK's exact math (`accountMargin`,
 * `Account`), all at one block.
 *
 * @example
 * const account = new Account(await getMarginInputs(publicClient, { addressBook, account: id }));
 * console.log(account.withPrice(1, 4_000n * 10n ** 18n).margin().health);
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
  return withPledgeErrors(async () => {
    const block = await getBlock(client);
    const at = { blockNumber: block.number };
    const assets = (await readContract(client, {
      ...vault,
      functionName: "collateralAssets",
      ...at,
    })) as readonly Address[];
    const [balances, cash] = await readContract(client, {
      ...vault,
      functionName: "balancesOf",
      args: [params.account],
      ...at,
    });
    const collateral: CollateralInput[] = [];
    for (let i = 0; i < assets.length; i++) {
      const asset = assets[i]!;
      const config = await readContract(client, { ...vault, functionName: "assetConfig", args: [asset], ...at });
      const amount = balances[i]!;
      collateral.push({
        amount,
        decimals: config.decimals,
        priceWad:
          amount === 0n ? 0n : await readContract(client, { ...oracle, functionName: "spot", args: [asset], ...at }),
        initialHaircutWad: config.initialHaircutWad,
        maintenanceHaircutWad: config.maintenanceHaircutWad,
      });
    }
    const [ids, positionBalances] = await readContract(client, {
      ...market,
      functionName: "positionsOf",
      args: [params.account],
      ...at,
    });
    const underlyings = new Map<number, UnderlyingInput>();
    for (const id of ids) {
      const { underlyingIndex } = decodeSeries(id);
      if (underlyings.has(underlyingIndex)) continue;
      const u = await readContract(client, { ...engine, functionName: "underlying", args: [underlyingIndex], ...at });
      const settlementPrices = new Map<bigint, bigint>();
      for (const other of ids) {
        const s = decodeSeries(other);
        if (s.underlyingIndex !== underlyingIndex || block.timestamp < s.expiry || settlementPrices.has(s.expiry))
          continue;
        const [price, posted] = await readContract(client, {
          ...oracle,
          functionName: "settlementPrice",
          args: [u.asset, s.expiry],
          ...at,
        });
        if (posted) settlementPrices.set(s.expiry, price);
      }
      underlyings.set(underlyingIndex, {
        spotWad: await readContract(client, { ...oracle, functionName: "spot", args: [u.asset], ...at }),
        volWad: await readContract(client, { ...oracle, functionName: "vol", args: [u.asset], ...at }),
        params: u.params,
        settlementPrices,
      });
    }
    return {
      timestamp: block.timestamp,
      cash,
      cashDecimals: book.cash.decimals,
      collateral,
      positions: ids.map((seriesId, i) => ({ seriesId, balance: positionBalances[i]! })),
      underlyings,
    };
  });
}
