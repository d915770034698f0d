import { network } from "hardhat";
import {
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
  decodeErrorResult,
  encodeFunctionData,
  maxUint256,
  numberToHex,
  parseEventLogs,
  parseUnits,
} from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  Account,
  type CollateralInput,
  type MarginInputs,
  type Order,
  accountId,
  markAndSpot,
  orderDomain,
  orderTypes,
  pledgeErrorAbi,
  seriesId,
} from "../../packages/sdk/src/index.js";
import { type DailyCandle, type FeedPoint, feedPath, toFeedAnswer } from "./history.js";
import { WAD, planPopulation, seriesGrid, sizeTrades } from "./population.js";

/**
 * One stress episode on a fresh in-process chain: deploy Pledge, seed a population at
 * initial margin, then replay the feed path of `candles` while keeper bots start and
 * bid on auctions after every update. Shared by `npm run stress` and the CI test.
 */

const DAY = 86_400;
const HEALTH = { HEALTHY: 0, MARGIN_CALL: 1, LIQUIDATABLE: 2, INSOLVENT: 3 } as const;
/** Feeds other than BTC/USD are re-posted when their last post is this old. */
const REFRESH_SECONDS = 1_800;
/**
 * The cash of each market-maker desk (one subaccount per series) per population account.
 * The desks sell every long the population buys, often cheap far out-of-the-money
 * options whose requirement is hundreds of times their premium, piled on one series by
 * a few accounts; funded this deep, the market maker never becomes the binding
 * constraint and is never liquidated: the run tests the population, not its balance sheet.
 */
const DESK_CASH_PER_ACCOUNT = parseUnits("1000000000", 6);
const BIDDER_CASH = parseUnits("100000000", 6);
/**
 * Blocks of the in-process chain hold this much gas, so a seeding batch of many accounts
 * (each transaction sent with a generous fixed gas limit, see `SEED_GAS`) fits one block.
 */
export const BLOCK_GAS_LIMIT = 10_000_000_000n;
/** Priority fee of batched transactions, wei. */
const PRIORITY_FEE = 1_000_000_000n;
/** Gas limits of seeding transactions: fixed, because estimating against the latest block cannot see the batch. */
const SEED_GAS = { deposit: 300_000n, fill: 4_000_000n, other: 500_000n } as const;

export interface EpisodeOptions {
  name: string;
  candles: readonly DailyCandle[];
  accounts: number;
  seed: number;
  /** Seconds the bots wait between bidding rounds on auctions nobody could take. */
  roundSeconds?: number;
  /** Bidding rounds after one feed update before the bots give up until the next. */
  maxRounds?: number;
  log?: (line: string) => void;
}

/** The summary row of one episode. */
export interface EpisodeResult {
  episode: string;
  days: string;
  priceMin: number;
  priceMax: number;
  feedUpdates: number;
  accounts: number;
  /** Median excessIM / requirementIM of the population right after seeding. */
  seededExcessIM: number;
  fellBelowMM: number;
  auctionsStarted: number;
  bids: number;
  failedBids: number;
  auctionsEnded: number;
  liquidatedFully: number;
  unresolvedAuctions: number;
  badDebtUsd: number;
  insuranceUsd: number;
  valueTransferredUsd: number;
  botGas: number;
  seconds: number;
}

/** Everything after the run, so callers can check invariants on the final chain state. */
export interface EpisodeOutcome {
  result: EpisodeResult;
  world: Awaited<ReturnType<typeof setUp>>;
  /** Population accounts that ever fell below maintenance margin. */
  flagged: Set<bigint>;
  /** Per ended auction: the account, whether it was emptied, and whether it ended at or above IM. */
  endings: { account: bigint; emptied: boolean; atOrAboveIM: boolean }[];
}

type Connection = Awaited<ReturnType<typeof network.create>>;

/** The deployed protocol on a fresh in-process chain, and the actors of a run. */
export type World = Awaited<ReturnType<typeof setUp>>;

/**
 * A fresh in-process chain whose clock starts two days before `startTime` (unix
 * seconds), so the population trades at the episode's own dates and every timestamp
 * the feeds post is the historical one; Pledge deployed on it with Ignition.
 */
export async function setUp(startTime: number) {
  const connection: Connection = await network.create({
    override: { initialDate: new Date((startTime - 2 * DAY) * 1000), blockGasLimit: BLOCK_GAS_LIMIT },
  });
  const { contracts, book } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const [adminWallet, makerWallet, traderWallet, bidderWallet] = await connection.viem.getWalletClients();
  if (!adminWallet || !makerWallet || !traderWallet || !bidderWallet) {
    throw new Error("episode: need four wallet clients");
  }
  const chainId = await publicClient.getChainId();
  const insuranceAccount = await contracts.liquidator.read.insuranceAccount();
  return {
    connection,
    contracts,
    book,
    publicClient,
    chainId,
    adminWallet,
    makerWallet,
    traderWallet,
    bidderWallet,
    /** The market maker's desks: subaccount `1 + i` quotes series `i` of the grid. */
    marketMakers: [] as bigint[],
    bidder: accountId(bidderWallet.account.address, 1n),
    insuranceAccount,
    population: [] as bigint[],
    series: [] as bigint[],
  };
}

/** Accounts per `accountsMargin` call: a few hundred would pass the node's gas cap for one call. */
const MARGIN_CHUNK = 100;

/**
 * `engine.accountsMargin` over any number of accounts, in chunks that each fit one
 * call's gas, all at one block (`blockNumber`, default the latest).
 */
export async function marginsOf(world: World, accounts: readonly bigint[], blockNumber?: bigint) {
  const at = blockNumber ?? (await world.publicClient.getBlockNumber({ cacheTime: 0 }));
  const chunks: bigint[][] = [];
  for (let i = 0; i < accounts.length; i += MARGIN_CHUNK) chunks.push(accounts.slice(i, i + MARGIN_CHUNK));
  const states = await Promise.all(
    chunks.map((chunk) => world.contracts.engine.read.accountsMargin([chunk], { blockNumber: at })),
  );
  return states.flat();
}

/** One transaction of a batch: calldata from an unlocked node account, with its gas limit. */
export interface BatchTx {
  from: Address;
  to: Address;
  data: Hex;
  gas: bigint;
}

/**
 * The chain clock of a run: blocks at chosen timestamps, one transaction each (`mined`)
 * or many at once (`minedTogether`).
 */
export interface ChainClock {
  /** The timestamp of the last block this clock mined. */
  now(): number;
  /** Mines `send`'s transaction in its own block at `at` (default: one second later); throws on revert. */
  mined(send: () => Promise<Hash>, at?: number): Promise<TransactionReceipt>;
  /**
   * Sends `txs` back to back with automine off (explicit nonces, in order per sender),
   * then mines them all in one block at `at` (default: one second later). Throws if one
   * reverted or did not fit the block.
   */
  minedTogether(txs: readonly BatchTx[], at?: number): Promise<TransactionReceipt[]>;
  /** Advances chain time by mining an empty block, keeping every feed fresh. */
  advance(seconds: number): Promise<void>;
  /** Re-posts the ETH and volatility feeds (unchanged answers) so they stay fresh. */
  refreshOthers(): Promise<void>;
  /** Re-posts the other feeds when their last post is older than the refresh period. */
  refreshOthersIfDue(): Promise<void>;
  /** Posts a BTC/USD answer at `time` (or the next free second). */
  postSpot(price: number, time: number): Promise<TransactionReceipt>;
  /** Catches up with blocks mined by someone else (an in-process keeper). */
  sync(): Promise<void>;
}

export async function chainClock(world: World): Promise<ChainClock> {
  const { connection, publicClient, contracts } = world;
  const { btcUsd, btcVol, ethUsd, ethVol } = contracts;
  let clock = Number((await publicClient.getBlock()).timestamp);
  let othersPostedAt = 0;
  const nextBlockAt = async (time: number) => {
    clock = Math.max(clock + 1, time);
    await connection.provider.request({ method: "evm_setNextBlockTimestamp", params: [clock] });
  };
  const mined = async (send: () => Promise<Hash>, at = clock + 1): Promise<TransactionReceipt> => {
    await nextBlockAt(at);
    const hash = await send();
    // Automine has already mined it: read the receipt instead of polling for it.
    const receipt = await publicClient
      .getTransactionReceipt({ hash })
      .catch(() => publicClient.waitForTransactionReceipt({ hash }));
    if (receipt.status !== "success") throw new Error("episode: transaction reverted");
    return receipt;
  };
  const minedTogether = async (txs: readonly BatchTx[], at = clock + 1): Promise<TransactionReceipt[]> => {
    const { provider } = connection;
    await provider.request({ method: "evm_setAutomine", params: [false] });
    const hashes: Hash[] = [];
    try {
      // Explicit fees and nonces: left to the node, each send would price the pending block,
      // re-running every transaction already waiting in it.
      const { baseFeePerGas } = await publicClient.getBlock();
      const fees = {
        maxFeePerGas: numberToHex(2n * (baseFeePerGas ?? 0n) + PRIORITY_FEE),
        maxPriorityFeePerGas: numberToHex(PRIORITY_FEE),
      };
      const nonces = new Map<Address, number>();
      for (const tx of txs) {
        const nonce =
          nonces.get(tx.from) ?? (await publicClient.getTransactionCount({ address: tx.from, blockTag: "pending" }));
        nonces.set(tx.from, nonce + 1);
        const params = {
          from: tx.from,
          to: tx.to,
          data: tx.data,
          gas: numberToHex(tx.gas),
          nonce: numberToHex(nonce),
          ...fees,
        };
        hashes.push((await provider.request({ method: "eth_sendTransaction", params: [params] })) as Hash);
      }
      await nextBlockAt(at);
      await provider.request({ method: "evm_mine", params: [] });
    } finally {
      await provider.request({ method: "evm_setAutomine", params: [true] });
    }
    const receipts = await Promise.all(
      hashes.map((hash) =>
        publicClient.getTransactionReceipt({ hash }).catch(() => {
          throw new Error(`episode: ${hashes.length} transactions did not fit one block`);
        }),
      ),
    );
    const block = receipts[0]?.blockNumber;
    for (const receipt of receipts) {
      if (receipt.status !== "success") {
        throw new Error(
          `episode: batched transaction ${receipt.transactionHash} reverted${await revertReason(receipt)}`,
        );
      }
      if (receipt.blockNumber !== block) throw new Error("episode: a batch spread over several blocks");
    }
    return receipts;
  };
  /** The decoded custom error of a mined revert, from the node's trace. */
  const revertReason = async (receipt: TransactionReceipt): Promise<string> => {
    const trace = (await connection.provider
      .request({
        method: "debug_traceTransaction",
        params: [receipt.transactionHash, { disableStorage: true, disableMemory: true, disableStack: true }],
      })
      .catch(() => undefined)) as { returnValue?: string } | undefined;
    const data = trace?.returnValue;
    if (!data) return "";
    try {
      const decoded = decodeErrorResult({
        abi: pledgeErrorAbi,
        data: (data.startsWith("0x") ? data : `0x${data}`) as Hex,
      });
      return `: ${decoded.errorName}(${(decoded.args ?? []).join(", ")})`;
    } catch {
      return `: ${data}`;
    }
  };
  const refreshOthers = async () => {
    for (const feed of [ethUsd, ethVol, btcVol]) {
      const [, answer] = await feed.read.latestRoundData();
      await mined(() => feed.write.updateAnswer([answer]));
    }
    othersPostedAt = clock;
  };
  const refreshOthersIfDue = async () => {
    if (clock - othersPostedAt >= REFRESH_SECONDS) await refreshOthers();
  };
  return {
    now: () => clock,
    mined,
    minedTogether,
    refreshOthers,
    refreshOthersIfDue,
    advance: async (seconds) => {
      await nextBlockAt(clock + seconds);
      await connection.provider.request({ method: "evm_mine", params: [] });
      await refreshOthersIfDue();
    },
    postSpot: (price, time) => mined(() => btcUsd.write.updateAnswer([toFeedAnswer(price)]), time),
    sync: async () => {
      clock = Math.max(clock, Number((await publicClient.getBlock()).timestamp));
    },
  };
}

export interface SeedOptions {
  accounts: number;
  seed: number;
  /** BTC/USD at which the population trades. */
  spot: number;
  /** Called after each batch of seeded accounts. */
  onAccount?: (done: number, total: number) => void;
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
  const { contracts, adminWallet, makerWallet, traderWallet, bidderWallet } = world;
  const { vault, engine, market, oracle, usdc, wbtc } = contracts;
  const open = options.spot;
  await chain.postSpot(open, chain.now() + 1);
  await chain.refreshOthers();

  const grid = seriesGrid(2, open, chain.now());
  const plans = planPopulation({ accounts: options.accounts, seed: options.seed, spot: open, gridSize: grid.length });
  const admin = adminWallet.account.address;
  const trader = traderWallet.account.address;
  const call = (from: Address, to: Address, data: Hex, gas: bigint = SEED_GAS.other): BatchTx => ({
    from,
    to,
    data,
    gas,
  });
  const erc20 = usdc.abi;
  const mint = (token: Address, to: Address, amount: bigint) =>
    call(admin, token, encodeFunctionData({ abi: erc20, functionName: "mint", args: [to, amount] }));
  const approve = (from: Address, token: Address, amount: bigint) =>
    call(from, token, encodeFunctionData({ abi: erc20, functionName: "approve", args: [vault.address, amount] }));
  const deposit = (from: Address, account: bigint, token: Address, amount: bigint) =>
    call(
      from,
      vault.address,
      encodeFunctionData({ abi: vault.abi, functionName: "deposit", args: [account, token, amount] }),
      SEED_GAS.deposit,
    );

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
  const cashConfig = await vault.read.assetConfig([usdc.address]);
  const setup: BatchTx[] = [
    call(
      admin,
      vault.address,
      encodeFunctionData({
        abi: vault.abi,
        functionName: "configureAsset",
        args: [
          usdc.address,
          cashConfig.enabled,
          0n,
          0n,
          cashConfig.supplyCap + makerCash + BIDDER_CASH + populationCash,
        ],
      }),
    ),
    ...grid.map((spec) =>
      call(admin, market.address, encodeFunctionData({ abi: market.abi, functionName: "createSeries", args: [spec] })),
    ),
    mint(usdc.address, maker, makerCash),
    mint(usdc.address, bidderWallet.account.address, BIDDER_CASH),
    mint(usdc.address, trader, populationCash),
    mint(wbtc.address, trader, populationBtc),
    approve(maker, usdc.address, makerCash),
    approve(bidderWallet.account.address, usdc.address, BIDDER_CASH),
    approve(trader, usdc.address, maxUint256),
    approve(trader, wbtc.address, maxUint256),
  ];
  await chain.minedTogether(setup);
  world.series.push(...grid.map((spec) => seriesId({ ...spec, expiry: BigInt(spec.expiry) })));
  world.marketMakers.push(...desks);
  await chain.minedTogether([
    ...desks.map((desk) => deposit(maker, desk, usdc.address, deskCash)),
    deposit(bidderWallet.account.address, world.bidder, usdc.address, BIDDER_CASH),
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
  const btc = await engine.read.underlying([2]);
  const underlyings = new Map([
    [
      2,
      {
        spotWad: await oracle.read.spot([btc.asset]),
        volWad: await oracle.read.vol([btc.asset]),
        params: btc.params,
        settlementPrices: new Map<bigint, bigint>(),
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
        throw new Error(`episode: the margin mirror disagrees with the engine on account ${accounts[i]}`);
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
    const spot = underlyings.get(2)!;
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
        seriesId: world.series[fill.series]!,
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
      txs.push(call(trader, market.address, data, SEED_GAS.fill));
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
  return { plans, grid, seededExcessIM: shares[Math.floor(shares.length / 2)] ?? 0 };
}

export interface BotOptions {
  name: string;
  /** Seconds the bots wait between bidding rounds on auctions nobody could take. */
  roundSeconds?: number;
  /** Bidding rounds after one feed update before the bots give up until the next. */
  maxRounds?: number;
  log?: (line: string) => void;
}

/** The first auction start and the first bid the bots made on an account, by block. */
export interface BotLiquidation {
  account: bigint;
  auctionBlock: bigint;
  bidBlock?: bigint;
}

/**
 * The stress test's keeper bots: after each feed update, `tick` starts an auction on
 * every watched account below MM, then bids the largest allowed slice on every open
 * auction (terminating those back above IM), advancing time by `roundSeconds` between
 * rounds while some auction could not be taken, at most `maxRounds` times.
 */
export function createBots(world: World, chain: ChainClock, options: BotOptions) {
  const log = options.log ?? (() => {});
  const roundSeconds = options.roundSeconds ?? 60;
  const maxRounds = options.maxRounds ?? 30;
  const { engine, market, liquidator } = world.contracts;
  const { mined } = chain;
  const asBidder = { account: world.bidderWallet.account };
  const watched = [...world.population, ...world.marketMakers, world.bidder];
  const flagged = new Set<bigint>();
  const endings: EpisodeOutcome["endings"] = [];
  const liquidations = new Map<bigint, BotLiquidation>();
  const stats = {
    auctionsStarted: 0,
    bids: 0,
    failedBids: 0,
    liquidatedFully: 0,
    valueTransferred: 0n,
    botGas: 0n,
  };
  const recordEndings = async (receipt: TransactionReceipt) => {
    stats.botGas += receipt.gasUsed;
    for (const event of parseEventLogs({ abi: liquidator.abi, logs: receipt.logs, eventName: "AuctionEnded" })) {
      const { account, emptied } = event.args;
      const excess = await engine.read.excessInitial([account]);
      endings.push({ account, emptied, atOrAboveIM: excess >= 0n });
      if (emptied) stats.liquidatedFully++;
    }
  };

  const tick = async () => {
    const states = await marginsOf(world, watched);
    for (const [i, state] of states.entries()) {
      if (state.health < HEALTH.LIQUIDATABLE) continue;
      const account = watched[i]!;
      flagged.add(account);
      if ((await liquidator.read.auctionOf([account])).active) continue;
      const receipt = await mined(() => liquidator.write.startAuction([account], asBidder));
      if (!liquidations.has(account)) liquidations.set(account, { account, auctionBlock: receipt.blockNumber });
      await recordEndings(receipt);
      stats.auctionsStarted++;
    }
    for (let round = 0; round < maxRounds; round++) {
      let active = 0;
      // Only the bots start auctions, and only on flagged accounts: the others have none.
      for (const account of watched.filter((a) => flagged.has(a))) {
        if (!(await liquidator.read.auctionOf([account])).active) continue;
        if ((await engine.read.excessInitial([account])) >= 0n) {
          await recordEndings(await mined(() => liquidator.write.terminateAuction([account], asBidder)));
          continue;
        }
        for (let k = 0; k < 10 && (await liquidator.read.auctionOf([account])).active; k++) {
          const preview = await liquidator.read.previewBid([account, WAD]);
          if (preview.fractionWad === 0n) break;
          const nonce = await market.read.accountNonce([account]);
          try {
            const receipt = await mined(() =>
              liquidator.write.bid([account, world.bidder, WAD, preview.payment, nonce], asBidder),
            );
            stats.bids++;
            const first = liquidations.get(account);
            if (first && first.bidBlock === undefined) first.bidBlock = receipt.blockNumber;
            const [bid] = parseEventLogs({ abi: liquidator.abi, logs: receipt.logs, eventName: "Bid" });
            if (bid) {
              const payment = bid.args.payment;
              stats.valueTransferred += (payment < 0n ? -payment : payment) + bid.args.insuranceFee;
            }
            await recordEndings(receipt);
          } catch (error) {
            stats.failedBids++;
            log(`${options.name}: bid failed on ${account}: ${String(error).split("\n")[0]}`);
            break;
          }
        }
        if ((await liquidator.read.auctionOf([account])).active) active++;
      }
      if (active === 0) break;
      await chain.advance(roundSeconds);
    }
  };

  /** Watched accounts whose auction is still open. */
  const unresolved = async () => {
    let open = 0;
    for (const account of watched) if ((await liquidator.read.auctionOf([account])).active) open++;
    return open;
  };
  return { tick, stats, flagged, endings, liquidations, watched, unresolved };
}

/** Runs one episode to the end and returns its summary row and final state. */
export async function runEpisode(options: EpisodeOptions): Promise<EpisodeOutcome> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const first = options.candles[0];
  if (first === undefined) throw new Error("episode: no candles");
  const world = await setUp(first.dayStart);
  const { contracts } = world;
  const { vault, liquidator } = contracts;
  const path = feedPath(options.candles);
  const open = path[0]!.price;
  const chain = await chainClock(world);

  // ------------------------------------------------------------ seed
  const { plans, grid, seededExcessIM } = await seedPopulation(world, chain, {
    accounts: options.accounts,
    seed: options.seed,
    spot: open,
  });
  log(
    `${options.name}: seeded ${plans.length} accounts over ${grid.length} series, median excessIM/IM ${seededExcessIM.toFixed(3)}`,
  );

  // ------------------------------------------------------------ replay and bots
  const bots = createBots(world, chain, {
    name: options.name,
    roundSeconds: options.roundSeconds,
    maxRounds: options.maxRounds,
    log,
  });
  const { stats, flagged, endings } = bots;
  let priceMin = Infinity;
  let priceMax = 0;
  for (const point of path) {
    await postSpot(point);
    priceMin = Math.min(priceMin, point.price);
    priceMax = Math.max(priceMax, point.price);
    await chain.refreshOthersIfDue();
    await bots.tick();
  }
  async function postSpot(point: FeedPoint) {
    await chain.postSpot(point.price, point.time);
  }

  const unresolved = await bots.unresolved();
  const cashScale = 1e6;
  const result: EpisodeResult = {
    episode: options.name,
    days: `${options.candles[0]!.date}..${options.candles.at(-1)!.date}`,
    priceMin,
    priceMax,
    feedUpdates: path.length,
    accounts: world.population.length,
    seededExcessIM: Math.round(seededExcessIM * 1000) / 1000,
    fellBelowMM: [...flagged].filter((a) => world.population.includes(a)).length,
    auctionsStarted: stats.auctionsStarted,
    bids: stats.bids,
    failedBids: stats.failedBids,
    auctionsEnded: endings.length,
    liquidatedFully: stats.liquidatedFully,
    unresolvedAuctions: unresolved,
    badDebtUsd: Number(await liquidator.read.badDebt()) / cashScale,
    insuranceUsd: Number(await vault.read.cashOf([world.insuranceAccount])) / cashScale,
    valueTransferredUsd: Number(stats.valueTransferred) / cashScale,
    botGas: Number(stats.botGas),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  return { result, world, flagged, endings };
}
