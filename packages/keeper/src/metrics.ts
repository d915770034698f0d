import { type Server, createServer } from "node:http";

import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The keeper's Prometheus metrics, on a registry of its own (several keepers can share a process).
 * `lastTickAt` (wall time, ms, of the last successful tick) feeds `pledge_keeper_last_tick_age_seconds`
 * at every scrape.
 *
 * @example
 * const metrics = createMetrics(() => lastTickAt);
 * await metrics.registry.metrics(); // Prometheus text
 */
export function createMetrics(lastTickAt: () => number | undefined = () => undefined) {
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
    gasBalance: new Gauge({
      name: "pledge_keeper_gas_balance_ether",
      help: "The key's native balance, in ether: it pays every send's gas.",
      registers: [registry],
    }),
    bidderEquity: new Gauge({
      name: "pledge_keeper_bidder_equity_usd",
      help: "The bidder account's equity at initial-margin haircuts, USD.",
      registers: [registry],
    }),
    bidderExcessIM: new Gauge({
      name: "pledge_keeper_bidder_excess_im_usd",
      help: "The bidder account's equity over its initial-margin requirement, USD (negative: below IM, no bid can land).",
      registers: [registry],
    }),
    bidderHealth: new Gauge({
      name: "pledge_keeper_bidder_health",
      help: "1 for the bidder account's health (label health: HEALTHY, MARGIN_CALL, LIQUIDATABLE, INSOLVENT), 0 for the others.",
      labelNames: ["health"] as const,
      registers: [registry],
    }),
    headLag: new Gauge({
      name: "pledge_keeper_head_lag_seconds",
      help: "Wall time minus the timestamp of the node's latest block at the last tick: a stalled node or chain grows it.",
      registers: [registry],
    }),
    indexLag: new Gauge({
      name: "pledge_keeper_index_lag_blocks",
      help: "Blocks between the node's head and the index cursor at the last tick.",
      registers: [registry],
    }),
    lastTickAge: new Gauge({
      name: "pledge_keeper_last_tick_age_seconds",
      help: "Seconds since the last successful tick (-1 before the first).",
      registers: [registry],
      collect() {
        const at = lastTickAt();
        this.set(at === undefined ? -1 : (Date.now() - at) / 1_000);
      },
    }),
    indexedSeries: new Gauge({
      name: "pledge_keeper_indexed_series",
      help: "Series with holders in the index.",
      registers: [registry],
    }),
    openAuctions: new Gauge({
      name: "pledge_keeper_open_auctions",
      help: "Open auctions in the index.",
      registers: [registry],
    }),
    backstopSteps: new Counter({
      name: "pledge_keeper_backstop_steps_total",
      help: "Backstop steps (docs/backstop.md) by step (takeover, deleverage, absorbDebt) and outcome (sent, simulation_reverted, reverted, dry_run, incomplete: the indexed holders did not add up to the open interest, ...).",
      labelNames: ["step", "outcome"] as const,
      registers: [registry],
    }),
    auctionsLeft: new Counter({
      name: "pledge_keeper_auctions_left_total",
      help: "Auctions this keeper started without bidding, left to other bidders, by reason (margin, unprofitable, exposure, discount, capped, noPreview).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    bidsWithheld: new Gauge({
      name: "pledge_keeper_bids_withheld",
      help: "Accounts below MM the keeper did not bid on in its last tick, by reason (margin: no room left over its reserve; discount, capped, unprofitable, exposure, noPreview).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    unvaluedAccounts: new Gauge({
      name: "pledge_keeper_unvalued_accounts",
      help: "Accounts the engine refused to value in the last confirmation (a stale price of a position's underlying): left out, every other account acted on.",
      registers: [registry],
    }),
    insolventAccounts: new Gauge({
      name: "pledge_keeper_insolvent_accounts",
      help: "Accounts confirmed in the last tick with maintenance equity below zero (latent insolvency).",
      registers: [registry],
    }),
    latentShortfall: new Gauge({
      name: "pledge_keeper_latent_shortfall_usd",
      help: "Their summed negative maintenance equity, USD: what the insurance fund would owe if they were closed now.",
      registers: [registry],
    }),
    bidderPositions: new Gauge({
      name: "pledge_keeper_bidder_positions",
      help: "Live series the bidder account holds, at the last offload pass (offloading on).",
      registers: [registry],
    }),
    offloadedContracts: new Counter({
      name: "pledge_keeper_offloaded_contracts_total",
      help: "Contracts of the bidder's book closed through the counterparty's signed orders.",
      registers: [registry],
    }),
    offloadOrdersIgnored: new Counter({
      name: "pledge_keeper_offload_orders_ignored_total",
      help: "Counterparty orders not used to offload, by reason (malformed, overflow, duplicate, signer, taker, expired, price, dust, filled, closed, crossesZero, refused, unpriced, margin).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type KeeperMetrics = ReturnType<typeof createMetrics>;

/** What `/health` answers: its status code (200 healthy, 503 not) and a JSON body. */
export interface HealthReport {
  ok: boolean;
  body: unknown;
}

/**
 * Serves `/metrics` (Prometheus text) and `/health` (`health()`'s body as JSON, 200 when `ok`,
 * else 503) on `host`:`port`. `host` defaults to 127.0.0.1: a keeper's metrics are not for the
 * internet, pass `0.0.0.0` (or a private interface) to expose them.
 *
 * @example
 * const server = await serveMetrics(metrics, 9464, () => ({ ok: true, body: {} }));
 */
export async function serveMetrics(
  metrics: KeeperMetrics,
  port: number,
  health: () => HealthReport,
  host = "127.0.0.1",
): Promise<Server> {
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
      const { ok, body } = health();
      response.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
      response.end(JSON.stringify(body, (_, value: unknown) => (typeof value === "bigint" ? value.toString() : value)));
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return server;
}
