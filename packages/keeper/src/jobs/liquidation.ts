import { type Address, maxUint256, parseEventLogs } from "viem";
import type pino from "pino";

import { Health, asAccountId, formatAccount, healthName, liquidatorAbi } from "@pledge/sdk";
import type { Sender } from "../executor.js";
import type { KeeperMetrics } from "../metrics.js";
import type { Planner } from "../planner.js";
import { chunkByGas } from "../ranking.js";
import type { Readers } from "../readers.js";
import type { Stats } from "../stats.js";
import { type AccountView, type Decision, bidGasGuard, decide } from "../strategy.js";
import { type Execute, type Job, type JobReport, emptyReport } from "./job.js";

const WAD = 10n ** 18n;

export interface LiquidationJobOptions {
  liquidator: Address;
  bidderAccount: bigint;
  cashDecimals: number;
  /** Start auctions and bid; off, the job only reports margin calls. */
  liquidate: boolean;
  /** Log accounts below IM (once each, until they recover). */
  marginCalls: boolean;
  minProfit?: bigint | undefined;
  bidGasCost?: bigint | undefined;
  maxExposure?: bigint | undefined;
  maxSlippageWad?: bigint | undefined;
  maxBidGas: bigint;
  /** A fixed USD price of the native token, WAD; else read from the oracle's spot of `nativeAsset`. */
  nativePriceWad?: bigint | undefined;
  nativeAsset?: Address | undefined;
  /** Most accounts per `accountsMargin` call. */
  marginChunkSize: number;
  /** Estimated gas one `accountsMargin` call may use. */
  marginGasPerCall: number;
}

/** What the liquidation job works with besides its options. */
export interface LiquidationJobContext {
  readers: Readers;
  planner: Planner;
  sender: Pick<Sender, "send">;
  execute: Execute;
  stats: Stats;
  metrics: KeeperMetrics;
  log: pino.Logger;
}

/**
 * The liquidation job: confirms the planner's accounts on chain, reads auctions and previews
 * of those below IM or under auction, lets the pure `decide` choose, and sends (auction starts,
 * bids, terminations) back to back so a tick's transactions can land in one block. Margin calls
 * are logged once per account until it recovers.
 *
 * @example
 * const job = createLiquidationJob({ readers, planner, sender, execute, stats, metrics, log }, options);
 * const report = await job.run({ index, block, timestamp });
 */
export function createLiquidationJob(context: LiquidationJobContext, options: LiquidationJobOptions): Job {
  const { readers, planner, sender, execute, stats, metrics, log } = context;
  const { liquidator, bidderAccount } = options;
  const inMarginCall = new Set<bigint>();
  /** The native token's USD price for pricing bid gas, read once per block; undefined when unknown. */
  let nativePriceAt: { block: bigint; price: Promise<bigint | undefined> } | undefined;

  function nativePrice(block: bigint): Promise<bigint | undefined> {
    if (options.nativePriceWad !== undefined) return Promise.resolve(options.nativePriceWad);
    if (options.nativeAsset === undefined) return Promise.resolve(undefined);
    if (nativePriceAt?.block !== block) nativePriceAt = { block, price: readers.spot(options.nativeAsset, block) };
    return nativePriceAt.price;
  }

  async function carryOut(report: JobReport, decision: Decision, block: bigint, marginCalls: Set<bigint>) {
    const { account } = decision;
    /** The account as `owner/subId`, in logs and target keys. */
    const who = formatAccount(asAccountId(account));
    switch (decision.kind) {
      case "marginCall":
        if (!options.marginCalls) return;
        marginCalls.add(account);
        if (!inMarginCall.has(account)) {
          inMarginCall.add(account);
          log.info({ event: "marginCall", account: who, excessIM: decision.excessIM.toString() }, "margin call");
        }
        return;
      case "startAuction": {
        if (!options.liquidate) return;
        const sent = await execute(report, "startAuction", `auction:${who}`, block, (label) =>
          sender.send(liquidator, liquidatorAbi, "startAuction", [account], undefined, label),
        );
        if (!sent?.receipt) return;
        stats.auctionStarted(account, sent.receipt.blockNumber);
        log.info(
          { event: "auctionStarted", account: who, block: sent.receipt.blockNumber.toString() },
          "auction started",
        );
        return;
      }
      case "terminateAuction": {
        if (!options.liquidate) return;
        const sent = await execute(report, "terminateAuction", `auction:${who}`, block, (label) =>
          sender.send(liquidator, liquidatorAbi, "terminateAuction", [account], undefined, label),
        );
        if (sent) log.info({ event: "auctionTerminated", account: who }, "auction terminated");
        return;
      }
      case "bid": {
        if (!options.liquidate) return;
        const guard = bidGasGuard(decision.profit, {
          maxBidGas: options.maxBidGas,
          nativePriceWad: await nativePrice(block),
          minProfit: options.minProfit ?? 0n,
          cashDecimals: options.cashDecimals,
        });
        const sent = await execute(report, "bid", `bid:${who}`, block, (label) =>
          sender.send(
            liquidator,
            liquidatorAbi,
            "bid",
            [account, bidderAccount, decision.fractionWad, decision.maxPayment, decision.expectedNonce],
            guard,
            label,
          ),
        );
        if (!sent?.receipt) return;
        const startedHere = parseEventLogs({
          abi: liquidatorAbi,
          logs: sent.receipt.logs,
          eventName: "AuctionStarted",
        }).some((event) => event.args.account === account);
        if (startedHere) stats.auctionStarted(account, sent.receipt.blockNumber);
        stats.bidLanded(account, sent.receipt.blockNumber);
        log.info(
          {
            event: "bid",
            account: who,
            fractionWad: decision.fractionWad.toString(),
            profit: decision.profit.toString(),
          },
          "bid landed",
        );
        return;
      }
    }
  }

  return {
    name: "liquidation",
    async run({ index, block, timestamp }) {
      const report = emptyReport("liquidation");
      const accounts = await planner.plan(index, block, timestamp);
      if (accounts.length === 0) return report;
      const chunks = chunkByGas(accounts, planner.holdings(), options.marginChunkSize, options.marginGasPerCall);
      const { bidderExcessIM, insuranceShareWad, states } = await readers.confirmation(
        { bidderAccount, chunks },
        block,
      );
      stats.confirmed(states.length);
      planner.confirmed(states);

      const atRisk = { [Health.MARGIN_CALL]: 0, [Health.LIQUIDATABLE]: 0, [Health.INSOLVENT]: 0 };
      for (const state of states) {
        if (state.health !== Health.HEALTHY) atRisk[state.health]++;
        if (state.health >= Health.LIQUIDATABLE) stats.belowMaintenance(state.account, block);
      }
      for (const [health, count] of Object.entries(atRisk)) {
        metrics.atRisk.set({ health: healthName(Number(health) as Health) }, count);
      }
      const candidates = states.filter((s) => s.health !== Health.HEALTHY || index.auctions.has(s.account));
      if (candidates.length === 0) return report;
      // Below MM with no auction yet, the preview is of the bid that would start it.
      const stateOf = new Map<bigint, (typeof candidates)[number]>(candidates.map((state) => [state.account, state]));
      const auctions = await readers.auctions([...stateOf.keys()], block);
      const views: AccountView[] = auctions.flatMap(({ account, auction, preview }) => {
        const state = stateOf.get(account);
        return state === undefined ? [] : [{ account, state, auction, preview }];
      });
      const decisions = decide(views, {
        minProfit: options.minProfit ?? 0n,
        bidGasCost: options.bidGasCost ?? 0n,
        maxExposure: options.maxExposure ?? maxUint256,
        bidderAccount,
        bidderExcessIM: bidderExcessIM > 0n ? bidderExcessIM : 0n,
        insuranceShareWad,
        cashDecimals: options.cashDecimals,
        maxSlippageWad: options.maxSlippageWad ?? WAD / 1_000n,
      });
      const stillInMarginCall = new Set<bigint>();
      // Sent back to back with consecutive nonces, then the receipts are awaited together,
      // so a tick's transactions can land in the same block.
      await Promise.all(decisions.map((decision) => carryOut(report, decision, block, stillInMarginCall)));
      const checked = new Set<bigint>(states.map((s) => s.account));
      for (const account of inMarginCall)
        if (checked.has(account) && !stillInMarginCall.has(account)) inMarginCall.delete(account);
      return report;
    },
  };
}
