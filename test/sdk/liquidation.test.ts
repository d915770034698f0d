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
    // V = 5,000 of which 2,000 cash: the discount applies to 3,000 only. The state is insolvent
    // (equityMM < 0), so the discount stays at the start, 5 % (→ 150), after the whole duration.
    const p = previewBidFromState(params, state(5_000n * WAD), { clockStart: 0n }, 900n, WAD, cash(2_000_000_000n));
    assert.equal(p.discountWad, params.startDiscountWad);
    assert.equal(p.payment, 4_850_000_000n);
    assert.equal(p.insuranceFee, 15_000_000n);
    // A bare bigint is a clock start; with no cash, 5 % of 5,000.
    assert.equal(previewBidFromState(params, state(5_000n * WAD), 0n, 900n, WAD, cash(0n)).payment, 4_750_000_000n);
  });

  it("issue 16: an insolvent account's discount stays at the start; a solvent one's grows", () => {
    const insolvent = state(-1_000n * WAD);
    const early = previewBidFromState(params, insolvent, 0n, 0n, WAD, cash(-3_000_000_000n));
    const late = previewBidFromState(params, insolvent, 0n, 10_000n, WAD, cash(-3_000_000_000n));
    assert.equal(late.discountWad, params.startDiscountWad);
    assert.equal(late.payment, early.payment, "the fund pays no more later");
    assert.equal(early.payment, -1_100_000_000n); // |V| + 5 % of |H| = 1,000 + 5 % × 2,000
    const solvent: MarginState = { ...state(5_000n * WAD), equityIM: 0n, equityMM: 0n, health: Health.LIQUIDATABLE };
    assert.equal(previewBidFromState(params, solvent, 0n, 900n, WAD, cash(0n)).discountWad, params.endDiscountWad);
  });

  it("review R4: a cash debt with dust collateral costs the insurance fund the debt, not (1 + d) × the debt", () => {
    // 9,000 of debt and 1 wei of collateral value: V = −9,000 + 1e-18, H = 1e-18.
    const p = previewBidFromState(params, state(-9_000n * WAD + 1n), 0n, 900n, WAD, cash(-9_000_000_000n));
    assert.equal(p.payment, -8_999_999_999n);
    assert.equal(p.insuranceFee, 0n);
  });

  it("never prices an account worth V ≥ 0 below 0, so a solvent account never draws on the insurance fund", () => {
    // V = 100 with 3,000 of cash: the rest is worth −2,900; 5 % of 2,900 = 145 > V, clamped to V.
    const p = previewBidFromState(params, state(100n * WAD + 1n), { clockStart: 0n }, 900n, WAD, cash(3_000_000_000n));
    assert.equal(p.payment, 0n);
    assert.ok(p.insuranceFee > 0n);
  });
});
