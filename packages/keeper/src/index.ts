export { type AccountView, type Decision, type StrategyConfig, bidProfit, decide } from "./strategy.js";
export { type Keeper, type KeeperOptions, type KeeperStats, createKeeper } from "./keeper.js";
export { Outcome } from "./executor.js";
export { type KeeperIndex, loadIndex, saveIndex } from "./store.js";
