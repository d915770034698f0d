import { pino } from "pino";

import { type KeeperStats, createKeeper } from "../../packages/keeper/src/index.js";
import type { ChainClock, World } from "./episode.js";

/**
 * The keeper service (`packages/keeper`) as the demo runs it: in-process, ticked after
 * every feed update (deterministic, no timers), with the demo's clock following the
 * blocks the keeper mines.
 */
export interface DemoKeeper {
  kind: "keeper";
  tick(): Promise<void>;
  stop(): Promise<void>;
  stats(): KeeperStats;
}

export function createDemoKeeper(world: World, chain: ChainClock): DemoKeeper {
  const keeper = createKeeper({
    publicClient: world.publicClient,
    walletClient: world.bidderWallet,
    addressBook: world.book,
    bidderAccount: world.bidder,
    confirmations: 0,
    jobs: { liquidate: true, settle: true, marginCalls: true },
    minProfit: 0n,
    bidGasCost: 0n,
    // The demo's stdout is its report: the keeper logs only warnings and errors, to stderr.
    logger: pino({ level: process.env.DEMO_KEEPER_LOG ?? "warn" }, pino.destination(2)),
  });
  return {
    kind: "keeper",
    tick: async () => {
      await keeper.tick();
      // The keeper mines its own blocks; the demo's clock continues after them.
      await chain.sync();
    },
    stop: () => keeper.stop(),
    stats: () => keeper.stats(),
  };
}
