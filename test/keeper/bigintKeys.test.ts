import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { BigIntMap, BigIntSet } from "../../packages/keeper/src/bigintKeys.js";

/** Account ids of many owners' subaccount 1: the keys V8's BigInt hash puts in one bucket. */
const subaccountOnes = (n: number) => Array.from({ length: n }, (_, i) => (BigInt(i + 1) << 96n) | 1n);

describe("BigIntSet and BigIntMap: Set and Map of account ids", () => {
  it("behave as Set<bigint>: membership, order, delete, iteration, size", () => {
    const ids = subaccountOnes(5_000);
    const set = new BigIntSet(ids);
    const native = new Set(ids);
    assert.equal(set.size, native.size);
    assert.deepEqual([...set], [...native], "insertion order, bigints out");
    assert.ok(set.has(ids[1234]!) && !set.has((1n << 96n) | 2n));
    assert.ok(set.delete(ids[0]!) && !set.delete(ids[0]!));
    set.add(ids[1]!); // present already: no duplicate
    assert.equal(set.size, ids.length - 1);
    assert.deepEqual([...set.entries()][0], [ids[1], ids[1]]);
    let seen = 0;
    set.forEach((value, key) => {
      assert.equal(value, key);
      seen++;
    });
    assert.equal(seen, set.size);
    set.clear();
    assert.equal(set.size, 0);
  });

  it("behave as Map<bigint, V>, and compare by content under assert.deepEqual", () => {
    const ids = subaccountOnes(1_000);
    const map = new BigIntMap(ids.map((id, i) => [id, i] as const));
    assert.equal(map.get(ids[999]!), 999);
    assert.equal(map.get(7n), undefined);
    map.set(ids[0]!, -1);
    assert.deepEqual([...map.keys()], ids);
    assert.equal([...map.values()][0], -1);
    assert.deepEqual(new BigIntSet([1n, 2n]), new BigIntSet([1n, 2n]));
    assert.notDeepEqual(new BigIntSet([1n, 2n]), new BigIntSet([1n, 3n]), "not vacuously equal");
    assert.notDeepEqual(new BigIntMap([[1n, "a"]]), new BigIntMap([[1n, "b"]]));
  });
});
