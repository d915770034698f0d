import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { network } from "hardhat";
import type { Hash } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  type AuctionParams,
  expiryAfter,
  type MarginInputs,
  type MarginState,
  type Order,
  type PortfolioParams,
  Account,
  Health,
  MarginMode,
  accountId,
  accountMargin,
  columnsToPrice,
  decodeSeries,
  getAccountMargin,
  getAuctionClock,
  getMarginInputs,
  orderDomain,
  orderTypes,
  previewBidFromState,
  seriesId as packSeries,
  type AccountId,
  type SeriesId,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
/** Portfolio accounts on each side of the book: makers sign, takers fill. */
const PER_SIDE = 150;
const FEED = 10n ** 10n; // 8-decimal feed answer → WAD

/**
 * Portfolio margin in the SDK equals the engine's, field for field, on a seeded random population
 * of PORTFOLIO accounts: ETH and BTC calls and puts, long and short, five expiries (two of which
 * expire during the test, one of them settled), WETH, WBTC and a haircut-only collateral (WSOL)
 * beside USDC cash, under moving prices and vols, the default grid and then two non-default ones
 * (one without a centre scenario); also `Account` what-ifs and the liquidation preview. Seeding
 * sends each transaction once with explicit gas (no estimation, no receipt wait); a portfolio
 * account trades with another, so every fill seeds two of them.
 */
describe("SDK portfolio margin equals the chain, to the wei", async () => {
  const started = performance.now();
  const connection = await network.create();
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const { vault, market, engine, oracle, liquidator, usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol } = contracts;
  const { viem } = connection;
  const publicClient = await viem.getPublicClient();
  const testClient = await viem.getTestClient();
  const [admin, makerWallet, takerWallet, bidderWallet] = await viem.getWalletClients();
  if (!admin || !makerWallet || !takerWallet || !bidderWallet) throw new Error("wallets");
  const chainId = await publicClient.getChainId();
  const rng = random(0x9f0_11f0n);

  // A collateral that is no underlying, so portfolio equity still haircuts it.
  const wsol = await viem.deployContract("MockERC20", ["Wrapped SOL", "WSOL", 9]);
  const solUsd = await viem.deployContract("MockV3Aggregator", [8, 150n * 10n ** 8n]);
  await vault.write.listAsset([wsol.address, (WAD * 25n) / 100n, (WAD * 15n) / 100n, 10n ** 30n]);
  await oracle.write.setSpotFeed([
    wsol.address,
    { aggregator: solUsd.address, maxAge: 4_500, minAnswerWad: WAD, maxAnswerWad: 100_000n * WAD },
  ]);

  // ---------------------------------------------------------------- sending
  // Automine stays on: with it off, every new transaction re-executes the whole pending block
  // (quadratic in the batch). Explicit gas skips estimation, so each transaction runs once.
  let refused = 0;
  /** Sends one transaction (mined at once); a revert is counted, not thrown. */
  const send = async (tx: Promise<Hash>): Promise<void> => {
    try {
      await tx;
    } catch {
      refused++;
    }
  };
  const gas = { fill: 12_000_000n, small: 400_000n };

  // ---------------------------------------------------------------- series
  const now = (await publicClient.getBlock()).timestamp;
  const day0 = expiryAfter(now, 2); // the first expiry, 08:00 UTC
  const expiries = [day0, day0 + DAY, day0 + 7n * DAY, day0 + 30n * DAY, day0 + 90n * DAY];
  const seriesIds: SeriesId[] = [];
  for (const [index, spot] of [
    [1, 3_000n],
    [2, 60_000n],
  ] as const) {
    for (const expiry of expiries) {
      for (const k of [80n, 90n, 100n, 110n, 125n]) {
        for (const isCall of [true, false]) {
          const series = { underlyingIndex: index, expiry: Number(expiry), isCall, strikeWad: (spot * k * WAD) / 100n };
          await send(market.write.createSeries([series], { gas: gas.small }));
          seriesIds.push(packSeries({ ...series, expiry }));
        }
      }
    }
  }
  assert.equal(refused, 0, "series created");
  const marks = new Map<bigint, bigint>();
  for (const id of seriesIds) marks.set(id, await engine.read.mark([id]));

  // ---------------------------------------------------------------- population
  const tokens = [
    [usdc, 10n ** 15n],
    [weth, 10n ** 26n],
    [wbtc, 10n ** 16n],
    [wsol, 10n ** 18n],
  ] as const;
  for (const wallet of [makerWallet, takerWallet, bidderWallet]) {
    for (const [token, amount] of tokens) {
      await send(token.write.mint([wallet.account.address, amount], { gas: gas.small }));
      await send(token.write.approve([vault.address, amount], { account: wallet.account, gas: gas.small }));
    }
  }
  assert.equal(refused, 0, "tokens minted");

  const makers: AccountId[] = [];
  const takers: AccountId[] = [];
  for (const [wallet, side] of [
    [makerWallet, makers],
    [takerWallet, takers],
  ] as const) {
    for (let i = 0; i < PER_SIDE; i++) {
      const account = accountId(wallet.account.address, BigInt(i + 1));
      side.push(account);
      const as = { account: wallet.account, gas: gas.small };
      await send(engine.write.setMarginMode([account, MarginMode.PORTFOLIO], as));
      await send(vault.write.deposit([account, usdc.address, rng.range(500n, 60_000n) * 10n ** 6n], as));
      if (rng.float() < 0.6) await send(vault.write.deposit([account, weth.address, rng.range(1n, 25n * WAD)], as));
      if (rng.float() < 0.4) await send(vault.write.deposit([account, wbtc.address, rng.range(1n, 10n ** 8n)], as));
      if (rng.float() < 0.3)
        await send(vault.write.deposit([account, wsol.address, rng.range(1n, 300n * 10n ** 9n)], as));
    }
  }
  assert.equal(refused, 0, "accounts funded");
  const accounts = [...makers, ...takers];

  let nonce = 0n;
  let fills = 0;
  for (const maker of makers) {
    const orders = 1 + rng.int(8);
    for (let t = 0; t < orders; t++) {
      const series = rng.pick(seriesIds);
      const size = rng.range(1n, 3_000n) * 10n ** 15n + rng.range(0n, 10n ** 6n);
      const order: Order = {
        account: maker,
        seriesId: series,
        size: rng.float() < 0.5 ? -size : size,
        priceWad: (marks.get(series)! * BigInt(90 + rng.int(20))) / 100n,
        taker: 0n,
        nonce: ++nonce,
        deadline: now + 365n * DAY,
      };
      const signature = await makerWallet.signTypedData({
        domain: orderDomain(chainId, market.address),
        types: orderTypes,
        primaryType: "Order",
        message: order,
      });
      await send(
        market.write.fill([order, signature, rng.pick(takers), size], { account: takerWallet.account, gas: gas.fill }),
      );
      fills++;
    }
  }
  const seeded = performance.now();

  // ---------------------------------------------------------------- prices
  const wethAsset = weth.address;
  /** Moves time to `timestamp` and posts fresh feeds there (one block). */
  async function move(
    timestamp: bigint,
    feeds: { eth: bigint; btc: bigint; ethV: bigint; btcV: bigint },
    solFeedAlive = true,
  ) {
    // One block, so the margin is read at exactly `timestamp`.
    await testClient.setAutomine(false);
    const hashes = [
      await ethUsd.write.updateAnswer([feeds.eth], { gas: gas.small }),
      await btcUsd.write.updateAnswer([feeds.btc], { gas: gas.small }),
      await ethVol.write.updateAnswer([feeds.ethV], { gas: gas.small }),
      await btcVol.write.updateAnswer([feeds.btcV], { gas: gas.small }),
      ...(solFeedAlive ? [await solUsd.write.updateAnswer([150n * 10n ** 8n], { gas: gas.small })] : []),
    ];
    await testClient.setNextBlockTimestamp({ timestamp });
    await testClient.mine({ blocks: 1 });
    await testClient.setAutomine(true);
    for (const hash of hashes) assert.equal((await publicClient.getTransactionReceipt({ hash })).status, "success");
  }
  const randomFeeds = (crash = false) => ({
    eth: BigInt(Math.floor(3_000 * (crash ? 0.72 : 0.8 + rng.float() * 0.4) * 1e8)),
    btc: BigInt(Math.floor(60_000 * (crash ? 1.3 : 0.8 + rng.float() * 0.4) * 1e8)),
    ethV: BigInt(Math.floor((crash ? 1.6 : 0.3 + rng.float()) * 1e8)),
    btcV: BigInt(Math.floor((crash ? 1.2 : 0.3 + rng.float()) * 1e8)),
  });

  /**
   * The chain's batch view and the SDK's own reads at the latest block, compared account by
   * account. The chain's portfolio valuation is the slow part (tens of ms per account in the
   * in-process EVM), so some stages check every third account only.
   */
  let compared = 0;
  const checked = new Set<bigint>();
  const health = [0, 0, 0, 0];
  const lastInputs = new Map<bigint, MarginInputs>();
  const everyThird = () => accounts.filter((_, i) => i % 3 === 0);
  async function compare(label: string, subset: readonly AccountId[] = accounts): Promise<MarginState[]> {
    const chain = await getAccountMargin(publicClient, { addressBook: book, accounts: subset, chunkSize: 8 });
    const inputs: MarginInputs[] = [];
    for (let i = 0; i < subset.length; i += 40) {
      const chunk = subset.slice(i, i + 40);
      inputs.push(
        ...(await Promise.all(chunk.map((account) => getMarginInputs(publicClient, { addressBook: book, account })))),
      );
    }
    const states = inputs.map((input) => accountMargin(input));
    states.forEach((sdk, i) => {
      const account = subset[i]!;
      assert.equal(inputs[i]!.mode, MarginMode.PORTFOLIO);
      assert.deepEqual({ ...sdk, account }, chain[i], `${label}: account ${account}`);
      health[sdk.health]!++;
      compared++;
      checked.add(account);
      lastInputs.set(account, inputs[i]!);
    });
    return states;
  }

  /** What-if: an account's last inputs moved by `Account` to a new time and new prices. */
  function predicted(
    account: bigint,
    timestamp: bigint,
    feeds: { eth: bigint; btc: bigint; ethV: bigint; btcV: bigint },
  ) {
    return new Account(lastInputs.get(account)!)
      .at(timestamp)
      .withPrice(1, feeds.eth * FEED, feeds.ethV * FEED)
      .withPrice(2, feeds.btc * FEED, feeds.btcV * FEED)
      .margin();
  }

  after(() => {
    const seconds = (t: number) => ((t - started) / 1000).toFixed(1);
    console.log(
      `    portfolio parity: ${accounts.length} accounts, ${fills} fills (${refused} refused for IM), ` +
        `${compared} account states compared, ${checked.size} accounts (health ${health.join("/")}); seeded in ${seconds(seeded)} s, ` +
        `done in ${seconds(performance.now())} s`,
    );
  });

  it(`the default grid: all ${2 * PER_SIDE} accounts`, async () => {
    await move(now + 3_600n, randomFeeds());
    await compare("default grid");
    // Both pricings are compared: books of shorts alone (one column, `columnsToPrice`) and books
    // with a long (every column). Nothing has expired yet, so every position is at risk.
    const books = { pruned: 0, full: 0 };
    const grid = await engine.read.portfolioParams([1]);
    for (const inputs of lastInputs.values()) {
      for (const u of [1, 2]) {
        const balances = inputs.positions
          .filter((p) => decodeSeries(p.seriesId).underlyingIndex === u)
          .map((p) => p.balance);
        if (balances.length === 0) continue;
        const kept = columnsToPrice(balances, grid.volShocksWad, grid.skewShocksWad);
        books[kept.volShocksWad.length === 1 ? "pruned" : "full"]++;
      }
    }
    console.log(`    books priced in one column: ${books.pruned}, in every column: ${books.full}`);
    assert.ok(books.pruned >= 50 && books.full >= 50, `books pruned/full: ${books.pruned}/${books.full}`);
  });

  it("the default grid after a price, vol and time move, also as an Account what-if", async () => {
    const timestamp = now + 5n * 3_600n;
    const feeds = randomFeeds();
    const subset = everyThird();
    const whatIf = subset.map((account) => predicted(account, timestamp, feeds));
    await move(timestamp, feeds);
    const states = await compare("default grid, moved", subset);
    states.forEach((state, i) => assert.deepEqual(whatIf[i], state, `what-if of account ${subset[i]}`));
  });

  it("non-default grids: ETH 11 × 4 with odd shocks, BTC without a centre scenario, random put-wing skews", async () => {
    // A random skew in [0, 2] to the wei; ETH's flat column is skewed too (its centre scenario is
    // then no longer skipped for legs in the put wing), and its ×2 column at the 2 bound often
    // meets the 300 % cap.
    const skew = () => BigInt(Math.floor(rng.float() * 2e9)) * 10n ** 9n + BigInt(Math.floor(rng.float() * 1e9));
    const eth = {
      spotShocksWad: [-250n, -200n, -150n, -100n, -50n, 0n, 50n, 100n, 150n, 200n, 250n].map(
        (permille, i) => permille * 10n ** 15n + (i === 3 ? -123_456_789_012_345n : 0n),
      ),
      volShocksWad: [2n * WAD, WAD, WAD / 2n, WAD / 4n],
      contingencyWad: WAD / 100n,
      mmFactorWad: (WAD * 9n) / 10n,
      tailShocksWad: [-WAD / 2n, -333_333_333_333_333_333n, 0n, 400_000_000_000_000_001n],
      tailWeightWad: (WAD * 7n) / 10n,
      skewShocksWad: [2n * WAD, skew(), 0n, skew()],
    } satisfies PortfolioParams;
    const btc = {
      spotShocksWad: [-WAD / 2n, -150_000_000_000_000_001n, 70_000_000_000_000_007n, WAD / 5n, WAD / 2n],
      volShocksWad: [1_250_000_000_000_000_000n, 800_000_000_000_000_000n],
      contingencyWad: 2n * 10n ** 15n,
      mmFactorWad: WAD / 2n,
      tailShocksWad: [-WAD / 2n, WAD / 2n],
      tailWeightWad: WAD / 10n,
      // The skew on the lower column: no column has both largest shocks, so even a book of shorts
      // is priced in both columns here (ETH's ×2 column, skewed at the bound, decides its books).
      skewShocksWad: [0n, skew()],
    } satisfies PortfolioParams;
    await engine.write.setPortfolioParams([1, eth]);
    await engine.write.setPortfolioParams([2, btc]);
    assert.deepEqual(await engine.read.portfolioParams([2]), btc);
    await move(now + 9n * 3_600n, randomFeeds());
    await compare("non-default grids");
  });

  it("a dead collateral feed: WSOL counts as zero, on chain and in the SDK (finding 12)", async () => {
    await move(now + 11n * 3_600n, randomFeeds(), false);
    await assert.rejects(oracle.read.spot([wsol.address]));
    const holders = accounts.filter(
      (account) => lastInputs.get(account)?.collateral.some((c) => c.amount !== 0n && c.decimals === 9) ?? false,
    );
    assert.ok(holders.length >= 5, `${holders.length} WSOL holders`);
    const inputs = await Promise.all(
      holders.map((account) => getMarginInputs(publicClient, { addressBook: book, account })),
    );
    for (const input of inputs) assert.ok(input.collateral.some((c) => c.decimals === 9 && c.priceWad === 0n));
    await compare("WSOL feed stale", holders);
  });

  it("past two expiries: ETH's first settled, the rest expired but unsettled", async () => {
    // A round just after the first expiry, posted as its settlement price.
    await move(day0 + 60n, randomFeeds());
    const round = await ethUsd.read.latestRound();
    await oracle.write.postSettlementPrice([wethAsset, day0, round, []]);
    await compare("first expiry settled", everyThird());
    await move(day0 + DAY + 120n, randomFeeds());
    const [, posted] = await oracle.read.settlementPrice([wethAsset, day0 + DAY]);
    assert.equal(posted, false);
    await compare("second expiry unsettled", everyThird());
  });

  it("a crash: liquidatable portfolio accounts, auction previews and a bid match", async () => {
    await move(day0 + DAY + 1_800n, randomFeeds(true));
    const subset = everyThird();
    const states = await compare("crash", subset);
    const params: AuctionParams = await liquidator.read.auctionParams();
    const bidder = accountId(bidderWallet.account.address, 1n);
    await vault.write.deposit([bidder, usdc.address, 10n ** 14n], { account: bidderWallet.account });
    const underwater = subset.filter((_, i) => states[i]!.health >= Health.LIQUIDATABLE);
    assert.ok(underwater.length >= 3, `${underwater.length} liquidatable accounts`);
    let previews = 0;
    for (const account of underwater.slice(0, 8)) {
      await liquidator.write.startAuction([account]);
      const clock = await getAuctionClock(publicClient, { addressBook: book, account });
      const stamp = (await publicClient.getBlock()).timestamp;
      const inputs = await getMarginInputs(publicClient, { addressBook: book, account });
      const state = accountMargin(inputs);
      for (const fraction of [WAD / 10n, rng.range(1n, WAD), WAD]) {
        const onChain = await liquidator.read.previewBid([account, fraction]);
        assert.deepEqual(previewBidFromState(params, state, clock, stamp, fraction, inputs), onChain);
        previews++;
      }
    }
    // One real bid: the account keeps the rest of its book, both sides still match the SDK.
    const target = underwater[0]!;
    const preview = await liquidator.read.previewBid([target, WAD / 4n]);
    const expectedNonce = await market.read.accountNonce([target]);
    await liquidator.write.bid([target, bidder, WAD / 4n, preview.payment, expectedNonce], {
      account: bidderWallet.account,
    });
    for (const account of [target, bidder]) {
      const [onChain] = await getAccountMargin(publicClient, { addressBook: book, accounts: [account] });
      const sdk = accountMargin(await getMarginInputs(publicClient, { addressBook: book, account }));
      assert.deepEqual({ ...sdk, account }, onChain, `after the bid: account ${account}`);
    }
    // A later slice of the same auction prices the account's cash (with what the first bid paid in) at par.
    const clock = await getAuctionClock(publicClient, { addressBook: book, account: target });
    if (clock !== undefined) {
      const stamp = (await publicClient.getBlock()).timestamp;
      const inputs = await getMarginInputs(publicClient, { addressBook: book, account: target });
      assert.ok(inputs.cash > 0n || preview.payment <= 0n, "the first bid's payment is in the account's cash");
      const onChain = await liquidator.read.previewBid([target, WAD / 3n]);
      assert.deepEqual(previewBidFromState(params, accountMargin(inputs), clock, stamp, WAD / 3n, inputs), onChain);
    }
    assert.ok(previews >= 9);
  });

  it(`checked at least 300 portfolio accounts with a spread of health`, () => {
    assert.ok(checked.size >= 300, `${checked.size} accounts checked`);
    assert.ok(compared >= 2 * accounts.length + 4 * everyThird().length, `${compared} compared`);
    assert.ok(
      health[Health.HEALTHY]! > 0 && health[Health.LIQUIDATABLE]! + health[Health.INSOLVENT]! > 0,
      health.join("/"),
    );
  });
});
