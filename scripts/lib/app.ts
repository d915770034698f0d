import { readFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { type Hex, parseUnits, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import { IndexerProcess, freePort } from "../../packages/indexer/lib/runner.js";
import {
  type AddressBook,
  type OrderProblem,
  type ReadClient,
  type SeriesId,
  type SignedOrder,
  asAccountId,
  asSeriesId,
  decodeSeries,
  orderInRange,
  seriesId,
  signOrder,
  verifyOrder,
} from "../../packages/sdk/src/index.js";
import { expiryAfter } from "./population.js";
import { createWorld } from "./seedWorld.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The web app's production build (`npm run build -w @pledge/web`). */
export const WEB_DIST = path.join(ROOT, "packages/web/dist");
/** Hardhat's development mnemonic: its node's accounts, public test keys with no value anywhere. */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
/** The node's accounts the app offers as development accounts (0–3 deploy and seed the world). */
const DEV_ACCOUNT_INDEXES = [5, 6];
/** The local development chain: the only one whose pledge.json carries development keys. */
export const LOCAL_CHAIN_ID = 31337;
/** Orders the app's server holds, in all and per maker account. */
const MAX_ORDERS = 1_000;
const MAX_ORDERS_PER_MAKER = 100;
/**
 * JSON-RPC methods the `/rpc` proxy never forwards: the page signs in the wallet and sends raw
 * transactions, so a call that makes the node sign with an unlocked account, or changes the
 * node's state by a test method, can only come from somebody else.
 */
const REFUSED_RPC =
  /^(eth_sendTransaction|eth_sign|eth_signTransaction|eth_signTypedData(_v\d)?|personal_\w+|hardhat_\w+|evm_\w+|debug_\w+|anvil_\w+)$/;
/** What each development wallet is given, in units. */
const DEV_GRANTS: Record<string, string> = { USDC: "1000000", WETH: "100", WBTC: "10" };

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export interface AppStackOptions {
  /**
   * The chain id of the node (31337, the local chain). Development keys are served only on
   * 31337: a stack on another chain id has no development accounts.
   */
  chainId: number;
  /** Ports: 0 (the default) for any free one. */
  nodePort?: number;
  webPort?: number;
  indexerPort?: number;
  /** Seeded short-call traders (besides the market maker and a keeper's bidder). */
  traders?: number;
  /** The node's accounts offered as development accounts (default 5 and 6). */
  devAccountIndexes?: number[];
  /** Start the indexer (the history screen's API); default true. */
  indexer?: boolean;
  log?: (line: string) => void;
}

/** A running local stack: node, deployment, seeded accounts, indexer and the app's web server. */
export interface AppStack {
  url: string;
  rpcUrl: string;
  indexerUrl: string | undefined;
  book: AddressBook;
  world: Awaited<ReturnType<typeof createWorld>>;
  /** The BTC series of the seeded chain (the world's call among them), in creation order. */
  chain: SeriesId[];
  devAccounts: { label: string; privateKey: Hex; address: `0x${string}` }[];
  close(): Promise<void>;
}

/**
 * `npm run app`'s stack, also the browser tests': a Hardhat node over HTTP, Pledge deployed and a
 * few accounts seeded (a market maker, a keeper's bidder, `traders` short BTC calls; the same
 * world as the keeper's and indexer's tests), two development wallets funded, the indexer
 * following the node, and a web server for `packages/web/dist` that serves `pledge.json` (chain,
 * RPC, indexer, address book, development keys) and proxies `/rpc` to the node and `/indexer/*`
 * to the indexer, so the page talks to one origin. Every wait has a deadline; `close()` stops
 * everything (also when the start fails half-way).
 */
export async function startAppStack(options: AppStackOptions): Promise<AppStack> {
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    await readFile(path.join(WEB_DIST, "index.html")).catch(() => {
      throw new Error(`no build of the web app at ${path.relative(ROOT, WEB_DIST)}: run npm run build -w @pledge/web`);
    });
    // Ignition's journal of this stack (a new node is a new chain): one per stack, so that the
    // tests' stacks and `npm run app`, all on chain 31337, never share one.
    const deploymentId = `app-${options.chainId}-${process.pid}-${Date.now().toString(36)}`;
    const journal = path.join(ROOT, "ignition", "deployments", deploymentId);
    await rm(journal, { recursive: true, force: true });
    cleanups.push(() => rm(journal, { recursive: true, force: true }));

    const server = await network.createServer(
      { network: "node", override: { chainId: options.chainId } },
      "127.0.0.1",
      options.nodePort ?? 0,
    );
    const listening = await server.listen();
    cleanups.push(() => server.close());
    const rpcUrl = `http://127.0.0.1:${listening.port}`;
    log(`node: ${rpcUrl} (chain ${options.chainId})`);

    const connection = await network.create({ network: "localhost", override: { url: rpcUrl } });
    const world = await createWorld({ accounts: options.traders ?? 3, connection, deploymentId });
    const book = world.book;
    log(`deployed and seeded: market maker, a keeper's bidder, ${world.traders.length} traders short BTC calls`);

    const wallets = await connection.viem.getWalletClients();
    // Development keys (Hardhat's public test keys) only for the local chain.
    const devIndexes = options.chainId === LOCAL_CHAIN_ID ? (options.devAccountIndexes ?? DEV_ACCOUNT_INDEXES) : [];
    const devAccounts = devIndexes.map((index) => {
      const account = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: index });
      const wallet = wallets[index];
      if (!wallet || wallet.account.address.toLowerCase() !== account.address.toLowerCase())
        throw new Error(`the node's account ${index} is not Hardhat's development account ${account.address}`);
      return {
        label: `Development account ${index}`,
        privateKey: toHex(account.getHdKey().privateKey!),
        address: account.address,
      };
    });
    const { usdc, weth, wbtc } = world.contracts;
    const tokens = { USDC: usdc, WETH: weth, WBTC: wbtc };
    for (const dev of devAccounts) {
      for (const entry of [book.cash, ...book.collateral]) {
        const token = tokens[entry.symbol as keyof typeof tokens];
        const amount = parseUnits(DEV_GRANTS[entry.symbol] ?? "0", entry.decimals);
        if (!token || amount === 0n) continue;
        const hash = await token.write.mint([dev.address, amount]);
        await world.publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 });
      }
    }
    log(`development wallets: ${devAccounts.map((d) => d.address).join(", ")}`);

    // A chain of strikes and expiries on BTC: calls and puts at 90, 100 and 110 % of the seeded
    // spot, expiring with the world's series (7 days) and 28 days out (the world's call is one).
    const chain = await seedChain(world);
    log(
      `series: ${chain.length} (BTC calls and puts, ${CHAIN_STRIKES.length} strikes × ${CHAIN_EXPIRY_DAYS.length} expiries)`,
    );

    // The market maker's quotes on every series: sells and buys 5 contracts 5 % off the mark.
    const orders: OrderJson[] = [];
    const maker = wallets[1]!;
    const mark = await world.contracts.engine.read.mark([world.series]);
    let nonce = 1_000_000n;
    for (const [size, priceWad] of [
      [-5n * 10n ** 18n, (mark * 105n) / 100n],
      [5n * 10n ** 18n, (mark * 95n) / 100n],
    ] as const) {
      const signed = await signOrder(maker, {
        addressBook: book,
        order: {
          account: world.marketMaker,
          seriesId: world.series,
          size,
          priceWad,
          taker: 0n,
          nonce: nonce++,
          deadline: world.expiry - 3_600n,
        },
      });
      orders.push(orderJson(signed));
    }

    const dir = await mkdtemp(path.join(tmpdir(), "pledge-app-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let indexer: IndexerProcess | undefined;
    if (options.indexer !== false) {
      const deployment = path.join(dir, `${options.chainId}.json`);
      await writeFile(deployment, JSON.stringify(book));
      indexer = new IndexerProcess({
        deployment,
        rpcUrl,
        port: options.indexerPort || (await freePort()),
        dataDir: path.join(dir, "pglite"),
        pollingMs: 250,
        cwd: ROOT,
      });
      cleanups.push(() => indexer!.stop());
      await indexer.ready();
      log(`indexer: ${indexer.url("/graphql")}`);
    }

    const config = {
      chainId: options.chainId,
      rpcUrl: "./rpc",
      indexerUrl: indexer ? "./indexer" : undefined,
      addressBook: book,
      devAccounts: devAccounts.map(({ label, privateKey }) => ({ label, privateKey })),
    };
    let port = 0;
    const web = createServer((request, response) => {
      const context = { config, rpcUrl, indexerUrl: indexer?.url(), orders, port, book, client: world.publicClient };
      serve(request, response, context).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve, reject) => {
      web.once("error", reject);
      web.listen(options.webPort ?? 0, "127.0.0.1", () => resolve());
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          web.close(() => resolve());
          web.closeAllConnections(); // a browser's keep-alive connections would hold close() open
        }),
    );
    port = (web.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}/`;
    return { url, rpcUrl, indexerUrl: indexer?.url(), book, world, chain, devAccounts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The seeded chain's strikes (USD; the world's spot is 60,000) and expiries (days from now). */
const CHAIN_STRIKES = [54_000n, 60_000n, 66_000n];
const CHAIN_EXPIRY_DAYS = [7, 28];

/**
 * Creates the chain's series that the world has not (its 7-day at-the-money call), calls and
 * puts: 3 strikes × 2 expiries × 2 = 12 series on BTC.
 */
async function seedChain(world: Awaited<ReturnType<typeof createWorld>>): Promise<SeriesId[]> {
  const { market } = world.contracts;
  const now = Number((await world.publicClient.getBlock()).timestamp);
  const underlyingIndex = Number(decodeSeries(world.series).underlyingIndex);
  const chain: SeriesId[] = [];
  for (const days of CHAIN_EXPIRY_DAYS) {
    // The first expiry is the world's own (its series' expiry), whatever day it is now.
    const expiry = days === CHAIN_EXPIRY_DAYS[0] ? world.expiry : BigInt(expiryAfter(now, days));
    for (const strike of CHAIN_STRIKES) {
      for (const isCall of [true, false]) {
        const spec = { underlyingIndex, expiry, isCall, strikeWad: strike * 10n ** 18n };
        const id = seriesId(spec);
        if (id !== world.series) {
          const hash = await market.write.createSeries([{ ...spec, expiry: Number(expiry) }]);
          await world.publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 });
        }
        chain.push(id);
      }
    }
  }
  return chain;
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Forwards a request to `target` and copies the answer back (10 s deadline). */
async function proxy(request: IncomingMessage, response: ServerResponse, target: string, payload?: Buffer) {
  const answer = await fetch(target, {
    method: request.method,
    headers: { "content-type": request.headers["content-type"] ?? "application/json" },
    body: request.method === "GET" || request.method === "HEAD" ? undefined : (payload ?? (await body(request))),
    signal: AbortSignal.timeout(10_000),
  });
  response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
  response.end(Buffer.from(await answer.arrayBuffer()));
}

interface ServeContext {
  config: unknown;
  rpcUrl: string;
  indexerUrl: string | undefined;
  orders: OrderJson[];
  /** The web server's port: the only Host and Origin it answers. */
  port: number;
  book: AddressBook;
  client: ReadClient;
}

const refuse = (response: ServerResponse, status: number, text: string) =>
  void response.writeHead(status, { "content-type": "text/plain" }).end(text);

/**
 * Whether a request may be answered: its Host is this server on a loopback name (no DNS
 * rebinding), an Origin it carries is this server's (no other site's page), and a POST is
 * `application/json` (a content type no cross-site "simple" request can have: another origin's
 * page would need a CORS preflight, which this server never approves).
 */
export function requestAllowed(
  headers: { host?: string | undefined; origin?: string | undefined; "content-type"?: string | undefined },
  method: string | undefined,
  port: number,
): string | undefined {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!own.includes((headers.host ?? "").toLowerCase())) return "unknown Host";
  if (headers.origin !== undefined && !own.some((host) => headers.origin!.toLowerCase() === `http://${host}`))
    return "foreign Origin";
  if (method !== "GET" && method !== "HEAD") {
    const type = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") return "content-type must be application/json";
  }
  return undefined;
}

async function serve(request: IncomingMessage, response: ServerResponse, context: ServeContext) {
  const url = new URL(request.url ?? "/", "http://localhost");
  const refused = requestAllowed(request.headers, request.method, context.port);
  if (refused) return refuse(response, 403, refused);
  if (url.pathname === "/pledge.json") {
    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    response.end(JSON.stringify(context.config));
    return;
  }
  if (url.pathname === "/rpc") {
    const payload = await body(request);
    let calls: unknown;
    try {
      calls = JSON.parse(payload.toString("utf8"));
    } catch {
      return refuse(response, 400, "not JSON-RPC");
    }
    const methods = (Array.isArray(calls) ? calls : [calls]).map((call) => (call as { method?: unknown })?.method);
    const bad = methods.find((method) => typeof method !== "string" || REFUSED_RPC.test(method));
    if (bad !== undefined || methods.length === 0) return refuse(response, 403, `${String(bad)} is not served here`);
    return proxy(request, response, context.rpcUrl, payload);
  }
  if (url.pathname === "/orders") {
    // A stand-in for an order book: signed orders kept in memory. Each is checked before it is
    // taken: fields in range, signed for this chain and market by its account's owner or an
    // operator, not cancelled, expired, below the account's minimum nonce or filled.
    if (request.method === "POST") {
      let json: unknown;
      try {
        json = JSON.parse((await body(request)).toString("utf8"));
      } catch {
        json = undefined;
      }
      const signed = orderFromJson(json);
      if (!signed) return refuse(response, 400, "not a signed order");
      const check = await verifyOrder(context.client, { signedOrder: signed, addressBook: context.book });
      if (!check.valid) return refuse(response, 400, ORDER_PROBLEMS[check.problem]);
      const entry = orderJson(signed);
      if (context.orders.some((o) => o.signature.toLowerCase() === entry.signature.toLowerCase()))
        return refuse(response, 409, "the server already holds this order.");
      const mineOf = () => context.orders.filter((o) => o.order.account === entry.order.account).length;
      // Orders that stopped being fillable (filled, cancelled, expired…) give their place back.
      if (context.orders.length >= MAX_ORDERS || mineOf() >= MAX_ORDERS_PER_MAKER)
        await pruneOrders(context.orders, context.client, context.book);
      if (context.orders.length >= MAX_ORDERS || mineOf() >= MAX_ORDERS_PER_MAKER)
        return refuse(response, 429, "the order book is full.");
      context.orders.push(entry);
      response.writeHead(204).end();
      return;
    }
    await pruneOrders(context.orders, context.client, context.book, PRUNE_EVERY_MS);
    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    response.end(JSON.stringify(context.orders));
    return;
  }
  if (url.pathname.startsWith("/indexer/") && context.indexerUrl)
    return proxy(request, response, `${context.indexerUrl}${url.pathname.slice("/indexer".length)}${url.search}`);
  const file = path.join(WEB_DIST, path.normalize(url.pathname === "/" ? "/index.html" : url.pathname));
  if (!file.startsWith(WEB_DIST)) {
    response.writeHead(403).end();
    return;
  }
  try {
    const content = await readFile(file);
    // Vite names every file under assets/ after its content: a browser may keep it for good (and
    // keep its compiled code with it); the page itself is asked for again each time.
    const hashed = url.pathname.startsWith("/assets/");
    response.writeHead(200, {
      "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    });
    response.end(content);
  } catch {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
}

/** Why the server refuses an order (`verifyOrder`'s problem), as a sentence for the page. */
const ORDER_PROBLEMS: Record<OrderProblem, string> = {
  outOfRange: "a field of the order is outside its type's range.",
  invalidSignature:
    "the signature is not the account owner's, an operator's it approved, or its ERC-1271 wallet's, for this chain and market.",
  cancelled: "the order was cancelled.",
  expired: "the order's deadline has passed.",
  nonceTooLow: "the order's nonce is below the account's minimum nonce (cancelled in bulk).",
  feeAccount: "the maker is the market's fee account, which never trades.",
  seriesNotFound: "the order's series does not exist on this market.",
  seriesExpired: "the order's series has expired.",
  filled: "the order is already filled.",
};

/** The server re-checks what it holds at most this often when it is read (and always when full). */
const PRUNE_EVERY_MS = 2_000;
const lastPrune = new WeakMap<OrderJson[], number>();

/**
 * Drops from `orders` (in place) those `verifyOrder` no longer finds fillable: filled, cancelled,
 * expired, a dead series… so they do not hold the book's places for ever (rv18b RV18b-2). An
 * order that cannot be checked now (the node does not answer) is kept.
 */
async function pruneOrders(orders: OrderJson[], client: ReadClient, book: AddressBook, everyMs = 0) {
  const now = Date.now();
  if (now - (lastPrune.get(orders) ?? 0) < everyMs) return;
  lastPrune.set(orders, now);
  const held = [...orders];
  const dead = new Set<OrderJson>();
  await Promise.all(
    held.map(async (entry) => {
      const signed = orderFromJson(entry);
      if (!signed) return void dead.add(entry);
      const check = await verifyOrder(client, { signedOrder: signed, addressBook: book }).catch(() => undefined);
      if (check !== undefined && !check.valid) dead.add(entry);
    }),
  );
  for (let i = orders.length - 1; i >= 0; i--) if (dead.has(orders[i]!)) orders.splice(i, 1);
}

const ORDER_FIELDS = ["account", "seriesId", "size", "priceWad", "taker", "nonce", "deadline"] as const;

/** A signed order as the page and `/orders` exchange it: integers as decimal strings. */
interface OrderJson {
  order: Record<(typeof ORDER_FIELDS)[number], string>;
  signature: `0x${string}`;
}

function orderJson({ order, signature }: SignedOrder): OrderJson {
  const fields = Object.fromEntries(ORDER_FIELDS.map((field) => [field, order[field].toString()]));
  return { order: fields as OrderJson["order"], signature };
}

/**
 * A signed order from JSON, or undefined: a 65-byte signature, every field a decimal string in
 * its EIP-712 type's range (uint256; `size` int256, not zero).
 */
export function orderFromJson(value: unknown): SignedOrder | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { order, signature } = value as { order?: Record<string, unknown>; signature?: unknown };
  if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) return undefined;
  if (typeof order !== "object" || order === null) return undefined;
  const ok = ORDER_FIELDS.every((field) => {
    const text = order[field];
    return typeof text === "string" && (field === "size" ? /^-?\d{1,78}$/ : /^\d{1,78}$/).test(text);
  });
  if (!ok) return undefined;
  const int = (field: (typeof ORDER_FIELDS)[number]) => BigInt(order[field] as string);
  const parsed = {
    account: int("account"),
    seriesId: int("seriesId"),
    size: int("size"),
    priceWad: int("priceWad"),
    taker: int("taker"),
    nonce: int("nonce"),
    deadline: int("deadline"),
  };
  // The ranges first: the SDK's id constructors throw outside them.
  if (parsed.size === 0n || !orderInRange(parsed as SignedOrder["order"])) return undefined;
  try {
    return {
      order: {
        ...parsed,
        account: asAccountId(parsed.account),
        seriesId: asSeriesId(parsed.seriesId),
        taker: parsed.taker === 0n ? 0n : asAccountId(parsed.taker),
      },
      signature: signature as `0x${string}`,
    };
  } catch {
    return undefined;
  }
}
