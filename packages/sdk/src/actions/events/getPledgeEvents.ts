import type { Abi, Address, ContractEventArgs, GetLogsErrorType, Log } from "viem";
import { getBlockNumber, getContractEvents } from "viem/actions";

import type { AddressBook, PledgeContractName } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, contractAddress, pledgeRead } from "../../internal/actions.js";
import { type PledgeAbi, type PledgeEventName, pledgeAbis } from "../../pledgeAbis.js";

/** Blocks per `eth_getLogs` request unless `chunkSize` says otherwise: under the common RPC caps. */
export const DEFAULT_LOG_CHUNK_SIZE = 2_000n;

/** The decoded args filter of `eventName` (or of any event of `contract`), as viem types it. */
export type PledgeEventArgs<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined,
> = ContractEventArgs<
  PledgeAbi<contract>,
  eventName extends PledgeEventName<contract> ? eventName : PledgeEventName<contract>
>;

/**
 * One decoded log of `contract`: `eventName` and `args` typed by the event (a union over the
 * contract's events when no name is given), with the block, transaction and log index.
 */
export type PledgeEventLog<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
> = Log<bigint, number, false, undefined, true, PledgeAbi<contract>, eventName>;

/** Which logs: a contract (by its address book name or `address`), one event or all, indexed arguments. */
export interface PledgeEventFilter<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
> {
  /** The contract whose events to read or watch, by its address book name. */
  contract: contract;
  /** One event (default: every event of the contract). */
  eventName?: eventName | undefined;
  /** Filter on indexed arguments, e.g. `{ account }`. */
  args?: PledgeEventArgs<contract, eventName> | undefined;
  /** The contract's address, instead of the address book's. */
  address?: Address | undefined;
  addressBook?: AddressBook | undefined;
}

export interface GetPledgeEventsParameters<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
> extends PledgeEventFilter<contract, eventName> {
  /** First block (default: the address book's `deployedAtBlock`, else 0). */
  fromBlock?: bigint | undefined;
  /** Last block, inclusive (default: the latest). */
  toBlock?: bigint | undefined;
  /** Blocks per `eth_getLogs` request (default `DEFAULT_LOG_CHUNK_SIZE`), for RPCs that cap the range. */
  chunkSize?: bigint | undefined;
}

export type GetPledgeEventsReturnType<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
> = PledgeEventLog<contract, eventName>[];

export type GetPledgeEventsErrorType = PledgeErrorType | GetLogsErrorType;

/**
 * The decoded logs of one Pledge contract over a block range, in chain order, read in
 * `chunkSize`-block requests so that RPCs capping `eth_getLogs` still answer. Typed by contract
 * and event: `log.args` of a `Deposited` log has `account`, `asset`, `from` and `amount`.
 *
 * Read `BadDebtIncurred` from the Backstop, through which every payment of the liquidation
 * waterfall goes (an insolvent bid's, a bare debt's, a takeover's). It does not cover the
 * permissionless settlement of a short the insurance fund holds past its cash: for every write-off,
 * whatever the path, read the CollateralVault's `LossSocialized` (docs/backstop.md). And note one
 * event that spans two contracts
 * (docs/liquidation.md, "Events"): the Liquidator's `AuctionEnded(account, false)` means "not taken whole by a bid": after
 * the Backstop's `DebtAbsorbed(account, …)` in the same transaction the account was emptied of
 * its debt, not restored above maintenance.
 *
 * @example
 * const deposits = await getPledgeEvents(publicClient, {
 *   addressBook,
 *   contract: "CollateralVault",
 *   eventName: "Deposited",
 *   args: { account },
 * });
 * for (const log of deposits) console.log(log.blockNumber, log.args.asset, log.args.amount);
 */
export async function getPledgeEvents<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
>(
  client: ReadClient,
  params: GetPledgeEventsParameters<contract, eventName>,
): Promise<GetPledgeEventsReturnType<contract, eventName>> {
  const address = contractAddress(params.address, params.addressBook, params.contract);
  const chunkSize = params.chunkSize ?? DEFAULT_LOG_CHUNK_SIZE;
  if (chunkSize <= 0n) throw new RangeError(`chunkSize must be a positive number of blocks, not ${chunkSize}`);
  const abi: Abi = pledgeAbis[params.contract];
  return pledgeRead(client, params.addressBook, async () => {
    const fromBlock = params.fromBlock ?? BigInt(params.addressBook?.deployedAtBlock ?? 0);
    const toBlock = params.toBlock ?? (await getBlockNumber(client, { cacheTime: 0 }));
    if (fromBlock > toBlock) {
      throw new RangeError(`fromBlock ${fromBlock} is after toBlock ${toBlock}: the range holds no block; swap them`);
    }
    const logs: unknown[] = [];
    for (let start = fromBlock; start <= toBlock; start += chunkSize) {
      const end = start + chunkSize - 1n < toBlock ? start + chunkSize - 1n : toBlock;
      const chunk = await getContractEvents(client, {
        address,
        abi,
        eventName: params.eventName,
        args: params.args as never,
        strict: true,
        fromBlock: start,
        toBlock: end,
      });
      logs.push(...chunk);
    }
    return logs as GetPledgeEventsReturnType<contract, eventName>;
  });
}
