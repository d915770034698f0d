import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type BrowserContext, type Page, chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Debian's chromium (`apt-get install chromium`, as .ci/run does): playwright downloads no browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Builds packages/web (Vite, a few seconds) with a deadline; throws with Vite's output on failure. */
export function buildWeb() {
  const build = spawnSync("npm", ["run", "build", "--silent", "-w", "@pledge/web"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 180_000,
  });
  if (build.status !== 0) throw new Error(`the web app's build failed:\n${build.stdout}\n${build.stderr}`);
}

/** A headless chromium on a fresh profile; `close()` also deletes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = await mkdtemp(path.join(tmpdir(), "pledge-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Every wait of the page has a deadline: a test fails, it never hangs.
  page.setDefaultTimeout(30_000);
  page.setDefaultNavigationTimeout(30_000);
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
