import { type Address, isAddress } from "viem";

import { AddressBookNotFoundError, InvalidAddressBookError } from "./errors.js";

/** One listed token in the address book. */
export interface AssetEntry {
  address: Address;
  symbol: string;
  decimals: number;
  /** Chainlink USD feed of the asset; the cash asset is the numeraire and has none. */
  spotFeed?: Address;
  /** Implied-volatility feed, for assets that are option underlyings. */
  volFeed?: Address;
}

/** What `deployments/<chainId>.json` holds: every address a client or keeper needs. */
export interface AddressBook {
  chainId: number;
  deployedAtBlock: string;
  contracts: {
    CollateralVault: Address;
    ChainlinkOracle: Address;
    MarginEngine: Address;
    OptionMarket: Address;
    Liquidator: Address;
    /** The steps after the auction: bare debts covered at par, latent insolvency (issue 16). */
    Backstop: Address;
    InsuranceFund: Address;
    /** The raw-SVI vol-surface oracle (issue 17); absent from books written before it existed. */
    VolSurfaceOracle?: Address;
  };
  cash: AssetEntry;
  collateral: AssetEntry[];
}

/** The name of a Pledge core contract in an address book. */
export type PledgeContractName = keyof AddressBook["contracts"];

const CONTRACT_NAMES: readonly PledgeContractName[] = [
  "CollateralVault",
  "ChainlinkOracle",
  "MarginEngine",
  "OptionMarket",
  "Liquidator",
  "Backstop",
  "InsuranceFund",
];

/**
 * Reads `<dir>/<chainId>.json` (Node only) and checks its shape: the chain id, the deployment
 * block, every core contract address, the cash asset and each collateral asset. `dir` defaults to
 * `./deployments` under the working directory. A missing file throws `AddressBookNotFoundError`
 * (`npm run deploy -- --network <name>` writes it); malformed JSON, a missing field or a bad
 * address throws `InvalidAddressBookError`.
 *
 * @example
 * try {
 *   const book = await loadAddressBook(31337);
 *   console.log(book.contracts.OptionMarket);
 * } catch (error) {
 *   if (error instanceof AddressBookNotFoundError) console.error(error.message);
 *   else throw error;
 * }
 */
export async function loadAddressBook(chainId: number, dir?: string): Promise<AddressBook> {
  const path = await import("node:path");
  return readAddressBook(path.resolve(dir ?? "deployments", `${chainId}.json`), chainId);
}

/**
 * Reads the address book at `file` (Node only), whatever its name, and checks its shape as
 * `loadAddressBook` does. With `chainId`, the book must be for that chain; without, any positive
 * chain id is accepted (compare `book.chainId` with the client's `eth_chainId` yourself, or let
 * the actions raise `WrongChainError`). A missing file throws `AddressBookNotFoundError`; malformed
 * JSON, a missing field or a bad address throws `InvalidAddressBookError`.
 *
 * @example
 * // Any file name (a keeper's --deployment); with a chain id, a book for another chain is refused.
 * const book = await readAddressBook("./deployments/31337.json", await publicClient.getChainId());
 * book.contracts.OptionMarket === addressBook.contracts.OptionMarket; // true
 */
export async function readAddressBook(file: string, chainId?: number): Promise<AddressBook> {
  // Imported lazily so that bundling the SDK for a browser does not pull in Node built-ins.
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR")
      throw new AddressBookNotFoundError(file, chainId ?? chainIdInName(file), { cause: error });
    throw error;
  }
  let book: unknown;
  try {
    book = JSON.parse(text);
  } catch (error) {
    throw new InvalidAddressBookError(file, `it is not JSON (${(error as Error).message})`, { cause: error });
  }
  const problem = addressBookProblem(book, chainId);
  if (problem) throw new InvalidAddressBookError(file, problem);
  return book as AddressBook;
}

/** The chain id in a `<chainId>.json` file name, or undefined. */
function chainIdInName(file: string): number | undefined {
  const match = /(\d+)\.json$/.exec(file);
  return match ? Number(match[1]) : undefined;
}

/** What is wrong with `book` as the address book of `chainId` (any chain when undefined), or undefined if nothing. */
function addressBookProblem(book: unknown, chainId: number | undefined): string | undefined {
  if (!isRecord(book)) return "it is not a JSON object";
  if (chainId === undefined) {
    if (!Number.isSafeInteger(book.chainId) || (book.chainId as number) <= 0)
      return `chainId should be a positive integer, and is ${JSON.stringify(book.chainId)}`;
  } else if (book.chainId !== chainId) return `it is for chain ${String(book.chainId)}, not ${chainId}`;
  if (typeof book.deployedAtBlock !== "string" || !/^\d+$/.test(book.deployedAtBlock)) {
    return `deployedAtBlock should be a block number in a string, and is ${JSON.stringify(book.deployedAtBlock)}`;
  }
  if (!isRecord(book.contracts)) return "contracts is missing";
  for (const name of CONTRACT_NAMES) {
    const address = book.contracts[name];
    if (address === undefined) return `contracts.${name} is missing`;
    if (typeof address !== "string" || !isAddress(address))
      return `contracts.${name} is not an address: ${String(address)}`;
  }
  const surface = book.contracts.VolSurfaceOracle;
  if (surface !== undefined && (typeof surface !== "string" || !isAddress(surface)))
    return `contracts.VolSurfaceOracle is not an address: ${String(surface)}`;
  const cashProblem = assetProblem(book.cash, "cash");
  if (cashProblem) return cashProblem;
  if (!Array.isArray(book.collateral)) return "collateral should be a list of assets";
  for (const [i, entry] of book.collateral.entries()) {
    const entryProblem = assetProblem(entry, `collateral[${i}]`);
    if (entryProblem) return entryProblem;
  }
  return undefined;
}

function assetProblem(entry: unknown, where: string): string | undefined {
  if (!isRecord(entry)) return `${where} is missing`;
  if (typeof entry.address !== "string" || !isAddress(entry.address)) {
    return `${where}.address is not an address: ${String(entry.address)}`;
  }
  if (typeof entry.symbol !== "string" || entry.symbol === "") return `${where}.symbol is missing`;
  if (!Number.isInteger(entry.decimals)) return `${where}.decimals is missing`;
  // The protocol's one cash convention takes 0 to 36 decimals (CashUnits); nothing else is a token.
  const decimals = entry.decimals as number;
  if (decimals < 0 || decimals > 36) return `${where}.decimals is ${decimals}, outside 0 to 36`;
  for (const feed of ["spotFeed", "volFeed"] as const) {
    const value = entry[feed];
    if (value !== undefined && (typeof value !== "string" || !isAddress(value))) {
      return `${where}.${feed} is not an address: ${String(value)}`;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
