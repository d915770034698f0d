export {
  type AccountView,
  type BidGasConfig,
  type Decision,
  type LeaveReason,
  SKIP_NONCE_CHECK,
  type StrategyConfig,
  bidManyGasGuard,
  bidMarginCost,
  bidProfit,
  bidsPerBatch,
  decide,
  gasCostInCash,
} from "./strategy.js";
export {
  type Keeper,
  type KeeperOptions,
  type KeeperStats,
  type OffloadOptions,
  type Liquidation,
  KeeperStaleNodeError,
  createKeeper,
} from "./keeper.js";
export type { Job, JobReport, TickContext } from "./jobs/job.js";
export {
  type Fees,
  type GasGuard,
  type GasPlan,
  type SendResult,
  type SenderOptions,
  type ActionLabel,
  type SendStage,
  Outcome,
  bumpFees,
  createSender,
} from "./executor.js";
export {
  type AccountHoldings,
  type ConfirmationPolicy,
  type MarketInputs,
  type RankedAccount,
  marginInputsOf,
  pricesMoved,
  rankAccounts,
  chunkByGas,
  selectForConfirmation,
} from "./ranking.js";
export { exactInputsOf, marginDifference, valueLocally } from "./valuation.js";
export { type BookBlock, type LocalBook, createLocalBook } from "./localBook.js";
export { marketInputsOf } from "./planner.js";
export {
  type ActionJournal,
  type ActionRecord,
  type ActionStatus,
  type KeeperIndex,
  type KeeperStore,
  type StoreSummary,
  DEFAULT_STORE,
  KeeperStoreError,
  emptyIndex,
  openStore,
  parseJsonIndex,
} from "./store.js";
export { type ReconcileReport, reconcileActions } from "./reconcile.js";
export {
  ExitCode,
  KeeperStartupError,
  RUN_SETTINGS,
  type RunConfig,
  type RunSetting,
  readConfigFile,
  resolveRunConfig,
} from "./config.js";
export {
  type BidderCheck,
  checkBidder,
  checkChain,
  checkCode,
  checkRpcUrls,
  loadDeployment,
  loadKey,
  redactUrl,
} from "./preflight.js";
export { dryRunSender } from "./dryRun.js";
export { type HealthReport, createMetrics, serveMetrics } from "./metrics.js";
export { failureCause } from "./jobs/job.js";
export {
  type HeldPosition,
  type OffloadCandidate,
  type OffloadPolicy,
  type OffloadSkip,
  type FillRefusal,
  fillFreedWad,
  fillNotionalWad,
  judgeFill,
  offloadCandidates,
  offloadGasGuard,
  offloadLimitWad,
} from "./offload.js";
export {
  type Counterparty,
  type FeedLimits,
  type FeedRejection,
  type OrderFeed,
  type RejectedEntry,
  type SignatureVerdict,
  BoundedMap,
  CounterpartyFormatError,
  FEED_LIMITS,
  OrderFeedError,
  createSignatureCheck,
  entryKey,
  fetchOrderFeed,
  isCanonicalSignature,
  formatCounterparty,
  orderFeedJson,
  parseCounterparty,
  parseOrderFeed,
  signedBy,
} from "./orderFeed.js";
export { type OffloadJobOptions, createOffloadJob, offloadKey } from "./jobs/offload.js";
