#!/usr/bin/env -S npx tsx
import { readFile } from "node:fs/promises";

import { Command, InvalidArgumentError } from "commander";
import pino from "pino";
import {
  type Hex,
  type Transport,
  createPublicClient,
  createWalletClient,
  defineChain,
  fallback,
  http,
  parseUnits,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { type AddressBook, accountId } from "@pledge/sdk";
import type { SendStage } from "./executor.js";
import { createKeeper } from "./keeper.js";
import { DEFAULT_STORE, KeeperStoreError, openStore, parseJsonIndex } from "./store.js";

/** Exit code of a store that cannot be opened, read or imported. */
const EXIT_STORE = 3;

interface RunOptions {
  rpc: string[];
  deployment: string;
  keyEnv?: string;
  keystore?: string;
  store: string;
  bidderSubId: string;
  minProfit: string;
  maxExposure?: string;
  bidGasCost: string;
  maxBidGas: string;
  liquidate: boolean;
  settle: boolean;
  marginCalls: boolean;
  confirmations: number;
  interval: number;
  metricsPort?: number;
}

const integer = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError("not a non-negative integer");
  return parsed;
};
const subId = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("not a non-negative integer");
  return value;
};

/** The signing key: a hex private key from an env var, or an encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD). */
async function loadKey(options: RunOptions): Promise<Hex> {
  if (options.keyEnv !== undefined) {
    const key = process.env[options.keyEnv];
    if (!key) throw new Error(`environment variable ${options.keyEnv} is empty`);
    return (key.startsWith("0x") ? key : `0x${key}`) as Hex;
  }
  if (options.keystore !== undefined) {
    const password = process.env.PLEDGE_KEYSTORE_PASSWORD;
    if (password === undefined) throw new Error("set PLEDGE_KEYSTORE_PASSWORD to decrypt the keystore");
    // viem has no keystore decryption; ethers (already in the toolchain) does it.
    const { Wallet } = await import("ethers");
    const wallet = await Wallet.fromEncryptedJson(await readFile(options.keystore, "utf8"), password);
    return wallet.privateKey as Hex;
  }
  throw new Error("give --key-env <VAR> or --keystore <file>");
}

async function run(options: RunOptions) {
  const logger = pino({ name: "pledge-keeper" });
  const book = JSON.parse(await readFile(options.deployment, "utf8")) as AddressBook;
  const transports = options.rpc.map((url) => http(url, { retryCount: 0, timeout: 5_000 }));
  const transport: Transport = transports.length === 1 ? transports[0]! : fallback(transports, { rank: false });
  const chain = defineChain({
    id: book.chainId,
    name: `pledge-${book.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: options.rpc } },
  });
  const account = privateKeyToAccount(await loadKey(options));
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ chain, transport, account });
  const bidderAccount = accountId(account.address, BigInt(options.bidderSubId));
  const decimals = book.cash.decimals;
  const keeper = createKeeper({
    publicClient,
    walletClient,
    addressBook: book,
    bidderAccount,
    storePath: options.store,
    ...testPauseHook(logger),
    confirmations: options.confirmations,
    jobs: { liquidate: options.liquidate, settle: options.settle, marginCalls: options.marginCalls },
    minProfit: parseUnits(options.minProfit, decimals),
    bidGasCost: parseUnits(options.bidGasCost, decimals),
    maxBidGas: BigInt(options.maxBidGas),
    ...(options.maxExposure === undefined ? {} : { maxExposure: parseUnits(options.maxExposure, decimals) }),
    ...(options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort }),
    logger,
  });
  logger.info(
    {
      keeper: account.address,
      bidderAccount: bidderAccount.toString(),
      chainId: book.chainId,
      rpc: options.rpc.length,
    },
    "keeper starting",
  );
  keeper.start(options.interval);
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    keeper.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

/**
 * `PLEDGE_KEEPER_TEST_PAUSE=recorded|broadcast` (tests only): the first send that reaches that
 * stage logs `{"event":"paused"}` and hangs there for good, so a test can kill -9 the process
 * between journaling a send and broadcasting it, or between broadcasting it and its receipt.
 */
function testPauseHook(logger: pino.Logger) {
  const stage = process.env.PLEDGE_KEEPER_TEST_PAUSE as SendStage | undefined;
  if (stage !== "recorded" && stage !== "broadcast") return {};
  return {
    onSendStage: async (reached: SendStage, action: { kind: string; nonce: number; actionId: number | undefined }) => {
      if (reached !== stage) return;
      logger.warn({ event: "paused", stage, ...action }, "paused for a test (PLEDGE_KEEPER_TEST_PAUSE)");
      setInterval(() => undefined, 1 << 30);
      await new Promise<never>(() => undefined);
    },
  };
}

/** Prints what the store holds: the index's sizes and cursor, and the actions by status. */
function status(options: { store: string }) {
  const store = openStore(options.store, { readOnly: true });
  try {
    const summary = store.summary();
    console.log(
      JSON.stringify(
        {
          store: summary.file,
          schemaVersion: summary.schemaVersion,
          chainId: summary.chainId ?? null,
          cursor: summary.cursor?.toString() ?? null,
          cursorHash: summary.cursorHash ?? null,
          accounts: summary.accounts,
          series: summary.series,
          openPositions: summary.openPositions,
          settledSeries: summary.settledSeries,
          openAuctions: summary.openAuctions.map(String),
          actions: summary.actions,
        },
        null,
        2,
      ),
    );
  } finally {
    store.close();
  }
}

/** Imports an old JSON store into a new SQLite store, once. */
async function importStore(json: string, options: { store: string }) {
  let text: string;
  try {
    text = await readFile(json, "utf8");
  } catch (error) {
    throw new KeeperStoreError(`cannot read ${json}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let index;
  try {
    index = parseJsonIndex(text);
  } catch (error) {
    throw new KeeperStoreError(`${json}: ${(error as Error).message}`);
  }
  const store = openStore(options.store);
  try {
    const existing = store.summary();
    if (existing.cursor !== undefined)
      throw new KeeperStoreError(
        `${options.store} already holds an index (chain ${existing.chainId}, block ${existing.cursor}); import into a new file`,
      );
    store.replaceIndex(index);
  } finally {
    store.close();
  }
  console.log(
    `imported ${json} into ${options.store}: chain ${index.chainId}, block ${index.cursor}, ` +
      `${index.accounts.size} accounts, ${index.holders.size} series, ${index.auctions.size} open auctions`,
  );
}

const program = new Command("pledge-keeper").description("Pledge keeper: liquidations, settlement prices, settlement.");
program
  .command("run")
  .description("run the keeper until SIGINT/SIGTERM")
  .requiredOption("--rpc <url...>", "JSON-RPC URLs (several: viem fallback transport)")
  .requiredOption("--deployment <path>", "address book, deployments/<chainId>.json")
  .option("--key-env <VAR>", "environment variable holding the private key")
  .option("--keystore <file>", "encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD)")
  .option("--store <path>", "the keeper's SQLite database: index and history of actions", DEFAULT_STORE)
  .option("--bidder-sub-id <n>", "sub-account of the key that bids", subId, "1")
  .option("--min-profit <usdc>", "smallest profit of a bid after gas, cash units", "0")
  .option("--max-exposure <usdc>", "largest payment for one slice, cash units")
  .option("--bid-gas-cost <usdc>", "fixed cost counted against every bid on top of its priced gas, cash units", "0")
  .option("--max-bid-gas <gas>", "skip bids whose simulation uses more gas than this", "3000000")
  .option("--confirmations <n>", "blocks the index stays behind the head", integer, 0)
  .option("--interval <ms>", "poll interval", integer, 1_000)
  .option("--no-liquidate", "do not start or bid on auctions")
  .option("--no-settle", "do not post settlement prices or settle")
  .option("--no-margin-calls", "do not report margin calls")
  .option("--metrics-port <n>", "serve /metrics and /health on this port", integer)
  .action(async (options: RunOptions) => run(options));
program
  .command("status")
  .description("print what the store holds")
  .requiredOption("--store <path>", "(required) the keeper's SQLite database")
  .action((options: { store: string }) => status(options));
program
  .command("import-store")
  .description("import an old JSON store (keepers before SQLite) into a new SQLite store, once")
  .argument("<json>", "the old JSON store")
  .requiredOption("--store <path>", "(required) the SQLite database to create, e.g. keeper.sqlite")
  .action(async (json: string, options: { store: string }) => importStore(json, options));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof KeeperStoreError)) throw error;
  console.error(`pledge-keeper: ${error.message}`);
  process.exit(EXIT_STORE);
}
