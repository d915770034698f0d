import path from "node:path";
import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The web app's build. `@pledge/sdk` is its TypeScript source, as everywhere in the repository
 * (root tsconfig `paths`); `pledge.json` (chain, RPC, indexer, address book) is served beside the
 * build by `npm run app`, so one build runs against any deployment.
 */
export default defineConfig({
  root: here,
  base: "./",
  plugins: [react()],
  resolve: {
    alias: {
      "@pledge/sdk": path.resolve(here, "../sdk/src/index.ts"),
      // The SDK's file readers (never called here) import these lazily: a stub, not a warning.
      "node:path": path.resolve(here, "src/nodeStub.ts"),
      "node:fs/promises": path.resolve(here, "src/nodeStub.ts"),
    },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2048 },
});
