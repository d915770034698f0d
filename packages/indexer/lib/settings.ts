/** Where the indexer reads and writes, from the environment (`npm run indexer` sets it from its flags). */
export interface IndexerSettings {
  /** The address book (deployment JSON) to index. */
  deployment: string;
  /** The chain's JSON-RPC URL. */
  rpcUrl: string;
  /** The chain id the address book must be for; any when undefined. */
  chainId: number | undefined;
  /** PostgreSQL connection string; PGlite in `dataDir` when undefined. */
  databaseUrl: string | undefined;
  /** PGlite's directory. */
  dataDir: string;
  /** How often the head is polled, in ms (default 100 on a loopback RPC, else 1000). */
  pollingMs: number;
  /**
   * How many times the RPC is listed to Ponder, whose rate limiter allows each listed endpoint 20
   * requests per second at first (default 8 on a loopback RPC, else 1: a hosted provider's own
   * limits are what Ponder's limiter is for).
   */
  rpcLanes: number;
  /** Whether Ponder's RPC cache is off (a development chain is reset under the same chain id). */
  disableCache: boolean;
}

/** The variables the indexer reads. */
export const ENV = {
  deployment: "PLEDGE_DEPLOYMENT",
  rpcUrl: "PLEDGE_RPC_URL",
  chainId: "PLEDGE_CHAIN_ID",
  dataDir: "PLEDGE_INDEXER_DIR",
  pollingMs: "PLEDGE_POLLING_MS",
  rpcLanes: "PLEDGE_RPC_LANES",
  disableCache: "PLEDGE_DISABLE_CACHE",
} as const;

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/** A setting that cannot be used, named after its variable. */
export class IndexerSettingsError extends Error {
  override name = "IndexerSettingsError";
}

/**
 * The indexer's settings from `env`: the address book (`PLEDGE_DEPLOYMENT`, else
 * `deployments/<PLEDGE_CHAIN_ID>.json`), the RPC URL, PostgreSQL's `DATABASE_URL` (or
 * `DATABASE_PRIVATE_URL`) or PGlite's directory, the polling interval (by default 100 ms, Ponder's
 * floor, on a loopback RPC, else 1000 ms), how many times the RPC is listed to Ponder's
 * per-endpoint rate limiter (by default 8 on a loopback RPC, else 1), and whether the RPC cache is
 * off (by default on a loopback RPC, where chains are restarted under the same id).
 *
 * @example
 * const settings = settingsFromEnv({ PLEDGE_DEPLOYMENT: "deployments/31337.json" });
 * settings.rpcUrl; // "http://127.0.0.1:8545"
 */
export function settingsFromEnv(env: Record<string, string | undefined>): IndexerSettings {
  const chainIdText = env[ENV.chainId];
  let chainId: number | undefined;
  if (chainIdText !== undefined && chainIdText !== "") {
    chainId = Number(chainIdText);
    if (!Number.isSafeInteger(chainId) || chainId <= 0)
      throw new IndexerSettingsError(`${ENV.chainId}=${chainIdText} is not a chain id`);
  }
  const deployment = env[ENV.deployment] || (chainId === undefined ? undefined : `deployments/${chainId}.json`);
  if (deployment === undefined)
    throw new IndexerSettingsError(
      `set ${ENV.deployment} to an address book, or ${ENV.chainId} to read deployments/<id>.json`,
    );
  const rpcUrl = env[ENV.rpcUrl] || DEFAULT_RPC_URL;
  let host: string;
  try {
    host = new URL(rpcUrl).hostname;
  } catch {
    throw new IndexerSettingsError(`${ENV.rpcUrl}=${rpcUrl} is not a URL`);
  }
  const loopback = host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  const pollingText = env[ENV.pollingMs] || (loopback ? "100" : "1000");
  const pollingMs = Number(pollingText);
  // Ponder refuses a polling interval under 100 ms.
  if (!Number.isInteger(pollingMs) || pollingMs < 100)
    throw new IndexerSettingsError(`${ENV.pollingMs}=${pollingText} should be a whole number of ms, at least 100`);
  const lanesText = env[ENV.rpcLanes] || (loopback ? "8" : "1");
  const rpcLanes = Number(lanesText);
  if (!Number.isInteger(rpcLanes) || rpcLanes < 1 || rpcLanes > 64)
    throw new IndexerSettingsError(`${ENV.rpcLanes}=${lanesText} should be a whole number from 1 to 64`);
  const cache = env[ENV.disableCache];
  return {
    deployment,
    rpcUrl,
    chainId,
    databaseUrl: env.DATABASE_PRIVATE_URL || env.DATABASE_URL || undefined,
    dataDir: env[ENV.dataDir] || ".ponder/pglite",
    pollingMs,
    rpcLanes,
    disableCache: cache === undefined || cache === "" ? loopback : cache === "1" || cache === "true",
  };
}
