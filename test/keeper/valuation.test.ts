import assert from "node:assert/strict";
import { describe, it } from "node:test";

import pino from "pino";
import { maxUint256, parseUnits } from "viem";

import { createKeeper, createLocalBook } from "../../packages/keeper/src/index.js";
import {
  type MarginInputs,
  accountId,
  asAccountId,
  deposit,
  fillOrder,
  getAccountMargin,
  getMarginInputs,
  setMarginMode,
  signOrder,
  withdraw,
} from "@pledge/sdk";
import { seededRandom } from "../../scripts/lib/population.js";
import { createWorld } from "./helpers/world.js";

const WAD = 10n ** 18n;
const DAY = 86_400;
const SPOT = 60_000;

/**
 * The inputs the engine reads, as `getMarginInputs` returns them, restricted to what the valuation
 * reads: collateral the account does not hold and underlyings it does not need carry nothing (the
 * chain reads no price for them; the cache has every price of the tick).
 */
function assertSameInputs(local: MarginInputs, chain: MarginInputs, label: string) {
  assert.equal(local.timestamp, chain.timestamp, `${label}: timestamp`);
  assert.equal(local.cash, chain.cash, `${label}: cash`);
  assert.equal(local.cashDecimals, chain.cashDecimals, `${label}: cash decimals`);
  assert.equal(local.mode ?? 0, chain.mode ?? 0, `${label}: mode`);
  assert.deepEqual(local.positions, chain.positions, `${label}: positions`);
  assert.equal(local.collateral.length, chain.collateral.length, `${label}: collateral list`);
  for (const [i, c] of chain.collateral.entries()) {
    const l = local.collateral[i]!;
    assert.equal(l.amount, c.amount, `${label}: collateral ${i} amount`);
    if (c.amount === 0n) continue;
    for (const field of ["decimals", "priceWad", "initialHaircutWad", "maintenanceHaircutWad"] as const) {
      assert.equal(l[field], c[field], `${label}: collateral ${i} ${field}`);
    }
    assert.equal(l.delisted ?? false, c.delisted ?? false, `${label}: collateral ${i} delisted`);
    assert.equal(l.underlyingIndex, c.underlyingIndex, `${label}: collateral ${i} underlying`);
  }
  for (const [index, u] of chain.underlyings) {
    const l = local.underlyings.get(index);
    assert.ok(l !== undefined, `${label}: underlying ${index}`);
    assert.equal(l.spotWad, u.spotWad, `${label}: underlying ${index} spot`);
    assert.equal(l.volWad, u.volWad, `${label}: underlying ${index} vol`);
    assert.deepEqual(l.params, u.params, `${label}: underlying ${index} risk parameters`);
    assert.deepEqual(l.portfolio, u.portfolio, `${label}: underlying ${index} portfolio parameters`);
    assert.deepEqual(l.concentration, u.concentration, `${label}: underlying ${index} concentration`);
    // Valued locally only with no expired position: no settlement price is read.
    assert.equal(u.settlementPrices?.size ?? 0, 0, `${label}: underlying ${index} settlement prices`);
  }
}

/**
 * Issue 19: the keeper's exact local valuation (`valuation.ts`, through `createLocalBook`, the
 * keeper's indexer, readers and planner) equals the chain at random blocks of a scripted life —
 * deposits, fills (a cross account, a portfolio account, a borrower paying a premium on credit),
 * interest accruing over days, withdrawals, expiry and settlement: the inputs equal
 * `getMarginInputs` field by field, and the margin equals `accountsMargin` to the wei.
 */
describe("keeper: exact local valuation equals the chain", () => {
  it("inputs and margins at random blocks of deposits, fills, interest, withdrawals and settlement", async () => {
    const world = await createWorld({ accounts: 3, spot: SPOT, expiryDays: 3 });
    const { vault, usdc, wbtc, engine } = world.contracts;
    const { publicClient, testClient, book: addressBook } = world;
    const [admin, makerWallet, traderWallet] = await world.connection.viem.getWalletClients();
    if (!admin || !makerWallet || !traderWallet) throw new Error("need wallets");
    const next = seededRandom(19); // random blocks, the same on every run
    const now = (await publicClient.getBlock()).timestamp;
    let nonce = 5_000n;
    const trade = async (taker: bigint, makerSize: bigint, priceWad: bigint) => {
      const signedOrder = await signOrder(makerWallet, {
        addressBook,
        order: {
          account: asAccountId(world.marketMaker),
          seriesId: world.series,
          size: makerSize,
          priceWad,
          taker: 0n,
          nonce: ++nonce,
          deadline: now + 365n * 86_400n,
        },
      });
      const fillSize = makerSize < 0n ? -makerSize : makerSize;
      await fillOrder(traderWallet, {
        publicClient,
        addressBook,
        signedOrder,
        takerAccount: asAccountId(taker),
        fillSize,
      });
    };
    const write = { publicClient, addressBook };

    // Interest at 200 % a year, so a day moves every balance by many wei.
    const model = await world.connection.viem.deployContract("KinkRateModel", [
      { baseRateWad: 2n * WAD, slope1Wad: 0n, slope2Wad: 0n, kinkWad: (8n * WAD) / 10n },
    ]);
    await vault.write.setRateModel([model.address]);

    // A portfolio account short a call, and a borrower holding only WBTC that buys a call on credit.
    const portfolio = accountId(traderWallet.account.address, 40n);
    const borrower = accountId(traderWallet.account.address, 41n);
    await setMarginMode(traderWallet, { ...write, account: asAccountId(portfolio), mode: 2 });
    await usdc.write.mint([traderWallet.account.address, parseUnits("20000", 6)]);
    await deposit(traderWallet, {
      ...write,
      account: asAccountId(portfolio),
      asset: usdc.address,
      amount: parseUnits("20000", 6),
    });
    await wbtc.write.mint([traderWallet.account.address, parseUnits("1", 8)]);
    await wbtc.write.approve([vault.address, maxUint256], { account: traderWallet.account });
    await deposit(traderWallet, { ...write, account: asAccountId(borrower), asset: wbtc.address, amount: 10n ** 8n });
    const mark = await engine.read.mark([world.series]);
    await trade(portfolio, WAD / 2n, mark);
    await trade(borrower, -WAD / 10n, mark);
    assert.ok((await vault.read.cashOf([borrower])) < 0n, "the borrower owes cash");

    const accounts = [...world.traders, portfolio, borrower, world.marketMaker, world.keepers[0]!.bidderAccount];
    const book = createLocalBook(publicClient as never, addressBook);
    let comparedInputs = 0;
    let expiredOnChain = 0;
    /** Values everyone locally and on chain at the latest block and compares, field by field. */
    const check = async (step: string) => {
      const head = await publicClient.getBlock({ blockTag: "latest" });
      const local = await book.margins(accounts, head);
      const chain = await getAccountMargin(publicClient, {
        engine: addressBook.contracts.MarginEngine,
        accounts: accounts.map(asAccountId),
        blockNumber: head.number,
      });
      assert.deepEqual(local, chain, `${step}: margins at block ${head.number}`);
      for (const account of accounts) {
        const inputs = book.inputs(account);
        if (inputs === undefined) {
          if (head.timestamp >= world.expiry) expiredOnChain++;
          continue;
        }
        const onChain = await getMarginInputs(publicClient, {
          addressBook,
          account: asAccountId(account),
          blockNumber: head.number,
        });
        assertSameInputs(inputs, onChain, `${step}, account ${account}`);
        comparedInputs++;
      }
    };
    /** Moves time by a random part of `seconds` and re-posts the feeds (BTC at `spot`). */
    const wait = async (seconds: number, spot: number) => {
      await testClient.increaseTime({ seconds: Math.round(seconds * (0.5 + next())) });
      await world.refreshFeeds(spot);
    };

    await check("after the fills");
    await wait(DAY / 2, SPOT * 0.98);
    await check("half a day of interest, BTC −2 %");
    await usdc.write.mint([traderWallet.account.address, parseUnits("3000", 6)]);
    await deposit(traderWallet, {
      ...write,
      account: asAccountId(world.traders[0]!),
      asset: usdc.address,
      amount: parseUnits("3000", 6),
    });
    await check("a deposit");
    await trade(world.traders[1]!, WAD / 100n, await engine.read.mark([world.series]));
    await wait(DAY / 3, SPOT * 1.01);
    await check("a fill, then interest");
    await withdraw(traderWallet, {
      ...write,
      account: asAccountId(world.traders[0]!),
      asset: usdc.address,
      amount: parseUnits("1000", 6),
    });
    await check("a withdrawal");
    await wait(DAY, SPOT * 0.95);
    await check("a day of interest, BTC −5 %");

    // Past expiry: the positions are valued on chain until settled, then locally again.
    const { timestamp } = await publicClient.getBlock();
    await testClient.increaseTime({ seconds: Number(world.expiry - timestamp) + 60 });
    await world.refreshFeeds(SPOT * 0.96);
    await check("expired, not settled");
    assert.ok(expiredOnChain > 0, "expired positions are left to the chain");
    const keeper = createKeeper({
      publicClient: publicClient as never,
      walletClient: world.keepers[0]!.wallet as never,
      addressBook,
      bidderAccount: world.keepers[0]!.bidderAccount,
      jobs: { liquidate: false, marginCalls: false, backstop: false, settle: true },
      logger: pino({ level: process.env.KEEPER_LOG ?? "silent" }),
    });
    for (let tick = 0; tick < 4; tick++) {
      await keeper.tick();
      await testClient.mine({ blocks: 1 });
    }
    await keeper.stop();
    assert.ok(keeper.stats().settled > 0, "the keeper settled the expired positions");
    await wait(DAY / 4, SPOT * 0.96);
    await check("settled, then interest");
    assert.ok(comparedInputs >= 30, `inputs compared field by field: ${comparedInputs}`);
    assert.ok(book.counts().local >= 30, "most states were valued locally");
  });
});
