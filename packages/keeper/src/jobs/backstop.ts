import type { Address, PublicClient } from "viem";
import type pino from "pino";

import {
  type AddressBook,
  type GetBackstopPreviewReturnType,
  Health,
  asAccountId,
  backstopAbi,
  collateralVaultAbi,
  formatAccount,
  getBackstopPreview,
  optionMarketAbi,
} from "@pledge/sdk";
import { Outcome, type Sender } from "../executor.js";
import type { KeeperMetrics } from "../metrics.js";
import { readProtectedAccounts } from "../readers.js";
import { type Execute, type Job, type JobReport, emptyReport } from "./job.js";

/**
 * The takeover refusals that let deleveraging run (`docs/backstop.md`: "refused for budget"). A
 * full fund's `MarketTooManyPositions` is not one (review rv16w F5), nor is a fund position at the
 * market's bound, `MarketBalanceTooLarge` (review rv26): the chain refuses ADL for them too, so the
 * keeper counts them as a failed takeover and leaves them to governance.
 */
export const BUDGET_REFUSALS: ReadonlySet<string> = new Set([
  "BackstopBudgetExceeded",
  "BackstopFundBelowInitialMargin",
]);

/** What the backstop job does about one auctioned account. */
export type BackstopStep =
  | { kind: "none"; reason: "noAuction" | "healthy" | "solventBeyondBudget" }
  | { kind: "wait"; readyAt: bigint }
  | { kind: "takeover" }
  | { kind: "deleverage" };

/**
 * The waterfall's decision for one account at `timestamp`, from `getBackstopPreview`: nothing
 * while no auction is open or the account recovered; wait until the auction has run its duration;
 * then the takeover if its loss fits the budget, else deleveraging if the account is worth less
 * than nothing (an account worth V ≥ 0 that the fund cannot take is left to the auction).
 *
 * @example
 * decideBackstop(preview, timestamp); // { kind: "takeover" } once the auction ran its duration unbid
 */
export function decideBackstop(
  preview: Pick<GetBackstopPreviewReturnType, "auctionActive" | "readyAt" | "health" | "takeover">,
  timestamp: bigint,
): BackstopStep {
  // An open auction that lapsed is still the backstop's to act on (its readyAt is past).
  if (!preview.auctionActive) return { kind: "none", reason: "noAuction" };
  if (timestamp < preview.readyAt) return { kind: "wait", readyAt: preview.readyAt };
  if (preview.health < Health.LIQUIDATABLE) return { kind: "none", reason: "healthy" };
  if (preview.takeover.withinBudget) return { kind: "takeover" };
  return preview.takeover.valueWad < 0n ? { kind: "deleverage" } : { kind: "none", reason: "solventBeyondBudget" };
}

/** An account's holdings as the keeper last read them, enough to tell a bare debt. */
export interface HeldByAccount {
  cash: bigint;
  balances: readonly bigint[];
  positions: readonly unknown[];
}

/** Whether `held` is nothing but a cash debt: no position, no collateral, cash < 0 (what `absorbDebt` requires). */
export function isBareDebt(held: HeldByAccount): boolean {
  return held.cash < 0n && held.positions.length === 0 && held.balances.every((b) => b === 0n);
}

/**
 * The accounts `holdings` shows holding nothing but a cash debt (no position, no collateral,
 * cash < 0): the bare debts `absorbDebt` pays. A hint only, from the keeper's last read: the job
 * checks each on chain at the tick's block before sending.
 *
 * @example
 * bareDebtorsOf(planner.holdings()); // [42n]: account 42 holds only a −1,200 USDC debt
 */
export function bareDebtorsOf(holdings: ReadonlyMap<bigint, HeldByAccount>): bigint[] {
  const debtors: bigint[] = [];
  for (const [account, held] of holdings) if (isBareDebt(held)) debtors.push(account);
  return debtors;
}

export interface BackstopJobContext {
  publicClient: PublicClient;
  addressBook: AddressBook;
  sender: Pick<Sender, "send">;
  execute: Execute;
  metrics: KeeperMetrics;
  log: pino.Logger;
  /**
   * Accounts that may hold nothing but a cash debt besides those under auction (the keeper passes
   * `bareDebtorsOf(planner.holdings())`): a bare debt left with no auction open (a settlement
   * after the auction ended, say) is never auctioned (`LiquidatorNothingToSell`), so only this
   * finds it. Default: none.
   */
  bareDebtCandidates?: (() => Iterable<bigint>) | undefined;
}

/**
 * The backstop job (`docs/backstop.md`, `docs/keeper.md`): for every auction in the index whose
 * account is still below maintenance after the auction ran its full duration, sends `takeover`;
 * when the takeover is refused for budget (by the preview, or by its simulation: the fund's IM)
 * and the account is worth less than nothing, sends `deleverage` for each series it holds, with
 * the complete holder list from the index, keyed and sorted by the SDK. A series whose indexed
 * holders do not add up to its open interest is not sent (the chain would refuse it). An account
 * holding nothing but a cash debt (under auction with no position indexed, or among
 * `bareDebtCandidates`), checked on chain at the tick's block, gets `absorbDebt` at once: nobody
 * can bid on it (`LiquidatorNothingToSell`) and the fund pays it at par whatever the budget (what
 * ADL leaves when the loss exceeds the holders' gains ends here). Every step's outcome is counted
 * in `pledge_keeper_backstop_steps_total{step,outcome}`.
 *
 * @example
 * const job = createBackstopJob({ publicClient, addressBook, sender, execute, metrics, log });
 * const report = await job.run({ index, block, timestamp });
 */
export function createBackstopJob(context: BackstopJobContext): Job {
  const { publicClient, addressBook, sender, execute, metrics, log } = context;
  const backstop: Address = addressBook.contracts.Backstop;
  const vault: Address = addressBook.contracts.CollateralVault;
  const market: Address = addressBook.contracts.OptionMarket;
  const count = (step: string, outcome: string) => metrics.backstopSteps.inc({ step, outcome });

  /** Whether `account` holds nothing but a cash debt at `block` (`balancesOf` gives its cash too). */
  async function isBareDebtor(account: bigint, block: bigint): Promise<boolean> {
    const at = { blockNumber: block };
    const [[balances, cash], [positions]] = await Promise.all([
      publicClient.readContract({
        address: vault,
        abi: collateralVaultAbi,
        functionName: "balancesOf",
        args: [account],
        ...at,
      }),
      publicClient.readContract({
        address: market,
        abi: optionMarketAbi,
        functionName: "positionsOf",
        args: [account],
        ...at,
      }),
    ]);
    return isBareDebt({ cash, balances, positions });
  }

  async function absorbDebt(report: JobReport, account: bigint, block: bigint) {
    const who = formatAccount(asAccountId(account));
    const sent = await execute(report, "absorbDebt", `absorbDebt:${who}`, block, async (label) => {
      const result = await sender.send(backstop, backstopAbi, "absorbDebt", [account], undefined, label);
      count("absorbDebt", result.outcome);
      return result;
    });
    if (sent) log.info({ event: "debtAbsorbed", account: who }, "insurance fund paid a bare cash debt at par");
  }

  /**
   * The bare debts among the auctions with no position indexed and the candidates, checked on
   * chain and paid; returns the accounts paid (or tried), which the waterfall then skips.
   */
  async function absorbBareDebts(
    report: JobReport,
    index: { auctions: Iterable<bigint>; holders: ReadonlyMap<bigint, ReadonlySet<bigint>> },
    block: bigint,
  ): Promise<Set<bigint>> {
    const holding = new Set<bigint>();
    for (const holders of index.holders.values()) for (const a of holders) holding.add(a);
    const candidates = new Set<bigint>([...index.auctions].filter((a) => !holding.has(a)));
    for (const a of context.bareDebtCandidates?.() ?? []) if (!holding.has(a)) candidates.add(a);
    const handled = new Set<bigint>();
    if (candidates.size === 0) return handled;
    let own: Set<bigint>;
    try {
      // `absorbDebt` refuses them (`BackstopProtectedAccount`).
      own = new Set(await readProtectedAccounts(publicClient, addressBook, block));
    } catch (error) {
      log.debug({ error: String(error) }, "backstop: protected accounts unread");
      return handled;
    }
    const checked = await Promise.all(
      [...candidates]
        .filter((account) => !own.has(account))
        .map(async (account) => {
          try {
            return (await isBareDebtor(account, block)) ? account : undefined;
          } catch (error) {
            log.debug({ account: formatAccount(asAccountId(account)), error: String(error) }, "bare-debt check failed");
            return undefined;
          }
        }),
    );
    const bare = checked.filter((account): account is bigint => account !== undefined);
    for (const account of bare) handled.add(account);
    // Sent back to back with consecutive nonces and awaited together, so N debts take one block,
    // not N, and the next tick's bids are not held up (review rv16s B).
    await Promise.all(bare.map((account) => absorbDebt(report, account, block)));
    return handled;
  }

  async function takeover(report: JobReport, account: bigint, block: bigint): Promise<"sent" | "budget" | "failed"> {
    const who = formatAccount(asAccountId(account));
    let refusal: string | undefined;
    const sent = await execute(report, "takeover", `takeover:${who}`, block, async (label) => {
      const result = await sender.send(backstop, backstopAbi, "takeover", [account], undefined, label);
      if (result.outcome === Outcome.SIMULATION_REVERTED) refusal = result.errorName;
      count("takeover", result.outcome);
      return result;
    });
    if (sent) {
      log.info({ event: "accountTakenOver", account: who }, "insurance fund took the account over");
      return "sent";
    }
    return refusal !== undefined && BUDGET_REFUSALS.has(refusal) ? "budget" : "failed";
  }

  async function deleverage(
    report: JobReport,
    account: bigint,
    seriesIds: bigint[],
    holdersOf: (seriesId: bigint) => bigint[],
    block: bigint,
  ) {
    const who = formatAccount(asAccountId(account));
    for (const seriesId of seriesIds) {
      const preview = await getBackstopPreview(publicClient, {
        addressBook,
        account: asAccountId(account),
        seriesId,
        holders: holdersOf(seriesId).map(asAccountId),
        blockNumber: block,
      });
      const plan = preview.deleverage;
      if (plan === undefined || !plan.complete) {
        count("deleverage", "incomplete");
        log.warn(
          { event: "deleverageIncomplete", account: who, series: seriesId.toString() },
          "indexed holders do not add up to the open interest: not deleveraging this series",
        );
        continue;
      }
      if (plan.closes.length === 0) {
        // Every holder reached is skipped (the fund, or one its close would take below
        // maintenance, as the SDK values it): the chain would revert `BackstopNothingClosed`.
        count("deleverage", "nothingToClose");
        continue;
      }
      const list = plan.holders.map((h) => h.account);
      const sent = await execute(report, "deleverage", `deleverage:${who}:${seriesId}`, block, async (label) => {
        const result = await sender.send(
          backstop,
          backstopAbi,
          "deleverage",
          [account, seriesId, list],
          undefined,
          label,
        );
        count("deleverage", result.outcome);
        return result;
      });
      if (sent) {
        log.info(
          { event: "deleveraged", account: who, series: seriesId.toString(), holders: list.length },
          "bankrupt position closed against its opposite holders",
        );
      }
    }
  }

  return {
    name: "backstop",
    async run({ index, block, timestamp }) {
      const report = emptyReport("backstop");
      const absorbed = await absorbBareDebts(report, index, block);
      for (const account of index.auctions) {
        if (absorbed.has(account)) continue;
        let preview: GetBackstopPreviewReturnType;
        try {
          preview = await getBackstopPreview(publicClient, {
            addressBook,
            account: asAccountId(account),
            blockNumber: block,
          });
        } catch (error) {
          // A missing price: every step waits for one (fail closed), like the chain.
          log.debug({ account: formatAccount(asAccountId(account)), error: String(error) }, "backstop preview failed");
          continue;
        }
        const step = decideBackstop(preview, timestamp);
        if (step.kind === "none" || step.kind === "wait") continue;
        let next: "deleverage" | undefined = step.kind === "deleverage" ? "deleverage" : undefined;
        if (step.kind === "takeover" && (await takeover(report, account, block)) === "budget") {
          next = preview.takeover.valueWad < 0n ? "deleverage" : undefined;
        }
        if (next !== "deleverage") continue;
        const seriesIds = [...index.holders].filter(([, holders]) => holders.has(account)).map(([id]) => id);
        const holdersOf = (seriesId: bigint) => [...(index.holders.get(seriesId) ?? [])].filter((a) => a !== account);
        await deleverage(report, account, seriesIds, holdersOf, block);
      }
      return report;
    },
  };
}
