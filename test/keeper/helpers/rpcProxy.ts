import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { seededRandom } from "../../../scripts/lib/population.js";

/** What the proxy injects, each a probability per request (on a seeded schedule). */
export interface Faults {
  /** Close the socket before forwarding (the client sees a network error). */
  drop: number;
  /** Forward, then close the socket: the call ran (a send was broadcast) but the answer is lost. */
  lose: number;
  /** Never answer: the client times out. */
  hang: number;
  /** Answer a JSON-RPC error, -32000 or -32603. */
  rpcError: number;
  /** Answer HTTP 500 or 429. */
  httpError: number;
  /** Forward after a delay of up to 100 ms. */
  delay: number;
  /** Start a stale spell: for the next 20 requests, `eth_blockNumber` and the latest block are served as they were. */
  stale: number;
}

interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: number | string | null;
  method: string;
  params?: unknown[];
}

/**
 * A JSON-RPC HTTP server on 127.0.0.1 in front of an EIP-1193 `request` (the in-process
 * chain), injecting faults from a seeded schedule. Not a mock: every call that is not
 * faulted runs on the real chain.
 */
export async function startRpcProxy(options: {
  request: (args: { method: string; params?: unknown[] }) => Promise<unknown>;
  seed: number;
  faults: Partial<Faults>;
}) {
  const random = seededRandom(options.seed);
  const faults: Faults = {
    drop: 0,
    lose: 0,
    hang: 0,
    rpcError: 0,
    httpError: 0,
    delay: 0,
    stale: 0,
    ...options.faults,
  };
  const injected: Record<keyof Faults | "forwarded", number> = {
    drop: 0,
    lose: 0,
    hang: 0,
    rpcError: 0,
    httpError: 0,
    delay: 0,
    stale: 0,
    forwarded: 0,
  };
  /** Last fresh answers to the "latest" questions, and how many more stale answers to give. */
  const cache = new Map<string, unknown>();
  let staleLeft = 0;
  const hanging = new Set<() => void>();

  const answer = async (call: JsonRpcRequest): Promise<unknown> => {
    const latestKey =
      call.method === "eth_blockNumber"
        ? "blockNumber"
        : call.method === "eth_getBlockByNumber" && call.params?.[0] === "latest"
          ? "latestBlock"
          : undefined;
    if (latestKey !== undefined && staleLeft > 0 && cache.has(latestKey)) {
      staleLeft--;
      injected.stale++;
      return { jsonrpc: "2.0", id: call.id, result: cache.get(latestKey) };
    }
    try {
      const result = await options.request({ method: call.method, ...(call.params ? { params: call.params } : {}) });
      if (latestKey !== undefined && staleLeft === 0) cache.set(latestKey, result);
      injected.forwarded++;
      return { jsonrpc: "2.0", id: call.id, result: result ?? null };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: call.id,
        error: { code: e.code ?? -32603, message: e.message ?? String(error), data: e.data },
      };
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonRpcRequest | JsonRpcRequest[];
        const roll = random();
        let edge = 0;
        const hit = (p: number) => roll >= edge && roll < (edge += p);
        if (hit(faults.stale)) {
          injected.stale++;
          staleLeft = 20;
        }
        if (hit(faults.drop)) {
          injected.drop++;
          req.socket.destroy();
          return;
        }
        if (hit(faults.hang)) {
          injected.hang++;
          await new Promise<void>((resolve) => hanging.add(resolve));
          req.socket.destroy();
          return;
        }
        const first = Array.isArray(body) ? body[0] : body;
        if (hit(faults.rpcError)) {
          injected.rpcError++;
          const code = random() < 0.5 ? -32000 : -32603;
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({ jsonrpc: "2.0", id: first?.id ?? null, error: { code, message: "injected fault" } }),
          );
          return;
        }
        if (hit(faults.httpError)) {
          injected.httpError++;
          res.writeHead(random() < 0.5 ? 500 : 429);
          res.end("injected fault");
          return;
        }
        if (hit(faults.delay)) {
          injected.delay++;
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 100)));
        }
        const lose = hit(faults.lose);
        const reply = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
        if (lose) {
          injected.lose++;
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(reply));
      })().catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    injected,
    async close() {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
