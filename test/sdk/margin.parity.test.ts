import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  accountId,
  expiryAfter,
  orderDomain,
  orderTypes,
  type Order,
  seriesId as packSeries,
  type AccountId,
  type SeriesId,
} from "../../packages/sdk/src/index.js";
import { Account } from "../../packages/sdk/src/entities/Account.js";
import { seededRandom } from "../../scripts/lib/population.js";
import {
  type AuctionParams,
  Health,
  accountMargin,
  getMarginInputs,
  decodeSeries,
  previewBidFromState,
  settlementPayoff,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const ACCOUNTS = 100;
const SCENARIOS = 5; // 100 accounts × 5 price/time scenarios = 500 portfolios compared

describe("SDK margin math equals the chain, to the wei", async () => {
  const connection = await network.create();
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const { vault, market, engine, oracle, liquidator, usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol } = contracts;
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [, traderWallet, mmWallet] = await connection.viem.getWalletClients();
  if (!traderWallet || !mmWallet) throw new Error("wallets");
  const chainId = await publicClient.getChainId();
  const random = seededRandom(0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  // ---------------------------------------------------------------- series
  const now = (await publicClient.getBlock()).timestamp;
  // The first expiry is at least a day and a half away, so the scenarios stay before it
  // until the last one steps just past it.
  const day0 = expiryAfter(now, 2);
  const seriesIds: SeriesId[] = [];
  for (const [index, spot] of [
    [1, 3_000n],
    [2, 60_000n],
  ] as const) {
    for (const days of [0n, 7n, 30n]) {
      for (const k of [80n, 95n, 100n, 110n, 125n]) {
        for (const isCall of [true, false]) {
          const series = {
            underlyingIndex: index,
            expiry: Number(day0 + days * DAY),
            isCall,
            strikeWad: (spot * k * WAD) / 100n,
          };
          await market.write.createSeries([series]);
          seriesIds.push(packSeries({ ...series, expiry: BigInt(series.expiry) }));
        }
      }
    }
  }

  // ---------------------------------------------------------------- population
  const mm = accountId(mmWallet.account.address, 1n);
  await usdc.write.mint([mmWallet.account.address, 10n ** 14n]);
  await usdc.write.approve([vault.address, 10n ** 14n], { account: mmWallet.account });
  await vault.write.deposit([mm, usdc.address, 10n ** 14n], { account: mmWallet.account });
  const trader = traderWallet.account.address;
  for (const [token, amount] of [
    [usdc, 10n ** 13n],
    [weth, 10n ** 24n],
    [wbtc, 10n ** 14n],
  ] as const) {
    await token.write.mint([trader, amount]);
    await token.write.approve([vault.address, amount], { account: traderWallet.account });
  }

  let nonce = 0n;
  const accounts: AccountId[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const account = accountId(trader, BigInt(i + 1));
    accounts.push(account);
    const asTrader = { account: traderWallet.account };
    await vault.write.deposit(
      [account, usdc.address, BigInt(Math.floor(random() * 50_000)) * 10n ** 6n + 1n],
      asTrader,
    );
    if (random() < 0.6)
      await vault.write.deposit(
        [account, weth.address, BigInt(Math.floor(random() * 20e6)) * 10n ** 12n + 1n],
        asTrader,
      );
    if (random() < 0.4)
      await vault.write.deposit([account, wbtc.address, BigInt(Math.floor(random() * 1e8)) + 1n], asTrader);
    const trades = 1 + Math.floor(random() * 6);
    for (let t = 0; t < trades; t++) {
      const series = pick(seriesIds);
      const mark = await engine.read.mark([series]);
      const size = (BigInt(Math.floor(random() * 3000)) * WAD) / 1000n + 1n;
      const order: Order = {
        account,
        seriesId: series,
        size: random() < 0.55 ? -size : size,
        priceWad: (mark * BigInt(90 + Math.floor(random() * 20))) / 100n,
        taker: 0n,
        nonce: ++nonce,
        deadline: now + 365n * DAY,
      };
      const signature = await traderWallet.signTypedData({
        domain: orderDomain(chainId, market.address),
        types: orderTypes,
        primaryType: "Order",
        message: order,
      });
      try {
        await market.write.fill([order, signature, mm, size], { account: mmWallet.account });
      } catch {
        // Over the trader's IM: refused, as it should be.
      }
    }
  }

  // Chain → inputs: the SDK's own reader, at the latest block.
  const readInputs = (account: AccountId) => getMarginInputs(publicClient, { addressBook: book, account });

  async function refreshFeeds(eth: bigint, btc: bigint, ethV: bigint, btcV: bigint) {
    await ethUsd.write.updateAnswer([eth]);
    await btcUsd.write.updateAnswer([btc]);
    await ethVol.write.updateAnswer([ethV]);
    await btcVol.write.updateAnswer([btcV]);
  }

  const params: AuctionParams = await liquidator.read.auctionParams();
  let compared = 0;
  let previews = 0;
  let notStartedPreviews = 0;
  /** Previews of accounts worth less than nothing (V < 0) whose auction clock has run: their discount is capped (issue 16). */
  let insolventRunningPreviews = 0;
  let settled = 0;

  for (let scenario = 0; scenario < SCENARIOS; scenario++) {
    it(`scenario ${scenario}: every account's margin and auction preview match`, async () => {
      // Prices and vol move, time advances (the last scenario passes the first expiry).
      const block = await publicClient.getBlock();
      const next =
        scenario === SCENARIOS - 1 ? day0 + 60n : block.timestamp + BigInt(Math.floor(random() * 3 * 3600)) + 1n;
      await testClient.setNextBlockTimestamp({ timestamp: next });
      await testClient.mine({ blocks: 1 });
      const eth = BigInt(Math.floor(3_000 * (0.6 + random() * 0.9) * 1e8));
      const btc = BigInt(Math.floor(60_000 * (0.6 + random() * 0.9) * 1e8));
      await refreshFeeds(
        eth,
        btc,
        BigInt(Math.floor((0.3 + random()) * 1e8)),
        BigInt(Math.floor((0.3 + random()) * 1e8)),
      );
      if (scenario === SCENARIOS - 1) {
        const expiry = day0;
        const round = await ethUsd.read.latestRound();
        await oracle.write.postSettlementPrice([weth.address, expiry, round, []]);
      }
      // One batch view at this block; the SDK is evaluated at the same block time (the
      // auctions started below mine blocks but move no balance or price).
      const timestamp = (await publicClient.getBlock()).timestamp;
      const states = await engine.read.accountsMargin([accounts]);
      for (let i = 0; i < accounts.length; i++) {
        const chain = states[i]!;
        const inputs = { ...(await readInputs(accounts[i]!)), timestamp };
        const sdk = accountMargin(inputs);
        assert.deepEqual(sdk, { ...chain, health: chain.health }, `account ${i} scenario ${scenario}`);
        assert.deepEqual(new Account(inputs).margin(), sdk);
        compared++;

        if (chain.health >= Health.LIQUIDATABLE) {
          const auction = await liquidator.read.auctionOf([accounts[i]!]);
          if (!auction.active) {
            // Not started yet: `bid` would start the auction now, at the starting discount.
            const stamp = (await publicClient.getBlock()).timestamp;
            const fraction = BigInt(Math.floor(random() * 1e6) + 1) * 10n ** 12n;
            const onChain = await liquidator.read.previewBid([accounts[i]!, fraction]);
            const startInputs = await readInputs(accounts[i]!);
            const state = accountMargin(startInputs);
            assert.deepEqual(previewBidFromState(params, state, undefined, stamp, fraction, startInputs), onChain);
            notStartedPreviews++;
            await liquidator.write.startAuction([accounts[i]!]);
          }
          // The clock as `bid` prices it (moved past outages); the cash comes from the inputs.
          // An auction started in an earlier scenario may have lapsed since (no bid for a whole
          // `duration` after its end discount): a bid then restarts it, priced as a new one.
          const [running, clockStart] = await liquidator.read.auctionClock([accounts[i]!]);
          const stamp = (await publicClient.getBlock()).timestamp; // the preview's clock
          const fraction = BigInt(Math.floor(random() * 1e6) + 1) * 10n ** 12n;
          const onChain = await liquidator.read.previewBid([accounts[i]!, fraction]);
          const auctionInputs = await readInputs(accounts[i]!);
          const state = accountMargin(auctionInputs);
          const clock = running ? { clockStart } : undefined;
          assert.deepEqual(previewBidFromState(params, state, clock, stamp, fraction, auctionInputs), onChain);
          previews++;
          if (running && state.markValue < 0n && stamp > clockStart) {
            // The clock's discount has grown; a bid on an account with V < 0 stays at the start's.
            assert.equal(onChain.discountWad, params.startDiscountWad);
            insolventRunningPreviews++;
          }
        }
      }
    });
  }

  it("settlement payoffs match, and the populations were exercised", async () => {
    const expiry = day0;
    for (const account of accounts) {
      const [ids, balances] = await market.read.positionsOf([account]);
      for (let i = 0; i < ids.length; i++) {
        const { expiry: e, underlyingIndex } = decodeSeries(ids[i]!);
        if (e !== expiry || underlyingIndex !== 1) continue;
        const [price] = await oracle.read.settlementPrice([weth.address, expiry]);
        const before = await vault.read.cashOf([account]);
        await market.write.settle([account, ids[i]!]);
        const after = await vault.read.cashOf([account]);
        assert.equal(after - before, settlementPayoff(ids[i]!, balances[i]!, price, 6));
        settled++;
      }
    }
    assert.ok(compared >= 500, `compared ${compared} portfolios`);
    assert.ok(previews > 0, "some accounts were liquidatable");
    assert.ok(notStartedPreviews > 0, "some previews were of auctions not yet started");
    assert.ok(insolventRunningPreviews > 0, "some previews were of accounts with V < 0 and a running clock");
    assert.ok(settled > 0, "some positions settled");
  });
});
