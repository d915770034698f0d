import type { Address, PublicClient } from "viem";

import {
  type AddressBook,
  type CollateralInput,
  type MarginInputs,
  type UnderlyingInput,
  chainlinkOracleAbi,
  collateralVaultAbi,
  decodeSeries,
  marginEngineAbi,
  optionMarketAbi,
} from "../../packages/sdk/src/index.js";

/**
 * Reads everything the margin engine reads for `account`, as plain SDK inputs, so the
 * SDK's `Account` can answer "what if" questions offline.
 */
export async function readMarginInputs(
  client: PublicClient,
  book: AddressBook,
  account: bigint,
): Promise<MarginInputs> {
  const vault = { address: book.contracts.CollateralVault, abi: collateralVaultAbi } as const;
  const engine = { address: book.contracts.MarginEngine, abi: marginEngineAbi } as const;
  const oracle = { address: book.contracts.ChainlinkOracle, abi: chainlinkOracleAbi } as const;
  const market = { address: book.contracts.OptionMarket, abi: optionMarketAbi } as const;
  const timestamp = (await client.getBlock()).timestamp;
  const assets = (await client.readContract({ ...vault, functionName: "collateralAssets" })) as readonly Address[];
  const [balances, cash] = await client.readContract({ ...vault, functionName: "balancesOf", args: [account] });
  const collateral: CollateralInput[] = [];
  for (let i = 0; i < assets.length; i++) {
    const config = await client.readContract({ ...vault, functionName: "assetConfig", args: [assets[i]!] });
    const amount = balances[i]!;
    collateral.push({
      amount,
      decimals: config.decimals,
      priceWad: amount === 0n ? 0n : await client.readContract({ ...oracle, functionName: "spot", args: [assets[i]!] }),
      initialHaircutWad: config.initialHaircutWad,
      maintenanceHaircutWad: config.maintenanceHaircutWad,
    });
  }
  const [ids, positionBalances] = await client.readContract({
    ...market,
    functionName: "positionsOf",
    args: [account],
  });
  const underlyings = new Map<number, UnderlyingInput>();
  for (const id of ids) {
    const index = decodeSeries(id).underlyingIndex;
    if (underlyings.has(index)) continue;
    const u = await client.readContract({ ...engine, functionName: "underlying", args: [index] });
    underlyings.set(index, {
      spotWad: await client.readContract({ ...oracle, functionName: "spot", args: [u.asset] }),
      volWad: await client.readContract({ ...oracle, functionName: "vol", args: [u.asset] }),
      params: u.params,
    });
  }
  return {
    timestamp,
    cash,
    cashDecimals: book.cash.decimals,
    collateral,
    positions: ids.map((seriesId, i) => ({ seriesId, balance: positionBalances[i]! })),
    underlyings,
  };
}
