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
 * when skipped or failed.
 */
export type Execute = (
  report: JobReport,
  /** The send's name in the metrics' `job` label: `startAuction`, `bid`, `settle`, ... */
  action: string,
  key: string,
  block: bigint,
  /** Sends, passing `label` (the target key and the tick's block) on to the sender's history of actions. */
  send: (label: ActionLabel) => Promise<SendResult>,
) => Promise<SendResult | undefined>;

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
  return async (report, job, key, block, send) => {
    const until = cooldownUntil.get(key);
    if (until !== undefined && block < until) {
      metrics.outcomes.inc({ job, outcome: Outcome.COOLDOWN });
      report.skipped++;
      return undefined;
    }
    if (sentAt.get(key) === block) {
      metrics.outcomes.inc({ job, outcome: Outcome.DUPLICATE });
      report.skipped++;
      return undefined;
    }
    sentAt.set(key, block);
    const result = await send({ target: key, tick: block });
    metrics.outcomes.inc({ job, outcome: result.outcome });
    if (result.receipt) stats.gasUsed(result.receipt.gasUsed);
    if (result.outcome === Outcome.DRY_RUN) {
      report.skipped++;
      return undefined;
    }
    if (result.outcome !== Outcome.SENT) {
      stats.failed(result.errorName ?? result.outcome);
      cooldownUntil.set(key, block + cooldownBlocks);
      const cause = failureCause(result, addressBook);
      log.warn({ job, target: key, outcome: result.outcome, error: result.errorName, cause }, "send failed");
      report.failed++;
      return undefined;
    }
    cooldownUntil.delete(key);
    report.sent++;
    return result;
  };
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
