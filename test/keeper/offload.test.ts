import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { promisify } from "node:util";

import pino from "pino";
import {
  type Address,
  type Hex,
  createWalletClient,
  hexToBigInt,
  http,
  maxUint256,
  numberToHex,
  parseUnits,
  recoverTypedDataAddress,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  type AccountId,
  type Order,
  type SeriesId,
  type SignedOrder,
  Health,
  WAD,
  accountId,
  asAccountId,
  asSeriesId,
  formatAccount,
  getOrderStatus,
  orderDomain,
  orderTypes,
  seriesId,
  signOrder,
} from "@pledge/sdk";
import { ExitCode, KeeperStartupError, resolveRunConfig } from "../../packages/keeper/src/config.js";
import type { Sender } from "../../packages/keeper/src/executor.js";
import {
  BoundedMap,
  FEED_LIMITS,
  type HeldPosition,
  type Keeper,
  type KeeperOptions,
  type OffloadOptions,
  OrderFeedError,
  Outcome,
  createKeeper,
  createMetrics,
  createOffloadJob,
  createSender,
  createSignatureCheck,
  emptyIndex,
  fetchOrderFeed,
  fillFreedWad,
  fillNotionalWad,
  isCanonicalSignature,
  judgeFill,
  offloadCandidates,
  offloadGasGuard,
  offloadKey,
  offloadLimitWad,
  orderFeedJson,
  parseCounterparty,
  parseOrderFeed,
  signedBy,
} from "../../packages/keeper/src/index.js";
import { createExecute } from "../../packages/keeper/src/jobs/job.js";
import { createStats } from "../../packages/keeper/src/stats.js";
import { openStore } from "../../packages/keeper/src/store.js";
import { type World, createWorld } from "./helpers/world.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "packages/keeper/src/cli.ts");
const MARKET: Address = "0x00000000000000000000000000000000000000d2";

/** A pino logger whose lines land in `lines`, parsed. */
function capturingLogger(level = "info") {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

/** A counterparty's order feed: a local `node:http` server answering `body` (JSON) at `/orders`. */
async function serveFeed() {
  let body = "[]";
  let status = 200;
  const server: Server = createServer((request, response) => {
    if (request.url !== "/orders") {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(status, { "content-type": "application/json" });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/orders`,
    serve(orders: readonly SignedOrder[]) {
      body = orderFeedJson(orders);
      status = 200;
    },
    answer(text: string, code = 200) {
      body = text;
      status = code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A signer with a local key only: `signOrder` needs no node for it. */
function localSigner() {
  const account = privateKeyToAccount(generatePrivateKey());
  return { account, wallet: createWalletClient({ account, transport: http("http://127.0.0.1:1") }) };
}

const order = (account: AccountId, overrides: Partial<Order> = {}): Order => ({
  account,
  seriesId: asSeriesId(1234n),
  size: -(10n ** 18n),
  priceWad: 100n * WAD,
  taker: 0n,
  nonce: 1n,
  deadline: 2_000_000_000n,
  ...overrides,
});

describe("offload: the order feed and the counterparty (no chain)", () => {
  it("reads a feed in the SDK's order format, entry by entry; a text that is no list is refused", async () => {
    const maker = localSigner();
    const signed = await signOrder(maker.wallet, {
      order: order(accountId(maker.account.address, 1n), { size: -(3n ** 100n), priceWad: 2n ** 200n }),
      market: MARKET,
      chainId: 31337,
    });
    assert.deepEqual(parseOrderFeed(orderFeedJson([signed])), { orders: [signed], rejected: [] });
    // An object with an `orders` list is read too; hex and small numbers are integers as well.
    const loose = JSON.parse(orderFeedJson([signed])) as { order: Record<string, unknown> }[];
    loose[0]!.order.nonce = 1;
    loose[0]!.order.deadline = "0x773594" + "00";
    assert.deepEqual(parseOrderFeed(JSON.stringify({ orders: loose })).orders, [signed]);
    // Bad entries are rejected one by one, the good ones kept.
    const bad = [
      { order: { ...loose[0]!.order, size: "0" }, signature: signed.signature },
      { order: { ...loose[0]!.order, priceWad: 1.5 }, signature: signed.signature },
      { order: { ...loose[0]!.order, taker: "-1" }, signature: signed.signature },
      { order: loose[0]!.order },
      "not an order",
      loose[0],
    ];
    const feed = parseOrderFeed(JSON.stringify(bad));
    assert.equal(feed.orders.length, 1);
    assert.deepEqual(
      feed.rejected.map((r) => [r.reason, r.detail]),
      [
        ["malformed", "entry 0: size is 0"],
        ["malformed", "entry 1: priceWad is not an integer"],
        ["malformed", "entry 2: taker is out of range"],
        ["malformed", "entry 3: signature is not hex"],
        ["malformed", "entry 4: not an object"],
      ],
    );
    assert.throws(() => parseOrderFeed("<html>"), /not JSON/);
    assert.throws(() => parseOrderFeed('{"orderz": []}'), /not a JSON list of signed orders/);
  });

  it("keeps only the orders the counterparty's key signed for this chain and market", async () => {
    const maker = localSigner();
    const stranger = localSigner();
    const makerAccount = (subId: bigint) => accountId(maker.account.address, subId);
    const sign = (signer: ReturnType<typeof localSigner>, o: Order, chainId = 31337, market = MARKET) =>
      signOrder(signer.wallet, { order: o, market, chainId });
    const own1 = await sign(maker, order(makerAccount(1n)));
    const own2 = await sign(maker, order(makerAccount(2n)));
    const forged = await sign(stranger, order(makerAccount(1n), { nonce: 2n })); // the maker's account, another key
    const strangers = await sign(stranger, order(accountId(stranger.account.address, 1n)));
    const otherChain = await sign(maker, order(makerAccount(1n), { nonce: 3n }), 1);
    const otherMarket = await sign(maker, order(makerAccount(1n), { nonce: 4n }), 31337, stranger.account.address);
    const feed = { orders: [own1, own2, forged, strangers, otherChain, otherMarket], rejected: [] };
    const where = { chainId: 31337, market: MARKET };

    const anySub = await signedBy(feed, parseCounterparty(maker.account.address), where);
    assert.deepEqual(anySub.orders, [own1, own2]);
    assert.deepEqual(
      anySub.rejected.map((r) => r.reason),
      ["signer", "signer", "signer", "signer"],
    );
    assert.match(anySub.rejected[0]!.detail, new RegExp(`signed by ${stranger.account.address}`));
    const oneSub = await signedBy(feed, parseCounterparty(formatAccount(makerAccount(1n))), where);
    assert.deepEqual(oneSub.orders, [own1]);
  });

  it("parses the counterparty as an address or owner/subId, and nothing else", () => {
    const owner = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    assert.deepEqual(parseCounterparty(owner), { owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
    assert.deepEqual(parseCounterparty(`${owner}/7`).account, accountId(owner, 7n));
    for (const bad of ["", "0x1234", `${owner}/x`, `${owner}/1/2`, `${owner}/${1n << 96n}`, "alice"]) {
      assert.throws(() => parseCounterparty(bad), /expected an address or owner\/subId/);
    }
  });

  it("fetches a feed; an HTTP error or a body that is not a list is the URL's fault, silence is an outage", async () => {
    const feed = await serveFeed();
    try {
      assert.deepEqual(await fetchOrderFeed(feed.url, 2_000), { orders: [], rejected: [] });
      const refused = async (url: string, pattern: RegExp, answered: boolean) =>
        assert.rejects(
          fetchOrderFeed(url, 2_000),
          (error: unknown) =>
            error instanceof OrderFeedError && error.answered === answered && pattern.test(error.message),
        );
      await refused(`${feed.url}/nope`, /answered HTTP 404/, true);
      feed.answer("<html>oops</html>");
      await refused(feed.url, /answer is not JSON/, true);
      feed.answer("[]", 503);
      await refused(feed.url, /answered HTTP 503/, true);
      await feed.close();
      // Refused, or (a pooled connection) cut: either way nobody answered.
      await refused(feed.url, /^cannot reach the order feed: (ECONNREFUSED|UND_ERR_SOCKET)$/, false);
    } finally {
      await feed.close().catch(() => undefined);
    }
  });
});

describe("offload: which order, at what price (pure)", () => {
  const bidder = asAccountId(99n);
  const expiry = 2_000_000n;
  const short = seriesId({ underlyingIndex: 2, expiry, isCall: true, strikeWad: 60_000n * WAD });
  const long = seriesId({ underlyingIndex: 2, expiry, isCall: false, strikeWad: 50_000n * WAD });
  const positions: HeldPosition[] = [
    { seriesId: short, balance: -2n * WAD, markWad: 1_000n * WAD },
    { seriesId: long, balance: WAD, markWad: 500n * WAD },
  ];
  const counterparty = asAccountId(7n);
  const signed = (o: Partial<Order>): SignedOrder => ({ order: order(counterparty, o), signature: "0x01" as Hex });
  const policy = { bidderAccount: bidder, maxDiscountWad: WAD / 100n, timestamp: 1_000_000n };

  it("bounds the price by the mark and the discount, rounding against the counterparty", () => {
    assert.equal(offloadLimitWad(-WAD, 1_000n * WAD, WAD / 100n), 1_010n * WAD);
    assert.equal(offloadLimitWad(WAD, 1_000n * WAD, WAD / 100n), 990n * WAD);
    assert.equal(offloadLimitWad(-WAD, 3n, WAD / 3n), 3n, "3 × 1.333… rounds down");
    assert.equal(offloadLimitWad(WAD, 3n, WAD / 3n), 3n, "3 × 0.666… rounds up");
  });

  it("takes the opposite side of a held series within the bound, best price first, and says why it skips", () => {
    const sellAt = (price: bigint, o: Partial<Order> = {}) =>
      signed({ seriesId: short, size: -WAD, priceWad: price * WAD, ...o });
    const buyAt = (price: bigint, o: Partial<Order> = {}) =>
      signed({ seriesId: long, size: WAD, priceWad: price * WAD, ...o });
    const orders = [
      sellAt(1_005n),
      sellAt(1_011n), // dearer than the mark + 1 %
      sellAt(1_003n),
      sellAt(1_000n, { taker: asAccountId(5n) }), // for another taker
      sellAt(1_000n, { deadline: 999_999n }), // past its deadline
      signed({ seriesId: short, size: WAD, priceWad: 2_000n * WAD }), // a buy: would add to the short
      buyAt(496n),
      buyAt(489n), // cheaper than the mark − 1 %
      buyAt(499n, { taker: bidder }), // for the bidder: fine
      signed({ seriesId: asSeriesId(3n), size: -WAD, priceWad: 1n }), // a series the bidder does not hold
    ];
    const { candidates, skipped } = offloadCandidates(positions, orders, policy);
    const prices = (series: SeriesId) => candidates.get(series)!.map((c) => c.signedOrder.order.priceWad / WAD);
    assert.deepEqual(prices(short), [1_003n, 1_005n]);
    assert.deepEqual(prices(long), [499n, 496n]);
    assert.equal(candidates.get(short)![0]!.limitWad, 1_010n * WAD);
    assert.deepEqual(
      skipped.map((s) => [s.signedOrder.order.priceWad / WAD, s.reason]),
      [
        [1_011n, "price"],
        [1_000n, "taker"],
        [1_000n, "expired"],
        [489n, "price"],
      ],
    );
    // An expired position is the settlement job's.
    const expired = offloadCandidates(positions, orders, { ...policy, timestamp: expiry });
    assert.equal(expired.candidates.size, 0);
  });

  it("sends a fill only if accepted, within the bound with the taker fee, and leaving the bidder at or above IM", () => {
    const { candidates } = offloadCandidates(
      positions,
      [signed({ seriesId: short, size: -WAD, priceWad: 1_005n * WAD })],
      policy,
    );
    const candidate = candidates.get(short)![0]!;
    const margin = (initialExcess: bigint) => ({ initialExcess, maintenanceExcess: 0n, maintenanceEquity: 0n });
    const side = (before: bigint, after: bigint, reducing = true) => ({
      change: { reducing, givesUpLong: false },
      before: { priced: true, margin: margin(before), cash: 0n },
      after: { margin: margin(after), cash: 0n, holdsShort: true },
    });
    const simulation = (
      premium: bigint,
      takerFee: bigint,
      before: bigint,
      after: bigint,
      accepted = true,
      reducing = true,
    ) => ({
      accepted,
      premium,
      takerFee,
      taker: side(before, after, reducing),
    });
    const twoContracts = 2n * WAD; // at most 2 × 1,010 = 2,020 USDC, fee included
    assert.equal(judgeFill(candidate, twoContracts, simulation(2_010_000_000n, 10_000_000n, 0n, 5n), 6), undefined);
    assert.equal(judgeFill(candidate, twoContracts, simulation(2_010_000_000n, 10_000_001n, 0n, 5n), 6), "price");
    assert.equal(judgeFill(candidate, twoContracts, simulation(0n, 0n, 0n, 5n, false), 6), "refused");
    assert.equal(judgeFill(candidate, twoContracts, simulation(1n, 0n, 10n, -1n), 6), "margin");
    // Already below IM: a fill that brings the bidder closer to it is taken, one that does not is not.
    assert.equal(judgeFill(candidate, twoContracts, simulation(1n, 0n, -10n, -4n), 6), undefined);
    assert.equal(judgeFill(candidate, twoContracts, simulation(1n, 0n, -10n, -10n), 6), "margin");
    const unpriced = { ...simulation(1n, 0n, 0n, 0n), taker: undefined };
    assert.equal(judgeFill(candidate, twoContracts, unpriced, 6), "unpriced");
  });

  it("review r14b finding 10: a fill that would take the position past zero is refused as crossesZero, whatever else", () => {
    const { candidates } = offloadCandidates(
      positions,
      [signed({ seriesId: short, size: -5n * WAD, priceWad: 1_005n * WAD })],
      policy,
    );
    const candidate = candidates.get(short)![0]!;
    const margin = (initialExcess: bigint) => ({ initialExcess, maintenanceExcess: 0n, maintenanceEquity: 0n });
    // The book shrank since it was read (this tick's bids netted it): a fill of 2 now opens a long.
    // The chain's gate reads no `before` for a side that is not reducing: accepted, unpriced.
    const crossing = {
      accepted: true,
      premium: 2_010_000_000n,
      takerFee: 0n,
      taker: { change: { reducing: false, givesUpLong: false }, before: undefined, after: undefined },
    };
    assert.equal(judgeFill(candidate, 2n * WAD, crossing, 6), "crossesZero");
    const priced = {
      ...crossing,
      taker: { ...crossing.taker, before: { priced: true, margin: margin(0n), cash: 0n } },
    };
    assert.equal(judgeFill(candidate, 2n * WAD, { ...priced, accepted: false }, 6), "crossesZero");
  });
});

describe("offload settings", () => {
  const base = { rpc: ["http://a"], deployment: "d.json" };
  const refusedWith = (pattern: RegExp) => (error: unknown) =>
    error instanceof KeeperStartupError && error.exitCode === ExitCode.OFFLOAD && pattern.test(error.message);

  it("are off by default; the bound defaults to 1 %; each bad value is one line and exit code 14", () => {
    const off = resolveRunConfig(base);
    assert.equal(off.offloadOrders, undefined);
    assert.equal(off.offloadMaxDiscount, 10n ** 16n);
    const owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const on = resolveRunConfig(
      { ...base, "offload-orders": "https://mm.example/orders", "offload-max-discount": "0.5" },
      { "offload-counterparty": `${owner}/1` },
    );
    assert.equal(on.offloadOrders, "https://mm.example/orders");
    assert.deepEqual(on.offloadCounterparty, { owner, account: accountId(owner, 1n) });
    assert.equal(on.offloadMaxDiscount, 5n * 10n ** 15n);

    const orders = { "offload-orders": "http://127.0.0.1:9/orders" };
    const counterparty = { "offload-counterparty": owner };
    assert.throws(
      () => resolveRunConfig({ ...base, ...orders }),
      refusedWith(/--offload-orders needs --offload-counterparty/),
    );
    assert.throws(
      () => resolveRunConfig({ ...base, ...counterparty }),
      refusedWith(/--offload-counterparty needs --offload-orders/),
    );
    assert.throws(
      () => resolveRunConfig({ ...base, ...counterparty, "offload-orders": "ftp://x/orders" }),
      refusedWith(/^--offload-orders must be an http\(s\) URL, got ftp:\/\/x\/orders$/),
    );
    assert.throws(
      () => resolveRunConfig({ ...base, ...orders, "offload-counterparty": "alice/1" }),
      refusedWith(/^--offload-counterparty must be an address or owner\/subId, got alice\/1$/),
    );
    for (const percent of ["100", "-1", "1%", "abc"]) {
      assert.throws(
        () => resolveRunConfig({ ...base, ...orders, ...counterparty }, { "offload-max-discount": percent }, "k.json"),
        refusedWith(/^k\.json: offload-max-discount must be a percentage from 0 to below 100/),
      );
    }
  });

  it("review r14b finding 4: --offload-min-usd (or its config key) defaults to 100 USD; a bad value is one line and exit code 14", () => {
    const orders = { "offload-orders": "http://127.0.0.1:9/orders" };
    const counterparty = { "offload-counterparty": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" };
    assert.equal(resolveRunConfig(base).offloadMinUsd, "100");
    assert.equal(
      resolveRunConfig({ ...base, ...orders }, { ...counterparty, "offload-min-usd": "250.5" }).offloadMinUsd,
      "250.5",
    );
    assert.equal(resolveRunConfig({ ...base, ...orders, ...counterparty, "offload-min-usd": 0 }).offloadMinUsd, "0");
    for (const usd of ["abc", "-1", "1e3", "1,000", " "]) {
      assert.throws(
        () => resolveRunConfig({ ...base, ...orders, ...counterparty }, { "offload-min-usd": usd }, "k.json"),
        refusedWith(/^k\.json: offload-min-usd must be a number of USD, got/),
      );
      assert.throws(
        () => resolveRunConfig({ ...base, ...orders, ...counterparty, "offload-min-usd": usd }),
        refusedWith(/^--offload-min-usd must be a number of USD, got/),
      );
    }
  });

  it("pledge-keeper run refuses them before anything else, in one line, with exit code 14", async () => {
    const args = ["run", "--rpc", "http://127.0.0.1:9", "--deployment", "nowhere.json", "--key-env", "NO_KEY"];
    const result = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", CLI, ...args, "--offload-orders", "ftp://x", "--offload-counterparty", "0x1234"],
      { cwd: ROOT, timeout: 60_000 },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    assert.equal(result.code, ExitCode.OFFLOAD);
    assert.deepEqual(result.stderr.trim().split("\n"), ["error: --offload-orders must be an http(s) URL, got ftp://x"]);
    const owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const offload = ["--offload-orders", "http://127.0.0.1:9/orders", "--offload-counterparty", owner];
    const minUsd = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", CLI, ...args, ...offload, "--offload-min-usd", "lots"],
      { cwd: ROOT, timeout: 60_000 },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    assert.equal(minUsd.code, ExitCode.OFFLOAD);
    assert.deepEqual(minUsd.stderr.trim().split("\n"), ["error: --offload-min-usd must be a number of USD, got lots"]);
  });
});

/** The same signature with s → n − s and v flipped: the same signer to `ecrecover`, high-s (review r14b). */
function malleate(signature: Hex): Hex {
  const r = signature.slice(2, 66);
  const s = hexToBigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  const highS = numberToHex(SECP256K1_N - s, { size: 32 }).slice(2);
  return `0x${r}${highS}${(v === 27 ? 28 : 27).toString(16)}`;
}
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A feed server for one `body`, written in 64 KiB chunks; `written` counts what left it before the client hung up. */
async function serveBody(body: string, declareLength: boolean) {
  const state = { written: 0 };
  const bytes = Buffer.from(body);
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, {
      "content-type": "application/json",
      ...(declareLength ? { "content-length": String(bytes.length) } : {}),
    });
    let offset = 0;
    const pump = () => {
      while (offset < bytes.length && !response.destroyed) {
        const chunk = bytes.subarray(offset, offset + 65_536);
        offset += chunk.length;
        state.written += chunk.length;
        if (!response.write(chunk)) return void response.once("drain", pump);
      }
      if (!response.destroyed) response.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/orders`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("review r14b: offload regressions (no chain)", () => {
  const bidder = asAccountId(99n);
  const short = seriesId({ underlyingIndex: 2, expiry: 2_000_000n, isCall: true, strikeWad: 60_000n * WAD });
  const counterparty = asAccountId(7n);
  const signed = (o: Partial<Order>): SignedOrder => ({ order: order(counterparty, o), signature: "0x01" as Hex });
  const policy = { bidderAccount: bidder, maxDiscountWad: WAD / 100n, timestamp: 1_000_000n };

  it("finding 4: orders that cannot fill --offload-min-usd at the mark are dust, skipped before any read; larger first at one price", () => {
    const positions: HeldPosition[] = [{ seriesId: short, balance: -2n * WAD, markWad: 1_000n * WAD }];
    const sell = (contracts: bigint, price: bigint) =>
      signed({ seriesId: short, size: -contracts, priceWad: price * WAD });
    const dust = sell(WAD / 20n, 999n); // 0.05 contracts: 50 USD at the mark
    const orders = [dust, sell(WAD / 10n, 1_000n), sell(5n * WAD, 1_000n), sell(WAD, 1_000n)];
    const minFillUsdWad = 100n * WAD;
    const { candidates, skipped } = offloadCandidates(positions, orders, { ...policy, minFillUsdWad });
    // 0.1 contracts is exactly 100 USD: kept. At 1,000, the larger first (5 contracts fill the whole short).
    assert.deepEqual(
      candidates.get(short)!.map((c) => -c.signedOrder.order.size),
      [5n * WAD, WAD, WAD / 10n],
    );
    assert.deepEqual(
      skipped.map((s) => s.reason),
      ["dust"],
    );
    assert.equal(fillNotionalWad(-(WAD / 20n), 1_000n * WAD), 50n * WAD);
    // A position worth less than the minimum is left: every order for it is dust.
    const crumbs = [{ seriesId: short, balance: -(WAD / 100n), markWad: 1_000n * WAD }];
    const left = offloadCandidates(crumbs, orders, { ...policy, minFillUsdWad });
    assert.equal(left.candidates.size, 0);
    assert.deepEqual(
      left.skipped.map((s) => s.reason),
      ["dust", "dust", "dust", "dust"],
    );
    // Without a minimum (the library's default), the dust order comes first: the best price.
    assert.equal(offloadCandidates(positions, orders, policy).candidates.get(short)![0]!.signedOrder, dust);
  });

  it("finding 4: a fill whose gas at the fee cap is worth more than the margin it frees is refused by its guard", () => {
    const margin = (initialExcess: bigint) => ({ initialExcess, maintenanceExcess: 0n, maintenanceEquity: 0n });
    const simulation = (before: bigint, after: bigint) => ({
      taker: {
        before: { priced: true, margin: margin(before), cash: 0n },
        after: { margin: margin(after), cash: 0n, holdsShort: true },
      },
    });
    assert.equal(fillFreedWad(simulation(-5n * WAD, 7n * WAD)), 12n * WAD);
    assert.equal(fillFreedWad({ taker: undefined }), undefined);
    // 1M gas at 10 gwei, ETH at 3,000 USD: 30 USD.
    const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };
    const frees = (usd: bigint) => offloadGasGuard(usd * WAD, 3_000n * WAD);
    assert.equal(frees(30n).check(1_000_000n, fees), undefined);
    const guard = frees(29n);
    assert.equal(guard.check(1_000_000n, fees), "OffloadGasAboveFreed");
    assert.equal(guard.cost, 30n * WAD);
    assert.equal(
      offloadGasGuard(-1n, 3_000n * WAD).check(1n, fees),
      "OffloadGasAboveFreed",
      "a fill that frees nothing",
    );
    assert.equal(
      offloadGasGuard(0n, undefined).check(10n ** 9n, fees),
      undefined,
      "gas not priced: --offload-min-usd only",
    );
  });

  it("finding 5: a feed body over 1 MiB is refused as it streams in, or unread when its length says so", async () => {
    const body = `[${" ".repeat(16 * 1024 * 1024)}]`;
    for (const declareLength of [false, true]) {
      const feed = await serveBody(body, declareLength);
      try {
        const started = performance.now();
        await assert.rejects(
          fetchOrderFeed(feed.url, 10_000),
          (error: unknown) =>
            error instanceof OrderFeedError &&
            error.answered &&
            /^the order feed's answer is larger than 1048576 bytes$/.test(error.message),
        );
        const ms = performance.now() - started;
        await new Promise((resolve) => setTimeout(resolve, 100));
        const sentMiB = (feed.state.written / 2 ** 20).toFixed(1);
        console.log(
          `feed of 16 MiB (content-length ${declareLength}): refused in ${Math.round(ms)} ms, ${sentMiB} MiB sent`,
        );
        assert.ok(feed.state.written < 8 * 2 ** 20, `the server wrote ${sentMiB} MiB: the read did not stop`);
      } finally {
        await feed.close();
      }
    }
    // A smaller limit, for a feed that is fine under the default.
    const small = await serveBody("[]".padEnd(100, " "), false);
    try {
      assert.deepEqual(await fetchOrderFeed(small.url, 2_000), { orders: [], rejected: [] });
      await assert.rejects(fetchOrderFeed(small.url, 2_000, { maxBytes: 99 }), /larger than 99 bytes/);
    } finally {
      await small.close();
    }
  });

  it("finding 5: only the first 1,000 entries are read; the rest are rejected as overflow, unparsed", async () => {
    const maker = localSigner();
    const one = await signOrder(maker.wallet, {
      order: order(accountId(maker.account.address, 1n)),
      market: MARKET,
      chainId: 31337,
    });
    const entries = JSON.parse(orderFeedJson([one])) as unknown[];
    const text = JSON.stringify([...Array.from({ length: 1_000 }, () => entries[0]), ..."x".repeat(500)]);
    const feed = parseOrderFeed(text);
    assert.equal(feed.orders.length, 1_000);
    assert.equal(feed.rejected.length, 500);
    assert.ok(feed.rejected.every((r) => r.reason === "overflow"));
    assert.equal(feed.rejected[0]!.detail, "entry 1000: past the first 1000");
    assert.equal(parseOrderFeed(text, { maxEntries: 10 }).orders.length, 10);
    assert.equal(FEED_LIMITS.maxEntries, 1_000);
  });

  it("finding 5: 999 entries for a series the bidder does not hold cost no signature; a checked one is recovered once", async () => {
    const maker = localSigner();
    const makerAccount = accountId(maker.account.address, 1n);
    const base = order(makerAccount, { seriesId: short, size: -WAD, priceWad: 1_000n * WAD });
    const real = await signOrder(maker.wallet, { order: base, market: MARKET, chainId: 31337 });
    // One real signature replayed over 1,000 entries that differ by nonce (what a relay can do).
    const other = asSeriesId(BigInt(short) + 1n);
    const replayed = Array.from({ length: 999 }, (_, i) => ({
      order: { ...base, seriesId: other, nonce: BigInt(i + 2) },
      signature: real.signature,
    }));
    const check = createSignatureCheck({ owner: maker.account.address }, { chainId: 31337, market: MARKET });
    const positions: HeldPosition[] = [{ seriesId: short, balance: -2n * WAD, markWad: 1_000n * WAD }];
    const feed = parseOrderFeed(orderFeedJson([...replayed, real])); // 1,000 entries: the cap
    const ours = feed.orders.filter((o) => check.ours(o.order));
    const { candidates } = offloadCandidates(positions, ours, { ...policy, minFillUsdWad: 100n * WAD });
    // What cost seconds was a signature recovery per entry: none is needed to filter (counted, not timed).
    assert.equal(candidates.get(short)!.length, 1);
    assert.equal(check.recoveries, 0);
    // Checked: once; the same entry again (next tick) comes from the cache.
    assert.deepEqual(await check.verify(real), { ok: true });
    assert.deepEqual(await check.verify({ ...real }), { ok: true });
    assert.equal(check.recoveries, 1);
    const forged = await check.verify(replayed[0]!);
    assert.equal(forged.ok, false);
    assert.equal(check.recoveries, 2);
    // The cache is bounded: the least recently used verdicts go first.
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1);
    map.set("b", 2);
    map.get("a");
    map.set("c", 3);
    assert.deepEqual([map.get("a"), map.get("b"), map.get("c"), map.size], [1, undefined, 3, 2]);
  });

  it("finding 6: a signature the market refuses (high s, v 0/1, 64 bytes) is not the counterparty's, though viem recovers the first two", async () => {
    const maker = localSigner();
    const good = await signOrder(maker.wallet, {
      order: order(accountId(maker.account.address, 1n)),
      market: MARKET,
      chainId: 31337,
    });
    const where = { chainId: 31337, market: MARKET };
    const highS = { ...good, signature: malleate(good.signature) };
    const v = parseInt(good.signature.slice(130), 16);
    const yParity = { ...good, signature: `${good.signature.slice(0, 130)}0${v - 27}` as Hex };
    const s = hexToBigInt(`0x${good.signature.slice(66, 130)}`);
    const compact = {
      ...good,
      signature: numberToHex((hexToBigInt(`0x${good.signature.slice(2, 66)}`) << 256n) | (BigInt(v - 27) << 255n) | s, {
        size: 64,
      }),
    };
    for (const copy of [highS, yParity, compact]) assert.equal(isCanonicalSignature(copy.signature), false);
    for (const copy of [highS, yParity]) {
      // The bug: viem recovers the owner from these, so the copy passed for the counterparty's.
      assert.equal(
        (
          await recoverTypedDataAddress({
            domain: orderDomain(31337, MARKET),
            types: orderTypes,
            primaryType: "Order",
            message: good.order,
            signature: copy.signature,
          })
        ).toLowerCase(),
        maker.account.address.toLowerCase(),
      );
    }
    assert.equal(isCanonicalSignature(good.signature), true);
    const kept = await signedBy(
      { orders: [highS, yParity, compact, good], rejected: [] },
      { owner: maker.account.address },
      where,
    );
    assert.deepEqual(kept.orders, [good]);
    assert.deepEqual(
      kept.rejected.map((r) => r.reason),
      ["signer", "signer", "signer"],
    );
    assert.match(kept.rejected[0]!.detail, /a signature the market refuses/);
  });
});

/** The keeper of `world.keepers[which]`, silent unless `extra.logger`. */
function keeperFor(world: World, which: number, extra: Partial<KeeperOptions> = {}): Keeper {
  const keeper = world.keepers[which]!;
  return createKeeper({
    publicClient: world.publicClient as never,
    walletClient: keeper.wallet as never,
    addressBook: world.book,
    bidderAccount: keeper.bidderAccount,
    logger: pino({ level: "silent" }),
    ...extra,
  });
}

async function belowMM(world: World) {
  const states = await world.contracts.engine.read.accountsMargin([world.traders]);
  return world.traders.filter((_, i) => states[i]!.health >= Health.LIQUIDATABLE);
}

/** Ticks `keepers` in turn until no auction is open on `accounts`, moving time on when nothing happens. */
async function tickUntilResolved(world: World, keepers: Keeper[], accounts: readonly bigint[]) {
  for (let round = 0; round < 40; round++) {
    for (const keeper of keepers) await keeper.tick();
    let open = 0;
    for (const account of accounts) if ((await world.contracts.liquidator.read.auctionOf([account])).active) open++;
    if (open === 0) return;
    await world.testClient.increaseTime({ seconds: 60 });
  }
  throw new Error("auctions still open after 40 rounds");
}

describe("the bidder's own book on the in-process chain", () => {
  it("start-and-leave: a bidder with no margin to spare starts every auction, bids on none, and others can", async () => {
    const world = await createWorld({ accounts: 8, keepers: 2 });
    const { lines, logger } = capturingLogger();
    // Sub-account 2 of the first keeper's key holds nothing: no excess over IM to bid with.
    const poorBidder = accountId(world.keepers[0]!.wallet.account.address, 2n);
    const poor = keeperFor(world, 0, { bidderAccount: poorBidder, logger });
    await poor.tick();
    await world.setSpot(69_000);
    const flagged = await belowMM(world);
    assert.ok(flagged.length >= 4, `only ${flagged.length} accounts fell below MM`);
    await poor.tick();
    const { liquidator } = world.contracts;
    for (const account of flagged) assert.ok((await liquidator.read.auctionOf([account])).active, "auction started");
    const left = lines.filter((line) => line.event === "auctionStarted");
    assert.equal(left.length, flagged.length);
    assert.ok(left.every((line) => line.reason === "margin"));
    assert.equal(poor.stats().bids, 0);
    assert.equal(poor.stats().auctionsStarted, flagged.length);
    // Another keeper with capital takes the slices of the auctions left to it.
    const rich = keeperFor(world, 1);
    await tickUntilResolved(world, [poor, rich], flagged);
    const bids = await world.publicClient.getContractEvents({
      address: liquidator.address,
      abi: liquidator.abi,
      eventName: "Bid",
      fromBlock: 0n,
    });
    assert.ok(bids.length >= flagged.length);
    assert.ok(bids.every((bid) => bid.args.bidderAccount === world.keepers[1]!.bidderAccount));
    assert.equal(poor.stats().bids, 0);
  });

  it("offloads the slices it bought through a counterparty's signed orders: bounded, signed, once", async () => {
    const world = await createWorld({ accounts: 10 });
    const wallets = await world.connection.viem.getWalletClients();
    const makerWallet = wallets[1]!; // owns world.marketMaker, long the calls the traders are short
    const strangerWallet = wallets[6]!;
    const { contracts, publicClient, testClient, series, marketMaker } = world;
    const bidder = world.keepers[0]!.bidderAccount;
    const keeperAddress = world.keepers[0]!.wallet.account.address;

    // A stranger with money of its own, whose orders would fill if the keeper took them.
    const stranger = accountId(strangerWallet.account.address, 1n);
    const mined = async (hash: Promise<Hex>) =>
      assert.equal((await publicClient.waitForTransactionReceipt({ hash: await hash })).status, "success");
    await mined(contracts.usdc.write.mint([strangerWallet.account.address, parseUnits("10000000", 6)]));
    await mined(
      contracts.usdc.write.approve([contracts.vault.address, maxUint256], { account: strangerWallet.account }),
    );
    await mined(
      contracts.vault.write.deposit([stranger, contracts.usdc.address, parseUnits("10000000", 6)], {
        account: strangerWallet.account,
      }),
    );

    const feed = await serveFeed();
    const storePath = path.join(await mkdtemp(path.join(os.tmpdir(), "keeper-offload-")), "keeper.sqlite");
    const metricsPort = 21_000 + (process.pid % 1_000);
    const offload = {
      ordersUrl: feed.url,
      counterparty: parseCounterparty(formatAccount(marketMaker)),
      maxDiscountWad: WAD / 100n,
    };
    /** Armed for the restart step: the next `fill` stays in the mempool and its keeper hangs there. */
    let hangOnFill = false;
    let broadcast: () => void = () => {};
    const broadcastSeen = new Promise<void>((resolve) => (broadcast = resolve));
    const { lines, logger } = capturingLogger();
    const keeper = keeperFor(world, 0, {
      storePath,
      offload,
      metricsPort,
      logger,
      onSendStage: async (stage, action) => {
        if (!hangOnFill || action.kind !== "fill") return;
        if (stage === "recorded") return testClient.setAutomine(false);
        broadcast();
        await new Promise<never>(() => {}); // killed here, as far as this keeper is concerned
      },
    });
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    };

    try {
      // A cascade: the keeper buys slices, and its bidder ends up short the calls.
      await keeper.tick();
      await world.setSpot(69_000);
      const flagged = await belowMM(world);
      assert.ok(flagged.length >= 5);
      await tickUntilResolved(world, [keeper], flagged);
      const positionOf = () => contracts.market.read.positionOf([bidder, series]);
      const held = await positionOf();
      assert.ok(held < 0n, "the bidder holds the short calls it bought");
      const excessIM = async () => {
        const state = await contracts.engine.read.accountMargin([bidder]);
        return state.equityIM - state.requirementIM;
      };
      const excessBefore = await excessIM();

      const markWad = await contracts.engine.read.mark([series]);
      const deadline = (await publicClient.getBlock()).timestamp + 86_400n;
      let nonce = 0n;
      const sellOrder = (account: bigint, size: bigint, priceWad: bigint): Order => ({
        account: asAccountId(account),
        seriesId: series,
        size, // < 0: the maker sells, the bidder buys back its short
        priceWad,
        taker: 0n,
        nonce: ++nonce,
        deadline,
      });
      const sign = (wallet: (typeof wallets)[number], o: Order) =>
        signOrder(wallet, { addressBook: world.book, order: o });
      const percentOfMark = (perMille: bigint) => (markWad * perMille) / 1_000n;
      const tooDear = await sign(makerWallet, sellOrder(marketMaker, held, percentOfMark(1_050n)));
      // Cheaper, so they would come first: signed by a key that is not the counterparty's.
      const forged = await sign(strangerWallet, sellOrder(marketMaker, held, percentOfMark(990n)));
      const strangers = await sign(strangerWallet, sellOrder(stranger, held, percentOfMark(985n)));

      // 0. A feed that fails does not fail the tick; it is asked again a second later.
      feed.answer("oops", 500);
      await keeper.tick();
      assert.equal(await metric(`pledge_keeper_failures_total{error="OffloadFeedFailed"}`), 1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));

      // 1. Only a price beyond the bound and orders of the wrong signer: nothing is filled.
      feed.serve([tooDear, forged, strangers]);
      await keeper.tick();
      assert.equal(await positionOf(), held);
      assert.equal(await metric(`pledge_keeper_offload_orders_ignored_total{reason="price"}`), 1);
      assert.equal(await metric(`pledge_keeper_offload_orders_ignored_total{reason="signer"}`), 2);
      assert.equal(await metric("pledge_keeper_bidder_positions"), 1);

      // 2. A dry run finds the good order, simulates the fill and sends nothing.
      const half = held / 2n;
      const good = await sign(makerWallet, sellOrder(marketMaker, half, percentOfMark(1_002n)));
      feed.serve([tooDear, forged, strangers, good]);
      const dry = capturingLogger();
      await keeperFor(world, 0, { dryRun: true, offload, logger: dry.logger }).tick();
      assert.equal(await positionOf(), held);
      const wouldSend = dry.lines.filter((line) => line.event === "dryRun" && line.functionName === "fill");
      assert.equal(wouldSend.length, 1);

      // 3. The keeper buys back half its short from the good order: position down, excess over IM up.
      await keeper.tick();
      assert.equal(await positionOf(), held - half);
      const excessAfter = await excessIM();
      assert.ok(excessAfter > excessBefore, `excess over IM ${excessBefore} → ${excessAfter}`);
      assert.equal(
        (await getOrderStatus(publicClient, { order: good.order, addressBook: world.book })).state,
        "filled",
      );
      for (const ignored of [forged, strangers, tooDear]) {
        assert.equal(
          (await getOrderStatus(publicClient, { order: ignored.order, addressBook: world.book })).filled,
          0n,
        );
      }
      const offloaded = lines.filter((line) => line.event === "offloaded");
      assert.equal(offloaded.length, 1);
      assert.equal(offloaded[0]!.counterparty, formatAccount(marketMaker));
      const contractsOffloaded = await metric("pledge_keeper_offloaded_contracts_total");
      assert.ok(Math.abs(contractsOffloaded - Number(-half) / 1e18) < 1e-9, `${contractsOffloaded} contracts`);

      // 4. Killed with the next fill broadcast but not mined; a new keeper on the same store must
      //    not fill the rest a second time while that transaction can still mine.
      const rest = await sign(makerWallet, sellOrder(marketMaker, held, percentOfMark(1_003n)));
      feed.serve([good, rest]);
      hangOnFill = true;
      void keeper.tick();
      await broadcastSeen;
      const minedNonce = await publicClient.getTransactionCount({ address: keeperAddress });
      const sentNonce = () => publicClient.getTransactionCount({ address: keeperAddress, blockTag: "pending" });
      assert.equal(await sentNonce(), minedNonce + 1);
      const restarted = capturingLogger();
      const second = keeperFor(world, 0, { storePath, offload, reconcileWaitMs: 200, logger: restarted.logger });
      // A second fill would wait for a block that never comes: watch the mempool instead.
      let ticked = false;
      const ticking = second.tick().finally(() => (ticked = true));
      while (!ticked && (await sentNonce()) === minedNonce + 1) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await sentNonce(), minedNonce + 1, "a second fill was sent while the first could still mine");
      await ticking;
      assert.ok(restarted.lines.some((line) => line.event === "offloadInFlight"));
      await testClient.mine({ blocks: 1 });
      await testClient.setAutomine(true);
      await second.tick();
      await second.tick();
      assert.equal(await positionOf(), 0n, "the short is closed");
      const restStatus = await getOrderStatus(publicClient, { order: rest.order, addressBook: world.book });
      assert.equal(restStatus.filled, -(held - half), "the rest filled once");
      const fills = await publicClient.getContractEvents({
        address: contracts.market.address,
        abi: contracts.market.abi,
        eventName: "OrderFilled",
        args: { taker: bidder },
        fromBlock: 0n,
      });
      assert.equal(fills.length, 2, "two fills in all: half, then the rest");
      await second.stop();
      const store = openStore(storePath);
      const journaled = store.actions().filter((action) => action.kind === "fill");
      store.close();
      assert.deepEqual(
        journaled.map((action) => action.target),
        [offloadKey(series), offloadKey(series)],
      );
      assert.equal(journaled[0]!.status, "mined");
    } finally {
      await testClient.mine({ blocks: 1 }); // whatever a failed step left in the mempool
      await testClient.setAutomine(true);
      await keeper.stop();
      await feed.close();
    }
  });
});

/** Counters and gauges of a keeper's `/metrics`, by full name with labels. */
async function scrape(port: number) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
}

let nextMetricsPort = 22_000 + (process.pid % 1_000) * 4;

/**
 * Review r14b's set-up: a world whose first keeper's bidder bought short calls in a cascade (the
 * keeper ticked until no auction is open), the counterparty's feed (empty), and helpers to sign
 * the market maker's sell orders and count the bidder's fills.
 */
async function bidderHoldingShorts() {
  const world = await createWorld({ accounts: 4 });
  const wallets = await world.connection.viem.getWalletClients();
  const makerWallet = wallets[1]!;
  const feed = await serveFeed();
  const offload = {
    ordersUrl: feed.url,
    counterparty: parseCounterparty(formatAccount(world.marketMaker)),
    maxDiscountWad: WAD / 100n,
  };
  const buyer = keeperFor(world, 0);
  await buyer.tick();
  await world.setSpot(72_000);
  const flagged = await belowMM(world);
  assert.ok(flagged.length >= 1);
  await tickUntilResolved(world, [buyer], flagged);
  await buyer.stop();
  const bidder = world.keepers[0]!.bidderAccount;
  const positionOf = () => world.contracts.market.read.positionOf([bidder, world.series]);
  const held = await positionOf();
  assert.ok(held < 0n, "the bidder is short the calls it bought");
  const markWad = await world.contracts.engine.read.mark([world.series]);
  const deadline = (await world.publicClient.getBlock()).timestamp + 86_400n;
  let nonce = 100n;
  const sellOrder = (size: bigint, priceWad: bigint): Order => ({
    account: asAccountId(world.marketMaker),
    seriesId: world.series,
    size,
    priceWad,
    taker: 0n,
    nonce: ++nonce,
    deadline,
  });
  const sign = (o: Order) => signOrder(makerWallet, { addressBook: world.book, order: o });
  const keeperAddress = world.keepers[0]!.wallet.account.address;
  const fillsBy = async () =>
    (
      await world.publicClient.getContractEvents({
        address: world.contracts.market.address,
        abi: world.contracts.market.abi,
        eventName: "OrderFilled",
        args: { taker: bidder },
        fromBlock: 0n,
      })
    ).length;
  /** A keeper on the same key that only offloads, with `/metrics` on a port of its own. */
  const offloader = (extra: Partial<KeeperOptions> = {}, offloadExtra: Partial<OffloadOptions> = {}) => {
    const metricsPort = nextMetricsPort++;
    const keeper = keeperFor(world, 0, {
      jobs: { liquidate: false, settle: false, marginCalls: false },
      offload: { ...offload, ...offloadExtra },
      metricsPort,
      ...extra,
    });
    return { keeper, metrics: async () => scrape(metricsPort) };
  };
  return { world, feed, offload, held, markWad, sellOrder, sign, positionOf, keeperAddress, fillsBy, offloader };
}

describe("review r14b: offload against a hostile order feed (in-process chain)", () => {
  it("finding 4: twenty dust orders priced ahead of the honest one are ignored as dust; the honest one fills at once", async () => {
    const { world, feed, held, markWad, sellOrder, sign, positionOf, keeperAddress, fillsBy, offloader } =
      await bidderHoldingShorts();
    const { keeper, metrics } = offloader();
    try {
      // One honest order for the whole short at the mark; twenty of 0.0001 contracts (about 1.20
      // USD of premium each) a tenth of a percent cheaper, so they come first by price.
      const whole = await sign(sellOrder(held, markWad));
      const dust: SignedOrder[] = [];
      for (let i = 0; i < 20; i++) dust.push(await sign(sellOrder(-(10n ** 14n), (markWad * 999n) / 1_000n)));
      feed.serve([...dust, whole]);
      const balance0 = await world.publicClient.getBalance({ address: keeperAddress });
      const fills0 = await fillsBy();
      for (let i = 0; i < 5; i++) await keeper.tick();
      const fills = (await fillsBy()) - fills0;
      const spent = balance0 - (await world.publicClient.getBalance({ address: keeperAddress }));
      console.log(`dust feed: ${fills} fill(s), ${spent} wei of gas, position ${await positionOf()}`);
      assert.equal(fills, 1, "one fill, of the honest order");
      assert.equal(await positionOf(), 0n, "the whole short offloaded");
      const metric = await metrics();
      assert.equal(metric(`pledge_keeper_offload_orders_ignored_total{reason="dust"}`), 20);
      assert.equal(metric(`pledge_keeper_outcomes_total{job="offload",outcome="sent"}`), 1);
    } finally {
      await keeper.stop();
      await feed.close();
    }
  });

  it("finding 4: a fill whose gas at the fee cap is worth more than the margin it frees is not sent (gas guard)", async () => {
    const { world, feed, held, markWad, sellOrder, sign, positionOf, keeperAddress, offloader } =
      await bidderHoldingShorts();
    // Gas priced absurdly (a native token at 10^12 USD), no minimum: only the guard can refuse.
    const dear = offloader({ nativePriceWad: 10n ** 30n }, { minFillUsdWad: 0n });
    const { lines, logger } = capturingLogger();
    const cheap = offloader({ logger });
    try {
      const half = await sign(sellOrder(held / 2n, markWad));
      feed.serve([half]);
      const balance0 = await world.publicClient.getBalance({ address: keeperAddress });
      await dear.keeper.tick();
      await dear.keeper.tick();
      assert.equal(await positionOf(), held, "nothing filled");
      assert.equal(await world.publicClient.getBalance({ address: keeperAddress }), balance0, "nothing sent");
      const metric = await dear.metrics();
      assert.equal(metric(`pledge_keeper_outcomes_total{job="offload",outcome="gas_guard"}`), 1);
      // Refused once (an estimate), then left alone for a while: counted as dust both ticks.
      assert.equal(metric(`pledge_keeper_offload_orders_ignored_total{reason="dust"}`), 2);
      // Priced at the oracle's ETH, the same fill frees far more than its gas: sent.
      await cheap.keeper.tick();
      assert.equal(await positionOf(), held - held / 2n);
      assert.ok(lines.some((line) => line.event === "offloaded"));
    } finally {
      await dear.keeper.stop();
      await cheap.keeper.stop();
      await feed.close();
    }
  });

  it("finding 5: a tick reading 1,000 feed entries recovers signatures only for what may fill, and caches them", async () => {
    const { world, feed, held, markWad, sellOrder, sign, offloader } = await bidderHoldingShorts();
    const { keeper, metrics } = offloader();
    try {
      // One real signature of the counterparty replayed over 1,000 entries that differ by nonce,
      // priced within the bound: for the series the bidder holds, then for another one.
      const real = await sign(sellOrder(held, (markWad * 1_011n) / 1_000n)); // beyond the bound: never filled
      const entries = (series: bigint) =>
        Array.from({ length: 1_000 }, (_, i) => ({
          order: { ...real.order, seriesId: asSeriesId(series), priceWad: markWad, nonce: BigInt(10_000 + i) },
          signature: real.signature,
        }));
      // No timing assertion (a loaded CI machine made one fail): what made a tick cost seconds was
      // recovering a signature per entry, and that is what is counted. Three rounds of an empty
      // feed, 1,000 entries on the held series and 1,000 on another.
      for (let round = 0; round < 3; round++) {
        feed.serve([]);
        await keeper.tick();
        feed.serve(entries(world.series));
        await keeper.tick();
        feed.serve(entries(world.series + 1n));
        await keeper.tick();
      }
      const metric = await metrics();
      // Each tick recovers at most 50 new signatures, and the ones it recovered before come from
      // the cache: 50, then 100, then 150 entries checked in the three ticks on the held series.
      assert.equal(metric(`pledge_keeper_offload_orders_ignored_total{reason="signer"}`), 300);
    } finally {
      await keeper.stop();
      await feed.close();
    }
  });

  it("finding 6: a best-priced copy of the counterparty's order with a malleated signature does not block the good order", async () => {
    const { feed, held, markWad, sellOrder, sign, positionOf, offloader } = await bidderHoldingShorts();
    const { keeper, metrics } = offloader();
    try {
      const good = await sign(sellOrder(held, markWad));
      const best = await sign(sellOrder(held, (markWad * 999n) / 1_000n));
      feed.serve([{ ...best, signature: malleate(best.signature) }, good]);
      await keeper.tick();
      assert.equal(await positionOf(), 0n, "the good order filled in the first tick");
      const metric = await metrics();
      assert.equal(metric(`pledge_keeper_offload_orders_ignored_total{reason="signer"}`), 1);
      assert.equal(metric(`pledge_keeper_outcomes_total{job="offload",outcome="simulation_reverted"}`), 0);
    } finally {
      await keeper.stop();
      await feed.close();
    }
  });

  it("finding 6: an order the chain refuses at send time is left alone; the next order of its series is tried, the series not cooled down", async () => {
    const { world, feed, offload, held, markWad, sellOrder, sign, positionOf } = await bidderHoldingShorts();
    const keeper = world.keepers[0]!;
    const metrics = createMetrics();
    const stats = createStats(metrics);
    const { lines, logger } = capturingLogger();
    const real = createSender({
      publicClient: world.publicClient as never,
      walletClient: keeper.wallet as never,
      maxFeePerGas: 500n * 10n ** 9n,
      maxPriorityFeePerGas: 2n * 10n ** 9n,
    });
    const poisoned = await sign(sellOrder(held, (markWad * 999n) / 1_000n)); // best priced, whole short
    const firstHalf = await sign(sellOrder(held / 2n, markWad));
    const rest = await sign(sellOrder(held, (markWad * 1_001n) / 1_000n));
    // The chain refuses the poisoned order at send time, as it refused a malleated signature
    // (`MarketInvalidSignature`, which `simulateFill` does not predict).
    let poisonedSends = 0;
    const sender: Pick<Sender, "send"> = {
      send: ((...call: Parameters<Sender["send"]>) => {
        const [filled] = call[3] as unknown as [Order];
        if (filled.nonce !== poisoned.order.nonce) return real.send(...call);
        poisonedSends++;
        return Promise.resolve({ outcome: Outcome.SIMULATION_REVERTED, errorName: "MarketInvalidSignature" });
      }) as Sender["send"],
    };
    const job = createOffloadJob(
      {
        publicClient: world.publicClient as never,
        addressBook: world.book,
        sender,
        senderAddress: keeper.wallet.account.address,
        execute: createExecute({ stats, metrics, log: logger, cooldownBlocks: 3n }),
        stats,
        metrics,
        log: logger,
      },
      { ...offload, bidderAccount: keeper.bidderAccount, fetchTimeoutMs: 2_000 },
    );
    const tick = async () => {
      const head = await world.publicClient.getBlock();
      return job.run({ index: emptyIndex(world.book.chainId, 0n), block: head.number, timestamp: head.timestamp });
    };
    try {
      feed.serve([poisoned, firstHalf, rest]);
      const first = await tick();
      assert.equal(poisonedSends, 1);
      assert.equal(await positionOf(), held - held / 2n, "the next order filled in the same tick");
      assert.deepEqual([first.sent, first.failed], [1, 1]);
      // The next block: the series is not cooling down, the refused order is left alone.
      const second = await tick();
      assert.equal(poisonedSends, 1, "the refused order is not tried again at once");
      assert.equal(await positionOf(), 0n, "the rest filled the block after");
      assert.deepEqual([second.sent, second.failed, second.skipped], [1, 0, 0]);
      assert.ok(
        lines.some((line) => line.error === "MarketInvalidSignature" && line.outcome === "simulation_reverted"),
      );
    } finally {
      await feed.close();
    }
  });

  it("finding 10: the book is read after this tick's bids, so what the tick bought is offloaded in the same tick", async () => {
    const world = await createWorld({ accounts: 4 });
    const wallets = await world.connection.viem.getWalletClients();
    const feed = await serveFeed();
    const bidder = world.keepers[0]!.bidderAccount;
    const keeper = keeperFor(world, 0, {
      offload: {
        ordersUrl: feed.url,
        counterparty: parseCounterparty(formatAccount(world.marketMaker)),
        maxDiscountWad: WAD / 100n,
      },
    });
    try {
      await keeper.tick();
      await world.setSpot(72_000);
      const flagged = await belowMM(world);
      assert.ok(flagged.length >= 1);
      // An offer for far more than the cascade can sell the bidder, 0.5 % over the mark.
      const markWad = await world.contracts.engine.read.mark([world.series]);
      const offer = await signOrder(wallets[1]!, {
        addressBook: world.book,
        order: {
          account: asAccountId(world.marketMaker),
          seriesId: world.series,
          size: -1_000n * WAD,
          priceWad: (markWad * 1_005n) / 1_000n,
          taker: 0n,
          nonce: 77n,
          deadline: (await world.publicClient.getBlock()).timestamp + 86_400n,
        },
      });
      feed.serve([offer]);
      let bought = 0n;
      for (let round = 0; round < 10; round++) {
        await keeper.tick();
        const { filled } = await getOrderStatus(world.publicClient, { order: offer.order, addressBook: world.book });
        bought = filled;
        // Every tick ends with nothing held: what its bids bought was filled in the same tick.
        assert.equal(await world.contracts.market.read.positionOf([bidder, world.series]), 0n, `round ${round}`);
        let open = 0;
        for (const account of flagged) if ((await world.contracts.liquidator.read.auctionOf([account])).active) open++;
        if (open === 0) break;
        await world.testClient.increaseTime({ seconds: 60 });
      }
      assert.ok(bought > 0n, "the bidder bought and offloaded");
    } finally {
      await keeper.stop();
      await feed.close();
    }
  });
});
