import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { Page } from "playwright-core";
import { parseUnits } from "viem";

import {
  Account,
  WAD,
  accountGreeks,
  accountId,
  asAccountId,
  asSeriesId,
  callDelta,
  decodeSeries,
  fillOrder,
  gamma,
  getBalances,
  getMarginInputs,
  healthName,
  markAndSpot,
  theta,
  vega,
  withdraw,
} from "../../packages/sdk/src/index.js";
import { units, usd } from "../../packages/web/src/lib.js";
import { type AppStack, LOCAL_CHAIN_ID, startAppStack } from "../../scripts/lib/app.js";
import { buildWeb, launchBrowser } from "./helpers.js";

/**
 * The web app in a real browser (Debian's chromium through playwright-core) against a local node:
 * `npm run app`'s stack (node, deployment, seeded accounts, the app's server), without the indexer
 * (no screen here reads it). Connect with the development account, deposit, see the balance; a
 * withdrawal of more than the account holds shows the SDK's sentence and changes nothing.
 */
describe("web app: connect, deposit, a refused withdrawal (chromium)", { timeout: 300_000 }, () => {
  // The local chain: the only one whose pledge.json offers development accounts (each stack
  // has its own node and Ignition journal, so test files may run side by side).
  const chainId = LOCAL_CHAIN_ID;
  let stack: AppStack | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let page: Page;

  before(async () => {
    buildWeb();
    stack = await startAppStack({ chainId, indexer: false, traders: 1 });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const status = () => page.getByTestId("tx-status");
  /** Clicks `button` and waits (60 s at most) for a settled status other than the one before. */
  async function clickAndSettle(button: string) {
    const previous = (await status().count()) > 0 ? await status().textContent() : null;
    await page.getByTestId(button).click();
    // A page expression (the test's tsconfig has no DOM types).
    const settled = `(() => {
      const element = document.querySelector("[data-testid=tx-status]");
      return element !== null && element.dataset.state !== "pending" && element.textContent !== ${JSON.stringify(previous)};
    })()`;
    await page.waitForFunction(settled, undefined, { timeout: 60_000 });
  }

  it("connects with the development account and deposits 1,000 USDC", async () => {
    const dev = stack!.devAccounts[0]!;
    await page.goto(stack!.url);
    await page.getByRole("button", { name: dev.label }).click();
    await page.getByTestId("connected-address").waitFor();
    assert.equal((await page.getByTestId("connected-address").textContent())?.toLowerCase(), dev.address.toLowerCase());
    await page.getByTestId("balances").waitFor();
    assert.equal(await page.getByTestId("balance-USDC").textContent(), "0 USDC");

    await page.getByTestId("amount").fill("1000");
    await clickAndSettle("deposit");
    assert.equal(await status().getAttribute("data-state"), "confirmed", (await status().textContent()) ?? "");
    assert.match((await status().textContent()) ?? "", /^Confirmed: Deposited 1,000 USDC \(block \d+\)\.$/);
    await page.getByTestId("balance-USDC").filter({ hasText: "1,000 USDC" }).waitFor();

    const account = accountId(dev.address, 1n);
    const { cash } = await getBalances(stack!.world.publicClient, { addressBook: stack!.book, account });
    assert.equal(cash, parseUnits("1000", 6), "the chain holds the deposit");
  });

  it("refuses a withdrawal of more than the account holds with the SDK's sentence, and changes nothing", async () => {
    const dev = stack!.devAccounts[0]!;
    const account = accountId(dev.address, 1n);
    const { publicClient } = stack!.world;
    const before = await getBalances(publicClient, { addressBook: stack!.book, account });
    const head = await publicClient.getBlockNumber();

    await page.getByTestId("amount").fill("5000");
    await clickAndSettle("withdraw");
    assert.equal(await status().getAttribute("data-state"), "failed");

    // The SDK's own sentence for the same call, from the test's side.
    const wallet = (await stack!.world.connection.viem.getWalletClients())[5]!;
    assert.equal(wallet.account.address.toLowerCase(), dev.address.toLowerCase());
    const expected = await withdraw(wallet, {
      publicClient,
      addressBook: stack!.book,
      account,
      asset: stack!.book.cash.address,
      amount: parseUnits("5000", 6),
    }).then(
      () => assert.fail("the withdrawal should revert"),
      (error: Error) => error.message,
    );
    assert.match(expected, /less than the 5000 USDC requested/);
    assert.equal(await status().textContent(), expected, "the page shows the SDK's sentence");

    assert.equal(await publicClient.getBlockNumber(), head, "nothing was mined");
    assert.deepEqual(await getBalances(publicClient, { addressBook: stack!.book, account }), before);
    assert.equal(await page.getByTestId("balance-USDC").textContent(), "1,000 USDC");
  });

  it("shows a zero amount's revert as a sentence too, and an unreadable amount as a hint", async () => {
    await page.getByTestId("amount").fill("0");
    await clickAndSettle("deposit");
    const zero = (await status().textContent()) ?? "";
    assert.equal(await status().getAttribute("data-state"), "failed");
    assert.doesNotMatch(zero, /0x[0-9a-f]{8}|Error:|at .*\.ts/i, `a sentence, not a raw error: ${zero}`);

    await page.getByTestId("amount").fill("1.2.3");
    await clickAndSettle("withdraw");
    assert.equal(await status().textContent(), "Enter an amount in USDC, like 100 or 0.5.");
    assert.equal(await page.getByTestId("balance-USDC").textContent(), "1,000 USDC");
  });

  it("previews and fills the market maker's quote, then shows the position and health", async () => {
    await page.getByTestId("orders").waitFor();
    await page.getByTestId("fill-size").fill("0.1");
    // Order 0 is the maker's offer (it sells 5 calls).
    await page.getByTestId("preview-0").click();
    await page.getByTestId("fill-preview").waitFor();
    const preview = (await page.getByTestId("fill-preview").textContent()) ?? "";
    assert.match(
      preview,
      /^You pay [\d,.]+ USDC premium and a [\d,.]+ USDC fee for 0\.1 contracts; the margin check passes\.$/,
    );
    await page.getByTestId("fill-0").click();
    await page
      .locator("[data-testid=trade-status][data-state=confirmed], [data-testid=trade-status][data-state=failed]")
      .waitFor({ timeout: 60_000 });
    const text = (await page.getByTestId("trade-status").textContent()) ?? "";
    assert.match(text, /^Confirmed: Filled 0\.1 contracts for [\d,.]+ USDC premium \(block \d+\)\.$/);

    const dev = stack!.devAccounts[0]!;
    const account = accountId(dev.address, 1n);
    assert.equal(
      await stack!.world.contracts.market.read.positionOf([account, stack!.world.series]),
      10n ** 17n,
      "long 0.1 on chain",
    );
    await page.getByTestId("positions").waitFor();
    assert.match((await page.getByTestId("positions").textContent()) ?? "", /BTC 60,000 call/);
    assert.equal(await page.getByTestId("health").textContent(), "HEALTHY");
  });

  it("deposits with a permit, refuses a margin mode change while a position is held, and prices a what-if", async () => {
    const dev = stack!.devAccounts[0]!;
    const account = accountId(dev.address, 1n);
    const { publicClient } = stack!.world;
    const cashBefore = (await getBalances(publicClient, { addressBook: stack!.book, account })).cash;
    await page.getByTestId("amount").fill("10");
    await page.getByTestId("permit").check();
    await clickAndSettle("deposit");
    assert.match((await status().textContent()) ?? "", /^Confirmed: Deposited 10 USDC/);
    const cashAfter = (await getBalances(publicClient, { addressBook: stack!.book, account })).cash;
    const added = cashAfter - cashBefore;
    assert.ok(added >= parseUnits("10", 6) - 10n && added <= parseUnits("10", 6) + 10n, `10 USDC more (${added})`);

    await page.getByTestId("margin-mode").selectOption({ label: "portfolio" });
    const mode = page.locator("[data-testid=mode-status]:not([data-state=pending])");
    await mode.waitFor({ timeout: 60_000 });
    assert.equal(await mode.getAttribute("data-state"), "failed");
    assert.doesNotMatch((await mode.textContent()) ?? "", /0x[0-9a-f]{8}\b|Error:/, "a sentence");

    assert.match((await page.getByTestId("liquidation-price").textContent()) ?? "", /^BTC liquidation price/);
    const before = await page.getByTestId("whatif").textContent();
    await page.getByTestId("whatif-spot").fill("-20");
    await page.getByTestId("whatif-vol").fill("30");
    const after = (await page.getByTestId("whatif").textContent()) ?? "";
    assert.notEqual(after, before);
    assert.match(after, /vol [\d.]+ %: (HEALTHY|MARGIN_CALL|LIQUIDATABLE|INSOLVENT), excess over IM/);
  });

  it("shows the SDK's numbers: what-if, liquidation price, marks, Greeks, excesses, gauge, Withdrawable now (rv18 7a)", async () => {
    const dev = stack!.devAccounts[0]!;
    const account = accountId(dev.address, 1n);
    const { publicClient } = stack!.world;
    const text = (testId: string) => page.getByTestId(testId).textContent();
    // What the page should show, from the SDK in the test (formatted with the page's formatters).
    const expected = async () => {
      const inputs = await getMarginInputs(publicClient, { addressBook: stack!.book, account });
      const trader = new Account(inputs);
      const margin = trader.margin();
      const [position] = inputs.positions;
      const series = decodeSeries(position!.seriesId);
      const btc = inputs.underlyings.get(series.underlyingIndex)!;
      const { spotWad, volWad } = btc;
      // The sliders: BTC −20 %, vol +30 %.
      const spot = (spotWad * 80n) / 100n;
      const vol = (volWad * 130n) / 100n;
      const whatIf = trader.withPrice(series.underlyingIndex, spot, vol).margin();
      const up = trader.liquidationPrice(series.underlyingIndex, "up", spotWad * 10n, WAD);
      const down = trader.liquidationPrice(series.underlyingIndex, "down", spotWad / 100n, WAD);
      const left = series.expiry - inputs.timestamp;
      const size = position!.balance;
      const per = (wad: bigint) => (size * wad) / WAD;
      const { markWad } = markAndSpot(position!.seriesId, btc, inputs.timestamp);
      const g = (wad: bigint, digits = 4) => units(wad, 18, undefined, digits);
      return {
        whatif:
          `At BTC ${usd(spot)} and vol ${units(vol * 100n, 18, undefined, 1)} %: ${healthName(whatIf.health)}, ` +
          `excess over IM ${usd(whatIf.equityIM - whatIf.requirementIM)}, over MM ${usd(whatIf.equityMM - whatIf.requirementMM)}.`,
        liquidation:
          `BTC liquidation price (the spot at which the account falls below maintenance): up ` +
          `${up === undefined ? "none within ×10" : usd(up)}, down ${down === undefined ? "none above 1 %" : usd(down)}; now ${usd(spotWad)}.`,
        health: healthName(margin.health),
        excessIM: usd(margin.equityIM - margin.requirementIM),
        excessMM: usd(margin.equityMM - margin.requirementMM),
        gauge: String(Math.min(100, Number((margin.requirementMM * 10_000n) / margin.equityMM) / 100)),
        withdrawable: units(trader.maxWithdrawableCash(), 6, "USDC"),
        mark: usd(markWad),
        value: usd(per(markWad)),
        delta: g(per(callDelta(spotWad, series.strikeWad, left, volWad))),
        // Gamma and theta: the SDK's analytic ones (per 1 USD of spot; USD per day).
        gamma: g(per(gamma(spotWad, series.strikeWad, left, volWad)), 8),
        vega: usd(per(vega(spotWad, series.strikeWad, left, volWad)) / 100n),
        theta: usd(per(theta(spotWad, series.strikeWad, left, volWad))),
        // The account's row and the BTC row: the SDK's accountGreeks.
        accountTheta: usd(accountGreeks(inputs).theta),
        btcGamma: g(accountGreeks(inputs).byUnderlying.get(series.underlyingIndex)!.gamma, 8),
      };
    };
    const row = page.getByTestId("position-0");
    const shown = async () => ({
      whatif: await text("whatif"),
      liquidation: await text("liquidation-price"),
      health: await text("health"),
      excessIM: await text("excess-im"),
      excessMM: await text("excess-mm"),
      gauge: await page.getByTestId("gauge").getAttribute("value"),
      withdrawable: await text("max-USDC"),
      mark: await row.getByTestId("pos-mark").textContent(),
      value: await row.getByTestId("pos-value").textContent(),
      delta: await row.getByTestId("pos-delta").textContent(),
      gamma: await row.getByTestId("pos-gamma").textContent(),
      vega: await row.getByTestId("pos-vega").textContent(),
      theta: await row.getByTestId("pos-theta").textContent(),
      accountTheta: await page.getByTestId("total-account").getByTestId("total-theta").textContent(),
      btcGamma: await page.getByTestId("total-BTC").getByTestId("total-gamma").textContent(),
    });
    await page.getByTestId("whatif-spot").fill("-20");
    await page.getByTestId("whatif-vol").fill("30");
    // The page reads at each new block: compare once it shows the head the test read (20 s at most).
    const deadline = Date.now() + 20_000;
    let want = await expected();
    let got = await shown();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      want = await expected();
      got = await shown();
    }
    assert.deepEqual(got, want);
  });

  it("shows the seeded chain, 3 strikes × 2 expiries of calls and puts, with the SDK's marks", async () => {
    const dev = stack!.devAccounts[0]!;
    const account = accountId(dev.address, 1n);
    const { publicClient } = stack!.world;
    const chain = stack!.chain;
    assert.equal(chain.length, 12, "3 strikes × 2 expiries × call and put");
    const ids = chain.map((id) => decodeSeries(id));
    assert.equal(new Set(ids.map((s) => s.strikeWad)).size, 3);
    assert.equal(new Set(ids.map((s) => s.expiry)).size, 2);
    const table = page.getByTestId("chain-BTC");
    await table.waitFor({ timeout: 20_000 });
    assert.match((await table.locator("caption").textContent()) ?? "", /3 strikes × 2 expiries/);
    assert.equal(await table.locator("tbody tr").count(), 3);
    // Each mark: the SDK's markAndSpot at the head (the dev account holds BTC, so its inputs carry BTC's spot and vol).
    const expected = async () => {
      const inputs = await getMarginInputs(publicClient, { addressBook: stack!.book, account });
      const btc = inputs.underlyings.get(ids[0]!.underlyingIndex)!;
      return chain.map((id) => usd(markAndSpot(id, btc, inputs.timestamp).markWad));
    };
    const shown = () => Promise.all(chain.map((id) => page.getByTestId(`chain-mark-${id}`).textContent()));
    const deadline = Date.now() + 20_000;
    let want = await expected();
    let got = await shown();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      want = await expected();
      got = await shown();
    }
    assert.deepEqual(got, want);
    assert.ok(
      want.every((mark) => mark !== "$0.00"),
      "every series of the chain has a mark",
    );
  });

  it("signs an order with the development account (EIP-712 in the page) that another account fills on chain", async () => {
    const dev = stack!.devAccounts[0]!;
    const account = accountId(dev.address, 1n);
    await page.getByTestId("sign-side").selectOption("sell");
    await page.getByTestId("sign-size").fill("0.05");
    await page.getByTestId("sign-price").fill("2500");
    await page.getByTestId("sign").click();
    await page.locator("[data-testid=trade-status]", { hasText: "Signed:" }).waitFor();
    assert.equal(
      await page.getByTestId("trade-status").textContent(),
      "Confirmed: Signed: sell 0.05 at $2,500 (no transaction).",
    );

    // The order as the app's server holds it, filled by the seeded trader through the SDK.
    const response = await fetch(`${stack!.url}orders`, { signal: AbortSignal.timeout(5_000) });
    const orders = (await response.json()) as { order: Record<string, string>; signature: `0x${string}` }[];
    const mine = orders.find((o) => o.order.account === account.toString());
    assert.ok(mine, "the signed order is on the server");
    const signedOrder = {
      order: {
        account,
        seriesId: asSeriesId(BigInt(mine.order.seriesId!)),
        size: BigInt(mine.order.size!),
        priceWad: BigInt(mine.order.priceWad!),
        taker: 0n as const,
        nonce: BigInt(mine.order.nonce!),
        deadline: BigInt(mine.order.deadline!),
      },
      signature: mine.signature,
    };
    assert.equal(signedOrder.order.size, -(5n * 10n ** 16n));
    const trader = (await stack!.world.connection.viem.getWalletClients())[2]!;
    await fillOrder(trader, {
      publicClient: stack!.world.publicClient,
      addressBook: stack!.book,
      signedOrder,
      takerAccount: asAccountId(stack!.world.traders[0]!),
      fillSize: 5n * 10n ** 16n,
    });
    const position = await stack!.world.contracts.market.read.positionOf([account, stack!.world.series]);
    assert.equal(position, 5n * 10n ** 16n, "0.1 long, 0.05 sold through the signed order");
  });
});
