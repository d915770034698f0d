import { pino } from "pino";

import { type KeeperOptions, type KeeperStats, createKeeper } from "@pledge/keeper";
import type { ChainClock } from "./chainClock.js";
import { MARGIN_CHUNK, type World } from "./world.js";

/**
 * The keeper service (`packages/keeper`, the one users run) as the simulations run it:
 * in-process, ticked by the caller after every feed update (deterministic, no timers),
 * bidding from the world's bidder, with the chain clock following the blocks the keeper
 * mines. The demo, `npm run stress` and the stress API all liquidate through it.
 */
export interface InProcessKeeper {
  kind: "keeper";
  /** One keeper pass at the latest block; the chain clock then continues after the keeper's blocks. */
  tick(): Promise<void>;
  stop(): Promise<void>;
  stats(): KeeperStats;
}

/** Keeper options a simulation may set: everything but the clients, the address book and the bidder. */
export type SimKeeperOptions = Partial<
  Omit<KeeperOptions, "publicClient" | "walletClient" | "addressBook" | "bidderAccount">
>;

/**
 * The simulations' defaults: follow the head (no confirmations), every job (the backstop's waterfall
 * too, against the deployment's takeover budget, with the insurance fund seeded at its 24 h window:
 * `seedPopulation`'s `insuranceCash`), bid at any profit with gas counted at its price only, cross-check
 * two of the accounts valued locally a tick besides those acted on, and log only warnings and
 * errors, to stderr (a run's stdout is its report).
 */
const SIM_DEFAULTS: SimKeeperOptions = {
  confirmations: 0,
  jobs: { liquidate: true, settle: true, marginCalls: true, backstop: true },
  minProfit: 0n,
  bidGasCost: 0n,
  // Every account the keeper acts on is cross-checked on chain; of the others, two a tick (the
  // demo cross-checks the population's local states itself).
  crossCheckSample: 2,
  // Accounts per `accountsMargin` of its confirmations: the in-process node values a hundred
  // accounts in ten calls of ten for about a third of the time of one call of a hundred
  // (`MARGIN_CHUNK`, issue 19).
  marginChunkSize: MARGIN_CHUNK,
};

export function createInProcessKeeper(
  world: World,
  chain: ChainClock,
  options: SimKeeperOptions = {},
): InProcessKeeper {
  const keeper = createKeeper({
    logger: pino({ level: process.env.SIM_KEEPER_LOG ?? "warn" }, pino.destination(2)),
    ...SIM_DEFAULTS,
    ...options,
    publicClient: world.publicClient,
    walletClient: world.bidderWallet,
    addressBook: world.book,
    bidderAccount: world.bidder,
  });
  return {
    kind: "keeper",
    tick: async () => {
      await keeper.tick();
      // The keeper mines its own blocks; the clock continues after them.
      await chain.sync();
    },
    stop: () => keeper.stop(),
    stats: () => keeper.stats(),
  };
}
