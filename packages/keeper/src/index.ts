export {
  type AccountView,
  type BidGasConfig,
  type Decision,
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
  type Liquidation,
  KeeperStaleNodeError,
  createKeeper,
} from "./keeper.js";
export type { Job, JobReport, TickContext } from "./jobs/job.js";
export {
  type Fees,
  type GasGuard,
  type SendResult,
  type SenderOptions,
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
export { type KeeperIndex, loadIndex, saveIndex } from "./store.js";
