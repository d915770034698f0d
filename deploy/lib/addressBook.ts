import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { AddressBook } from "../../packages/sdk/src/addressBook.js";

// The type lives in the SDK (clients and keepers read the book); deployment only writes it.
export type { AddressBook, AssetEntry } from "../../packages/sdk/src/addressBook.js";

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
