import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** `packages/indexer/cli.ts`, which `npm run indexer` runs. */
export const INDEXER_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../cli.ts");

/**
 * A free TCP port on the loopback interface.
 *
 * @example
 * const port = await freePort(); // e.g. 40123
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` every `everyMs` until it returns true, or throws after `ms` naming `what` (and the
 * last error `check` threw). Every wait of the tests, the bench and `npm run app` has a deadline.
 *
 * @example
 * await waitFor("the node", async () => (await fetch(url)).ok, 10_000);
 */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000, everyMs = 200) {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

/** Where a child indexer reads and serves. */
export interface IndexerProcessOptions {
  /** The address book to index. */
  deployment: string;
  /** The chain's JSON-RPC URL. */
  rpcUrl: string;
  /** The HTTP API's port. */
  port: number;
  /** PGlite's directory (a fresh one per chain). */
  dataDir: string;
  /** How often the head is polled (the CLI's default is 1000). */
  pollingMs?: number;
  /** The working directory (relative paths are resolved from it). */
  cwd?: string;
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The indexer as a child process (`packages/indexer/cli.ts` under tsx), its output kept for a
 * failure's message, with the few calls its users make: wait for `/ready`, the last indexed block,
 * a GraphQL query, stop.
 *
 * @example
 * const indexer = new IndexerProcess({ deployment, rpcUrl, port: await freePort(), dataDir });
 * try {
 *   await indexer.ready();
 *   const { accounts } = await indexer.gql<{ accounts: { totalCount: number } }>("{ accounts { totalCount } }");
 * } finally {
 *   await indexer.stop();
 * }
 */
export class IndexerProcess {
  readonly output: string[] = [];
  readonly port: number;
  private child: ChildProcess;
  private exited: Promise<void>;

  constructor(options: IndexerProcessOptions) {
    this.port = options.port;
    const args = [
      ...["--deployment", options.deployment, "--rpc", options.rpcUrl, "--port", String(options.port)],
      ...["--data-dir", options.dataDir],
      ...(options.pollingMs === undefined ? [] : ["--polling-ms", String(options.pollingMs)]),
    ];
    this.child = spawn(process.execPath, ["--import", "tsx", INDEXER_CLI, ...args], {
      cwd: options.cwd ?? process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      // Its own process group (cli.ts and the Ponder it starts): `stop` signals the whole group,
      // so no Ponder is left behind when the wrapper has to be killed.
      detached: true,
    });
    this.child.stdout!.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => this.output.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  /** The API's URL for `route` (`/graphql`, `/status`, …). */
  url(route = "") {
    return `http://127.0.0.1:${this.port}${route}`;
  }

  /** The CLI's process id, also its process group's. */
  get pid() {
    return this.child.pid;
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for `/ready` (the backfill done), failing at once if the process exits. */
  async ready(ms = 120_000) {
    await waitFor(
      "the indexer's /ready",
      async () => {
        if (!this.running) throw new Error(`the indexer exited:\n${this.tail()}`);
        return (await fetch(this.url("/ready"), { signal: AbortSignal.timeout(2_000) })).status === 200;
      },
      ms,
    );
  }

  /** The last block indexed (`/status`), -1 before the first. */
  async indexedBlock(): Promise<number> {
    const response = await fetch(this.url("/status"), { signal: AbortSignal.timeout(5_000) });
    const status = (await response.json()) as Record<string, { block: { number: number } }>;
    return status.pledge?.block.number ?? -1;
  }

  /** Waits until the indexer has indexed `block`. */
  async caughtUpTo(block: number | bigint, ms = 60_000) {
    await waitFor(`the indexer at block ${block}`, async () => (await this.indexedBlock()) >= Number(block), ms, 50);
  }

  /** A GraphQL query's `data`; throws on `errors`. */
  async gql<T>(query: string): Promise<T> {
    const response = await fetch(this.url("/graphql"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors || !body.data) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  /**
   * SIGINT to the process group (Ponder shuts down cleanly), SIGKILL to the group after
   * `graceMs`; then SIGKILL to whatever of the group is left (a grandchild that outlived the
   * wrapper), so nothing keeps polling the chain or holding the port.
   */
  async stop(graceMs = 15_000) {
    const group = this.child.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        if (group !== undefined) process.kill(-group, name);
      } catch {
        // The group is gone.
      }
    };
    if (this.running) {
      signal("SIGINT");
      const killed = setTimeout(() => signal("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(killed);
    }
    signal("SIGKILL");
  }

  /** The last `lines` of its output. */
  tail(lines = 30) {
    return this.output.join("").split("\n").slice(-lines).join("\n");
  }
}
