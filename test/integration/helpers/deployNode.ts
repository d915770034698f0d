import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { network } from "hardhat";

import type { AddressBook } from "../../../packages/sdk/src/addressBook.js";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const run = promisify(execFile);
const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "");

/** `npm run deploy -- …` as a child process: its exit code and its output lines. */
export async function deployCli(args: readonly string[], timeout = 120_000) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "scripts/deploy.ts", ...args], {
      cwd: ROOT,
      timeout,
    });
    return { code: 0, stdout, stderr: lines(stderr) };
  } catch (error) {
    const failure = error as { code?: number; stdout: string; stderr: string };
    return { code: failure.code ?? -1, stdout: failure.stdout, stderr: lines(failure.stderr) };
  }
}

/**
 * A Hardhat node served from this process on a random port, with a chain id of its own, so that
 * its Ignition journal and address book never touch the developer's `chain-31337`.
 */
export async function startNode(chainId: number, name: "node" | "opLocal" = "node") {
  const server = await network.createServer({ network: name, override: { chainId } }, "127.0.0.1");
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  const connection = await network.create({ network: "localhost", override: { url } });
  return { server, url, connection };
}

/**
 * Chain ids a test file owns (`base` + a per-process offset), whose Ignition journals and address
 * books `remove` deletes after the file's tests.
 */
export function ownedChains(base: number) {
  const files: string[] = [];
  return {
    chainId(offset: number) {
      const chainId = base + ((process.pid * 10 + offset) % 90_000);
      files.push(
        path.join(ROOT, "ignition", "deployments", `chain-${chainId}`),
        path.join(ROOT, "deployments", `${chainId}.json`),
      );
      return chainId;
    },
    async remove() {
      for (const file of files) await rm(file, { recursive: true, force: true });
    },
  };
}

/** The address book `npm run deploy` wrote for `chainId`. */
export const readBook = async (chainId: number) =>
  JSON.parse(await readFile(path.join(ROOT, "deployments", `${chainId}.json`), "utf8")) as AddressBook;
