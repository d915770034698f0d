import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { type AuctionParams, Health, type MarginState, previewBidFromState } from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const params: AuctionParams = {
  startDiscountWad: WAD / 20n,
  endDiscountWad: (WAD * 3n) / 10n,
  duration: 900,
  insuranceShareWad: WAD / 10n,
  bufferWad: (WAD * 15n) / 100n,
  dustValueWad: 100n * WAD,
};
// equityMM < 0 (haircut collateral, say) lets one bid take the whole account.
const state = (markValue: bigint): MarginState => ({
  equityIM: -1n,
  equityMM: -1n,
  requirementIM: 10_000n * WAD,
  requirementMM: 8_000n * WAD,
  health: Health.INSOLVENT,
  markValue,
});

describe("auction pricing mirror (pure)", () => {
  const cash = (units: bigint) => ({ cash: units, cashDecimals: 6 });

  it("finding 11: sells the account's cash at face value, the rest at the discount", () => {
    // V = 5,000 of which 2,000 cash: the discount applies to 3,000 only (30 % → 900).
    const p = previewBidFromState(params, state(5_000n * WAD), { clockStart: 0n }, 900n, WAD, cash(2_000_000_000n));
    assert.equal(p.discountWad, params.endDiscountWad);
    assert.equal(p.payment, 4_100_000_000n);
    assert.equal(p.insuranceFee, 90_000_000n);
    // A bare bigint is a clock start; with no cash, 30 % of 5,000.
    assert.equal(previewBidFromState(params, state(5_000n * WAD), 0n, 900n, WAD, cash(0n)).payment, 3_500_000_000n);
  });

  it("review R4: a cash debt with dust collateral costs the insurance fund the debt, not (1 + d) × the debt", () => {
    // 9,000 of debt and 1 wei of collateral value: V = −9,000 + 1e-18, H = 1e-18.
    const p = previewBidFromState(params, state(-9_000n * WAD + 1n), 0n, 900n, WAD, cash(-9_000_000_000n));
    assert.equal(p.payment, -8_999_999_999n);
    assert.equal(p.insuranceFee, 0n);
  });

  it("never prices an account worth V ≥ 0 below 0, so a solvent account never draws on the insurance fund", () => {
    // V = 100 with 1,000 of cash: the rest is worth −900; 30 % of 900 = 270 > V, clamped to V.
    const p = previewBidFromState(params, state(100n * WAD + 1n), { clockStart: 0n }, 900n, WAD, cash(1_000_000_000n));
    assert.equal(p.payment, 0n);
    assert.ok(p.insuranceFee > 0n);
  });
});
