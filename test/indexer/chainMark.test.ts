import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";

import { ChainMismatchError, checkChainMark } from "../../packages/indexer/lib/chainMark.js";

/**
 * rv18 6b: the indexer's data is marked with its chain (id, and the hash of the book's first
 * block); data from another chain — a restarted local node under the same id — is refused.
 */
describe("indexer: the data's chain mark (rv18 6b)", () => {
  let dir: string | undefined;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const chain = { chainId: 31337, block: "5", blockHash: `0x${"ab".repeat(32)}` };

  it("marks new data, resumes on the same chain, and refuses another chain under the same id", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "pledge-mark-"));
    const mark = path.join(dir, "pglite.chain.json");
    assert.equal(await checkChainMark(mark, chain), "new");
    assert.deepEqual(JSON.parse(await readFile(mark, "utf8")), chain);
    assert.equal(
      await checkChainMark(mark, { ...chain, blockHash: chain.blockHash.toUpperCase().replace("0X", "0x") }),
      "same",
    );
    await assert.rejects(
      checkChainMark(mark, { ...chain, blockHash: `0x${"cd".repeat(32)}` }),
      (error: Error) => error instanceof ChainMismatchError && /built from another chain/.test(error.message),
    );
    await assert.rejects(checkChainMark(mark, { ...chain, chainId: 1 }), ChainMismatchError);
    assert.deepEqual(JSON.parse(await readFile(mark, "utf8")), chain, "the mark is kept");
  });
});
