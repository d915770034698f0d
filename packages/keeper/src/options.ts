import type { Address, PublicClient, WalletClient } from "viem";
import type pino from "pino";

import type { AddressBook } from "@pledge/sdk";
import type { SenderOptions } from "./executor.js";
import type { Counterparty, FeedLimits } from "./orderFeed.js";

/** `createKeeper`'s options: the clients, the address book, and every limit with its default. */
export interface KeeperOptions {
  publicClient: PublicClient;
  /** Signs and sends; must carry an account. */
  walletClient: WalletClient;
  addressBook: AddressBook;
  /** The keeper's funded account id, which receives what it wins at auction. */
  bidderAccount: bigint;
  /**
   * The keeper's SQLite database (`openStore`): the index (block cursor, accounts, holders,
   * auctions) and the history of every send; a restart resumes from it. Default: none (in memory).
   */
  storePath?: string;
  /**
   * How long the first tick waits for a send a previous run left in the node's mempool, ms
   * (`reconcileActions`' `waitMs`); one still unmined stays `pending`. Default 30,000.
   */
  reconcileWaitMs?: number;
  /** Test hook, awaited at each stage of every send (see `SenderOptions.onStage`). */
  onSendStage?: SenderOptions["onStage"];
  /** Blocks behind the head the index stays. Default 0. */
  confirmations?: number;
  /** Largest block range of one `getLogs`. Default 2,000. */
  maxLogRange?: bigint;
  /** `backstop`: take over or deleverage accounts whose auction ran its duration unbid (docs/backstop.md). */
  jobs?: { liquidate?: boolean; settle?: boolean; marginCalls?: boolean; backstop?: boolean };
  /** Smallest profit of a bid after gas, cash units. Default 0. */
  minProfit?: bigint;
  /** Largest payment for one slice, cash units. Default unbounded. */
  maxExposure?: bigint;
  /** Gas one bid is assumed to simulate at before the first batch is simulated. Default 400k. */
  gasPerBid?: bigint;
  /** Excess over IM the bidder keeps unspent, WAD (USD). Default 0. */
  bidReserveWad?: bigint;
  /** Smallest auction discount the keeper bids at, WAD. Default 0 (it bids from the start discount). */
  minDiscountWad?: bigint;
  /** A fixed cost counted against every bid, cash units, on top of its priced gas. Default 0. */
  bidGasCost?: bigint;
  /**
   * Most gas one bid may use (its simulation); larger bids are skipped (finding 13: an account
   * holding many positions can cost more gas than its discount pays). Default 3M.
   */
  maxBidGas?: bigint;
  /**
   * Most gas one `bidMany` transaction is sent with (its simulation + 30 %): a tick's bids are
   * packed into as few batches as fit, and a batch that needs more is halved. Size it to the
   * share of a block the keeper may fill. Default 16,777,216 (2^24): EIP-7825's cap on one
   * transaction's gas limit (Osaka), which the in-process chain enforces; a chain without that
   * cap takes up to its block gas limit (30M on many L2s).
   */
  maxBatchGas?: bigint;
  /**
   * USD price of the chain's native token, WAD, to price each bid's gas (simulated gas × the
   * fee cap it may pay). Default: the oracle's spot of `nativeAsset`.
   */
  nativePriceWad?: bigint;
  /**
   * The listed asset whose oracle spot prices the native token. Default: the address book's
   * collateral entry with symbol WETH or ETH; without one (and no `nativePriceWad`) bids are
   * checked against `maxBidGas` only.
   */
  nativeAsset?: Address;
  /** Extra a bid may pay over its preview, WAD of |payment| (the marks move between blocks). Default 0.1 %. */
  maxSlippageWad?: bigint;
  logger?: pino.Logger;
  /** Serves `/metrics` and `/health` on this port when set. */
  metricsPort?: number;
  /** The interface the metrics server binds. Default 127.0.0.1 (this host only). */
  metricsHost?: string;
  /** `/health` answers 503 when the last successful tick is older than this, ms. Default 120,000. */
  maxTickAgeMs?: number;
  /** Simulate and log every transaction, never send one. Default false. */
  dryRun?: boolean;
  /**
   * Offload what the bidder bought (docs/keeper.md, "Offloading"): each tick, after the bids,
   * fill the counterparty's signed orders that reduce the bidder's positions. Default: off.
   */
  offload?: OffloadOptions;
  /**
   * How often the keeper reads its key's gas balance and its bidder account's margin for the
   * gauges, ms (the first tick always does; two requests each time). Default 30,000.
   */
  accountReadIntervalMs?: number;
  /** Blocks a target waits after a failed send. Default 3. */
  cooldownBlocks?: bigint;
  /** EIP-1559 fee cap, wei, fee bumps included. Default 500 gwei. */
  maxFeePerGas?: bigint;
  /** Priority fee cap, wei, fee bumps included. Default 2 gwei. */
  maxPriorityFeePerGas?: bigint;
  /** Re-send a transaction not mined after this many blocks with the same nonce and fees +12.5 %. Default 3. */
  replaceAfterBlocks?: number;
  /** ... or after this many ms. Default: blocks only. */
  replaceAfterMs?: number;
  /** How often a pending transaction polls for its receipt, ms. Default: the public client's polling interval. */
  pollIntervalMs?: number;
  /** Positions per `settleBatch`. Default `DEFAULT_SETTLE_BATCH_SIZE` (40: a chunk of full books stays under 2^24 gas). */
  settleBatchSize?: number;
  /**
   * Confirm on chain only accounts whose float-estimated `excessMM / requirementMM` is
   * below this (plus open auctions and accounts last seen below IM). Default 0.5.
   */
  nearRatio?: number;
  /** ... or, for accounts requiring nothing, whose estimated excess is below this many USD. Default 1,000. */
  nearExcessUsd?: number;
  /** Confirm every indexed account at least every this many ticks. Default 10. */
  fullConfirmEvery?: number;
  /** Confirm every account when a spot or vol moved more than this (WAD, relative) since the last full pass. Default 1 %. */
  priceMoveWad?: bigint;
  /**
   * Accounts valued locally (`valuation.ts`) that are cross-checked with `accountsMargin` each tick
   * besides every account the keeper acts on: a rotating sample. Default 8.
   */
  crossCheckSample?: number;
  /** Most accounts per `accountsMargin` call inside the batched read. Default 50. */
  marginChunkSize?: number;
  /**
   * Estimated gas one `accountsMargin` call may use, so portfolio-heavy chunks stay under a
   * node's `eth_call` gas cap (a 32-position portfolio account is about 3M gas). Default 20M.
   */
  marginGasPerCall?: number;
}

/** `KeeperOptions.offload`: where the counterparty's orders are, whose they must be, and the price bound. */
export interface OffloadOptions {
  /** An http(s) URL answering a JSON list of the counterparty's signed orders (`orderFeedJson`). */
  ordersUrl: string;
  /** Only orders of this account (or any sub-account of this owner), signed by its owner's key, are filled. */
  counterparty: Counterparty;
  /** The worst price accepted, as a fraction of the SDK's mark, WAD (1 % = 10^16). Default 1 %. */
  maxDiscountWad?: bigint;
  /** How long one fetch of the feed may take, ms. Default 5,000. */
  fetchTimeoutMs?: number;
  /**
   * Smallest fill sent, USD at the SDK's mark, WAD (`--offload-min-usd`): smaller orders (and
   * the rest of a position smaller than this) are ignored as `dust`. Default 100 USD.
   */
  minFillUsdWad?: bigint;
  /** What is read of the feed: body bytes and entries (default 1 MiB and 1,000). */
  feedLimits?: FeedLimits;
}
