import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import type { Page } from "playwright-core";
import { parseUnits } from "viem";

import { Account, Health, accountId, getMarginInputs } from "../../packages/sdk/src/index.js";
import { type AppStack, LOCAL_CHAIN_ID, startAppStack } from "../../scripts/lib/app.js";
import { buildWeb, launchBrowser } from "./helpers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** `PLEDGE_SCREENSHOTS=1` writes the main screens to docs/img/ (the README shows them). */
const SCREENSHOTS = process.env.PLEDGE_SCREENSHOTS === "1";

/**
 * The liquidation path in chromium, with the indexer: an account sells calls, BTC rises until
 * the page shows it LIQUIDATABLE, an auction starts and appears on the page (from the indexer),
 * a second account previews and bids on it, and both accounts' history shows what happened.
 */
describe(
  "web app: price move, LIQUIDATABLE, auction, bid from a second account, history (chromium)",
  { timeout: 420_000 },
  () => {
    // The local chain: the only one whose pledge.json offers development accounts (each stack
    // has its own node and Ignition journal, so test files may run side by side).
    const chainId = LOCAL_CHAIN_ID;
    let stack: AppStack | undefined;
    let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
    let page: Page;

    before(async () => {
      buildWeb();
      stack = await startAppStack({ chainId, traders: 1 });
      browser = await launchBrowser();
      page = browser.page;
      await page.setViewportSize({ width: 1100, height: 900 });
    });
    after(async () => {
      await browser?.close();
      await stack?.close();
    });

    async function shot(name: string) {
      if (!SCREENSHOTS) return;
      await mkdir(path.join(ROOT, "docs/img"), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, "docs/img", `${name}.png`), fullPage: true });
    }
    async function connect(index: number) {
      const dev = stack!.devAccounts[index]!;
      if ((await page.getByRole("button", { name: "Disconnect" }).count()) > 0)
        await page.getByRole("button", { name: "Disconnect" }).click();
      await page.getByRole("button", { name: dev.label }).click();
      await page.getByTestId("balances").waitFor();
      return accountId(dev.address, 1n);
    }
    async function deposit(amount: string) {
      await page.getByTestId("amount").fill(amount);
      await page.getByTestId("deposit").click();
      await page.locator("[data-testid=tx-status][data-state=confirmed]").waitFor({ timeout: 60_000 });
    }

    it("sells calls, and shows the account LIQUIDATABLE after BTC rises", async () => {
      await page.goto(stack!.url);
      const seller = await connect(0);
      await deposit("5000");
      // Order 1 is the market maker's bid: the account sells 0.5 call into it.
      await page.getByTestId("fill-size").fill("0.5");
      await page.getByTestId("preview-1").click();
      await page.getByTestId("fill-preview").waitFor();
      await page.getByTestId("fill-1").click();
      await page.locator("[data-testid=trade-status][data-state=confirmed]").waitFor({ timeout: 60_000 });
      await page.getByTestId("positions").waitFor();
      assert.equal(await page.getByTestId("health").textContent(), "HEALTHY");
      await shot("account");

      // BTC just above the price at which the SDK's mirror puts the account below maintenance.
      const { publicClient } = stack!.world;
      const trader = new Account(await getMarginInputs(publicClient, { addressBook: stack!.book, account: seller }));
      const price = trader.liquidationPrice(2, "up", 1_000_000n * 10n ** 18n)!;
      const spot = Number(price / 10n ** 18n) + 1;
      await stack!.world.setSpot(spot);
      const after = new Account(await getMarginInputs(publicClient, { addressBook: stack!.book, account: seller }));
      assert.equal(after.margin().health, Health.LIQUIDATABLE, `LIQUIDATABLE at ${spot}`);
      await page.getByTestId("health").filter({ hasText: "LIQUIDATABLE" }).waitFor({ timeout: 30_000 });
    });

    it("shows the auction from the indexer, and a second account previews and bids on it", async () => {
      const seller = accountId(stack!.devAccounts[0]!.address, 1n);
      const { liquidator } = stack!.world.contracts;
      const hash = await liquidator.write.startAuction([seller]);
      await stack!.world.publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 });

      const bidder = await connect(1);
      await deposit("50000");
      await page.getByTestId("auction-0").waitFor({ timeout: 60_000 });
      await page.getByTestId("bid-fraction").fill("50");
      await page.getByTestId("bid-preview-0").click();
      await page.getByTestId("bid-preview").waitFor();
      assert.match(
        (await page.getByTestId("bid-preview").textContent()) ?? "",
        /^You (pay|receive) [\d,.]+ USDC for 50 % of the account/,
      );
      await shot("auction");
      await page.getByTestId("bid-0").click();
      await page
        .locator("[data-testid=bid-status][data-state=confirmed], [data-testid=bid-status][data-state=failed]")
        .waitFor({ timeout: 60_000 });
      assert.match(
        (await page.getByTestId("bid-status").textContent()) ?? "",
        /^Confirmed: Bought 50 % of the account for/,
      );
      const taken = await stack!.world.contracts.market.read.positionOf([bidder, stack!.world.series]);
      assert.equal(taken, -(10n ** 18n) / 4n, "the bidder took half of the 0.5 short");
    });

    it("shows the history from the indexer: the bidder's deposit and bid, the seller's trade and auction", async () => {
      await page.getByTestId("history").filter({ hasText: "Bid for 50 %" }).waitFor({ timeout: 60_000 });
      assert.match((await page.getByTestId("history").textContent()) ?? "", /Deposited 50,000 USDC/);
      await shot("history");
      await connect(0);
      await page.getByTestId("history").filter({ hasText: "Auction started" }).waitFor({ timeout: 60_000 });
      const seller = (await page.getByTestId("history").textContent()) ?? "";
      assert.match(seller, /Sold 0\.5 at \$/);
      assert.match(seller, /Deposited 5,000 USDC/);
    });
  },
);
