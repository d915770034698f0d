import { loadKey as loadSharedKey } from "@pledge/keeper";
import type { Hex } from "viem";

import { ExitCode, VolSignerError } from "./errors.js";

/**
 * The signing key, never from the command line: a hex private key in the environment variable
 * `keyEnv`, or an encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD). The keeper's
 * `loadKey` (one implementation for both services), refusing with `VolSignerError` (KEY);
 * messages never contain the key.
 *
 * @example
 * const key = await loadKey({ keyEnv: "VOL_SIGNER_KEY" });
 */
export function loadKey(source: { keyEnv?: string | undefined; keystore?: string | undefined }): Promise<Hex> {
  return loadSharedKey(source, {
    holder: "signer",
    refuse: (message, cause) => {
      throw new VolSignerError(ExitCode.KEY, message, { cause });
    },
  });
}
