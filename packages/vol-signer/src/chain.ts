/** The signer's reads of the VolSurfaceOracle and the poster's send. */
import {
  type Account,
  type Address,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  type PublicClient,
  type Transport,
  type WalletClient,
  getAddress,
} from "viem";

import { type SignedVolSurfacePost, getVolSurface, volSurfaceOracleAbi } from "@pledge/sdk";
import type { OracleContext } from "./buildPost.js";
import type { SurfaceInForce } from "./changeRule.js";
import { ExitCode, VolSignerError } from "./errors.js";

/**
 * A revert as "ErrorName(arg, …)", or the client's short message.
 *
 * @example
 * try { await publicClient.simulateContract(request); } catch (e) { describeRevert(e); } // "VolSurfaceNotNewer(…)"
 */
export function describeRevert(error: unknown): string {
  if (error instanceof BaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data !== undefined) {
      return `${reverted.data.errorName}(${(reverted.data.args ?? []).map(String).join(", ")})`;
    }
    return error.shortMessage;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * What a post is checked against before signing, all read at the latest block: its timestamp, the
 * change ratio, the underlying's live expiries (`liveExpiries`: the cap of 64 and every calendar
 * neighbour) and the surfaces in force (the SDK's `getVolSurface`: stored timestamp and carried
 * confidence) for each of them. Throws `VolSignerError` (CHAIN) when `underlying` is not listed or
 * the oracle cannot be read.
 *
 * @example
 * const oracleState = await readOracleContext(publicClient, { oracle, underlying });
 */
export async function readOracleContext(
  client: PublicClient,
  params: { oracle: Address; underlying: Address },
): Promise<OracleContext> {
  const read = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw new VolSignerError(
        ExitCode.CHAIN,
        `oracle ${params.oracle}: cannot read ${what}: ${describeRevert(error)}`,
      );
    }
  };
  const block = await read("the latest block", () => client.getBlock());
  const at = { blockNumber: block.number } as const;
  const contract = { address: params.oracle, abi: volSurfaceOracleAbi, ...at } as const;
  const listed = await read("isListed", () =>
    client.readContract({ ...contract, functionName: "isListed", args: [params.underlying] }),
  );
  if (!listed)
    throw new VolSignerError(ExitCode.CHAIN, `oracle ${params.oracle}: underlying ${params.underlying} is not listed`);
  const changeRatioWad = await read("changeRatioWad", () =>
    client.readContract({ ...contract, functionName: "changeRatioWad" }),
  );
  const liveExpiries = await read("liveExpiries", () =>
    client.readContract({ ...contract, functionName: "liveExpiries", args: [params.underlying] }),
  );
  // Every live expiry is posted; a quoted one that is not is a first post (nothing in force).
  const surfaces = new Map<bigint, SurfaceInForce>();
  for (const expiry of liveExpiries) {
    const s = await read(`surface(${expiry})`, () =>
      getVolSurface(client, { oracle: params.oracle, underlying: params.underlying, expiry, ...at }),
    );
    surfaces.set(expiry, { params: s.params, timestamp: s.timestamp, confidenceWad: s.confidenceWad });
  }
  return { changeRatioWad, blockTimestamp: block.timestamp, liveExpiries: [...liveExpiries], surfaces };
}

/**
 * Posts a signed post: checks the signers and the quorum, simulates (so a refusal is the
 * oracle's own error, named), sends and waits for the receipt. Throws `VolSignerError` (CHAIN).
 *
 * @example
 * const { hash, gasUsed } = await postSigned(publicClient, walletClient, { oracle, signed, signers });
 */
export async function postSigned(
  publicClient: PublicClient,
  walletClient: WalletClient<Transport, Chain | undefined, Account>,
  params: { oracle: Address; signed: SignedVolSurfacePost; signers: readonly Address[] },
): Promise<{ hash: `0x${string}`; gasUsed: bigint }> {
  const contract = { address: params.oracle, abi: volSurfaceOracleAbi } as const;
  const quorum = await publicClient.readContract({ ...contract, functionName: "quorum" });
  for (const signer of params.signers) {
    if (!(await publicClient.readContract({ ...contract, functionName: "isSigner", args: [signer] }))) {
      throw new VolSignerError(ExitCode.CHAIN, `${getAddress(signer)} is not a signer of oracle ${params.oracle}`);
    }
  }
  if (BigInt(params.signers.length) < quorum) {
    throw new VolSignerError(
      ExitCode.CHAIN,
      `${params.signers.length} signature(s); oracle ${params.oracle} needs a quorum of ${quorum}: collect more payloads`,
    );
  }
  const args = [
    { ...params.signed.post, surfaces: [...params.signed.post.surfaces] },
    params.signed.signatures,
  ] as const;
  let request;
  try {
    ({ request } = await publicClient.simulateContract({
      ...contract,
      functionName: "post",
      args,
      account: walletClient.account,
    }));
  } catch (error) {
    throw new VolSignerError(ExitCode.CHAIN, `the oracle refuses the post: ${describeRevert(error)}`);
  }
  const hash = await walletClient.writeContract(request);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new VolSignerError(ExitCode.CHAIN, `the post ${hash} reverted on chain`);
  return { hash, gasUsed: receipt.gasUsed };
}
