import { readFile, rm } from "node:fs/promises";
import path from "node:path";

import type { Address, Hex, PublicClient } from "viem";

import { DeployError } from "./deployError.js";

/** The receipt fields Ignition records for each confirmed transaction. */
interface ConfirmMessage {
  type: "TRANSACTION_CONFIRM";
  futureId: string;
  receipt: { blockHash: Hex; blockNumber: number };
}

/**
 * Whether the Ignition journal in `dir` belongs to the chain `client` is connected to. Ignition
 * trusts its journal: after a node restart it would skip every step the journal records as done and
 * report addresses that hold no code. So before a deployment resumes from a journal, this checks
 * that the blocks its first and last transactions were mined in are still on the chain (same number,
 * same hash) and that every address it recorded holds code. Returns "none" when there is no journal;
 * throws a one-line `DeployError` naming the journal and the `--reset` flag when it is stale.
 */
export async function checkJournal(client: PublicClient, dir: string): Promise<"none" | "fresh"> {
  const journal = await readFile(path.join(dir, "journal.jsonl"), "utf8").catch(() => undefined);
  if (journal === undefined) return "none";

  const confirms = journal
    .split("\n")
    .filter((line) => line.includes('"TRANSACTION_CONFIRM"'))
    .map((line) => JSON.parse(line) as ConfirmMessage);
  const stale = (why: string) =>
    new DeployError([
      `the Ignition journal ${path.relative(process.cwd(), dir)} is stale (${why}); the chain was restarted or replaced: run again with --reset to delete it and deploy afresh`,
    ]);

  for (const confirm of [confirms[0], confirms.at(-1)]) {
    if (confirm === undefined) continue;
    const { blockNumber, blockHash } = confirm.receipt;
    const block = await client.getBlock({ blockNumber: BigInt(blockNumber) }).catch(() => undefined);
    if (block === undefined)
      return Promise.reject(stale(`it records block ${blockNumber}, which this chain does not have`));
    if (block.hash !== blockHash) {
      return Promise.reject(stale(`block ${blockNumber} has another hash than the one it records`));
    }
  }

  const deployed = await readFile(path.join(dir, "deployed_addresses.json"), "utf8").catch(() => "{}");
  for (const [future, address] of Object.entries(JSON.parse(deployed) as Record<string, Address>)) {
    const code = await client.getCode({ address });
    if (code === undefined || code === "0x") return Promise.reject(stale(`${future} at ${address} holds no code`));
  }
  return "fresh";
}

/**
 * The block of the first transaction the Ignition journal in `dir` records as confirmed, or
 * undefined without a journal or confirmed transaction. A resumed deployment's address book starts
 * there, so that readers from `deployedAtBlock` see the set-up events (assets listed, feeds set,
 * roles granted) too.
 */
export async function firstJournalBlock(dir: string): Promise<bigint | undefined> {
  const journal = await readFile(path.join(dir, "journal.jsonl"), "utf8").catch(() => undefined);
  const blocks = (journal ?? "")
    .split("\n")
    .filter((line) => line.includes('"TRANSACTION_CONFIRM"'))
    .map((line) => BigInt((JSON.parse(line) as ConfirmMessage).receipt.blockNumber));
  return blocks.length === 0 ? undefined : blocks.reduce((low, block) => (block < low ? block : low));
}

/** Deletes the Ignition journal in `dir` (what `--reset` does). */
export async function resetJournal(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
