import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { generateAbis, SDK_ABIS_DIR } from "../../scripts/lib/abis.js";

describe("SDK ABIs", () => {
  it("the committed packages/sdk/src/abis match the artifacts (else run `npm run abis`)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pledge-abis-"));
    const files = await generateAbis(dir);
    assert.deepEqual((await readdir(dir)).sort(), [...files].sort());
    for (const file of files) {
      const fresh = await readFile(path.join(dir, file), "utf8");
      const committed = await readFile(path.join(SDK_ABIS_DIR, file), "utf8").catch(() => "");
      assert.equal(committed, fresh, `packages/sdk/src/abis/${file} is stale: run \`npm run abis\``);
    }
  });
});
