import { type Address, getAddress, isAddress } from "viem";

import { AddressBookNotFoundError, InvalidAddressBookError, readAddressBook } from "@pledge/sdk";
import { ExitCode, VolSignerError } from "./errors.js";

/** Where `sign` signs for: the oracle and the chain id (undefined: take it from `--rpc`). */
export interface SigningTarget {
  oracle: Address;
  chainId: number | undefined;
}

/**
 * The oracle and chain id of `sign`: by default the address book's `contracts.VolSurfaceOracle`
 * and `chainId`, the book read and schema-checked by the SDK's `readAddressBook` (as the keeper's
 * `--deployment`; with `chainId`, a book for another chain is refused); `oracle` and `chainId`
 * override them, or stand alone for an oracle outside a deployment. Throws `VolSignerError`:
 * INPUT for a missing or malformed book (the SDK's message), USAGE for bad flags.
 *
 * @example
 * const { oracle, chainId } = await resolveSigningTarget({ deployment: "deployments/31337.json" });
 */
export async function resolveSigningTarget(flags: {
  deployment?: string | undefined;
  oracle?: string | undefined;
  chainId?: string | undefined;
}): Promise<SigningTarget> {
  const usage = (message: string): never => {
    throw new VolSignerError(ExitCode.USAGE, message);
  };
  let chainId = flags.chainId === undefined ? undefined : Number(flags.chainId);
  if (chainId !== undefined && (!Number.isSafeInteger(chainId) || chainId <= 0))
    usage(`--chain-id ${flags.chainId} is not a positive integer`);
  let oracle = flags.oracle;
  if (flags.deployment !== undefined) {
    let book;
    try {
      book = await readAddressBook(flags.deployment, chainId);
    } catch (error) {
      if (error instanceof AddressBookNotFoundError || error instanceof InvalidAddressBookError)
        throw new VolSignerError(ExitCode.INPUT, `--deployment: ${error.message}`, { cause: error });
      throw error;
    }
    chainId ??= book.chainId;
    if (oracle === undefined) {
      oracle = book.contracts.VolSurfaceOracle;
      if (oracle === undefined) {
        throw new VolSignerError(
          ExitCode.INPUT,
          `--deployment ${flags.deployment} has no contracts.VolSurfaceOracle (written before the oracle existed): redeploy, or give --oracle <address>`,
        );
      }
    }
  }
  if (oracle === undefined) return usage("give --oracle <address> or --deployment <file>");
  if (!isAddress(oracle, { strict: false })) usage(`--oracle ${oracle} is not an address`);
  return { oracle: getAddress(oracle), chainId };
}
