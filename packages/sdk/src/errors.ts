import {
  type Abi,
  type Address,
  type ContractErrorArgs,
  type Hex,
  BaseError,
  decodeErrorResult,
  formatUnits,
  isHex,
  toFunctionSelector,
} from "viem";
import { formatAbiItem } from "viem/utils";

import {
  chainlinkOracleAbi,
  collateralVaultAbi,
  insuranceFundAbi,
  liquidatorAbi,
  marginEngineAbi,
  mockErc20Abi,
  optionMarketAbi,
} from "./abis/index.js";
import { type AccountId, asAccountId, ownerOf } from "./accounts.js";
import { Health, healthName } from "./math/engine.js";

type AbiError = Extract<Abi[number], { type: "error" }>;

type AllAbis =
  | typeof collateralVaultAbi
  | typeof optionMarketAbi
  | typeof marginEngineAbi
  | typeof liquidatorAbi
  | typeof insuranceFundAbi
  | typeof chainlinkOracleAbi
  | typeof mockErc20Abi;

/** The error fragments of every Pledge contract (and of the ERC-20s they move). */
export type PledgeErrorAbi = readonly Extract<AllAbis[number], { type: "error" }>[];

/** Every custom error a Pledge contract can revert with, by name. */
export type PledgeErrorName = PledgeErrorAbi[number]["name"];

/** The decoded arguments of the custom error `name`, as viem types them. */
export type PledgeErrorArgs<name extends PledgeErrorName = PledgeErrorName> = ContractErrorArgs<PledgeErrorAbi, name>;

/**
 * The union of all Pledge ABIs' error fragments, one per selector. A revert from any
 * contract in a call chain (the vault bubbling the engine's margin check, say) decodes
 * against it whichever contract was called.
 */
export const pledgeErrorAbi: PledgeErrorAbi = (() => {
  const bySelector = new Map<Hex, AbiError>();
  for (const abi of [
    collateralVaultAbi,
    optionMarketAbi,
    marginEngineAbi,
    liquidatorAbi,
    insuranceFundAbi,
    chainlinkOracleAbi,
    mockErc20Abi,
  ]) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const selector = toFunctionSelector(formatAbiItem(item));
      if (!bySelector.has(selector)) bySelector.set(selector, item);
    }
  }
  return [...bySelector.values()] as unknown as PledgeErrorAbi;
})();

/**
 * Base of every error the SDK throws itself.
 *
 * @example
 * try { await withdraw(walletClient, params); } catch (e) { if (e instanceof PledgeBaseError) console.error(e.message); }
 */
export class PledgeBaseError extends Error {
  override name = "PledgeBaseError";
  /** The message without details. */
  readonly shortMessage: string;

  constructor(shortMessage: string, options: { cause?: unknown; details?: string } = {}) {
    super(options.details ? `${shortMessage}\n\n${options.details}` : shortMessage, { cause: options.cause });
    this.shortMessage = shortMessage;
  }
}

/**
 * A Pledge contract reverted with one of its custom errors. `errorName` and `args` are
 * the decoded error; `message` reads as a sentence; `cause` is the original viem error.
 *
 * @example
 * try {
 *   await withdraw(walletClient, { publicClient, addressBook, account, asset, amount });
 * } catch (error) {
 *   if (error instanceof PledgeError && error.errorName === "EngineBelowInitialMargin") {
 *     const [, equityIM, requirementIM] = error.args as PledgeErrorArgs<"EngineBelowInitialMargin">;
 *   }
 * }
 */
export class PledgeError<name extends PledgeErrorName = PledgeErrorName> extends PledgeBaseError {
  override name = "PledgeError";
  readonly errorName: name;
  readonly args: PledgeErrorArgs<name>;
  /** The raw revert data. */
  readonly data: Hex;

  constructor(params: { errorName: name; args: PledgeErrorArgs<name>; data: Hex; cause?: unknown }) {
    super(describe(params.errorName, params.args as readonly unknown[]), { cause: params.cause });
    this.errorName = params.errorName;
    this.args = params.args;
    this.data = params.data;
  }

  /** Narrows the error to one name, so `args` gets its tuple type. */
  is<other extends PledgeErrorName>(errorName: other): this is PledgeError<other> {
    return (this.errorName as PledgeErrorName) === errorName;
  }
}

/** An action needs a contract address that neither its parameters nor the address book gave. */
export class PledgeMissingAddressError extends PledgeBaseError {
  override name = "PledgeMissingAddressError";
  constructor(contract: string) {
    super(`No address for ${contract}: pass it, or pass an addressBook`);
  }
}

/** No feed round settles the expiry yet, or the scan could not prove one. */
export class PledgeSettlementRoundNotFoundError extends PledgeBaseError {
  override name = "PledgeSettlementRoundNotFoundError";
  constructor(feed: Hex, expiry: bigint, reason: string) {
    super(`No settlement round for expiry ${expiry} on feed ${feed}: ${reason}`);
  }
}

/** A transaction was mined but reverted (a race after a successful simulation). */
export class PledgeTransactionRevertedError extends PledgeBaseError {
  override name = "PledgeTransactionRevertedError";
  constructor(hash: Hex) {
    super(`Transaction ${hash} reverted`);
  }
}

/**
 * An asset address that the address book lists neither as the cash token nor as a collateral.
 * Raised before anything is sent.
 *
 * @example
 * try {
 *   await deposit(walletClient, { publicClient, addressBook, account, asset: ethUsdFeed, amount });
 * } catch (error) {
 *   if (error instanceof UnknownAssetError) console.error(error.message);
 * }
 */
export class UnknownAssetError extends PledgeBaseError {
  override name = "UnknownAssetError";
  readonly asset: Address;
  constructor(asset: Address, listed: readonly { symbol: string; address: Address }[]) {
    const known = listed.map((entry) => `${entry.symbol} ${entry.address}`).join(", ");
    super(
      `${asset} is not an asset of this Pledge deployment. The address book lists ${known}: pass one of those addresses (addressBook.cash.address, or an entry of addressBook.collateral).`,
    );
    this.asset = asset;
  }
}

/**
 * An address the SDK was about to call holds no code: a token or contract that was never deployed
 * on this chain, or an address book written before a local node restarted. Raised instead of
 * viem's "returned no data".
 *
 * @example
 * try {
 *   await getBalances(publicClient, { addressBook, account });
 * } catch (error) {
 *   if (error instanceof ContractNotDeployedError) console.error(error.message);
 * }
 */
export class ContractNotDeployedError extends PledgeBaseError {
  override name = "ContractNotDeployedError";
  readonly address: Address;
  constructor(address: Address, what: string, chainId: number) {
    super(
      `There is no contract at ${address} (${what}) on chain ${chainId}: the address holds no code. Check that the client points at the chain the address book was written for; after restarting a local node, deploy again with \`npm run deploy -- --network <name>\`.`,
    );
    this.address = address;
  }
}

/**
 * `loadAddressBook` found no file for the chain.
 *
 * @example
 * try {
 *   await loadAddressBook(31337, "./no-such-folder");
 * } catch (error) {
 *   error instanceof AddressBookNotFoundError; // true
 * }
 */
export class AddressBookNotFoundError extends PledgeBaseError {
  override name = "AddressBookNotFoundError";
  readonly file: string;
  constructor(file: string, chainId: number, options: { cause?: unknown } = {}) {
    super(
      `No address book at ${file}: nothing deployed to chain ${chainId} has been recorded there. Deploy with \`npm run deploy -- --network <name>\`, which writes deployments/<chainId>.json, or pass the folder that holds the file as loadAddressBook's second argument.`,
      options,
    );
    this.file = file;
  }
}

/**
 * An address book file that is not valid JSON, or lacks a field, or has a malformed address.
 *
 * @example
 * try {
 *   await loadAddressBook(31337, "./deployments");
 * } catch (error) {
 *   if (error instanceof InvalidAddressBookError) console.error(error.message);
 * }
 */
export class InvalidAddressBookError extends PledgeBaseError {
  override name = "InvalidAddressBookError";
  readonly file: string;
  constructor(file: string, problem: string, options: { cause?: unknown } = {}) {
    super(
      `${file} is not a valid address book: ${problem}. Rewrite it with \`npm run deploy -- --network <name>\` rather than by hand.`,
      options,
    );
    this.file = file;
  }
}

/**
 * A client on another chain than the address book's. Write actions raise it before anything is
 * sent; reads given an address book raise it before their first call.
 *
 * @example
 * try {
 *   await getBalances(publicClient, { addressBook: { ...addressBook, chainId: 1 }, account });
 * } catch (error) {
 *   error instanceof WrongChainError; // true
 * }
 */
export class WrongChainError extends PledgeBaseError {
  override name = "WrongChainError";
  readonly clientChainId: number;
  readonly addressBookChainId: number;
  constructor(clientChainId: number, addressBookChainId: number) {
    super(
      `The client is on chain ${clientChainId}, the address book is for chain ${addressBookChainId}: connect the client to chain ${addressBookChainId}, or load the address book of chain ${clientChainId} (loadAddressBook(${clientChainId})).`,
    );
    this.clientChainId = clientChainId;
    this.addressBookChainId = addressBookChainId;
  }
}

/** What the SDK may throw on its own account; actions add viem's own error types. */
export type PledgeErrorType =
  | PledgeError
  | PledgeMissingAddressError
  | PledgeSettlementRoundNotFoundError
  | PledgeTransactionRevertedError
  | UnknownAssetError
  | ContractNotDeployedError
  | WrongChainError;

/**
 * Finds the revert data in `err` (a viem error chain, an object with `data`, or hex) and
 * decodes it against every Pledge error. Returns undefined when there is no revert data
 * or its selector is not a Pledge error (a panic, a string revert, a network failure).
 *
 * @example
 * try {
 *   await publicClient.simulateContract({ ... });
 * } catch (error) {
 *   throw decodePledgeError(error) ?? error;
 * }
 */
export function decodePledgeError(err: unknown): PledgeError | undefined {
  if (err instanceof PledgeError) return err;
  const data = revertData(err);
  if (!data) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: pledgeErrorAbi, data });
    return new PledgeError({
      errorName: decoded.errorName,
      args: (decoded.args ?? []) as PledgeErrorArgs,
      data,
      cause: err,
    });
  } catch {
    return undefined;
  }
}

/** The first revert data found walking `err` and its causes. */
function revertData(err: unknown): Hex | undefined {
  if (typeof err === "string") return isRevertData(err) ? err : undefined;
  const seen = new Set<unknown>();
  const visit = (e: unknown): Hex | undefined => {
    if (typeof e !== "object" || e === null || seen.has(e)) return undefined;
    seen.add(e);
    const record = e as { raw?: unknown; data?: unknown; cause?: unknown };
    // ContractFunctionRevertedError keeps the bytes in `raw`; RawContractError and RPC errors in `data`.
    if (isRevertData(record.raw)) return record.raw;
    if (isRevertData(record.data)) return record.data;
    if (typeof record.data === "object" && record.data !== null) {
      const nested = (record.data as { data?: unknown }).data;
      if (isRevertData(nested)) return nested;
    }
    return visit(record.cause);
  };
  if (err instanceof BaseError) {
    let found: Hex | undefined;
    err.walk((e) => {
      found ??= visit(e);
      return false;
    });
    if (found) return found;
  }
  return visit(err);
}

function isRevertData(value: unknown): value is Hex {
  return typeof value === "string" && isHex(value) && value.length >= 10;
}

// ---------------------------------------------------------------- messages

const MINUS = "\u2212";

/**
 * A WAD (or `decimals`) amount rounded half away from zero to `digits` places, trailing zeros dropped.
 *
 * @example
 * formatAmount(-12_345n * 10n ** 15n); // "−12.35"
 */
export function formatAmount(value: bigint, decimals = 18, digits = 2): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const unit = 10n ** BigInt(Math.max(decimals - digits, 0));
  const rounded = decimals > digits ? ((magnitude + unit / 2n) / unit) * unit : magnitude;
  const text = formatUnits(rounded, decimals);
  return negative && rounded !== 0n ? `${MINUS}${text}` : text;
}

/**
 * An account id as `owner/subId`.
 *
 * @example
 * formatAccount(accountId("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", 1n)); // "0x3c44…93bc/1"
 */
export function formatAccount(account: AccountId): string {
  return `${ownerOf(account)}/${account & ((1n << 96n) - 1n)}`;
}

/**
 * A unix time in seconds as ISO 8601 UTC.
 *
 * @example
 * formatTimestamp(1_767_254_400n); // "2026-01-01T08:00:00Z"
 */
export function formatTimestamp(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

const usd = (wad: unknown) => `${formatAmount(wad as bigint)} USD`;
/** Two USD amounts of an inequality, with as many decimals as it takes for them to differ. */
const usdPair = (left: unknown, right: unknown): [string, string] => {
  const at = (digits: number): [string, string] => [
    formatAmount(left as bigint, 18, digits),
    formatAmount(right as bigint, 18, digits),
  ];
  let digits = 2;
  let [l, r] = at(digits);
  while (digits < 18 && l === r) [l, r] = at(++digits);
  return [`${l} USD`, `${r} USD`];
};
const when = (seconds: unknown) => formatTimestamp(seconds as bigint);
const acct = (id: unknown) => formatAccount(asAccountId(id as bigint));

/** Sentences for the errors a trader or keeper meets most; the rest print as `Name(arg=value, …)`. */
const SENTENCES: Partial<Record<PledgeErrorName, (args: readonly unknown[]) => string>> = {
  EngineBelowInitialMargin: ([account, equity, requirement]) => {
    const [e, r] = usdPair(equity, requirement);
    return `Account ${acct(account)} is below initial margin: equity ${e} < requirement ${r}; deposit collateral or reduce risk`;
  },
  MarketRiskIncreased: ([account, before, after]) =>
    `Account ${acct(account)} is below initial margin and the trade adds risk: excess ${usd(before)} → ${usd(after)}`,
  MarketStillLiquidatable: ([account, before, after]) =>
    `Account ${acct(account)} is below maintenance and may only trade back above it: maintenance excess ${usd(before)} → ${usd(after)}`,
  MarketMaintenanceEquityFell: ([account, before, after]) =>
    `Account ${acct(account)} is below maintenance and may not pay value away (premium above the mark, fees): maintenance equity ${usd(before)} → ${usd(after)}`,
  MarketFeeAccountNotAllowed: ([account]) =>
    `Account ${acct(account)} is the fee account: it cannot trade, move positions or bid`,
  VaultInsufficientBalance: ([account, asset, balance, amount]) =>
    `Account ${acct(account)} holds ${String(balance)} units of ${String(asset)}, less than the ${String(amount)} requested`,
  VaultUnauthorized: ([account, caller]) =>
    `${String(caller)} is neither the owner nor an operator of account ${acct(account)}`,
  MarketUnauthorized: ([account, caller]) =>
    `${String(caller)} is neither the owner nor an operator of account ${acct(account)}`,
  LiquidatorAccountHealthy: ([account, health]) =>
    `Account ${acct(account)} cannot be auctioned: its health is ${isHealth(health) ? healthName(health) : String(health)}`,
  OracleStalePrice: ([aggregator, updatedAt, maxAge]) =>
    `Feed ${String(aggregator)} is stale: last update at ${when(updatedAt)}, max age ${String(maxAge)} s; wait for a new round`,
  MarketOrderExpired: ([hash, deadline]) =>
    `Order ${String(hash)} expired at ${when(deadline)}; ask its maker for a new one`,
  MarketOverfill: ([hash, remaining, requested]) =>
    (remaining as bigint) === 0n
      ? `Order ${String(hash)} is already filled`
      : `Order ${String(hash)} has ${formatAmount(remaining as bigint)} contracts left, fewer than the ${formatAmount(requested as bigint)} requested`,
  MarketInvalidSignature: ([hash]) =>
    `Order ${String(hash)} is not signed by its account's owner or an operator (nor approved by ERC-1271); sign it with signOrder`,
  MarketZeroAmount: () => "The fill size is zero: fill a positive number of contracts",
  VaultZeroAmount: () => "The amount is zero: deposit or withdraw a positive amount",
};

function isHealth(value: unknown): value is Health {
  return Object.values(Health).some((h) => h === value);
}

function describe(errorName: PledgeErrorName, args: readonly unknown[]): string {
  const sentence = SENTENCES[errorName];
  if (sentence) return sentence(args);
  const item = pledgeErrorAbi.find((e) => e.name === errorName);
  const names = item?.inputs.map((input) => input.name) ?? [];
  const parts = args.map((arg, i) => `${names[i] || `arg${i}`}=${formatValue(arg)}`);
  return `${errorName}(${parts.join(", ")})`;
}

function formatValue(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${formatValue(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}
