#!/usr/bin/env -S npx tsx
import { readFile } from "node:fs/promises";

import { Command, CommanderError } from "commander";
import pino from "pino";
import {
  type Transport,
  createPublicClient,
  createWalletClient,
  defineChain,
  fallback,
  formatUnits,
  http,
  parseUnits,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { type AddressBook, accountId, formatAccount, formatAmount, getCashMarket, utilization } from "@pledge/sdk";
import {
  ExitCode,
  KeeperStartupError,
  RUN_SETTINGS,
  type RunSetting,
  readConfigFile,
  resolveRunConfig,
} from "./config.js";
import type { SendStage } from "./executor.js";
import { createKeeper } from "./keeper.js";
import { type Counterparty, OrderFeedError, fetchOrderFeed, formatCounterparty, signedBy } from "./orderFeed.js";
import { checkBidder, checkChain, checkCode, checkRpcUrls, loadDeployment, loadKey, redactUrl } from "./preflight.js";
import { DEFAULT_STORE, KeeperStoreError, openStore, parseJsonIndex } from "./store.js";

/** How long each start-up RPC check waits for an answer: a dead endpoint fails the start, it is not retried. */
const STARTUP_TIMEOUT_MS = 5_000;

/**
 * Validates everything before the first tick (docs/keeper.md, "Start-up checks"), then runs the
 * keeper until SIGINT/SIGTERM. Every failure is a `KeeperStartupError`: one line, its own exit code.
 */
async function run(flags: Partial<Record<RunSetting, unknown>>, configFile: string | undefined) {
  const config = resolveRunConfig(flags, configFile === undefined ? {} : await readConfigFile(configFile), configFile);
  const logger = pino({ name: "pledge-keeper" });
  const account = privateKeyToAccount(await loadKey(config));
  const book = await loadDeployment(config.deployment);
  checkRpcUrls(config.rpc);
  const silent = await checkChain(config.rpc, book, STARTUP_TIMEOUT_MS);
  if (silent.length > 0) logger.warn({ rpc: silent }, "--rpc endpoints that did not answer at start-up");

  const { chain, transport } = connect(config.rpc, book);
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ chain, transport, account });
  await checkCode(publicClient, book);
  const bidderAccount = accountId(account.address, config.bidderSubId);
  if (config.liquidate) {
    const { warning } = await checkBidder(publicClient, book, bidderAccount);
    if (warning) logger.warn({ bidderAccount: formatAccount(bidderAccount) }, warning);
  }
  if (!config.dryRun && (await publicClient.getBalance({ address: account.address })) === 0n) {
    logger.warn({ keeper: account.address }, "the key holds no native token: every send will fail until it is funded");
  }
  if (config.offloadOrders !== undefined) {
    await checkOrderFeed(config.offloadOrders, config.offloadCounterparty!, book, logger);
  }

  const decimals = book.cash.decimals;
  const keeper = createKeeper({
    publicClient,
    walletClient,
    addressBook: book,
    bidderAccount,
    storePath: config.store,
    ...testPauseHook(logger),
    confirmations: config.confirmations,
    jobs: {
      liquidate: config.liquidate,
      settle: config.settle,
      marginCalls: config.marginCalls,
      backstop: config.backstop,
    },
    minProfit: parseUnits(config.minProfit, decimals),
    bidGasCost: parseUnits(config.bidGasCost, decimals),
    maxBidGas: config.maxBidGas,
    maxBatchGas: config.maxBatchGas,
    ...(config.maxExposure === undefined ? {} : { maxExposure: parseUnits(config.maxExposure, decimals) }),
    bidReserveWad: parseUnits(config.bidReserve, 18),
    minDiscountWad: config.minDiscount,
    ...(config.metricsPort === undefined ? {} : { metricsPort: config.metricsPort }),
    metricsHost: config.metricsHost,
    maxTickAgeMs: config.maxTickAge * 1_000,
    dryRun: config.dryRun,
    ...(config.offloadOrders === undefined
      ? {}
      : {
          offload: {
            ordersUrl: config.offloadOrders,
            counterparty: config.offloadCounterparty!,
            maxDiscountWad: config.offloadMaxDiscount,
            minFillUsdWad: parseUnits(config.offloadMinUsd, 18),
          },
        }),
    logger,
  });
  try {
    await keeper.ready();
  } catch (error) {
    await keeper.stop();
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new KeeperStartupError(
      ExitCode.METRICS_BIND,
      `--metrics-host ${config.metricsHost} --metrics-port ${config.metricsPort}: cannot listen (${reason})`,
      { cause: error },
    );
  }
  logger.info(
    {
      keeper: account.address,
      bidderAccount: formatAccount(bidderAccount),
      chainId: book.chainId,
      rpc: config.rpc.map(redactUrl),
      dryRun: config.dryRun,
      metrics: config.metricsPort === undefined ? null : `${config.metricsHost}:${config.metricsPort}`,
      offload:
        config.offloadOrders === undefined
          ? null
          : {
              orders: redactUrl(config.offloadOrders),
              counterparty: formatCounterparty(config.offloadCounterparty!),
              maxDiscountPercent: formatUnits(config.offloadMaxDiscount, 16),
              minUsd: config.offloadMinUsd,
            },
    },
    "keeper starting",
  );
  keeper.start(config.interval);
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
 * Reads the offload feed once before the first tick. A feed that answers with an HTTP error or
 * with something other than a list of orders is a wrong URL: OFFLOAD (exit 14). One that does not
 * answer is logged as a warning (the counterparty may be down for a while; the keeper liquidates
 * without it and retries every tick), and so is a feed holding no order the counterparty signed.
 */
async function checkOrderFeed(url: string, counterparty: Counterparty, book: AddressBook, logger: pino.Logger) {
  const where = { orders: redactUrl(url), counterparty: formatCounterparty(counterparty) };
  try {
    const feed = await fetchOrderFeed(url, STARTUP_TIMEOUT_MS);
    const signed = await signedBy(feed, counterparty, { chainId: book.chainId, market: book.contracts.OptionMarket });
    if (signed.orders.length === 0 && feed.orders.length + feed.rejected.length > 0) {
      logger.warn(
        { ...where, entries: feed.orders.length + feed.rejected.length },
        "the order feed holds no order the counterparty signed for this market: nothing can be offloaded",
      );
    }
  } catch (error) {
    if (!(error instanceof OrderFeedError)) throw error;
    if (error.answered)
      throw new KeeperStartupError(ExitCode.OFFLOAD, `--offload-orders ${where.orders}: ${error.message}`);
    logger.warn(
      { ...where, err: error.message },
      "the order feed did not answer at start-up; offloading retries every tick",
    );
  }
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

/** The chain of `book` over `rpc` (several URLs: viem's fallback transport, tried in order). */
function connect(rpc: readonly string[], book: AddressBook) {
  const transports = rpc.map((url) => http(url, { retryCount: 0, timeout: STARTUP_TIMEOUT_MS }));
  const transport: Transport = transports.length === 1 ? transports[0]! : fallback(transports, { rank: false });
  const chain = defineChain({
    id: book.chainId,
    name: `pledge-${book.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [...rpc] } },
  });
  return { chain, transport };
}

/**
 * Prints the vault's cash market at the latest block (docs/cash.md): the borrow and supply APRs,
 * utilisation, credit, debt and what creditors may withdraw, the reserve, and the losses shared
 * or held apart; `--json` prints the same as one JSON object (amounts in cash base units).
 */
async function cash(options: { rpc: string[]; deployment: string; json?: boolean }) {
  const book = await loadDeployment(options.deployment);
  checkRpcUrls(options.rpc);
  await checkChain(options.rpc, book, STARTUP_TIMEOUT_MS);
  const { chain, transport } = connect(options.rpc, book);
  const publicClient = createPublicClient({ chain, transport });
  await checkCode(publicClient, book);
  const m = await getCashMarket(publicClient, { addressBook: book });
  // The rate model's utilisation, at most 100 %, the one `supplyAprWad` is computed from (SDK
  // `utilization`). Debt exceeds credit only while shorts are settled before their longs (the
  // settlement account holds the rest); creditors then earn more than the APR shown, but never more
  // than the borrow rate on their own supply (the vault gives the excess to the reserve, rv15e 2).
  const utilisationWad = utilization(m.totalCredit, m.totalDebt);
  const debtExceedsCredit = m.totalDebt > m.totalCredit;
  if (options.json) {
    const fields = {
      blockNumber: m.blockNumber,
      timestamp: m.timestamp,
      borrowAprWad: m.borrowAprWad,
      supplyAprWad: m.supplyAprWad,
      utilisationWad,
      totalCredit: m.totalCredit,
      totalDebt: m.totalDebt,
      liquidity: m.liquidity,
      reserveShareWad: m.reserveShareWad,
      lossSocialized: m.lossSocialized,
      unabsorbedLoss: m.unabsorbedLoss,
      cashDepositsOpen: m.cashDepositsOpen,
      epoch: m.epoch,
      badDebt: m.badDebt,
      supplyIndex: m.market.supplyIndex,
      debtIndex: m.market.debtIndex,
      rateModel: m.market.rateModel,
    };
    process.stdout.write(`${JSON.stringify(fields, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
    return;
  }
  const { symbol, decimals } = book.cash;
  const units = (x: bigint) => `${formatAmount(x, decimals, 2)} ${symbol}`;
  const pct = (wad: bigint) => `${formatAmount(wad * 100n, 18, 2)} %`;
  const rows: [string, string][] = [
    ["block", `${m.blockNumber} (${new Date(Number(m.timestamp) * 1000).toISOString()})`],
    ["borrow APR", pct(m.borrowAprWad)],
    ["supply APR", `${pct(m.supplyAprWad)}${debtExceedsCredit ? " (at least: debt exceeds credit)" : ""}`],
    ["utilisation", `${pct(utilisationWad)}${debtExceedsCredit ? " (capped at 100 %)" : ""}`],
    ["cash credit", units(m.totalCredit)],
    ["cash debt", units(m.totalDebt)],
    ["withdrawable", units(m.liquidity)],
    ["reserve share", pct(m.reserveShareWad)],
    ["losses shared", units(m.lossSocialized)],
    ["loss held apart", units(m.unabsorbedLoss)],
    ["cash deposits", m.cashDepositsOpen ? "open" : "repayments only, until the loss is repaid"],
    // A loss past the floor ends the epoch: older claims are converted at its closing rate (docs/cash.md).
    ["cash epoch", `${m.epoch}`],
    ["rate model", /^0x0{40}$/i.test(m.market.rateModel) ? "none (zero rate)" : m.market.rateModel],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n") + "\n");
}

const program = new Command("pledge-keeper")
  .description("Pledge keeper: liquidations, settlement prices, settlement.")
  .exitOverride()
  // Errors are printed once, as one line, by `fail` below.
  .configureOutput({ outputError: () => {} });
const runCommand = program
  .command("run")
  .description("run the keeper until SIGINT/SIGTERM (exit codes: docs/keeper.md)")
  .option("--config <file>", "JSON file of settings (keys are these flags without --); flags override it")
  .option("--rpc <url...>", "JSON-RPC URLs, http(s) (several: viem fallback transport); required")
  .option("--deployment <path>", "address book, deployments/<chainId>.json; required")
  .option("--key-env <VAR>", "environment variable holding the private key")
  .option("--keystore <file>", "encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD)")
  .option("--store <path>", `the keeper's SQLite database: index and history of actions (default: ${DEFAULT_STORE})`)
  .option("--bidder-sub-id <n>", "sub-account of the key that bids (default: 1)")
  .option("--min-profit <usd>", "smallest profit of a bid after gas, USD (default: 0)")
  .option("--max-exposure <usd>", "largest payment for one slice, USD")
  .option("--bid-reserve <usd>", "excess over IM the bidder keeps unspent: bids never use it, USD (default: 0)")
  .option("--min-discount <percent>", "bid only at this auction discount or more; start and wait below (default: 0)")
  .option("--bid-gas-cost <usd>", "fixed cost counted against every bid on top of its priced gas, USD (default: 0)")
  .option(
    "--max-bid-gas <gas>",
    "skip bids whose simulation uses more gas than this, per bid of a batch (default: 3000000)",
  )
  .option(
    "--max-batch-gas <gas>",
    "most gas one bidMany batch is sent with; a tick's bids are packed under it (default: 16777216)",
  )
  .option("--confirmations <n>", "blocks the index stays behind the head (default: 0)")
  .option("--interval <ms>", "poll interval (default: 1000)")
  .option("--no-liquidate", "do not start or bid on auctions")
  .option("--no-settle", "do not post settlement prices or settle")
  .option("--no-margin-calls", "do not report margin calls")
  .option("--no-backstop", "do not take over or deleverage accounts whose auction ran its duration unbid")
  .option("--dry-run", "simulate and log every transaction, send none")
  .option("--metrics-port <n>", "serve /metrics and /health on this port")
  .option("--metrics-host <host>", "interface the metrics server binds (default: 127.0.0.1)")
  .option("--max-tick-age <s>", "/health answers 503 when the last tick is older (default: 120)")
  .option("--offload-orders <url>", "offload the bidder's book by filling signed orders served as JSON at this URL")
  .option("--offload-counterparty <account>", "only fill orders of this address or owner/subId, signed by its key")
  .option(
    "--offload-max-discount <percent>",
    "worst offload price accepted, percent away from the SDK's mark, taker fee included (default: 1)",
  )
  .option(
    "--offload-min-usd <usd>",
    "smallest offload fill, USD at the SDK's mark; smaller orders are ignored as dust (default: 100)",
  )
  .action(async (options: Record<string, unknown> & { config?: string }) => {
    // Only what was typed counts as a flag: the defaults are applied after the config file.
    const flags: Partial<Record<RunSetting, unknown>> = {};
    for (const name of Object.keys(RUN_SETTINGS) as RunSetting[]) {
      const attribute = name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
      if (runCommand.getOptionValueSource(attribute) === "cli") flags[name] = options[attribute];
    }
    await run(flags, options.config);
  });
program
  .command("cash")
  .description("print the cash market: borrow and supply APRs, utilisation, liquidity, losses (docs/cash.md)")
  .requiredOption("--rpc <url...>", "(required) JSON-RPC URLs, http(s)")
  .requiredOption("--deployment <path>", "(required) address book, deployments/<chainId>.json")
  .option("--json", "one JSON object instead of the table (amounts in cash base units, rates WAD)")
  .action(async (options: { rpc: string[]; deployment: string; json?: boolean }) => cash(options));
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

/** Prints `error` as one line on stderr and exits with its code: never a stack trace. */
function fail(error: unknown): never {
  const oneLine = (text: string) =>
    text
      .replace(/^error: /, "")
      .replace(/\s*\n\s*/g, " ")
      .trim();
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) process.exit(0); // --help
    process.stderr.write(`error: ${oneLine(error.message)}\n`);
    process.exit(ExitCode.USAGE);
  }
  if (error instanceof KeeperStoreError) {
    process.stderr.write(`error: ${oneLine(error.message)}\n`);
    process.exit(ExitCode.STORE);
  }
  if (error instanceof KeeperStartupError) {
    process.stderr.write(`error: ${oneLine(error.message)}\n`);
    process.exit(error.exitCode);
  }
  const message =
    error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message) : String(error);
  process.stderr.write(`error: ${oneLine(message)}\n`);
  process.exit(ExitCode.UNEXPECTED);
}

await program.parseAsync(process.argv).catch(fail);
