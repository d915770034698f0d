import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEventLogs } from "viem";

import * as sdk from "../../packages/sdk/src/index.js";
import { type BackstopScene, backstopScene } from "./helpers/backstopScene.js";

const WAD = 10n ** 18n;
const MAX_UINT256 = 2n ** 256n - 1n;
const usd = (amount: bigint) => amount * 10n ** 6n;

/**
 * Review rv16w2 and issue 16 ("mirrored in the SDK to the wei"): `getBackstopPreview` against the
 * chain, over five seeds, on a book built to reach every branch of the waterfall's numbers.
 *
 * Each seed lists a BTC call and a BTC put; every maker is short calls and long puts, so a rally
 * makes it bankrupt with a position on both sides (the call series is the short-account branch,
 * m − shade, cash rounded up; the put series the long-account branch, m + shade, cash rounded
 * down; G sums two terms rounded up). Rich holders take the other side (on some seeds two with
 * identical books, so their keys tie and the id breaks the tie). Six **levered holders** hold the
 * same sides, small, and are short ETH calls too; an ETH rally takes them all below zero
 * (maintenance equity ≤ 0: the largest key). The fund takes the first over (so the **insurance
 * fund** is an opposite holder in both series, always skipped), two stay below zero (their keys
 * tie at the largest and sort by id; their closes are skipped), and three are topped up: one to
 * a random excess around what its call's close costs (**skipped by its close** or closed), one to
 * just below maintenance, by less than its short put requires (**closed from below maintenance**
 * in the put series: its close lowers its requirement), one at random among those and below or
 * well above maintenance. A debtor maker also sold BTC calls of an early expiry: settled after a further rally,
 * its cash is a debt larger than its positions' gross value (**L > G**): deleveraging both series
 * at the capped shade leaves it a bare debt, which `absorbDebt` pays at par, the fund's cash
 * covering it on some seeds and falling short (bad debt) on the others.
 *
 * Every deleverage is checked to the wei (`checkedDeleverage`): price, shade, keys, order, each
 * close and skip event, every cash move, balances, positions and each closed holder's margin
 * after. Each case is counted, and the last test fails unless every one occurred.
 */
const SEEDS = [0x16a1n, 0x16a2n, 0x16a3n, 0x16a4n, 0x16a5n];
const hits = {
  lossAboveGross: 0,
  debtAbsorbed: 0,
  debtAbsorbedPastFundCash: 0,
  nonPositiveEquityKeys: 0,
  largestKeyTies: 0,
  fundSkipped: 0,
  skippedFromMaintenance: 0,
  skippedAlreadyBelow: 0,
  leveredClosed: 0,
  closedFromBelowMaintenance: 0,
  minimumBidEdges: 0,
};

for (const [index, seed] of SEEDS.entries()) {
  describe(`backstop waterfall, seed ${seed.toString(16)}: SDK and chain agree to the wei`, async () => {
    const s: BackstopScene = await backstopScene(seed);
    const { rng, contracts, addressBook, publicClient, admin, makerWallet, takerWallet, keeperWallet, fund } = s;
    const expiry = sdk.expiryAfter(s.now, 7);
    const earlyExpiry = sdk.expiryAfter(s.now, 1);
    const callId = await s.createSeries({
      underlyingIndex: 2,
      expiry,
      isCall: true,
      strikeWad: rng.range(62n, 70n) * 1_000n * WAD,
    });
    const putId = await s.createSeries({
      underlyingIndex: 2,
      expiry,
      isCall: false,
      strikeWad: rng.range(58n, 64n) * 1_000n * WAD,
    });
    const ethCallId = await s.createSeries({ underlyingIndex: 1, expiry, isCall: true, strikeWad: 3_000n * WAD });
    const earlyId = await s.createSeries({
      underlyingIndex: 2,
      expiry: earlyExpiry,
      isCall: true,
      strikeWad: rng.range(52n, 56n) * 1_000n * WAD,
    });
    const ties = index % 2 === 0; // seeds 1, 3 and 5 make a tie among the rich holders

    const rich = [1n, 2n, 3n, 4n, 5n].map((subId) => sdk.getAccountId(takerWallet, { subId }));
    const levered = [6n, 7n, 8n, 9n, 10n, 11n].map((subId) => sdk.getAccountId(takerWallet, { subId }));
    const [takenOver, belowZero1, belowZero2, nearEdge, justBelow, mixed] = levered as [
      sdk.AccountId,
      sdk.AccountId,
      sdk.AccountId,
      sdk.AccountId,
      sdk.AccountId,
      sdk.AccountId,
    ];
    const makers = [1n, 2n, 3n].map((subId) => sdk.getAccountId(makerWallet, { subId }));
    const debtor = sdk.getAccountId(makerWallet, { subId: 4n });
    const ethBuyer = sdk.getAccountId(keeperWallet, { subId: 1n });
    const candidates = [...rich, ...levered, ...makers, debtor, ethBuyer, fund];
    /** `m` (a maker subaccount) trades `size` (its side) at `price` USD with `taker` (a taker subaccount). */
    const fill = (m: sdk.AccountId, taker: sdk.AccountId, seriesId: sdk.SeriesId, size: bigint, price: bigint) =>
      s.trade({ makerWallet, maker: m, takerWallet, taker, seriesId, size, priceWad: price * WAD });
    const someRich = () => rng.pick(rich.slice(0, 3));

    // Deposits first: the rich holders (two identical on tie seeds), the ETH-call buyer.
    const tieDeposit = usd(rng.range(300_000n, 1_000_000n));
    for (const [i, account] of rich.entries()) {
      await s.deposit(takerWallet, account, ties && i >= 3 ? tieDeposit : usd(rng.range(300_000n, 2_000_000n)));
    }
    await s.deposit(keeperWallet, ethBuyer, usd(100_000n));

    // Each maker's lots, then a deposit just above their initial margin (~6,000 USD per short call
    // at these strikes, plus the levered holders' quarter-lots), so a rally of a few steps makes
    // it bankrupt.
    const leveredMaker = levered.map(() => rng.pick(makers));
    for (const account of makers) {
      const lots = Array.from({ length: 2 + rng.int(2) }, () => rng.range(1n, 3n) * (WAD / 2n));
      const tieSize = rng.range(1n, 2n) * (WAD / 2n);
      const quarters = BigInt(leveredMaker.filter((m) => m === account).length) * (WAD / 4n);
      const calls = lots.reduce((a, b) => a + b, 0n) + (ties ? 2n * tieSize : 0n) + quarters;
      await s.deposit(makerWallet, account, usd((calls * 7_000n) / WAD + rng.range(500n, 3_000n)));
      for (const size of lots) {
        await fill(account, someRich(), callId, -size, 1_000n);
        // The maker buys puts: its holders are short puts, the opposite side of a long account.
        await fill(account, someRich(), putId, size / 2n, 300n);
      }
      if (ties) {
        // Identical lots to the last two rich holders (identical deposits): equal keys, ordered by id.
        for (const h of rich.slice(3)) {
          await fill(account, h, callId, -tieSize, 1_000n);
          await fill(account, h, putId, tieSize / 2n, 300n);
        }
      }
    }

    // The levered holders: long a quarter call and short a tenth of a put from a maker, short ten
    // ETH calls to the buyer, on a deposit just above initial margin.
    for (const [i, account] of levered.entries()) {
      await s.deposit(takerWallet, account, usd(rng.range(6_000n, 8_000n)));
      const m = leveredMaker[i]!;
      await fill(m, account, callId, -(WAD / 4n), 1_000n);
      await fill(m, account, putId, WAD / 10n, 300n);
      await s.trade({
        makerWallet: takerWallet,
        maker: account,
        takerWallet: keeperWallet,
        taker: ethBuyer,
        seriesId: ethCallId,
        size: -10n * WAD,
        priceWad: 150n * WAD,
      });
    }

    // The debtor: three early calls in the money, half a call and a quarter put of the main series.
    await s.deposit(makerWallet, debtor, usd(60_000n));
    for (let i = 0; i < 3; i++) {
      await fill(debtor, someRich(), earlyId, -WAD, 6_000n);
    }
    await fill(debtor, someRich(), callId, -(WAD / 2n), 1_000n);
    await fill(debtor, someRich(), putId, WAD / 4n, 300n);

    /** Counts what a checked deleverage exercised. */
    function count({ plan, before }: Awaited<ReturnType<BackstopScene["checkedDeleverage"]>>) {
      const largest = plan.holders.filter((h) => h.key === MAX_UINT256).length;
      hits.nonPositiveEquityKeys += largest;
      if (largest >= 2) hits.largestKeyTies++;
      if (plan.lossWad > plan.grossWad) hits.lossAboveGross++;
      for (const skip of plan.skips) {
        if (skip.reason === "insuranceFund") hits.fundSkipped++;
        else {
          // At or above maintenance before: the close itself would have taken it below.
          const state = before.get(skip.account)!;
          if (state.equityMM >= state.requirementMM) hits.skippedFromMaintenance++;
          else hits.skippedAlreadyBelow++;
        }
      }
      for (const close of plan.closes) {
        if (levered.includes(close.account)) hits.leveredClosed++;
        const state = before.get(close.account)!;
        if (state.equityMM < state.requirementMM) hits.closedFromBelowMaintenance++;
      }
      return { plan, before };
    }

    let insolvent: sdk.AccountId[] = [];

    it("agrees on the preview, the bankruptcy price and every key, both series, through a rally", async () => {
      const seriesIds = [putId, callId];
      insolvent = await s.rallyUntilBankrupt({ accounts: makers, seriesIds, candidates, minPercent: 3n, maxSteps: 25 });
    });

    it("an ETH rally takes every levered holder below zero; the fund takes the first over", async () => {
      await contracts.ethUsd.write.updateAnswer([(3_000n * 10n ** 8n * (180n + rng.range(0n, 20n))) / 100n]);
      for (const account of levered) assert.ok((await s.marginOf(account)).equityMM <= 0n, "maintenance equity ≤ 0");
      await s.startAuctionsAndWait([takenOver, insolvent[0]!, insolvent[1]!]);
      await s.setBudget(1_000_000n * WAD, 5_000_000n * WAD);
      // The fund gets just the cash its initial margin needs after the takeover, so its key is high.
      const short = await s.refusal(keeperWallet, s.backstop, sdk.backstopAbi, "takeover", [takenOver]);
      if (short?.errorName === "BackstopFundBelowInitialMargin") {
        const [excessIM] = short.args as readonly [bigint];
        await s.deposit(admin, fund, -excessIM / 10n ** 12n + usd(rng.range(1n, 2_000n)));
      }
      await s.checkedTakeover(takenOver, candidates, callId);
      assert.ok(
        (await s.positionOf(fund, callId)) > 0n && (await s.positionOf(fund, putId)) < 0n,
        "the fund is opposite",
      );
    });

    it("tops three levered holders up around maintenance and around what their close costs", async () => {
      const { shadeWad } = (await s.compare(insolvent[1]!, callId, candidates, { valueHolders: false })).deleverage!;
      const kinds = [
        [nearEdge, "edge"],
        [justBelow, "justBelow"],
        [mixed, rng.pick(["half", "edge", "ample"] as const)],
      ] as const;
      for (const [account, kind] of kinds) {
        const state = await s.marginOf(account);
        const toMaintenance = state.requirementMM - state.equityMM;
        // What closing its whole call costs it: q·shade, against no requirement (it is long).
        const cost = ((await s.positionOf(account, callId)) * shadeWad) / WAD;
        const target =
          kind === "half" // below maintenance, a finite key: skipped
            ? state.requirementMM / 2n - state.equityMM
            : kind === "edge" // an excess around the call's cost: skipped or closed
              ? toMaintenance + (cost * rng.range(20n, 180n)) / 100n
              : kind === "justBelow" // less below than its short put requires: closed in the put series
                ? toMaintenance - rng.range(1n, 200n) * WAD
                : toMaintenance + cost * 3n;
        if (target > 10n ** 12n) await s.deposit(takerWallet, account, target / 10n ** 12n);
      }
      await s.setBudget(0n, 0n);
    });

    it("orders keys at the largest by id (and the chain refuses the other order)", async () => {
      const plan = (await s.compare(insolvent[1]!, callId, candidates, { valueHolders: false })).deleverage!;
      const largest = plan.holders.filter((h) => h.key === MAX_UINT256).map((h) => h.account);
      assert.ok(
        largest.includes(belowZero1) && largest.includes(belowZero2),
        "maintenance equity ≤ 0: the largest key",
      );
      assert.deepEqual(
        largest,
        [...largest].sort((a, b) => (a < b ? -1 : 1)),
        "ascending ids",
      );
      const list = plan.holders.map((h) => h.account);
      [list[0], list[1]] = [list[1]!, list[0]!];
      const refused = await s.refusal(keeperWallet, s.backstop, sdk.backstopAbi, "deleverage", [
        insolvent[1]!,
        callId,
        list,
      ]);
      assert.equal(refused?.errorName, "BackstopHoldersNotSorted");
      if (ties) {
        const tied = plan.holders.filter((h) => h.account === rich[3] || h.account === rich[4]);
        assert.equal(tied.length, 2);
        assert.equal(tied[0]!.key, tied[1]!.key, "equal keys");
        assert.ok(tied[0]!.account < tied[1]!.account, "ascending ids");
      }
    });

    it("refuses a bid below the minimum (1 %) exactly where the SDK does", async () => {
      const params = await publicClient.readContract({
        address: addressBook.contracts.Liquidator,
        abi: sdk.liquidatorAbi,
        functionName: "auctionParams",
      });
      const bidder = sdk.getAccountId(keeperWallet, { subId: 2n });
      for (const account of [insolvent[0]!, nearEdge, justBelow, mixed]) {
        const blockNumber = await publicClient.getBlockNumber();
        const inputs = await sdk.getMarginInputs(publicClient, { addressBook, account, blockNumber });
        const state = sdk.accountMargin(inputs);
        if (state.health < sdk.Health.LIQUIDATABLE) continue;
        const auction = await sdk.getAuctionClock(publicClient, { addressBook, account, blockNumber });
        const whole = sdk.previewBidFromState(params, state, auction, inputs.timestamp, WAD, inputs);
        const minimum = sdk.minBidFraction(whole.maxFractionWad);
        for (const fractionWad of [minimum - 1n, minimum, minimum + 1n, rng.range(1n, minimum - 1n)]) {
          let chain: sdk.BidPreview | sdk.PledgeError;
          try {
            chain = await sdk.previewBid(publicClient, { addressBook, account, fractionWad, blockNumber });
          } catch (error) {
            chain = sdk.decodePledgeError(error)!;
          }
          if (fractionWad < minimum) {
            assert.throws(() => sdk.previewBidFromState(params, state, auction, inputs.timestamp, fractionWad, inputs));
            assert.ok(chain instanceof sdk.PledgeError && chain.errorName === "LiquidatorBidTooSmall", String(chain));
            assert.deepEqual(chain.args, [fractionWad, minimum]);
            const bid = await s.refusal(keeperWallet, addressBook.contracts.Liquidator, sdk.liquidatorAbi, "bid", [
              account,
              bidder,
              fractionWad,
              2n ** 255n - 1n,
              sdk.SKIP_NONCE_CHECK,
            ]);
            assert.deepEqual([bid?.errorName, bid?.args], ["LiquidatorBidTooSmall", [fractionWad, minimum]]);
          } else {
            const local = sdk.previewBidFromState(params, state, auction, inputs.timestamp, fractionWad, inputs);
            assert.deepEqual(local, chain);
          }
          hits.minimumBidEdges++;
        }
      }
    });

    for (const [label, pick, series] of [
      ["the long account (put series): holders pay m + shade, cash rounded down", 0, "put"],
      ["the short account (call series): holders receive m − shade, cash rounded up", 1, "call"],
    ] as const) {
      it(`deleverage moves exactly the SDK's closes and skips for ${label}`, async () => {
        const outcome = await s.checkedDeleverage(insolvent[pick]!, series === "put" ? putId : callId, candidates);
        const { plan } = count(outcome);
        if (series === "call") {
          assert.ok(
            plan.skips.some((k) => k.account === fund && k.reason === "insuranceFund"),
            "the fund is skipped",
          );
          for (const account of [belowZero1, belowZero2]) {
            assert.ok(plan.skips.some((k) => k.account === account && k.reason === "belowMaintenance"));
          }
        }
      });
    }

    it("L > G: the debtor's debt beyond its positions stays for absorbDebt, paid at par", async () => {
      // Past the early expiry, BTC at least 60 % up: the early calls settle deep in the money.
      await s.testClient.setNextBlockTimestamp({ timestamp: earlyExpiry + 60n });
      const btc = await contracts.btcUsd.read.latestAnswer();
      const floor = (60_000n * 10n ** 8n * (160n + rng.range(0n, 20n))) / 100n;
      await contracts.btcUsd.write.updateAnswer([btc > floor ? btc : floor]);
      const round = await contracts.btcUsd.read.latestRound();
      await contracts.oracle.write.postSettlementPrice([contracts.wbtc.address, earlyExpiry, round, []]);
      await s.refreshFeeds();
      await contracts.market.write.settle([debtor, earlyId]);
      assert.ok((await s.cashOf(debtor)) < 0n, "the settlement left a debt");
      await s.startAuctionsAndWait([debtor]);

      const order = rng.int(2) === 0 ? [callId, putId] : [putId, callId];
      for (const seriesId of order) {
        const { plan } = count(await s.checkedDeleverage(debtor, seriesId, candidates));
        assert.ok(plan.lossWad > plan.grossWad, "L > G");
        assert.equal(plan.shadeWad, plan.markWad, "the shade is capped at the mark");
      }
      const [held] = await contracts.market.read.positionsOf([debtor]);
      assert.equal(held.length, 0, "every position closed: a bare debt");

      // The fund's cash covers the debt on even seeds, falls short on odd ones.
      const debt = -(await s.cashOf(debtor));
      const fundCash = await s.cashOf(fund);
      const wanted = index % 2 === 0 ? debt + usd(rng.range(1n, 1_000n)) : debt / 2n;
      if (wanted > fundCash) await s.deposit(admin, fund, wanted - fundCash);
      const cash = await sdk.getCashMarket(publicClient, { addressBook });
      const shares = new Map<sdk.AccountId, bigint>();
      for (const account of [fund, debtor]) shares.set(account, await contracts.vault.read.cashSharesOf([account]));
      const predicted = sdk.cashMove({ ...cash, shares }, fund, debtor, debt, cash.timestamp);
      const windowBefore = await publicClient.readContract({
        address: s.backstop,
        abi: sdk.backstopAbi,
        functionName: "windowLoss",
      });
      await s.pinTime();
      const receipt = await s.send(keeperWallet, s.backstop, sdk.backstopAbi, "absorbDebt", [debtor]);
      const [absorbed] = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs, eventName: "DebtAbsorbed" });
      assert.equal(absorbed!.args.amount, debt, "DebtAbsorbed: the debt the SDK left after the closes");
      const moves = parseEventLogs({ abi: sdk.collateralVaultAbi, logs: receipt.logs, eventName: "CashMoved" });
      assert.deepEqual(
        moves.map((e) => [e.args.from, e.args.to, e.args.amount]),
        [[fund, debtor, debt]],
      );
      const badDebt = parseEventLogs({ abi: sdk.backstopAbi, logs: receipt.logs, eventName: "BadDebtIncurred" });
      const writtenOff = predicted.written + predicted.unabsorbed;
      assert.deepEqual(
        badDebt.map((e) => e.args.amount),
        writtenOff === 0n ? [] : [writtenOff],
        "BadDebtIncurred",
      );
      assert.equal(
        await publicClient.readContract({ address: s.backstop, abi: sdk.backstopAbi, functionName: "windowLoss" }),
        windowBefore + sdk.toWadDown(debt, 6),
      );
      assert.equal(await s.cashOf(debtor), 0n);
      hits.debtAbsorbed++;
      if (writtenOff > 0n) hits.debtAbsorbedPastFundCash++;
    });
  });
}

describe("backstop waterfall: every randomized case occurred", () => {
  it("L > G, absorbDebt (covered and past the fund's cash), keys at the largest and their ties, both skips, closes", (t) => {
    t.diagnostic(`cases hit: ${JSON.stringify(hits)}`);
    for (const [name, n] of Object.entries(hits)) assert.ok(n > 0, `${name}: ${n}`);
    assert.ok(hits.lossAboveGross >= 2 * SEEDS.length, "both series of every debtor at L > G");
  });
});
