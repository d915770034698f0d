export { type AccountView, type Decision, type StrategyConfig, bidProfit, decide } from "./strategy.js";
