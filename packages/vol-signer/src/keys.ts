import { readFile } from "node:fs/promises";

import type { Hex } from "viem";

import { ExitCode, VolSignerError } from "./errors.js";

/**
 * The signing key, never from the command line: a hex private key in the environment variable
 * `keyEnv`, or an encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD). The same rules
 * as the keeper's `loadKey` (packages/keeper/src/preflight.ts), with the signer's exit code;
 * messages never contain the key.
 *
 * @example
 * const key = await loadKey({ keyEnv: "VOL_SIGNER_KEY" });
 */
export async function loadKey(source: { keyEnv?: string | undefined; keystore?: string | undefined }): Promise<Hex> {
  const refuse = (message: string): never => {
    throw new VolSignerError(ExitCode.KEY, message);
  };
  if (source.keyEnv !== undefined) {
    const key = process.env[source.keyEnv]?.trim();
    if (!key) return refuse(`environment variable ${source.keyEnv} is empty: set it to the signer's private key`);
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) {
      return refuse(`environment variable ${source.keyEnv} does not hold a private key (64 hex digits, 0x optional)`);
    }
    return (key.startsWith("0x") ? key : `0x${key}`) as Hex;
  }
  if (source.keystore !== undefined) {
    const password = process.env.PLEDGE_KEYSTORE_PASSWORD;
    if (password === undefined) return refuse("set PLEDGE_KEYSTORE_PASSWORD to decrypt the keystore");
    let json: string;
    try {
      json = await readFile(source.keystore, "utf8");
    } catch (error) {
      return refuse(`--keystore ${source.keystore}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
    }
    try {
      // viem has no keystore decryption; ethers (already in the toolchain) does it.
      const { Wallet } = await import("ethers");
      return (await Wallet.fromEncryptedJson(json, password)).privateKey as Hex;
    } catch {
      return refuse(`--keystore ${source.keystore}: does not decrypt with PLEDGE_KEYSTORE_PASSWORD`);
    }
  }
  return refuse("no signing key: give --key-env <VAR> or --keystore <file>");
}
