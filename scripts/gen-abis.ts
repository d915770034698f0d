import path from "node:path";

import { generateAbis, ROOT, SDK_ABIS_DIR } from "./lib/abis.js";

/**
 * `npm run abis`: regenerates `packages/sdk/src/abis/*.ts` from the Hardhat artifacts
 * (run `hardhat build` first; the npm script does). The output is committed so that SDK
 * users need no build; `test/sdk/abis.test.ts` fails when it is stale.
 */
const files = await generateAbis();
for (const file of files) console.log(`wrote ${path.relative(ROOT, path.join(SDK_ABIS_DIR, file))}`);
