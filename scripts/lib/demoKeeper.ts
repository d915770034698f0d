import { pino } from "pino";
import type { ChainClock, World } from "./episode.js";
import { createBots } from "./episode.js";

/**
 * The keeper the demo runs in-process, behind the `packages/keeper` service API
 * (`createKeeper(...)` → `{ tick, start, stop, stats }`). The demo calls `tick()` after
 * every feed update: deterministic, no timers.
 */

/** `createKeeper(...).stats()` of `packages/keeper/src/keeper.ts`. */
export interface KeeperStats {
  blocks: number;
  auctionsStarted: number;
  bids: number;
  settled: number;
  pricesPosted: number;
  failures: number;
  gasUsed: bigint;
  lastBlock: bigint;
  liquidations: { account: bigint; priceBlock?: bigint; auctionBlock: bigint; bidBlock?: bigint }[];
}

export interface DemoKeeper {
  /** Which implementation runs: the keeper service, or the stress test's bots (fallback). */
  kind: "keeper" | "stress-bots";
  tick(): Promise<void>;
  stop(): Promise<void>;
  stats(): KeeperStats;
}

/** The shape of `createKeeper`'s options the demo fills (see `packages/keeper/src/keeper.ts`). */
interface KeeperModule {
  createKeeper(options: {
    publicClient: unknown;
    walletClient: unknown;
    addressBook: World["book"];
    bidderAccount: bigint;
    confirmations?: number;
    jobs?: { liquidate?: boolean; settle?: boolean; marginCalls?: boolean };
    minProfit?: bigint;
    bidGasCost?: bigint;
    logger?: pino.Logger;
  }): { tick(): Promise<void>; stop(): Promise<void>; stats(): KeeperStats };
}

// TODO(keeper milestone): once packages/keeper/src/keeper.ts lands, replace this dynamic
// import with `import { createKeeper } from "../../packages/keeper/src/index.js";` and
// delete the fallback below. The specifier is a variable so that tsc accepts the module
// not existing yet.
const KEEPER_MODULE = "../../packages/keeper/src/keeper.js";

async function loadKeeper(): Promise<KeeperModule | undefined> {
  try {
    const module = (await import(KEEPER_MODULE)) as Partial<KeeperModule>;
    return typeof module.createKeeper === "function" ? (module as KeeperModule) : undefined;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}

export interface DemoKeeperOptions {
  /** Force the fallback bots even when the keeper service exists. */
  fallback?: boolean;
  log?: (line: string) => void;
}

export async function createDemoKeeper(
  world: World,
  chain: ChainClock,
  options: DemoKeeperOptions = {},
): Promise<DemoKeeper> {
  const service = options.fallback ? undefined : await loadKeeper();
  if (service) {
    const keeper = service.createKeeper({
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

  // ------------------------------------------------------------------ FALLBACK
  // FALLBACK until the keeper service lands: the stress test's bots (scripts/lib/episode.ts)
  // behind the keeper's tick/stats shape. They start an auction on every account below MM
  // and bid the largest allowed slice, without the service's indexing, profit checks or
  // fee management. `priceBlock` is left to the demo, which sees the price updates.
  const bots = createBots(world, chain, { name: "demo", log: options.log });
  return {
    kind: "stress-bots",
    tick: () => bots.tick(),
    stop: async () => {},
    stats: () => {
      const liquidations = [...bots.liquidations.values()];
      return {
        blocks: 0,
        auctionsStarted: bots.stats.auctionsStarted,
        bids: bots.stats.bids,
        settled: 0,
        pricesPosted: 0,
        failures: bots.stats.failedBids,
        gasUsed: bots.stats.botGas,
        lastBlock: liquidations.reduce((max, l) => {
          const last = l.bidBlock ?? l.auctionBlock;
          return last > max ? last : max;
        }, 0n),
        liquidations: liquidations.map((l) => ({ ...l })),
      };
    },
  };
}
