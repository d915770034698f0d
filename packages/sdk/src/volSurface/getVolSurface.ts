import type { Address, ReadContractErrorType } from "viem";

import type { AddressBook } from "../addressBook.js";
import { readContract } from "viem/actions";

import { volSurfaceOracleAbi } from "../abis/index.js";
import type { PledgeErrorType } from "../errors.js";
import { type ReadClient, contractAddress } from "../internal/actions.js";
import { type SviParams, sviVol } from "../math/sviMath.js";
import { type VolSurfaceMarkVolReturnType, volSurfaceMarkVol } from "./markVol.js";

export interface GetVolSurfaceParameters {
  /** The deployment: the oracle is `addressBook.contracts.VolSurfaceOracle`, like other reads. */
  addressBook?: AddressBook | undefined;
  /** An explicit VolSurfaceOracle address, which wins over the book's (e.g. a standalone oracle). */
  oracle?: Address | undefined;
  underlying: Address;
  /** Unix seconds. */
  expiry: bigint;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

export interface GetVolSurfaceReturnType {
  params: SviParams;
  /** When the signers signed it, capped at the block time it landed in (never in the future), unix seconds. */
  timestamp: bigint;
  /** The carried confidence, in [0, 1e18]: min(signed, previous + 1 per hour) (`sviCarriedConfidence`). */
  confidenceWad: bigint;
  /**
   * The implied vol of `strikeWad` at `spotWad` from this surface, annualised over
   * `secondsToExpiry`. The oracle's `volAt` is the posted annualised vol, over the time to expiry
   * from the surface's timestamp (rv17d V1: it does not drift between posts), so
   * `secondsToExpiry = expiry − timestamp`, the default, equals it to the wei.
   */
  volAt(spotWad: bigint, strikeWad: bigint, secondsToExpiry?: bigint): bigint;
  /**
   * From when the surface marks, unix seconds: its first post's landing block + 1 h, rounded up to
   * `VOL_SURFACE_MATURITY_STEP` (`volSurfaceMaturesAt`); once that had passed by a later post, that
   * post's timestamp rounded down to the step.
   */
  maturesAt: bigint;
  /** Whether the surface was mature (may mark) at the block read: its time ≥ `maturesAt`. */
  mature: boolean;
  /**
   * The oracle's `markVol` for this surface in a block at `blockTimestamp`, to the wei, for a
   * listed underlying (`volSurfaceMarkVol`): zeros once `blockTimestamp` ≥ expiry.
   */
  markVol(spotWad: bigint, strikeWad: bigint, blockTimestamp: bigint): VolSurfaceMarkVolReturnType;
}

export type GetVolSurfaceErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * The raw-SVI surface in force for (underlying, expiry), with a pure `volAt` that equals the
 * oracle's to the wei. The oracle is the address book's `VolSurfaceOracle` unless `oracle` is
 * given; a book without one (written before the oracle existed) and no `oracle` throws
 * `PledgeMissingAddressError`. Reverts
 * (`VolSurfaceNotPosted`) when no surface was posted.
 *
 * @example
 * const surface = await getVolSurface(publicClient, { addressBook, underlying: weth, expiry });
 * const [vol] = await publicClient.readContract({ address: addressBook.contracts.VolSurfaceOracle!, abi: volSurfaceOracleAbi, functionName: "volAt", args: [weth, expiry, 2000n * 10n ** 18n, 1800n * 10n ** 18n] });
 * surface.volAt(2000n * 10n ** 18n, 1800n * 10n ** 18n, expiry - surface.timestamp) === vol; // true: the posted vol
 * surface.mature; // false in the hour after the expiry's first post landed: it does not mark yet
 * surface.markVol(2000n * 10n ** 18n, 1800n * 10n ** 18n, surface.maturesAt).mature; // true
 */
export async function getVolSurface(
  client: ReadClient,
  params: GetVolSurfaceParameters,
): Promise<GetVolSurfaceReturnType> {
  const at = params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber };
  const oracle = contractAddress(params.oracle, params.addressBook, "VolSurfaceOracle");
  const s = await readContract(client, {
    address: oracle,
    abi: volSurfaceOracleAbi,
    functionName: "surface",
    args: [params.underlying, params.expiry],
    ...at,
  });
  const p: SviParams = { a: s.a, b: s.b, rho: s.rho, m: s.m, sigma: s.sigma };
  const state = { params: p, timestamp: s.timestamp, confidenceWad: s.confidenceWad, maturesAt: s.maturesAt };
  return {
    ...state,
    mature: s.mature,
    volAt: (spotWad, strikeWad, secondsToExpiry = params.expiry - s.timestamp) =>
      sviVol(p, spotWad, strikeWad, secondsToExpiry),
    markVol: (spotWad, strikeWad, blockTimestamp) =>
      volSurfaceMarkVol({ surface: state, expiry: params.expiry, spotWad, strikeWad, blockTimestamp, listed: true }),
  };
}
