import { readFile } from "node:fs/promises";

import { parseUnits } from "viem";

import { type Counterparty, CounterpartyFormatError, parseCounterparty } from "./orderFeed.js";
import { DEFAULT_STORE } from "./store.js";

/**
 * Exit codes of `pledge-keeper run`, one per kind of start-up failure, so that a supervisor (or
 * an operator reading `echo $?`) tells them apart. docs/keeper.md has the table.
 */
export const ExitCode = {
  /** Anything not listed below: a bug or an unexpected error, still printed as one line. */
  UNEXPECTED: 1,
  /** A flag or setting: unknown, missing, or a value that does not parse. */
  USAGE: 2,
  /** The `--config` file: missing, not a JSON object, or an unknown setting. */
  CONFIG: 3,
  /** The signing key: missing, not a 32-byte hex key, or a keystore that does not decrypt. */
  KEY: 4,
  /** The `--deployment` file does not exist. */
  DEPLOYMENT_NOT_FOUND: 5,
  /** The `--deployment` file is not a valid address book. */
  DEPLOYMENT_INVALID: 6,
  /** An `--rpc` value is not an http(s) or ws(s) URL. */
  RPC_URL: 7,
  /** No `--rpc` endpoint answered `eth_chainId` within the timeout. */
  RPC_UNREACHABLE: 8,
  /** An endpoint's `eth_chainId` is not the address book's chain. */
  WRONG_CHAIN: 9,
  /** An address of the book holds no code on that chain. */
  CONTRACT_NOT_DEPLOYED: 10,
  /** The bidder account is below initial margin: every bid would be refused. */
  BIDDER_BELOW_IM: 11,
  /** The metrics server could not listen on `--metrics-host`:`--metrics-port`. */
  METRICS_BIND: 12,
  /**
   * The `--store` database: not a SQLite store (an old JSON store: `import-store` it), a newer
   * schema, missing (`status`), or already holding an index (`import-store`).
   */
  STORE: 13,
  /**
   * Offloading: `--offload-orders` not an http(s) URL, `--offload-counterparty` not an address or
   * owner/subId, `--offload-max-discount` not a percentage below 100, `--offload-min-usd` not a
   * number of USD, one of the first two without the other, or a feed that answers but not with a
   * list of orders (or with more than 1 MiB).
   */
  OFFLOAD: 14,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A start-up failure: one readable line (`message`) and the exit code that names its kind.
 *
 * @example
 * throw new KeeperStartupError(ExitCode.KEY, "environment variable KEEPER_KEY is empty");
 */
export class KeeperStartupError extends Error {
  override name = "KeeperStartupError";
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** What `pledge-keeper run` runs with, every value parsed and checked. */
export interface RunConfig {
  rpc: string[];
  deployment: string;
  keyEnv?: string | undefined;
  keystore?: string | undefined;
  store: string;
  bidderSubId: bigint;
  /** USD amounts as decimal strings: turned into cash units once the address book gives the decimals. */
  minProfit: string;
  maxExposure?: string | undefined;
  /** Excess over IM the bidder keeps unspent, USD (decimal string). */
  bidReserve: string;
  /** Smallest discount bid at, WAD (from a percentage). */
  minDiscount: bigint;
  bidGasCost: string;
  maxBidGas: bigint;
  /** Most gas one `bidMany` batch is sent with (2^24 by default: EIP-7825's per-transaction cap). */
  maxBatchGas: bigint;
  confirmations: number;
  interval: number;
  liquidate: boolean;
  settle: boolean;
  marginCalls: boolean;
  backstop: boolean;
  metricsPort?: number | undefined;
  metricsHost: string;
  /** Seconds; `/health` answers 503 when the last successful tick is older. */
  maxTickAge: number;
  dryRun: boolean;
  /** The counterparty's order feed; offloading is off without it. */
  offloadOrders?: string | undefined;
  /** Whose signed orders the keeper fills; set exactly when `offloadOrders` is. */
  offloadCounterparty?: Counterparty | undefined;
  /** The worst offload price as a fraction of the mark, WAD (from a percentage: 1 % = 10^16). */
  offloadMaxDiscount: bigint;
  /** Smallest offload fill, USD at the mark (decimal string; WAD once parsed by the caller). */
  offloadMinUsd: string;
}

type Kind =
  | "urls"
  | "url"
  | "string"
  | "usd"
  | "count"
  | "positive"
  | "port"
  | "subId"
  | "gas"
  | "seconds"
  | "boolean"
  | "counterparty"
  | "percent";

/** Every setting of `run`, by flag name (as in a `--config` file), with its kind and default. */
export const RUN_SETTINGS = {
  rpc: { kind: "urls", required: true },
  deployment: { kind: "string", required: true },
  "key-env": { kind: "string" },
  keystore: { kind: "string" },
  store: { kind: "string", default: DEFAULT_STORE },
  "bidder-sub-id": { kind: "subId", default: "1" },
  "min-profit": { kind: "usd", default: "0" },
  "max-exposure": { kind: "usd" },
  "bid-reserve": { kind: "usd", default: "0" },
  "min-discount": { kind: "percent", default: "0" },
  "bid-gas-cost": { kind: "usd", default: "0" },
  "max-bid-gas": { kind: "gas", default: "3000000" },
  "max-batch-gas": { kind: "gas", default: "16777216" },
  confirmations: { kind: "count", default: "0" },
  interval: { kind: "positive", default: "1000" },
  liquidate: { kind: "boolean", default: true },
  settle: { kind: "boolean", default: true },
  "margin-calls": { kind: "boolean", default: true },
  backstop: { kind: "boolean", default: true },
  "metrics-port": { kind: "port" },
  "metrics-host": { kind: "string", default: "127.0.0.1" },
  "max-tick-age": { kind: "seconds", default: "120" },
  "dry-run": { kind: "boolean", default: false },
  "offload-orders": { kind: "url", exitCode: ExitCode.OFFLOAD },
  "offload-counterparty": { kind: "counterparty", exitCode: ExitCode.OFFLOAD },
  "offload-max-discount": { kind: "percent", default: "1", exitCode: ExitCode.OFFLOAD },
  "offload-min-usd": { kind: "usd", default: "100", exitCode: ExitCode.OFFLOAD },
} as const satisfies Record<
  string,
  { kind: Kind; required?: boolean; default?: string | boolean; exitCode?: ExitCode }
>;
export type RunSetting = keyof typeof RUN_SETTINGS;

const EXPECTED: Record<Kind, string> = {
  urls: "one or more URLs",
  url: "an http(s) URL",
  string: "a string",
  usd: "a number of USD",
  count: "a non-negative integer",
  positive: "a positive integer of milliseconds",
  port: "a port number (1-65535)",
  subId: "a non-negative integer",
  gas: "a positive integer of gas",
  seconds: "a positive number of seconds",
  boolean: "true or false",
  counterparty: "an address or owner/subId",
  percent: "a percentage from 0 to below 100",
};

/** The value of one setting, parsed; a one-line `KeeperStartupError` (USAGE) naming `--flag` when it does not parse. */
function parseSetting(name: RunSetting, raw: unknown, where: string): unknown {
  const spec: { kind: Kind; exitCode?: ExitCode } = RUN_SETTINGS[name];
  const { kind } = spec;
  const fail = (): never => {
    const shown = Array.isArray(raw) ? raw.join(" ") : typeof raw === "string" ? raw : JSON.stringify(raw);
    throw new KeeperStartupError(
      spec.exitCode ?? ExitCode.USAGE,
      `${where}${name} must be ${EXPECTED[kind]}, got ${shown}`,
    );
  };
  if (kind === "boolean") return typeof raw === "boolean" ? raw : fail();
  if (kind === "urls") {
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0 || !list.every((url) => typeof url === "string" && url !== "")) fail();
    return list;
  }
  const text = typeof raw === "number" ? String(raw) : raw;
  if (typeof text !== "string" || text.trim() === "") return fail();
  switch (kind) {
    case "string":
      return text;
    case "usd":
      return /^\d+(\.\d+)?$/.test(text) ? text : fail();
    case "count":
    case "positive":
    case "port": {
      if (!/^\d+$/.test(text)) return fail();
      const value = Number(text);
      if (!Number.isSafeInteger(value)) return fail();
      if (kind !== "count" && value === 0) return fail();
      if (kind === "port" && value > 65_535) return fail();
      return value;
    }
    case "subId":
      return /^\d+$/.test(text) && BigInt(text) < 1n << 96n ? BigInt(text) : fail();
    case "gas":
      return /^\d+$/.test(text) && BigInt(text) > 0n ? BigInt(text) : fail();
    case "seconds": {
      const value = Number(text);
      return /^\d+(\.\d+)?$/.test(text) && value > 0 ? value : fail();
    }
    case "url": {
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        url = undefined;
      }
      return url !== undefined && (url.protocol === "http:" || url.protocol === "https:") ? text : fail();
    }
    case "counterparty":
      try {
        return parseCounterparty(text);
      } catch (error) {
        if (error instanceof CounterpartyFormatError) return fail();
        throw error;
      }
    case "percent":
      return /^\d+(\.\d+)?$/.test(text) && Number(text) < 100 ? parseUnits(text, 16) : fail();
  }
  return fail();
}

const camel = (name: string) => name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());

/**
 * Merges the settings of a `--config` file under the flags given on the command line (a flag
 * always wins), applies the defaults, and parses every value with the same rules whatever its
 * source. Throws a `KeeperStartupError` whose message is one line naming the flag: USAGE for a
 * missing required setting or a bad value, CONFIG for an unknown setting in the file.
 *
 * @example
 * const config = resolveRunConfig({ rpc: ["http://127.0.0.1:8545"], "min-profit": "5" }, { deployment: "deployments/31337.json" });
 * config.minProfit; // "5"
 */
export function resolveRunConfig(
  flags: Partial<Record<RunSetting, unknown>>,
  file: Record<string, unknown> = {},
  fileName = "the config file",
): RunConfig {
  for (const key of Object.keys(file)) {
    if (!(key in RUN_SETTINGS)) {
      throw new KeeperStartupError(
        ExitCode.CONFIG,
        `${fileName}: unknown setting "${key}" (settings are the flag names without --, e.g. "min-profit")`,
      );
    }
  }
  const config: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(RUN_SETTINGS) as [RunSetting, (typeof RUN_SETTINGS)[RunSetting]][]) {
    const fromFlag = flags[name];
    const fromFile = file[name];
    if (fromFlag !== undefined) config[camel(name)] = parseSetting(name, fromFlag, "--");
    else if (fromFile !== undefined) config[camel(name)] = parseSetting(name, fromFile, `${fileName}: `);
    else if ("default" in spec) config[camel(name)] = parseSetting(name, spec.default, "--");
    else if ("required" in spec && spec.required) {
      throw new KeeperStartupError(ExitCode.USAGE, `--${name} is required (on the command line or in --config)`);
    }
  }
  if ((config.offloadOrders === undefined) !== (config.offloadCounterparty === undefined)) {
    throw new KeeperStartupError(
      ExitCode.OFFLOAD,
      config.offloadOrders === undefined
        ? "--offload-counterparty needs --offload-orders <url>: where are the counterparty's orders?"
        : "--offload-orders needs --offload-counterparty <address or owner/subId>: whose signed orders may be filled?",
    );
  }
  return config as unknown as RunConfig;
}

/**
 * Reads a `--config` file: a JSON object whose keys are the flag names without `--`. Throws a
 * `KeeperStartupError` (CONFIG) when it is missing or not a JSON object.
 *
 * @example
 * const file = await readConfigFile("keeper.json"); // { rpc: ["https://…"], deployment: "deployments/10.json", "min-profit": "5" }
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new KeeperStartupError(ExitCode.CONFIG, `--config ${file}: ${reason}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new KeeperStartupError(ExitCode.CONFIG, `--config ${file}: not JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new KeeperStartupError(ExitCode.CONFIG, `--config ${file}: should hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}
