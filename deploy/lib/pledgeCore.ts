import { readFileSync } from "node:fs";

import type { ArgumentType, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type { Address, Hex } from "viem";

import { ROLES } from "./roles.js";

const WAD = 10n ** 18n;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** An address the module takes as given, or a contract an earlier future of the same module deploys. */
type AddressLike = ArgumentType;

/** How the oracle reads one Chainlink feed (`IChainlinkOracle.FeedConfig`). */
export interface FeedPlan {
  aggregator: AddressLike;
  maxAge: bigint;
  minAnswerWad: bigint;
  maxAnswerWad: bigint;
}

/** One collateral token, which is also an option underlying with a volatility feed. */
export interface CollateralPlan {
  symbol: string;
  token: AddressLike;
  initialHaircutWad: bigint;
  maintenanceHaircutWad: bigint;
  supplyCap: bigint;
  spotFeed: FeedPlan;
  volFeed: FeedPlan;
  /** Standard margin `[aIM, bIM, aMM, bMM]`, WAD. */
  standardMargin: readonly [bigint, bigint, bigint, bigint];
}

/** Who ends up with which role once the module has run. */
export type AdminPlan =
  /** The deployer keeps every role: local chains only. */
  | { kind: "deployer" }
  /** An existing `TimelockController` becomes admin; the deployer renounces. */
  | { kind: "timelock"; timelock: Address; riskManager: Address; guardian: Address }
  /** A new OpenZeppelin `TimelockController` (self-administered) becomes admin; the deployer renounces. */
  | {
      kind: "newTimelock";
      minDelay: bigint;
      proposers: readonly Address[];
      executors: readonly Address[];
      riskManager: Address;
      guardian: Address;
    };

/** Everything the core deployment needs, resolved to on-chain units. */
export interface PledgePlan {
  cash: { token: AddressLike; supplyCap: bigint };
  collateral: readonly CollateralPlan[];
  oracle: {
    /** Zero on L1. */
    sequencerFeed: AddressLike;
    sequencerGracePeriod: bigint;
    maxSettlementDelay: bigint;
    settlementFallbackWait: bigint;
  };
  /**
   * The vol-surface oracle (docs/vol-surface.md): its whitelisted signers, the quorum of them a
   * post needs, and the bounded-change ratio (WAD, in [1.1, 16]). Every collateral token is listed.
   */
  volSurface: {
    signers: readonly AddressLike[];
    quorum: bigint;
    changeRatioWad: bigint;
    /**
     * Whether the engine marks with it (`engine.setVolSurface`, docs/vol-surface.md, "Marks and
     * margin"): then every series on a collateral token fails closed for new risk until the signers'
     * first post for its expiry has been in force for an hour. Default false.
     */
    marks?: boolean | undefined;
  };
  /** `Liquidator.AuctionParams` in constructor order. */
  auction: readonly [bigint, bigint, bigint, bigint, bigint, bigint];
  /** `Backstop.TakeoverBudget` `[maxLossPerTakeoverWad, maxLossPerWindowWad]`; `DEFAULT_TAKEOVER_BUDGET` if absent. */
  takeoverBudget?: readonly [bigint, bigint];
  admin: AdminPlan;
}

/** The DESIGN.md starting points for standard margin: IM a = 15 %, b = 10 %; MM a = 8 %, b = 5 %. */
export const DEFAULT_STANDARD_MARGIN = [
  (WAD * 15n) / 100n,
  (WAD * 10n) / 100n,
  (WAD * 8n) / 100n,
  (WAD * 5n) / 100n,
] as const;

/**
 * The insurance fund's takeover budget (docs/backstop.md): at most $1M per takeover and $5M over
 * any 24 h; beyond it, auto-deleveraging.
 */
export const DEFAULT_TAKEOVER_BUDGET = [1_000_000n * WAD, 5_000_000n * WAD] as const;
/** The vol-surface oracle's default change ratio: total variance ×4 (vol ×2) per full-confidence post. */
export const DEFAULT_VOL_SURFACE_CHANGE_RATIO = 4n * WAD;

/** Liquidation auction: DESIGN.md starting points, tuned by the stress test (docs/stress-test.md). */
export const DEFAULT_AUCTION = [
  (WAD * 5n) / 100n, // start discount
  (WAD * 30n) / 100n, // end discount
  15n * 60n, // over 15 minutes
  (WAD * 10n) / 100n, // insurance share of the discount
  (WAD * 15n) / 100n, // restore to 15 % above IM
  100n * WAD, // accounts worth ≤ $100 go whole
] as const;

/**
 * The `PortfolioManager`'s creation code, from its artifact: the engine's constructor deploys it
 * (so the manager's `engine()` is the engine), and the manager compiles in a job of its own at its
 * own optimizer settings (hardhat.config.ts).
 */
export function portfolioManagerCode(): Hex {
  const url = new URL("../../artifacts/contracts/engine/PortfolioManager.sol/PortfolioManager.json", import.meta.url);
  let bytecode: unknown;
  try {
    ({ bytecode } = JSON.parse(readFileSync(url, "utf8")) as { bytecode?: unknown });
  } catch {
    throw new Error("The PortfolioManager artifact is missing: run `npx hardhat build` before deploying.");
  }
  if (typeof bytecode !== "string" || !/^0x[0-9a-f]{2,}$/i.test(bytecode)) {
    throw new Error("The PortfolioManager artifact has no creation code: run `npx hardhat build` before deploying.");
  }
  return bytecode as Hex;
}

/**
 * Adds the Pledge core to module `m`: the collateral vault, the Chainlink oracle, the vol-surface
 * oracle, the margin engine, the option market, the liquidator, the backstop and the insurance
 * fund, wired to `plan`'s tokens, feeds and surface signers. The deployer is admin while the module runs (it lists the assets and sets the
 * feeds); with a timelock plan it then grants the admin role to the timelock and the
 * risk-manager and guardian roles to their keys, and renounces its own admin role on every
 * contract, after every other call.
 */
export function addPledgeCore(m: IgnitionModuleBuilder, plan: PledgePlan) {
  const deployer = m.getAccount(0);
  const calls: ReturnType<IgnitionModuleBuilder["call"]>[] = [];

  const vault = m.contract("CollateralVault", [deployer, plan.cash.token, plan.cash.supplyCap]);
  const oracle = m.contract("ChainlinkOracle", [
    deployer,
    plan.oracle.sequencerFeed,
    plan.oracle.sequencerGracePeriod,
    plan.oracle.maxSettlementDelay,
    plan.oracle.settlementFallbackWait,
  ]);
  // Governed like the price oracle: signers, quorum and listings by the admin (the timelock),
  // the change ratio by the risk manager. The engine marks with it when the plan says so.
  const volSurface = m.contract("VolSurfaceOracle", [
    deployer,
    [...plan.volSurface.signers],
    plan.volSurface.quorum,
    plan.volSurface.changeRatioWad,
  ]);
  const engine = m.contract("MarginEngine", [deployer, vault, oracle, portfolioManagerCode()]);
  const market = m.contract("OptionMarket", [deployer, vault, engine]);
  const insurance = m.contract("InsuranceFund", [deployer, vault, market]);
  const insuranceAccount = m.staticCall(insurance, "account", []);
  const settlementAccount = m.staticCall(market, "settlementAccount", []);
  const liquidator = m.contract("Liquidator", [deployer, vault, engine, market, insuranceAccount, [...plan.auction]]);
  const backstop = m.contract("Backstop", [
    deployer,
    vault,
    engine,
    market,
    liquidator,
    [...(plan.takeoverBudget ?? DEFAULT_TAKEOVER_BUDGET)],
  ]);

  // Listings keep their order (the vault's and the engine's indices follow the file).
  let lastListing: ReturnType<IgnitionModuleBuilder["call"]> | undefined;
  let lastUnderlying: ReturnType<IgnitionModuleBuilder["call"]> | undefined;
  for (const asset of plan.collateral) {
    const listing = m.call(
      vault,
      "listAsset",
      [asset.token, asset.initialHaircutWad, asset.maintenanceHaircutWad, asset.supplyCap],
      { id: `List${asset.symbol}`, after: lastListing ? [lastListing] : [] },
    );
    const underlying = m.call(engine, "listUnderlying", [asset.token, [...asset.standardMargin]], {
      id: `Underlying${asset.symbol}`,
      after: lastUnderlying ? [lastUnderlying] : [],
    });
    const feeds = [
      m.call(oracle, "setSpotFeed", [asset.token, feedTuple(asset.spotFeed)], { id: `Feed${asset.symbol}` }),
      m.call(oracle, "setVolFeed", [asset.token, feedTuple(asset.volFeed)], { id: `Vol${asset.symbol}` }),
      m.call(volSurface, "setUnderlying", [asset.token, true], { id: `VolSurface${asset.symbol}` }),
    ];
    calls.push(listing, underlying, ...feeds);
    lastListing = listing;
    lastUnderlying = underlying;
  }

  calls.push(
    m.call(engine, "setMarket", [market]),
    m.call(vault, "grantRole", [ROLES.module, market], { id: "MarketIsModule" }),
    m.call(vault, "setRiskCheck", [engine]),
    m.call(vault, "grantRole", [ROLES.module, liquidator], { id: "LiquidatorIsVaultModule" }),
    m.call(market, "grantRole", [ROLES.module, liquidator], { id: "LiquidatorIsMarketModule" }),
    // The backstop moves cash, collateral (a takeover) and positions (a takeover, deleveraging).
    m.call(vault, "grantRole", [ROLES.module, backstop], { id: "BackstopIsVaultModule" }),
    m.call(market, "grantRole", [ROLES.module, backstop], { id: "BackstopIsMarketModule" }),
    // The fund pays insolvent bids' bidders through the backstop, which books every payment in
    // the takeover budget's 24 h window (docs/backstop.md, "What the budget bounds").
    m.call(liquidator, "setBackstop", [backstop], { id: "LiquidatorBackstop" }),
    // Deposits, fills and transfers tell the liquidator, which ends the auction of an account
    // they restored (docs/liquidation.md, "End").
    m.call(vault, "setAccountHook", [liquidator], { id: "VaultAccountHook" }),
    // What the insurance fund pays beyond its balance is shared pro rata by every cash creditor,
    // and it receives the reserve share of interest (docs/cash.md). The vault starts at the zero
    // rate: a rate model is the timelocked admin's later choice.
    m.call(vault, "setInsuranceAccount", [insuranceAccount], { id: "VaultInsuranceAccount" }),
    // The settlement account's cash is raw, outside the index: it never owes interest while longs
    // are paid before the shorts settle (docs/cash.md, "The settlement account").
    m.call(vault, "setSettlementAccount", [settlementAccount], { id: "VaultSettlementAccount" }),
    m.call(market, "setAccountHook", [liquidator], { id: "MarketAccountHook" }),
  );
  if (plan.volSurface.marks === true) calls.push(m.call(engine, "setVolSurface", [volSurface]));

  const riskManager = plan.admin.kind === "deployer" ? deployer : plan.admin.riskManager;
  const guardian = plan.admin.kind === "deployer" ? deployer : plan.admin.guardian;
  calls.push(
    m.call(vault, "grantRole", [ROLES.riskManager, riskManager], { id: "GrantRiskManager" }),
    m.call(vault, "grantRole", [ROLES.guardian, guardian], { id: "GrantGuardian" }),
    m.call(engine, "grantRole", [ROLES.riskManager, riskManager], { id: "EngineRiskManager" }),
    m.call(market, "grantRole", [ROLES.riskManager, riskManager], { id: "MarketRiskManager" }),
    m.call(market, "grantRole", [ROLES.guardian, guardian], { id: "MarketGuardian" }),
    m.call(liquidator, "grantRole", [ROLES.riskManager, riskManager], { id: "LiquidatorRiskManager" }),
    m.call(backstop, "grantRole", [ROLES.riskManager, riskManager], { id: "BackstopRiskManager" }),
    m.call(volSurface, "grantRole", [ROLES.riskManager, riskManager], { id: "VolSurfaceRiskManager" }),
  );

  const core = { vault, oracle, volSurface, engine, market, insurance, liquidator, backstop };
  if (plan.admin.kind === "deployer") return core;

  const timelock =
    plan.admin.kind === "timelock"
      ? m.contractAt("TimelockController", plan.admin.timelock, { id: "ExistingTimelock" })
      : m.contract("TimelockController", [
          plan.admin.minDelay,
          [...plan.admin.proposers],
          [...plan.admin.executors],
          ZERO_ADDRESS, // no extra admin: the timelock administers itself
        ]);
  const grants = Object.entries(core).map(([name, contract]) =>
    m.call(contract, "grantRole", [ROLES.admin, timelock], { id: `${name}AdminToTimelock`, after: calls }),
  );
  for (const [name, contract] of Object.entries(core)) {
    m.call(contract, "renounceRole", [ROLES.admin, deployer], { id: `${name}DeployerRenounces`, after: grants });
  }
  return { ...core, timelock };
}

function feedTuple(feed: FeedPlan): ArgumentType[] {
  return [feed.aggregator, feed.maxAge, feed.minAnswerWad, feed.maxAnswerWad];
}
