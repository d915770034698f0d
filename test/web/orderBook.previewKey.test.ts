import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { secp256k1 } from "@noble/curves/secp256k1";
import type { Page } from "playwright-core";
import { type Hex, bytesToHex, recoverAddress, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import {
  type SignedOrder,
  accountId,
  asAccountId,
  asSeriesId,
  cancelOrder,
  orderDigest,
} from "../../packages/sdk/src/index.js";
import { type AppStack, LOCAL_CHAIN_ID, startAppStack } from "../../scripts/lib/app.js";
import { launchBrowser } from "../web/helpers.js";

/**
 * Review rv18b's repro of RV18b-3 (chromium), kept as a regression test; it failed on r18/indexer
 * c4a4975, where the page's preview was keyed by `account-nonce-first 4 bytes of the signature`, not
 * by the order (now: the order's EIP-712 hash, and Fill sends the order previewed). A maker
 * who can sign two orders with the same account, nonce and signature prefix (an ERC-1271 maker
 * chooses its signature bytes; an EOA grinds r's first 32 bits, ~2^32 point additions, or
 * reuses k with a throwaway operator key — the way this test signs) replaces the previewed order
 * by a dearer one: the row keeps its key, the stale preview stays shown and Fill stays enabled,
 * and Fill sent the new order. Needs packages/web/dist (npm run build -w @pledge/web).
 */
const MNEMONIC = "test test test test test test test test test test test junk";

/** ECDSA with a chosen k (so two signatures share r): low s, v 27/28, as OpenZeppelin wants. */
function signWithK(hash: Hex, privateKey: Uint8Array, k: bigint): Hex {
  const n = secp256k1.CURVE.n;
  const d = BigInt(bytesToHex(privateKey));
  const R = secp256k1.ProjectivePoint.BASE.multiply(k).toAffine();
  const r = R.x % n;
  const inv = (a: bigint) => {
    let [t, newT, rr, newR] = [0n, 1n, n, ((a % n) + n) % n];
    while (newR !== 0n) {
      const q = rr / newR;
      [t, newT] = [newT, t - q * newT];
      [rr, newR] = [newR, rr - q * newR];
    }
    return ((t % n) + n) % n;
  };
  let s = (inv(k) * ((BigInt(hash) + r * d) % n)) % n;
  let odd = R.y % 2n === 1n;
  if (s > n / 2n) {
    s = n - s;
    odd = !odd;
  }
  return `0x${r.toString(16).padStart(64, "0")}${s.toString(16).padStart(64, "0")}${odd ? "1c" : "1b"}` as Hex;
}

describe("rv18b regression: Fill sends the order that was previewed (chromium)", { timeout: 300_000 }, () => {
  let stack: AppStack | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let page: Page;
  const settled = "[data-testid=trade-status][data-state=confirmed], [data-testid=trade-status][data-state=failed]";

  before(async () => {
    stack = await startAppStack({ chainId: LOCAL_CHAIN_ID, indexer: false, traders: 1 });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("RV18b-3: a previewed order replaced by one with the same account, nonce and signature prefix is not filled", async () => {
    const s = stack!;
    const makerKey = mnemonicToAccount(MNEMONIC, { addressIndex: 1 }).getHdKey().privateKey!;
    const makerAddress = mnemonicToAccount(MNEMONIC, { addressIndex: 1 }).address;
    const mark = await s.world.contracts.engine.read.mark([s.world.series]);
    const order = (priceWad: bigint) => ({
      account: asAccountId(s.world.marketMaker),
      seriesId: asSeriesId(s.world.series),
      size: -(10n ** 18n),
      priceWad,
      taker: 0n as const,
      nonce: 555n,
      deadline: s.world.expiry - 3_600n,
    });
    const k = 0x1234567890abcdefn;
    const signedOf = async (priceWad: bigint): Promise<SignedOrder> => {
      const o = order(priceWad);
      const signature = signWithK(orderDigest(o, s.book), makerKey, k);
      assert.equal(
        (await recoverAddress({ hash: orderDigest(o, s.book), signature })).toLowerCase(),
        makerAddress.toLowerCase(),
      );
      return { order: o, signature };
    };
    const cheap = await signedOf((mark * 105n) / 100n);
    const dear = await signedOf(mark * 10n);
    assert.equal(cheap.signature.slice(0, 10), dear.signature.slice(0, 10));
    const post = async (signed: SignedOrder) => {
      const response = await fetch(`${s.url}orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          order: Object.fromEntries(Object.entries(signed.order).map(([f, v]) => [f, v.toString()])),
          signature: signed.signature,
        }),
      });
      assert.equal(response.status, 204, await response.text());
    };
    await post(cheap);

    const dev = s.devAccounts[0]!;
    const taker = accountId(dev.address, 1n);
    await page.goto(s.url);
    await page.getByRole("button", { name: dev.label }).click();
    await page.getByTestId("balances").waitFor();
    await page.getByTestId("amount").fill("20000");
    await page.getByTestId("deposit").click();
    await page.locator("[data-testid=tx-status][data-state=confirmed]").waitFor({ timeout: 60_000 });
    await page.getByTestId("order-2").waitFor();

    await page.getByTestId("fill-size").fill("0.1");
    await page.getByTestId("preview-2").click();
    await page.getByTestId("fill-preview").waitFor();
    const previewed = (await page.getByTestId("fill-preview").textContent()) ?? "";
    assert.match(previewed, /the margin check passes/);
    const rowBefore = (await page.getByTestId("order-2").textContent()) ?? "";

    // The maker withdraws the previewed order and posts the dear one under the same key.
    const makerWallet = (await s.world.connection.viem.getWalletClients())[1]!;
    await cancelOrder(makerWallet, { publicClient: s.world.publicClient, addressBook: s.book, order: cheap.order });
    await post(dear);
    // A page expression (the test's tsconfig has no DOM types).
    await page.waitForFunction(
      `(() => {
        const row = document.querySelector("[data-testid=order-2]");
        return row !== null && row.textContent !== ${JSON.stringify(rowBefore)};
      })()`,
      undefined,
      { timeout: 30_000 },
    );
    const rowAfter = (await page.getByTestId("order-2").textContent()) ?? "";
    const stillShown =
      (await page
        .getByTestId("fill-preview")
        .textContent()
        .catch(() => "")) ?? "";
    const enabled = await page.getByTestId("fill-2").isEnabled();
    const cashBefore = await s.world.contracts.vault.read.cashOf([taker]).catch(() => undefined);
    let status = "";
    if (enabled) {
      await page.getByTestId("fill-2").click();
      await page.locator(settled).waitFor({ timeout: 60_000 });
      status = (await page.getByTestId("trade-status").textContent()) ?? "";
    }
    assert.equal(
      enabled,
      false,
      `previewed "${previewed}" on row "${rowBefore}"; the row became "${rowAfter}" with the preview ` +
        `still shown ("${stillShown}") and Fill enabled; clicking it: "${status}" (cash before ${cashBefore})`,
    );
  });
});
