import {
  type Abi,
  type Address,
  type ContractErrorArgs,
  type Hex,
  BaseError,
  decodeErrorResult,
  formatUnits,
  isHex,
  keccak256,
  toBytes,
  toFunctionSelector,
  zeroAddress,
} from "viem";
import { formatAbiItem } from "viem/utils";

import {
  backstopAbi,
  chainlinkOracleAbi,
  collateralVaultAbi,
  insuranceFundAbi,
  kinkRateModelAbi,
  liquidatorAbi,
  marginEngineAbi,
  mockErc20Abi,
  optionMarketAbi,
  portfolioManagerAbi,
  volSurfaceOracleAbi,
} from "./abis/index.js";
import { type AccountId, asAccountId, ownerOf } from "./accounts.js";
import type { AddressBook, AssetEntry } from "./addressBook.js";
import { MAX_CASH_DECIMALS } from "./math/cashUnits.js";
import { Health, healthName } from "./math/engine.js";
import { decodeSeries } from "./math/series.js";

type AbiError = Extract<Abi[number], { type: "error" }>;

type AllAbis =
  | typeof collateralVaultAbi
  | typeof optionMarketAbi
  | typeof marginEngineAbi
  | typeof portfolioManagerAbi
  | typeof liquidatorAbi
  | typeof backstopAbi
  | typeof insuranceFundAbi
  | typeof chainlinkOracleAbi
  | typeof volSurfaceOracleAbi
  | typeof kinkRateModelAbi
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
    portfolioManagerAbi,
    liquidatorAbi,
    backstopAbi,
    insuranceFundAbi,
    chainlinkOracleAbi,
    volSurfaceOracleAbi,
    kinkRateModelAbi,
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
 * try {
 *   await withdraw(walletClient, { publicClient, addressBook, account, asset: usdc, amount });
 * } catch (e) {
 *   if (!(e instanceof PledgeBaseError)) throw e; // a network failure, say
 *   console.error(e.shortMessage); // a revert, a missing address, a reverted transaction
 * }
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
 * // All the account's cash, while it is short calls:
 * const { cash } = await getBalances(publicClient, { addressBook, account });
 * const error = await withdraw(walletClient, { publicClient, addressBook, account, asset: usdc, amount: cash }).catch((e) => e);
 * error instanceof PledgeError; // true
 * error.errorName; // "EngineBelowInitialMargin"
 * const [, equityIM, requirementIM] = error.args as PledgeErrorArgs<"EngineBelowInitialMargin">;
 * equityIM < requirementIM; // true
 */
export class PledgeError<name extends PledgeErrorName = PledgeErrorName> extends PledgeBaseError {
  override name = "PledgeError";
  readonly errorName: name;
  readonly args: PledgeErrorArgs<name>;
  /** The raw revert data. */
  readonly data: Hex;

  /**
   * `addressBook` lets the message name tokens and print their amounts in units; without it,
   * amounts are raw base units next to the token's address.
   */
  constructor(params: {
    errorName: name;
    args: PledgeErrorArgs<name>;
    data: Hex;
    cause?: unknown;
    addressBook?: AddressBook | undefined;
  }) {
    super(describe(params.errorName, params.args as readonly unknown[], { addressBook: params.addressBook }), {
      cause: params.cause,
    });
    this.errorName = params.errorName;
    this.args = params.args;
    this.data = params.data;
  }

  /**
   * Narrows the error to one name, so `args` gets its tuple type.
   *
   * @example
   * const error = await withdraw(walletClient, { publicClient, addressBook, account, asset: usdc, amount: 10n ** 15n }).catch((e) => e);
   * if (error instanceof PledgeError && error.is("VaultInsufficientBalance")) {
   *   const [, asset, balance, requested] = error.args; // typed: [AccountId, Address, bigint, bigint]
   *   requested > balance; // true
   * }
   * error.is("VaultInsufficientBalance"); // true
   */
  is<other extends PledgeErrorName>(errorName: other): this is PledgeError<other> {
    return (this.errorName as PledgeErrorName) === errorName;
  }
}

/**
 * An action needs a contract address that neither its parameters nor the address book gave.
 *
 * @example
 * const error = await getBalances(publicClient, { account }).catch((e) => e); // no addressBook, no vault
 * error instanceof PledgeMissingAddressError; // true
 * error.message; // "No address for CollateralVault: pass it, or pass an addressBook"
 */
export class PledgeMissingAddressError extends PledgeBaseError {
  override name = "PledgeMissingAddressError";
  constructor(contract: string) {
    super(`No address for ${contract}: pass it, or pass an addressBook`);
  }
}

/**
 * No feed round settles the expiry yet, or the scan could not prove one.
 *
 * @example
 * // Before expiry no round can settle it: wait, and try again after expiry.
 * const error = await findSettlementRound(publicClient, { feed: btcUsdFeed, expiry }).catch((e) => e);
 * error instanceof PledgeSettlementRoundNotFoundError; // true
 */
export class PledgeSettlementRoundNotFoundError extends PledgeBaseError {
  override name = "PledgeSettlementRoundNotFoundError";
  constructor(feed: Hex, expiry: bigint, reason: string) {
    super(`No settlement round for expiry ${expiry} on feed ${feed}: ${reason}`);
  }
}

/**
 * A transaction was mined but reverted (a race after a successful simulation): the state changed
 * between the simulation and the block, e.g. another taker filled the order first.
 *
 * @example
 * try {
 *   await fillOrder(takerWallet, { publicClient, addressBook, signedOrder, takerAccount, fillSize: 10n ** 17n });
 * } catch (e) {
 *   if (!(e instanceof PledgeTransactionRevertedError)) throw e;
 *   // Lost a race: read `getOrderStatus` again before retrying.
 * }
 */
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
  constructor(file: string, chainId: number | undefined, options: { cause?: unknown } = {}) {
    const recorded = chainId === undefined ? "" : `: nothing deployed to chain ${chainId} has been recorded there`;
    super(
      `No address book at ${file}${recorded}. Deploy with \`npm run deploy -- --network <name>\`, which writes deployments/<chainId>.json, or pass the folder that holds the file as loadAddressBook's second argument.`,
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

/**
 * `fillOrder` with `expectedPremium`: the market's simulation of the fill, just before sending,
 * moves another premium than the caller previewed (the order or the price changed since).
 * Nothing was sent.
 *
 * @example
 * try {
 *   await fillOrder(wallet, { publicClient, addressBook, signedOrder, takerAccount, fillSize, expectedPremium: preview.premium });
 * } catch (error) {
 *   if (error instanceof PremiumChangedError) console.error(error.message); // preview again
 * }
 */
export class PremiumChangedError extends PledgeBaseError {
  override name = "PremiumChangedError";
  readonly expected: bigint;
  readonly actual: bigint;
  constructor(expected: bigint, actual: bigint) {
    super(
      `The fill would move a premium of ${actual} cash units, not the ${expected} previewed: the order or its price changed since the preview. Nothing was sent; preview again.`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** What the SDK may throw on its own account; actions add viem's own error types. */
export type PledgeErrorType =
  | PledgeError
  | PremiumChangedError
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
 * With `context.addressBook`, the message names tokens and prints their amounts in units.
 *
 * @example
 * const error = await publicClient
 *   .simulateContract({ address: addressBook.contracts.CollateralVault, abi: collateralVaultAbi, functionName: "withdraw", args: [account, usdc, 10n ** 12n, walletClient.account.address], account: walletClient.account })
 *   .catch((e) => decodePledgeError(e, { addressBook }));
 * error.errorName; // "VaultInsufficientBalance"
 * error.message.includes("less than the 1000000 USDC requested"); // true
 */
export function decodePledgeError(err: unknown, context: PledgeErrorContext = {}): PledgeError | undefined {
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
      addressBook: context.addressBook,
    });
  } catch {
    return undefined;
  }
}

let errorsBySelector: Map<Hex, PledgeErrorName> | undefined;

/**
 * The Pledge error whose selector is `selector` (a `BidSkipped` reason), or undefined.
 *
 * @example
 * pledgeErrorNameOf("0xb3f43d9f"); // "LiquidatorAccountHealthy"
 */
export function pledgeErrorNameOf(selector: Hex): PledgeErrorName | undefined {
  errorsBySelector ??= new Map(pledgeErrorAbi.map((item) => [toFunctionSelector(formatAbiItem(item)), item.name]));
  return errorsBySelector.get(selector.toLowerCase() as Hex);
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
 * formatAccount(accountId("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", 1n)); // "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc/1"
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
  const date = new Date(Number(seconds) * 1000);
  // Beyond the year 275760 (a garbage value in revert data) there is no date to print.
  if (Number.isNaN(date.getTime())) return `unix time ${seconds}`;
  return date.toISOString().replace(".000Z", "Z");
}

/** A WAD amount and another, with as many decimals as it takes for them to differ. */
const wadPair = (left: unknown, right: unknown): [string, string] => {
  const at = (digits: number): [string, string] => [
    formatAmount(left as bigint, 18, digits),
    formatAmount(right as bigint, 18, digits),
  ];
  let digits = 2;
  let [l, r] = at(digits);
  while (digits < 18 && l === r) [l, r] = at(++digits);
  return [l, r];
};
/** A WAD amount with 2 decimals, or as many more as it takes for a non-zero amount not to print as 0. */
const wadAmount = (wad: unknown): string => {
  let digits = 2;
  let text = formatAmount(wad as bigint, 18, digits);
  while ((wad as bigint) !== 0n && digits < 18 && /^\u2212?0$/.test(text))
    text = formatAmount(wad as bigint, 18, ++digits);
  return text;
};
const usd = (wad: unknown) => `${wadAmount(wad)} USD`;
/** A WAD number of option contracts. */
const contracts = (wad: unknown) => `${wadAmount(wad)} contracts`;
/** Two USD amounts of an inequality, with as many decimals as it takes for them to differ. */
const usdPair = (left: unknown, right: unknown): [string, string] => {
  const [l, r] = wadPair(left, right);
  return [`${l} USD`, `${r} USD`];
};
/** A WAD fraction as a percentage, exact. */
const percent = (wad: unknown) => `${formatAmount((wad as bigint) * 100n, 18, 18)}%`;
/** A rate per second (WAD) as a yearly percentage of 365 days. */
const apr = (ratePerSecond: unknown) => `${percent((ratePerSecond as bigint) * 31_536_000n)} a year`;
const when = (seconds: unknown) => formatTimestamp(seconds as bigint);
const acct = (id: unknown) => formatAccount(asAccountId(id as bigint));
const str = (value: unknown) => String(value);
const signed = (text: string) => text.replace(/^-/, MINUS);

/** Names of the roles `Roles.sol` defines, by their `bytes32` value. */
const ROLE_NAMES: Readonly<Record<Hex, string>> = {
  [`0x${"00".repeat(32)}`]: "DEFAULT_ADMIN_ROLE",
  [keccak256(toBytes("pledge.role.riskManager"))]: "RISK_MANAGER_ROLE",
  [keccak256(toBytes("pledge.role.guardian"))]: "GUARDIAN_ROLE",
  [keccak256(toBytes("pledge.role.module"))]: "MODULE_ROLE",
};

/** What a message may use besides the error's own arguments. */
export interface PledgeErrorContext {
  /** Names tokens by symbol and prints their amounts in units; without it, raw base units and addresses. */
  addressBook?: AddressBook | undefined;
}

/** The address book's entry for `asset` (the cash asset or a collateral), if it has one. */
function assetEntry(asset: unknown, context: PledgeErrorContext): AssetEntry | undefined {
  const book = context.addressBook;
  if (!book || typeof asset !== "string") return undefined;
  const wanted = asset.toLowerCase();
  return [book.cash, ...book.collateral].find((entry) => entry.address.toLowerCase() === wanted);
}

/** `WBTC (0x…)` when the address book knows the token, else its address. */
function tokenName(asset: unknown, context: PledgeErrorContext): string {
  const entry = assetEntry(asset, context);
  return entry ? `${entry.symbol} (${str(asset)})` : str(asset);
}

/** Every digit of `units` in the token's decimals (so two sides of an inequality differ): `0.5 WBTC`. */
function tokenAmount(asset: unknown, units: unknown, context: PledgeErrorContext): string {
  const entry = assetEntry(asset, context);
  if (!entry) return `${str(units)} base units of ${str(asset)}`;
  return `${signed(formatUnits(units as bigint, entry.decimals))} ${entry.symbol}`;
}

/** A cash amount in the cash token's units, or in base units without an address book. */
function cashAmount(units: unknown, context: PledgeErrorContext): string {
  const cash = context.addressBook?.cash;
  if (!cash) return `${signed(str(units))} cash base units`;
  return `${signed(formatUnits(units as bigint, cash.decimals))} ${cash.symbol}`;
}

/** A series by its packed fields: `call #1 strike 60000 USD expiring 2026-01-31T08:00:00Z (id 0x…)`. */
function seriesName(id: unknown): string {
  const series = decodeSeries(id as bigint);
  const kind = series.isCall ? "call" : "put";
  return `${kind} #${series.underlyingIndex} strike ${usd(series.strikeWad)} expiring ${when(series.expiry)} (id 0x${(id as bigint).toString(16)})`;
}

function healthText(health: unknown): string {
  return isHealth(health) ? healthName(health) : str(health);
}

type Sentence = (args: readonly unknown[], context: PledgeErrorContext) => string;

const notAuthorized: Sentence = ([account, caller]) =>
  `${str(caller)} is neither the owner nor an operator of account ${acct(account)}; send from the owner, or have the owner approve it with setOperator`;

/**
 * A sentence for every error a Pledge contract (or the OpenZeppelin code it runs) can revert
 * with: what happened, then what to do. A `Record` over every name, so a contract that gains an
 * error fails the type check until it has a sentence here.
 */
const SENTENCES: Record<PledgeErrorName, Sentence> = {
  // ---- OpenZeppelin: AccessControl, Pausable, ReentrancyGuard, SafeCast, SafeERC20, ShortStrings
  AccessControlBadConfirmation: () =>
    "renounceRole was not confirmed by the account renouncing: call it from that account, passing its own address",
  AccessControlUnauthorizedAccount: ([account, role]) =>
    `${str(account)} lacks the ${ROLE_NAMES[role as Hex] ?? `role ${str(role)}`} this call needs; send it from an account that holds the role, or have the admin grant it`,
  EnforcedPause: () => "The contract is paused by its guardian; wait until it is unpaused",
  ExpectedPause: () => "The contract is not paused, so it cannot be unpaused",
  ReentrancyGuardReentrantCall: () =>
    "A call re-entered a Pledge contract while it was running (a token or hook called back); make the call on its own",
  SafeCastOverflowedUintToInt: ([value]) => `${str(value)} does not fit a signed 256-bit integer; use a smaller amount`,
  SafeCastOverflowedUintDowncast: ([bits, value]) =>
    `${str(value)} does not fit ${str(bits)} bits (the vault's cash share totals); use a smaller amount`,
  SafeERC20FailedOperation: ([token], context) =>
    `The token ${tokenName(token, context)} refused a transfer or approval (it reverted or returned false); check the balance and allowance`,
  InvalidShortString: () => "A stored short string is malformed (over 31 bytes); use a shorter name",
  StringTooLong: ([text]) => `"${str(text)}" is over 31 bytes, too long for a short string; use a shorter name`,
  // ---- OpenZeppelin: ECDSA, ERC-20, ERC-2612, Nonces
  ECDSAInvalidSignature: () => "The signature recovers to no address; sign again",
  ECDSAInvalidSignatureLength: ([length]) =>
    `The signature is ${str(length)} bytes long, not 65; pass the whole r, s, v signature`,
  ECDSAInvalidSignatureS: ([s]) =>
    `The signature's s value ${str(s)} is in the upper half of the curve order (a malleable signature); sign again with a standard signer`,
  ERC20InsufficientAllowance: ([spender, allowance, needed]) =>
    `${str(spender)} may spend ${str(allowance)} base units of the token, less than the ${str(needed)} it needs; approve it for at least that`,
  ERC20InsufficientBalance: ([sender, balance, needed]) =>
    `${str(sender)} holds ${str(balance)} base units of the token, less than the ${str(needed)} it sends; fund it first`,
  ERC20InvalidApprover: ([approver]) =>
    `${str(approver)} cannot approve (the zero address); approve from a real account`,
  ERC20InvalidReceiver: ([receiver]) =>
    `${str(receiver)} cannot receive tokens (the zero address); send to a real account`,
  ERC20InvalidSender: ([sender]) => `${str(sender)} cannot send tokens (the zero address); send from a real account`,
  ERC20InvalidSpender: ([spender]) => `${str(spender)} cannot be approved (the zero address); approve a real spender`,
  ERC2612ExpiredSignature: ([deadline]) => `The permit expired at ${when(deadline)}; sign one with a later deadline`,
  ERC2612InvalidSigner: ([signer, owner]) =>
    `The permit is signed by ${str(signer)}, not by the owner ${str(owner)}; sign it with the owner's key`,
  InvalidAccountNonce: ([account, nonce]) =>
    `The nonce given for ${str(account)} is not its current one, ${str(nonce)}; sign again with nonce ${str(nonce)}`,

  // ---- CollateralVault
  VaultZeroAmount: () => "The amount is zero: deposit, withdraw or move a positive amount",
  VaultZeroAddress: () => "An address (or account) argument is zero; pass a real one",
  VaultAssetNotListed: ([asset], context) =>
    `${tokenName(asset, context)} is not a listed collateral asset (cash moves as cash, not as collateral); use an asset of the address book`,
  VaultAssetAlreadyListed: ([asset], context) =>
    `${tokenName(asset, context)} is listed already; change its configuration instead`,
  VaultAssetDisabled: ([asset], context) =>
    `${tokenName(asset, context)} is disabled for deposits; deposit another listed asset, or wait until it is enabled`,
  VaultTooManyAssets: ([max]) => `The vault lists its maximum of ${str(max)} collateral assets; delist one first`,
  VaultInvalidHaircuts: ([initial, maintenance]) =>
    `Haircuts of ${percent(initial)} (initial) and ${percent(maintenance)} (maintenance) are outside the hard bounds, or maintenance is above initial; pick haircuts within bounds with maintenance ≤ initial`,
  VaultInvalidDecimals: ([asset, decimals], context) =>
    `${tokenName(asset, context)} has ${str(decimals)} decimals, more than the vault supports (36, or 8 for the cash asset); it cannot be listed`,
  VaultSupplyCapExceeded: ([asset, totalAfter, cap], context) =>
    `The deposit would take total ${tokenName(asset, context)} deposits to ${tokenAmount(asset, totalAfter, context)}, above its supply cap of ${tokenAmount(asset, cap, context)}; deposit less, or another asset`,
  VaultTransferAmountMismatch: ([asset, expected, received], context) =>
    `The vault received ${tokenAmount(asset, received, context)} where ${tokenAmount(asset, expected, context)} was sent (a fee-on-transfer or rebasing token); such a token cannot be deposited`,
  VaultUnauthorized: notAuthorized,
  VaultInsufficientBalance: ([account, asset, balance, amount], context) =>
    `Account ${acct(account)} holds ${tokenAmount(asset, balance, context)}, less than the ${tokenAmount(asset, amount, context)} requested; withdraw or move at most what it holds`,
  VaultInsufficientLiquidity: ([available, amount], context) =>
    `The vault holds ${cashAmount(available, context)} of cash, less than the ${cashAmount(amount, context)} requested (accounts that owe cash hold the rest); withdraw less, or wait for debtors to repay`,
  VaultAssetDelisted: ([asset], context) =>
    `${tokenName(asset, context)} is delisted: it takes no deposits and cannot be enabled again; withdraw it, and deposit a listed asset`,
  VaultCashNotDelistable: () => "The cash asset cannot be delisted",
  VaultPaused: () => "Deposits are paused by the guardian; wait until they are unpaused",
  VaultRiskCheckAlreadySet: () => "The vault's risk check is set already; it can be set once",
  VaultAccountHookAlreadySet: () => "The vault's account hook is set already; it cannot be replaced",
  VaultCashDebt: ([account, cash], context) =>
    `Account ${acct(account)} owes cash (balance ${cashAmount(cash, context)}) and the vault has no risk check to clear a withdrawal; repay the debt first`,
  VaultSelfTransfer: ([account]) =>
    `A module moved value from account ${acct(account)} to itself; name two different accounts`,
  VaultAmountTooLarge: ([amount]) =>
    `${str(amount)} base units is more than the vault's signed bookkeeping holds (2^127 − 1); use a smaller amount`,
  VaultRateModelNotContract: ([model]) =>
    `${str(model)} is not a contract, so it cannot be the rate model; pass a deployed rate model, or the zero address for the zero rate`,
  VaultRateModelFailed: ([model]) =>
    `The rate model ${str(model)} reverted or did not answer one word when asked for a rate; fix the model before setting it`,
  VaultRateOutOfRange: ([rate, max]) =>
    `The rate model answered ${apr(rate)}, above the vault's cap of ${apr(max)}; lower the model's parameters`,
  VaultRateModelOutOfGas: () =>
    "The rate model ran out of the gas this call left it; send the transaction again with a higher gas limit",
  VaultInvalidReserveShare: ([share, max]) =>
    `A reserve share of ${percent(share)} is above the cap of ${percent(max)}; set a smaller share of interest for the insurance fund`,
  VaultInsuranceAccountNotSet: () =>
    "The vault has no insurance account yet, and that account takes the reserve and the interest past what suppliers earn; the admin sets it (setInsuranceAccount) before a reserve share or a rate model",
  VaultInsuranceAccountAlreadySet: () => "The vault's insurance account is set already; it cannot be replaced",
  VaultSettlementAccountAlreadySet: () => "The vault's settlement account is set already; it cannot be replaced",
  VaultLossHeldApart: ([unabsorbedLoss], context) =>
    `A loss of ${cashAmount(unabsorbedLoss, context)} is held apart (claims no token backs), so a cash deposit may only repay a debt or top up the insurance account until \`repayUnabsorbedLoss\` repays it; deposit at most the account's debt, or wait for the recapitalisation`,
  VaultZeroShares: ([amount], context) =>
    `A cash deposit of ${cashAmount(amount, context)} would buy (or repay) no share at the current index, so the vault refuses it rather than take it for nothing; deposit more`,
  VaultProtocolAccount: ([account]) =>
    `Account ${acct(account)} is a protocol account (the settlement or insurance account, or one that owes cash); its cash is not withdrawn, and it cannot take this role`,
  CashUnitsUnsupportedDecimals: ([decimals]) =>
    `The cash token has ${str(decimals)} decimals, more than Pledge supports (${MAX_CASH_DECIMALS}); use a cash token with fewer`,

  // ---- OptionMarket
  MarketZeroAddress: () => "An address argument is zero; pass a real one",
  MarketZeroAmount: () => "The size is zero: fill or move a positive number of contracts",
  MarketUnauthorized: notAuthorized,
  MarketUnderlyingNotListed: ([index]) =>
    `Underlying #${str(index)} is not registered in the margin engine; use a listed underlying's index`,
  MarketInvalidStrike: ([strike]) =>
    `A strike of ${usd(strike)} is not allowed: it must be above zero and at most 10^12 USD`,
  MarketStrikeBelowBand: ([strike, minStrike]) => {
    const [s, m] = usdPair(strike, minStrike);
    return `A strike of ${s} is too far below spot for a new series: the lowest strike that lists now is ${m} (a tenth of spot)`;
  },
  MarketInvalidExpiry: ([expiry]) =>
    `Expiry ${when(expiry)} is not allowed: a series expires at 08:00 UTC, in the future and at most 365 days ahead; pick one with expiryAfter`,
  MarketSeriesNotFound: ([id]) => `Series ${seriesName(id)} does not exist; create it with createSeries first`,
  MarketSeriesExpired: ([id, expiry]) =>
    `Series ${seriesName(id)} expired at ${when(expiry)} and no longer trades; settle it instead`,
  MarketInvalidSignature: ([hash]) =>
    `Order ${str(hash)} is not signed by its account's owner or an operator (nor approved by ERC-1271); sign it with signOrder`,
  MarketOrderExpired: ([hash, deadline]) =>
    `Order ${str(hash)} expired at ${when(deadline)}; ask its maker for a new one`,
  MarketOrderCancelled: ([hash]) => `Order ${str(hash)} was cancelled by its maker; ask for a new one`,
  MarketOrderNonceTooLow: ([hash, nonce, minNonce]) =>
    `Order ${str(hash)} has nonce ${str(nonce)}, below its maker's minimum nonce ${str(minNonce)} (every order below it is cancelled); ask for a new one`,
  MarketOverfill: ([hash, remaining, requested]) => {
    if ((remaining as bigint) === 0n) return `Order ${str(hash)} is already filled; ask its maker for a new one`;
    const [left, asked] = wadPair(remaining, requested);
    return `Order ${str(hash)} has ${left} contracts left, fewer than the ${asked} requested; fill at most ${left}`;
  },
  MarketWrongTaker: ([hash, taker]) =>
    `Order ${str(hash)} may be filled only by account ${acct(taker)}; fill it from that account`,
  MarketSelfTrade: ([account]) =>
    `Account ${acct(account)} is the order's maker and cannot also take it; fill from another account`,
  MarketInvalidNonce: ([current, requested]) =>
    `The minimum nonce only goes up: it is ${str(current)}, and ${str(requested)} is not above it; pass a larger one`,
  MarketTooManyPositions: ([account, max]) =>
    `Account ${acct(account)} holds its limit of ${str(max)} series (1 in ISOLATED mode); close or settle one first, or use PORTFOLIO mode`,
  MarketDifferentOwners: ([from, to]) =>
    `Accounts ${acct(from)} and ${acct(to)} have different owners; positions move only between one owner's accounts`,
  MarketLengthMismatch: () =>
    "The lists of series and amounts differ in length or are empty; pass one amount per series",
  MarketRiskIncreased: ([account, before, after]) => {
    const [b, a] = usdPair(before, after);
    return `Account ${acct(account)} is below initial margin and the trade adds risk: excess over initial margin ${b} → ${a}; deposit collateral or make the trade reduce risk`;
  },
  MarketStillLiquidatable: ([account, before, after]) => {
    const [b, a] = usdPair(before, after);
    return `Account ${acct(account)} is below maintenance and may only trade back above it: maintenance excess ${b} → ${a}; deposit collateral or reduce more`;
  },
  MarketMaintenanceEquityFell: ([account, before, after]) => {
    const [b, a] = usdPair(before, after);
    return `Account ${acct(account)} is below maintenance and may not pay value away (premium above the mark, fees): maintenance equity ${b} → ${a}; trade at the mark or deposit collateral`;
  },
  MarketFeeAccountNotAllowed: ([account]) =>
    `Account ${acct(account)} is the fee account: it cannot trade, move positions or bid; use another account`,
  MarketInvalidFeeAccount: ([account]) =>
    `Account ${acct(account)} cannot be the fee account: it holds positions, owes cash or is the settlement account; pick an empty account`,
  MarketPausedNewRisk: ([account]) =>
    `The market is paused: account ${acct(account)} may only reduce risk; wait until it is unpaused`,
  MarketValuationFailed: ([account]) =>
    `The engine could not value account ${acct(account)} (it ran out of gas); retry with a higher gas limit`,
  MarketInvalidFees: ([maker, taker]) =>
    `Fees of ${percent(maker)} (maker) and ${percent(taker)} (taker) are above the caps of 0.5% and 1%; set lower fees`,
  MarketAmountTooLarge: ([amount]) =>
    `${formatAmount(amount as bigint)} contracts is more than one fill or transfer may move (2^127 − 1 WAD); use a smaller size`,
  MarketBalanceTooLarge: ([account, id, balance]) =>
    `Account ${acct(account)} would hold ${formatAmount(balance as bigint)} contracts of series ${seriesName(id)}: one position holds at most MAX_BALANCE (2^90 − 1 WAD, about 1.2e9 contracts) either way; use a smaller size`,
  MarketSelfTransfer: ([account]) =>
    `Account ${acct(account)} is both source and destination; name two different accounts`,
  MarketInsufficientPosition: ([account, id, balance, amount]) => {
    const [held, moved] = wadPair(balance, amount);
    return `Account ${acct(account)} holds ${held} contracts of series ${seriesName(id)} and cannot move ${moved}: a transfer moves part of a position, same sign and no larger; move at most ${held}`;
  },
  MarketSeriesNotExpired: ([id, expiry]) =>
    `Series ${seriesName(id)} expires at ${when(expiry)}; settle or retire it after then`,
  MarketSettlementPriceMissing: ([id]) =>
    `No settlement price is posted for series ${seriesName(id)}; post one with postSettlementPrice, then settle`,
  MarketNothingToSettle: ([account, id]) =>
    `Account ${acct(account)} holds no position in series ${seriesName(id)}; there is nothing to settle`,
  MarketInvalidFraction: ([fraction]) =>
    `A fraction of ${percent(fraction)} is not allowed: pass one above 0% and at most 100% (1e18)`,
  MarketAccountHookAlreadySet: () => "The market's account hook is set already; it cannot be replaced",
  MarketSeriesOpenInterestCap: ([id, cap, room]) =>
    `The fill would take the open interest of series ${seriesName(id)} past its cap of ${contracts(cap)} (room left: ${contracts(room)}); fill at most the room, or trade against a holder who is closing`,
  MarketUnderlyingOpenInterestCap: ([index, cap, room]) =>
    `The fill would take the open interest of underlying ${str(index)} past its cap of ${contracts(cap)} summed over its series (room left: ${contracts(room)}); fill at most the room, or trade against a holder who is closing`,
  MarketInvalidOpenInterestCaps: ([index, seriesCap, underlyingCap]) =>
    `Open-interest caps of ${contracts(seriesCap)} per series and ${contracts(underlyingCap)} in all for underlying ${str(index)} are not allowed: each is 0 (no cap) or from 1 contract to MAX_AMOUNT, and the per-series cap is at most the underlying's`,

  // ---- BlackScholes
  BlackScholesInputOutOfRange: ([spot, strike, seconds, vol]) =>
    `Black-Scholes inputs are out of range (spot ${usd(spot)}, strike ${usd(strike)}, ${str(seconds)} s to expiry, volatility ${percent(vol)}); a price or volatility feed is far off, check the feeds`,

  // ---- MarginEngine
  EngineBelowInitialMargin: ([account, equity, requirement]) => {
    const [e, r] = usdPair(equity, requirement);
    return `Account ${acct(account)} is below initial margin: equity ${e} < requirement ${r}; deposit collateral or reduce risk`;
  },
  EngineUnderlyingAlreadyListed: ([asset], context) =>
    `${tokenName(asset, context)} is an underlying already; change its parameters instead`,
  EngineUnderlyingNotListed: ([asset], context) =>
    (asset as string) === zeroAddress
      ? "No underlying is registered at that index; use a listed underlying's index"
      : `${tokenName(asset, context)} is not a registered underlying; register it first`,
  EngineTooManyUnderlyings: ([max]) =>
    `The engine registers its maximum of ${str(max)} underlyings; no more can be added`,
  EngineInvalidRiskParams: ([params]) =>
    `Risk parameters ${formatValue(params)} are outside the hard bounds (or maintenance is above initial); choose values within bounds`,
  EngineInvalidPortfolioParams: ([params]) =>
    `Portfolio parameters ${formatValue(params)} are outside the hard bounds (or do not give one skew shock per vol shock); choose values within bounds`,
  EngineSkewShockTooLarge: ([column, skew]) =>
    `The put-wing skew shock ${str(skew)} (WAD) of vol column ${str(column)} is above MAX_SKEW_SHOCK (2 vol per unit of log-moneyness); choose a value within bounds`,
  EngineZeroAddress: () => "An address argument is zero; pass a real one",
  EngineInvalidManagerCode: () =>
    "The portfolio manager's creation code deployed nothing, or a contract that does not name this engine as its own; pass the PortfolioManager artifact's bytecode from the same build",
  EngineMarketAlreadySet: () => "The engine's option market is set already; it can be set once",
  EngineMarketNotSet: () => "The engine's option market is not set yet; set it before changing margin modes",
  EngineUnauthorized: notAuthorized,
  EngineModeLocked: ([account]) =>
    `Account ${acct(account)} holds positions, so its margin mode cannot change; close or settle them first, or use another account`,
  EngineInvalidPositionCap: ([cap]) =>
    `A portfolio position cap of ${str(cap)} is not allowed: pass one from 1 to the engine's MAX_PORTFOLIO_POSITIONS`,
  EngineVolSurfaceUnusable: ([asset, expiry], context) =>
    `The vol surface of ${tokenName(asset, context)} for expiry ${str(expiry)} is missing, not yet mature or stale, so the engine takes no new risk on an account holding it short, or holding it at all in portfolio margin (maintenance and auctions go on); wait for a fresh post, or close the position`,
  EngineInvalidSurfaceMaxAge: ([maxAge]) =>
    `A surface max age of ${str(maxAge)} s is not allowed: pass one from 600 s (10 min) to 86,400 s (1 day)`,
  EngineInvalidConfidenceAddOn: ([index, addOn]) =>
    `A confidence add-on of ${str(addOn)} (WAD) for underlying ${str(index)} is above the 5% bound; choose a value within bounds`,
  EngineConfidenceAddOnStepTooLarge: ([index, current, requested]) =>
    `Raising the confidence add-on of underlying ${str(index)} from ${str(current)} to ${str(requested)} is too large a step for one call: at most MAX_CONFIDENCE_ADD_ON_STEP (0.5% of spot); raise in several calls`,
  EnginePricesMismatch: ([length, expected]) =>
    `A price list of ${str(length)} entries was passed where the engine takes none or ${str(expected)} (a spot and a flat vol for each underlying index, as accountMarginAndPrices returns them); pass that array unchanged, or an empty one to read every feed`,
  EngineCallerNotPortfolioManager: ([caller]) =>
    `${str(caller)} is not the engine's portfolio manager: an underlying's concentration flag follows its parameters, so set them with the portfolio manager's setConcentrationParams`,
  PortfolioInvalidConcentrationParams: ([index, params]) =>
    `Concentration parameters ${formatValue(params)} for underlying ${str(index)} are outside the hard bounds (κ at most 25%, maximum ratio 0.1 to 4, liquidity reference 1 to 1e9 contracts); choose values within bounds`,
  PortfolioConcentrationStepTooLarge: ([index, current, requested]) =>
    `Raising the concentration parameters of underlying ${str(index)} from ${formatValue(current)} to ${formatValue(requested)} is too large a step for one call: at no short size may the per-contract add-on κ·min(Q/L, ratio) rise by more than MAX_CONCENTRATION_ADD_ON_STEP (1% of spot); raise in several calls`,

  // ---- Liquidator and insurance fund
  LiquidatorZeroAddress: () => "An address argument is zero; pass a real one",
  LiquidatorAccountHealthy: ([account, health]) =>
    `Account ${acct(account)} cannot be auctioned: its health is ${healthText(health)}; only LIQUIDATABLE or INSOLVENT accounts with something to sell are`,
  LiquidatorAuctionActive: ([account]) =>
    `An auction of account ${acct(account)} is running already; bid on it instead of starting another`,
  LiquidatorNoAuction: ([account]) => `No auction of account ${acct(account)} is running; start one with startAuction`,
  LiquidatorAccountStillUnderwater: ([account, excess]) =>
    `Account ${acct(account)} is still below maintenance (maintenance excess ${usd(excess)}), so its auction cannot be ended; bid on it instead`,
  LiquidatorBidTooSmall: ([fraction, min]) =>
    `A bid of fraction ${str(fraction)} is below the ${str(min)} every bid must take (1 %, or all a bid may take when that is less); bid a larger fraction`,
  LiquidatorInvalidFraction: ([fraction]) =>
    `A bid fraction of ${percent(fraction)} is not allowed: pass one above 0% and at most 100% (1e18)`,
  LiquidatorPriceLimit: ([payment, maxPayment], context) =>
    `The bid would pay ${cashAmount(payment, context)}, more than your limit of ${cashAmount(maxPayment, context)} (the account or the prices moved); preview the bid again and resend`,
  LiquidatorAccountChanged: ([account, expected, nonce]) =>
    `Account ${acct(account)} changed since the bid was priced (nonce ${str(nonce)}, not ${str(expected)}); preview the bid again and resend`,
  LiquidatorUnauthorized: ([bidder, caller]) =>
    `${str(caller)} is neither the owner nor an operator of bidder account ${acct(bidder)}; send from the owner, or have the owner approve it with setOperator`,
  LiquidatorSelfBid: ([account]) =>
    `Account ${acct(account)} may not bid: it is the insurance fund's, or has the liquidated account's owner; bid from another owner's account`,
  LiquidatorInvalidParams: ([params]) =>
    `Auction parameters ${formatValue(params)} are outside the hard bounds (or the end discount is below the start); choose values within bounds`,
  LiquidatorProtectedAccount: ([account]) =>
    `Account ${acct(account)} is the protocol's own (insurance, settlement or fee account) and is never auctioned`,
  LiquidatorNothingToSell: ([account]) =>
    `Account ${acct(account)} holds no collateral and no position: there is nothing to auction (the Backstop's absorbDebt handles a bare cash debt)`,
  LiquidatorEmptyBatch: () => "The batch holds no bid: bidMany needs at least one request",
  LiquidatorBatchOutOfGas: ([index]) =>
    `The batch ran out of gas at bid ${str(index)} (an earlier bid may be the one that cost more than estimated); estimate it again and send it with a higher gas limit, or fewer bids`,
  LiquidatorOnlySelf: ([caller]) =>
    `${str(caller)} called bidStep, which only the liquidator itself runs inside bidMany; call bidMany instead`,
  InsuranceFundZeroAddress: () => "An address argument is zero; pass a real one",
  InsuranceFundNotReducing: ([seriesId, held, delta]) =>
    `The fund holds ${str(held)} of series ${str(seriesId)}; a change of ${str(delta)} would not close part of it: unwind only fills orders that reduce the fund's position`,
  InsuranceFundCashShort: ([cash, needed]) =>
    `The fill would take ${str(needed)} cash units from the fund, which holds ${str(cash)}: unwind never pays past the fund's cash (the rest would be socialised); sell or withdraw other collateral for cash first`,
  InsuranceFundPriceOutOfBand: ([seriesId, priceWad, markWad, boundWad]) =>
    `The order's price ${str(priceWad)} for series ${str(seriesId)} is past ${str(boundWad)}, the mark ${str(markWad)} moved by the allowed deviation against the fund: get a quote nearer the mark`,

  // ---- KinkRateModel
  RateModelInvalidParams: ([params]) => {
    const p = params as { baseRateWad: bigint; slope1Wad: bigint; slope2Wad: bigint; kinkWad: bigint };
    return `Rate parameters base ${percent(p.baseRateWad)}, slopes ${percent(p.slope1Wad)} and ${percent(p.slope2Wad)}, kink at ${percent(p.kinkWad)} are outside the bounds: the kink between 5% and 99% utilisation, the rate at full use at most 500% a year; pick parameters within them`;
  },
  // ---- Backstop
  BackstopZeroAddress: () => "An address argument is zero; pass a real one",
  BackstopProtectedAccount: ([account]) =>
    `Account ${acct(account)} is the protocol's own (insurance, settlement or fee account): no backstop step acts on it`,
  BackstopNotAnEmptyDebtor: ([account]) =>
    `Account ${acct(account)} is not an empty debtor: absorbDebt needs an account with nothing left but a cash debt; auction it instead`,
  BackstopNoAuction: ([account]) =>
    `No auction of account ${acct(account)} is open (none was started, or it ended): start one with startAuction and let it run its duration first`,
  BackstopAuctionNotLapsed: ([account, readyAt]) =>
    `The auction of account ${acct(account)} has not run its full duration yet; the backstop may act from ${when(readyAt)}`,
  BackstopAccountHealthy: ([account, health]) =>
    `Account ${acct(account)} is ${healthText(health)}, not below maintenance: no backstop step applies`,
  BackstopBudgetExceeded: ([needed, left]) =>
    `The takeover would cost the insurance fund ${usd(needed)}, more than the ${usd(left)} its budget allows now; wait for the window, or deleverage`,
  BackstopFundBelowInitialMargin: ([excess]) =>
    `The insurance fund would end the takeover below initial margin (excess ${usd(excess)}); recapitalise it, or deleverage`,
  BackstopInvalidBudget: ([budget]) =>
    `Takeover budget ${formatValue(budget)} is outside the hard bounds (per takeover ≤ per window ≤ MAX_LOSS_PER_WINDOW); choose values within bounds`,
  BackstopTakeoverAvailable: ([account]) =>
    `The insurance fund can take account ${acct(account)} over within its budget: call takeover, not deleverage`,
  BackstopNotInsolvent: ([account, value]) =>
    `Account ${acct(account)} is worth ${usd(value)} at mark, not less than nothing: it has no loss to deleverage`,
  BackstopNoPosition: ([account, seriesId]) =>
    `Account ${acct(account)} holds no position in series ${str(seriesId)}; deleverage a series it holds`,
  BackstopTooManyHolders: ([count, max]) =>
    `${str(count)} holders is more than one deleverage call takes (${str(max)}); this series cannot be deleveraged`,
  BackstopNotAnOppositeHolder: ([holder]) =>
    `Account ${acct(holder)} does not hold the side opposite the bankrupt account's; list only opposite holders`,
  BackstopHoldersIncomplete: ([sum, openInterest]) =>
    `The listed holders hold ${str(sum)} contracts, not the open interest ${str(openInterest)}: list every opposite holder`,
  BackstopHoldersNotSorted: ([index]) =>
    `Holder ${str(index)} is out of order: sort by deleverage key descending, then account id ascending, each once (getBackstopPreview)`,
  BackstopHolderBelowMaintenance: ([holder, excess]) =>
    `Holder ${acct(holder)} would end below maintenance (excess ${usd(excess)}); it is skipped`,
  BackstopNothingClosed: ([account, seriesId]) =>
    `Deleveraging account ${acct(account)} in series ${str(seriesId)} would close nothing: every holder is skipped (below maintenance after its close, or the insurance fund); do not resend it until holders change`,
  BackstopOutOfGas: ([account]) =>
    `A backstop call ran out of gas at account ${acct(account)}; send it with a higher gas limit (a latent-insolvency read: fewer accounts per call, getLatentInsolvency splits the chunk)`,
  BackstopOnlySelf: ([caller]) =>
    `${str(caller)} called a step only the backstop itself runs; call takeover or deleverage instead`,
  BackstopOnlyLiquidator: ([caller]) =>
    `${str(caller)} is not the Liquidator: only it pays the bidders of insolvent accounts from the insurance fund`,
  BackstopReplaced: ([current]) =>
    `This Backstop was replaced by ${str(current)} (Liquidator.setBackstop) and takes no step any more: call the current one`,

  // ---- VolSurfaceOracle and SviMath (docs/vol-surface.md)
  SviInputOutOfRange: () =>
    "An SVI parameter or the log-moneyness is out of the supported range; check the surface's units (WAD)",
  SviNegativeB: ([b]) => `SVI b is ${str(b)}, below 0: the smile would open downwards; use b ≥ 0`,
  SviRhoOutOfRange: ([rho]) => `SVI rho is ${str(rho)}; it must lie strictly between −1e18 and 1e18`,
  SviNonPositiveSigma: ([sigma]) => `SVI sigma is ${str(sigma)}; it must be above 0`,
  SviNegativeVariance: ([min]) => `The smile's lowest total variance is ${str(min)} (WAD), below 0; raise a`,
  SviWingTooSteep: ([b, rho]) =>
    `SVI b·(1 + |rho|) exceeds 2 (b ${str(b)}, rho ${str(rho)}): a wing steeper than Lee's bound; lower b`,
  SviCalendarArbitrage: ([k, shorter, longer]) =>
    `The longer expiry's total variance cannot be shown at or above the shorter one's everywhere; the certified margin is lowest near k = ${str(k)}, where it is ${str(shorter)} (shorter) and ${str(longer)} (longer): calendar arbitrage; raise the longer smile there`,
  SviCalendarWingArbitrage: ([right, shorter, longer]) =>
    `The longer expiry's ${right ? "right" : "left"} wing rises more slowly (slope ${str(longer)}) than the shorter one's (${str(shorter)}): calendar arbitrage far out; steepen the longer wing`,
  SviChangeTooLarge: ([k, previous, next]) =>
    `The new smile cannot be shown within the allowed ratio (the change ratio / max(confidence, 0.25), per hour of credit) of the previous one everywhere; near k = ${str(k)} total variance goes from ${str(previous)} to ${str(next)}; post in smaller steps`,
  SviChangeWingTooLarge: ([right, previous, next]) =>
    `The ${right ? "right" : "left"} wing's slope moves from ${str(previous)} to ${str(next)}, more than the allowed ratio; post in smaller steps`,
  SviZeroTime: () => "No time is left to expiry, so the smile gives no volatility",
  VolSurfaceUnknownUnderlying: ([u]) => `${str(u)} is not listed on the vol-surface oracle; have the admin list it`,
  VolSurfaceExpiryNotOnGrid: ([expiry]) =>
    `Expiry ${when(expiry)} is not on the series grid (08:00 UTC, in the future, within 365 days); pick a grid expiry`,
  VolSurfaceInvalidBatchSize: ([n]) =>
    `A post must carry 1 to 64 surfaces, not ${str(n)}; an underlying holds at most 64 live expiries, so its whole term structure fits one post`,
  VolSurfaceTooManyExpiries: ([count, max]) =>
    `The post would leave ${str(count)} live expiries for the underlying, more than ${str(max)}: the whole live term structure must fit one post; post fewer expiries, or wait until one expires`,
  VolSurfaceFutureTimestamp: ([ts, now]) =>
    `The post is dated ${when(ts)}, after the block (${when(now)}); sign a few seconds in the past, e.g. at the latest block's time`,
  VolSurfaceStaleTimestamp: ([ts, now]) =>
    `The post is dated ${when(ts)}, more than an hour before the block (${when(now)}); sign a fresh one`,
  VolSurfaceNotNewer: ([expiry, ts, stored]) =>
    `The surface for ${when(expiry)} in force is dated ${when(stored)}, not older than this post (${when(ts)}); sign a newer one`,
  VolSurfaceInvalidConfidence: ([c]) => `Confidence ${str(c)} is above 1e18; use a value in [0, 1e18]`,
  VolSurfaceParameterNotQuantized: ([expiry]) =>
    `A parameter of the surface for ${when(expiry)} is off the stored precision (a, b, rho, m, sigma multiples of 1e8; confidence of 1e9); round it with quantizeVolSurfaceInput`,
  VolSurfaceInvalidSignature: ([i]) => `Signature ${str(i)} is malformed or does not recover; re-sign the post`,
  VolSurfaceSignersNotSorted: ([i]) =>
    `Signature ${str(i)} is not from a signer above the previous one; sort signatures by signer address, each signer once`,
  VolSurfaceSignerNotAuthorized: ([signer]) =>
    `${str(signer)} is not a whitelisted vol-surface signer (or signed for another chain or oracle); use whitelisted keys`,
  VolSurfaceQuorumNotMet: ([count, quorum]) =>
    `The post has ${str(count)} signatures, fewer than the quorum of ${str(quorum)}`,
  VolSurfaceNotPosted: ([u, expiry]) => `No vol surface was posted for ${str(u)} at ${when(expiry)}`,
  VolSurfaceExpired: ([expiry]) => `Expiry ${when(expiry)} has passed, so its surface gives no volatility`,
  VolSurfaceInvalidSigner: ([signer]) =>
    `${str(signer)} cannot be added or removed (zero, already in that state, or 16 signers already)`,
  VolSurfaceInvalidQuorum: ([quorum, count]) =>
    `A quorum of ${str(quorum)} does not fit ${str(count)} signers; keep 1 ≤ quorum ≤ signers`,
  VolSurfaceInvalidChangeRatio: ([ratio]) => `Change ratio ${str(ratio)} is outside [1.1e18, 16e18]`,
  VolSurfaceInvalidConfig: () => "The vol-surface oracle got a zero admin or underlying; check the arguments",
  // ---- ChainlinkOracle
  OracleFeedNotSet: ([asset], context) =>
    `No price feed is configured for ${tokenName(asset, context)}; configure one, or use a listed asset`,
  OracleFeedReverted: ([aggregator]) =>
    `Feed ${str(aggregator)} reverted or returned malformed data; check that the address is a Chainlink aggregator`,
  OracleInvalidPrice: ([aggregator, answer]) =>
    `Feed ${str(aggregator)} answered ${signed(str(answer))}, not a positive price; wait for a valid round`,
  OracleStalePrice: ([aggregator, updatedAt, maxAge]) =>
    `Feed ${str(aggregator)} is stale: last update at ${when(updatedAt)}, max age ${str(maxAge)} s; wait for a new round`,
  OraclePriceOutOfBounds: ([aggregator, price, min, max], context) => {
    const below = (price as bigint) < (min as bigint);
    const bound = below ? min : max;
    const where = below ? "below its floor" : "above its cap";
    const then = "the feed is malfunctioning, wait for a sane round";
    const assets = context.addressBook ? [context.addressBook.cash, ...context.addressBook.collateral] : [];
    const sameAddress = (feed: unknown) =>
      typeof feed === "string" && feed.toLowerCase() === str(aggregator).toLowerCase();
    // A volatility feed's answer is a fraction (WAD), not a price: print it as a percentage.
    const vol = assets.find((asset) => sameAddress(asset.volFeed));
    if (vol) {
      return `The ${vol.symbol} volatility feed ${str(aggregator)} reports ${percent(price)}, ${where} of ${percent(bound)}; ${then}`;
    }
    const [p, b] = usdPair(price, bound);
    const spot = assets.find((asset) => sameAddress(asset.spotFeed));
    const name = spot ? `The ${spot.symbol}/USD feed ${str(aggregator)}` : `Feed ${str(aggregator)}`;
    return `${name} reports ${p}, ${where} of ${b}; ${then}`;
  },
  OracleSequencerDown: () => "The L2 sequencer is down (or its uptime feed is invalid); wait until it is back up",
  OracleGracePeriodNotOver: ([upSince, grace]) =>
    `The L2 sequencer is up since ${when(upSince)}, but its ${str(grace)} s grace period is not over; retry after ${when((upSince as bigint) + (grace as bigint))}`,
  OracleInvalidFeedConfig: ([asset], context) =>
    `The feed configuration for ${tokenName(asset, context)} is outside the hard bounds (heartbeat, price bounds or feed decimals); fix it`,
  OracleInvalidConfig: () => "The oracle was deployed with an invalid argument; check its constructor arguments",
  OracleExpiryNotReached: ([expiry]) => `Expiry ${when(expiry)} has not come yet; settle after it`,
  OracleRoundBeforeExpiry: ([roundId, updatedAt, expiry]) =>
    `Round ${str(roundId)} was updated at ${when(updatedAt)}, before expiry ${when(expiry)}; pass the first round at or after expiry (findSettlementRound finds it)`,
  OracleRoundNotFirstAfterExpiry: ([roundId, earlier]) =>
    `Round ${str(roundId)} is not the first at or after expiry: round ${str(earlier)} comes before it (or is missing); pass the first (findSettlementRound finds it)`,
  OracleSettlementHintsLength: ([length, expected]) =>
    `${str(length)} phase hints were given, ${str(expected)} expected (one per other phase of the feed); use findSettlementRound's hints`,
  OracleSettlementHintInvalid: ([index, hint, phase]) =>
    `Hint ${str(index)} (round ${str(hint)}) is not in phase ${str(phase)}, does not exist, or is not before expiry; use findSettlementRound's hints`,
  OracleSettlementFallbackNotOpen: ([roundId, updatedAt, opensAt]) =>
    `Round ${str(roundId)} came at ${when(updatedAt)}, too long after expiry for a normal settlement; it can be posted through the fallback from ${when(opensAt)}`,
  OracleFeedMaxAgeAboveSettlementDelay: ([asset, maxAge, delay], context) =>
    `The feed for ${tokenName(asset, context)} has a max age of ${str(maxAge)} s, above the settlement delay of ${str(delay)} s (a round on time for spot could miss settlement); lower the max age`,
  OracleRoundNotFound: ([roundId]) =>
    `Round ${str(roundId)} does not exist or is incomplete; pass a round the feed has (findSettlementRound finds it), or, when the first round after expiry answered no price, wait for the feed's next round`,
  OracleNoValidSettlementRound: ([roundId, lastRoundId]) =>
    `The first round after expiry, ${str(roundId)}, answers no price, and no round after it up to ${str(lastRoundId)} in its phase answers one (or the feed moved to a new phase), so no settlement price can be proven; the admin must re-point the feed (after a migration, a retry succeeds if the old aggregator answers again)`,
};

function isHealth(value: unknown): value is Health {
  return Object.values(Health).some((h) => h === value);
}

function describe(errorName: PledgeErrorName, args: readonly unknown[], context: PledgeErrorContext): string {
  const sentence = SENTENCES[errorName] as Sentence | undefined;
  // The fallback is for shapes the ABI does not know (a name cast in from elsewhere, missing args).
  if (sentence && args.length === (pledgeErrorAbi.find((e) => e.name === errorName)?.inputs.length ?? -1)) {
    try {
      return sentence(args, context);
    } catch {
      // An argument of the wrong type (cast in by a caller): print it raw rather than throw.
    }
  }
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
