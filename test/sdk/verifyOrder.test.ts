import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Address, type Hex, parseUnits } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  type Order,
  type SignedOrder,
  PremiumChangedError,
  accountId,
  cancelOrder,
  createSeries,
  decodePledgeError,
  deposit,
  expiryAfter,
  fillOrder,
  optionMarketAbi,
  orderDigest,
  orderDomain,
  orderInRange,
  orderTypes,
  seriesId as packSeriesId,
  setMinNonce,
  signOrder,
  simulateFill,
  verifyOrder,
  verifyOrderSignature,
} from "../../packages/sdk/src/index.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const MNEMONIC = "test test test test test test test test test test test junk";
/** secp256k1's group order: s and n − s sign the same digest (the high-s twin). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** The errors by which `fill` refuses an order whatever the taker (the order-only checks and the signature). */
const ORDER_REFUSALS = new Set([
  "MarketInvalidSignature",
  "MarketOrderCancelled",
  "MarketOrderExpired",
  "MarketOrderNonceTooLow",
  "MarketFeeAccountNotAllowed",
  "MarketSeriesNotFound",
  "MarketSeriesExpired",
  "MarketOverfill",
]);

/** Runtime code answering every call with `word` (32 bytes) followed by `tail`, or its first `length` bytes. */
const answering = (word: string, { tail = "", length }: { tail?: string; length?: number } = {}) => {
  const out = `${word}${tail}`;
  const size = length ?? out.length / 2;
  // PUSH32 word; PUSH1 0; MSTORE; [PUSH32 tail; PUSH1 32; MSTORE]; PUSH1 size; PUSH1 0; RETURN
  const second = tail === "" ? "" : `7f${tail.padEnd(64, "0")}602052`;
  return `0x7f${word}600052${second}60${size.toString(16).padStart(2, "0")}6000f3` as Hex;
};
/** Runtime code answering the magic word only to calls from `caller`, and a zero word to others. */
const answeringOnlyTo = (caller: Address, word: string) =>
  `0x3373${caller.slice(2)}14601f576020${"6000"}f35b7f${word}60005260206000f3` as Hex;
const MAGIC = `1626ba7e${"00".repeat(28)}`;

/**
 * Review rv18b, RV18b-6 (and RV18b-1, RV18b-2): the SDK's `verifyOrder`, `verifyOrderSignature` and
 * `orderInRange` tested directly, each case against the chain's own answer: `verifyOrder` calls an
 * order valid exactly when `fill` (an eth_call from a funded-or-not taker) gets past the order's
 * checks and its signature (it may still fail on margin, which depends on the taker).
 */
describe("verifyOrder: parity with the market's fill", async () => {
  const connection = await network.create();
  const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const [admin, makerWallet, takerWallet, operatorWallet] = await connection.viem.getWalletClients();
  if (!admin || !makerWallet || !takerWallet || !operatorWallet) throw new Error("need four wallet clients");
  const makerKey = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
  const operatorKey = mnemonicToAccount(MNEMONIC, { addressIndex: 3 });
  assert.equal(makerKey.address.toLowerCase(), makerWallet.account.address.toLowerCase());
  const maker = accountId(makerWallet.account.address, 1n);
  const taker = accountId(takerWallet.account.address, 1n);
  const market = addressBook.contracts.OptionMarket;

  const now = (await publicClient.getBlock()).timestamp;
  const [, spotAnswer] = await contracts.ethUsd.read.latestRoundData();
  const strikeWad = ((spotAnswer * 10n ** 10n * 8n) / 10n / WAD) * WAD;
  const series = { underlyingIndex: 1, expiry: expiryAfter(now, 14), isCall: false, strikeWad };
  const shortSeries = { ...series, expiry: expiryAfter(now, 1) };
  await createSeries(admin, { publicClient, addressBook, series });
  await createSeries(admin, { publicClient, addressBook, series: shortSeries });
  for (const [wallet, id] of [
    [makerWallet, maker],
    [takerWallet, taker],
  ] as const) {
    await contracts.usdc.write.mint([wallet.account.address, parseUnits("100000", 6)]);
    await deposit(wallet, {
      publicClient,
      addressBook,
      account: id,
      asset: addressBook.cash.address,
      amount: parseUnits("100000", 6),
    });
  }

  let nonce = 0n;
  const newOrder = async (fields: Partial<Order> = {}): Promise<Order> => ({
    account: maker,
    seriesId: packSeriesId(series),
    size: 2n * WAD, // the maker buys two puts
    priceWad: 50n * WAD,
    taker: 0n,
    nonce: ++nonce,
    deadline: (await publicClient.getBlock()).timestamp + 30n * DAY,
    ...fields,
  });
  const signWith = async (key: typeof makerKey, order: Order, chainId = addressBook.chainId, at: Address = market) =>
    key.signTypedData({ domain: orderDomain(chainId, at), types: orderTypes, primaryType: "Order", message: order });

  /** What `fill` says to this order from the taker (an eth_call): "passes" or the error's name. */
  async function chainSays(signed: SignedOrder, fillSize = WAD / 10n): Promise<string> {
    try {
      await publicClient.simulateContract({
        account: takerWallet!.account,
        address: market,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [signed.order, signed.signature, taker, fillSize],
      });
      return "passes";
    } catch (error) {
      return decodePledgeError(error)?.errorName ?? `undecoded: ${(error as Error).message.split("\n")[0]}`;
    }
  }

  /** verifyOrder's verdict, the chain's, and that they agree. */
  async function judge(signed: SignedOrder, expected: string) {
    const check = await verifyOrder(publicClient, { signedOrder: signed, addressBook });
    const signature = await verifyOrderSignature(publicClient, { signedOrder: signed, addressBook });
    const chain = await chainSays(signed);
    const refusedByChain = ORDER_REFUSALS.has(chain);
    assert.equal(
      check.valid,
      !refusedByChain,
      `verifyOrder ${JSON.stringify(check, (_, v) => (typeof v === "bigint" ? `${v}` : v))}, chain ${chain}`,
    );
    assert.equal(check.valid ? "valid" : check.problem, expected, `chain says ${chain}`);
    if (check.valid) assert.equal(signature, true);
    if (chain === "MarketInvalidSignature") assert.equal(signature, false);
    return { check, chain, signature };
  }

  it("an owner's order is valid, with what is left; its hash is the market's", async () => {
    const order = await newOrder();
    const signed = await signOrder(makerWallet, { addressBook, order });
    const { check } = await judge(signed, "valid");
    assert.equal(check.hash, await contracts.market.read.orderHash([order]));
    assert.equal(check.hash, orderDigest(order, addressBook));
    assert.equal(check.valid && check.remaining, 2n * WAD);
  });

  it("ECDSA: high-s twin, v 0/1/29, 64 bytes, 66 bytes, r = 0, s = 0 are refused as the chain refuses them", async () => {
    const order = await newOrder();
    const good = await signWith(makerKey, order);
    await judge({ order, signature: good }, "valid");
    const r = good.slice(2, 66);
    const s = BigInt(`0x${good.slice(66, 130)}`);
    const v = Number.parseInt(good.slice(130, 132), 16);
    const highS = `0x${r}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    const cases: [string, Hex][] = [
      ["high s (the malleable twin)", highS],
      ["v = 0", `0x${good.slice(2, 130)}00`],
      ["v = 1", `0x${good.slice(2, 130)}01`],
      ["v = 29", `0x${good.slice(2, 130)}1d`],
      ["64 bytes (EIP-2098 compact)", `0x${good.slice(2, 130)}`],
      ["66 bytes", `${good}00`],
      ["empty", "0x"],
      ["r = 0", `0x${"00".repeat(32)}${good.slice(66)}`],
      ["s = 0", `0x${r}${"00".repeat(32)}${good.slice(130)}`],
    ];
    for (const [name, signature] of cases) {
      const { chain } = await judge({ order, signature }, "invalidSignature");
      assert.equal(chain, "MarketInvalidSignature", name);
    }
  });

  it("signed for another chain id or another market: refused", async () => {
    const order = await newOrder();
    await judge({ order, signature: await signWith(makerKey, order, 1) }, "invalidSignature");
    await judge(
      { order, signature: await signWith(makerKey, order, addressBook.chainId, admin.account.address) },
      "invalidSignature",
    );
    // Another account's key, for the right domain:
    await judge({ order, signature: await signWith(operatorKey, order) }, "invalidSignature");
  });

  it("an operator the owner approved signs for it; once revoked it no longer does", async () => {
    const vault = contracts.vault;
    const order = await newOrder();
    const signed = { order, signature: await signWith(operatorKey, order) };
    await judge(signed, "invalidSignature");
    await publicClient.waitForTransactionReceipt({
      hash: await vault.write.setOperator([operatorKey.address, true], { account: makerWallet.account }),
    });
    await judge(signed, "valid");
    await publicClient.waitForTransactionReceipt({
      hash: await vault.write.setOperator([operatorKey.address, false], { account: makerWallet.account }),
    });
    await judge(signed, "invalidSignature");
  });

  it("ERC-1271: the whole 32-byte magic word (extra bytes after it allowed), asked from the market", async () => {
    const setCode = (address: Address, bytecode: Hex) => testClient.setCode({ address, bytecode });
    const signatureOf = `0x${"11".repeat(64)}1b` as Hex; // no ECDSA signer: only the wallet's check can pass
    const cases: [string, Hex, string][] = [
      ["exactly the magic word", answering(MAGIC), "valid"],
      ["the magic word and 32 more bytes", answering(MAGIC, { tail: "ff".repeat(32) }), "valid"],
      ["magic and a non-zero tail in the word (RV18b-1)", answering(`1626ba7e${"ff".repeat(28)}`), "invalidSignature"],
      ["only the 4 magic bytes", answering(MAGIC, { length: 4 }), "invalidSignature"],
      ["a zero word", answering("00".repeat(32)), "invalidSignature"],
      ["the magic word, but only to the market", answeringOnlyTo(market, MAGIC), "valid"],
      ["the magic word, but only to someone else", answeringOnlyTo(admin.account.address, MAGIC), "invalidSignature"],
    ];
    let i = 0;
    for (const [name, code, expected] of cases) {
      const wallet = `0x${(0x1271_0000n + BigInt(++i)).toString(16).padStart(40, "0")}` as Address;
      await setCode(wallet, code);
      const order = await newOrder({ account: accountId(wallet, 1n), size: -WAD, priceWad: 1n });
      const { chain } = await judge({ order, signature: signatureOf }, expected);
      if (expected !== "valid") assert.equal(chain, "MarketInvalidSignature", name);
      else assert.notEqual(chain, "MarketInvalidSignature", name);
    }
  });

  it("cancelled, expired, below the minimum nonce, filled: the problem named, as the chain checks it", async () => {
    const cancelled = await newOrder();
    await cancelOrder(makerWallet, { publicClient, addressBook, order: cancelled });
    await judge(await signOrder(makerWallet, { addressBook, order: cancelled }), "cancelled");

    const late = await newOrder({ deadline: (await publicClient.getBlock()).timestamp - 1n });
    await judge(await signOrder(makerWallet, { addressBook, order: late }), "expired");

    const filledOrder = await newOrder({ size: WAD / 10n });
    const filled = await signOrder(makerWallet, { addressBook, order: filledOrder });
    await fillOrder(takerWallet, {
      publicClient,
      addressBook,
      signedOrder: filled,
      takerAccount: taker,
      fillSize: WAD / 10n,
    });
    const { chain } = await judge(filled, "filled");
    assert.equal(chain, "MarketOverfill");

    const low = await newOrder();
    await setMinNonce(makerWallet, { publicClient, addressBook, account: maker, minNonce: low.nonce + 1n });
    await judge(await signOrder(makerWallet, { addressBook, order: low }), "nonceTooLow");
  });

  it("fillOrder with expectedPremium sends nothing when the simulated premium differs (RV18b-3's guard)", async () => {
    const order = await newOrder({ seriesId: packSeriesId(series), size: WAD });
    const signedOrder = await signOrder(makerWallet, { addressBook, order });
    const sim = await simulateFill(publicClient, {
      signedOrder,
      takerAccount: taker,
      fillSize: WAD / 10n,
      addressBook,
    });
    assert.equal(sim.accepted, true);
    const fill = (expectedPremium: bigint) =>
      fillOrder(takerWallet, {
        publicClient,
        addressBook,
        signedOrder,
        takerAccount: taker,
        fillSize: WAD / 10n,
        expectedPremium,
      });
    const blockBefore = await publicClient.getBlockNumber();
    await assert.rejects(
      fill(sim.premium - 1n),
      (error: Error) =>
        error instanceof PremiumChangedError && error.expected === sim.premium - 1n && error.actual === sim.premium,
    );
    assert.equal(await publicClient.getBlockNumber(), blockBefore, "nothing was sent");
    const { result } = await fill(sim.premium);
    assert.equal(result, sim.premium);
  });

  it("RV18b-2: a series that does not exist, the fee account as maker, and an expired series are refused", async () => {
    const missing = await newOrder({ seriesId: packSeriesId({ ...series, strikeWad: strikeWad + WAD }) });
    await judge(await signOrder(makerWallet, { addressBook, order: missing }), "seriesNotFound");

    const feeAccount = await contracts.market.read.feeAccount();
    const feeMaker = accountId(makerWallet.account.address, 99n);
    await publicClient.waitForTransactionReceipt({ hash: await contracts.market.write.setFeeAccount([feeMaker]) });
    try {
      const order = await newOrder({ account: feeMaker });
      await judge(await signOrder(makerWallet, { addressBook, order }), "feeAccount");
    } finally {
      await publicClient.waitForTransactionReceipt({ hash: await contracts.market.write.setFeeAccount([feeAccount]) });
    }

    const onShort = await newOrder({ seriesId: packSeriesId(shortSeries) });
    const signed = await signOrder(makerWallet, { addressBook, order: onShort });
    await judge(signed, "valid");
    await testClient.setNextBlockTimestamp({ timestamp: shortSeries.expiry });
    await testClient.mine({ blocks: 1 });
    await judge(signed, "seriesExpired");
  });

  it("orderInRange: uint256 fields, an int256 size", () => {
    const base: Order = {
      account: maker,
      seriesId: packSeriesId(series),
      size: WAD,
      priceWad: WAD,
      taker: 0n,
      nonce: 1n,
      deadline: 1n,
    };
    const max = (1n << 256n) - 1n;
    assert.equal(orderInRange(base), true);
    assert.equal(orderInRange({ ...base, nonce: max, size: -(1n << 255n) }), true);
    assert.equal(orderInRange({ ...base, size: (1n << 255n) - 1n }), true);
    assert.equal(orderInRange({ ...base, size: 1n << 255n }), false);
    assert.equal(orderInRange({ ...base, size: -(1n << 255n) - 1n }), false);
    assert.equal(orderInRange({ ...base, nonce: max + 1n }), false);
    assert.equal(orderInRange({ ...base, account: -1n } as unknown as Order), false);
    assert.equal(orderInRange({ ...base, deadline: 5 } as unknown as Order), false);
  });
});
