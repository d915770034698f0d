import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";

import { EIP170_LIMIT, REQUIRED_HEADROOM, contractSizes } from "../../scripts/lib/sizes.js";

describe("contract sizes (EIP-170)", () => {
  it(`keeps every deployed contract at least ${REQUIRED_HEADROOM} bytes under ${EIP170_LIMIT}`, async () => {
    const sizes = await contractSizes();
    assert.ok(sizes.MarginEngine !== undefined, "no MarginEngine artifact: run `npx hardhat build`");
    const tight = Object.entries(sizes).filter(([, s]) => s.headroom < REQUIRED_HEADROOM);
    assert.deepEqual(
      tight.map(([name, s]) => `${name}: ${s.bytes} bytes, ${s.headroom} to spare`),
      [],
      "contracts too close to the EIP-170 limit",
    );
  });

  it("measures the portfolio manager the engine deploys, not a copy built otherwise", async () => {
    // The engine's constructor runs `new PortfolioManager`, so the deployed manager is the code the
    // engine's compilation embeds. The manager's own artifact, which the size check above reads,
    // must be that code: its runtime (immutables still zero) appears inside the engine's creation
    // code. Until session 25 the manager's own job ran at other optimizer settings, and the size
    // check measured a manager that was never deployed.
    const artifact = async (file: string) =>
      JSON.parse(await readFile(new URL(`../../artifacts/contracts/engine/${file}`, import.meta.url), "utf8")) as {
        bytecode: string;
        deployedBytecode: string;
      };
    // Without the trailing CBOR metadata (its length is the code's last two bytes): its hash covers
    // the job's remappings, which may differ between two jobs that build the same code (review rv38).
    const withoutMetadata = (hex: string) => hex.slice(2, hex.length - (Number.parseInt(hex.slice(-4), 16) + 2) * 2);
    const engine = await artifact("MarginEngine.sol/MarginEngine.json");
    const manager = await artifact("PortfolioManager.sol/PortfolioManager.json");
    assert.ok(manager.deployedBytecode.length > 2, "no PortfolioManager artifact: run `npx hardhat build`");
    const runtime = withoutMetadata(manager.deployedBytecode);
    assert.ok(runtime.length > 20_000 * 2, "the manager's runtime without its metadata is implausibly short");
    assert.ok(
      engine.bytecode.includes(runtime),
      "the PortfolioManager artifact is not the manager the engine deploys: give its job the engine's settings",
    );
  });

  it("keeps the engine's creation code, which embeds the portfolio manager's, under EIP-3860", async () => {
    // The engine deploys its PortfolioManager in its constructor, so the manager's whole creation
    // code sits in the engine's: growing the manager grows a limit no runtime-size check sees.
    const { bytecode } = JSON.parse(
      await readFile(
        new URL("../../artifacts/contracts/engine/MarginEngine.sol/MarginEngine.json", import.meta.url),
        "utf8",
      ),
    ) as { bytecode: string };
    const initcode = (bytecode.length - 2) / 2;
    assert.ok(initcode <= 49_152, `MarginEngine creation code is ${initcode} bytes, over EIP-3860's 49,152`);
  });
});
