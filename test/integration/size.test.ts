import assert from "node:assert/strict";
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
});
