import { BaseError, ContractFunctionRevertedError } from "viem";

/**
 * The read's value, or `fallback` if the contract reverted (a stale price, an unlisted index);
 * transport and other errors propagate, so a caller's retry still sees them.
 */
export async function orOnRevert<T, F>(read: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError)) return fallback;
    throw error;
  }
}
