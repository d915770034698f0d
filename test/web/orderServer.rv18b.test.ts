import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  accountId,
  asAccountId,
  asSeriesId,
  cancelOrder,
  optionMarketAbi,
  signOrder,
  simulateFill,
  verifyOrder,
} from "../../packages/sdk/src/index.js";
import { type AppStack, startAppStack } from "../../scripts/lib/app.js";

/**
 * Review rv18b's repros (RV18b-1, RV18b-2), kept as regression tests: orders the SDK's `verifyOrder`
 * called valid (so the app server took them, and the page showed them) that the chain's `fill`
 * refuses for every taker. Each failed on r18/indexer c4a4975. Also: the server prunes orders
 * that stopped being fillable, and says why it refuses one in a sentence.
 * Needs packages/web/dist (npm run build -w @pledge/web).
 */
type OrderJson = { order: Record<string, string>; signature: `0x${string}` };

describe("rv18b regressions: verifyOrder and the order server vs the chain's fill", { timeout: 240_000 }, () => {
  const chainId = 798_100 + (process.pid % 800);
  let stack: AppStack;
  const wallet = async (index: number) => (await stack.world.connection.viem.getWalletClients())[index]!;
  const json = (signed: { order: Record<string, bigint>; signature: `0x${string}` }): OrderJson => ({
    order: Object.fromEntries(Object.entries(signed.order).map(([k, v]) => [k, v.toString()])),
    signature: signed.signature,
  });
  const post = (body: unknown) =>
    fetch(`${stack.url}orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  /** What the chain says to `fill(order, sig, taker, size)` from the taker's owner (an eth_call). */
  const chainSays = async (signed: { order: never; signature: `0x${string}` }, from: `0x${string}`, taker: bigint) => {
    try {
      await stack.world.publicClient.simulateContract({
        account: from,
        address: stack.book.contracts.OptionMarket,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [signed.order, signed.signature, asAccountId(taker), 10n ** 17n],
      });
      return "accepted";
    } catch (error) {
      const named = (error as { walk: (f: (e: unknown) => boolean) => { data?: { errorName?: string } } | null }).walk(
        (e) => (e as { data?: { errorName?: string } }).data?.errorName !== undefined,
      );
      return named?.data?.errorName ?? (error as Error).message.split("\n").slice(0, 3).join(" ");
    }
  };

  before(async () => {
    stack = await startAppStack({ chainId, indexer: false, traders: 1 });
  });
  after(async () => {
    await stack?.close();
  });

  it("RV18b-1: an ERC-1271 maker answering the magic value with a non-zero tail is refused, as the chain refuses it", async () => {
    // A contract owner answering every isValidSignature with 0x1626ba7e ff…ff (32 bytes). OpenZeppelin's
    // SignatureChecker compares the whole returned word (`eq(mload(0), selector)`) and refuses it;
    // viem decodes the `bytes4` output from the first 4 bytes only, so the SDK accepts it.
    const wallet1271 = "0x00000000000000000000000000000000001271aa" as const;
    const word = `1626ba7e${"ff".repeat(28)}`;
    const runtime = `0x7f${word}60005260206000f3` as const;
    await stack.world.connection.provider.request({ method: "hardhat_setCode", params: [wallet1271, runtime] });
    const signed = {
      order: {
        account: accountId(wallet1271, 1n),
        seriesId: asSeriesId(stack.world.series),
        size: -(10n ** 18n),
        priceWad: 1n,
        taker: 0n as const,
        nonce: 1n,
        deadline: stack.world.expiry - 3_600n,
      },
      signature: `0x${"11".repeat(64)}1b` as const,
    };
    const check = await verifyOrder(stack.world.publicClient, { signedOrder: signed, addressBook: stack.book });
    const taker5 = await wallet(5);
    const chain = await chainSays(signed as never, taker5.account.address, accountId(taker5.account.address, 1n));
    const sim = await simulateFill(stack.world.publicClient, {
      signedOrder: signed,
      takerAccount: accountId(taker5.account.address, 1n),
      fillSize: 10n ** 17n,
      addressBook: stack.book,
    });
    const posted = await post(json(signed as never));
    assert.equal(chain, "MarketInvalidSignature", `the chain: ${chain}`);
    assert.equal(
      check.valid,
      false,
      `verifyOrder calls valid an order the chain refuses (${chain}); simulateFill predicts ` +
        `${sim.accepted ? "accepted" : sim.error?.name}; the app server answers HTTP ${posted.status}`,
    );
  });

  it("RV18b-2: an order on a series that does not exist is refused by verifyOrder and by the server", async () => {
    const maker = await wallet(1);
    const missing = asSeriesId(stack.world.series + (1n << 20n)); // another strike: never created
    assert.equal(await stack.world.contracts.market.read.seriesExists([missing]), false);
    const signed = await signOrder(maker, {
      addressBook: stack.book,
      order: {
        account: asAccountId(stack.world.marketMaker),
        seriesId: missing,
        size: -(10n ** 18n),
        priceWad: 10n ** 18n,
        taker: 0n,
        nonce: 77n,
        deadline: stack.world.expiry - 3_600n,
      },
    });
    const check = await verifyOrder(stack.world.publicClient, { signedOrder: signed, addressBook: stack.book });
    const taker5 = await wallet(5);
    const chain = await chainSays(signed as never, taker5.account.address, accountId(taker5.account.address, 1n));
    const posted = await post(json(signed as never));
    assert.equal(chain, "MarketSeriesNotFound");
    assert.equal(
      check.valid,
      false,
      `verifyOrder ("can be filled at all") says valid, remaining ${check.valid ? check.remaining : "-"}; ` +
        `the chain refuses every taker: ${chain}; the app server answers HTTP ${posted.status}`,
    );
    assert.equal(posted.status, 400);
    assert.equal(await posted.text(), "the order's series does not exist on this market.");
  });

  it("RV18b-2: the server drops an order once it is no longer fillable (cancelled)", async () => {
    const maker = await wallet(1);
    const signed = await signOrder(maker, {
      addressBook: stack.book,
      order: {
        account: asAccountId(stack.world.marketMaker),
        seriesId: asSeriesId(stack.world.series),
        size: -(10n ** 18n),
        priceWad: 10n ** 18n,
        taker: 0n,
        nonce: 78n,
        deadline: stack.world.expiry - 3_600n,
      },
    });
    const held = async () =>
      (
        (await (await fetch(`${stack.url}orders`, { signal: AbortSignal.timeout(10_000) })).json()) as OrderJson[]
      ).filter((o) => o.signature === signed.signature).length;
    assert.equal((await post(json(signed as never))).status, 204);
    assert.equal(await held(), 1);
    await cancelOrder(maker, { publicClient: stack.world.publicClient, addressBook: stack.book, order: signed.order });
    const deadline = Date.now() + 15_000;
    while ((await held()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await held(), 0, "a cancelled order keeps its place in the book");
  });
});
