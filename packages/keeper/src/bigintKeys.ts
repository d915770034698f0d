/**
 * `Set` and `Map` keyed by account (or series) ids, without V8's BigInt hash collisions.
 *
 * V8 hashes a BigInt by its lowest 64 bits only. An account id is `owner << 96 | subId`, so the
 * low bits are the subId: every owner's subaccount 1 lands in one hash bucket and a plain
 * `Set<bigint>` of many owners' accounts degrades to a list (20,000 such ids: 1.6 s to build
 * against 10 ms). These keep the bigint API (they implement `Set<bigint>` / `Map<bigint, V>`,
 * iterate in insertion order and yield the bigints) over a `Map` keyed by the id's decimal text,
 * which V8 hashes whole. Written by hand: no maintained library offers a BigInt-keyed collection.
 */
export class BigIntMap<V> implements Map<bigint, V> {
  /**
   * The entries by the key's decimal text. An own, public field so that `assert.deepEqual`
   * compares two of these by content (a private field would make every two look equal).
   */
  readonly byKey = new Map<string, [bigint, V]>();

  constructor(entries?: Iterable<readonly [bigint, V]> | null) {
    if (entries) for (const [key, value] of entries) this.set(key, value);
  }

  get size(): number {
    return this.byKey.size;
  }
  get(key: bigint): V | undefined {
    return this.byKey.get(key.toString())?.[1];
  }
  has(key: bigint): boolean {
    return this.byKey.has(key.toString());
  }
  set(key: bigint, value: V): this {
    this.byKey.set(key.toString(), [key, value]);
    return this;
  }
  delete(key: bigint): boolean {
    return this.byKey.delete(key.toString());
  }
  clear(): void {
    this.byKey.clear();
  }
  forEach(callback: (value: V, key: bigint, map: Map<bigint, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.byKey.values()) callback.call(thisArg, value, key, this);
  }
  *entries(): MapIterator<[bigint, V]> {
    for (const [key, value] of this.byKey.values()) yield [key, value];
  }
  *keys(): MapIterator<bigint> {
    for (const [key] of this.byKey.values()) yield key;
  }
  *values(): MapIterator<V> {
    for (const [, value] of this.byKey.values()) yield value;
  }
  [Symbol.iterator](): MapIterator<[bigint, V]> {
    return this.entries();
  }
  get [Symbol.toStringTag](): string {
    return "BigIntMap";
  }
}

export class BigIntSet implements Set<bigint> {
  /** The values by their decimal text; own and public for `assert.deepEqual`, as `BigIntMap.byKey`. */
  readonly byKey = new Map<string, bigint>();

  constructor(values?: Iterable<bigint> | null) {
    if (values) for (const value of values) this.add(value);
  }

  get size(): number {
    return this.byKey.size;
  }
  has(value: bigint): boolean {
    return this.byKey.has(value.toString());
  }
  add(value: bigint): this {
    this.byKey.set(value.toString(), value);
    return this;
  }
  delete(value: bigint): boolean {
    return this.byKey.delete(value.toString());
  }
  clear(): void {
    this.byKey.clear();
  }
  forEach(callback: (value: bigint, key: bigint, set: Set<bigint>) => void, thisArg?: unknown): void {
    for (const value of this.byKey.values()) callback.call(thisArg, value, value, this);
  }
  *entries(): SetIterator<[bigint, bigint]> {
    for (const value of this.byKey.values()) yield [value, value];
  }
  keys(): SetIterator<bigint> {
    return this.byKey.values();
  }
  values(): SetIterator<bigint> {
    return this.byKey.values();
  }
  [Symbol.iterator](): SetIterator<bigint> {
    return this.byKey.values();
  }
  get [Symbol.toStringTag](): string {
    return "BigIntSet";
  }
}
