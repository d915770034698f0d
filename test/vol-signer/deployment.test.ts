import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { getAddress } from "viem";

import { ExitCode, VolSignerError, resolveSigningTarget } from "../../packages/vol-signer/src/index.js";
import { addressBookJson } from "./helpers.js";

const refused = (pattern: RegExp, code: number) => (e: unknown) =>
  e instanceof VolSignerError && e.exitCode === code && pattern.test(e.message);

describe("vol-signer --deployment", () => {
  it("--deployment is read with the SDK's readAddressBook: a loose or foreign book is refused with its message", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vol-signer-book-"));
    try {
      const file = async (name: string, text: string) => {
        await writeFile(path.join(dir, name), text);
        return path.join(dir, name);
      };
      const oracle = "0x00000000000000000000000000000000000000f1";
      const good = await file("good.json", addressBookJson(31337, oracle));
      assert.deepEqual(await resolveSigningTarget({ deployment: good }), {
        oracle: getAddress(oracle),
        chainId: 31337,
      });
      const loose = await file(
        "loose.json",
        JSON.stringify({ chainId: 31337, contracts: { VolSurfaceOracle: oracle } }),
      );
      await assert.rejects(
        resolveSigningTarget({ deployment: loose }),
        refused(/^--deployment: .*loose\.json is not a valid address book: deployedAtBlock should be/, ExitCode.INPUT),
      );
      await assert.rejects(
        resolveSigningTarget({ deployment: good, chainId: "1" }),
        refused(/is not a valid address book: it is for chain 31337, not 1/, ExitCode.INPUT),
      );
      const older = await file("older.json", addressBookJson(31337));
      await assert.rejects(
        resolveSigningTarget({ deployment: older }),
        refused(/has no contracts\.VolSurfaceOracle .*give --oracle <address>$/, ExitCode.INPUT),
      );
      assert.equal((await resolveSigningTarget({ deployment: older, oracle })).chainId, 31337);
      await assert.rejects(
        resolveSigningTarget({ deployment: path.join(dir, "none.json") }),
        refused(/^--deployment: No address book at /, ExitCode.INPUT),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
