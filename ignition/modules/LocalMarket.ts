import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Stand-ins for what only exists on a live network: the collateral tokens and their
 * Chainlink feeds. Feeds are Chainlink's own `MockV3Aggregator` with 8 decimals, as
 * the live USD feeds have; volatility feeds use the same shape (8 decimals, 0.8 = 80 %).
 */
export default buildModule("LocalMarket", (m) => {
  const usdc = m.contract("MockERC20", ["USD Coin", "USDC", 6], { id: "USDC" });
  const weth = m.contract("MockERC20", ["Wrapped Ether", "WETH", 18], { id: "WETH" });
  const wbtc = m.contract("MockERC20", ["Wrapped Bitcoin", "WBTC", 8], { id: "WBTC" });

  const ethUsd = m.contract("MockV3Aggregator", [8, m.getParameter("ethUsd", 3_000n * 10n ** 8n)], {
    id: "EthUsdFeed",
  });
  const btcUsd = m.contract("MockV3Aggregator", [8, m.getParameter("btcUsd", 60_000n * 10n ** 8n)], {
    id: "BtcUsdFeed",
  });
  const ethVol = m.contract("MockV3Aggregator", [8, m.getParameter("ethVol", 80_000_000n)], { id: "EthVolFeed" });
  const btcVol = m.contract("MockV3Aggregator", [8, m.getParameter("btcVol", 60_000_000n)], { id: "BtcVolFeed" });

  return { usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol };
});
