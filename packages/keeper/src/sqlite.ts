/**
 * Node's built-in SQLite (`node:sqlite`), loaded without its one-time "SQLite is an
 * experimental feature" warning. Node 22 prints that `ExperimentalWarning` when the module
 * is first loaded; the keeper uses the module on purpose, so that single warning is dropped
 * while it loads. Every other warning (including other experimental features) still prints,
 * and `--no-warnings` or `--trace-warnings` keep their meaning.
 */
import type * as Sqlite from "node:sqlite";

const SQLITE_WARNING = /^SQLite is an experimental feature/;

async function loadSqlite(): Promise<typeof Sqlite> {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const message = typeof warning === "string" ? warning : warning.message;
    if (SQLITE_WARNING.test(message)) return;
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return await import("node:sqlite");
  } finally {
    process.emitWarning = emitWarning;
  }
}

const sqlite = await loadSqlite();

/** `node:sqlite`'s synchronous database class. */
export const DatabaseSync = sqlite.DatabaseSync;
export type DatabaseSync = Sqlite.DatabaseSync;
export type StatementSync = Sqlite.StatementSync;
