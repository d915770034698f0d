import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { LOCAL_CHAIN_ID, startAppStack } from "./lib/app.js";
import type { Page } from "playwright-core";

import { buildWeb, launchBrowser } from "../test/web/helpers.js";

/**
 * `npm run bench:app`: how fast the page shows an account's positions and health against a local
 * node holding APP_BENCH_ACCOUNTS (default 200) seeded accounts, each short a BTC call (the issue
 * asks for under 1 s). Builds the app, starts `npm run app`'s stack without the indexer (the
 * health screen reads the chain), offers the traders' wallet as a development account, and in
 * chromium measures load → connect button, and click → the positions table and health shown (the
 * SDK's reads of the account at the head, then the mirror): three times fully cold (each on a new
 * stack), three times with a fresh browser on the warm node, then 5 times warm. Prints a PASS/FAIL line per kind against the 1 s
 * target (the kind's median; the warm runs' worst is printed too) and the load average, and writes
 * bench/app.json. Exits 0 either way: a report, not a test (no timing is asserted in tests).
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ACCOUNTS = Number(process.env.APP_BENCH_ACCOUNTS ?? 200);
const RUNS = 5;
/** New browser profiles against the warm node. */
const FRESH_RUNS = 3;
/** The target: positions and health within 1 s of load. */
const TARGET_MS = 1_000;

buildWeb();
/**
 * Cold runs, each on a stack of its own (a node just deployed and seeded, never asked for the
 * page's reads) in a new browser profile: a single one swings by ±200 ms, so three, the median judged.
 */
const COLD_RUNS = 3;
// The world's traders are subaccounts 1… of the node's account 2: offered as a development account.
// The local chain (31337): development accounts are offered only there.
const startStack = () =>
  startAppStack({ chainId: LOCAL_CHAIN_ID, indexer: false, traders: ACCOUNTS, devAccountIndexes: [2] });
const seeding = Date.now();
let stack = await startStack();
const seededMs = Date.now() - seeding;
/** What one run spent: wall times, and from the page's Resource Timing the JSON-RPC and script loads. */
interface Run {
  kind: "cold" | "fresh browser, warm node" | "warm";
  loadMs: number;
  connectToHealthMs: number;
  totalMs: number;
  /**
   * The page's clock (`IN_PAGE_CLOCK`): navigation start to the connect button drawn; the click to
   * positions and health drawn; their sum, the page's time to positions and health without the
   * user's pause before the click and without the harness's polling.
   */
  pageButtonMs: number;
  pageClickToHealthMs: number;
  pageTotalMs: number;
  /** JSON-RPC requests (`/rpc`) the page made from navigation to health shown, and their summed and longest durations. */
  rpcRequests: number;
  rpcSumMs: number;
  rpcMaxMs: number;
  /** The JavaScript and CSS of the build: bytes over the wire (decoded) and the slowest load. */
  assetKiB: number;
  assetMaxMs: number;
}
const runs: Run[] = [];
/**
 * The page's own clock, free of the harness: Playwright finds an element by polling it, which
 * adds 0.2–0.5 s to every wall time here (a one-button page measures 0.5 s from `goto` with a
 * new profile, 0.3 s again). Injected before any of the page's scripts: a MutationObserver
 * stamps `performance.now()` (milliseconds since the navigation started) when the connect
 * button and when both the positions table and the health are in the DOM, and the next
 * animation frame after each (`…PaintedMs`, when the browser can have drawn it); a capturing
 * listener stamps the click. The app is not changed for it.
 */
// A string, not a function: tsx compiles functions with `__name` helpers the page does not have.
const IN_PAGE_CLOCK = (label: string) => `{
  const stamps = {};
  window.__pledgeStamps = stamps;
  const stamp = (key) => {
    if (stamps[key] !== undefined) return;
    stamps[key] = performance.now();
    requestAnimationFrame(() => (stamps[key + "Painted"] = performance.now()));
  };
  addEventListener("click", () => stamp("click"), { capture: true });
  new MutationObserver(() => {
    if ([...document.querySelectorAll("button")].some((b) => b.textContent.includes(${JSON.stringify(label)}))) stamp("button");
    if (document.querySelector('[data-testid="positions"]') && document.querySelector('[data-testid="health"]'))
      stamp("health");
  }).observe(document, { childList: true, subtree: true });
}`;
const measure = async (page: Page, kind: Run["kind"]) => {
  const label = stack.devAccounts[0]!.label;
  const started = Date.now();
  // From the navigation, not its load event: the page draws its buttons before every chunk it
  // prefetches has arrived (module fetches started before it hold the load event back).
  await page.goto(stack.url, { waitUntil: "commit" });
  await page.getByRole("button", { name: label }).waitFor();
  const loaded = Date.now();
  await page.getByRole("button", { name: label }).click();
  await page.getByTestId("positions").waitFor();
  await page.getByTestId("health").waitFor();
  const shown = Date.now();
  const resources = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((e) => e as unknown as { name: string; duration: number; decodedBodySize: number })
      .map((e) => ({ name: e.name, duration: e.duration, size: e.decodedBodySize })),
  );
  const stamps = (await page.evaluate("window.__pledgeStamps")) as Record<string, number>;
  const rpc = resources.filter((r) => r.name.endsWith("/rpc"));
  const assets = resources.filter((r) => /\.(js|css)$/.test(r.name));
  runs.push({
    kind,
    loadMs: loaded - started,
    connectToHealthMs: shown - loaded,
    totalMs: shown - started,
    pageButtonMs: Math.round(stamps.buttonPainted!),
    pageClickToHealthMs: Math.round(stamps.healthPainted! - stamps.click!),
    pageTotalMs: Math.round(stamps.buttonPainted! + stamps.healthPainted! - stamps.click!),
    rpcRequests: rpc.length,
    rpcSumMs: Math.round(rpc.reduce((sum, r) => sum + r.duration, 0)),
    rpcMaxMs: Math.round(Math.max(0, ...rpc.map((r) => r.duration))),
    assetKiB: Math.round(assets.reduce((sum, r) => sum + r.size, 0) / 1024),
    assetMaxMs: Math.round(Math.max(0, ...assets.map((r) => r.duration))),
  });
};
// Runs 1–3: everything cold (a new browser profile, and a new node never asked for the page's
// reads), each on a stack of its own; the last stack stays for the rest.
// Runs 4–6: new profiles against the now-warm node: what is the browser's share of "cold".
// Runs 7–11: the last of them again (HTTP cache and compiled code warm).
// The stack is closed whatever fails (a browser that does not start included), or its node would
// keep the process alive.
/** A new browser profile with the page's clock injected. */
const clockedBrowser = async () => {
  const opened = await launchBrowser();
  await opened.context.addInitScript(IN_PAGE_CLOCK(stack.devAccounts[0]!.label));
  return opened;
};
/** One run in a browser profile of its own, closed after it. */
const measureInNewBrowser = async (kind: Run["kind"]) => {
  const opened = await clockedBrowser();
  try {
    await measure(opened.page, kind);
  } finally {
    await opened.close();
  }
};
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
try {
  for (let run = 0; run < COLD_RUNS; run++) {
    if (run > 0) {
      await stack.close();
      stack = await startStack();
    }
    await measureInNewBrowser("cold");
  }
  // A single fresh-browser load swings by ±100 ms with the machine's load: three, the median judged.
  for (let run = 1; run < FRESH_RUNS; run++) await measureInNewBrowser("fresh browser, warm node");
  browser = await clockedBrowser();
  const { page } = browser;
  await measure(page, "fresh browser, warm node");
  for (let run = 0; run < RUNS; run++) await measure(page, "warm");
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const warm = runs.filter((r) => r.kind === "warm");
  const kinds = (["cold", "fresh browser, warm node", "warm"] as const).map((kind) => {
    const ofKind = runs.filter((r) => r.kind === kind);
    const totals = ofKind.map((r) => r.pageTotalMs);
    const wall = ofKind.map((r) => r.totalMs);
    const medianMs = median(totals);
    return {
      kind,
      runs: totals.length,
      medianMs,
      maxMs: Math.max(...totals),
      pass: medianMs <= TARGET_MS,
      wallMedianMs: median(wall),
      wallMaxMs: Math.max(...wall),
    };
  });
  const report = {
    note: "wall times on this machine (2 shared cores), chromium headless, node over HTTP in this process",
    accounts: ACCOUNTS,
    /** The machine's 1, 5 and 15 minute load averages when the runs ended (2 cores, shared). */
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    targetMs: TARGET_MS,
    kinds,
    pass: kinds.every((k) => k.pass),
    seededMs,
    runs,
    coldTotalMs: median(runs.filter((r) => r.kind === "cold").map((r) => r.totalMs)),
    freshBrowserWarmNodeTotalMs: median(
      runs.filter((r) => r.kind === "fresh browser, warm node").map((r) => r.totalMs),
    ),
    medianTotalMs: median(warm.map((r) => r.totalMs)),
    medianConnectToHealthMs: median(warm.map((r) => r.connectToHealthMs)),
  };
  await writeFile(path.join(ROOT, "bench/app.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.table(runs);
  console.log(
    `${ACCOUNTS} accounts (seeded in ${(seededMs / 1000).toFixed(0)} s): page load to positions and health ` +
      `${report.medianTotalMs} ms warm (median of ${RUNS}; connect click to shown ${report.medianConnectToHealthMs} ms), ` +
      `${report.coldTotalMs} ms cold (median of ${COLD_RUNS}), ${report.freshBrowserWarmNodeTotalMs} ms with a fresh browser on a warm node (median of ${FRESH_RUNS}); wrote bench/app.json`,
  );
  for (const k of kinds)
    console.log(
      `${k.pass ? "PASS" : "FAIL"}: ${k.kind}: ${k.medianMs} ms to positions and health on the page's clock` +
        (k.runs > 1 ? ` (median of ${k.runs}, worst ${k.maxMs} ms)` : "") +
        ` (target ≤ ${TARGET_MS} ms); ${k.wallMedianMs} ms by the harness's wall clock, which adds its polling`,
    );
  console.log(`load average ${report.loadAverage.join(", ")} (1, 5, 15 min) on ${cpus().length} cores`);
} finally {
  await browser?.close();
  await stack.close();
}
