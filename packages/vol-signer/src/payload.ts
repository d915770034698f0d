/**
 * The signed-payload file a signer hands to a poster, and the merge of several signers' payloads
 * into one post with a quorum of signatures (README, "Payload files").
 */
import { type Address, type Hex, getAddress, hashTypedData, isAddress, isHex, recoverTypedDataAddress } from "viem";

import { type SignedVolSurfacePost, type VolSurfacePost, volSurfaceTypedData } from "@pledge/sdk";
import { ExitCode, VolSignerError } from "./errors.js";

export const PAYLOAD_KIND = "pledge-vol-surface-post";

/** One or more signatures of one post for one oracle on one chain. */
export interface SignedPayload {
  chainId: number;
  oracle: Address;
  post: VolSurfacePost;
  signatures: { signer: Address; signature: Hex }[];
}

/**
 * The payload as JSON (bigints as decimal strings).
 *
 * @example
 * await writeFile("payload.json", payloadToJson(payload));
 */
export function payloadToJson(payload: SignedPayload): string {
  return `${JSON.stringify({ kind: PAYLOAD_KIND, version: 1, ...payload }, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

/**
 * Parses a payload file strictly; `VolSignerError` (INPUT) naming `file` and the field otherwise.
 *
 * @example
 * const payload = parsePayload(await readFile("alice.json", "utf8"), "alice.json");
 */
export function parsePayload(text: string, file: string): SignedPayload {
  const bad = (what: string): never => {
    throw new VolSignerError(ExitCode.INPUT, `${file}: ${what}`);
  };
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    return bad(`not JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || data.kind !== PAYLOAD_KIND)
    return bad(`not a signed vol-surface payload (kind must be "${PAYLOAD_KIND}")`);
  if (data.version !== 1) return bad(`payload version ${String(data.version)}; this signer reads version 1`);
  const int = (value: unknown, what: string, signed = false): bigint =>
    typeof value === "string" && (signed ? /^-?\d+$/ : /^\d+$/).test(value)
      ? BigInt(value)
      : bad(`${what} is not an integer string`);
  const address = (value: unknown, what: string): Address =>
    typeof value === "string" && isAddress(value, { strict: false })
      ? getAddress(value)
      : bad(`${what} is not an address`);
  if (typeof data.chainId !== "number" || !Number.isSafeInteger(data.chainId) || data.chainId <= 0)
    return bad("chainId is not a positive integer");
  const post = data.post as Record<string, unknown> | undefined;
  if (typeof post !== "object" || post === null || !Array.isArray(post.surfaces))
    return bad("post.surfaces is missing");
  const surfaces = post.surfaces.map((s: Record<string, unknown>, i: number) => ({
    expiry: int(s?.expiry, `post.surfaces[${i}].expiry`),
    a: int(s?.a, `post.surfaces[${i}].a`, true),
    b: int(s?.b, `post.surfaces[${i}].b`, true),
    rho: int(s?.rho, `post.surfaces[${i}].rho`, true),
    m: int(s?.m, `post.surfaces[${i}].m`, true),
    sigma: int(s?.sigma, `post.surfaces[${i}].sigma`, true),
    confidence: int(s?.confidence, `post.surfaces[${i}].confidence`),
  }));
  if (!Array.isArray(data.signatures) || data.signatures.length === 0) return bad("no signatures");
  return {
    chainId: data.chainId,
    oracle: address(data.oracle, "oracle"),
    post: {
      underlying: address(post.underlying, "post.underlying"),
      timestamp: int(post.timestamp, "post.timestamp"),
      surfaces,
    },
    signatures: data.signatures.map((entry: Record<string, unknown>, i: number) => {
      const signature = entry?.signature;
      if (typeof signature !== "string" || !isHex(signature) || signature.length !== 132)
        return bad(`signatures[${i}].signature is not 65 bytes of hex`);
      return { signer: address(entry.signer, `signatures[${i}].signer`), signature };
    }),
  };
}

/**
 * Merges payloads of the same post (same chain, oracle and digest) into one signed post: every
 * signature is checked to recover to its stated signer, duplicates are dropped, and signatures
 * are sorted by signer address as the oracle requires.
 *
 * @example
 * const { chainId, oracle, signed } = await mergePayloads([alice, bob]);
 */
export async function mergePayloads(
  payloads: readonly { file: string; payload: SignedPayload }[],
): Promise<{ chainId: number; oracle: Address; signed: SignedVolSurfacePost; signers: Address[] }> {
  if (payloads.length === 0) throw new VolSignerError(ExitCode.INPUT, "no payload files");
  const first = payloads[0]!;
  const typed = (p: SignedPayload) => volSurfaceTypedData(p.chainId, p.oracle, p.post);
  const digest = hashTypedData(typed(first.payload));
  const bySigner = new Map<string, { signer: Address; signature: Hex }>();
  for (const { file, payload } of payloads) {
    if (
      payload.chainId !== first.payload.chainId ||
      payload.oracle.toLowerCase() !== first.payload.oracle.toLowerCase()
    ) {
      throw new VolSignerError(
        ExitCode.INPUT,
        `${file}: signed for oracle ${payload.oracle} on chain ${payload.chainId}, ${first.file} for ${first.payload.oracle} on chain ${first.payload.chainId}`,
      );
    }
    if (hashTypedData(typed(payload)) !== digest) {
      throw new VolSignerError(
        ExitCode.INPUT,
        `${file}: signs a different post from ${first.file} (other quotes, time or confidence): signers must sign the same post`,
      );
    }
    for (const { signer, signature } of payload.signatures) {
      let recovered: Address;
      try {
        recovered = await recoverTypedDataAddress({ ...typed(payload), signature });
      } catch {
        throw new VolSignerError(ExitCode.INPUT, `${file}: the signature of ${signer} is malformed`);
      }
      if (recovered.toLowerCase() !== signer.toLowerCase())
        throw new VolSignerError(
          ExitCode.INPUT,
          `${file}: the signature said to be ${signer}'s recovers to ${recovered}`,
        );
      bySigner.set(signer.toLowerCase(), { signer, signature });
    }
  }
  const sorted = [...bySigner.values()].sort((x, y) => (BigInt(x.signer) < BigInt(y.signer) ? -1 : 1));
  return {
    chainId: first.payload.chainId,
    oracle: first.payload.oracle,
    signed: { post: first.payload.post, signatures: sorted.map((s) => s.signature) },
    signers: sorted.map((s) => s.signer),
  };
}
