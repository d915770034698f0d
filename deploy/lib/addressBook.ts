import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";

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

/** The repository's `deployments/` folder. */
export const DEPLOYMENTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deployments");

/** Writes `deployments/<chainId>.json` and returns its path. */
export async function writeAddressBook(book: AddressBook, dir = DEPLOYMENTS_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${book.chainId}.json`);
  await writeFile(file, `${JSON.stringify(book, null, 2)}\n`);
  return file;
}

/** Reads `deployments/<chainId>.json`. */
export async function readAddressBook(chainId: number, dir = DEPLOYMENTS_DIR): Promise<AddressBook> {
  return JSON.parse(await readFile(path.join(dir, `${chainId}.json`), "utf8")) as AddressBook;
}
