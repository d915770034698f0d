import type { Hex } from "viem";

/** What `devAccountsOf` reads of the app's config (`AppConfig`; no DOM here, so Node tests import it). */
interface DevAccountsConfig {
  chainId: number;
  rpcUrl: string;
  devAccounts?: { label: string; privateKey: Hex }[] | undefined;
}

/** The local development chain's id (`npm run app`'s node; faster polling there). */
export const LOCAL_CHAIN_ID = 31337;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The development accounts the page may offer: only on the local chain (31337), with the RPC on
 * a loopback address and the page itself served from one, so a `pledge.json` of any other
 * deployment never turns keys into wallets. The reason they are ignored otherwise, for a warning.
 */
export function devAccountsOf(
  config: DevAccountsConfig,
  pageUrl: string,
): { accounts: NonNullable<DevAccountsConfig["devAccounts"]>; ignored?: string | undefined } {
  const accounts = config.devAccounts ?? [];
  if (accounts.length === 0) return { accounts: [] };
  if (config.chainId !== LOCAL_CHAIN_ID)
    return { accounts: [], ignored: `development keys ignored: chain ${config.chainId} is not the local chain` };
  const rpc = new URL(config.rpcUrl, pageUrl);
  const page = new URL(pageUrl);
  if (!LOOPBACK.has(rpc.hostname) || !LOOPBACK.has(page.hostname))
    return { accounts: [], ignored: "development keys ignored: the page or its RPC is not on this machine" };
  return { accounts };
}
