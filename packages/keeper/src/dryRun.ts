import type { Abi, Address, PublicClient } from "viem";
import type pino from "pino";

import { Outcome, type SendResult, type Sender, errorName, isRevert } from "./executor.js";

/**
 * A sender for `--dry-run`: it simulates each transaction (`eth_estimateGas` against the latest
 * block, as the real sender does) and logs what it would send, but never signs or sends. A
 * simulation that reverts is reported as the real sender would (`simulation_reverted`); one that
 * passes comes back as `dry_run`, which the jobs count as skipped.
 *
 * @example
 * const sender = dryRunSender(publicClient, keeperAddress, log);
 * await sender.send(liquidator, liquidatorAbi, "startAuction", [account]); // { outcome: "dry_run" }
 */
export function dryRunSender(publicClient: PublicClient, from: Address, log: pino.Logger): Pick<Sender, "send"> {
  return {
    async send(address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<SendResult> {
      try {
        const gas = await publicClient.estimateContractGas({
          account: from,
          address,
          abi,
          functionName,
          args,
          blockTag: "latest",
        } as never);
        log.info(
          {
            event: "dryRun",
            to: address,
            functionName,
            args: args.map((arg) => (typeof arg === "bigint" ? arg.toString() : arg)),
            gas: gas.toString(),
          },
          "dry run: would send",
        );
        return { outcome: Outcome.DRY_RUN };
      } catch (error) {
        return {
          outcome: isRevert(error) ? Outcome.SIMULATION_REVERTED : Outcome.RPC_ERROR,
          errorName: errorName(error),
          error,
        };
      }
    },
  } as Pick<Sender, "send">;
}
