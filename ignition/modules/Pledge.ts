import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { parseUnits } from "viem";

import LocalMarket from "./LocalMarket.js";
import {
  DEFAULT_AUCTION,
  DEFAULT_STANDARD_MARGIN,
  DEFAULT_VOL_SURFACE_CHANGE_RATIO,
  type PledgePlan,
  addPledgeCore,
} from "../../deploy/lib/pledgeCore.js";

const HOUR = 3_600n;
const WAD = 10n ** 18n;

// ETH and BTC feeds: 1 h heartbeat plus slack. Bounds catch a feed gone haywire.
const SPOT_MAX_AGE = HOUR + 15n * 60n;

/**
 * The Pledge core on a local chain, wired to the local market's mock tokens and feeds, with the
 * DESIGN.md starting parameters. The deployer holds every role here; a live network takes a
 * parameters file instead (`npm run deploy -- --parameters …`, docs/deploy.md), where the admin is
 * a TimelockController and the other roles go to separate keys.
 *
 * Also deployable on its own: `npx hardhat ignition deploy ignition/modules/Pledge.ts --network localhost`
 * (but `npm run deploy` adds the checks of docs/deploy.md).
 */
export default buildModule("Pledge", (m) => addLocalPledge(m, "0x0000000000000000000000000000000000000000"));

/** The local core on `m`, with `sequencerFeed` (zero on an L1 chain) wired into the oracle. */
export function addLocalPledge(m: IgnitionModuleBuilder, sequencerFeed: PledgePlan["oracle"]["sequencerFeed"]) {
  const { usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol } = m.useModule(LocalMarket);

  const core = addPledgeCore(m, {
    cash: { token: usdc, supplyCap: parseUnits("1000000000", 6) },
    collateral: [
      {
        symbol: "WETH",
        token: weth,
        initialHaircutWad: (WAD * 10n) / 100n,
        maintenanceHaircutWad: (WAD * 5n) / 100n,
        supplyCap: parseUnits("1000000", 18),
        spotFeed: { aggregator: ethUsd, maxAge: SPOT_MAX_AGE, minAnswerWad: 10n * WAD, maxAnswerWad: 1_000_000n * WAD },
        volFeed: { aggregator: ethVol, maxAge: SPOT_MAX_AGE, minAnswerWad: WAD / 100n, maxAnswerWad: 5n * WAD },
        standardMargin: DEFAULT_STANDARD_MARGIN,
      },
      {
        symbol: "WBTC",
        token: wbtc,
        initialHaircutWad: (WAD * 12n) / 100n,
        maintenanceHaircutWad: (WAD * 6n) / 100n,
        supplyCap: parseUnits("100000", 8),
        spotFeed: {
          aggregator: btcUsd,
          maxAge: SPOT_MAX_AGE,
          minAnswerWad: 100n * WAD,
          maxAnswerWad: 10_000_000n * WAD,
        },
        volFeed: { aggregator: btcVol, maxAge: SPOT_MAX_AGE, minAnswerWad: WAD / 100n, maxAnswerWad: 5n * WAD },
        standardMargin: DEFAULT_STANDARD_MARGIN,
      },
    ],
    oracle: {
      sequencerFeed, // an OP-stack chain gets a mock uptime feed (ignition/modules/PledgeOpLocal.ts)
      sequencerGracePeriod: HOUR,
      // Settlement, normal path: the first round after expiry is accepted at once if it came within
      // 2 h. That is the 1 h heartbeat plus an hour of slack, and at least every spot feed's maxAge
      // (1 h 15 min above; `setSpotFeed` enforces it), so a heartbeat round that lands late still
      // settles at once.
      maxSettlementDelay: 2n * HOUR,
      // Settlement fallback: a first round later than that is accepted from a day after expiry on,
      // so a series never freezes (docs/oracle.md).
      settlementFallbackWait: 24n * HOUR,
    },
    // The node's first three accounts sign vol surfaces, two of them per post (the demo and the
    // signer service use their well-known keys).
    volSurface: {
      signers: [m.getAccount(0), m.getAccount(1), m.getAccount(2)],
      quorum: 2n,
      changeRatioWad: DEFAULT_VOL_SURFACE_CHANGE_RATIO,
      // Not wired into the engine's marks locally, so the local chain trades at the flat vol feeds
      // until a test or the demo calls `engine.setVolSurface` (every series would otherwise fail
      // closed until its first post matures).
      marks: false,
    },
    auction: DEFAULT_AUCTION,
    admin: { kind: "deployer" },
  });
  return { ...core, usdc, weth, wbtc, ethUsd, btcUsd, ethVol, btcVol };
}
