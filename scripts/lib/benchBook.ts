import type { network } from "hardhat";
import { type Hash, parseUnits } from "viem";

import type { deployPledge } from "../../deploy/deployPledge.js";
import { asAccountId, asSeriesId, expiryAfter, seriesId as idOf, signOrder } from "../../packages/sdk/src/index.js";

type Connection = Awaited<ReturnType<typeof network.create>>;
type Contracts = Awaited<ReturnType<typeof deployPledge>>["contracts"];
type Wallet = Awaited<ReturnType<Connection["viem"]["getWalletClients"]>>[number];

const WAD = 10n ** 18n;
const DAY = 86_400n;

/** The bench's way of building books, shared by `scripts/bench.ts` and the `scripts/trace-*.ts` breakdowns. */
export interface BenchBook {
  /** Mints `cash` USDC units to `owner` and deposits them into `account`. */
  fund(account: bigint, owner: Wallet, cash: bigint): Promise<void>;
  /**
   * Lists the bench's series number `i`: underlying 1 + i % 2 (ETH, BTC), expiry `firstExpiry` +
   * (i % 4) weeks, a put when i % 3 = 0, strikes 1,500 + 25 i (ETH) or 40,000 + 500 i (BTC).
   */
  createSeries(i: number): Promise<bigint>;
  /**
   * The maker wallet's account `maker` sells one contract of `series` to `taker` (the taker wallet
   * sends); with `size` = +1e18 it buys one from `taker` instead.
   */
  fill(maker: bigint, taker: bigint, series: bigint, size?: bigint): Promise<Hash>;
  /**
   * Funds `maker` (the maker wallet's) with 10M USDC and `taker` (the taker wallet's) with 1M,
   * then `maker` sells one contract of each of `seriesIds` to `taker`: the breakdowns' short book.
   */
  sellEach(maker: bigint, taker: bigint, seriesIds: readonly bigint[]): Promise<void>;
  /**
   * The maker wallet withdraws 99 % of `account`'s excess over initial margin, in USDC, to itself:
   * the bench's thin accounts, just above initial margin, that a rally takes under maintenance.
   */
  withdrawToInitialMargin(account: bigint): Promise<void>;
  /**
   * The liquidation breakdowns' thin account: funds `account` (the maker wallet's) with 1M USDC,
   * sells one contract of each of `seriesIds` to `holder`, then withdraws it to just above initial
   * margin (`withdrawToInitialMargin`), so that a rally takes it under maintenance.
   */
  thinAccount(account: bigint, holder: bigint, seriesIds: readonly bigint[]): Promise<void>;
  /**
   * The maker wallet deposits the USDC (rounded up to a unit) that takes `account`'s maintenance
   * equity to half its requirement: below maintenance and solvent, the usual liquidation's account.
   * Throws if the account is already at or above that.
   */
  topUpToHalfMaintenance(account: bigint): Promise<void>;
}

/**
 * The bench's book builders over a deployment: funding, its 128-series pattern and one-contract
 * fills signed with the SDK's `signOrder` (orders valid a year from `start`).
 *
 * @example
 * const book = benchBook(connection, contracts, makerWallet, takerWallet, expiryAfter(now, 7), now);
 * const series = await book.createSeries(0);
 * await book.fill(maker, taker, series);
 */
export function benchBook(
  connection: Connection,
  contracts: Contracts,
  makerWallet: Wallet,
  takerWallet: Wallet,
  firstExpiry: bigint,
  start: bigint,
): BenchBook {
  const { vault, market, usdc, engine } = contracts;
  let nonce = 0n;
  const publicClient = connection.viem.getPublicClient();
  const chainId = publicClient.then((client) => client.getChainId());
  const book: BenchBook = {
    async fund(account, owner, cash) {
      await usdc.write.mint([owner.account.address, cash]);
      await usdc.write.approve([vault.address, cash], { account: owner.account });
      await vault.write.deposit([account, usdc.address, cash], { account: owner.account });
    },
    async createSeries(i) {
      const series = {
        underlyingIndex: 1 + (i % 2),
        expiry: Number(firstExpiry + BigInt(i % 4) * 7n * DAY),
        isCall: i % 3 !== 0,
        strikeWad: (i % 2 === 0 ? 1_500n + 25n * BigInt(i) : 40_000n + 500n * BigInt(i)) * WAD,
      };
      await (await publicClient).waitForTransactionReceipt({ hash: await market.write.createSeries([series]) });
      return idOf({ ...series, expiry: BigInt(series.expiry) });
    },
    async withdrawToInitialMargin(account) {
      const excess = await engine.read.excessInitial([account]);
      const spare = (excess * 99n) / 100n / 10n ** 12n;
      await vault.write.withdraw([account, usdc.address, spare, makerWallet.account.address], {
        account: makerWallet.account,
      });
    },
    async thinAccount(account, holder, seriesIds) {
      await book.fund(account, makerWallet, parseUnits("1000000", 6));
      for (const series of seriesIds) await book.fill(account, holder, series);
      await book.withdrawToInitialMargin(account);
    },
    async topUpToHalfMaintenance(account) {
      const state = await engine.read.accountMargin([account]);
      const topUp = state.requirementMM / 2n - state.equityMM;
      if (topUp <= 0n) throw new Error("the account is not below half its maintenance requirement");
      await book.fund(account, makerWallet, topUp / 10n ** 12n + 1n);
    },
    async sellEach(maker, taker, seriesIds) {
      await book.fund(maker, makerWallet, parseUnits("10000000", 6));
      await book.fund(taker, takerWallet, parseUnits("1000000", 6));
      for (const series of seriesIds) await book.fill(maker, taker, series);
    },
    async fill(maker, taker, series, size = -WAD) {
      const { order, signature } = await signOrder(makerWallet, {
        market: market.address,
        chainId: await chainId,
        order: {
          account: asAccountId(maker),
          seriesId: asSeriesId(series),
          size,
          priceWad: 10n * WAD,
          taker: 0n,
          nonce: ++nonce,
          deadline: start + 365n * DAY,
        },
      });
      return market.write.fill([order, signature, taker, WAD], { account: takerWallet.account });
    },
  };
  return book;
}

/**
 * `benchBook` from the chain's latest block (the first expiry a week after it) with the bench's
 * first `count` series listed: how each `scripts/trace-*.ts` breakdown starts.
 *
 * @example
 * const { book, seriesIds } = await openBenchBook(connection, contracts, makerWallet, takerWallet, 16);
 * await book.sellEach(maker, taker, seriesIds);
 */
export async function openBenchBook(
  connection: Connection,
  contracts: Contracts,
  makerWallet: Wallet,
  takerWallet: Wallet,
  count: number,
): Promise<{ book: BenchBook; seriesIds: bigint[] }> {
  const latest = await connection.viem.getPublicClient().then((client) => client.getBlock());
  const book = benchBook(
    connection,
    contracts,
    makerWallet,
    takerWallet,
    expiryAfter(latest.timestamp, 7),
    latest.timestamp,
  );
  const seriesIds: bigint[] = [];
  for (let i = 0; i < count; i++) seriesIds.push(await book.createSeries(i));
  return { book, seriesIds };
}
