import type { Abi, WatchContractEventReturnType } from "viem";
import { watchContractEvent } from "viem/actions";

import type { PledgeContractName } from "../../addressBook.js";
import { type ReadClient, assertChain, contractAddress } from "../../internal/actions.js";
import { type PledgeEventName, pledgeAbis } from "../../pledgeAbis.js";
import type { PledgeEventFilter, PledgeEventLog } from "./getPledgeEvents.js";

export interface WatchPledgeEventsParameters<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
> extends PledgeEventFilter<contract, eventName> {
  /** Called with each batch of new decoded logs, in chain order. */
  onLogs: (logs: PledgeEventLog<contract, eventName>[]) => void;
  /** Called when a poll or subscription fails, or when the client is on another chain. */
  onError?: ((error: Error) => void) | undefined;
  /** Also deliver logs from this block on (polling only). */
  fromBlock?: bigint | undefined;
  /** Poll instead of subscribing (default: subscribe over WebSocket, poll over HTTP). */
  poll?: true | undefined;
  /** Milliseconds between polls (default: the client's `pollingInterval`). */
  pollingInterval?: number | undefined;
}

/** Stops watching. */
export type WatchPledgeEventsReturnType = WatchContractEventReturnType;

/**
 * Calls `onLogs` with each new decoded log of one Pledge contract (typed by contract and event,
 * as `getPledgeEvents` types them) until the returned function is called. A client on another
 * chain than the address book's is reported to `onError` (a `WrongChainError`) and stops the watch.
 *
 * @example
 * const unwatch = watchPledgeEvents(publicClient, {
 *   addressBook,
 *   contract: "OptionMarket",
 *   eventName: "OrderFilled",
 *   onLogs: (logs) => logs.forEach((log) => console.log(log.args.maker, log.args.makerDelta)),
 *   onError: (error) => console.error(error.message),
 * });
 * unwatch();
 */
export function watchPledgeEvents<
  contract extends PledgeContractName,
  eventName extends PledgeEventName<contract> | undefined = undefined,
>(client: ReadClient, params: WatchPledgeEventsParameters<contract, eventName>): WatchPledgeEventsReturnType {
  const address = contractAddress(params.address, params.addressBook, params.contract);
  const abi: Abi = pledgeAbis[params.contract];
  let stopped = false;
  const unwatch = watchContractEvent(client, {
    address,
    abi,
    eventName: params.eventName,
    args: params.args as never,
    strict: true,
    onLogs: (logs) => {
      if (!stopped) params.onLogs(logs as unknown as PledgeEventLog<contract, eventName>[]);
    },
    onError: params.onError,
    ...(params.fromBlock === undefined ? {} : { fromBlock: params.fromBlock }),
    ...(params.poll ? { poll: true as const } : {}),
    ...(params.pollingInterval === undefined ? {} : { pollingInterval: params.pollingInterval }),
  });
  const stop = () => {
    stopped = true;
    unwatch();
  };
  assertChain(client, params.addressBook).catch((error: Error) => {
    stop();
    params.onError?.(error);
  });
  return stop;
}
