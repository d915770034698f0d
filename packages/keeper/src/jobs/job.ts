import type pino from "pino";

import { type AddressBook, decodePledgeError } from "@pledge/sdk";
import { type ActionLabel, Outcome, type SendResult } from "../executor.js";
import type { KeeperMetrics } from "../metrics.js";
import type { Stats } from "../stats.js";
import type { KeeperIndex } from "../store.js";

/** What every job sees of a tick: the index, brought up to date, and the head block. */
export interface TickContext {
  index: KeeperIndex;
  block: bigint;
  timestamp: bigint;
}

/** What one job did in one tick. */
export interface JobReport {
  job: string;
  /** Transactions that landed. */
  sent: number;
  /** Sends that failed (reverted, dropped, or refused by the gas guard). */
  failed: number;
  /** Sends skipped: the target is cooling down after a failure, or was already sent for in this block. */
  skipped: number;
}

/** One of the keeper's jobs, run once per tick in order. */
export interface Job {
  name: string;
  run(context: TickContext): Promise<JobReport>;
}

/**
 * Runs the send `action` for the target `key` at `block` unless the target is cooling down or was already sent for in
 * this block; counts the outcome in `report`, the stats and the metrics. The result, or undefined
 * when skipped or failed. `admit` and `record` are the same two halves for a transaction that
 * acts on several targets (a `bidMany` batch).
 */
export interface Execute {
  (
    report: JobReport,
    /** The send's name in the metrics' `job` label: `startAuction`, `bidMany`, `settle`, ... */
    action: string,
    key: string,
    block: bigint,
    /** Sends, passing `label` (the target key and the tick's block) on to the sender's history of actions. */
    send: (label: ActionLabel) => Promise<SendResult>,
  ): Promise<SendResult | undefined>;
  /**
   * Whether `key` may be sent for at `block` (not cooling down, not sent for in this block);
   * counts a skip if not, and marks it sent if so.
   */
  admit(report: JobReport, action: string, key: string, block: bigint): boolean;
  /**
   * Counts one transaction's `result` for `keys`: on success it counts as sent and clears their
   * cooldowns; a dry run counts as skipped; otherwise it counts as failed, logs the decoded cause
   * and cools every key down. Whether it was sent and succeeded.
   */
  record(report: JobReport, action: string, keys: readonly string[], block: bigint, result: SendResult): boolean;
  /** Cools `key` down from `block` (a target its transaction skipped). */
  coolDown(key: string, block: bigint): void;
}

/** A fresh report for `job`. */
export function emptyReport(job: string): JobReport {
  return { job, sent: 0, failed: 0, skipped: 0 };
}

/**
 * The guard every job sends through: one send per target and block, and a cooldown of
 * `cooldownBlocks` after a failure.
 *
 * @example
 * const execute = createExecute({ stats, metrics, log, cooldownBlocks: 3n });
 * const sent = await execute(report, "startAuction", `auction:${account}`, block, (label) => sender.send(..., label));
 */
export function createExecute(context: {
  stats: Stats;
  metrics: KeeperMetrics;
  log: pino.Logger;
  cooldownBlocks: bigint;
  /** Names tokens and prints amounts in units in the decoded causes of failed sends. */
  addressBook?: AddressBook | undefined;
}): Execute {
  const { stats, metrics, log, cooldownBlocks, addressBook } = context;
  /** Target key → block until which it is skipped after a failure. */
  const cooldownUntil = new Map<string, bigint>();
  /** Target key → last block this keeper sent for it. */
  const sentAt = new Map<string, bigint>();

  const admit: Execute["admit"] = (report, job, key, block) => {
    const until = cooldownUntil.get(key);
    const outcome =
      until !== undefined && block < until
        ? Outcome.COOLDOWN
        : sentAt.get(key) === block
          ? Outcome.DUPLICATE
          : undefined;
    if (outcome !== undefined) {
      metrics.outcomes.inc({ job, outcome });
      report.skipped++;
      return false;
    }
    sentAt.set(key, block);
    return true;
  };
  const coolDown: Execute["coolDown"] = (key, block) => void cooldownUntil.set(key, block + cooldownBlocks);
  const record: Execute["record"] = (report, job, keys, block, result) => {
    metrics.outcomes.inc({ job, outcome: result.outcome });
    if (result.receipt) stats.gasUsed(result.receipt.gasUsed);
    if (result.outcome === Outcome.DRY_RUN) {
      report.skipped++;
      return false;
    }
    if (result.outcome !== Outcome.SENT) {
      stats.failed(result.errorName ?? result.outcome);
      for (const key of keys) coolDown(key, block);
      const cause = failureCause(result, addressBook);
      log.warn(
        { job, target: keys.length === 1 ? keys[0] : keys, outcome: result.outcome, error: result.errorName, cause },
        "send failed",
      );
      report.failed++;
      return false;
    }
    for (const key of keys) cooldownUntil.delete(key);
    report.sent++;
    return true;
  };
  const execute = async (
    report: JobReport,
    job: string,
    key: string,
    block: bigint,
    send: (label: ActionLabel) => Promise<SendResult>,
  ): Promise<SendResult | undefined> => {
    if (!admit(report, job, key, block)) return undefined;
    const result = await send({ target: key, tick: block });
    return record(report, job, [key], block, result) ? result : undefined;
  };
  return Object.assign(execute, { admit, record, coolDown });
}

/**
 * Why a send failed, in words: the decoded Pledge error's message (`decodePledgeError`), else the
 * viem error's short message, else the error name (a gas guard's reason).
 *
 * @example
 * failureCause({ outcome: Outcome.SIMULATION_REVERTED, errorName: "LiquidatorAccountHealthy", error });
 * // "Account 0x3c44…/1 is HEALTHY: …"
 */
export function failureCause(result: SendResult, addressBook?: AddressBook): string | undefined {
  if (result.error !== undefined) {
    const decoded = decodePledgeError(result.error, { addressBook });
    if (decoded) return decoded.message;
    const short = (result.error as { shortMessage?: unknown }).shortMessage;
    if (typeof short === "string") return short;
    if (result.error instanceof Error) return result.error.message.split("\n")[0];
  }
  return result.errorName;
}
