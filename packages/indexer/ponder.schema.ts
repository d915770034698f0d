import { index, onchainTable, primaryKey } from "ponder";

/*
 * The Pledge indexer's tables. Amounts are the contracts' raw integers (cash in the cash token's
 * units, collateral in its token's, `…Wad` in 1e18); account ids are the protocol's uint256
 * (owner << 96 | subaccount). Every row keeps the block it was last written in; Ponder rolls
 * the tables back on a reorg.
 */

/**
 * An account the protocol has seen. Its cash and margin are NOT live: they are the chain's views
 * read at the block of the account's last event (`lastEventBlock`), hence the `…AtLastEvent`
 * names. Interest accrues on cash and marks move every block without an event for the account;
 * for live values read the views (the SDK's `getAccountMargin`) at the head.
 */
export const account = onchainTable("account", (t) => ({
  id: t.bigint().primaryKey(),
  owner: t.hex().notNull(),
  subaccount: t.bigint().notNull(),
  /** `MarginEngine.marginModeOf`: 0 standard, as set by `MarginModeSet` after. */
  marginMode: t.integer().notNull(),
  /**
   * `CollateralVault.cashSharesOf` after the account's last event: shares move only with the
   * account's events, so this is the live value until a `CashEpochReset` converts every claim.
   */
  cashShares: t.bigint().notNull(),
  /** `CollateralVault.cashOf` at `lastEventBlock` (interest accrues after it without an event). */
  cashAtLastEvent: t.bigint().notNull(),
  /**
   * `MarginEngine.accountMargin` at `lastEventBlock` (prices and volatilities move after it
   * without an event); null if it reverted at that block (a stale feed).
   */
  equityIMAtLastEvent: t.bigint(),
  equityMMAtLastEvent: t.bigint(),
  requirementIMAtLastEvent: t.bigint(),
  requirementMMAtLastEvent: t.bigint(),
  healthAtLastEvent: t.integer(),
  markValueAtLastEvent: t.bigint(),
  /** The open auction's id (`auction.id`), or null. */
  openAuction: t.text(),
  firstBlock: t.bigint().notNull(),
  /** The block of the account's last event, at which the `…AtLastEvent` columns were read. */
  lastEventBlock: t.bigint().notNull(),
}));

/** Non-cash collateral held, from `Deposited`, `Withdrawn` and `CollateralMoved` alone. */
export const collateralBalance = onchainTable(
  "collateral_balance",
  (t) => ({
    account: t.bigint().notNull(),
    asset: t.hex().notNull(),
    amount: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.account, table.asset] }) }),
);

/** An option position (contracts, WAD; negative is short), from `PositionChanged`; 0 once closed or settled. */
export const position = onchainTable(
  "position",
  (t) => ({
    account: t.bigint().notNull(),
    seriesId: t.bigint().notNull(),
    balance: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.account, table.seriesId] }),
    seriesIndex: index().on(table.seriesId),
  }),
);

/** An option series, from `SeriesCreated` and `SeriesRetired`, with its settlement price once posted. */
export const series = onchainTable("series", (t) => ({
  id: t.bigint().primaryKey(),
  underlyingIndex: t.integer().notNull(),
  expiry: t.bigint().notNull(),
  strikeWad: t.bigint().notNull(),
  isCall: t.boolean().notNull(),
  createdBlock: t.bigint().notNull(),
  retired: t.boolean().notNull(),
  /** The open interest `SeriesRetired` reported. */
  retiredOpenInterest: t.bigint(),
}));

/** Event columns shared by the history tables. */
type ColumnBuilders = Parameters<Extract<Parameters<typeof onchainTable>[1], (...args: never[]) => unknown>>[0];
const at = (t: ColumnBuilders) => ({
  blockNumber: t.bigint().notNull(),
  timestamp: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
  logIndex: t.integer().notNull(),
});

/** An order filled (`OrderFilled`). */
export const fill = onchainTable(
  "fill",
  (t) => ({
    id: t.text().primaryKey(),
    orderHash: t.hex().notNull(),
    maker: t.bigint().notNull(),
    taker: t.bigint().notNull(),
    seriesId: t.bigint().notNull(),
    makerDelta: t.bigint().notNull(),
    priceWad: t.bigint().notNull(),
    premium: t.bigint().notNull(),
    makerFee: t.bigint().notNull(),
    takerFee: t.bigint().notNull(),
    ...at(t),
  }),
  (table) => ({ makerIndex: index().on(table.maker), takerIndex: index().on(table.taker) }),
);

/** Money moving in the vault: `deposit`, `withdraw` (token in/out), `collateral` and `cash` (account to account). */
export const transfer = onchainTable(
  "transfer",
  (t) => ({
    id: t.text().primaryKey(),
    kind: t.text().notNull(),
    /** The account paying (withdraw, moves); null for a deposit. */
    fromAccount: t.bigint(),
    /** The account credited (deposit, moves); null for a withdrawal. */
    toAccount: t.bigint(),
    /** The token; the cash token for `cash` moves. */
    asset: t.hex().notNull(),
    amount: t.bigint().notNull(),
    /** The wallet that paid a deposit, or received a withdrawal. */
    wallet: t.hex(),
    ...at(t),
  }),
  (table) => ({ fromIndex: index().on(table.fromAccount), toIndex: index().on(table.toAccount) }),
);

/** A liquidation auction, from `AuctionStarted` to `AuctionEnded`. */
export const auction = onchainTable(
  "auction",
  (t) => ({
    id: t.text().primaryKey(),
    account: t.bigint().notNull(),
    markValueWad: t.bigint().notNull(),
    health: t.integer().notNull(),
    keeper: t.hex().notNull(),
    startedBlock: t.bigint().notNull(),
    startedAt: t.bigint().notNull(),
    bids: t.integer().notNull(),
    endedBlock: t.bigint(),
    /** Whether the bids emptied the account (false: restored, or handed on). */
    emptied: t.boolean(),
  }),
  (table) => ({ accountIndex: index().on(table.account) }),
);

/** A bid on an auction (`Bid`). */
export const bid = onchainTable(
  "bid",
  (t) => ({
    id: t.text().primaryKey(),
    auction: t.text().notNull(),
    account: t.bigint().notNull(),
    bidderAccount: t.bigint().notNull(),
    fractionWad: t.bigint().notNull(),
    discountWad: t.bigint().notNull(),
    payment: t.bigint().notNull(),
    insuranceFee: t.bigint().notNull(),
    ...at(t),
  }),
  (table) => ({ auctionIndex: index().on(table.auction) }),
);

/** The backstop's steps: `takeover` (`AccountTakenOver`), `deleverage` (`Deleveraged`), `deleverage-skipped`, `debt-absorbed`. */
export const backstopAction = onchainTable(
  "backstop_action",
  (t) => ({
    id: t.text().primaryKey(),
    kind: t.text().notNull(),
    account: t.bigint().notNull(),
    /** The counterparty deleveraged against. */
    holder: t.bigint(),
    seriesId: t.bigint(),
    contracts: t.bigint(),
    priceWad: t.bigint(),
    /** The value taken over (takeover), or the loss to the holder (deleverage), WAD. */
    valueWad: t.bigint(),
    lossWad: t.bigint(),
    /** The cash debt absorbed at par. */
    amount: t.bigint(),
    budgetLeftWad: t.bigint(),
    /** A skipped step's error selector. */
    reason: t.hex(),
    ...at(t),
  }),
  (table) => ({ accountIndex: index().on(table.account) }),
);

/** A position settled at expiry (`PositionSettled`): contracts held and the cash paid (+) or owed (−). */
export const settlement = onchainTable(
  "settlement",
  (t) => ({
    id: t.text().primaryKey(),
    account: t.bigint().notNull(),
    seriesId: t.bigint().notNull(),
    balance: t.bigint().notNull(),
    payoff: t.bigint().notNull(),
    ...at(t),
  }),
  (table) => ({ accountIndex: index().on(table.account) }),
);

/** A settlement price posted (`SettlementPricePosted`), one per asset and expiry. */
export const settlementPrice = onchainTable("settlement_price", (t) => ({
  id: t.text().primaryKey(),
  asset: t.hex().notNull(),
  expiry: t.bigint().notNull(),
  priceWad: t.bigint().notNull(),
  roundId: t.bigint().notNull(),
  poster: t.hex().notNull(),
  ...at(t),
}));

/**
 * Losses: `BadDebtIncurred` (backstop), `LossSocialized`, `LossUnabsorbed`, `CashEpochReset`,
 * `UnabsorbedLossRepaid` (vault). `total` is the running total the event reports (total bad debt,
 * the supply index after the write-off, the unabsorbed loss, or the claims of the ended epoch).
 */
export const badDebt = onchainTable("bad_debt", (t) => ({
  id: t.text().primaryKey(),
  kind: t.text().notNull(),
  account: t.bigint(),
  amount: t.bigint().notNull(),
  total: t.bigint(),
  ...at(t),
}));

/**
 * Every protocol event, decoded: `contract`, `event`, its arguments as JSON (integers as decimal
 * strings), and `kind` — `parameter` for a governance or configuration change (a role, a setter,
 * a listing, a pause), else `activity`. Parameter changes are the rows of kind `parameter`.
 */
export const eventLog = onchainTable(
  "event_log",
  (t) => ({
    id: t.text().primaryKey(),
    contract: t.text().notNull(),
    address: t.hex().notNull(),
    event: t.text().notNull(),
    kind: t.text().notNull(),
    args: t.json().notNull(),
    ...at(t),
  }),
  (table) => ({ eventIndex: index().on(table.event), kindIndex: index().on(table.kind) }),
);
