// Builds the publishable package into dist/: ESM JavaScript, .d.ts, source maps and
// declaration maps, for the main entry and the ./ethers entry. Run by `npm run build -w
// @pledge/sdk` and by `prepack`, so `npm pack` always ships a fresh build. Inside the
// repository nothing imports dist/: tsconfig paths send @pledge/sdk to src/.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const typechain = path.join(sdk, "src/ethers/typechain/index.ts");

// The ./ethers entry re-exports the TypeChain factories `hardhat build` writes to the top-level
// typechain-types/ (gitignored), which src/ethers/typechain links to.
if (!existsSync(typechain)) {
  console.error(
    `@pledge/sdk build: ${path.relative(process.cwd(), typechain) || typechain} is missing; ` +
      "run `npx hardhat build` at the repository root first (it generates the TypeChain types that @pledge/sdk/ethers ships).",
  );
  process.exit(1);
}

// A clean dist/, so a module deleted from src/ is not shipped from an old build.
rmSync(path.join(sdk, "dist"), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const result = spawnSync(process.execPath, [tsc, "-p", path.join(sdk, "tsconfig.build.json")], { stdio: "inherit" });
if (result.status !== 0) {
  console.error("@pledge/sdk build: tsc failed (errors above).");
  process.exit(result.status ?? 1);
}
