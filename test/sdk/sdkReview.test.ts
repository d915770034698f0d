/**
 * Review 5 (docs/security.md): the SDK's pre-send checks and error sentences under attack. Every
 * test states the safe behaviour and failed before its fix (a switched wallet chain, an order
 * signed for another chain, amounts that printed as 0, decimals out of range).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { network } from "hardhat";
import { type EIP1193RequestFn, createPublicClient, createWalletClient, custom, encodeErrorResult } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  InvalidAddressBookError,
  WrongChainError,
  decodePledgeError,
  expiryAfter,
  getAccountId,
  getBalances,
  getPledgeEvents,
  loadAddressBook,
  pledgeErrorAbi,
  seriesId as packSeriesId,
  signOrder,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;

describe("review: the SDK's chain checks", async () => {
  const connection = await network.create();
  const { book: addressBook } = await deployPledge(connection, { writeBook: false });
  const other = await network.create({ override: { chainId: 4_242 } });
  const [, makerWallet] = await connection.viem.getWalletClients();
  const maker = getAccountId(makerWallet!, { subId: 1n });

  it("P2: a read client whose wallet switches chain after its first call gets WrongChainError", async () => {
    // An injected wallet (EIP-1193) as the public client's transport: the user switches networks.
    let provider = connection.provider;
    const publicClient = createPublicClient({
      transport: custom({ request: ((args) => provider.request(args as never)) as EIP1193RequestFn }),
    });
    await getBalances(publicClient, { addressBook, account: maker }); // chain 31337: the id is cached
    provider = other.provider; // the wallet is now on chain 4242
    const error = await getBalances(publicClient, { addressBook, account: maker }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(
      error instanceof WrongChainError,
      `expected WrongChainError after the switch, got ${error === undefined ? "data from chain 4242" : `${error.name}: ${error.message.split("\n")[0]}`}`,
    );
  });

  it("P2: signOrder refuses a wallet on another chain than the address book's", async () => {
    const chain = makerWallet!.chain;
    const elsewhere = createWalletClient({
      account: makerWallet!.account,
      chain: { ...chain, id: 10 },
      transport: custom(connection.provider),
    });
    const now = BigInt(Math.floor(Date.now() / 1000));
    const series = { underlyingIndex: 2, expiry: expiryAfter(now, 7), isCall: true, strikeWad: 60_000n * WAD };
    const signed = await signOrder(elsewhere, {
      addressBook,
      order: {
        account: maker,
        seriesId: packSeriesId(series),
        size: -WAD,
        priceWad: 100n * WAD,
        taker: 0n,
        nonce: 1n,
        deadline: now + 86_400n,
      },
    }).then(
      (s) => s,
      (e: Error) => e,
    );
    assert.ok(
      signed instanceof WrongChainError,
      "signOrder signed an order bound to chain 10 with the address book of chain 31337 (valid wherever the same market address exists on chain 10)",
    );
  });

  it("P3: getPledgeEvents with fromBlock after toBlock says so instead of returning no logs", async () => {
    const result = await getPledgeEvents(await connection.viem.getPublicClient(), {
      addressBook,
      contract: "CollateralVault",
      fromBlock: 50n,
      toBlock: 10n,
    }).then(
      (logs) => logs,
      (e: Error) => e,
    );
    assert.ok(result instanceof RangeError, `returned ${JSON.stringify(result)} for an empty range`);
  });
});

describe("review: decodePledgeError sentences", () => {
  const book = {
    chainId: 31337,
    deployedAtBlock: "1",
    contracts: {
      CollateralVault: "0x0000000000000000000000000000000000000001",
      ChainlinkOracle: "0x0000000000000000000000000000000000000002",
      MarginEngine: "0x0000000000000000000000000000000000000003",
      OptionMarket: "0x0000000000000000000000000000000000000004",
      Liquidator: "0x0000000000000000000000000000000000000005",
      Backstop: "0x0000000000000000000000000000000000000007",
      InsuranceFund: "0x0000000000000000000000000000000000000006",
    },
    cash: { address: "0x00000000000000000000000000000000000000c0", symbol: "USDC", decimals: 6 },
    collateral: [
      {
        address: "0x00000000000000000000000000000000000000e0",
        symbol: "WETH",
        decimals: 18,
        spotFeed: "0x00000000000000000000000000000000000000f1",
        volFeed: "0x00000000000000000000000000000000000000f2",
      },
    ],
  } as const;
  const decode = (errorName: string, args: readonly unknown[]) =>
    decodePledgeError(encodeErrorResult({ abi: pledgeErrorAbi, errorName, args } as never), {
      addressBook: book as never,
    })!.message;

  it("P3: an out-of-bounds volatility feed is not reported in USD", () => {
    // The WETH vol feed answers 600 % against a 500 % cap.
    const message = decode("OraclePriceOutOfBounds", [book.collateral[0].volFeed, 6n * WAD, WAD / 100n, 5n * WAD]);
    assert.doesNotMatch(message, /USD/, message);
  });

  it("P3: an auction that cannot end shows a non-zero maintenance shortfall", () => {
    // equityMM − requirementMM = −0.001 USD: the account is still liquidatable.
    const message = decode("LiquidatorAccountStillUnderwater", [1n, -(WAD / 1000n)]);
    assert.doesNotMatch(message, /excess 0 USD/, message);
  });

  it("P3: a strike below a cent is not printed as 0 USD", () => {
    const message = decode("BlackScholesInputOutOfRange", [3_000n * WAD, WAD / 1000n, 86_400n, WAD]);
    assert.doesNotMatch(message, /strike 0 USD/, message);
  });
});

describe("review: loadAddressBook validation", () => {
  it("P3: token decimals outside 0..36 are refused", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pledge-book-"));
    try {
      const address = "0x0000000000000000000000000000000000000001";
      const book = {
        chainId: 5,
        deployedAtBlock: "0",
        contracts: {
          CollateralVault: address,
          ChainlinkOracle: address,
          MarginEngine: address,
          OptionMarket: address,
          Liquidator: address,
          Backstop: address,
          InsuranceFund: address,
        },
        cash: { address, symbol: "USDC", decimals: -6 },
        collateral: [{ address, symbol: "WETH", decimals: 1000 }],
      };
      await writeFile(path.join(dir, "5.json"), JSON.stringify(book));
      const error = await loadAddressBook(5, dir).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(error instanceof InvalidAddressBookError, "decimals -6 and 1000 were accepted");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
