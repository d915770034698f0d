import { type Address, type LocalAccount, getAddress } from "viem";

import { type VolSurfacePost, signVolSurfacePost } from "@pledge/sdk";
import type { SignedPayload } from "./payload.js";

/**
 * One signer's payload for `post`, signed with the SDK's `signVolSurfacePost` (EIP-712, the
 * oracle's domain on `chainId`).
 *
 * @example
 * const payload = await signPayload(privateKeyToAccount(key), { chainId, oracle, post });
 */
export async function signPayload(
  account: LocalAccount,
  params: { chainId: number; oracle: Address; post: VolSurfacePost },
): Promise<SignedPayload> {
  const { signatures } = await signVolSurfacePost({ signers: [account], ...params });
  return {
    ...params,
    oracle: getAddress(params.oracle),
    signatures: [{ signer: account.address, signature: signatures[0]! }],
  };
}
