import path from "node:path";
import { fileURLToPath } from "node:url";

import { demoOptions, formatReport, runDemo } from "./lib/demo.js";

/**
 * `npm run demo`, the main job: deploys Pledge on an in-process chain, seeds a
 * population at initial margin, runs the keeper in-process and replays the 2020-03-12/13
 * BTC crash; with `DEMO_VOL_SURFACE=1` the vol signer runs in-process too and the engine
 * marks on its crash smile.
 * Options by env (`DEMO_ACCOUNTS=50 npm run demo`) or argv (`npx tsx scripts/demo.ts
 * --accounts 50`): accounts, seed, csv, from, to, drop, minutes, html, vol-surface. See
 * scripts/lib/demo.ts.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const report = await runDemo(demoOptions(root, process.argv.slice(2)));
console.log(formatReport(report));
