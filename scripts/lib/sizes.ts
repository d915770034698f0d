import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** EIP-170: the largest runtime bytecode a contract may deploy, in bytes. */
export const EIP170_LIMIT = 24_576;

/**
 * The room every deployed contract must keep under EIP-170 (issue 11: 1 KB now, 2 KB after
 * the restructure; we already keep 2 KB), so the next fix never starts by moving code around.
 */
export const REQUIRED_HEADROOM = 2_048;

/** One deployed contract's runtime size. */
export interface ContractSize {
  bytes: number;
  headroom: number;
}

/** Folders under `contracts/` whose contracts are never deployed to a live chain. */
const NOT_DEPLOYED = new Set(["mocks", "test"]);

/**
 * The deployed (runtime) bytecode size of every deployable contract under `contracts/`,
 * read from the Hardhat artifacts (`npx hardhat build` first). Interfaces, libraries
 * without external functions, mocks and test harnesses are left out.
 *
 * @example
 * const sizes = await contractSizes();
 * sizes.MarginEngine; // { bytes: 20_000, headroom: 4_576 }
 */
export async function contractSizes(): Promise<Record<string, ContractSize>> {
  const base = path.join(ROOT, "artifacts/contracts");
  const sizes: Record<string, ContractSize> = {};
  for (const folder of (await readdir(base)).sort()) {
    if (NOT_DEPLOYED.has(folder)) continue;
    for (const file of (await readdir(path.join(base, folder))).sort()) {
      const dir = path.join(base, folder, file);
      for (const name of (await readdir(dir)).sort()) {
        if (!name.endsWith(".json") || name.endsWith(".dbg.json")) continue;
        const artifact = JSON.parse(await readFile(path.join(dir, name), "utf8")) as {
          contractName: string;
          deployedBytecode?: string;
        };
        const bytes = ((artifact.deployedBytecode ?? "0x").length - 2) / 2;
        // Interfaces and abstract contracts have no code; internal-only libraries are never deployed.
        if (bytes === 0 || folder === "libraries") continue;
        sizes[artifact.contractName] = { bytes, headroom: EIP170_LIMIT - bytes };
      }
    }
  }
  return sizes;
}
