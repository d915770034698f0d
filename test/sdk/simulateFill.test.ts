import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  expiryAfter,
  MarginMode,
  type Order,
  type SimulateFillReturnType,
  accountId,
  createSeries,
  decodePledgeError,
  deposit,
  optionMarketAbi,
  seriesId as packSeriesId,
  setMarginMode,
  signOrder,
  simulateFill,
  type AccountId,
} from "../../packages/sdk/src/index.js";
import { random } from "./random.js";

const WAD = 10n ** 18n;
const DAY = 86_400n;
const FILLS = 80;
const usdc = (amount: string) => parseUnits(amount, 6);

/**
 * `simulateFill` against the chain: for seeded random fills (accepted ones, margin refusals,
 * order-check refusals, a paused market and an oracle that stops answering), the prediction
 * equals what an `eth_call` of `fill` at the same block returns — acceptance, or the custom error
 * and its arguments. Accepted fills are then sent, so the accounts' books grow and prices move.
 */
describe("simulateFill predicts the chain's answer to a fill", async () => {
  const connection = await network.create();
  const { contracts, book: addressBook } = await deployPledge(connection, { writeBook: false });
  const publicClient = await connection.viem.getPublicClient();
  const [admin, ...traders] = await connection.viem.getWalletClients();
  if (!admin || traders.length < 4) throw new Error("need five wallet clients");
  const wallets = traders.slice(0, 4);
  const rng = random(0x51f111n);

  const now = (await publicClient.getBlock()).timestamp;
  const expiry = expiryAfter(now, 14);
  const [, spotAnswer] = await contracts.ethUsd.read.latestRoundData();
  const spot = spotAnswer * 10n ** 10n;
  const series = [
    { underlyingIndex: 1, expiry, isCall: true, strikeWad: ((spot * 11n) / 10n / WAD) * WAD },
    { underlyingIndex: 1, expiry, isCall: false, strikeWad: ((spot * 9n) / 10n / WAD) * WAD },
  ];
  for (const s of series) await createSeries(admin, { publicClient, addressBook, series: s });

  // Two accounts per wallet: one well funded, one thin.
  const accounts: { wallet: (typeof wallets)[number]; id: AccountId }[] = [];
  for (const wallet of wallets) {
    await contracts.usdc.write.mint([wallet.account.address, usdc("10000000")]);
    for (const [subId, amount] of [
      [1n, "200000"],
      [2n, "2000"],
    ] as const) {
      const id = accountId(wallet.account.address, subId);
      await deposit(wallet, {
        publicClient,
        addressBook,
        account: id,
        asset: addressBook.cash.address,
        amount: usdc(amount),
      });
      accounts.push({ wallet, id });
    }
  }
  // Fees on, so premiums and fees both move cash.
  const feeAccount = accountId(admin.account.address, 9n);
  await contracts.market.write.setFeeAccount([feeAccount], { account: admin.account });
  await contracts.market.write.setFees([WAD / 400n, WAD / 200n], { account: admin.account });

  let nonce = 0n;
  const outcomes = new Map<string, number>();

  /** The chain's answer: `eth_call` of `fill` from the taker's owner at the latest block. */
  async function chainAnswer(
    order: Order,
    signature: `0x${string}`,
    taker: (typeof accounts)[number],
    fillSize: bigint,
  ): Promise<{ accepted: true; premium: bigint } | { accepted: false; name: string; args: readonly unknown[] }> {
    try {
      const { result } = await publicClient.simulateContract({
        account: taker.wallet.account,
        address: addressBook.contracts.OptionMarket,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [order, signature, taker.id, fillSize],
      });
      return { accepted: true, premium: result };
    } catch (error) {
      const decoded = decodePledgeError(error);
      if (!decoded) throw error;
      return { accepted: false, name: decoded.errorName, args: decoded.args };
    }
  }

  async function compareOne(step: number): Promise<void> {
    const maker = rng.pick(accounts);
    let taker = rng.pick(accounts);
    while (taker.wallet === maker.wallet) taker = rng.pick(accounts);
    const s = rng.pick(series);
    const block = await publicClient.getBlock();
    const held = await contracts.market.read.positionOf([maker.id, packSeriesId(s)]);
    // Half the time the maker trades its position down (a reducing side), else either way.
    const reduce = held !== 0n && rng.float() < 0.5;
    const size = reduce ? (held < 0n ? -held : held) : rng.range(1n, 40n) * (WAD / 2n);
    const buys = reduce ? held < 0n : rng.float() < 0.5;
    const order: Order = {
      account: maker.id,
      seriesId: packSeriesId(s),
      size: buys ? size : -size,
      // Around the option's plausible value, sometimes far above it (a gift or a raid).
      priceWad: rng.float() < 0.8 ? rng.range(1n, 400n) * WAD : rng.range(1_000n, 20_000n) * WAD,
      taker: rng.float() < 0.05 ? accounts[0]!.id : 0n,
      nonce: ++nonce,
      deadline: rng.float() < 0.05 ? block.timestamp - 1n : block.timestamp + DAY,
    };
    const fillSize = rng.float() < 0.05 ? size + 1n : rng.range(1n, size);
    const signedOrder = await signOrder(maker.wallet, { addressBook, order });

    const predicted: SimulateFillReturnType = await simulateFill(publicClient, {
      signedOrder,
      takerAccount: taker.id,
      fillSize,
      addressBook,
    });
    const chain = await chainAnswer(order, signedOrder.signature, taker, fillSize);
    const label = `step ${step}: ${predicted.error?.name ?? "accepted"} vs ${chain.accepted ? "accepted" : chain.name}`;
    assert.equal(predicted.accepted, chain.accepted, label);
    if (chain.accepted) {
      assert.equal(predicted.premium, chain.premium, label);
      outcomes.set("accepted", (outcomes.get("accepted") ?? 0) + 1);
      await taker.wallet.writeContract({
        address: addressBook.contracts.OptionMarket,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [order, signedOrder.signature, taker.id, fillSize],
      });
    } else {
      assert.equal(predicted.error?.name, chain.name, label);
      assert.deepEqual(predicted.error?.args, chain.args, label);
      outcomes.set(chain.name, (outcomes.get(chain.name) ?? 0) + 1);
    }
  }

  /** Deposits 50,000 USDC into each of `sides`. */
  async function fundWith50k(sides: (typeof accounts)[number][]): Promise<void> {
    for (const side of sides) {
      await deposit(side.wallet, {
        publicClient,
        addressBook,
        account: side.id,
        asset: addressBook.cash.address,
        amount: usdc("50000"),
      });
    }
  }

  async function setSpot(answer: bigint): Promise<void> {
    await contracts.ethUsd.write.updateAnswer([answer]);
  }

  it(`${FILLS} random fills: the prediction is the chain's answer`, async () => {
    for (let step = 0; step < FILLS; step++) {
      // Spot wanders, so shorts fall below IM and maintenance and reducing trades are judged.
      if (step % 8 === 4) await setSpot((spotAnswer * BigInt(70 + rng.int(80))) / 100n);
      await compareOne(step);
    }
  });

  it("while paused, new risk is refused and reducing trades are judged as usual", async () => {
    await contracts.market.write.pause({ account: admin.account });
    for (let step = 0; step < 8; step++) await compareOne(1_000 + step);
    await contracts.market.write.unpause({ account: admin.account });
  });

  it("with the oracle down, the unpriced rules and the oracle's error are predicted", async () => {
    await setSpot(0n);
    for (let step = 0; step < 12; step++) await compareOne(2_000 + step);
    await setSpot(spotAnswer);
  });

  /** One fill between two fixed accounts, predicted and compared like the random ones. */
  async function compareFill(
    maker: (typeof accounts)[number],
    taker: (typeof accounts)[number],
    s: (typeof series)[number],
    size: bigint,
    priceWad: bigint,
  ): Promise<SimulateFillReturnType> {
    const block = await publicClient.getBlock();
    const order: Order = {
      account: maker.id,
      seriesId: packSeriesId(s),
      size,
      priceWad,
      taker: 0n,
      nonce: ++nonce,
      deadline: block.timestamp + DAY,
    };
    const signedOrder = await signOrder(maker.wallet, { addressBook, order });
    const fillSize = size < 0n ? -size : size;
    const predicted = await simulateFill(publicClient, { signedOrder, takerAccount: taker.id, fillSize, addressBook });
    const chain = await chainAnswer(order, signedOrder.signature, taker, fillSize);
    assert.equal(predicted.accepted, chain.accepted, `${predicted.error?.name} vs ${chain.accepted || chain.name}`);
    if (chain.accepted) {
      outcomes.set("accepted", (outcomes.get("accepted") ?? 0) + 1);
      await taker.wallet.writeContract({
        address: addressBook.contracts.OptionMarket,
        abi: optionMarketAbi,
        functionName: "fill",
        args: [order, signedOrder.signature, taker.id, fillSize],
      });
    } else {
      assert.equal(predicted.error?.name, chain.name);
      assert.deepEqual(predicted.error?.args, chain.args);
      outcomes.set(chain.name, (outcomes.get(chain.name) ?? 0) + 1);
    }
    return predicted;
  }

  it("a margin-call and a liquidatable account buying back above the mark are refused as predicted", async () => {
    const [wallet, other] = [wallets[0]!, wallets[1]!];
    const thin = { wallet, id: accountId(wallet.account.address, 5n) };
    const rich = { wallet: other, id: accountId(other.account.address, 5n) };
    await deposit(wallet, {
      publicClient,
      addressBook,
      account: thin.id,
      asset: addressBook.cash.address,
      amount: usdc("1500"),
    });
    await deposit(other, {
      publicClient,
      addressBook,
      account: rich.id,
      asset: addressBook.cash.address,
      amount: usdc("200000"),
    });
    await setSpot(spotAnswer);
    const call = series[0]!;
    assert.ok((await compareFill(thin, rich, call, -4n * WAD, 20n * WAD)).accepted, "the thin account sells 4 calls");
    // Spot climbs until the thin account is below IM, then below maintenance; at each stage it
    // tries to buy one call back far above the mark.
    const seen = new Set<string>();
    for (let pct = 100n; pct <= 200n && seen.size < 2; pct += 2n) {
      await setSpot((spotAnswer * pct) / 100n);
      const { health } = await contracts.engine.read.accountMargin([thin.id]);
      if (health === 0 || seen.has(String(health))) continue;
      seen.add(String(health));
      const result = await compareFill(rich, thin, call, -WAD, 2_000n * WAD);
      assert.equal(result.accepted, false);
    }
    await setSpot(spotAnswer);
  });

  it("a taker refused by the gate is reported before a maker that fails IM, as the chain reverts", async () => {
    const [wallet, other, third] = [wallets[0]!, wallets[1]!, wallets[2]!];
    const short = { wallet, id: accountId(wallet.account.address, 10n) };
    const rich = { wallet: other, id: accountId(other.account.address, 10n) };
    const bare = { wallet: third, id: accountId(third.account.address, 10n) };
    await deposit(wallet, {
      publicClient,
      addressBook,
      account: short.id,
      asset: addressBook.cash.address,
      amount: usdc("1500"),
    });
    await fundWith50k([rich]);
    await deposit(third, {
      publicClient,
      addressBook,
      account: bare.id,
      asset: addressBook.cash.address,
      amount: usdc("10"),
    });
    await setSpot(spotAnswer);
    const call = series[0]!;
    assert.ok((await compareFill(short, rich, call, -4n * WAD, 20n * WAD)).accepted, "the short side sells 4 calls");
    // Spot climbs until the short side is more than 1,000 USD below maintenance, so buying a
    // tenth of a call back (at most a few hundred USD of margin) leaves it liquidatable.
    const maintenanceExcess = async () => {
      const state = await contracts.engine.read.accountMargin([short.id]);
      return state.equityMM - BigInt(state.requirementMM);
    };
    let pct = 100n;
    while ((await maintenanceExcess()) >= -1_000n * WAD) {
      pct += 5n;
      assert.ok(pct <= 300n, "the short side falls below maintenance");
      await setSpot((spotAnswer * pct) / 100n);
    }
    // The bare account sells a tenth of a call for almost nothing (new risk it cannot margin) to
    // the short side, which buys it back and stays liquidatable. The chain runs both gates before
    // either IM check, so the taker's refusal comes before the maker's failed IM check.
    const result = await compareFill(bare, short, call, -WAD / 10n, WAD);
    assert.equal(result.maker?.error?.name, "EngineBelowInitialMargin");
    assert.equal(result.taker?.error?.name, "MarketStillLiquidatable");
    assert.deepEqual(result.error, result.taker?.error);
    await setSpot(spotAnswer);
  });

  it("during an outage, a long sold back to the short that owes nothing afterwards passes unpriced", async () => {
    const [wallet, other] = [wallets[2]!, wallets[3]!];
    const longSide = { wallet, id: accountId(wallet.account.address, 6n) };
    const shortSide = { wallet: other, id: accountId(other.account.address, 6n) };
    await fundWith50k([longSide, shortSide]);
    await setSpot(spotAnswer);
    const put = series[1]!;
    assert.ok((await compareFill(longSide, shortSide, put, WAD, 50n * WAD)).accepted);
    await setSpot(0n);
    const result = await compareFill(longSide, shortSide, put, -WAD, 10n * WAD);
    assert.ok(result.accepted, "both sides end with no liability");
    assert.equal(result.maker?.before?.priced, false);
    await setSpot(spotAnswer);
  });

  it("an ISOLATED account opening a second series is refused with its limit, as predicted", async () => {
    const [wallet, other] = [wallets[0]!, wallets[1]!];
    const isolated = { wallet, id: accountId(wallet.account.address, 7n) };
    const counterparty = { wallet: other, id: accountId(other.account.address, 7n) };
    await fundWith50k([isolated, counterparty]);
    await setMarginMode(wallet, { publicClient, addressBook, account: isolated.id, mode: MarginMode.ISOLATED });
    await setSpot(spotAnswer);
    assert.ok((await compareFill(isolated, counterparty, series[0]!, WAD, 50n * WAD)).accepted);
    const result = await compareFill(isolated, counterparty, series[1]!, WAD, 50n * WAD);
    assert.equal(result.error?.name, "MarketTooManyPositions");
    assert.deepEqual(result.error?.args, [isolated.id, 1n]);
  });

  it("a fill that would take a position past MAX_BALANCE is refused MarketBalanceTooLarge, as predicted", async () => {
    const [wallet, other] = [wallets[2]!, wallets[3]!];
    const big = { wallet, id: accountId(wallet.account.address, 8n) };
    const counterparty = { wallet: other, id: accountId(other.account.address, 8n) };
    await fundWith50k([big, counterparty]);
    await setSpot(spotAnswer);
    const most = (1n << 90n) - 1n;
    assert.equal(await contracts.market.read.MAX_BALANCE(), most);
    const id = packSeriesId(series[0]!);
    // From flat: the maker's side is checked first, before any margin.
    let result = await compareFill(big, counterparty, series[0]!, -(most + 1n), 0n);
    assert.equal(result.error?.name, "MarketBalanceTooLarge");
    assert.deepEqual(result.error?.args, [big.id, id, -(most + 1n)]);
    // Onto a held position: the bound is on the sum.
    assert.ok((await compareFill(big, counterparty, series[0]!, -WAD, 100n * WAD)).accepted);
    result = await compareFill(big, counterparty, series[0]!, -most, 0n);
    assert.equal(result.error?.name, "MarketBalanceTooLarge");
    assert.deepEqual(result.error?.args, [big.id, id, -most - WAD]);
  });

  it("saw acceptances and each kind of refusal", () => {
    console.log(`    outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    for (const name of [
      "accepted",
      "EngineBelowInitialMargin",
      "MarketRiskIncreased",
      "MarketPausedNewRisk",
      "OracleInvalidPrice",
    ]) {
      assert.ok((outcomes.get(name) ?? 0) > 0, `no ${name}`);
    }
  });
});
