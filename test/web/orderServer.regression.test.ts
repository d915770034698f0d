import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";

import { parseUnits } from "viem";

import {
  accountId,
  asAccountId,
  asSeriesId,
  deposit,
  fillOrder,
  signOrder,
  simulateFill,
} from "../../packages/sdk/src/index.js";
import { devAccountsOf } from "../../packages/web/src/devAccounts.js";
import { type AppStack, startAppStack } from "../../scripts/lib/app.js";

/**
 * Review rv18's repros of the app server and its order book (4a, 4b, 4c, 3a, 3b, 3c), kept as
 * regression tests: each failed on r18/indexer 597c5f9. No browser: the SDK calls the page makes
 * (Preview runs `simulateFill`) and the server's HTTP routes. The stack runs on a chain id that is
 * not the local chain's, so it must serve no development keys (3c).
 * Needs packages/web/dist (npm run build -w @pledge/web).
 */
type OrderJson = { order: Record<string, string>; signature: `0x${string}` };

describe("rv18 regressions: the /orders book and the app server's routes", { timeout: 240_000 }, () => {
  const chainId = 799_100 + (process.pid % 800); // not 31337
  let stack: AppStack;

  const toSigned = ({ order, signature }: OrderJson) => ({
    order: {
      account: asAccountId(BigInt(order.account!)),
      seriesId: asSeriesId(BigInt(order.seriesId!)),
      size: BigInt(order.size!),
      priceWad: BigInt(order.priceWad!),
      taker: 0n as const,
      nonce: BigInt(order.nonce!),
      deadline: BigInt(order.deadline!),
    },
    signature,
  });
  const orders = async () =>
    (await (await fetch(`${stack.url}orders`, { signal: AbortSignal.timeout(5_000) })).json()) as OrderJson[];
  const post = (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) =>
    fetch(`${stack.url}orders`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
  const wallet = async (index: number) => (await stack.world.connection.viem.getWalletClients())[index]!;

  before(async () => {
    stack = await startAppStack({ chainId, indexer: false, traders: 1 });
  });
  after(async () => {
    await stack?.close();
  });

  it("RV18-4a: the order server refuses an order whose signature is not its account owner's", async () => {
    const [offer] = await orders();
    // The market maker's offer re-priced to 1 wei per contract, its signature kept (so invalid).
    const forged = { ...offer!, order: { ...offer!.order, priceWad: "1", nonce: "42" } };
    const response = await post(forged);
    assert.equal(response.status, 400, `a forged order is accepted into the book (HTTP ${response.status})`);
    assert.match(await response.text(), /signature is not the account owner.s/);
    assert.equal((await orders()).length, 2, "the book holds the maker's two quotes only");
  });

  it("RV18-4a: it takes an order its owner signed, and refuses the same order twice", async () => {
    const maker = await wallet(1);
    const signed = await signOrder(maker, {
      addressBook: stack.book,
      order: {
        account: asAccountId(stack.world.marketMaker),
        seriesId: asSeriesId(stack.world.series),
        size: -(10n ** 18n),
        priceWad: 5_000n * 10n ** 18n,
        taker: 0n,
        nonce: 7n,
        deadline: stack.world.expiry - 3_600n,
      },
    });
    const json = {
      order: Object.fromEntries(Object.entries(signed.order).map(([k, v]) => [k, v.toString()])),
      signature: signed.signature,
    };
    assert.equal((await post(json)).status, 204);
    assert.equal((await post(json)).status, 409);
    assert.equal((await orders()).length, 3);
  });

  it("RV18-4b: the page's Preview (simulateFill) of a forged order predicts the chain's refusal", async () => {
    const book = stack.book;
    const { publicClient } = stack.world;
    const taker5 = await wallet(5);
    const taker = accountId(taker5.account.address, 1n);
    // No development accounts off the local chain: fund account 5 here.
    await publicClient.waitForTransactionReceipt({
      hash: await stack.world.contracts.usdc.write.mint([taker5.account.address, parseUnits("5000", 6)]),
    });
    await deposit(taker5, {
      publicClient,
      addressBook: book,
      account: taker,
      asset: book.cash.address,
      amount: parseUnits("5000", 6),
    });
    const [offer] = await orders();
    const forged = toSigned({ ...offer!, order: { ...offer!.order, priceWad: "1", nonce: "43" } });
    const sim = await simulateFill(publicClient, {
      signedOrder: forged,
      takerAccount: taker,
      fillSize: 10n ** 18n,
      addressBook: book,
    });
    // The chain refuses it (MarketInvalidSignature), before anything is sent.
    const refused = await fillOrder(taker5, {
      publicClient,
      addressBook: book,
      signedOrder: forged,
      takerAccount: taker,
      fillSize: 10n ** 18n,
    }).then(
      () => "filled",
      (error: Error) => error.message,
    );
    assert.notEqual(refused, "filled");
    assert.equal(sim.accepted, false, `simulateFill passes an order the chain refuses: ${refused}`);
    assert.equal(sim.error?.name, "MarketInvalidSignature");
    // The genuine offer still previews as accepted.
    const genuine = await simulateFill(publicClient, {
      signedOrder: toSigned(offer!),
      takerAccount: taker,
      fillSize: 10n ** 17n,
      addressBook: book,
    });
    assert.equal(genuine.accepted, true, String(genuine.error?.name));
  });

  it("RV18-4c: ids out of the uint256 range and a negative account are refused with HTTP 400", async () => {
    const [offer] = await orders();
    for (const [field, value] of [
      ["account", "-1"],
      ["seriesId", (1n << 256n).toString()],
      ["nonce", "-5"],
      ["size", (1n << 255n).toString()],
      ["size", "0"],
      ["taker", "1".repeat(78)],
    ] as const) {
      const response = await post({ ...offer!, order: { ...offer!.order, [field]: value } });
      assert.equal(response.status, 400, `${field} = ${value}: HTTP ${response.status}`);
    }
  });

  it("RV18-3a: a cross-site simple POST (text/plain, foreign Origin) cannot add orders to the book", async () => {
    const [offer] = await orders();
    const body = { ...offer!, order: { ...offer!.order, nonce: "44" } };
    const foreign = await post(body, { "content-type": "text/plain", origin: "https://evil.example" });
    assert.notEqual(foreign.status, 204, "another site's no-cors POST lands in the order book");
    assert.equal(foreign.status, 403);
    // Each check alone: the content type, the Origin, the Host (DNS rebinding).
    assert.equal((await post(body, { "content-type": "text/plain" })).status, 403);
    assert.equal(
      (await post(body, { "content-type": "application/json", origin: "https://evil.example" })).status,
      403,
    );
    // fetch() sets Host itself: a raw request names another host (a DNS-rebound name).
    const rebound = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${stack.url}pledge.json`,
        { headers: { host: `evil.example:${new URL(stack.url).port}` }, timeout: 5_000 },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on("error", reject);
      request.end();
    });
    assert.equal(rebound, 403, "a request for another Host name (DNS rebinding) is refused");
  });

  it("RV18-3b: the /rpc proxy refuses a cross-site write and never forwards signing or test methods", async () => {
    const from = (await wallet(5)).account.address;
    const send = (headers: Record<string, string>, method = "eth_sendTransaction") =>
      fetch(`${stack.url}rpc`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method,
          params:
            method === "eth_sendTransaction"
              ? [{ from, to: "0x000000000000000000000000000000000000dEaD", value: "0x1" }]
              : [],
        }),
        signal: AbortSignal.timeout(10_000),
      });
    const head = await stack.world.publicClient.getBlockNumber();
    for (const headers of <Record<string, string>[]>[
      { "content-type": "text/plain", origin: "https://evil.example" },
      { "content-type": "application/json" },
    ]) {
      const response = await send(headers);
      assert.equal(response.status, 403, JSON.stringify(headers));
    }
    assert.equal((await send({ "content-type": "application/json" }, "hardhat_mine")).status, 403);
    assert.equal(await stack.world.publicClient.getBlockNumber(), head, "nothing was mined");
    // What the page needs still passes.
    const chain = await send({ "content-type": "application/json" }, "eth_chainId");
    assert.equal(chain.status, 200);
  });

  it("RV18-3c: no private keys for a chain that is not 31337, and the page ignores keys off the local chain", async () => {
    const config = (await (await fetch(`${stack.url}pledge.json`)).json()) as {
      chainId: number;
      devAccounts?: unknown[];
    };
    assert.ok(
      config.chainId === 31337 || !config.devAccounts?.length,
      `chain ${config.chainId} served ${config.devAccounts?.length} private keys`,
    );
    // The page's own guard (main.tsx → devAccountsOf), for a pledge.json that carries keys anyway.
    const keys = [{ label: "k", privateKey: `0x${"11".repeat(32)}` as const }];
    const base = { rpcUrl: "./rpc", addressBook: stack.book, devAccounts: keys };
    assert.equal(devAccountsOf({ ...base, chainId: 31337 }, "http://127.0.0.1:5173/").accounts.length, 1);
    assert.match(devAccountsOf({ ...base, chainId: 1 }, "http://127.0.0.1:5173/").ignored ?? "", /not the local chain/);
    assert.equal(devAccountsOf({ ...base, chainId: 31337 }, "https://pledge.example/").accounts.length, 0);
    assert.equal(
      devAccountsOf({ ...base, chainId: 31337, rpcUrl: "https://rpc.example" }, "http://127.0.0.1:5173/").accounts
        .length,
      0,
    );
  });
});
