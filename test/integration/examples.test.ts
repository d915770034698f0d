import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const hardhat = path.join(root, "node_modules/hardhat/dist/src/cli.js");

/** Runs `hardhat run examples/<name>` as a user would, and returns what it printed. */
async function example(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [hardhat, "run", `examples/${name}`], {
    cwd: root,
    timeout: 180_000,
    maxBuffer: 1 << 24,
  });
  return stdout;
}

describe("examples run against the in-process network", () => {
  it("deposit → trade → check margin → withdraw", async () => {
    const out = await example("deposit-trade-withdraw.ts");
    assert.match(out, /filled 2 calls for a premium of 240 USDC/);
    assert.match(out, /the SDK computes the same margin, to the wei/);
    assert.match(out, /excess over IM after the withdrawal: 0\.0/);
  });

  it("watch an account's health", async () => {
    const out = await example("watch-health.ts");
    assert.match(out, /HEALTHY/);
    assert.match(out, /MARGIN_CALL/);
    assert.match(out, /LIQUIDATABLE|INSOLVENT/);
  });

  it("ethers v6 with TypeChain types", async () => {
    const out = await example("ethers.ts");
    assert.match(out, /deposited 2\.0 WETH/);
    assert.match(out, /health HEALTHY/);
    assert.match(out, /over-withdrawal refused: VaultInsufficientBalance: Account 0x[0-9a-f]{40}\/1 holds /);
    // An engine revert bubbled through the vault: unknown to the vault's interface, decoded by the SDK.
    assert.match(out, /the vault's interface alone: unknown custom error/);
    assert.match(
      out,
      /withdrawal refused: EngineBelowInitialMargin: Account 0x[0-9a-f]{40}\/1 is below initial margin: equity .* USD < requirement .* USD/,
    );
  });
});
