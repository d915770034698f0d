import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type AuctionParams,
  Health,
  type MarginState,
  bidDiscountAt,
  previewBidFromState,
} from "../../packages/sdk/src/index.js";

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
    // V = 5,000 of which 2,000 cash: the discount applies to 3,000 only (30 % → 900). V ≥ 0, so
    // the clock's discount applies although equityMM < 0 (review rv16 F1).
    const p = previewBidFromState(params, state(5_000n * WAD), { clockStart: 0n }, 900n, WAD, cash(2_000_000_000n));
    assert.equal(p.discountWad, params.endDiscountWad);
    assert.equal(p.payment, 4_100_000_000n);
    assert.equal(p.insuranceFee, 90_000_000n);
    // A bare bigint is a clock start; with no cash, 30 % of 5,000.
    assert.equal(previewBidFromState(params, state(5_000n * WAD), 0n, 900n, WAD, cash(0n)).payment, 3_500_000_000n);
  });

  it("issue 16: the discount of an account worth less than nothing stays at the start; a solvent one's grows", () => {
    const insolvent = state(-1_000n * WAD);
    const early = previewBidFromState(params, insolvent, 0n, 0n, WAD, cash(-3_000_000_000n));
    const late = previewBidFromState(params, insolvent, 0n, 10_000n, WAD, cash(-3_000_000_000n));
    assert.equal(late.discountWad, params.startDiscountWad);
    assert.equal(late.payment, early.payment, "the fund pays no more later");
    assert.equal(early.payment, -1_100_000_000n); // |V| + 5 % of |H| = 1,000 + 5 % × 2,000
    const solvent: MarginState = { ...state(5_000n * WAD), equityIM: 0n, equityMM: 0n, health: Health.LIQUIDATABLE };
    assert.equal(previewBidFromState(params, solvent, 0n, 900n, WAD, cash(0n)).discountWad, params.endDiscountWad);
  });

  it("review rv16 F1: the cap keys on V < 0, not equityMM < 0, so a first slice cannot unlock the grown discount", () => {
    // Below zero through haircuts only: V = 1 wei ≥ 0 > equityMM. The fund can never pay on it,
    // and a bid cannot move it across V = 0, so it escalates like any solvent account.
    const haircutOnly = state(1n);
    assert.equal(bidDiscountAt(params, haircutOnly.markValue, 0n, 900n), params.endDiscountWad);
    assert.equal(previewBidFromState(params, haircutOnly, 0n, 900n, WAD, cash(0n)).discountWad, params.endDiscountWad);
    assert.equal(bidDiscountAt(params, 0n, 0n, 900n), params.endDiscountWad, "V = 0: not capped");
    assert.equal(bidDiscountAt(params, -1n, 0n, 900n), params.startDiscountWad, "V = −1 wei: capped");
  });

  it("review R4: a cash debt with dust collateral costs the insurance fund the debt, not (1 + d) × the debt", () => {
    // 9,000 of debt and 1 wei of collateral value: V = −9,000 + 1e-18, H = 1e-18.
    const p = previewBidFromState(params, state(-9_000n * WAD + 1n), 0n, 900n, WAD, cash(-9_000_000_000n));
    assert.equal(p.payment, -8_999_999_999n);
    assert.equal(p.insuranceFee, 0n);
  });

  it("never prices an account worth V ≥ 0 below 0, so a solvent account never draws on the insurance fund", () => {
    // V = 100 with 3,000 of cash: the rest is worth −2,900; 30 % of 2,900 = 870 > V, clamped to V.
    const p = previewBidFromState(params, state(100n * WAD + 1n), { clockStart: 0n }, 900n, WAD, cash(3_000_000_000n));
    assert.equal(p.payment, 0n);
    assert.ok(p.insuranceFee > 0n);
  });
});
