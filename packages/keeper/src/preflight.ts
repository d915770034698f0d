import { readFile } from "node:fs/promises";

import { type Address, type Hex, type PublicClient, createPublicClient, http } from "viem";

import {
  type AccountId,
  type AddressBook,
  AddressBookNotFoundError,
  ContractNotDeployedError,
  Health,
  InvalidAddressBookError,
  WrongChainError,
  formatAccount,
  formatAmount,
  getAccountMargin,
  healthName,
  readAddressBook,
} from "@pledge/sdk";
import { ExitCode, KeeperStartupError } from "./config.js";

/**
 * The signing key, never from the command line: a hex private key from the environment variable
 * `keyEnv`, or an encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD). Throws
 * `KeeperStartupError` (KEY) when it is missing or malformed; the message never contains the key.
 * Other services (the vol signer) share it: `holder` names whose key it is in the messages and
 * `refuse` throws their own error instead.
 *
 * @example
 * const key = await loadKey({ keyEnv: "KEEPER_KEY" });
 */
export async function loadKey(
  source: { keyEnv?: string | undefined; keystore?: string | undefined },
  options: { holder?: string; refuse?: (message: string, cause?: unknown) => never } = {},
): Promise<Hex> {
  const refuse =
    options.refuse ??
    ((message: string, cause?: unknown): never => {
      throw new KeeperStartupError(ExitCode.KEY, message, { cause });
    });
  if (source.keyEnv !== undefined) {
    const key = process.env[source.keyEnv]?.trim();
    if (!key)
      return refuse(
        `environment variable ${source.keyEnv} is empty: set it to the ${options.holder ?? "keeper"}'s private key`,
      );
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) {
      return refuse(`environment variable ${source.keyEnv} does not hold a private key (64 hex digits, 0x optional)`);
    }
    return (key.startsWith("0x") ? key : `0x${key}`) as Hex;
  }
  if (source.keystore !== undefined) {
    const password = process.env.PLEDGE_KEYSTORE_PASSWORD;
    if (password === undefined) return refuse("set PLEDGE_KEYSTORE_PASSWORD to decrypt the keystore");
    let json: string;
    try {
      json = await readFile(source.keystore, "utf8");
    } catch (error) {
      return refuse(`--keystore ${source.keystore}: cannot read it (${(error as NodeJS.ErrnoException).code})`, error);
    }
    try {
      // viem has no keystore decryption; ethers (already in the toolchain) does it.
      const { Wallet } = await import("ethers");
      return (await Wallet.fromEncryptedJson(json, password)).privateKey as Hex;
    } catch (error) {
      return refuse(`--keystore ${source.keystore}: does not decrypt with PLEDGE_KEYSTORE_PASSWORD`, error);
    }
  }
  return refuse("no signing key: give --key-env <VAR> or --keystore <file>");
}

/**
 * The address book at `file`, its schema checked with the SDK's `readAddressBook`. Throws
 * `KeeperStartupError`: DEPLOYMENT_NOT_FOUND or DEPLOYMENT_INVALID, with the SDK's message.
 *
 * @example
 * const book = await loadDeployment("deployments/31337.json");
 */
export async function loadDeployment(file: string): Promise<AddressBook> {
  try {
    return await readAddressBook(file);
  } catch (error) {
    if (error instanceof AddressBookNotFoundError) {
      throw new KeeperStartupError(ExitCode.DEPLOYMENT_NOT_FOUND, `--deployment: ${error.message}`, { cause: error });
    }
    if (error instanceof InvalidAddressBookError) {
      throw new KeeperStartupError(ExitCode.DEPLOYMENT_INVALID, `--deployment: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * An RPC URL without its path and query, which often carry an API key: safe to log.
 *
 * @example
 * redactUrl("https://eth.example.com/v2/SECRET"); // "https://eth.example.com"
 */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(malformed URL)";
  }
}

/**
 * Checks that every `--rpc` value is an http(s) URL. Throws `KeeperStartupError` (RPC_URL).
 *
 * @example
 * checkRpcUrls(["http://127.0.0.1:8545"]);
 */
export function checkRpcUrls(urls: readonly string[]): void {
  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw new KeeperStartupError(ExitCode.RPC_URL, `--rpc ${url} is not an http(s) URL`);
    }
  }
}

/**
 * Asks every endpoint for `eth_chainId` once, within `timeoutMs` and without retries. At least one
 * must answer (RPC_UNREACHABLE otherwise) and every one that answers must be on the address book's
 * chain (WRONG_CHAIN, with the SDK's `WrongChainError` message). Returns the endpoints that did not
 * answer, to be logged as a warning.
 *
 * @example
 * const silent = await checkChain(["http://127.0.0.1:8545"], book, 5_000);
 */
export async function checkChain(urls: readonly string[], book: AddressBook, timeoutMs: number): Promise<string[]> {
  const answers = await Promise.all(
    urls.map(async (url) => {
      const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: timeoutMs }) });
      try {
        return { url, chainId: await client.getChainId() };
      } catch (error) {
        const detail = (error as { details?: string; shortMessage?: string }).details ?? (error as Error).message;
        return { url, error: detail.split("\n")[0] };
      }
    }),
  );
  const answered = answers.filter((answer) => answer.chainId !== undefined);
  if (answered.length === 0) {
    const why = answers.map((answer) => `${redactUrl(answer.url)}: ${answer.error}`).join("; ");
    throw new KeeperStartupError(
      ExitCode.RPC_UNREACHABLE,
      `no --rpc endpoint answered eth_chainId within ${timeoutMs} ms (${why})`,
    );
  }
  for (const { url, chainId } of answered) {
    if (chainId !== book.chainId) {
      const wrong = new WrongChainError(chainId!, book.chainId);
      throw new KeeperStartupError(ExitCode.WRONG_CHAIN, `--rpc ${redactUrl(url)}: ${wrong.message}`, {
        cause: wrong,
      });
    }
  }
  return answers.filter((answer) => answer.chainId === undefined).map((answer) => redactUrl(answer.url));
}

/**
 * Checks that every address of the book holds code: the six core contracts, the cash token, each
 * collateral token and its feeds. Throws `KeeperStartupError` (CONTRACT_NOT_DEPLOYED) naming the
 * first empty one with the SDK's `ContractNotDeployedError` message.
 *
 * @example
 * await checkCode(publicClient, book);
 */
export async function checkCode(client: PublicClient, book: AddressBook): Promise<void> {
  const named: [string, Address][] = Object.entries(book.contracts).map(([name, address]) => [
    `contracts.${name}`,
    address,
  ]);
  for (const [where, asset] of [
    ["cash", book.cash],
    ...book.collateral.map((entry, i) => [`collateral[${i}]`, entry] as const),
  ] as const) {
    named.push([`${where} (${asset.symbol})`, asset.address]);
    if (asset.spotFeed) named.push([`${where}.spotFeed`, asset.spotFeed]);
    if (asset.volFeed) named.push([`${where}.volFeed`, asset.volFeed]);
  }
  const codes = await Promise.all(named.map(([, address]) => client.getCode({ address })));
  const missing = named.findIndex((_, i) => !codes[i] || codes[i] === "0x");
  if (missing >= 0) {
    const [what, address] = named[missing]!;
    const error = new ContractNotDeployedError(address, `${what} of the address book`, book.chainId);
    throw new KeeperStartupError(ExitCode.CONTRACT_NOT_DEPLOYED, error.message, { cause: error });
  }
}

/** What `checkBidder` found: the bidder's margin in USD (WAD) and a warning to log, if any. */
export interface BidderCheck {
  equityIM: bigint;
  excessIM: bigint;
  health: Health;
  warning?: string;
}

/**
 * The bidder account's margin. Below initial margin it throws `KeeperStartupError`
 * (BIDDER_BELOW_IM): the liquidator refuses every bid that leaves the bidder below IM, and the
 * account is itself on the way to liquidation. An account that holds nothing passes with a warning:
 * the keeper can still start auctions, settle and post prices, but it will not bid.
 *
 * @example
 * const { warning } = await checkBidder(publicClient, book, accountId(keeper.address, 1n));
 * if (warning) logger.warn(warning);
 */
export async function checkBidder(client: PublicClient, book: AddressBook, bidder: AccountId): Promise<BidderCheck> {
  const [state] = await getAccountMargin(client, { addressBook: book, accounts: [bidder] });
  const { equityIM, requirementIM, health } = state!;
  const excessIM = equityIM - requirementIM;
  const usd = (wad: bigint) => `$${formatAmount(wad)}`;
  if (excessIM < 0n) {
    throw new KeeperStartupError(
      ExitCode.BIDDER_BELOW_IM,
      `the bidder account ${formatAccount(bidder)} is below initial margin (${healthName(health)}: equity ${usd(equityIM)}, IM requirement ${usd(requirementIM)}): deposit at least ${usd(-excessIM)} of collateral or cash, or run with --no-liquidate`,
    );
  }
  if (equityIM === 0n && requirementIM === 0n) {
    return {
      equityIM,
      excessIM,
      health,
      warning: `the bidder account ${formatAccount(bidder)} holds nothing: the keeper will start auctions and settle but cannot bid until it is funded (--bidder-sub-id picks another sub-account)`,
    };
  }
  return { equityIM, excessIM, health };
}
