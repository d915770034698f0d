import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  type AccountView,
  SKIP_NONCE_CHECK,
  type StrategyConfig,
  bidManyGasGuard,
  bidMarginCost,
  bidProfit,
  bidsPerBatch,
  decide,
  gasCostInCash,
} from "../../packages/keeper/src/index.js";
import { type BidPreview, Health, type MarginState } from "@pledge/sdk";

const WAD = 10n ** 18n;
const config: StrategyConfig = {
  minProfit: 10_000_000n, // 10 USDC
  bidGasCost: 2_000_000n, // 2 USDC
  maxExposure: 1_000_000_000_000n,
  bidderAccount: 999n,
  bidderExcessIM: 1_000_000n * WAD,
  insuranceShareWad: WAD / 10n,
  cashDecimals: 6,
};

function state(equityIM: bigint, equityMM: bigint, requirementIM: bigint, requirementMM: bigint): MarginState {
  const health =
    equityMM < 0n
      ? Health.INSOLVENT
      : equityMM < requirementMM
        ? Health.LIQUIDATABLE
        : equityIM < requirementIM
          ? Health.MARGIN_CALL
          : Health.HEALTHY;
  return { equityIM, equityMM, requirementIM, requirementMM, health, markValue: equityMM };
}

function preview(overrides: Partial<BidPreview> = {}): BidPreview {
  return {
    fractionWad: WAD / 2n,
    maxFractionWad: WAD / 2n,
    discountWad: WAD / 20n,
    markValueWad: 10_000n * WAD,
    payment: 4_750_000_000n,
    insuranceFee: 25_000_000n,
    equityIMAfter: 0n,
    requirementIMAfter: 0n,
    equityMMAfter: 0n,
    requirementMMAfter: 0n,
    ...overrides,
  };
}

describe("keeper strategy (pure)", () => {
  it("starts auctions on accounts below MM, most urgent first", () => {
    const views: AccountView[] = [
      { account: 1n, state: state(900n * WAD, 950n * WAD, 1_000n * WAD, 1_000n * WAD) },
      { account: 2n, state: state(100n * WAD, 200n * WAD, 1_000n * WAD, 800n * WAD) },
      { account: 3n, state: state(5_000n * WAD, 5_000n * WAD, 1_000n * WAD, 500n * WAD) },
    ];
    assert.deepEqual(decide(views, config), [
      { kind: "startAuction", account: 2n, reason: "noPreview" },
      { kind: "startAuction", account: 1n, reason: "noPreview" },
    ]);
  });

  it("bids only when the discount covers gas and the minimum profit", () => {
    const underwater = state(100n * WAD, 200n * WAD, 1_000n * WAD, 800n * WAD);
    const auction = { active: true, startTime: 0n };
    // 0.5 × 10,000 × 5 % = 250 USD of discount, less the 25 USD fee and 2 USD gas.
    const [decision] = decide([{ account: 7n, state: underwater, auction, preview: preview() }], config);
    assert.deepEqual(decision, {
      kind: "bid",
      account: 7n,
      fractionWad: WAD / 2n,
      maxPayment: 4_750_000_000n,
      expectedNonce: SKIP_NONCE_CHECK,
      profit: 223_000_000n,
      startsAuction: false,
    });
    // A slice worth 2 USD of discount is not worth the gas.
    const thin = preview({ markValueWad: 80n * WAD, payment: 38_000_000n, insuranceFee: 200_000n });
    assert.deepEqual(decide([{ account: 7n, state: underwater, auction, preview: thin }], config), [
      { kind: "withhold", account: 7n, reason: "unprofitable" },
    ]);
  });

  it("bids directly on a below-MM account with no auction, starting it only when it will not bid", () => {
    const underwater = state(100n * WAD, 200n * WAD, 1_000n * WAD, 800n * WAD);
    // No auction yet: the preview is of the bid that starts it, at the starting discount.
    const [decision] = decide([{ account: 7n, state: underwater, preview: preview() }], config);
    assert.deepEqual(decision, {
      kind: "bid",
      account: 7n,
      fractionWad: WAD / 2n,
      maxPayment: 4_750_000_000n,
      expectedNonce: SKIP_NONCE_CHECK,
      profit: 223_000_000n,
      startsAuction: true,
    });
    // The preview is of the latest block; a slippage allowance raises the price cap and counts against the profit.
    const [loose] = decide([{ account: 7n, state: underwater, preview: preview() }], {
      ...config,
      maxSlippageWad: WAD / 1_000n,
    });
    assert.deepEqual(loose, { ...decision, maxPayment: 4_754_750_000n, profit: 218_250_000n });
    // Unprofitable at 5 %: the keeper only starts the auction, so the discount grows.
    const thin = preview({ markValueWad: 80n * WAD, payment: 38_000_000n, insuranceFee: 200_000n });
    assert.deepEqual(decide([{ account: 7n, state: underwater, preview: thin }], config), [
      { kind: "startAuction", account: 7n, reason: "unprofitable" },
    ]);
    // Beyond the keeper's exposure: the same.
    const capped = { ...config, maxExposure: 1_000_000_000n };
    assert.deepEqual(decide([{ account: 7n, state: underwater, preview: preview() }], capped), [
      { kind: "startAuction", account: 7n, reason: "exposure" },
    ]);
  });

  it("respects the keeper's exposure and its own margin", () => {
    const underwater = state(100n * WAD, 200n * WAD, 1_000n * WAD, 800n * WAD);
    const auction = { active: true, startTime: 0n };
    const views: AccountView[] = [
      { account: 7n, state: underwater, auction, preview: preview() },
      { account: 8n, state: underwater, auction, preview: preview() },
    ];
    // A slice costs 4,750 + 25 paid plus half the account's 900 shortfall below IM: 5,225.
    assert.equal(bidMarginCost(preview(), underwater, 6), 5_225n * WAD);
    const poor = { ...config, bidderExcessIM: 10_000n * WAD }; // room for one slice, not two
    assert.equal(decide(views, poor).filter((d) => d.kind === "bid").length, 1);
    const exact = { ...config, bidderExcessIM: 10_450n * WAD }; // exactly two
    assert.equal(decide(views, exact).filter((d) => d.kind === "bid").length, 2);
    const capped = { ...config, maxExposure: 1_000_000_000n };
    assert.equal(decide(views, capped).filter((d) => d.kind === "bid").length, 0);
  });

  it("start-and-leave: a bidder that cannot absorb a slice still starts the auction, and says why", () => {
    const underwater = state(100n * WAD, 200n * WAD, 1_000n * WAD, 800n * WAD);
    const views: AccountView[] = [
      { account: 7n, state: underwater, preview: preview() },
      { account: 8n, state: underwater, preview: preview() },
    ];
    // No excess over IM at all (an empty or a fully used bidder): every auction is started, none bid.
    assert.deepEqual(decide(views, { ...config, bidderExcessIM: 0n }), [
      { kind: "startAuction", account: 7n, reason: "margin" },
      { kind: "startAuction", account: 8n, reason: "margin" },
    ]);
    // Room for one slice (5,225): the first is bid on and starts its auction, the second left.
    const decisions = decide(views, { ...config, bidderExcessIM: 6_000n * WAD });
    assert.deepEqual(
      decisions.map((d) => [
        d.kind,
        d.account,
        d.kind === "bid" ? d.startsAuction : d.kind === "startAuction" && d.reason,
      ]),
      [
        ["bid", 7n, true],
        ["startAuction", 8n, "margin"],
      ],
    );
    // A running auction the bidder cannot absorb is left as it is: nothing to send, the reason reported.
    const auction = { active: true, startTime: 0n };
    assert.deepEqual(decide([{ ...views[0]!, auction }], { ...config, bidderExcessIM: 0n }), [
      { kind: "withhold", account: 7n, reason: "margin" },
    ]);
  });

  it("keeps its reserve over IM unspent, and bids only from its minimum discount", () => {
    const underwater = state(100n * WAD, 200n * WAD, 1_000n * WAD, 800n * WAD);
    const views: AccountView[] = [
      { account: 7n, state: underwater, preview: preview() },
      { account: 8n, state: underwater, preview: preview() },
    ];
    // Room for exactly two slices of 5,225; a reserve of 5,000 leaves room for one.
    const exact = { ...config, bidderExcessIM: 10_450n * WAD };
    assert.equal(decide(views, exact).filter((d) => d.kind === "bid").length, 2);
    assert.deepEqual(
      decide(views, { ...exact, reserveWad: 5_000n * WAD }).map((d) => d.kind === "startAuction" && d.reason),
      [false, "margin"],
    );
    // A reserve above the whole excess: nothing is bid, every auction started.
    assert.ok(decide(views, { ...exact, reserveWad: 20_000n * WAD }).every((d) => d.kind === "startAuction"));
    // The preview's discount is 5 %: at a 10 % minimum the keeper starts the auction and waits;
    // a running one is withheld until its discount reaches 10 %.
    const patient = { ...config, minDiscountWad: WAD / 10n };
    assert.deepEqual(decide([views[0]!], patient), [{ kind: "startAuction", account: 7n, reason: "discount" }]);
    const auction = { active: true, startTime: 0n };
    assert.deepEqual(decide([{ ...views[0]!, auction }], patient), [
      { kind: "withhold", account: 7n, reason: "discount" },
    ]);
    const later = preview({ discountWad: WAD / 10n });
    assert.equal(decide([{ ...views[0]!, auction, preview: later }], patient)[0]!.kind, "bid");
  });

  it("review rv16 F2: an account worth less than nothing below the minimum discount is capped, not waited for", () => {
    // V < 0: the liquidator keeps the start discount (5 %) however long the auction runs, so a
    // 10 % minimum is never reached; the keeper says so instead of "waits for it to grow".
    const bankrupt = state(-2_000n * WAD, -1_000n * WAD, 1_000n * WAD, 800n * WAD);
    const capped = preview({ markValueWad: -1_000n * WAD, payment: -600_000_000n, insuranceFee: 0n });
    const patient = { ...config, minDiscountWad: WAD / 10n };
    const auction = { active: true, startTime: 0n };
    assert.deepEqual(decide([{ account: 7n, state: bankrupt, preview: capped }], patient), [
      { kind: "startAuction", account: 7n, reason: "capped" },
    ]);
    assert.deepEqual(decide([{ account: 7n, state: bankrupt, preview: capped, auction }], patient), [
      { kind: "withhold", account: 7n, reason: "capped" },
    ]);
    // Below zero through haircuts only (V ≥ 0): its discount grows, so it is "discount".
    const haircutOnly = { ...bankrupt, markValue: 500n * WAD };
    assert.deepEqual(
      decide([{ account: 7n, state: haircutOnly, preview: preview({ markValueWad: 500n * WAD }), auction }], patient),
      [{ kind: "withhold", account: 7n, reason: "discount" }],
    );
    // With no minimum the capped account is bid like any other.
    assert.equal(decide([{ account: 7n, state: bankrupt, preview: capped, auction }], config)[0]!.kind, "bid");
  });

  it("terminates auctions of accounts back above IM and reports margin calls", () => {
    const recovered = state(2_000n * WAD, 2_000n * WAD, 1_000n * WAD, 500n * WAD);
    const marginCall = state(900n * WAD, 950n * WAD, 1_000n * WAD, 500n * WAD);
    assert.deepEqual(
      decide(
        [
          { account: 4n, state: recovered, auction: { active: true, startTime: 0n } },
          { account: 5n, state: marginCall },
          { account: config.bidderAccount, state: marginCall },
        ],
        config,
      ),
      [
        { kind: "marginCall", account: 5n, excessIM: -100n * WAD },
        { kind: "terminateAuction", account: 4n },
      ],
    );
  });

  it("finding 3: terminates the auction of an account back above maintenance, even below IM", () => {
    const aboveMM = state(900n * WAD, 950n * WAD, 1_000n * WAD, 500n * WAD);
    assert.deepEqual(decide([{ account: 4n, state: aboveMM, auction: { active: true, startTime: 0n } }], config), [
      { kind: "terminateAuction", account: 4n },
    ]);
  });

  it("prices a bid's profit from its payment, so cash paid in earlier and sold at par earns nothing", () => {
    // 0.5 of V = 10,000 is worth 5,000; paying 4,750 + 25 leaves 225, less 2 of fixed cost.
    assert.equal(bidProfit(preview(), config), 223_000_000n);
    // An insolvent slice: V = −1,000, the fund pays 525 for half: worth −500, profit 25 less 2.
    const insolvent = preview({ markValueWad: -1_000n * WAD, payment: -525_000_000n, insuranceFee: 0n });
    assert.equal(bidProfit(insolvent, config), 23_000_000n);
  });

  it("finding 13: a bid must pay its simulated gas at the fee cap, and stay under the gas cap", () => {
    // 1M gas at 1 gwei with ETH at $3,000 is $3.
    assert.equal(gasCostInCash(1_000_000n, 10n ** 9n, 3_000n * WAD, 6), 3_000_000n);
    const gasConfig = {
      maxBidGas: 3_000_000n,
      maxBatchGas: 30_000_000n,
      nativePriceWad: 3_000n * WAD,
      minProfit: 5_000_000n,
      cashDecimals: 6,
    };
    const guard = bidManyGasGuard([10_000_000n], gasConfig);
    const fees = { maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 10n ** 8n };
    assert.equal(guard(1_000_000n, fees), undefined); // 10 − 3 ≥ 5
    assert.equal(guard(2_000_000n, fees), "BidUnprofitableAfterGas"); // 10 − 6 < 5: a dust account with many positions
    assert.equal(guard(3_100_000n, fees), "BidGasCap");
    // A batch: the caps and the minimum profit scale with its bids; the gas is shared.
    const batch = bidManyGasGuard([10_000_000n, 10_000_000n], gasConfig);
    assert.equal(batch(4_000_000n, fees), "BidUnprofitableAfterGas"); // 20 − 12 < 2 × 5
    assert.equal(batch(2_000_000n, fees), undefined); // 20 − 6 ≥ 10
    assert.equal(bidManyGasGuard([100_000_000n, 100_000_000n], gasConfig)(6_100_000n, fees), "BidGasCap");
    // Sent with the simulation + 30 %: above the batch cap it is refused (the keeper halves it).
    const many = bidManyGasGuard(Array<bigint>(30).fill(100_000_000n), gasConfig);
    assert.equal(many(23_000_000n, fees), undefined); // 29.9M sent
    assert.equal(many(23_100_000n, fees), "BatchGasCap"); // 30.03M
    // Without a native price only the caps apply.
    const unpriced = bidManyGasGuard([0n], { ...gasConfig, nativePriceWad: undefined, minProfit: 0n });
    assert.equal(unpriced(2_000_000n, fees), undefined);
  });

  it("packs as many bids into a batch as its gas cap allows, at least one", () => {
    assert.equal(bidsPerBatch(30_000_000n, 900_000n), 25); // 25 × 0.9M × 1.3 = 29.25M
    assert.equal(bidsPerBatch(30_000_000n, 40_000_000n), 1);
    assert.equal(bidsPerBatch(30_000_000n, 0n), 23_076_923);
  });
});
