import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as sdk from "../../packages/sdk/src/index.js";
import { backstopScene } from "./helpers/backstopScene.js";

const WAD = 10n ** 18n;
const usd = (amount: bigint) => amount * 10n ** 6n;

/**
 * Issue 16, item 3: the waterfall's numbers from the SDK (`getBackstopPreview`, over
 * `takeoverPreviewFromState` and `deleveragePlanOf`) equal the chain's to the wei: the takeover
 * preview against `previewTakeover`, the bankruptcy price and every holder's key against the
 * views, the order against `deleverage` itself (it refuses any other), and each close's
 * contracts, price, loss and cash against the `Deleveraged` events and the vault, then the
 * takeover against `AccountTakenOver`, on randomly sized books a BTC rally takes underwater.
 * The scene and its checks are `helpers/backstopScene.ts`, shared with the randomized twin
 * (`backstop.parity.random.test.ts`, which adds L > G, keys at the largest and every skip).
 */
describe("backstop waterfall: SDK and chain agree to the wei", async () => {
  const s = await backstopScene(0xb4c6n);
  const { rng, admin, makerWallet, takerWallet, contracts, fund } = s;
  const strikeWad = 66_000n * WAD;
  const seriesId = await s.createSeries({
    underlyingIndex: 2,
    expiry: sdk.expiryAfter(s.now, 7),
    isCall: true,
    strikeWad,
  });

  // Holders: five taker subaccounts with random cash; makers: three subaccounts each short a
  // random number of calls, sold to random holders.
  const holders = [1n, 2n, 3n, 4n, 5n].map((subId) => sdk.getAccountId(takerWallet, { subId }));
  for (const account of holders) await s.deposit(takerWallet, account, usd(rng.range(20_000n, 2_000_000n)));
  const makers = [1n, 2n, 3n].map((subId) => sdk.getAccountId(makerWallet, { subId }));
  for (const maker of makers) {
    await s.deposit(makerWallet, maker, usd(rng.range(12_000n, 30_000n)));
    const lots = 2 + rng.int(3);
    for (let i = 0; i < lots; i++) {
      const size = rng.range(1n, 3n) * (WAD / 2n);
      await s.trade({
        makerWallet,
        maker,
        takerWallet,
        taker: rng.pick(holders),
        seriesId,
        size: -size,
        priceWad: 1_000n * WAD,
      });
    }
  }
  const candidates = [...holders, fund];

  let insolvent: sdk.AccountId[] = [];

  it("agrees on the takeover preview, the bankruptcy price and every key through a rally", async () => {
    const seriesIds = [seriesId];
    insolvent = await s.rallyUntilBankrupt({ accounts: makers, seriesIds, candidates, minPercent: 4n, maxSteps: 20 });
  });

  it("deleverage accepts the SDK's order and moves exactly the SDK's closes", async () => {
    const account = insolvent[0]!;
    await s.startAuctionsAndWait([account]);
    await s.setBudget(0n, 0n);
    const { plan } = await s.checkedDeleverage(account, seriesId, candidates);
    assert.equal(plan.skips.length, 0, "rich holders: nobody skipped");
    assert.equal(await s.positionOf(account, seriesId), 0n);
  });

  it("the takeover moves what the SDK previewed, and the event says so", async () => {
    const account = insolvent[1]!;
    await s.setBudget(1_000_000n * WAD, 5_000_000n * WAD);
    // The fund needs the margin to hold the short it takes.
    await s.deposit(admin, fund, usd(1_000_000n));
    await s.startAuctionsAndWait([account]);
    await s.checkedTakeover(account, candidates, seriesId);
  });

  it("the plan lists the insurance fund but never closes it, as the chain skips it (review rv16w F4)", () => {
    const input = {
      markValue: -100n * WAD,
      positions: [{ seriesId: 7n, balance: -10n * WAD, markWad: 50n * WAD }],
      seriesId: 7n,
      holders: [
        { account: 1n as sdk.AccountId, balance: 4n * WAD, equityMM: 10_000n * WAD },
        { account: 2n as sdk.AccountId, balance: 6n * WAD, equityMM: 1_000n * WAD },
      ],
      cashDecimals: 6,
    };
    const plan = sdk.deleveragePlanOf({ ...input, insuranceAccount: 2n as sdk.AccountId });
    assert.deepEqual(
      plan.holders.map((h) => h.account),
      [2n, 1n],
      "the fund stays listed (the list must be complete)",
    );
    assert.deepEqual(
      plan.closes.map((c) => [c.account, c.contracts]),
      [[1n, 4n * WAD]],
    );
    assert.deepEqual(plan.skips, [{ account: 2n, reason: "insuranceFund" }]);
    assert.equal(plan.checked, false, "no inputs: the close is not valued");
    const onlyFund = sdk.deleveragePlanOf({
      ...input,
      holders: [input.holders[1]!],
      insuranceAccount: 2n as sdk.AccountId,
    });
    assert.equal(onlyFund.closes.length, 0, "nothing to close: the chain reverts BackstopNothingClosed");
  });
});
