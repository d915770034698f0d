import { readFile } from "node:fs/promises";

import {
  type Address,
  type PublicClient,
  erc20Abi,
  getAddress,
  isAddress,
  isAddressEqual,
  keccak256,
  parseUnits,
  toHex,
  zeroAddress,
} from "viem";

import { aggregatorV3Abi } from "../../packages/sdk/src/abis/aggregatorV3.js";
import { DeployError } from "./deployError.js";
import { ROLES, accessControlAbi } from "./roles.js";
import { type AdminPlan, DEFAULT_AUCTION, DEFAULT_STANDARD_MARGIN, type PledgePlan } from "./pledgeCore.js";
import type { AddressBook } from "./addressBook.js";

// The contracts' hard limits (ChainlinkOracle, CollateralVault, MarginEngine), checked here so that a
// bad file fails before the first transaction rather than halfway through the deployment.
const MIN_MAX_AGE = 60;
const MAX_MAX_AGE = 2 * 86_400;
const MAX_GRACE_PERIOD = 86_400;
const MIN_SETTLEMENT_DELAY = 60;
const MAX_SETTLEMENT_DELAY = 2 * 86_400;
const MAX_SETTLEMENT_FALLBACK_WAIT = 7 * 86_400;
const MAX_HAIRCUT = parseUnits("0.9", 18);
/** ChainlinkOracle's largest feed bound, WAD: each is stored in 128 bits. */
const MAX_FEED_BOUND = 2n ** 128n - 1n;
const MAX_COLLATERAL_ASSETS = 8;
const MAX_RISK_PARAM = parseUnits("0.5", 18);
const MIN_MM_PARAM = parseUnits("0.01", 18);
const MAX_DECIMALS = 36;
const MAX_SURFACE_SIGNERS = 16; // VolSurfaceOracle.MAX_SIGNERS
const MIN_CHANGE_RATIO = parseUnits("1.1", 18); // VolSurfaceOracle.MIN_CHANGE_RATIO
const MAX_CHANGE_RATIO = parseUnits("16", 18); // VolSurfaceOracle.MAX_CHANGE_RATIO

/** A feed as the parameters file gives it: bounds in the feed's unit (USD for spot, 1 = 100 % for vol). */
interface FeedParameters {
  aggregator: Address;
  maxAge: number;
  min: string;
  max: string;
}

/** A collateral token as the parameters file gives it, still in human units. */
interface CollateralParameters {
  symbol: string;
  token: Address;
  initialHaircut: string;
  maintenanceHaircut: string;
  supplyCap: string;
  spotFeed: FeedParameters;
  volFeed: FeedParameters;
  standardMargin?: { aIM: string; bIM: string; aMM: string; bMM: string };
}

/** The parameters file of a live deployment, after its static checks (docs/deploy.md). */
export interface DeployParameters {
  chainId: number;
  cash: { token: Address; supplyCap: string };
  collateral: CollateralParameters[];
  oracle: {
    maxSettlementDelay: number;
    settlementFallbackWait: number;
    sequencerUptimeFeed: Address | null;
    sequencerGracePeriod: number;
  };
  /** The vol-surface oracle's signers, quorum and change ratio (a decimal; "4" by default). */
  volSurface: { signers: Address[]; quorum: number; changeRatio: string; marks: boolean };
  admin: { timelock: Address } | { newTimelock: { minDelay: number; proposers: Address[]; executors: Address[] } };
  riskManager: Address;
  guardian: Address;
}

/** A parameters file resolved against the chain: the Ignition plan and the address book's token entries. */
export interface LivePlan {
  plan: PledgePlan;
  cash: AddressBook["cash"];
  collateral: { address: Address; symbol: string; decimals: number; spotFeed: Address; volFeed: Address }[];
}

/** Collects one sentence per problem, each prefixed with where in the file it is. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string) {
    this.list.push(`${path}: ${message}`);
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads and checks a parameters file without touching the chain: every field present with the
 * right type, addresses well formed, numbers within the contracts' limits. Throws a `DeployError`
 * listing every problem (not only the first).
 */
export async function readParameters(file: string): Promise<DeployParameters> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new DeployError([`the parameters file ${file} cannot be read: check the path`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeployError([`the parameters file ${file} is not valid JSON (${(error as Error).message})`]);
  }
  return checkParameters(json, file);
}

/** The static checks of `readParameters`, on parsed JSON. */
export function checkParameters(json: unknown, file = "parameters"): DeployParameters {
  const problems = new Problems();
  const root = isObject(json) ? json : (problems.add(file, "must be a JSON object"), {});

  const field = (object: Json, key: string, path: string): unknown => {
    const value = object[key];
    if (value === undefined) problems.add(`${path}.${key}`.replace(/^\./, ""), "is missing");
    return value;
  };
  const address = (object: Json, key: string, path: string): Address => {
    const value = field(object, key, path);
    if (value === undefined) return zeroAddress;
    if (typeof value !== "string" || !isAddress(value, { strict: false })) {
      problems.add(`${path}.${key}`.replace(/^\./, ""), `${JSON.stringify(value)} is not an address`);
      return zeroAddress;
    }
    if (BigInt(value) === 0n) problems.add(`${path}.${key}`.replace(/^\./, ""), "is the zero address");
    return getAddress(value);
  };
  const seconds = (object: Json, key: string, path: string, min: number, max: number): number => {
    const value = field(object, key, path);
    if (value === undefined) return 0;
    const where = `${path}.${key}`.replace(/^\./, "");
    if (typeof value !== "number" || !Number.isInteger(value)) {
      problems.add(where, `${JSON.stringify(value)} is not a whole number of seconds`);
      return 0;
    }
    if (value < min || value > max) problems.add(where, `${value} s is outside [${min} s, ${max} s]`);
    return value;
  };
  const decimal = (object: Json, key: string, path: string): string => {
    const value = field(object, key, path);
    if (value === undefined) return "0";
    const text = typeof value === "number" ? String(value) : value;
    if (typeof text !== "string" || !/^\d+(\.\d+)?$/.test(text)) {
      problems.add(
        `${path}.${key}`.replace(/^\./, ""),
        `${JSON.stringify(value)} is not a non-negative decimal number`,
      );
      return "0";
    }
    return text;
  };
  const object = (parent: Json, key: string, path: string): Json => {
    const value = field(parent, key, path);
    if (value === undefined) return {};
    if (!isObject(value)) {
      problems.add(`${path}.${key}`.replace(/^\./, ""), "must be an object");
      return {};
    }
    return value;
  };

  // A misspelt key would otherwise leave a field missing, or an optional one at its default.
  const onlyKeys = (object: Json, keys: readonly string[], path: string) => {
    for (const key of Object.keys(object)) {
      if (!key.startsWith("$") && !keys.includes(key)) {
        problems.add(path === "" ? key : `${path}.${key}`, `is not a known field (expected one of ${keys.join(", ")})`);
      }
    }
  };
  onlyKeys(root, ["chainId", "cash", "collateral", "oracle", "volSurface", "admin", "riskManager", "guardian"], "");

  const chainId = field(root, "chainId", "");
  if (chainId !== undefined && (typeof chainId !== "number" || !Number.isInteger(chainId) || chainId <= 0)) {
    problems.add("chainId", `${JSON.stringify(chainId)} is not a chain id`);
  }

  const cashJson = object(root, "cash", "");
  onlyKeys(cashJson, ["token", "supplyCap"], "cash");
  const cash = { token: address(cashJson, "token", "cash"), supplyCap: decimal(cashJson, "supplyCap", "cash") };

  const oracleJson = object(root, "oracle", "");
  onlyKeys(
    oracleJson,
    ["maxSettlementDelay", "settlementFallbackWait", "sequencerUptimeFeed", "sequencerGracePeriod"],
    "oracle",
  );
  const maxSettlementDelay = seconds(
    oracleJson,
    "maxSettlementDelay",
    "oracle",
    MIN_SETTLEMENT_DELAY,
    MAX_SETTLEMENT_DELAY,
  );
  const settlementFallbackWait = seconds(
    oracleJson,
    "settlementFallbackWait",
    "oracle",
    maxSettlementDelay,
    MAX_SETTLEMENT_FALLBACK_WAIT,
  );
  const sequencerUptimeFeed =
    oracleJson.sequencerUptimeFeed === null ? null : address(oracleJson, "sequencerUptimeFeed", "oracle");
  const sequencerGracePeriod = seconds(oracleJson, "sequencerGracePeriod", "oracle", 0, MAX_GRACE_PERIOD);

  const feed = (parent: Json, key: string, path: string, spot: boolean): FeedParameters => {
    const json = object(parent, key, path);
    const where = `${path}.${key}`;
    onlyKeys(json, ["aggregator", "maxAge", "min", "max"], where);
    const result = {
      aggregator: address(json, "aggregator", where),
      maxAge: seconds(json, "maxAge", where, MIN_MAX_AGE, MAX_MAX_AGE),
      min: decimal(json, "min", where),
      max: decimal(json, "max", where),
    };
    // A spot feed's on-time heartbeat round must settle on the normal path (OracleFeedMaxAgeAboveSettlementDelay).
    if (spot && maxSettlementDelay > 0 && result.maxAge > maxSettlementDelay) {
      problems.add(
        `${where}.maxAge`,
        `${result.maxAge} s is above oracle.maxSettlementDelay (${maxSettlementDelay} s): an on-time round could miss settlement`,
      );
    }
    // On a live network bounds are required: they are the only check that catches a feed of the
    // wrong pair or scale (an ETH/BTC ratio feed given as ETH/USD answers 0.05 and would pass).
    if (Number(result.min) <= 0 || Number(result.max) <= 0) {
      problems.add(
        where,
        `min and max must both be above 0 (got ${result.min} and ${result.max}): they catch a wrong feed`,
      );
    } else if (Number(result.min) > Number(result.max)) {
      problems.add(where, `min ${result.min} is above max ${result.max}`);
    } else if (parseUnits(result.max, 18) > MAX_FEED_BOUND) {
      // ChainlinkOracle keeps each bound in 128 bits and refuses a larger one (OracleInvalidFeedConfig).
      problems.add(`${where}.max`, `${result.max} is above the oracle's largest bound (2^128 − 1 in WAD)`);
    }
    return result;
  };

  const collateralJson = field(root, "collateral", "");
  const collateral: CollateralParameters[] = [];
  if (collateralJson !== undefined && !Array.isArray(collateralJson)) problems.add("collateral", "must be a list");
  const entries = Array.isArray(collateralJson) ? collateralJson : [];
  if (Array.isArray(collateralJson) && entries.length === 0) problems.add("collateral", "lists no token");
  if (entries.length > MAX_COLLATERAL_ASSETS) {
    problems.add("collateral", `lists ${entries.length} tokens; the vault takes at most ${MAX_COLLATERAL_ASSETS}`);
  }
  entries.forEach((entry: unknown, i) => {
    const path = `collateral[${i}]`;
    if (!isObject(entry)) return problems.add(path, "must be an object");
    onlyKeys(
      entry,
      ["symbol", "token", "initialHaircut", "maintenanceHaircut", "supplyCap", "spotFeed", "volFeed", "standardMargin"],
      path,
    );
    const symbol = field(entry, "symbol", path);
    if (symbol !== undefined && (typeof symbol !== "string" || !/^[A-Za-z0-9.]{1,16}$/.test(symbol))) {
      problems.add(`${path}.symbol`, `${JSON.stringify(symbol)} is not a token symbol (letters and digits)`);
    }
    const initialHaircut = decimal(entry, "initialHaircut", path);
    const maintenanceHaircut = decimal(entry, "maintenanceHaircut", path);
    if (parseUnits(initialHaircut, 18) > MAX_HAIRCUT)
      problems.add(`${path}.initialHaircut`, `${initialHaircut} is above 0.9`);
    if (parseUnits(maintenanceHaircut, 18) > parseUnits(initialHaircut, 18)) {
      problems.add(path, `maintenanceHaircut ${maintenanceHaircut} is above initialHaircut ${initialHaircut}`);
    }
    let standardMargin: CollateralParameters["standardMargin"];
    if (entry.standardMargin !== undefined) {
      const margin = object(entry, "standardMargin", path);
      const where = `${path}.standardMargin`;
      onlyKeys(margin, ["aIM", "bIM", "aMM", "bMM"], where);
      standardMargin = {
        aIM: decimal(margin, "aIM", where),
        bIM: decimal(margin, "bIM", where),
        aMM: decimal(margin, "aMM", where),
        bMM: decimal(margin, "bMM", where),
      };
      const [aIM, bIM, aMM, bMM] = marginWad(standardMargin);
      if (aIM > MAX_RISK_PARAM || bIM > MAX_RISK_PARAM) problems.add(where, "aIM and bIM must be at most 0.5");
      if (aMM < MIN_MM_PARAM || bMM < MIN_MM_PARAM) problems.add(where, "aMM and bMM must be at least 0.01");
      if (aMM > aIM || bMM > bIM) problems.add(where, "aMM and bMM must not exceed aIM and bIM");
    }
    collateral.push({
      symbol: typeof symbol === "string" ? symbol : "",
      token: address(entry, "token", path),
      initialHaircut,
      maintenanceHaircut,
      supplyCap: decimal(entry, "supplyCap", path),
      spotFeed: feed(entry, "spotFeed", path, true),
      volFeed: feed(entry, "volFeed", path, false),
      standardMargin,
    });
  });
  const tokens = [cash.token, ...collateral.map((c) => c.token)].filter((token) => token !== zeroAddress);
  for (const [i, token] of tokens.entries()) {
    if (tokens.indexOf(token) !== i)
      problems.add("collateral", `token ${token} appears twice (or is also the cash token)`);
  }
  const symbols = collateral.map((c) => c.symbol);
  for (const [i, symbol] of symbols.entries()) {
    if (symbol !== "" && symbols.indexOf(symbol) !== i) problems.add("collateral", `symbol ${symbol} appears twice`);
  }

  const surfaceJson = object(root, "volSurface", "");
  onlyKeys(surfaceJson, ["signers", "quorum", "changeRatio", "marks"], "volSurface");
  const signersJson = field(surfaceJson, "signers", "volSurface");
  const surfaceSigners: Address[] = [];
  if (signersJson !== undefined) {
    if (!Array.isArray(signersJson) || signersJson.length === 0 || signersJson.length > MAX_SURFACE_SIGNERS) {
      problems.add("volSurface.signers", `must be a list of 1 to ${MAX_SURFACE_SIGNERS} addresses`);
    } else {
      signersJson.forEach((_, i) => {
        const signer = address(signersJson as unknown as Json, String(i), "volSurface.signers");
        if (signer !== zeroAddress && surfaceSigners.includes(signer))
          problems.add(`volSurface.signers.${i}`, `${signer} appears twice`);
        surfaceSigners.push(signer);
      });
    }
  }
  const quorum = field(surfaceJson, "quorum", "volSurface");
  if (
    quorum !== undefined &&
    (typeof quorum !== "number" ||
      !Number.isInteger(quorum) ||
      quorum < 1 ||
      quorum > Math.max(surfaceSigners.length, 1))
  ) {
    problems.add(
      "volSurface.quorum",
      `${JSON.stringify(quorum)} is not a whole number from 1 to the number of signers`,
    );
  }
  const changeRatio = surfaceJson.changeRatio === undefined ? "4" : decimal(surfaceJson, "changeRatio", "volSurface");
  if (parseUnits(changeRatio, 18) < MIN_CHANGE_RATIO || parseUnits(changeRatio, 18) > MAX_CHANGE_RATIO)
    problems.add("volSurface.changeRatio", `${changeRatio} is outside [1.1, 16]`);
  // The engine marks with the surface unless the file says otherwise (docs/vol-surface.md).
  const marks = surfaceJson.marks === undefined ? true : surfaceJson.marks;
  if (typeof marks !== "boolean") problems.add("volSurface.marks", `${JSON.stringify(marks)} is not true or false`);

  const adminJson = object(root, "admin", "");
  onlyKeys(adminJson, ["timelock", "newTimelock"], "admin");
  let admin: DeployParameters["admin"] = { timelock: zeroAddress };
  if ("timelock" in adminJson === "newTimelock" in adminJson) {
    problems.add("admin", 'must hold exactly one of "timelock" (an existing TimelockController) or "newTimelock"');
  } else if ("timelock" in adminJson) {
    admin = { timelock: address(adminJson, "timelock", "admin") };
  } else {
    const json = object(adminJson, "newTimelock", "admin");
    onlyKeys(json, ["minDelay", "proposers", "executors"], "admin.newTimelock");
    const list = (key: string): Address[] => {
      const value = field(json, key, "admin.newTimelock");
      if (value === undefined) return [];
      if (!Array.isArray(value) || value.length === 0) {
        problems.add(`admin.newTimelock.${key}`, "must be a non-empty list of addresses");
        return [];
      }
      return value.map((_, i) => address(value as unknown as Json, String(i), `admin.newTimelock.${key}`));
    };
    admin = {
      newTimelock: {
        // OpenZeppelin's timelock takes any delay; a live admin with less than a day gives users no time to leave.
        minDelay: seconds(json, "minDelay", "admin.newTimelock", 86_400, 30 * 86_400),
        proposers: list("proposers"),
        executors: list("executors"),
      },
    };
  }

  const riskManager = address(root, "riskManager", "");
  const guardian = address(root, "guardian", "");
  if (riskManager !== zeroAddress && riskManager === guardian) {
    problems.add("guardian", "must be a different key from riskManager (the guardian only pauses)");
  }

  if (problems.list.length > 0) throw new DeployError(problems.list);
  return {
    chainId: chainId as number,
    cash,
    collateral,
    oracle: { maxSettlementDelay, settlementFallbackWait, sequencerUptimeFeed, sequencerGracePeriod },
    volSurface: { signers: surfaceSigners, quorum: quorum as number, changeRatio, marks: marks === true },
    admin,
    riskManager,
    guardian,
  };
}

function marginWad(margin: NonNullable<CollateralParameters["standardMargin"]>) {
  return [
    parseUnits(margin.aIM, 18),
    parseUnits(margin.bIM, 18),
    parseUnits(margin.aMM, 18),
    parseUnits(margin.bMM, 18),
  ] as const;
}

const timelockAbi = [
  { type: "function", name: "getMinDelay", stateMutability: "view", inputs: [], outputs: [{ type: "uint256" }] },
  ...accessControlAbi,
] as const;

/** A live admin's shortest delay: less gives users no time to leave before a change lands. */
export const MIN_TIMELOCK_DELAY = 86_400;

/** OpenZeppelin TimelockController's roles, by name. */
const TIMELOCK_ROLES = {
  admin: ROLES.admin,
  proposer: keccak256(toHex("PROPOSER_ROLE")),
  executor: keccak256(toHex("EXECUTOR_ROLE")),
  canceller: keccak256(toHex("CANCELLER_ROLE")),
} as const;

/**
 * Why `timelock` is not a safe admin, if it is not: it does not answer as a TimelockController,
 * its delay is under a day, or the deployer holds one of its roles (and so could grant itself
 * admin of every contract again). Read-only; used before deploying and after.
 *
 * @example
 * const problems = await timelockProblems(publicClient, "0x…timelock", deployer); // [] when safe
 */
export async function timelockProblems(client: PublicClient, timelock: Address, deployer: Address): Promise<string[]> {
  let delay: bigint;
  try {
    delay = await client.readContract({ address: timelock, abi: timelockAbi, functionName: "getMinDelay" });
  } catch {
    return [`${timelock} does not answer getMinDelay(): it is not a TimelockController`];
  }
  const problems: string[] = [];
  if (delay < BigInt(MIN_TIMELOCK_DELAY)) {
    problems.push(`${timelock} has a delay of ${delay} s, under ${MIN_TIMELOCK_DELAY} s: users get no time to leave`);
  }
  for (const [name, role] of Object.entries(TIMELOCK_ROLES)) {
    const held = await client
      .readContract({ address: timelock, abi: timelockAbi, functionName: "hasRole", args: [role, deployer] })
      .catch(() => false);
    if (held) {
      problems.push(
        `the deployer ${deployer} holds the timelock's ${name} role: it could take admin back; revoke it first`,
      );
    }
  }
  return problems;
}

/**
 * Chains with a centralized sequencer whose Chainlink feeds need the L2 sequencer uptime feed,
 * beyond those Hardhat's `op` chain type marks. A parameters file for one of them without
 * `oracle.sequencerUptimeFeed` is refused.
 */
const SEQUENCER_L2S: Record<number, string> = {
  10: "OP Mainnet",
  8453: "Base",
  42161: "Arbitrum One",
  42170: "Arbitrum Nova",
  1088: "Metis",
  534352: "Scroll",
  324: "zkSync Era",
  59144: "Linea",
  5000: "Mantle",
  11155420: "OP Sepolia",
  84532: "Base Sepolia",
  421614: "Arbitrum Sepolia",
};

/**
 * Checks `parameters` against the chain, with reads only: the chain id, code at every token, feed
 * and timelock address, token and feed decimals, each feed's latest answer within its bounds, the
 * sequencer feed on an OP-stack chain, and keys distinct from the deployer. Returns the Ignition
 * plan in on-chain units; throws a `DeployError` listing every problem.
 */
export async function resolveParameters(
  client: PublicClient,
  parameters: DeployParameters,
  context: { deployer: Address; chainType: string; networkName: string },
): Promise<LivePlan> {
  const problems = new Problems();
  const chainId = await client.getChainId();
  if (chainId !== parameters.chainId) {
    throw new DeployError([
      `chainId: the parameters file is for chain ${parameters.chainId} but network ${context.networkName} is chain ${chainId}`,
    ]);
  }

  const hasCode = async (where: string, address: Address, what: string) => {
    const code = await client.getCode({ address });
    if (code === undefined || code === "0x") {
      problems.add(where, `${address} holds no code on chain ${chainId}; it should be ${what}`);
      return false;
    }
    return true;
  };
  const tokenDecimals = async (where: string, token: Address): Promise<number | undefined> => {
    if (!(await hasCode(where, token, "an ERC-20 token"))) return undefined;
    try {
      const decimals = await client.readContract({ address: token, abi: erc20Abi, functionName: "decimals" });
      if (decimals > MAX_DECIMALS) problems.add(where, `${token} has ${decimals} decimals; the vault takes at most 36`);
      return decimals;
    } catch {
      problems.add(where, `${token} does not answer decimals(): it is not an ERC-20 token`);
      return undefined;
    }
  };
  const checkFeed = async (where: string, feed: FeedParameters) => {
    if (!(await hasCode(where, feed.aggregator, "a Chainlink aggregator"))) return;
    try {
      const [decimals, round] = await Promise.all([
        client.readContract({ address: feed.aggregator, abi: aggregatorV3Abi, functionName: "decimals" }),
        client.readContract({ address: feed.aggregator, abi: aggregatorV3Abi, functionName: "latestRoundData" }),
      ]);
      const answer = round[1];
      const minRaw = parseUnits(feed.min, decimals);
      const maxRaw = parseUnits(feed.max, decimals);
      if (answer < minRaw || (maxRaw !== 0n && answer > maxRaw)) {
        const shown = Number(answer) / 10 ** decimals;
        problems.add(where, `the feed answers ${shown}, outside its bounds [${feed.min}, ${feed.max}]`);
      }
    } catch {
      problems.add(
        where,
        `${feed.aggregator} does not answer decimals() and latestRoundData(): it is not a Chainlink feed`,
      );
    }
  };

  const cashDecimals = await tokenDecimals("cash.token", parameters.cash.token);
  const collateralDecimals = await Promise.all(
    parameters.collateral.map((c, i) => tokenDecimals(`collateral[${i}].token`, c.token)),
  );
  await Promise.all(
    parameters.collateral.flatMap((c, i) => [
      checkFeed(`collateral[${i}].spotFeed`, c.spotFeed),
      checkFeed(`collateral[${i}].volFeed`, c.volFeed),
    ]),
  );

  const sequencerFeed = parameters.oracle.sequencerUptimeFeed;
  const l2 = context.chainType === "op" ? "an OP-stack chain" : SEQUENCER_L2S[chainId];
  if (sequencerFeed === null && l2 !== undefined) {
    problems.add(
      "oracle.sequencerUptimeFeed",
      `is null but network ${context.networkName} (chain ${chainId}) is ${l2}, whose prices are unsafe while its sequencer is down: give the chain's Chainlink L2 sequencer uptime feed`,
    );
  }
  if (
    sequencerFeed !== null &&
    (await hasCode("oracle.sequencerUptimeFeed", sequencerFeed, "the L2 sequencer uptime feed"))
  ) {
    try {
      await client.readContract({ address: sequencerFeed, abi: aggregatorV3Abi, functionName: "latestRoundData" });
    } catch {
      problems.add(
        "oracle.sequencerUptimeFeed",
        `${sequencerFeed} does not answer latestRoundData(): it is not an uptime feed`,
      );
    }
  }

  let admin: AdminPlan;
  const roles = { riskManager: parameters.riskManager, guardian: parameters.guardian };
  if ("timelock" in parameters.admin) {
    const timelock = parameters.admin.timelock;
    if (await hasCode("admin.timelock", timelock, "a TimelockController")) {
      for (const problem of await timelockProblems(client, timelock, context.deployer)) {
        problems.add("admin.timelock", problem);
      }
    }
    admin = { kind: "timelock", timelock, ...roles };
  } else {
    admin = {
      kind: "newTimelock",
      ...parameters.admin.newTimelock,
      minDelay: BigInt(parameters.admin.newTimelock.minDelay),
      ...roles,
    };
  }
  if ("newTimelock" in parameters.admin) {
    for (const key of ["proposers", "executors"] as const) {
      if (parameters.admin.newTimelock[key].some((member) => isAddressEqual(member, context.deployer))) {
        problems.add(
          `admin.newTimelock.${key}`,
          `holds the deployer ${context.deployer}: it could take admin back through the timelock; use the governance keys`,
        );
      }
    }
  }
  // eth_accounts spells addresses in lower case and the file checksums them: compare the addresses, not the text.
  for (const key of ["riskManager", "guardian"] as const) {
    if (isAddressEqual(parameters[key], context.deployer)) {
      problems.add(key, `is the deployer ${context.deployer}: the deployer keeps no role on a live network`);
    }
  }
  if ((await client.getBalance({ address: context.deployer })) === 0n) {
    problems.add("deployer", `${context.deployer} has no native token on chain ${chainId} to pay for gas`);
  }

  if (problems.list.length > 0) throw new DeployError(problems.list);

  const wad = (value: string) => parseUnits(value, 18);
  const collateral = parameters.collateral.map((c, i) => ({
    ...c,
    decimals: collateralDecimals[i] as number,
  }));
  return {
    plan: {
      cash: { token: parameters.cash.token, supplyCap: parseUnits(parameters.cash.supplyCap, cashDecimals as number) },
      collateral: collateral.map((c) => ({
        symbol: c.symbol,
        token: c.token,
        initialHaircutWad: wad(c.initialHaircut),
        maintenanceHaircutWad: wad(c.maintenanceHaircut),
        supplyCap: parseUnits(c.supplyCap, c.decimals),
        spotFeed: feedPlan(c.spotFeed),
        volFeed: feedPlan(c.volFeed),
        standardMargin: c.standardMargin ? marginWad(c.standardMargin) : DEFAULT_STANDARD_MARGIN,
      })),
      oracle: {
        sequencerFeed: sequencerFeed ?? zeroAddress,
        sequencerGracePeriod: BigInt(parameters.oracle.sequencerGracePeriod),
        maxSettlementDelay: BigInt(parameters.oracle.maxSettlementDelay),
        settlementFallbackWait: BigInt(parameters.oracle.settlementFallbackWait),
      },
      volSurface: {
        signers: parameters.volSurface.signers,
        quorum: BigInt(parameters.volSurface.quorum),
        changeRatioWad: wad(parameters.volSurface.changeRatio),
        marks: parameters.volSurface.marks,
      },
      auction: DEFAULT_AUCTION,
      admin,
    },
    cash: {
      address: parameters.cash.token,
      symbol: await client
        .readContract({ address: parameters.cash.token, abi: erc20Abi, functionName: "symbol" })
        .catch(() => "CASH"),
      decimals: cashDecimals as number,
    },
    collateral: collateral.map((c) => ({
      address: c.token,
      symbol: c.symbol,
      decimals: c.decimals,
      spotFeed: c.spotFeed.aggregator,
      volFeed: c.volFeed.aggregator,
    })),
  };
}

function feedPlan(feed: FeedParameters) {
  return {
    aggregator: feed.aggregator,
    maxAge: BigInt(feed.maxAge),
    minAnswerWad: parseUnits(feed.min, 18),
    maxAnswerWad: parseUnits(feed.max, 18),
  };
}
