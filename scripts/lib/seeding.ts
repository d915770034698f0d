import { encodeFunctionData, maxUint256, parseUnits } from "viem";

import {
  Account,
  type CollateralInput,
  type MarginInputs,
  type Order,
  accountId,
  markAndSpot,
  orderDomain,
  orderTypes,
  seriesId,
  asSeriesId,
} from "../../packages/sdk/src/index.js";
import type { BatchTx, ChainClock } from "./chainClock.js";
import {
  type AccountPlan,
  type PopulationOptions,
  type SeriesSpec,
  planPopulation,
  seriesGrid,
  sizeTrades,
} from "./population.js";
import { type SurfaceDriver, surfaceInputOf } from "./volSurfaceDriver.js";
import { type World, fundingTxs, marginsOf } from "./world.js";

/**
 * Seeding: the series grid listed, the market maker and the bidder funded, and the
 * population opened at initial margin, every fill sized off-chain with the SDK's exact
 * margin mirror and checked against the engine to the wei.
 */

const DAY = 86_400;
/** The underlying the population trades (BTC in the deployment's registry). */
const BTC_INDEX = 2;
/**
 * The cash of each market-maker desk (one subaccount per series) per population account.
 * The desks sell every long the population buys, often cheap far out-of-the-money
 * options whose requirement is hundreds of times their premium, piled on one series by
 * a few accounts; funded this deep, the market maker never becomes the binding
 * constraint and is never liquidated: the run tests the population, not its balance sheet.
 */
const DESK_CASH_PER_ACCOUNT = parseUnits("1000000000", 6);
/** Cash the keeper's bidder account is seeded with, cash units. */
export const BIDDER_CASH = parseUnits("100000000", 6);
/**
 * The insurance fund's capital in the simulations, cash units, or `"window"`: the deployed Backstop's
 * `maxLossPerWindowWad` (the deployment's default: $5M), the most the takeover budget lets the fund
 * lose in 24 h, so every loss the budget allows in one window is paid from the fund's own cash.
 */
export type InsuranceCapital = "window" | bigint;
/** Gas limit of a fill of a batch: fixed, because estimating against the latest block cannot see the batch. */
const FILL_GAS = 4_000_000n;

/** Plans the population's accounts (`planPopulation` by default). */
export type PopulationPlanner = (options: PopulationOptions) => AccountPlan[];

/** Lists the BTC series the population trades, around `spot` at chain time `now` (`seriesGrid` by default). */
export type SeriesGridBuilder = (spot: number, now: number) => SeriesSpec[];

/** The default grid: `seriesGrid` on BTC. */
export const btcSeriesGrid: SeriesGridBuilder = (spot, now) => seriesGrid(BTC_INDEX, spot, now);

export interface SeedOptions {
  accounts: number;
  seed: number;
  /** BTC/USD at which the population trades. */
  spot: number;
  /** Plans the accounts; default `planPopulation`. */
  population?: PopulationPlanner;
  /** Lists the series; default `btcSeriesGrid`. Every series must be on BTC. */
  grid?: SeriesGridBuilder;
  /**
   * The in-process vol signer (`createSurfaceDriver`): when given, the calm crash smile is posted
   * for the grid's expiries and matures, and the engine marks on it, before anyone trades; the
   * trades are sized on the surface marks.
   */
  volSurface?: SurfaceDriver;
  /** Called after each batch of seeded accounts. */
  onAccount?: (done: number, total: number) => void;
  /** Cash the keeper's bidder account is funded with, cash units; default `BIDDER_CASH`. */
  bidderCash?: bigint;
  /**
   * Cash deposited into the insurance fund's account before trading (anyone may fund it), cash
   * units, or `"window"` (default): the deployed takeover budget's 24 h window (`InsuranceCapital`).
   */
  insuranceCash?: InsuranceCapital;
}

/**
 * Population accounts opened per block. EDR's block building slows down more than
 * linearly with the transactions in a block, so small blocks seed fastest (measured:
 * 40 accounts in 1.9 s at one account per block, 3.2 s at three, 9.7 s at fifteen).
 */
const SEED_ACCOUNTS_PER_BLOCK = 1;

/**
 * Posts `spot`, funds the market maker and the bidder, lists the BTC series grid and
 * opens the planned population: each account deposits, then fills signed orders of the
 * market maker until it sits just above initial margin. Trades are sized off-chain with
 * the SDK's exact margin mirror (`Account`) at the block they land in, and many
 * accounts' transactions share one block (`minedTogether`); after each block the
 * engine's margins are checked against the mirror to the wei. Returns the median
 * excessIM / requirementIM after seeding.
 */
export async function seedPopulation(world: World, chain: ChainClock, options: SeedOptions) {
  const { contracts, makerWallet, traderWallet, bidderWallet } = world;
  const { vault, engine, market, oracle, usdc, wbtc } = contracts;
  const open = options.spot;
  await chain.postSpot(open, chain.now() + 1);
  await chain.refreshOthers();

  const grid = (options.grid ?? btcSeriesGrid)(open, chain.now());
  if (grid.some((spec) => spec.underlyingIndex !== BTC_INDEX)) throw new Error("seeding: every series must be on BTC");
  if (options.volSurface) {
    // An hour passes while the first smile matures: the spot is posted again after it.
    await options.volSurface.open(
      open,
      grid.map((spec) => BigInt(spec.expiry)),
    );
    await chain.postSpot(open, chain.now() + 1);
  }
  const plans = (options.population ?? planPopulation)({
    accounts: options.accounts,
    seed: options.seed,
    spot: open,
    gridSize: grid.length,
  });
  const { call, mint, approve, deposit, raiseCashCap } = fundingTxs(world);
  const trader = traderWallet.account.address;
  const bidder = bidderWallet.account.address;
  const bidderCash = options.bidderCash ?? BIDDER_CASH;
  const insuranceCash = await insuranceCashOf(world, options.insuranceCash ?? "window");

  // Block 1: the series grid, every mint the run needs (the population's in one go), the
  // approvals, and a cash supply cap that fits the market maker.
  // The market maker quotes each series from its own desk (subaccount), so the margin
  // check of its side of a fill values one position, not the whole grid.
  const maker = makerWallet.account.address;
  const desks = grid.map((_, i) => accountId(maker, BigInt(i + 1)));
  const deskCash = DESK_CASH_PER_ACCOUNT * BigInt(Math.max(1, plans.length));
  const makerCash = deskCash * BigInt(desks.length);
  const deposits = plans.map((plan) => ({
    cash: parseUnits(String(plan.cashUsd), 6),
    btc: parseUnits(plan.wbtc.toFixed(8), 8),
  }));
  const populationCash = deposits.reduce((sum, d) => sum + d.cash, 0n);
  const populationBtc = deposits.reduce((sum, d) => sum + d.btc, 0n);
  const admin = world.adminWallet.account.address;
  const setup: BatchTx[] = [
    await raiseCashCap(makerCash + bidderCash + insuranceCash + populationCash),
    ...grid.map((spec) =>
      call(admin, market.address, encodeFunctionData({ abi: market.abi, functionName: "createSeries", args: [spec] })),
    ),
    mint(usdc.address, maker, makerCash),
    mint(usdc.address, bidder, bidderCash),
    mint(usdc.address, admin, insuranceCash),
    mint(usdc.address, trader, populationCash),
    mint(wbtc.address, trader, populationBtc),
    approve(maker, usdc.address, makerCash),
    approve(bidder, usdc.address, bidderCash),
    approve(admin, usdc.address, insuranceCash),
    approve(trader, usdc.address, maxUint256),
    approve(trader, wbtc.address, maxUint256),
  ];
  await chain.minedTogether(setup);
  world.series.push(...grid.map((spec) => seriesId({ ...spec, expiry: BigInt(spec.expiry) })));
  world.marketMakers.push(...desks);
  await chain.minedTogether([
    ...desks.map((desk) => deposit(maker, desk, usdc.address, deskCash)),
    deposit(bidder, world.bidder, usdc.address, bidderCash),
    ...(insuranceCash > 0n ? [deposit(admin, world.insuranceAccount, usdc.address, insuranceCash)] : []),
  ]);

  // The mirror's inputs: what the engine reads for a fresh account and for BTC.
  const assets = await vault.read.collateralAssets();
  const collateral: CollateralInput[] = await Promise.all(
    assets.map(async (asset) => {
      const config = await vault.read.assetConfig([asset]);
      return {
        amount: 0n,
        decimals: config.decimals,
        priceWad: await oracle.read.spot([asset]),
        initialHaircutWad: config.initialHaircutWad,
        maintenanceHaircutWad: config.maintenanceHaircutWad,
      };
    }),
  );
  const btcIndex = assets.findIndex((asset) => asset.toLowerCase() === wbtc.address.toLowerCase());
  const btc = await engine.read.underlying([BTC_INDEX]);
  const btcSpotWad = await oracle.read.spot([btc.asset]);
  const underlyings = new Map([
    [
      BTC_INDEX,
      {
        spotWad: btcSpotWad,
        volWad: await oracle.read.vol([btc.asset]),
        params: btc.params,
        settlementPrices: new Map<bigint, bigint>(),
        // Nothing is posted while the population trades, so one read of the surface holds throughout.
        surface: options.volSurface
          ? await surfaceInputOf(world, btc.asset, BTC_INDEX, world.series, btcSpotWad)
          : undefined,
      },
    ],
  ]);
  const [feeAccount, takerFeeWad] = await Promise.all([market.read.feeAccount(), market.read.takerFeeWad()]);
  const cashDecimals = world.book.cash.decimals;
  const fresh = (timestamp: bigint): MarginInputs => ({
    timestamp,
    cash: 0n,
    cashDecimals,
    collateral,
    positions: [],
    underlyings,
  });
  const domain = orderDomain(world.chainId, market.address);

  let orderNonce = 0n;
  let batch: BatchTx[] = [];
  let expected = new Map<bigint, Account>();
  let done = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await chain.minedTogether(batch);
    const accounts = [...expected.keys()];
    const states = await engine.read.accountsMargin([accounts]);
    for (const [i, state] of states.entries()) {
      const mirror = expected.get(accounts[i]!)!.margin();
      if (
        state.equityIM !== mirror.equityIM ||
        state.equityMM !== mirror.equityMM ||
        state.requirementIM !== mirror.requirementIM ||
        state.requirementMM !== mirror.requirementMM
      ) {
        throw new Error(`seeding: the margin mirror disagrees with the engine on account ${accounts[i]}`);
      }
    }
    done += accounts.length;
    options.onAccount?.(done, plans.length);
    batch = [];
    expected = new Map();
    await chain.refreshOthersIfDue();
  };

  for (const [i, plan] of plans.entries()) {
    if (expected.size >= SEED_ACCOUNTS_PER_BLOCK) await flush();
    // Every account of a batch is sized at the timestamp of the block it lands in.
    const at = BigInt(chain.now() + 1);
    const spot = underlyings.get(BTC_INDEX)!;
    const marks = world.series.map((id) => markAndSpot(id, spot, at).markWad);
    const account = accountId(trader, plan.subId);
    const { cash, btc: btcAmount } = deposits[i]!;
    let start = new Account(fresh(at));
    const txs: BatchTx[] = [];
    if (cash > 0n) {
      start = start.withDeposit("cash", cash);
      txs.push(deposit(trader, account, usdc.address, cash));
    }
    if (btcAmount > 0n) {
      start = start.withDeposit(btcIndex, btcAmount);
      txs.push(deposit(trader, account, wbtc.address, btcAmount));
    }
    // The fee account never trades (the market refuses it), so a fee account means a fee.
    const terms = { cashDecimals, takerFeeWad: feeAccount === 0n ? 0n : takerFeeWad };
    const { fills, account: after } = sizeTrades(plan, start, grid, world.series, marks, open, terms);
    for (const fill of fills) {
      // The market maker takes the other side at mark ± spread.
      const order: Order = {
        account: desks[fill.series]!,
        seriesId: asSeriesId(world.series[fill.series]!),
        size: fill.long ? -fill.size : fill.size,
        priceWad: fill.priceWad,
        taker: account,
        nonce: ++orderNonce,
        deadline: BigInt(chain.now() + 365 * DAY),
      };
      const signature = await makerWallet.signTypedData({
        domain,
        types: orderTypes,
        primaryType: "Order",
        message: order,
      });
      const data = encodeFunctionData({
        abi: market.abi,
        functionName: "fill",
        args: [order, signature, account, fill.size],
      });
      txs.push(call(trader, market.address, data, FILL_GAS));
    }
    world.population.push(account);
    batch.push(...txs);
    expected.set(account, after);
  }
  await flush();

  const seeded = await marginsOf(world, world.population);
  const shares = seeded
    .map((m) => Number(m.equityIM - BigInt(m.requirementIM)) / Math.max(1, Number(m.requirementIM)))
    .sort((a, b) => a - b);
  return { plans, grid, seededExcessIM: shares[Math.floor(shares.length / 2)] ?? 0, insuranceCash };
}

/** The insurance fund's seeded cash, cash units: `"window"` reads the deployed takeover budget. */
async function insuranceCashOf(world: World, capital: InsuranceCapital): Promise<bigint> {
  if (capital !== "window") return capital;
  const { maxLossPerWindowWad } = await world.contracts.backstop.read.takeoverBudget();
  return maxLossPerWindowWad / 10n ** BigInt(18 - world.book.cash.decimals);
}
