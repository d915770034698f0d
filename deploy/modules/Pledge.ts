import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { parseUnits } from "viem";

import LocalMarket from "./LocalMarket.js";
import { ROLES } from "../lib/roles.js";

const HOUR = 3_600n;
const WAD = 10n ** 18n;

/**
 * The Pledge core on the local network: the collateral vault, the Chainlink oracle, the
 * margin engine, the option market, the liquidator and the insurance fund, wired to the local market's tokens and feeds, with the DESIGN.md starting
 * parameters. The deployer holds every role here; on a live network the admin is a
 * TimelockController and the other roles go to separate keys.
 */
export default buildModule("Pledge", (m) => {
  const { usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol } = m.useModule(LocalMarket);
  const admin = m.getAccount(0);

  const vault = m.contract("CollateralVault", [admin, usdc, parseUnits("1000000000", 6)]);
  const oracle = m.contract("ChainlinkOracle", [
    admin,
    "0x0000000000000000000000000000000000000000", // no L2 sequencer feed on the local chain
    HOUR, // sequencer grace period
    // Settlement, normal path: the first round after expiry is accepted at once if it came within
    // 2 h. That is the 1 h heartbeat plus an hour of slack, and at least every spot feed's maxAge
    // (1 h 15 min below; `setSpotFeed` enforces it), so a heartbeat round that lands late still
    // settles at once.
    2n * HOUR,
    // Settlement fallback: a first round later than that is accepted from a day after expiry on,
    // so a series never freezes (docs/oracle.md).
    24n * HOUR,
  ]);

  m.call(vault, "grantRole", [ROLES.riskManager, admin], { id: "GrantRiskManager" });
  m.call(vault, "grantRole", [ROLES.guardian, admin], { id: "GrantGuardian" });
  const listWeth = m.call(
    vault,
    "listAsset",
    [weth, (WAD * 10n) / 100n, (WAD * 5n) / 100n, parseUnits("1000000", 18)],
    {
      id: "ListWETH",
    },
  );
  m.call(vault, "listAsset", [wbtc, (WAD * 12n) / 100n, (WAD * 6n) / 100n, parseUnits("100000", 8)], {
    id: "ListWBTC",
    after: [listWeth],
  });

  // ETH and BTC feeds: 1 h heartbeat plus slack. Bounds catch a feed gone haywire.
  const spotAge = Number(HOUR + 15n * 60n);
  m.call(oracle, "setSpotFeed", [weth, [ethUsd, spotAge, 10n * WAD, 1_000_000n * WAD]], { id: "FeedWETH" });
  m.call(oracle, "setSpotFeed", [wbtc, [btcUsd, spotAge, 100n * WAD, 10_000_000n * WAD]], { id: "FeedWBTC" });
  m.call(oracle, "setVolFeed", [weth, [ethVol, spotAge, WAD / 100n, 5n * WAD]], { id: "VolWETH" });
  m.call(oracle, "setVolFeed", [wbtc, [btcVol, spotAge, WAD / 100n, 5n * WAD]], { id: "VolWBTC" });

  // Standard margin (DESIGN.md starting points): IM a = 15 %, b = 10 %; MM a = 8 %, b = 5 %.
  const standard = [(WAD * 15n) / 100n, (WAD * 10n) / 100n, (WAD * 8n) / 100n, (WAD * 5n) / 100n];
  const engine = m.contract("MarginEngine", [admin, vault, oracle]);
  m.call(engine, "grantRole", [ROLES.riskManager, admin], { id: "EngineRiskManager" });
  const listEth = m.call(engine, "listUnderlying", [weth, standard], { id: "UnderlyingWETH" });
  m.call(engine, "listUnderlying", [wbtc, standard], { id: "UnderlyingWBTC", after: [listEth] });

  const market = m.contract("OptionMarket", [admin, vault, engine]);
  m.call(market, "grantRole", [ROLES.riskManager, admin], { id: "MarketRiskManager" });
  m.call(market, "grantRole", [ROLES.guardian, admin], { id: "MarketGuardian" });
  m.call(engine, "setMarket", [market]);
  m.call(vault, "grantRole", [ROLES.module, market], { id: "MarketIsModule" });
  m.call(vault, "setRiskCheck", [engine]);

  // Liquidation: DESIGN.md starting points, tuned by the stress test (docs/stress-test.md).
  const insurance = m.contract("InsuranceFund", [admin, vault]);
  const insuranceAccount = m.staticCall(insurance, "account", []);
  const auction = [
    (WAD * 5n) / 100n, // start discount
    (WAD * 30n) / 100n, // end discount
    15 * 60, // over 15 minutes
    (WAD * 10n) / 100n, // insurance share of the discount
    (WAD * 15n) / 100n, // restore to 15 % above IM
    100n * WAD, // accounts worth ≤ $100 go whole
  ];
  const liquidator = m.contract("Liquidator", [admin, vault, engine, market, insuranceAccount, auction]);
  m.call(liquidator, "grantRole", [ROLES.riskManager, admin], { id: "LiquidatorRiskManager" });
  m.call(vault, "grantRole", [ROLES.module, liquidator], { id: "LiquidatorIsVaultModule" });
  m.call(market, "grantRole", [ROLES.module, liquidator], { id: "LiquidatorIsMarketModule" });
  // Deposits, fills and transfers tell the liquidator, which ends the auction of an account
  // they restored (docs/liquidation.md, "End").
  m.call(vault, "setAccountHook", [liquidator], { id: "VaultAccountHook" });
  m.call(market, "setAccountHook", [liquidator], { id: "MarketAccountHook" });

  return {
    vault,
    oracle,
    engine,
    market,
    insurance,
    liquidator,
    usdc,
    weth,
    wbtc,
    ethUsd,
    btcUsd,
    ethVol,
    btcVol,
  };
});
