import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Address } from "viem";

import { type AccountMarginState, type GetMarketParametersReturnType, Health, asAccountId } from "@pledge/sdk";
import { createMetrics } from "../../packages/keeper/src/metrics.js";
import { createPlanner, marketInputsOf } from "../../packages/keeper/src/planner.js";
import type { AccountHoldings } from "../../packages/keeper/src/ranking.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { type KeeperIndex, emptyIndex } from "../../packages/keeper/src/store.js";
import { stubReaders } from "./helpers/stubReaders.js";

const WAD = 10n ** 18n;
const usdc: Address = "0x00000000000000000000000000000000000000c1";
const weth: Address = "0x00000000000000000000000000000000000000c2";
const parameters: GetMarketParametersReturnType = {
  collateral: [
    { asset: usdc, decimals: 6, initialHaircutWad: 0n, maintenanceHaircutWad: 0n, delisted: false },
    {
      asset: weth,
      decimals: 18,
      initialHaircutWad: WAD / 10n,
      maintenanceHaircutWad: WAD / 20n,
      delisted: false,
      underlyingIndex: 1,
    },
  ],
  underlyings: new Map([
    [1, { asset: weth, params: { aIM: WAD / 5n, bIM: WAD / 10n, aMM: WAD / 8n, bMM: WAD / 16n } }],
  ]),
};
/** Cash only: nothing required, so the planner ranks by the USD excess. */
const cash = (usd: bigint): AccountHoldings => ({ cash: usd * 10n ** 6n, balances: [0n, 0n], positions: [] });

/** A fake chain state the stub readers answer from, and a log of what they were asked. */
function world(holdings: Map<bigint, AccountHoldings>) {
  const state = { wethSpot: 3_000n * WAD, parameterReads: 0, refreshed: [] as bigint[][] };
  const readers = stubReaders({
    marketParameters: async () => {
      state.parameterReads++;
      return parameters;
    },
    snapshot: async ({ spot, vol, accounts }) => {
      state.refreshed.push([...accounts]);
      assert.deepEqual(spot, [usdc, weth], "each price read once");
      assert.deepEqual(vol, [weth]);
      const read = new Map<bigint, AccountHoldings>();
      for (const account of accounts) {
        const held = holdings.get(account);
        if (held !== undefined) read.set(account, held);
      }
      return {
        prices: {
          spotWad: new Map([
            [usdc, WAD],
            [weth, state.wethSpot],
          ]),
          volWad: new Map([[weth, WAD / 2n]]),
        },
        holdings: read,
      };
    },
  });
  return { state, readers };
}

function indexOf(accounts: bigint[], auctions: bigint[] = []): KeeperIndex {
  const index = emptyIndex(1, 1n);
  for (const a of accounts) index.accounts.add(a);
  for (const a of auctions) index.auctions.add(a);
  return index;
}

const options = {
  nearRatio: 0.5,
  nearExcessUsd: 1_000,
  fullConfirmEvery: 3,
  priceMoveWad: WAD / 100n,
  cashDecimals: 6,
};
const sorted = (accounts: bigint[]) => [...accounts].sort((a, b) => (a < b ? -1 : 1));

describe("keeper confirmation planner (no chain)", () => {
  // 1: near (10 USD of excess); 2 and 3: far; 4: its holdings cannot be read, so it is unknown.
  const holdings = new Map([
    [1n, cash(10n)],
    [2n, cash(1_000_000n)],
    [3n, cash(2_000_000n)],
  ]);

  it("confirms everyone on the first tick and every fullConfirmEvery ticks, the near and unknown in between", async () => {
    const { state, readers } = world(holdings);
    const stats = createStats(createMetrics());
    const planner = createPlanner(readers, stats, options);
    const index = indexOf([1n, 2n, 3n, 4n]);
    assert.deepEqual(sorted(await planner.plan(index, 10n, 1_000n)), [1n, 2n, 3n, 4n]);
    assert.deepEqual(sorted(await planner.plan(index, 11n, 1_002n)), [1n, 4n]);
    assert.deepEqual(sorted(await planner.plan(index, 12n, 1_004n)), [1n, 4n]);
    assert.deepEqual(
      sorted(await planner.plan(index, 13n, 1_006n)),
      [1n, 2n, 3n, 4n],
      "the third tick after a full one",
    );
    assert.equal(stats.snapshot().fullConfirmations, 2);
    assert.equal(stats.snapshot().accountsRanked, 16);
    assert.equal(state.parameterReads, 2, "market parameters re-read on full passes only");
    // Holdings are read once, then only for accounts whose reads failed (4) or whose events showed a change.
    assert.deepEqual(state.refreshed, [[1n, 2n, 3n, 4n], [4n], [4n], [4n]]);
  });

  it("re-reads an account's holdings after its events, and confirms open auctions and accounts below IM", async () => {
    const { state, readers } = world(holdings);
    const planner = createPlanner(readers, createStats(createMetrics()), options);
    const index = indexOf([1n, 2n, 3n], [3n]);
    await planner.plan(index, 10n, 1_000n);
    planner.changed(2n);
    const below: AccountMarginState = {
      account: asAccountId(2n),
      equityIM: 0n,
      equityMM: 0n,
      requirementIM: 1n,
      requirementMM: 0n,
      health: Health.MARGIN_CALL,
      markValue: 0n,
    };
    planner.confirmed([below]);
    assert.deepEqual(sorted(await planner.plan(index, 11n, 1_002n)), [1n, 2n, 3n]);
    assert.deepEqual(state.refreshed.at(-1), [2n]);
    planner.confirmed([{ ...below, health: Health.HEALTHY }]);
    assert.deepEqual(sorted(await planner.plan(index, 12n, 1_004n)), [1n, 3n], "back above IM: no longer watched");
  });

  it("confirms everyone after a price move above priceMoveWad, not below it", async () => {
    const { state, readers } = world(holdings);
    const planner = createPlanner(readers, createStats(createMetrics()), { ...options, fullConfirmEvery: 100 });
    const index = indexOf([1n, 2n, 3n]);
    await planner.plan(index, 10n, 1_000n);
    state.wethSpot = (3_000n * WAD * 1_005n) / 1_000n; // +0.5 %
    assert.deepEqual(await planner.plan(index, 11n, 1_002n), [1n]);
    state.wethSpot = (3_000n * WAD * 1_011n) / 1_000n; // +1.1 % since the last full pass
    assert.deepEqual(sorted(await planner.plan(index, 12n, 1_004n)), [1n, 2n, 3n]);
  });

  it("forgets what it derived after a reset (a rebuilt index): everything is read again and confirmed", async () => {
    const { state, readers } = world(holdings);
    const planner = createPlanner(readers, createStats(createMetrics()), options);
    const index = indexOf([1n, 2n, 3n]);
    await planner.plan(index, 10n, 1_000n);
    await planner.plan(index, 11n, 1_002n);
    planner.reset();
    assert.equal(planner.holdings().size, 0);
    assert.deepEqual(sorted(await planner.plan(index, 12n, 1_004n)), [1n, 2n, 3n]);
    assert.deepEqual(state.refreshed.at(-1), [1n, 2n, 3n]);
    assert.equal(state.parameterReads, 2);
  });

  it("estimates with delisted collateral at zero, as the engine values it", () => {
    const delisted = {
      ...parameters,
      collateral: parameters.collateral.map((c) => ({ ...c, delisted: c.asset === weth })),
    };
    const prices = { spotWad: new Map([[weth, 3_000n * WAD]]), volWad: new Map<Address, bigint>() };
    const inputs = marketInputsOf(delisted, prices, 1_000n, 6);
    assert.equal(inputs.collateral[1]?.delisted, true);
    assert.equal(inputs.collateral[0]?.delisted, false);
  });
});
