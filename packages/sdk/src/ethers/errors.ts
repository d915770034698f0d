import { isError } from "ethers";

import { PledgeError, decodePledgeError } from "../errors.js";

/**
 * Turns an ethers v6 error into the SDK's `PledgeError`, with the same sentence viem users
 * get. A contract's own `interface.parseError` only knows that contract's errors, so a
 * revert bubbled from another contract (the vault refusing a withdrawal because the
 * engine's margin check failed, say) shows in ethers as "unknown custom error"; this
 * decodes the revert data against every Pledge contract's errors instead. Returns
 * undefined when the error carries no Pledge revert (a panic, a string revert, a network
 * failure), so `throw decodePledgeErrorEthers(error) ?? error` keeps the original.
 *
 * @example
 * // What ethers throws for `vault.deposit(account, weth, 0n)`:
 * const error = { code: "CALL_EXCEPTION", data: "0xa3e24d66" };
 * decodePledgeErrorEthers(error)?.message; // "The amount is zero: deposit, withdraw or move a positive amount"
 * // In an app (`vault` from CollateralVault__factory.connect):
 * // try { await vault.withdraw(account, weth, amount, to); } catch (e) { throw decodePledgeErrorEthers(e) ?? e; }
 */
export function decodePledgeErrorEthers(error: unknown): PledgeError | undefined {
  const data = revertData(error);
  if (data === undefined) return undefined;
  const decoded = decodePledgeError(data);
  if (!decoded) return undefined;
  // Re-created with the ethers error as its cause, so the transaction and receipt stay reachable.
  return new PledgeError({ errorName: decoded.errorName, args: decoded.args, data: decoded.data, cause: error });
}

/**
 * The revert data of an ethers error: `data` of a `CALL_EXCEPTION` (what `staticCall`,
 * `estimateGas` and a contract write's simulation throw), else the JSON-RPC error nested in
 * `info.error` or `error`, as providers other than ethers' own report it.
 */
function revertData(error: unknown): string | undefined {
  if (isError(error, "CALL_EXCEPTION") && isRevertData(error.data)) return error.data;
  const seen = new Set<unknown>();
  const visit = (e: unknown): string | undefined => {
    if (typeof e !== "object" || e === null || seen.has(e)) return undefined;
    seen.add(e);
    const record = e as { data?: unknown; info?: { error?: unknown }; error?: unknown; cause?: unknown };
    if (isRevertData(record.data)) return record.data;
    if (typeof record.data === "object" && record.data !== null) {
      const nested = (record.data as { data?: unknown }).data;
      if (isRevertData(nested)) return nested;
    }
    return visit(record.info?.error) ?? visit(record.error) ?? visit(record.cause);
  };
  return visit(error);
}

function isRevertData(value: unknown): value is string {
  return typeof value === "string" && /^0x[0-9a-fA-F]{8}(?:[0-9a-fA-F]{2})*$/.test(value);
}
