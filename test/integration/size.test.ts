import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { network } from "hardhat";

import { deployPledge } from "../../deploy/deployPledge.js";
import { EIP170_LIMIT, REQUIRED_HEADROOM, contractSizes } from "../../scripts/lib/sizes.js";

/** An artifact of `contracts/engine/`. */
async function artifact(file: string) {
  return JSON.parse(await readFile(new URL(`../../artifacts/contracts/engine/${file}`, import.meta.url), "utf8")) as {
    bytecode: string;
    deployedBytecode: string;
    immutableReferences: Record<string, { start: number; length: number }[]>;
  };
}

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
    // The deploy passes the manager's artifact creation code to the engine's constructor, which
    // creates the manager (`deploy/lib/pledgeCore.ts`). The size check above reads that artifact's
    // runtime, so the manager on chain must be exactly it, immutables aside. (Until session 28 the
    // engine embedded `new PortfolioManager` and its job built the deployed copy; until session 25
    // the size check measured a manager that was never deployed.)
    const manager = await artifact("PortfolioManager.sol/PortfolioManager.json");
    assert.ok(manager.deployedBytecode.length > 2, "no PortfolioManager artifact: run `npx hardhat build`");
    const connection = await network.create();
    const { contracts } = await deployPledge(connection, { writeBook: false });
    const address = await contracts.engine.read.portfolioManager();
    const onChain = await (await connection.viem.getPublicClient()).getCode({ address });
    assert.ok(onChain !== undefined && onChain.length > 20_000 * 2, "the engine deployed no plausible manager");
    // Each immutable's 32 bytes are zero in the artifact and the value on chain: zero them in both.
    const masked = (hex: string) => {
      const bytes = Buffer.from(hex.slice(2), "hex");
      for (const ranges of Object.values(manager.immutableReferences)) {
        for (const { start, length } of ranges) bytes.fill(0, start, start + length);
      }
      return bytes.toString("hex");
    };
    assert.equal(masked(onChain), masked(manager.deployedBytecode), "the deployed manager is not its artifact's code");
    const managerAbi = [
      { type: "function", name: "engine", inputs: [], outputs: [{ type: "address" }], stateMutability: "view" },
    ] as const;
    const publicClient = await connection.viem.getPublicClient();
    assert.equal(
      (await publicClient.readContract({ address, abi: managerAbi, functionName: "engine" })).toLowerCase(),
      contracts.engine.address.toLowerCase(),
      "the manager's engine is the engine that created it",
    );
  });

  it("keeps the engine's deployment, which carries the portfolio manager's creation code, under EIP-3860", async () => {
    // The engine's constructor takes the manager's whole creation code as an argument, so the
    // deployment's initcode is the engine's creation code plus that argument ABI-encoded (four head
    // words, a length word and the code padded to whole words): growing the manager grows a limit
    // no runtime-size check sees.
    const engine = await artifact("MarginEngine.sol/MarginEngine.json");
    const manager = await artifact("PortfolioManager.sol/PortfolioManager.json");
    const bytes = (hex: string) => (hex.length - 2) / 2;
    const initcode = bytes(engine.bytecode) + 5 * 32 + Math.ceil(bytes(manager.bytecode) / 32) * 32;
    assert.ok(initcode <= 49_152, `MarginEngine's deployment initcode is ${initcode} bytes, over EIP-3860's 49,152`);
  });
});
