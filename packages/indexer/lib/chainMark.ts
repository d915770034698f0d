import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";

/** What identifies the chain an indexer's data was built from. */
export interface ChainMark {
  chainId: number;
  /** The block the address book starts at (`deployedAtBlock`) and its hash on that chain. */
  block: string;
  blockHash: string;
}

/** The data's chain does not match the chain the indexer is pointed at. */
export class ChainMismatchError extends Error {}

/**
 * Refuses to resume data indexed from another chain, and marks new data with its chain.
 *
 * A local node restarted under the same chain id redeploys at the same addresses: Ponder would
 * resume the old chain's checkpoint without a word (review rv18, 6b). So the data is marked with
 * the chain id and the hash of the address book's first block (a new node has another hash: the
 * block's timestamp and transactions differ), in `markFile` beside the data; a mark that differs
 * throws `ChainMismatchError`, a missing one is written.
 *
 * @example
 * await checkChainMark(".ponder/pglite.chain.json", { chainId: 31337, block: "5", blockHash: "0xab…" });
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
        "A restarted local node is a new chain: point --data-dir at a new folder, or delete the old one.",
    );
  return "same";
}

/** The hash of block `block` at `rpcUrl` (10 s deadline), or undefined if the node has no such block. */
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
  const body = (await response.json()) as { result?: { hash?: string } | null };
  return body.result?.hash ?? undefined;
}
