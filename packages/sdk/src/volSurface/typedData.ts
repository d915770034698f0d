import type { Address, Hex } from "viem";

import type { SviParams } from "../math/sviMath.js";

/** One expiry's smile in a post, field for field as `IVolSurfaceOracle.SurfaceInput` (WAD). */
export interface VolSurfaceInput extends SviParams {
  /** Unix seconds, 08:00 UTC of a day (the series grid). */
  expiry: bigint;
  /**
   * In [0, 1e18], a multiple of 1e9; lower confidence widens the bounded-change rule
   * (`sviAllowedChangeRatioOver`). The oracle stores it carried forward: at most the previous
   * surface's confidence + 1 per hour elapsed (`sviCarriedConfidence`). a, b, rho, m, sigma must be multiples of 1e8
   * (`quantizeVolSurfaceInput`).
   */
  confidence: bigint;
}

/** A post, as `IVolSurfaceOracle.SurfacePost`: one underlying, one signing time, 1–64 expiries. */
export interface VolSurfacePost {
  underlying: Address;
  /**
   * Unix seconds when signed: strictly newer than each surface in force, at most 1 h old, and never
   * after the block the post lands in (the oracle refuses it `VolSurfaceFutureTimestamp`): sign a
   * few seconds in the past, e.g. the latest block's timestamp.
   */
  timestamp: bigint;
  surfaces: readonly VolSurfaceInput[];
}

/** EIP-712 types of a post, as the oracle hashes them. */
export const volSurfaceTypes = {
  SurfacePost: [
    { name: "underlying", type: "address" },
    { name: "timestamp", type: "uint256" },
    { name: "surfaces", type: "Surface[]" },
  ],
  Surface: [
    { name: "expiry", type: "uint256" },
    { name: "a", type: "int256" },
    { name: "b", type: "int256" },
    { name: "rho", type: "int256" },
    { name: "m", type: "int256" },
    { name: "sigma", type: "int256" },
    { name: "confidence", type: "uint256" },
  ],
} as const;

/**
 * The EIP-712 domain of a VolSurfaceOracle deployment. The chain id and the oracle's address
 * make a signature useless on any other chain or contract.
 *
 * @example
 * const domain = volSurfaceDomain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
 * domain.name === "Pledge VolSurfaceOracle";
 */
export function volSurfaceDomain(chainId: number, oracle: Address) {
  return { name: "Pledge VolSurfaceOracle", version: "1", chainId, verifyingContract: oracle } as const;
}

/**
 * The full typed-data object of a post, ready for `signTypedData` or `hashTypedData`.
 *
 * @example
 * import { hashTypedData } from "viem";
 * const post = {
 *   underlying: "0x00000000000000000000000000000000000000e7",
 *   timestamp: 1_700_000_000n,
 *   surfaces: [{ expiry: 1_702_800_000n, a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n, confidence: 10n ** 18n }],
 * } as const;
 * const digest = hashTypedData(volSurfaceTypedData(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3", post));
 */
export function volSurfaceTypedData(chainId: number, oracle: Address, post: VolSurfacePost) {
  return {
    domain: volSurfaceDomain(chainId, oracle),
    types: volSurfaceTypes,
    primaryType: "SurfacePost",
    message: { underlying: post.underlying, timestamp: post.timestamp, surfaces: [...post.surfaces] },
  } as const;
}

/** A post with the signatures of its signers, sorted by signer address as the oracle requires. */
export interface SignedVolSurfacePost {
  post: VolSurfacePost;
  signatures: Hex[];
}
