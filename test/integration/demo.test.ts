import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { demoOptions, formatReport, runDemo } from "../../scripts/lib/demo.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The CI cut of `npm run demo`: 12 accounts and a synthetic 35 % drop, through the
 * demo's own main function, the engine marking on the vol signer's crash smile; the report
 * must add up, the surface must move with the drop and the crash must end clean.
 */
describe("demo: a synthetic crash end to end", async () => {
  const html = path.join(tmpdir(), `pledge-demo-${process.pid}.html`);
  const report = await runDemo({
    ...demoOptions(root, ["--accounts", "12", "--drop", "35", "--html", html, "--vol-surface"], {}),
    progress: false,
  });

  it("prints a report", () => {
    const text = formatReport(report);
    for (const label of [
      "accounts liquidated",
      "blocks to auction",
      "bad debt",
      "latent insolvency",
      "insurance fund",
      "backstop",
      "interest on cash",
      "keeper gas",
      "replay phases",
      "keeper reads",
      "chart valuations",
      "vol surface",
      "at the price low",
    ]) {
      assert.ok(text.includes(label), `report misses ${label}`);
    }
  });

  it("the drop bites and the counts are consistent", () => {
    assert.equal(report.accounts, 12);
    assert.equal(report.samples.length, report.feedUpdates);
    assert.ok(report.priceMin <= 8_000 * 0.65 + 1);
    assert.ok(report.fellBelowMM > 0, "no account fell below MM");
    assert.equal(report.liquidations.length, report.fellBelowMM);
    assert.ok(report.liquidated <= report.fellBelowMM && report.resolved <= report.fellBelowMM);
    assert.ok(report.auctionsStarted >= report.liquidated && report.bids > 0);
    assert.ok(report.blocksToAuction.median <= report.blocksToAuction.max);
    assert.ok(report.blocksToBid.median <= report.blocksToBid.max && report.blocksToBid.max >= 1);
    assert.ok(report.keeperGas > 0n);
    // Samples are taken at each feed update; the keeper's drain ticks after the last update
    // can only add auctions and bids.
    const last = report.samples.at(-1)!;
    assert.ok(last.auctionsStarted <= report.auctionsStarted);
    assert.ok(last.bids <= report.bids);
  });

  it("says where the replay's time went: the phases are parts of it, the keeper's jobs parts of the keeper's", () => {
    const { feed, surface, value, keeper, drain, keeperParts } = report.phases;
    // Accounting, not timing: the parts are measured inside the whole (tenths of a second rounding).
    assert.ok(feed + surface + value + keeper + drain <= report.seconds.replay + 0.5);
    assert.ok(surface > 0, "the vol signer's fits and posts are their own phase");
    assert.deepEqual(Object.keys(keeperParts).sort(), ["backstop", "index", "liquidation", "settlement"]);
    const parts = Object.values(keeperParts).reduce((a, b) => a + b, 0);
    assert.ok(parts <= keeper + drain + 0.5, `keeper parts ${parts} s > keeper ${keeper} s + drain ${drain} s`);
    assert.ok(report.keeperRpcCalls > 0 && report.keeperConfirmed > 0);
    // The CPU the run used (every thread) and the machine's load beside the wall time: present, not bounded.
    assert.ok(report.seconds.cpu > 0 && report.load.start >= 0 && report.load.end >= 0);
  });

  it("values the charts' states locally, cross-checked on chain to the wei (issue 19), as the keeper does", () => {
    const { local, crossChecks, checkedStates } = report.valuation;
    // Every population state of every update, and the desks' every tenth: locally or on chain.
    assert.ok(local + report.valuation.chain >= report.accounts * report.feedUpdates);
    assert.ok(
      local > 0 && crossChecks >= 2 && checkedStates >= crossChecks,
      "cross-checked (the run throws on a difference)",
    );
    assert.ok(report.keeperValuedLocally > 0);
    assert.equal(report.keeperMismatches, 0, "the keeper's cross-checks all equal the chain");
  });

  it("charts the population, not the desks: the losing accounts' excess falls with the price, the desks are apart", () => {
    const first = report.samples[0]!;
    const low = report.samples.reduce((a, b) => (b.price < a.price ? b : a));
    assert.ok(low.losingExcessMMUsd < first.excessMMUsd, "the losers' excess falls as BTC falls");
    for (const s of report.samples) {
      assert.ok(
        Math.abs(s.losingExcessMMUsd + s.gainingExcessMMUsd - s.excessMMUsd) < 1e-6 * Math.abs(s.excessMMUsd) + 1,
      );
    }
    const desks = report.samples.filter((s) => s.desksExcessMMUsd !== undefined);
    assert.ok(desks.length >= 2 && report.samples.at(-1)!.desksExcessMMUsd !== undefined);
    // The desks are funded with far more than the population holds: summing them in hid it.
    assert.ok(desks[0]!.desksExcessMMUsd! > 10 * Math.abs(first.excessMMUsd));
  });

  it("every account that fell below MM was auctioned and resolved", () => {
    for (const l of report.liquidations) {
      assert.ok(l.auctionBlock !== undefined, `account ${l.account} was never auctioned`);
      assert.ok(l.auctionBlock > l.priceBlock, `auction on ${l.account} before its price update`);
      assert.ok(l.resolved, `account ${l.account} unresolved`);
    }
    assert.equal(report.liquidated, report.fellBelowMM);
    assert.equal(report.resolved, report.fellBelowMM);
  });

  it("no bad debt, and the insurance fund, seeded at its 24 h budget, earned its share", () => {
    assert.equal(report.badDebtUsd, 0);
    assert.equal(report.waterfall.badDebtIncurredUsd, 0);
    assert.equal(report.insuranceStartUsd, 5_000_000);
    assert.ok(report.insuranceUsd > report.insuranceStartUsd);
  });

  it("borrowers paid interest on their cash debt and creditors earned it, at the APRs shown", () => {
    const { paidUsd, earnedUsd, toInsuranceUsd, borrowAprPercent, supplyAprPercent } = report.interest;
    assert.ok(borrowAprPercent >= 10 && supplyAprPercent > 0 && supplyAprPercent < borrowAprPercent);
    assert.ok(paidUsd > 0, "no interest paid");
    assert.ok(earnedUsd > 0 && toInsuranceUsd > 0);
    assert.ok(Math.abs(earnedUsd + toInsuranceUsd - paidUsd) < 0.01);
  });

  it("the vol signer posted the crash smile at every update and the engine marked on it (issue 17 item 5)", () => {
    const v = report.volSurface;
    assert.ok(v !== undefined, "the demo runs on the surface by default");
    // The calm smile twice before trading (first post, then fresh after maturity), then one a step.
    assert.ok(v.posts + v.skipped >= report.feedUpdates + 2, `${v.posts} posts, ${v.skipped} skipped`);
    assert.ok(v.posts > report.feedUpdates / 2);
    for (const s of report.samples) assert.ok(s.surface !== undefined, "every update samples the surface");
    // Calm: ATM 60 %, RR −5 points, posted as quoted.
    assert.ok(Math.abs(v.start.postedAtmVol - 0.6) < 0.02 && Math.abs(v.start.postedRiskReversal + 0.05) < 0.01);
    // Level and put skew rise as the price falls: the market's smile, and the one posted.
    assert.ok(v.trough.marketAtmVol > v.start.marketAtmVol + 0.4, "the market's ATM vol rises with the drop");
    assert.ok(v.trough.postedAtmVol > v.start.postedAtmVol + 0.1, "the posted ATM vol rises");
    assert.ok(v.trough.postedRiskReversal < v.start.postedRiskReversal - 0.02, "the posted RR falls");
    // The oracle's bound never lets the posted smile overtake the market's.
    for (const s of report.samples) assert.ok(s.surface!.postedAtmVol <= s.surface!.marketAtmVol + 1e-9);
  });

  it("a put-wing short's mark rises more on the surface than at the flat vol feed", () => {
    const v = report.volSurface!;
    const onSurface = v.trough.putWingMarkUsd - v.start.putWingMarkUsd;
    const flat = v.trough.putWingFlatMarkUsd - v.start.putWingFlatMarkUsd;
    assert.ok(flat > 0, "the put gains intrinsic value at the low either way");
    assert.ok(onSurface > flat, `on the surface +$${onSurface.toFixed(0)}, at flat vol +$${flat.toFixed(0)}`);
    // The skew prices the wing above the flat feed from the start, and by more as the smile rises.
    const premium = (s: typeof v.start) => s.putWingMarkUsd - s.putWingFlatMarkUsd;
    assert.ok(premium(v.start) > 0 && premium(v.end) > premium(v.start));
  });

  it("writes an offline HTML page with SVG charts", async () => {
    const page = await readFile(html, "utf8");
    assert.ok(page.includes("<svg"));
    assert.equal((page.match(/<svg/g) ?? []).length, 5);
    assert.ok(page.includes("losing and gaining accounts apart") && page.includes("desks, apart"));
    assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/.test(page), "the page must not load anything");
  });
});
