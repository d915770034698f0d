import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type AccountView,
  type StrategyConfig,
  bidProfit,
  decide,
  gasCostInCash,
} from "../../packages/keeper/src/index.js";
import { type BidPreview, Health } from "@pledge/sdk";

/**
 * Issue 12 review, P2: the Liquidator accepts a cash token with up to 36 decimals (`CashUnits`),
 * and the keeper is the one liquidation policy, but its strategy scaled cash by
 * `10n ** BigInt(18 - cashDecimals)`, which throws for 19..36: a deployment whose keeper could
 * not liquidate. The strategy now converts with the SDK's `cashUnits`.
 */
const WAD = 10n ** 18n;
const DECIMALS = 24;
const UNIT = 10n ** BigInt(DECIMALS);

const config: StrategyConfig = {
  minProfit: 10n * UNIT,
  bidGasCost: 2n * UNIT,
  maxExposure: 1_000_000_000n * UNIT,
  bidderAccount: 999n,
  bidderExcessIM: 1_000_000n * WAD,
  insuranceShareWad: WAD / 10n,
  cashDecimals: DECIMALS,
};

const preview: BidPreview = {
  fractionWad: WAD / 2n,
  maxFractionWad: WAD / 2n,
  discountWad: WAD / 20n,
  markValueWad: 10_000n * WAD,
  payment: 4_750n * UNIT,
  insuranceFee: 25n * UNIT,
  equityIMAfter: 0n,
  requirementIMAfter: 0n,
  equityMMAfter: 0n,
  requirementMMAfter: 0n,
};

// 100 below maintenance, with a live preview: at 6 decimals the keeper bids on it.
const liquidatable: AccountView = {
  account: 1n,
  state: {
    equityIM: 100n * WAD,
    equityMM: 200n * WAD,
    requirementIM: 1_000n * WAD,
    requirementMM: 800n * WAD,
    markValue: 10_000n * WAD,
    health: Health.LIQUIDATABLE,
  },
  preview,
};

describe("keeper strategy with a cash token above 18 decimals", () => {
  it("bids on a liquidatable account at 24 decimals as it does at 6", () => {
    const [decision] = decide([liquidatable], config);
    assert.equal(decision?.kind, "bid");
    const six = { ...config, cashDecimals: 6, minProfit: 10_000_000n, bidGasCost: 0n, maxExposure: 10n ** 30n };
    const sixPreview = { ...preview, payment: 4_750_000_000n, insuranceFee: 25_000_000n };
    assert.equal(decide([{ ...liquidatable, preview: sixPreview }], six)[0]?.kind, "bid");
  });

  it("prices a slice and gas in the cash asset's units", () => {
    // Half of $10,000 is $5,000; less the payment, the fee and the fixed gas cost.
    assert.equal(bidProfit(preview, config), (5_000n - 4_750n - 25n - 2n) * UNIT);
    // 1M gas at 1 gwei with ETH at $3,000 is $3, rounded up in 24-decimal units.
    assert.equal(gasCostInCash(1_000_000n, 10n ** 9n, 3_000n * WAD, DECIMALS), 3n * UNIT);
    assert.equal(gasCostInCash(1_000_000n, 10n ** 9n, 3_000n * WAD, 6), 3_000_000n);
  });
});
