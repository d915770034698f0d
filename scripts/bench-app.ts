import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { LOCAL_CHAIN_ID, startAppStack } from "./lib/app.js";
import { buildWeb, launchBrowser } from "../test/web/helpers.js";

/**
 * `npm run bench:app`: how fast the page shows an account's positions and health against a local
 * node holding APP_BENCH_ACCOUNTS (default 200) seeded accounts, each short a BTC call (the issue
 * asks for under 1 s). Builds the app, starts `npm run app`'s stack without the indexer (the
 * health screen reads the chain), offers the traders' wallet as a development account, and in
 * chromium measures, 5 times on a fresh page: load → connect button, and click → the positions
 * table and health shown (the SDK's reads of the account at the head, then the mirror). Writes
 * bench/app.json.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ACCOUNTS = Number(process.env.APP_BENCH_ACCOUNTS ?? 200);
const RUNS = 5;

buildWeb();
const seeding = Date.now();
// The world's traders are subaccounts 1… of the node's account 2: offered as a development account.
// The local chain (31337): development accounts are offered only there.
const stack = await startAppStack({
  chainId: LOCAL_CHAIN_ID,
  indexer: false,
  traders: ACCOUNTS,
  devAccountIndexes: [2],
});
const seededMs = Date.now() - seeding;
const browser = await launchBrowser();
try {
  const { page } = browser;
  const label = stack.devAccounts[0]!.label;
  const runs: { loadMs: number; connectToHealthMs: number; totalMs: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = Date.now();
    await page.goto(stack.url);
    await page.getByRole("button", { name: label }).waitFor();
    const loaded = Date.now();
    await page.getByRole("button", { name: label }).click();
    await page.getByTestId("positions").waitFor();
    await page.getByTestId("health").waitFor();
    const shown = Date.now();
    runs.push({ loadMs: loaded - started, connectToHealthMs: shown - loaded, totalMs: shown - started });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const report = {
    note: "wall times on this machine, chromium headless, node over HTTP in this process",
    accounts: ACCOUNTS,
    seededMs,
    runs,
    medianTotalMs: median(runs.map((r) => r.totalMs)),
    medianConnectToHealthMs: median(runs.map((r) => r.connectToHealthMs)),
  };
  await writeFile(path.join(ROOT, "bench/app.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.table(runs);
  console.log(
    `${ACCOUNTS} accounts (seeded in ${(seededMs / 1000).toFixed(0)} s): page load to positions and health ` +
      `${report.medianTotalMs} ms (median of ${RUNS}; connect click to shown ${report.medianConnectToHealthMs} ms); wrote bench/app.json`,
  );
} finally {
  await browser.close();
  await stack.close();
}
