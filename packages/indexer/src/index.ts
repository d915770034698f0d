import { ponder } from "ponder:registry";
import {
  account,
  auction,
  backstopAction,
  badDebt,
  bid,
  collateralBalance,
  eventLog,
  fill,
  position,
  series,
  settlement,
  settlementPrice,
  transfer,
} from "ponder:schema";
import type { Address, Hex } from "viem";

import { collateralVaultAbi, marginEngineAbi } from "../../sdk/src/abis/index.js";
import config from "../ponder.config.js";
import { indexedEvents } from "../lib/abis.js";
import { eventKind, jsonArgs } from "../lib/events.js";

/*
 * One indexing function per protocol event (Ponder allows one): each records the event in
 * `event_log`, then updates the tables it concerns. Balances and positions come from the events
 * alone; an account's cash and margin are the vault's and engine's views at the event's block.
 */

/** What a handler reads of Ponder's event (the arguments by name, the block, the log). */
interface PledgeEvent {
  id: string;
  name: string;
  args: Record<string, unknown>;
  block: { number: bigint; timestamp: bigint; hash: Hex };
  transaction: { hash: Hex };
  log: { logIndex: number; address: Address };
}
type Context = Parameters<Parameters<typeof ponder.on<"OptionMarket:OrderFilled">>[1]>[0]["context"];
type Handler = (event: PledgeEvent, context: Context) => Promise<void>;

const big = (event: PledgeEvent, name: string) => event.args[name] as bigint;
const at = (event: PledgeEvent) => ({
  blockNumber: event.block.number,
  timestamp: event.block.timestamp,
  transactionHash: event.transaction.hash,
  logIndex: event.log.logIndex,
});

/**
 * The account views of the block being indexed, by account: a view at a block reads the state at
 * its end, the same for every event of that block, so an account several events of one block
 * name (a bid moves cash, collateral and positions of two accounts, and pays the fee account) is
 * read once per block, not once per event. Keyed by block hash (a reorged block is another one);
 * only the current block's are kept (Ponder indexes blocks in order); a failed read is dropped,
 * so a retry reads again.
 */
let viewsBlock: Hex | undefined;
const viewsOfBlock = new Map<bigint, ReturnType<typeof readAccountViews>>();

function accountViews(context: Context, event: PledgeEvent, id: bigint) {
  if (viewsBlock !== event.block.hash) {
    viewsBlock = event.block.hash;
    viewsOfBlock.clear();
  }
  let views = viewsOfBlock.get(id);
  if (views === undefined) {
    views = readAccountViews(context, id);
    viewsOfBlock.set(id, views);
    views.catch(() => viewsOfBlock.get(id) === views && viewsOfBlock.delete(id));
  }
  return views;
}

/**
 * Starts reading the views of every account an event names, so that an event naming two accounts
 * (a cash or collateral move) waits for one round trip, not two in a row.
 */
function prefetchAccounts(context: Context, event: PledgeEvent, ...ids: bigint[]) {
  for (const id of ids) void accountViews(context, event, id);
}

/**
 * One round trip: the three views at the event's block, in parallel. The margin view reverts when
 * a price is missing (a stale feed): the row keeps nulls then.
 */
function readAccountViews(context: Context, id: bigint) {
  const vault = context.contracts.CollateralVault.address as Address;
  const engine = context.contracts.MarginEngine.address as Address;
  return Promise.all([
    context.client.readContract({ abi: collateralVaultAbi, address: vault, functionName: "cashSharesOf", args: [id] }),
    context.client.readContract({ abi: collateralVaultAbi, address: vault, functionName: "cashOf", args: [id] }),
    context.client
      .readContract({ abi: marginEngineAbi, address: engine, functionName: "accountMargin", args: [id] })
      .catch(() => undefined),
  ]);
}

/** Creates the account if new, and re-reads its cash and margin at the event's block. */
async function refreshAccount(context: Context, event: PledgeEvent, id: bigint, change: { marginMode?: number } = {}) {
  const [cashShares, cash, margin] = await accountViews(context, event, id);
  const values = {
    cashShares,
    cashAtLastEvent: cash,
    equityIMAtLastEvent: margin?.equityIM ?? null,
    equityMMAtLastEvent: margin?.equityMM ?? null,
    requirementIMAtLastEvent: margin?.requirementIM ?? null,
    requirementMMAtLastEvent: margin?.requirementMM ?? null,
    healthAtLastEvent: margin?.health ?? null,
    markValueAtLastEvent: margin?.markValue ?? null,
    lastEventBlock: event.block.number,
    ...change,
  };
  await context.db
    .insert(account)
    .values({
      id,
      owner: `0x${(id >> 96n).toString(16).padStart(40, "0")}`,
      subaccount: id & ((1n << 96n) - 1n),
      marginMode: 0,
      openAuction: null,
      firstBlock: event.block.number,
      ...values,
    })
    .onConflictDoUpdate(values);
}

/** Adds `delta` to an account's collateral of `asset`. */
async function addCollateral(context: Context, event: PledgeEvent, holder: bigint, asset: Address, delta: bigint) {
  await context.db
    .insert(collateralBalance)
    .values({ account: holder, asset, amount: delta, updatedBlock: event.block.number })
    .onConflictDoUpdate((row) => ({ amount: row.amount + delta, updatedBlock: event.block.number }));
}

/** The vault's cash asset (immutable): read once, then kept. */
let cashAsset: Address | undefined;
async function cashAssetOf(context: Context): Promise<Address> {
  cashAsset ??= await context.client.readContract({
    abi: collateralVaultAbi,
    address: context.contracts.CollateralVault.address as Address,
    functionName: "cashAsset",
  });
  return cashAsset;
}

/** Whether `asset` is the vault's cash asset (its cash is shares, not a collateral balance). */
async function isCash(context: Context, asset: Address) {
  return (await cashAssetOf(context)).toLowerCase() === asset.toLowerCase();
}

const handlers: Record<string, Handler> = {
  "CollateralVault:Deposited": async (event, context) => {
    const asset = event.args.asset as Address;
    const to = big(event, "account");
    const cash = await isCash(context, asset);
    if (!cash) await addCollateral(context, event, to, asset, big(event, "amount"));
    await context.db.insert(transfer).values({
      id: event.id,
      kind: "deposit",
      fromAccount: null,
      toAccount: to,
      asset,
      amount: big(event, "amount"),
      wallet: event.args.from as Address,
      ...at(event),
    });
    await refreshAccount(context, event, to);
  },
  "CollateralVault:Withdrawn": async (event, context) => {
    const asset = event.args.asset as Address;
    const from = big(event, "account");
    if (!(await isCash(context, asset))) await addCollateral(context, event, from, asset, -big(event, "amount"));
    await context.db.insert(transfer).values({
      id: event.id,
      kind: "withdraw",
      fromAccount: from,
      toAccount: null,
      asset,
      amount: big(event, "amount"),
      wallet: event.args.to as Address,
      ...at(event),
    });
    await refreshAccount(context, event, from);
  },
  "CollateralVault:CollateralMoved": async (event, context) => {
    const asset = event.args.asset as Address;
    const [from, to, amount] = [big(event, "from"), big(event, "to"), big(event, "amount")];
    prefetchAccounts(context, event, from, to);
    await addCollateral(context, event, from, asset, -amount);
    await addCollateral(context, event, to, asset, amount);
    await context.db.insert(transfer).values({
      id: event.id,
      kind: "collateral",
      fromAccount: from,
      toAccount: to,
      asset,
      amount,
      wallet: null,
      ...at(event),
    });
    await refreshAccount(context, event, from);
    await refreshAccount(context, event, to);
  },
  "CollateralVault:CashMoved": async (event, context) => {
    const [from, to, amount] = [big(event, "from"), big(event, "to"), big(event, "amount")];
    prefetchAccounts(context, event, from, to);
    const asset = await cashAssetOf(context);
    await context.db.insert(transfer).values({
      id: event.id,
      kind: "cash",
      fromAccount: from,
      toAccount: to,
      asset,
      amount,
      wallet: null,
      ...at(event),
    });
    await refreshAccount(context, event, from);
    await refreshAccount(context, event, to);
  },
  "CollateralVault:LossSocialized": (event, context) =>
    recordLoss(context, event, big(event, "account"), big(event, "amount"), big(event, "supplyIndex")),
  "CollateralVault:LossUnabsorbed": (event, context) =>
    recordLoss(context, event, big(event, "account"), big(event, "amount"), big(event, "unabsorbedLoss")),
  "CollateralVault:CashEpochReset": (event, context) =>
    recordLoss(context, event, null, big(event, "written"), big(event, "claims")),
  "CollateralVault:UnabsorbedLossRepaid": (event, context) =>
    recordLoss(context, event, null, big(event, "amount"), big(event, "unabsorbedLoss")),
  "Backstop:BadDebtIncurred": (event, context) =>
    recordLoss(context, event, big(event, "account"), big(event, "amount"), big(event, "totalBadDebt")),

  "MarginEngine:MarginModeSet": (event, context) =>
    refreshAccount(context, event, big(event, "account"), { marginMode: Number(event.args.mode) }),

  "OptionMarket:SeriesCreated": async (event, context) => {
    await context.db.insert(series).values({
      id: big(event, "seriesId"),
      underlyingIndex: Number(event.args.underlyingIndex),
      expiry: big(event, "expiry"),
      strikeWad: big(event, "strikeWad"),
      isCall: event.args.isCall as boolean,
      createdBlock: event.block.number,
      retired: false,
      retiredOpenInterest: null,
    });
  },
  "OptionMarket:SeriesRetired": async (event, context) => {
    await context.db
      .update(series, { id: big(event, "seriesId") })
      .set({ retired: true, retiredOpenInterest: big(event, "openInterest") });
  },
  "OptionMarket:OrderFilled": async (event, context) => {
    await context.db.insert(fill).values({
      id: event.id,
      orderHash: event.args.orderHash as Hex,
      maker: big(event, "maker"),
      taker: big(event, "taker"),
      seriesId: big(event, "seriesId"),
      makerDelta: big(event, "makerDelta"),
      priceWad: big(event, "priceWad"),
      premium: big(event, "premium"),
      makerFee: big(event, "makerFee"),
      takerFee: big(event, "takerFee"),
      ...at(event),
    });
  },
  "OptionMarket:PositionChanged": async (event, context) => {
    const holder = big(event, "account");
    const balance = big(event, "balance");
    await context.db
      .insert(position)
      .values({ account: holder, seriesId: big(event, "seriesId"), balance, updatedBlock: event.block.number })
      .onConflictDoUpdate({ balance, updatedBlock: event.block.number });
    await refreshAccount(context, event, holder);
  },
  "OptionMarket:PositionSettled": async (event, context) => {
    await context.db.insert(settlement).values({
      id: event.id,
      account: big(event, "account"),
      seriesId: big(event, "seriesId"),
      balance: big(event, "balance"),
      payoff: big(event, "payoff"),
      ...at(event),
    });
  },

  "ChainlinkOracle:SettlementPricePosted": async (event, context) => {
    const asset = event.args.asset as Address;
    const expiry = big(event, "expiry");
    await context.db.insert(settlementPrice).values({
      id: `${asset.toLowerCase()}-${expiry}`,
      asset,
      expiry,
      priceWad: big(event, "priceWad"),
      roundId: big(event, "roundId"),
      poster: event.args.poster as Address,
      ...at(event),
    });
  },

  "Liquidator:AuctionStarted": async (event, context) => {
    const holder = big(event, "account");
    await context.db.insert(auction).values({
      id: event.id,
      account: holder,
      markValueWad: big(event, "markValueWad"),
      health: Number(event.args.health),
      keeper: event.args.keeper as Address,
      startedBlock: event.block.number,
      startedAt: event.block.timestamp,
      bids: 0,
      endedBlock: null,
      emptied: null,
    });
    await refreshAccount(context, event, holder);
    await context.db.update(account, { id: holder }).set({ openAuction: event.id });
  },
  "Liquidator:Bid": async (event, context) => {
    const holder = big(event, "account");
    prefetchAccounts(context, event, big(event, "bidderAccount"));
    const open = (await context.db.find(account, { id: holder }))?.openAuction ?? null;
    await context.db.insert(bid).values({
      id: event.id,
      auction: open ?? "",
      account: holder,
      bidderAccount: big(event, "bidderAccount"),
      fractionWad: big(event, "fractionWad"),
      discountWad: big(event, "discountWad"),
      payment: big(event, "payment"),
      insuranceFee: big(event, "insuranceFee"),
      ...at(event),
    });
    if (open !== null) await context.db.update(auction, { id: open }).set((row) => ({ bids: row.bids + 1 }));
    await refreshAccount(context, event, big(event, "bidderAccount"));
  },
  "Liquidator:AuctionEnded": async (event, context) => {
    const holder = big(event, "account");
    const open = (await context.db.find(account, { id: holder }))?.openAuction ?? null;
    if (open !== null) {
      await context.db
        .update(auction, { id: open })
        .set({ endedBlock: event.block.number, emptied: event.args.emptied as boolean });
    }
    await refreshAccount(context, event, holder);
    await context.db.update(account, { id: holder }).set({ openAuction: null });
  },

  "Backstop:AccountTakenOver": async (event, context) => {
    await recordBackstopAction(context, event, "takeover", {
      valueWad: big(event, "valueWad"),
      lossWad: big(event, "lossToFundWad"),
      budgetLeftWad: big(event, "budgetLeftWad"),
    });
  },
  "Backstop:Deleveraged": async (event, context) => {
    await recordBackstopAction(context, event, "deleverage", {
      holder: big(event, "holder"),
      seriesId: big(event, "seriesId"),
      contracts: big(event, "contracts"),
      priceWad: big(event, "priceWad"),
      lossWad: big(event, "lossWad"),
    });
  },
  "Backstop:DeleverageSkipped": async (event, context) => {
    await recordBackstopAction(context, event, "deleverage-skipped", {
      holder: big(event, "holder"),
      reason: event.args.reason as Hex,
    });
  },
  "Backstop:DebtAbsorbed": async (event, context) => {
    await recordBackstopAction(context, event, "debt-absorbed", {
      amount: big(event, "amount"),
    });
  },
};

/** One `backstop_action` row: the step's kind and account, the fields it reports, null for the rest. */
async function recordBackstopAction(
  context: Context,
  event: PledgeEvent,
  kind: string,
  detail: Partial<typeof backstopAction.$inferInsert>,
) {
  await context.db
    .insert(backstopAction)
    .values({ ...noBackstopDetail, ...detail, id: event.id, kind, account: big(event, "account"), ...at(event) });
}

const noBackstopDetail = {
  holder: null,
  seriesId: null,
  contracts: null,
  priceWad: null,
  valueWad: null,
  lossWad: null,
  amount: null,
  budgetLeftWad: null,
  reason: null,
};

async function recordLoss(context: Context, event: PledgeEvent, holder: bigint | null, amount: bigint, total: bigint) {
  await context.db
    .insert(badDebt)
    .values({ id: event.id, kind: event.name, account: holder, amount, total, ...at(event) });
}

for (const { contract, event: name } of indexedEvents) {
  // A contract the deployment does not have (an older book without the vol-surface oracle).
  if (!(contract in config.contracts)) continue;
  const key = `${contract}:${name}`;
  const handle = handlers[key];
  // The event names are the ABIs' own, so Ponder's typed overloads are bypassed here only.
  ponder.on(key as "OptionMarket:OrderFilled", async ({ event, context }) => {
    const pledgeEvent = { ...(event as unknown as PledgeEvent), name };
    await context.db.insert(eventLog).values({
      id: event.id,
      contract,
      address: event.log.address,
      event: name,
      kind: eventKind(name),
      args: jsonArgs(event.args as Record<string, unknown>),
      ...at(pledgeEvent),
    });
    if (handle) await handle(pledgeEvent, context);
  });
}
