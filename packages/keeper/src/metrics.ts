import { type Server, createServer } from "node:http";

import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** The keeper's Prometheus metrics, on a registry of its own (several keepers can share a process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    ticks: new Counter({ name: "pledge_keeper_ticks_total", help: "Ticks run.", registers: [registry] }),
    outcomes: new Counter({
      name: "pledge_keeper_outcomes_total",
      help: "Execution outcomes by job and outcome.",
      labelNames: ["job", "outcome"] as const,
      registers: [registry],
    }),
    auctionsStarted: new Counter({
      name: "pledge_keeper_auctions_started_total",
      help: "Auctions this keeper started.",
      registers: [registry],
    }),
    bids: new Counter({ name: "pledge_keeper_bids_total", help: "Bids this keeper landed.", registers: [registry] }),
    settlements: new Counter({
      name: "pledge_keeper_settlements_total",
      help: "Positions settled by this keeper.",
      registers: [registry],
    }),
    pricesPosted: new Counter({
      name: "pledge_keeper_settlement_prices_posted_total",
      help: "Settlement prices posted by this keeper.",
      registers: [registry],
    }),
    failures: new Counter({
      name: "pledge_keeper_failures_total",
      help: "Failures by error name.",
      labelNames: ["error"] as const,
      registers: [registry],
    }),
    atRisk: new Gauge({
      name: "pledge_keeper_accounts_at_risk",
      help: "Indexed accounts below initial margin, by health.",
      labelNames: ["health"] as const,
      registers: [registry],
    }),
    indexed: new Gauge({ name: "pledge_keeper_indexed_accounts", help: "Indexed accounts.", registers: [registry] }),
    lastBlock: new Gauge({ name: "pledge_keeper_last_block", help: "Last block ticked.", registers: [registry] }),
    rpcCalls: new Counter({
      name: "pledge_keeper_rpc_calls_total",
      help: "JSON-RPC requests by method.",
      labelNames: ["method"] as const,
      registers: [registry],
    }),
    replacements: new Counter({
      name: "pledge_keeper_replacements_total",
      help: "Transactions re-sent with the same nonce and bumped fees.",
      registers: [registry],
    }),
    gasUsed: new Counter({ name: "pledge_keeper_gas_used_total", help: "Gas used by sends.", registers: [registry] }),
  };
  return metrics;
}

export type KeeperMetrics = ReturnType<typeof createMetrics>;

/** Serves `/metrics` (Prometheus text) and `/health` (200 with `health()` as JSON) on `port`. */
export async function serveMetrics(metrics: KeeperMetrics, port: number, health: () => unknown): Promise<Server> {
  const server = createServer((request, response) => {
    const url = request.url ?? "/";
    if (url.startsWith("/metrics")) {
      metrics.registry
        .metrics()
        .then((text) => {
          response.writeHead(200, { "content-type": metrics.registry.contentType });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
      return;
    }
    if (url.startsWith("/health")) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify(health(), (_, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
      );
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, resolve);
  });
  return server;
}
