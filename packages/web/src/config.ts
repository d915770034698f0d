import type { AddressBook } from "@pledge/sdk";
import { type Chain, type Hex, defineChain, isAddress } from "viem";

import { LOCAL_CHAIN_ID } from "./devAccounts.js";

/**
 * What the app runs against, read at start from `pledge.json` beside the page (`npm run app`
 * writes it): the chain, its RPC, the indexer's API, the deployment's address book and, on a
 * local development node only, the private keys of its development accounts.
 */
export interface AppConfig {
  chainId: number;
  rpcUrl: string;
  /** The indexer's HTTP API (GraphQL at `/graphql`); the history screen needs it. */
  indexerUrl?: string | undefined;
  addressBook: AddressBook;
  /** Development accounts of a local node (its well-known test keys); never on a real chain. */
  devAccounts?: { label: string; privateKey: Hex }[] | undefined;
}

export { LOCAL_CHAIN_ID };

declare global {
  interface Window {
    /** `pledge.json`'s fetch, started by index.html while the scripts load. */
    __pledgeConfig?: Promise<Response> | undefined;
  }
}

/**
 * Reads and checks `pledge.json`: the response index.html already asked for when there is one
 * (taken once), else a fetch of its own.
 */
export async function loadConfig(url = "./pledge.json"): Promise<AppConfig> {
  const early = url === "./pledge.json" ? window.__pledgeConfig : undefined;
  window.__pledgeConfig = undefined;
  // An early fetch that failed (the network, not an HTTP status) is asked once more.
  const response = (await early?.catch(() => undefined)) ?? (await fetch(url, { cache: "no-store" }));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} (start the app with \`npm run app\`)`);
  const config = (await response.json()) as AppConfig;
  if (!Number.isSafeInteger(config.chainId)) throw new Error(`${url}: no chainId`);
  if (typeof config.rpcUrl !== "string") throw new Error(`${url}: no rpcUrl`);
  const book = config.addressBook;
  if (!book || book.chainId !== config.chainId || !isAddress(book.contracts?.CollateralVault ?? ""))
    throw new Error(`${url}: no address book for chain ${config.chainId}`);
  // The RPC and the indexer may be given relative to the page (`npm run app` proxies both).
  const absolute = (value: string) => new URL(value, window.location.href).href.replace(/\/$/, "");
  return {
    ...config,
    rpcUrl: absolute(config.rpcUrl),
    indexerUrl: config.indexerUrl === undefined ? undefined : absolute(config.indexerUrl),
  };
}

/** The viem chain of a config. */
export function chainOf(config: AppConfig): Chain {
  return defineChain({
    id: config.chainId,
    name: config.chainId === LOCAL_CHAIN_ID ? "Local node" : `Chain ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}
