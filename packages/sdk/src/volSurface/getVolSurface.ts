import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";

import { volSurfaceOracleAbi } from "../abis/index.js";
import type { PledgeErrorType } from "../errors.js";
import type { ReadClient } from "../internal/actions.js";
import { type SviParams, sviVol } from "../math/sviMath.js";

export interface GetVolSurfaceParameters {
  /** The VolSurfaceOracle's address. */
  oracle: Address;
  underlying: Address;
  /** Unix seconds. */
  expiry: bigint;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

export interface GetVolSurfaceReturnType {
  params: SviParams;
  /** When the signers signed it, unix seconds. */
  timestamp: bigint;
  /** In [0, 1e18]. */
  confidenceWad: bigint;
  /**
   * The implied vol of `strikeWad` at `spotWad` with `secondsToExpiry` left, from this surface,
   * exactly as the oracle's `volAt` computes it.
   */
  volAt(spotWad: bigint, strikeWad: bigint, secondsToExpiry: bigint): bigint;
}

export type GetVolSurfaceErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * The raw-SVI surface in force for (underlying, expiry), with a pure `volAt` that equals the
 * oracle's to the wei. Reverts (`VolSurfaceNotPosted`) when none was posted.
 *
 * @example
 * const surface = await getVolSurface(publicClient, { oracle, underlying: weth, expiry });
 * surface.volAt(2000n * 10n ** 18n, 1800n * 10n ** 18n, expiry - now);
 */
export async function getVolSurface(
  client: ReadClient,
  params: GetVolSurfaceParameters,
): Promise<GetVolSurfaceReturnType> {
  const at = params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber };
  const s = await readContract(client, {
    address: params.oracle,
    abi: volSurfaceOracleAbi,
    functionName: "surface",
    args: [params.underlying, params.expiry],
    ...at,
  });
  const p: SviParams = { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma };
  return {
    params: p,
    timestamp: s.timestamp,
    confidenceWad: s.confidenceWad,
    volAt: (spotWad, strikeWad, secondsToExpiry) => sviVol(p, spotWad, strikeWad, secondsToExpiry),
  };
}
