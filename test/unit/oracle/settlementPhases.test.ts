/**
 * Finding 5 against Chainlink's own phase-aware proxy (`DataFeedsLegacyAggregatorProxy` from
 * `@chainlink/contracts`, compiled by the second compiler entry): the settlement proof must pick the
 * first round in *time* when two phases overlap, and the SDK's `findSettlementRound` must find it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Address, zeroAddress } from "viem";

import { feedAnswerToWad, findFallbackRound, findSettlementRound } from "../../../packages/sdk/src/index.js";
import { random } from "../../sdk/random.js";

const WBTC: Address = "0x00000000000000000000000000000000000000b7";
const MIN = 60n;
const PHASE = 1n << 64n;

describe("ChainlinkOracle settlement across proxy phases (Chainlink's proxy)", async () => {
  const { viem, networkHelpers } = await network.create();
  const publicClient = await viem.getPublicClient();
  const [admin] = await viem.getWalletClients();
  if (admin === undefined) throw new Error("no wallet client");

  /** `rounds[i]` are phase i+1's rounds as [answer, updatedAt], in order; returns the oracle and expiry. */
  async function deployPhases(expiry: bigint, rounds: readonly (readonly [bigint, bigint])[][]) {
    const oracle = await viem.deployContract("ChainlinkOracle", [
      admin!.account.address,
      zeroAddress,
      0n,
      2n * 60n * MIN,
      24n * 60n * MIN,
    ]);
    const aggregators = [];
    for (const phaseRounds of rounds) {
      const aggregator = await viem.deployContract("MockV3Aggregator", [8, 1n]);
      // Overwrites the constructor's round 1; `updateRoundData` sets any id and time.
      for (const [n, [answer, updatedAt]] of phaseRounds.entries()) {
        await aggregator.write.updateRoundData([BigInt(n + 1), answer, updatedAt, updatedAt]);
      }
      aggregators.push(aggregator);
    }
    const proxy = await viem.deployContract("DataFeedsLegacyAggregatorProxy", [aggregators[0]!.address]);
    for (const aggregator of aggregators.slice(1)) {
      await proxy.write.proposeAggregator([aggregator.address]);
      await proxy.write.confirmAggregator([aggregator.address]);
    }
    await oracle.write.setSpotFeed([
      WBTC,
      { aggregator: proxy.address, maxAge: 3600, minAnswerWad: 0n, maxAnswerWad: 0n },
    ]);
    const now = await networkHelpers.time.latest();
    if (BigInt(now) < expiry + 3n * 60n * MIN) await networkHelpers.time.increaseTo(expiry + 3n * 60n * MIN);
    return { oracle, proxy };
  }

  async function nextExpiry() {
    return BigInt(await networkHelpers.time.latest()) + 24n * 60n * MIN;
  }

  it("finding 5 (a): the new phase reports first, the old phase later; only the first in time settles", async () => {
    const E = await nextExpiry();
    const { oracle, proxy } = await deployPhases(E, [
      [
        [60_000n * 10n ** 8n, E - 40n * MIN],
        [61_000n * 10n ** 8n, E + 30n * MIN], // the old phase still reports after the switch
      ],
      [
        [62_000n * 10n ** 8n, E + 10n * MIN], // the new phase's first round: the true first after expiry
        [63_000n * 10n ** 8n, E + 70n * MIN],
      ],
    ]);
    assert.equal(await proxy.read.phaseId(), 2);
    // The old code accepted (1,2) with its in-phase predecessor (1,1).
    await viem.assertions.revertWithCustomErrorWithArgs(
      oracle.simulate.postSettlementPrice([WBTC, E, PHASE + 2n, [2n * PHASE]]),
      oracle,
      "OracleRoundNotFirstAfterExpiry",
      [PHASE + 2n, 2n * PHASE + 1n],
    );
    const found = await findSettlementRound(publicClient, { feed: proxy.address, expiry: E });
    assert.deepEqual(found, {
      roundId: 2n * PHASE + 1n,
      hints: [PHASE + 1n],
      answer: 62_000n * 10n ** 8n,
      updatedAt: E + 10n * MIN,
      decimals: 8,
    });
    await oracle.write.postSettlementPrice([WBTC, E, found.roundId, found.hints]);
    assert.deepEqual(await oracle.read.settlementPrice([WBTC, E]), [62_000n * 10n ** 18n, true]);
  });

  it("finding 5 (b): both phases have a round shortly after expiry; one price only", async () => {
    const E = await nextExpiry();
    const { oracle, proxy } = await deployPhases(E, [
      [
        [60_000n * 10n ** 8n, E - 30n * MIN],
        [61_000n * 10n ** 8n, E + 5n * MIN],
      ],
      [
        [62_000n * 10n ** 8n, E - 10n * MIN],
        [70_000n * 10n ** 8n, E + 8n * MIN],
      ],
    ]);
    // The old code accepted both (1,2) and (2,2): the first caller chose the price.
    await viem.assertions.revertWithCustomErrorWithArgs(
      oracle.simulate.postSettlementPrice([WBTC, E, 2n * PHASE + 2n, [PHASE + 1n]]),
      oracle,
      "OracleRoundNotFirstAfterExpiry",
      [2n * PHASE + 2n, PHASE + 2n],
    );
    const found = await findSettlementRound(publicClient, { feed: proxy.address, expiry: E });
    assert.equal(found.roundId, PHASE + 2n);
    assert.deepEqual(found.hints, [2n * PHASE + 1n]);
    await oracle.write.postSettlementPrice([WBTC, E, found.roundId, found.hints]);
    assert.deepEqual(await oracle.read.settlementPrice([WBTC, E]), [61_000n * 10n ** 18n, true]);
  });

  it("a normal phase change: the old phase ends before expiry, the new one settles", async () => {
    const E = await nextExpiry();
    const { oracle, proxy } = await deployPhases(E, [
      [
        [60_000n * 10n ** 8n, E - 120n * MIN],
        [61_000n * 10n ** 8n, E - 30n * MIN],
      ],
      [
        [62_000n * 10n ** 8n, E + 10n * MIN],
        [63_000n * 10n ** 8n, E + 40n * MIN],
      ],
    ]);
    const found = await findSettlementRound(publicClient, { feed: proxy.address, expiry: E });
    assert.equal(found.roundId, 2n * PHASE + 1n);
    assert.deepEqual(found.hints, [PHASE + 2n]);
    await viem.assertions.revertWithCustomErrorWithArgs(
      oracle.simulate.postSettlementPrice([WBTC, E, found.roundId, []]),
      oracle,
      "OracleSettlementHintsLength",
      [0n, 1n],
    );
    await oracle.write.postSettlementPrice([WBTC, E, found.roundId, found.hints]);
    assert.deepEqual(await oracle.read.settlementPrice([WBTC, E]), [62_000n * 10n ** 18n, true]);
  });

  /**
   * Review rv44: the SDK's walk past a first round that answers no price (`findFallbackRound`) lands
   * where the oracle's `_firstPricedAfter` does: the same priced round, "missing" exactly when the
   * post reverts `OracleRoundNotFound`, "none" exactly when it reverts `OracleNoValidSettlementRound`.
   */
  it("the SDK's fallback walk agrees with the oracle's: priced, missing, and none after a migration", async () => {
    const E = await nextExpiry();
    const { oracle, proxy } = await deployPhases(E, [
      [
        [60_000n * 10n ** 8n, E - 30n * MIN],
        [0n, E + 5n * MIN], // the first round after expiry answers no price
        [-3n, E + 6n * MIN],
      ],
    ]);
    await networkHelpers.time.increaseTo(E + 24n * 60n * MIN);
    const first = await findSettlementRound(publicClient, { feed: proxy.address, expiry: E });
    assert.deepEqual(
      [first.roundId, first.answer, feedAnswerToWad(first.answer, first.decimals)],
      [PHASE + 2n, 0n, 0n],
    );
    const walk = () => findFallbackRound(publicClient, { feed: proxy.address, roundId: first.roundId, decimals: 8 });
    // Round (1,4) is not published yet: wait.
    assert.deepEqual(await walk(), { status: "missing", roundId: PHASE + 4n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      oracle.simulate.postSettlementPrice([WBTC, E, first.roundId, first.hints]),
      oracle,
      "OracleRoundNotFound",
      [PHASE + 4n],
    );
    // The proxy migrates before the phase answers a price: the walk can never end in a price.
    const next = await viem.deployContract("MockV3Aggregator", [8, 64_000n * 10n ** 8n]);
    await proxy.write.proposeAggregator([next.address]);
    await proxy.write.confirmAggregator([next.address]);
    assert.deepEqual(await walk(), { status: "none", roundId: PHASE + 3n });
    await viem.assertions.revertWithCustomErrorWithArgs(
      oracle.simulate.postSettlementPrice([WBTC, E, first.roundId, [2n * PHASE]]),
      oracle,
      "OracleNoValidSettlementRound",
      [PHASE + 2n, PHASE + 3n],
    );

    // A phase that answers a price two rounds on: both settle at that round.
    const E2 = await nextExpiry();
    const priced = await deployPhases(E2, [
      [
        [60_000n * 10n ** 8n, E2 - 30n * MIN],
        [0n, E2 + 5n * MIN],
        [0n, E2 + 6n * MIN],
        [61_500n * 10n ** 8n, E2 + 7n * MIN],
      ],
    ]);
    await networkHelpers.time.increaseTo(E2 + 24n * 60n * MIN);
    const anchor = await findSettlementRound(publicClient, { feed: priced.proxy.address, expiry: E2 });
    assert.deepEqual(
      await findFallbackRound(publicClient, { feed: priced.proxy.address, roundId: anchor.roundId, decimals: 8 }),
      { status: "priced", roundId: PHASE + 4n, answer: 61_500n * 10n ** 8n, updatedAt: E2 + 7n * MIN },
    );
    await priced.oracle.write.postSettlementPrice([WBTC, E2, anchor.roundId, anchor.hints]);
    assert.deepEqual(await priced.oracle.read.settlementPrice([WBTC, E2]), [61_500n * 10n ** 18n, true]);
  });

  it("fuzz: over random overlapping timings in two or three phases, only the brute-force first round settles", async () => {
    const rng = random(0x5eedn);
    let settled = 0;
    let refused = 0;
    for (let run = 0; run < 20; run++) {
      const E = await nextExpiry();
      const phases = 2 + rng.int(2);
      const rounds: [bigint, bigint][][] = [];
      for (let q = 1; q <= phases; q++) {
        const count = 1 + rng.int(4);
        let t = E - BigInt(5 + rng.int(25)) * MIN;
        const phaseRounds: [bigint, bigint][] = [];
        for (let n = 1; n <= count; n++) {
          phaseRounds.push([BigInt(q * 1_000 + n) * 10n ** 8n, t]);
          t += BigInt(rng.int(3) * 10) * MIN; // 0, 10 or 20 min: ties inside and across phases
        }
        rounds.push(phaseRounds);
      }
      // Brute force: the earliest round at or after expiry; ties go to the lower phase, then the lower id.
      let best: { id: bigint; t: bigint; answer: bigint } | undefined;
      for (const [i, phaseRounds] of rounds.entries()) {
        for (const [j, [answer, t]] of phaseRounds.entries()) {
          if (t >= E && (best === undefined || t < best.t))
            best = { id: BigInt(i + 1) * PHASE + BigInt(j + 1), t, answer };
        }
      }
      if (best === undefined) continue;
      const { oracle, proxy } = await deployPhases(E, rounds);
      const found = await findSettlementRound(publicClient, { feed: proxy.address, expiry: E });
      assert.equal(found.roundId, best.id, `run ${run}: the SDK finds the first round in time`);
      assert.equal(found.answer, best.answer);

      // Every other round at or after expiry, with the true hints for its phase, is refused.
      const lastBefore = rounds.map((r) => BigInt(r.filter(([, t]) => t < E).length));
      for (const [i, phaseRounds] of rounds.entries()) {
        for (const [j, [, t]] of phaseRounds.entries()) {
          const id = BigInt(i + 1) * PHASE + BigInt(j + 1);
          if (t < E || id === best.id) continue;
          const hints = lastBefore.flatMap((n, k) => (k === i ? [] : [BigInt(k + 1) * PHASE + n]));
          await assert.rejects(oracle.simulate.postSettlementPrice([WBTC, E, id, hints]), `run ${run}: ${id}`);
          refused++;
        }
      }
      await oracle.write.postSettlementPrice([WBTC, E, found.roundId, found.hints]);
      assert.deepEqual(await oracle.read.settlementPrice([WBTC, E]), [best.answer * 10n ** 10n, true]);
      settled++;
    }
    // The seed gives histories that exercise the proof, not only the trivial ones.
    assert.ok(settled >= 12 && refused >= 20, `settled ${settled}, refused ${refused}`);
  });
});
