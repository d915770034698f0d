import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { EIP170_LIMIT, REQUIRED_HEADROOM, contractSizes } from "./lib/sizes.js";

/**
 * `npm run bench:size` (part of `npm run bench`): the runtime bytecode size of every deployed
 * contract, written to bench/size.json (committed, so every size change shows up as a diff).
 * Run after `npx hardhat build`.
 */
const sizes = await contractSizes();
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bench/size.json");
await writeFile(
  out,
  `${JSON.stringify({ limit: EIP170_LIMIT, requiredHeadroom: REQUIRED_HEADROOM, contracts: sizes }, null, 2)}\n`,
);
console.table(sizes);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
