import type { Address } from "viem";
import { zeroAddress } from "viem";

import type { CashState, GetMarketParametersReturnType } from "@pledge/sdk";
import type { AccountHoldings } from "../../../packages/keeper/src/ranking.js";

/**
 * The one-underlying market the keeper's local-valuation tests value accounts in: USDC cash
 * (no haircut) and WETH collateral, one listed underlying (WETH), and cash at a zero rate.
 */
export const WAD = 10n ** 18n;
export const USDC = 10n ** 6n;
export const usdc: Address = "0x00000000000000000000000000000000000000c1";
export const weth: Address = "0x00000000000000000000000000000000000000c2";

/** The market's parameters with a WETH maintenance haircut of `mmHaircut` (initial: at least 10 %). */
export const marketParams = (mmHaircut = WAD / 20n): GetMarketParametersReturnType => ({
  collateral: [
    { asset: usdc, decimals: 6, initialHaircutWad: 0n, maintenanceHaircutWad: 0n, delisted: false },
    {
      asset: weth,
      decimals: 18,
      initialHaircutWad: mmHaircut > WAD / 10n ? mmHaircut : WAD / 10n,
      maintenanceHaircutWad: mmHaircut,
      delisted: false,
    },
  ],
  underlyings: new Map([
    [1, { asset: weth, params: { aIM: WAD / 5n, bIM: WAD / 10n, aMM: WAD / 8n, bMM: WAD / 16n } }],
  ]),
});

/** Prices with WETH at `wethUsd` dollars and a 50 % vol. */
export const pricesAt = (wethUsd = 3_000n) => ({
  spotWad: new Map([
    [usdc, WAD],
    [weth, wethUsd * WAD],
  ]),
  volWad: new Map([[weth, WAD / 2n]]),
});

/** The zero rate at index 1: shares are cash units. */
export const zeroRateCash: CashState = {
  market: {
    supplyIndex: WAD,
    debtIndex: WAD,
    totalSupplyShares: 10n ** 12n,
    totalDebtShares: 10n ** 10n,
    rateModel: zeroAddress,
    lastAccrual: 0n,
    lastRate: 0n,
    epoch: 0n,
  },
  borrowRate: 0n,
  reserveShareWad: 0n,
};

/** 1 WETH beside `usd` of cash (negative: owed). */
export const held = (usd: bigint): AccountHoldings => ({
  cash: usd * USDC,
  cashShares: usd * USDC,
  balances: [0n, WAD],
  positions: [],
});
