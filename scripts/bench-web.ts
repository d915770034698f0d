import { spawnSync } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * `npm run bench:web` (part of `npm run bench`): builds the web app (packages/web) for production
 * and measures it: every file of the build, raw and gzipped (level 9), the total, and what the
 * page loads before its connect buttons (`firstLoad`: the files index.html names), written to
 * bench/web.json. The target is under 1 MB gzipped; above it this exits with 1.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "packages/web/dist");
const LIMIT = 1_000_000;

const build = spawnSync("npm", ["run", "build", "--silent", "-w", "@pledge/web"], {
  cwd: ROOT,
  stdio: ["ignore", "ignore", "inherit"],
  timeout: 180_000,
});
if (build.status !== 0) {
  console.error("error: the web app's build failed");
  process.exit(1);
}

const files: { file: string; bytes: number; gzipBytes: number }[] = [];
for (const entry of await readdir(DIST, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const full = path.join(entry.parentPath, entry.name);
  const content = await readFile(full);
  files.push({
    file: path.relative(DIST, full).replace(/-[A-Za-z0-9_-]{8}\./, "."), // without the content hash
    bytes: content.length,
    gzipBytes: gzipSync(content, { level: 9 }).length,
  });
}
files.sort((a, b) => b.gzipBytes - a.gzipBytes);
const total = {
  bytes: files.reduce((sum, f) => sum + f.bytes, 0),
  gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
};
// What the page loads before it can draw the connect buttons: the files index.html names (the
// entry script, its modulepreloads, the CSS); the account screen and the others come after, in
// chunks of their own.
const html = await readFile(path.join(DIST, "index.html"), "utf8");
const named = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!.replace(/-[A-Za-z0-9_-]{8}\./, "."));
const firstLoad = {
  files: named,
  bytes: files.filter((f) => named.includes(f.file) || f.file === "index.html").reduce((sum, f) => sum + f.bytes, 0),
  gzipBytes: files
    .filter((f) => named.includes(f.file) || f.file === "index.html")
    .reduce((sum, f) => sum + f.gzipBytes, 0),
};
await writeFile(
  path.join(ROOT, "bench/web.json"),
  `${JSON.stringify({ targetGzipBytes: LIMIT, total, firstLoad, files }, null, 2)}\n`,
);
console.table(files);
console.log(
  `web app: ${(total.bytes / 1024).toFixed(0)} KiB, ${(total.gzipBytes / 1024).toFixed(0)} KiB gzipped ` +
    `(target < ${LIMIT / 1_000_000} MB); before the connect buttons ${(firstLoad.bytes / 1024).toFixed(0)} KiB, ` +
    `${(firstLoad.gzipBytes / 1024).toFixed(0)} KiB gzipped; wrote bench/web.json`,
);
if (total.gzipBytes >= LIMIT) {
  console.error("error: the web app's bundle is over 1 MB gzipped");
  process.exit(1);
}
