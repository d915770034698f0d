import type {
  Abi,
  Account,
  Address,
  Chain,
  Client,
  Hash,
  TransactionReceipt,
  Transport,
  WriteContractParameters,
} from "viem";
import { waitForTransactionReceipt, writeContract } from "viem/actions";

import type { AddressBook, PledgeContractName } from "../addressBook.js";
import { PledgeMissingAddressError, PledgeTransactionRevertedError, decodePledgeError } from "../errors.js";

/** A client that reads: a viem `PublicClient`, or any client with a public transport. */
export type ReadClient = Client<Transport, Chain | undefined>;

/** A client that signs and sends: a viem `WalletClient` with a hoisted account. */
export type SignerClient = Client<Transport, Chain | undefined, Account>;

/** What every write action takes besides its own arguments. */
export interface WriteParameters {
  /** Simulates the call before sending and waits for the receipt. */
  publicClient: ReadClient;
  /** Where contract addresses come from when not passed one by one. */
  addressBook?: AddressBook | undefined;
}

/** What every write action returns. */
export interface WriteReturnType<result> {
  hash: Hash;
  receipt: TransactionReceipt;
  /** The function's return value, from the simulation. */
  result: result;
}

/** `given`, else the address book's entry, else a typed error. */
export function contractAddress(
  given: Address | undefined,
  addressBook: AddressBook | undefined,
  name: PledgeContractName,
): Address {
  const address = given ?? addressBook?.contracts[name];
  if (!address) throw new PledgeMissingAddressError(name);
  return address;
}

/**
 * Runs `run`, rethrowing any Pledge revert as a typed `PledgeError`; with an `addressBook`, its
 * message names tokens and prints amounts in their units.
 */
export async function withPledgeErrors<T>(run: () => Promise<T>, addressBook?: AddressBook): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw decodePledgeError(error, { addressBook }) ?? error;
  }
}

/** Waits for `hash` and throws if it reverted. */
export async function confirm(publicClient: ReadClient, hash: Hash): Promise<TransactionReceipt> {
  const receipt = await waitForTransactionReceipt(publicClient, { hash });
  if (receipt.status !== "success") throw new PledgeTransactionRevertedError(hash);
  return receipt;
}

/** What `simulateContract` answers: the request to send and the function's return value. */
export interface Simulated<result> {
  request: WriteContractParameters<Abi, string, readonly unknown[]>;
  result: result;
}

/** Sends a simulated `request` from `client` and waits for its receipt (a revert throws). */
export async function sendRequest(
  client: SignerClient,
  publicClient: ReadClient,
  request: Simulated<unknown>["request"],
): Promise<{ hash: Hash; receipt: TransactionReceipt }> {
  const hash = await writeContract(client, { ...request, chain: client.chain });
  return { hash, receipt: await confirm(publicClient, hash) };
}

/**
 * Every write action's body: `simulate` (reads, then `simulateContract` from the signer), send
 * the request, wait for the receipt, and return it with the simulation's result; a Pledge revert
 * anywhere becomes a typed `PledgeError`. Given the action's parameters rather than a bare
 * public client, the error's message names tokens from their `addressBook`.
 */
export async function sendSimulated<result>(
  client: SignerClient,
  via: ReadClient | WriteParameters,
  simulate: () => Promise<Simulated<result>>,
): Promise<WriteReturnType<result>> {
  const { publicClient, addressBook } = "publicClient" in via ? via : { publicClient: via, addressBook: undefined };
  return withPledgeErrors(async () => {
    const { request, result } = await simulate();
    return { ...(await sendRequest(client, publicClient, request)), result };
  }, addressBook);
}
