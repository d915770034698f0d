import { type Address, isAddress } from "viem";

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
    InsuranceFund: Address;
  };
  cash: AssetEntry;
  collateral: AssetEntry[];
}

/** The name of a Pledge core contract in an address book. */
export type PledgeContractName = keyof AddressBook["contracts"];

/**
 * Reads `<dir>/<chainId>.json` (Node only) and checks that every core contract address
 * is present and well formed. `dir` defaults to `./deployments` under the working directory.
 *
 * @example
 * const book = await loadAddressBook(31337); // reads ./deployments/31337.json
 * await deposit(walletClient, { publicClient, addressBook: book, account, asset: book.cash.address, amount: 1_000_000n });
 */
export async function loadAddressBook(chainId: number, dir?: string): Promise<AddressBook> {
  // Imported lazily so that bundling the SDK for a browser does not pull in Node built-ins.
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  const file = path.join(dir ?? path.resolve("deployments"), `${chainId}.json`);
  const book = JSON.parse(await readFile(file, "utf8")) as AddressBook;
  if (book.chainId !== chainId) throw new Error(`${file} is for chain ${book.chainId}, not ${chainId}`);
  for (const [name, address] of Object.entries(book.contracts ?? {})) {
    if (!isAddress(address)) throw new Error(`${file}: contracts.${name} is not an address: ${String(address)}`);
  }
  return book;
}
