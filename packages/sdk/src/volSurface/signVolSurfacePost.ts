import type { Address, Hex, LocalAccount } from "viem";
import { recoverTypedDataAddress } from "viem";

import { type VolSurfacePost, volSurfaceTypedData } from "./typedData.js";

export interface SignVolSurfacePostParameters {
  /** The signers' accounts (local keys); their signatures come back sorted by address. */
  signers: readonly LocalAccount[];
  /** The VolSurfaceOracle's address (the EIP-712 verifying contract). */
  oracle: Address;
  chainId: number;
  post: VolSurfacePost;
}

export interface SignVolSurfacePostReturnType {
  post: VolSurfacePost;
  /** One signature per signer, in strictly increasing signer-address order. */
  signatures: Hex[];
}

/**
 * Sign a vol-surface post with each signer and return the signatures in the order the oracle
 * accepts (strictly increasing signer address). Check the surfaces first with
 * `sviCheckAdmissible`; the oracle refuses an inadmissible one with the same error.
 *
 * @example
 * import { privateKeyToAccount } from "viem/accounts";
 * const signers = [privateKeyToAccount("0x" + "11".repeat(32)), privateKeyToAccount("0x" + "22".repeat(32))];
 * const { signatures } = await signVolSurfacePost({
 *   signers,
 *   oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
 *   chainId: 31337,
 *   post: {
 *     underlying: "0x00000000000000000000000000000000000000e7",
 *     timestamp: 1_700_000_000n,
 *     surfaces: [{ expiry: 1_702_800_000n, a: 2n * 10n ** 16n, b: 10n ** 17n, rho: -3n * 10n ** 17n, m: 0n, sigma: 2n * 10n ** 17n, confidence: 10n ** 18n }],
 *   },
 * });
 * signatures.length === 2;
 */
export async function signVolSurfacePost(params: SignVolSurfacePostParameters): Promise<SignVolSurfacePostReturnType> {
  const typed = volSurfaceTypedData(params.chainId, params.oracle, params.post);
  const sorted = [...params.signers].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1));
  const signatures = await Promise.all(sorted.map((signer) => signer.signTypedData(typed)));
  // Guard against a signer whose key does not match its address (a misconfigured remote signer).
  for (let i = 0; i < signatures.length; i++) {
    const recovered = await recoverTypedDataAddress({ ...typed, signature: signatures[i]! });
    if (recovered.toLowerCase() !== sorted[i]!.address.toLowerCase())
      throw new Error(`Signature ${i} recovers to ${recovered}, not its signer ${sorted[i]!.address}`);
  }
  return { post: params.post, signatures };
}
