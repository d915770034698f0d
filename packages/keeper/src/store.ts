import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

import type { Hash } from "viem";

/** What the keeper remembers between runs: how far it indexed, and what it found. */
export interface KeeperIndex {
  chainId: number;
  /** The last indexed block (confirmed), and its hash to detect a reorg or a reset chain. */
  cursor: bigint;
  cursorHash: Hash | undefined;
  /** Every account seen in a deposit, a position change or an auction. */
  accounts: Set<bigint>;
  /** Accounts holding a non-zero balance, by series. */
  holders: Map<bigint, Set<bigint>>;
  /** Series whose settlement the keeper finished. */
  settledSeries: Set<bigint>;
  /** Accounts with an auction open, from AuctionStarted / AuctionEnded. */
  auctions: Set<bigint>;
}

interface StoredIndex {
  version: 1;
  chainId: number;
  cursor: string;
  cursorHash: Hash | null;
  accounts: string[];
  holders: Record<string, string[]>;
  settledSeries: string[];
  auctions: string[];
}

/** An empty index whose cursor sits just before the deployment block. */
export function emptyIndex(chainId: number, deployedAtBlock: bigint): KeeperIndex {
  return {
    chainId,
    cursor: deployedAtBlock > 0n ? deployedAtBlock - 1n : 0n,
    cursorHash: undefined,
    accounts: new Set(),
    holders: new Map(),
    settledSeries: new Set(),
    auctions: new Set(),
  };
}

/** Reads the index at `file`, or undefined when there is none (or it is for another chain). */
export async function loadIndex(file: string, chainId?: number): Promise<KeeperIndex | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const stored = JSON.parse(text) as StoredIndex;
  if (stored.version !== 1 || (chainId !== undefined && stored.chainId !== chainId)) return undefined;
  return {
    chainId: stored.chainId,
    cursor: BigInt(stored.cursor),
    cursorHash: stored.cursorHash ?? undefined,
    accounts: new Set(stored.accounts.map(BigInt)),
    holders: new Map(
      Object.entries(stored.holders).map(([series, holders]) => [BigInt(series), new Set(holders.map(BigInt))]),
    ),
    settledSeries: new Set(stored.settledSeries.map(BigInt)),
    auctions: new Set(stored.auctions.map(BigInt)),
  };
}

/** Writes the index atomically: a temporary file in the same folder, then a rename. */
export async function saveIndex(file: string, index: KeeperIndex): Promise<void> {
  const stored: StoredIndex = {
    version: 1,
    chainId: index.chainId,
    cursor: index.cursor.toString(),
    cursorHash: index.cursorHash ?? null,
    accounts: [...index.accounts].map(String),
    holders: Object.fromEntries(
      [...index.holders].map(([series, holders]) => [String(series), [...holders].map(String)]),
    ),
    settledSeries: [...index.settledSeries].map(String),
    auctions: [...index.auctions].map(String),
  };
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, JSON.stringify(stored, null, 1));
  await rename(temporary, file);
}
