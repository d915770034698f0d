import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";

/** What identifies the chain an indexer's data was built from. */
export interface ChainMark {
  chainId: number;
  /** The block the address book starts at (`deployedAtBlock`) and its hash on that chain. */
  block: string;
  blockHash: string;
}

/** The data's chain does not match the chain the indexer is pointed at, or cannot be checked. */
export class ChainMismatchError extends Error {}

/**
 * Where PGlite keeps its files inside the data folder (`--data-dir`). PGlite refuses to create its
 * database in a folder that already holds a file, so the database sits in a folder of its own,
 * beside the chain mark.
 *
 * @example
 * pgliteDir(".ponder/pglite"); // ".ponder/pglite/db"
 */
export const pgliteDir = (dataDir: string) => path.join(dataDir, "db");

/**
 * The chain mark of PGlite data: inside the data folder, so deleting the folder deletes the mark
 * with the data (review rv18b, RV18b-4).
 *
 * @example
 * chainMarkFile(".ponder/pglite"); // ".ponder/pglite/chain.json"
 */
export const chainMarkFile = (dataDir: string) => path.join(dataDir, "chain.json");

/**
 * Refuses to resume data indexed from another chain, and marks new data with its chain.
 *
 * A local node restarted under the same chain id redeploys at the same addresses: Ponder would
 * resume the old chain's checkpoint without a word (review rv18, 6b). So the data is marked with
 * the chain id and the hash of the address book's first block (a new node has another hash: the
 * block's timestamp and transactions differ), in `markFile` (`chainMarkFile(dataDir)`, inside the
 * data folder); a mark that differs throws `ChainMismatchError`, a missing one is written.
 *
 * @example
 * await checkChainMark(chainMarkFile(".ponder/pglite"), { chainId: 31337, block: "5", blockHash: "0xab…" });
 */
export async function checkChainMark(markFile: string, chain: ChainMark): Promise<"new" | "same"> {
  let stored: ChainMark | undefined;
  try {
    stored = JSON.parse(await readFile(markFile, "utf8")) as ChainMark;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (stored === undefined) {
    await mkdir(path.dirname(markFile), { recursive: true });
    await writeFile(markFile, `${JSON.stringify(chain)}\n`);
    return "new";
  }
  if (
    stored.chainId !== chain.chainId ||
    stored.block !== chain.block ||
    stored.blockHash.toLowerCase() !== chain.blockHash.toLowerCase()
  )
    throw new ChainMismatchError(
      `the indexer's data (${markFile}) was built from another chain: chain ${stored.chainId}, block ${stored.block} ` +
        `${stored.blockHash}; the node has chain ${chain.chainId}, block ${chain.block} ${chain.blockHash}. ` +
        `A restarted local node is a new chain: delete the folder ${path.dirname(markFile)} (its data and this mark), ` +
        "or point --data-dir at a new folder.",
    );
  return "same";
}

/**
 * The hash of block `block` at `rpcUrl` (10 s deadline), or undefined if the node answers that it
 * has no such block (`result: null`: a restarted node not yet redeployed). A node that does not
 * answer, or answers with an error, throws.
 *
 * @example
 * const hash = await blockHashAt("http://127.0.0.1:8545", 5n); // "0x…", or undefined
 */
export async function blockHashAt(rpcUrl: string, block: bigint): Promise<string | undefined> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_getBlockByNumber",
      params: [`0x${block.toString(16)}`, false],
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { result?: { hash?: string } | null; error?: { message?: string } };
  if (body.error !== undefined || !("result" in body))
    throw new Error(`eth_getBlockByNumber: ${body.error?.message ?? `HTTP ${response.status}, no result`}`);
  if (body.result === null) return undefined;
  if (typeof body.result?.hash !== "string") throw new Error("eth_getBlockByNumber: a block without a hash");
  return body.result.hash;
}
