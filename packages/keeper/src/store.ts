import { existsSync, mkdirSync, openSync, readSync, closeSync } from "node:fs";
import path from "node:path";

import type { Address, Hash } from "viem";

import { DatabaseSync, type StatementSync } from "./sqlite.js";
import { BigIntMap, BigIntSet } from "./bigintKeys.js";

/** What the keeper remembers between runs: how far it indexed, and what it found. */
export interface KeeperIndex {
  chainId: number;
  /** The last indexed block (confirmed), and its hash to detect a reorg or a reset chain. */
  cursor: bigint;
  cursorHash: Hash | undefined;
  /** Every account seen in a deposit, a position change or an auction. */
  accounts: Set<bigint>;
  /** Accounts holding a non-zero balance, by series. */
  holders: Map<bigint, Set<bigint>>;
  /** Series whose settlement the keeper finished. */
  settledSeries: Set<bigint>;
  /** Accounts with an auction open, from AuctionStarted / AuctionEnded. */
  auctions: Set<bigint>;
}

/**
 * The keys one block range touched. Their state after the range is read from the index when
 * the range is committed, so an account added and removed inside one range is stored as it ends.
 */
export interface IndexChanges {
  accounts: Set<bigint>;
  /** Series → accounts whose holding of it changed. */
  holders: Map<bigint, Set<bigint>>;
  auctions: Set<bigint>;
}

/**
 * Where an action stands. `pending` is written before the transaction is broadcast; the rest
 * are final: `mined` / `reverted` (a receipt), `failed` (the node refused it, or it was not
 * mined in time), `dropped` (found at start-up neither mined nor known to the node: never
 * broadcast, or evicted), `replaced` (found at start-up: its nonce was used by a transaction
 * that is none of its versions).
 */
export type ActionStatus = "pending" | "mined" | "reverted" | "failed" | "dropped" | "replaced";

/** One transaction the keeper sent (or was about to send), as its history records it. */
export interface ActionRecord {
  id: number;
  chainId: number;
  /** The head block of the tick that decided it; undefined for sends outside a tick. */
  tick: bigint | undefined;
  /** The contract function: `bid`, `startAuction`, `settleBatch`, ... */
  kind: string;
  /** What it acts on, as the jobs key it: `bid:<account>`, `auction:<account>`, `settle:<series>`. */
  target: string;
  sender: Address;
  nonce: number;
  /** Every version broadcast for this nonce, oldest first (more than one after fee bumps). */
  hashes: Hash[];
  /** The version that mined, else the newest. */
  txHash: Hash | undefined;
  status: ActionStatus;
  gasUsed: bigint | undefined;
  error: string | undefined;
  /** Unix milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** A send about to be broadcast, as the sender describes it to the journal. */
export interface PendingAction {
  chainId: number;
  tick?: bigint | undefined;
  kind: string;
  target: string;
  sender: Address;
  nonce: number;
}

/**
 * The keeper's history of actions, written around every send: `pending` before the
 * broadcast, each version's hash (before its broadcast when the key signs locally), then the
 * outcome. A restart reads the `pending` rows to learn what it may have sent.
 */
export interface ActionJournal {
  /** Records a send before it is broadcast; returns its id. */
  pending(action: PendingAction): number;
  /** Records a version (a transaction hash) of action `id`. */
  transaction(id: number, hash: Hash): void;
  /** Records the outcome of action `id`. */
  finished(id: number, outcome: { status: ActionStatus; txHash?: Hash; gasUsed?: bigint; error?: string }): void;
  /** The actions still `pending` on `chainId`, oldest first. */
  pendingActions(chainId: number): ActionRecord[];
}

/** What `status` prints: sizes, the cursor, and the actions by status. */
export interface StoreSummary {
  file: string;
  schemaVersion: number;
  chainId: number | undefined;
  cursor: bigint | undefined;
  cursorHash: Hash | undefined;
  accounts: number;
  series: number;
  openPositions: number;
  settledSeries: number;
  openAuctions: bigint[];
  actions: Partial<Record<ActionStatus, number>>;
}

/** The keeper's SQLite database: the index and its cursor, and the history of actions. */
export interface KeeperStore extends ActionJournal {
  readonly file: string;
  /** The schema version after migrations (`PRAGMA user_version`). */
  readonly schemaVersion: number;
  /** The stored index, or undefined when there is none or it is for another chain than `chainId`. */
  loadIndex(chainId?: number): KeeperIndex | undefined;
  /**
   * Writes, in one transaction, the state of every key in `changes`, the series settled
   * since the last commit, and the cursor: a crash leaves either all of it or none.
   */
  commit(index: KeeperIndex, changes?: IndexChanges): void;
  /** Replaces the whole stored index with `index` (a rebuild, a new chain, an import), in one transaction. */
  replaceIndex(index: KeeperIndex): void;
  /** The history of actions, oldest first; `status` filters. */
  actions(filter?: { status?: ActionStatus }): ActionRecord[];
  summary(): StoreSummary;
  isOpen(): boolean;
  /** Closes the database (idempotent). */
  close(): void;
}

/** The store could not be opened or used: one readable line. */
export class KeeperStoreError extends Error {
  override name = "KeeperStoreError";
}

/** The default store file, in the working directory (the CLI's `--store` default, the README's example). */
export const DEFAULT_STORE = "keeper.sqlite";

/**
 * Numbered migrations: `PRAGMA user_version` is the number applied. Each runs in its own
 * transaction with the version bump, so a crash mid-migration leaves the previous version.
 * Never edit a released migration; append one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the index and the action history. Ids are uint256 (account ids, series ids), stored as
  // 32-byte big-endian BLOBs: SQLite integers are 64-bit, and equal ids compare equal.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE accounts (account BLOB PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE holders (series BLOB NOT NULL, account BLOB NOT NULL, PRIMARY KEY (series, account)) WITHOUT ROWID;
  CREATE TABLE settled_series (series BLOB PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE auctions (account BLOB PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    tick TEXT,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    sender TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    tx_hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'mined', 'reverted', 'failed', 'dropped', 'replaced')),
    gas_used TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX actions_pending ON actions (chain_id, id) WHERE status = 'pending';
  CREATE TABLE action_transactions (
    hash TEXT PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions (id),
    created_at INTEGER NOT NULL
  );
  CREATE INDEX action_transactions_action ON action_transactions (action_id);
  `,
];

const SQLITE_HEADER = "SQLite format 3\0";

/** 32-byte big-endian BLOB of a uint256. */
function toBlob(value: bigint): Uint8Array {
  return Buffer.from(value.toString(16).padStart(64, "0"), "hex");
}
function fromBlob(blob: unknown): bigint {
  return BigInt(`0x${Buffer.from(blob as Uint8Array).toString("hex")}`);
}

/** Whether `file` exists and does not start with SQLite's header (an old JSON store, or anything else). */
function isForeignFile(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, "r");
  try {
    const header = Buffer.alloc(16);
    const read = readSync(fd, header, 0, 16, 0);
    return read > 0 && header.toString("latin1", 0, read) !== SQLITE_HEADER.slice(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens (creating it, and its folder, if needed) the keeper's SQLite store and brings its
 * schema up to date. WAL journal, `synchronous = FULL` (see docs/keeper.md: the action
 * journal promises that a row is on disk before its transaction is broadcast), foreign keys
 * on, a 5 s busy timeout so `status` can read while the keeper writes.
 *
 * @example
 * const store = openStore("keeper.sqlite");
 * const index = store.loadIndex(31337) ?? emptyIndex(31337, 0n);
 * store.commit(index);
 * store.close();
 */
export function openStore(file: string, options: { readOnly?: boolean } = {}): KeeperStore {
  if (file.endsWith(".json") || isForeignFile(file)) {
    throw new KeeperStoreError(
      `${file} is not a SQLite store (an old JSON store? import it once: pledge-keeper import-store ${file} --store ${DEFAULT_STORE})`,
    );
  }
  if (options.readOnly && !existsSync(file)) throw new KeeperStoreError(`no store at ${file}`);
  if (!options.readOnly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly: options.readOnly ?? false, timeout: 5_000 });
  } catch (error) {
    throw new KeeperStoreError(`cannot open the store ${file}: ${(error as Error).message}`);
  }
  const version = () => Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  if (!options.readOnly) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    const current = version();
    if (current > MIGRATIONS.length) {
      db.close();
      throw new KeeperStoreError(
        `${file} has schema version ${current}, newer than this keeper's ${MIGRATIONS.length}: upgrade the keeper`,
      );
    }
    for (let next = current; next < MIGRATIONS.length; next++) {
      transaction(db, () => {
        db.exec(MIGRATIONS[next]!);
        db.exec(`PRAGMA user_version = ${next + 1}`);
      });
    }
  }
  const schemaVersion = version();
  if (options.readOnly && schemaVersion !== MIGRATIONS.length) {
    db.close();
    throw new KeeperStoreError(`${file} has schema version ${schemaVersion}, this keeper reads ${MIGRATIONS.length}`);
  }
  return storeOver(db, file, schemaVersion);
}

/** Runs `body` in one `BEGIN IMMEDIATE … COMMIT`, rolled back if it throws. */
function transaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = body();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

interface ActionRow {
  id: number;
  chain_id: number;
  tick: string | null;
  kind: string;
  target: string;
  sender: string;
  nonce: number;
  tx_hash: string | null;
  status: ActionStatus;
  gas_used: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  hashes: string | null;
}

function storeOver(db: DatabaseSync, file: string, schemaVersion: number): KeeperStore {
  const cache = new Map<string, StatementSync>();
  const sql = (text: string): StatementSync => {
    let statement = cache.get(text);
    if (statement === undefined) cache.set(text, (statement = db.prepare(text)));
    return statement;
  };
  const meta = (key: string) =>
    (sql("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  const setMeta = (key: string, value: string) =>
    sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
      key,
      value,
    );
  /** Settled series already written, so a commit writes only new ones. */
  let storedSettled: Set<bigint> | undefined;
  const settledInStore = () =>
    (storedSettled ??= new BigIntSet(
      (sql("SELECT series FROM settled_series").all() as { series: Uint8Array }[]).map((r) => fromBlob(r.series)),
    ));

  function writeCursor(index: KeeperIndex) {
    setMeta("chain_id", String(index.chainId));
    setMeta("cursor", index.cursor.toString());
    if (index.cursorHash === undefined) sql("DELETE FROM meta WHERE key = 'cursor_hash'").run();
    else setMeta("cursor_hash", index.cursorHash);
  }

  function writeSettled(index: KeeperIndex) {
    const stored = settledInStore();
    for (const series of index.settledSeries) {
      if (stored.has(series)) continue;
      sql("INSERT OR IGNORE INTO settled_series (series) VALUES (?)").run(toBlob(series));
      stored.add(series);
    }
  }

  const toRecord = (row: ActionRow): ActionRecord => ({
    id: row.id,
    chainId: row.chain_id,
    tick: row.tick === null ? undefined : BigInt(row.tick),
    kind: row.kind,
    target: row.target,
    sender: row.sender as Address,
    nonce: row.nonce,
    hashes: row.hashes === null || row.hashes === "" ? [] : (row.hashes.split(",") as Hash[]),
    txHash: (row.tx_hash ?? undefined) as Hash | undefined,
    status: row.status,
    gasUsed: row.gas_used === null ? undefined : BigInt(row.gas_used),
    error: row.error ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  const ACTIONS = `SELECT a.*, (SELECT group_concat(hash, ',') FROM
      (SELECT hash FROM action_transactions t WHERE t.action_id = a.id ORDER BY t.rowid)) AS hashes
    FROM actions a`;

  return {
    file,
    schemaVersion,
    loadIndex(chainId) {
      const storedChain = meta("chain_id");
      const cursor = meta("cursor");
      if (storedChain === undefined || cursor === undefined) return undefined;
      if (chainId !== undefined && Number(storedChain) !== chainId) return undefined;
      const accounts = new BigIntSet();
      for (const row of sql("SELECT account FROM accounts").iterate() as Iterable<{ account: Uint8Array }>)
        accounts.add(fromBlob(row.account));
      const holders = new BigIntMap<Set<bigint>>();
      let series: bigint | undefined;
      let seriesKey: string | undefined;
      let set: Set<bigint> | undefined;
      // Rows come in primary-key order, so each series' holders are consecutive.
      for (const row of sql("SELECT series, account FROM holders").iterate() as Iterable<{
        series: Uint8Array;
        account: Uint8Array;
      }>) {
        const key = Buffer.from(row.series).toString("hex");
        if (key !== seriesKey) {
          seriesKey = key;
          series = BigInt(`0x${key}`);
          set = holders.get(series) ?? new BigIntSet();
          holders.set(series, set);
        }
        set!.add(fromBlob(row.account));
      }
      const settledSeries = new BigIntSet(settledInStore());
      const auctions = new BigIntSet(
        (sql("SELECT account FROM auctions").all() as { account: Uint8Array }[]).map((r) => fromBlob(r.account)),
      );
      const cursorHash = meta("cursor_hash") as Hash | undefined;
      return {
        chainId: Number(storedChain),
        cursor: BigInt(cursor),
        cursorHash,
        accounts,
        holders,
        settledSeries,
        auctions,
      };
    },
    commit(index, changes) {
      transaction(db, () => {
        if (changes !== undefined) {
          for (const account of changes.accounts)
            if (index.accounts.has(account))
              sql("INSERT OR IGNORE INTO accounts (account) VALUES (?)").run(toBlob(account));
          for (const [series, accounts] of changes.holders) {
            const now = index.holders.get(series);
            const seriesBlob = toBlob(series);
            for (const account of accounts) {
              if (now?.has(account))
                sql("INSERT OR IGNORE INTO holders (series, account) VALUES (?, ?)").run(seriesBlob, toBlob(account));
              else sql("DELETE FROM holders WHERE series = ? AND account = ?").run(seriesBlob, toBlob(account));
            }
          }
          for (const account of changes.auctions) {
            if (index.auctions.has(account))
              sql("INSERT OR IGNORE INTO auctions (account) VALUES (?)").run(toBlob(account));
            else sql("DELETE FROM auctions WHERE account = ?").run(toBlob(account));
          }
        }
        writeSettled(index);
        writeCursor(index);
      });
    },
    replaceIndex(index) {
      transaction(db, () => {
        for (const table of ["accounts", "holders", "settled_series", "auctions"]) db.exec(`DELETE FROM ${table}`);
        storedSettled = new BigIntSet();
        for (const account of index.accounts)
          sql("INSERT OR IGNORE INTO accounts (account) VALUES (?)").run(toBlob(account));
        for (const [series, accounts] of index.holders) {
          const seriesBlob = toBlob(series);
          for (const account of accounts)
            sql("INSERT OR IGNORE INTO holders (series, account) VALUES (?, ?)").run(seriesBlob, toBlob(account));
        }
        for (const account of index.auctions)
          sql("INSERT OR IGNORE INTO auctions (account) VALUES (?)").run(toBlob(account));
        writeSettled(index);
        writeCursor(index);
      });
    },
    pending(action) {
      const now = Date.now();
      const result = sql(
        `INSERT INTO actions (chain_id, tick, kind, target, sender, nonce, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ).run(
        action.chainId,
        action.tick === undefined ? null : action.tick.toString(),
        action.kind,
        action.target,
        action.sender,
        action.nonce,
        now,
        now,
      );
      return Number(result.lastInsertRowid);
    },
    transaction(id, hash) {
      const now = Date.now();
      transaction(db, () => {
        sql("INSERT OR IGNORE INTO action_transactions (hash, action_id, created_at) VALUES (?, ?, ?)").run(
          hash,
          id,
          now,
        );
        sql("UPDATE actions SET tx_hash = ?, updated_at = ? WHERE id = ?").run(hash, now, id);
      });
    },
    finished(id, outcome) {
      sql(
        `UPDATE actions SET status = ?, tx_hash = coalesce(?, tx_hash), gas_used = ?, error = ?, updated_at = ?
         WHERE id = ?`,
      ).run(
        outcome.status,
        outcome.txHash ?? null,
        outcome.gasUsed === undefined ? null : outcome.gasUsed.toString(),
        outcome.error ?? null,
        Date.now(),
        id,
      );
    },
    pendingActions(chainId) {
      return (
        sql(`${ACTIONS} WHERE a.status = 'pending' AND a.chain_id = ? ORDER BY a.id`).all(
          chainId,
        ) as unknown as ActionRow[]
      ).map(toRecord);
    },
    actions(filter = {}) {
      const rows =
        filter.status === undefined
          ? sql(`${ACTIONS} ORDER BY a.id`).all()
          : sql(`${ACTIONS} WHERE a.status = ? ORDER BY a.id`).all(filter.status);
      return (rows as unknown as ActionRow[]).map(toRecord);
    },
    summary() {
      const count = (table: string) => Number((sql(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
      const actions: Partial<Record<ActionStatus, number>> = {};
      for (const row of sql("SELECT status, count(*) AS n FROM actions GROUP BY status").all() as {
        status: ActionStatus;
        n: number;
      }[])
        actions[row.status] = Number(row.n);
      const chainId = meta("chain_id");
      const cursor = meta("cursor");
      return {
        file,
        schemaVersion,
        chainId: chainId === undefined ? undefined : Number(chainId),
        cursor: cursor === undefined ? undefined : BigInt(cursor),
        cursorHash: meta("cursor_hash") as Hash | undefined,
        accounts: count("accounts"),
        series: Number((sql("SELECT count(DISTINCT series) AS n FROM holders").get() as { n: number }).n),
        openPositions: count("holders"),
        settledSeries: count("settled_series"),
        openAuctions: (sql("SELECT account FROM auctions").all() as { account: Uint8Array }[]).map((r) =>
          fromBlob(r.account),
        ),
        actions,
      };
    },
    isOpen: () => db.isOpen,
    close() {
      if (db.isOpen) db.close();
    },
  };
}

/** An empty index whose cursor sits just before the deployment block. */
export function emptyIndex(chainId: number, deployedAtBlock: bigint): KeeperIndex {
  return {
    chainId,
    cursor: deployedAtBlock > 0n ? deployedAtBlock - 1n : 0n,
    cursorHash: undefined,
    accounts: new BigIntSet(),
    holders: new BigIntMap(),
    settledSeries: new BigIntSet(),
    auctions: new BigIntSet(),
  };
}

/** The JSON store written by keepers before the SQLite store (version 1). */
interface LegacyJsonIndex {
  version: 1;
  chainId: number;
  cursor: string;
  cursorHash: Hash | null;
  accounts: string[];
  holders: Record<string, string[]>;
  settledSeries: string[];
  auctions: string[];
}

/**
 * Parses an old JSON store (the keeper's format before SQLite) into an index, for the one-time
 * `import-store`. Throws a `KeeperStoreError` naming what is wrong.
 *
 * @example
 * const index = parseJsonIndex(await readFile("keeper-index.json", "utf8"));
 * openStore("keeper.sqlite").replaceIndex(index);
 */
export function parseJsonIndex(text: string): KeeperIndex {
  let stored: LegacyJsonIndex;
  try {
    stored = JSON.parse(text) as LegacyJsonIndex;
  } catch (error) {
    throw new KeeperStoreError(`not JSON: ${(error as Error).message}`);
  }
  if (stored === null || typeof stored !== "object" || stored.version !== 1)
    throw new KeeperStoreError("not a keeper JSON store (version 1)");
  try {
    return {
      chainId: Number(stored.chainId),
      cursor: BigInt(stored.cursor),
      cursorHash: stored.cursorHash ?? undefined,
      accounts: new BigIntSet(stored.accounts.map(BigInt)),
      holders: new BigIntMap(
        Object.entries(stored.holders).map(([series, holders]) => [BigInt(series), new BigIntSet(holders.map(BigInt))]),
      ),
      settledSeries: new BigIntSet(stored.settledSeries.map(BigInt)),
      auctions: new BigIntSet(stored.auctions.map(BigInt)),
    };
  } catch (error) {
    throw new KeeperStoreError(`malformed keeper JSON store: ${(error as Error).message}`);
  }
}
