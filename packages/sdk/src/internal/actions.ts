import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hash,
  type TransactionReceipt,
  type Transport,
  type WriteContractParameters,
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionZeroDataError,
  isAddressEqual,
} from "viem";
import { getChainId, getCode, waitForTransactionReceipt, writeContract } from "viem/actions";

import type { AddressBook, PledgeContractName } from "../addressBook.js";
import {
  ContractNotDeployedError,
  PledgeMissingAddressError,
  PledgeTransactionRevertedError,
  UnknownAssetError,
  WrongChainError,
  decodePledgeError,
} from "../errors.js";

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

/** Where a failed call was made, so that a call to an address without code can be named. */
interface CallContext {
  client: ReadClient;
  addressBook?: AddressBook | undefined;
}

/**
 * Runs `run`, rethrowing any Pledge revert as a typed `PledgeError` (whose message, with the
 * context's address book, names tokens and prints amounts in their units); with a `context`, a
 * call that "returned no data" from an address without code becomes a `ContractNotDeployedError`.
 */
export async function withPledgeErrors<T>(run: () => Promise<T>, context?: CallContext): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const decoded = decodePledgeError(error, { addressBook: context?.addressBook });
    if (decoded) throw decoded;
    if (context) {
      const address = zeroDataAddress(error);
      if (address) await assertCode(context.client, address, describeAddress(context.addressBook, address));
    }
    throw error;
  }
}

/** The called address of a viem "returned no data" error, if `error` is one. */
function zeroDataAddress(error: unknown): Address | undefined {
  if (!(error instanceof BaseError)) return undefined;
  if (!error.walk((e) => e instanceof ContractFunctionZeroDataError)) return undefined;
  const execution = error.walk((e) => e instanceof ContractFunctionExecutionError);
  return execution instanceof ContractFunctionExecutionError ? execution.contractAddress : undefined;
}

/** `address` as the address book names it: "the OptionMarket contract", "the WBTC token". */
function describeAddress(addressBook: AddressBook | undefined, address: Address): string {
  if (addressBook) {
    for (const [name, entry] of Object.entries(addressBook.contracts)) {
      if (isAddressEqual(entry, address)) return `the ${name} contract`;
    }
    for (const asset of [addressBook.cash, ...addressBook.collateral]) {
      if (isAddressEqual(asset.address, address)) return `the ${asset.symbol} token`;
    }
  }
  return "the address called";
}

/** Throws `ContractNotDeployedError` if `address` holds no code. */
export async function assertCode(client: ReadClient, address: Address, what: string): Promise<void> {
  const code = await getCode(client, { address });
  // The chain is asked afresh: the message must name the chain the call really went to.
  if (!code || code === "0x") throw new ContractNotDeployedError(address, what, await getChainId(client));
}

/**
 * Checks, before anything is sent, that `asset` is the address book's cash token or one of its
 * collateral assets (`UnknownAssetError`), and that it holds code (`ContractNotDeployedError`).
 * Without an address book only the code is checked.
 */
export async function assertAsset(client: ReadClient, addressBook: AddressBook | undefined, asset: Address) {
  const listed = addressBook ? [addressBook.cash, ...addressBook.collateral] : [];
  const entry = listed.find((candidate) => isAddressEqual(candidate.address, asset));
  if (addressBook && !entry) throw new UnknownAssetError(asset, listed);
  await assertCode(client, asset, entry ? `the ${entry.symbol} token` : "the asset");
}

/** The chain id each read client's transport answers, asked once per client. */
const chainIds = new WeakMap<ReadClient, Promise<number>>();

/**
 * The chain id `client`'s transport answers (`eth_chainId`), cached per client, except for an
 * EIP-1193 (`custom`) transport: an injected wallet can switch chains under the same client, so
 * it is asked every time.
 */
function chainIdOf(client: ReadClient): Promise<number> {
  if (client.transport.type === "custom") return getChainId(client);
  let chainId = chainIds.get(client);
  if (!chainId) {
    chainId = getChainId(client);
    chainIds.set(client, chainId);
    // A failed request (node down) is not cached: the next call asks again.
    chainId.catch(() => chainIds.delete(client));
  }
  return chainId;
}

/** Throws `WrongChainError` if `client` is not on the address book's chain (no book: no check). */
export async function assertChain(client: ReadClient, addressBook: AddressBook | undefined): Promise<void> {
  if (!addressBook) return;
  const chainId = await chainIdOf(client);
  if (chainId !== addressBook.chainId) throw new WrongChainError(chainId, addressBook.chainId);
}

/**
 * Every read action's body: checks the client's chain against the address book, then runs
 * `run` with Pledge reverts and calls to addresses without code turned into typed errors.
 */
export function pledgeRead<T>(
  client: ReadClient,
  addressBook: AddressBook | undefined,
  run: () => Promise<T>,
): Promise<T> {
  return withPledgeErrors(
    async () => {
      // Without an address book nothing is checked, and the read is issued in the caller's own
      // tick: an `await` here would move it out of a batch (viem's multicall) issued together.
      if (addressBook) await assertChain(client, addressBook);
      return run();
    },
    { client, addressBook },
  );
}

/**
 * Checks, before a write, that the public client and the signer are on the address book's chain.
 * The signer's chain is its `chain` when set (viem checks it against the wallet when sending),
 * else asked of its transport.
 */
export async function assertWriteChain(client: SignerClient, params: WriteParameters): Promise<void> {
  const { addressBook } = params;
  if (!addressBook) return;
  await assertChain(params.publicClient, addressBook);
  const signerChainId = client.chain?.id ?? (await getChainId(client));
  if (signerChainId !== addressBook.chainId) throw new WrongChainError(signerChainId, addressBook.chainId);
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
 * Every write action's body: check both clients' chain against the address book
 * (`WrongChainError`), `simulate` (reads, then `simulateContract` from the signer), send the
 * request, wait for the receipt, and return it with the simulation's result; a Pledge revert
 * anywhere becomes a typed `PledgeError`, a call to an address without code a
 * `ContractNotDeployedError`.
 */
export async function sendSimulated<result>(
  client: SignerClient,
  params: WriteParameters,
  simulate: () => Promise<Simulated<result>>,
): Promise<WriteReturnType<result>> {
  const { publicClient, addressBook } = params;
  return withPledgeErrors(
    async () => {
      await assertWriteChain(client, params);
      const { request, result } = await simulate();
      return { ...(await sendRequest(client, publicClient, request)), result };
    },
    { client: publicClient, addressBook },
  );
}
