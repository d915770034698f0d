import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { Page } from "playwright-core";
import { getAddress } from "viem";

import { accountId, asAccountId, asSeriesId, getOrderStatus } from "../../packages/sdk/src/index.js";
import { type AppStack, LOCAL_CHAIN_ID, startAppStack } from "../../scripts/lib/app.js";
import { buildWeb, launchBrowser } from "./helpers.js";

type OrderJson = { order: Record<string, string>; signature: `0x${string}` };

/**
 * Review rv18's page repros (2a, 4c; they failed on r18/indexer 597c5f9) and the page's side of
 * 4a/4b/4d, in chromium: Fill sends exactly the previewed size; an order server that serves
 * malformed or forged orders cannot take the tables down or show them; the maker is shown in
 * full; the user's own orders are listed with Cancel.
 * Needs /usr/bin/chromium (or CHROMIUM_PATH).
 */
describe("rv18 regressions: orders on the page (chromium)", { timeout: 300_000 }, () => {
  let stack: AppStack | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let page: Page;
  const position = async () =>
    stack!.world.contracts.market.read.positionOf([accountId(stack!.devAccounts[0]!.address, 1n), stack!.world.series]);
  const settled = "[data-testid=trade-status][data-state=confirmed], [data-testid=trade-status][data-state=failed]";

  before(async () => {
    buildWeb();
    stack = await startAppStack({ chainId: LOCAL_CHAIN_ID, indexer: false, traders: 1 });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("RV18-2a: a fill after a preview is the previewed one; a new size needs a new preview", async () => {
    const dev = stack!.devAccounts[0]!;
    await page.goto(stack!.url);
    await page.getByRole("button", { name: dev.label }).click();
    await page.getByTestId("balances").waitFor();
    await page.getByTestId("amount").fill("20000");
    await page.getByTestId("deposit").click();
    await page.locator("[data-testid=tx-status][data-state=confirmed]").waitFor({ timeout: 60_000 });

    await page.getByTestId("orders").waitFor();
    assert.equal(await page.getByTestId("fill-0").isEnabled(), false, "Fill needs a preview");
    await page.getByTestId("fill-size").fill("0.1");
    await page.getByTestId("preview-0").click();
    await page.getByTestId("fill-preview").waitFor();
    const previewed = (await page.getByTestId("fill-preview").textContent()) ?? "";
    assert.match(previewed, /for 0\.1 contracts; the margin check passes\.$/);

    await page.getByTestId("fill-size").fill("1");
    const stillShown = await page.getByTestId("fill-preview").count();
    const enabled = await page.getByTestId("fill-0").isEnabled();
    if (enabled) {
      await page.getByTestId("fill-0").click();
      await page.locator(settled).waitFor({ timeout: 60_000 });
    }
    const status =
      (await page
        .getByTestId("trade-status")
        .textContent()
        .catch(() => "")) ?? "";
    const held = await position();
    assert.ok(
      held === 0n || held === 10n ** 17n,
      `previewed 0.1 ("${previewed}"), filled ${held} wei contracts: ${status}`,
    );
    assert.equal(enabled, false, "Fill is disabled once the size differs from the preview's");
    assert.equal(stillShown, 0, "the stale preview is cleared");

    // Previewing the new size enables Fill, which sends exactly it.
    await page.getByTestId("preview-0").click();
    await page.getByTestId("fill-preview").filter({ hasText: "for 1 contracts" }).waitFor();
    await page.getByTestId("fill-0").click();
    await page.locator(settled).waitFor({ timeout: 60_000 });
    assert.match((await page.getByTestId("trade-status").textContent()) ?? "", /^Confirmed: Filled 1 contracts/);
    assert.equal(await position(), 10n ** 18n);
    // The maker's offer (5 contracts) shows what is left of it, read from the chain.
    await page.getByTestId("order-0").getByTestId("left").filter({ hasText: /^4$/ }).waitFor();
  });

  it("RV18-4c/4a: malformed and forged orders from the server are hidden; the tables stay; the maker is shown in full", async () => {
    const real = (await (await fetch(`${stack!.url}orders`)).json()) as OrderJson[];
    const offer = real[0]!;
    const served = [
      ...real,
      { ...offer, order: { ...offer.order, account: "-1" } }, // rv18's repro: asAccountId threw for every user
      { ...offer, order: { ...offer.order, seriesId: (1n << 256n).toString() } },
      { nonsense: true },
      { ...offer, order: { ...offer.order, priceWad: "1", nonce: "42" } }, // forged: signature is not the owner's
    ];
    // A hostile or broken order server (the app's own refuses these): the page must not trust it.
    await page.route("**/orders", async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      await route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(served) });
    });
    try {
      await page.reload();
      const dev = stack!.devAccounts[0]!;
      await page.getByRole("button", { name: dev.label }).click();
      await page.getByTestId("balances").waitFor();
      await page.getByTestId("orders-hidden").waitFor();
      assert.equal(
        await page.getByTestId("orders-hidden").textContent(),
        "4 order(s) from the server hidden: not valid on chain (signature, chain, expiry, nonce, cancelled or filled).",
      );
      assert.ok((await page.getByTestId("series").count()) > 0, "the series table is there");
      const rows = await page.locator("[data-testid=orders] tbody tr").count();
      assert.equal(rows, real.length, "only the genuine orders are listed");
      const makerAddress = getAddress(`0x${(BigInt(offer.order.account!) >> 96n).toString(16).padStart(40, "0")}`);
      assert.equal(await page.getByTestId("maker-0").textContent(), `${makerAddress}/1`);
      assert.equal(await page.locator("text=account id out of range").count(), 0);
    } finally {
      await page.unroute("**/orders");
    }
  });

  it("RV18-4d: the user's own order is listed with Cancel, and Cancel cancels it on chain", async () => {
    await page.reload();
    const dev = stack!.devAccounts[0]!;
    await page.getByRole("button", { name: dev.label }).click();
    await page.getByTestId("orders").waitFor();
    await page.getByTestId("sign-side").selectOption("sell");
    await page.getByTestId("sign-size").fill("0.05");
    await page.getByTestId("sign-price").fill("2500.005");
    await page.getByTestId("sign").click();
    await page.locator("[data-testid=trade-status]", { hasText: "Signed:" }).waitFor();
    // rv18 1b: the price signed is shown exactly, never rounded up.
    assert.equal(
      await page.getByTestId("trade-status").textContent(),
      "Confirmed: Signed: sell 0.05 at $2,500.005 (no transaction).",
    );
    await page.getByTestId("my-orders").waitFor();
    assert.match((await page.getByTestId("my-order-0").textContent()) ?? "", /sell0\.05\$2,500\.005Cancel$/);

    const orders = (await (await fetch(`${stack!.url}orders`)).json()) as OrderJson[];
    const mine = orders.find((o) => o.order.account === accountId(dev.address, 1n).toString())!;
    const order = {
      account: asAccountId(BigInt(mine.order.account!)),
      seriesId: asSeriesId(BigInt(mine.order.seriesId!)),
      size: BigInt(mine.order.size!),
      priceWad: BigInt(mine.order.priceWad!),
      taker: 0n as const,
      nonce: BigInt(mine.order.nonce!),
      deadline: BigInt(mine.order.deadline!),
    };
    await page.getByTestId("cancel-0").click();
    await page.locator(settled).waitFor({ timeout: 60_000 });
    assert.match((await page.getByTestId("trade-status").textContent()) ?? "", /^Confirmed: Cancelled the order/);
    const status = await getOrderStatus(stack!.world.publicClient, { order, addressBook: stack!.book });
    assert.equal(status.state, "cancelled");
    await page.getByTestId("my-orders").waitFor({ state: "detached" });
  });
});
