import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import {
  type Abi,
  type Hex,
  concatHex,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  parseUnits,
  toBytes,
  toFunctionSelector,
} from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import {
  type CashMarket,
  type KinkParams,
  MAX_RATE_PER_SECOND,
  MathError,
  accountId,
  accrueCash,
  asAccountId,
  cashAmountOf,
  cashAt,
  cashMarketAt,
  cashMove,
  cashLiquidity,
  creditCash,
  debitCash,
  getBalances,
  getCashMarket,
  kinkBorrowRate,
  kinkBorrowRatePerYear,
  socializeLoss,
  taylorCompounded,
  toAmountDown,
  toAmountUp,
  toSharesDown,
  toSharesUp,
  totalCashCredit,
  totalCashDebt,
  utilization,
  withdrawableCash,
  LAST_SUPPLY_INDEX,
} from "../../packages/sdk/src/index.js";
import { type Random, random } from "./random.js";

/**
 * Issue 15: the SDK's cash index (`math/cashIndex.ts`) against the chain, to the wei, on seeded
 * random inputs: `CashIndex` through a harness (values and reverts), `KinkRateModel`'s rate, and
 * the deployed vault's balances predicted at future timestamps through deposits, withdrawals,
 * moves, a reserve and socialised losses.
 */
const WAD = 10n ** 18n;
const MAX = (1n << 256n) - 1n;
const MAX_INT = (1n << 255n) - 1n;
const MIN_INT = -(1n << 255n);
const MAX_128 = (1n << 128n) - 1n;
const PER_FUNCTION = 300;
const CHUNK = 300;

interface Case {
  fn: string;
  args: readonly unknown[];
  ts: () => unknown;
}

const uint = (rng: Random): bigint =>
  rng.float() < 0.15 ? rng.pick([0n, 1n, WAD, MAX / WAD, MAX - 1n, MAX]) : rng.bits(1 + rng.int(256));
const int = (rng: Random): bigint => {
  if (rng.float() < 0.1) return rng.pick([0n, 1n, -1n, MAX_INT, MIN_INT, MIN_INT + 1n, WAD, -WAD]);
  const x = rng.bits(1 + rng.int(255));
  return rng.float() < 0.5 ? -x : x;
};
/** An index as the vault can hold one (1e12..1e20), or any 128-bit value sometimes. */
const index = (rng: Random): bigint =>
  rng.float() < 0.1 ? rng.pick([0n, 1n, MAX_128]) : rng.logUniform(10n ** 12n, 10n ** 20n);
/** A realistic amount or share count, up to 1e30 units. */
const amount = (rng: Random): bigint => (rng.float() < 0.05 ? 0n : rng.logUniform(1n, 10n ** 30n));
const signedAmount = (rng: Random): bigint => (rng.float() < 0.5 ? -amount(rng) : amount(rng));

function market(rng: Random): CashMarket {
  const realistic = rng.float() < 0.85;
  return {
    supplyIndex: realistic ? rng.logUniform(10n ** 12n, 3n * WAD) : index(rng),
    debtIndex: realistic ? rng.logUniform(WAD, 3n * WAD) : index(rng),
    totalSupplyShares: rng.float() < 0.1 ? 0n : realistic ? amount(rng) : rng.bits(1 + rng.int(128)),
    totalDebtShares: rng.float() < 0.1 ? 0n : realistic ? amount(rng) : rng.bits(1 + rng.int(128)),
    rateModel: "0x00000000000000000000000000000000000000aa",
    lastAccrual: rng.range(0n, 2n ** 40n - 1n),
    lastRate: rng.bits(56),
  };
}

function makeCases(): Case[] {
  const rng = random(0xca54n);
  const cases: Case[] = [];
  const add = (fn: string, args: readonly unknown[], ts: () => unknown) => cases.push({ fn, args, ts });
  for (let i = 0; i < PER_FUNCTION; i++) {
    const wild = rng.float() < 0.25;
    const shares = wild ? int(rng) : signedAmount(rng);
    const x = wild ? uint(rng) : amount(rng);
    const [si, di] = [index(rng), index(rng)];
    add("toAmountDown", [x, si], () => toAmountDown(x, si));
    add("toAmountUp", [x, di], () => toAmountUp(x, di));
    add("toSharesDown", [x, si], () => toSharesDown(x, si));
    add("toSharesUp", [x, di], () => toSharesUp(x, di));
    add("amountOf", [shares, si, di], () => cashAmountOf(shares, si, di));
    add("credit", [shares, x, si, di], () => creditCash(shares, x, si, di));
    add("debit", [shares, x, si, di], () => debitCash(shares, x, si, di));
    const m = market(rng);
    add("totalSupply", [m], () => totalCashCredit(m));
    add("totalDebt", [m], () => totalCashDebt(m));
    add("liquidity", [m], () => cashLiquidity(m));
    const rate = rng.float() < 0.7 ? rng.range(0n, MAX_RATE_PER_SECOND) : rng.bits(56);
    const elapsed = rng.float() < 0.7 ? rng.range(0n, 400n * 86_400n) : rng.bits(40);
    add("taylorCompounded", [rate, elapsed], () => taylorCompounded(rate, elapsed));
    const stamp = rng.float() < 0.95 ? m.lastAccrual + elapsed : rng.bits(40);
    const reserve = rng.float() < 0.9 ? rng.range(0n, WAD / 2n) : uint(rng);
    add("accrue", [m, rate, stamp, reserve], () => {
      const r = accrueCash(m, rate, stamp, reserve);
      return [r.market, r.interest, r.reserveShares];
    });
    const loss = rng.float() < 0.7 ? rng.logUniform(1n, totalCashCredit(m) + 2n) : uint(rng);
    add("socialize", [m, loss], () => {
      const r = socializeLoss(m, loss);
      return [r.market, r.written];
    });
    const floor = rng.float() < 0.5 ? LAST_SUPPLY_INDEX : rng.range(0n, m.supplyIndex + 2n);
    add("socializeTo", [m, loss, floor], () => {
      const r = socializeLoss(m, loss, floor);
      return [r.market, r.written];
    });
  }
  return cases;
}

const revertData = (e: MathError): Hex =>
  concatHex([
    toFunctionSelector(e.signature),
    encodeAbiParameters(
      e.args.map(() => ({ type: "uint256" })),
      e.args,
    ),
  ]);

/** Numbers (viem decodes uint40 as one) as bigints, so a decoded struct compares with the SDK's. */
const normal = (value: unknown): unknown => {
  if (typeof value === "number") return BigInt(value);
  if (Array.isArray(value)) return value.map(normal);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normal(v)]));
  }
  return typeof value === "string" ? value.toLowerCase() : value;
};
const same = (a: unknown, b: unknown): boolean => {
  try {
    assert.deepEqual(normal(a), normal(b));
    return true;
  } catch {
    return false;
  }
};

describe("SDK cash index parity (TypeScript === chain, to the wei)", async () => {
  const connection = await network.create();
  const harness = await connection.viem.deployContract("CashIndexHarness");
  const abi: Abi = harness.abi;
  const cases = makeCases();
  const results: { ok: boolean; data: Hex }[] = [];

  before(async () => {
    const calls = cases.map((c) => encodeFunctionData({ abi, functionName: c.fn, args: c.args }));
    for (let i = 0; i < calls.length; i += CHUNK) {
      results.push(...(await harness.read.batch([calls.slice(i, i + CHUNK)])));
    }
  });

  for (const fn of [...new Set(cases.map((c) => c.fn))]) {
    it(`CashIndex.${fn}: same value, or the same revert`, () => {
      const mismatches: string[] = [];
      let reverts = 0;
      cases.forEach((c, i) => {
        if (c.fn !== fn) return;
        const chain = results[i]!;
        const label = `${fn}(${JSON.stringify(c.args, (_, v: unknown) => (typeof v === "bigint" ? `${v}` : v))})`;
        let ts: { ok: true; value: unknown } | { ok: false; error: unknown };
        try {
          ts = { ok: true, value: c.ts() };
        } catch (error) {
          ts = { ok: false, error };
        }
        if (chain.ok) {
          const value: unknown = decodeFunctionResult({ abi, functionName: fn, data: chain.data });
          if (!ts.ok) mismatches.push(`${label}: chain ${String(value)}, ts threw ${String(ts.error)}`);
          else if (!same(ts.value, value)) mismatches.push(`${label}: chain ${String(value)}, ts ${String(ts.value)}`);
        } else {
          reverts++;
          if (ts.ok) mismatches.push(`${label}: chain reverted ${chain.data}, ts ${String(ts.value)}`);
          else if (!(ts.error instanceof MathError)) mismatches.push(`${label}: ts threw ${String(ts.error)}`);
          else if (revertData(ts.error) !== chain.data)
            mismatches.push(`${label}: chain reverted ${chain.data}, ts threw ${ts.error.signature}`);
        }
      });
      console.log(`    ${fn}: ${cases.filter((c) => c.fn === fn).length} cases, ${reverts} reverts`);
      assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    });
  }

  it("KinkRateModel: the same rate for random parameters and totals", async () => {
    const rng = random(0x6b1n);
    for (let i = 0; i < 12; i++) {
      const base = rng.range(0n, 5n * WAD);
      const slope1 = rng.range(0n, 5n * WAD - base);
      const params: KinkParams = {
        baseRateWad: base,
        slope1Wad: slope1,
        slope2Wad: rng.range(0n, 5n * WAD - base - slope1),
        kinkWad: rng.range(5n * 10n ** 16n, 99n * 10n ** 16n),
      };
      // Parameters are fixed at construction: one model per parameter set.
      const model = await connection.viem.deployContract("KinkRateModel", [params]);
      for (let j = 0; j < 25; j++) {
        const supply = rng.float() < 0.1 ? 0n : amount(rng);
        const debt = rng.float() < 0.3 ? rng.range(0n, supply) : amount(rng);
        assert.equal(await model.read.utilization([supply, debt]), utilization(supply, debt));
        assert.equal(await model.read.borrowRatePerYear([supply, debt]), kinkBorrowRatePerYear(params, supply, debt));
        assert.equal(await model.read.borrowRate([supply, debt]), kinkBorrowRate(params, supply, debt));
      }
    }
  });

  it("the vault's balances at a future timestamp, predicted before it comes", async () => {
    const world = await network.create();
    const { contracts, book: addressBook } = await deployPledge(world, { writeBook: false });
    const { vault, usdc, insurance } = contracts;
    const publicClient = await world.viem.getPublicClient();
    const testClient = await world.viem.getTestClient();
    const [admin] = await world.viem.getWalletClients();
    const model = await world.viem.deployContract("KinkRateModel", [
      { baseRateWad: 5n * 10n ** 16n, slope1Wad: 30n * 10n ** 16n, slope2Wad: 3n * WAD, kinkWad: 8n * 10n ** 17n },
    ]);
    await vault.write.setRateModel([model.address]);
    await vault.write.grantRole([keccak256(toBytes("pledge.role.module")), admin!.account.address]);
    await vault.write.grantRole([keccak256(toBytes("pledge.role.riskManager")), admin!.account.address]);
    await vault.write.setReserveShare([WAD / 10n]);
    await usdc.write.approve([vault.address, MAX]);
    const fund = asAccountId(await insurance.read.account());
    const accounts = [1n, 2n, 3n, 4n].map((sub) => accountId(admin!.account.address, sub));
    const everyone = [...accounts, fund];
    const rng = random(0xf17e5n);
    let losses = 0;
    let steps = 0;
    for (let step = 0; step < 60; step++) {
      // An action at the next block...
      const which = rng.int(5);
      const a = accounts[rng.int(accounts.length)]!;
      const b = accounts[rng.int(accounts.length)]!;
      const size = parseUnits(String(1 + rng.int(50_000)), 6);
      if (which === 0 || step < 4) {
        await usdc.write.mint([admin!.account.address, size]);
        await vault.write.deposit([a, usdc.address, size]);
      } else if (which === 1 && a !== b) {
        await vault.write.moveCash([a, b, size]);
      } else if (which === 2) {
        const cash = await vault.read.cashOf([a]);
        if (cash > 0n) await vault.write.withdraw([a, usdc.address, cash / 2n + 1n, admin!.account.address]);
      } else if (which === 3) {
        // The fund pays beyond its balance: a loss shared by every creditor.
        const held = await vault.read.cashOf([fund]);
        await vault.write.moveCash([fund, a, (held > 0n ? held : 0n) + size / 10n]);
        losses++;
      } else {
        await vault.write.accrueInterest();
      }
      // ...then, from what the SDK reads now, every balance some time ahead.
      const state = await getCashMarket(publicClient, { addressBook });
      const shares = await Promise.all(
        everyone.map(async (account) => (await getBalances(publicClient, { addressBook, account })).cashShares),
      );
      const later = state.timestamp + 1n + rng.range(0n, 30n * 86_400n);
      const predicted = everyone.map((account, i) => cashAt(state, shares[i]!, later, account === fund));
      const predictedMarket = cashMarketAt(state, later).market;
      await testClient.setNextBlockTimestamp({ timestamp: later });
      await testClient.mine({ blocks: 1 });
      const blockNumber = await publicClient.getBlockNumber();
      const actual = await Promise.all(everyone.map((account) => vault.read.cashOf([account], { blockNumber })));
      assert.deepEqual(actual, predicted, `step ${step}: balances at ${later}`);
      assert.equal(await vault.read.totalCashCredit({ blockNumber }), totalCashCredit(predictedMarket));
      assert.equal(await vault.read.totalCashDebt({ blockNumber }), totalCashDebt(predictedMarket));
      const read = await getCashMarket(publicClient, { addressBook, blockNumber });
      assert.equal(read.totalCredit, totalCashCredit(predictedMarket));
      assert.ok(read.borrowAprWad > 0n, "a kink model with a base rate charges something");
      steps++;
    }
    assert.ok(losses > 3 && steps === 60);
    const final = await getCashMarket(publicClient, { addressBook });
    assert.ok(final.market.supplyIndex < WAD, "losses lowered the supply index");
    assert.ok(final.market.debtIndex > WAD, "interest raised the debt index");
    assert.equal(final.kink?.kinkWad, 8n * 10n ** 17n);
  });
  it("a cash move predicted to the wei: interest, the settlement account, a loss beyond every claim", async () => {
    const world = await network.create();
    const { contracts, book: addressBook } = await deployPledge(world, { writeBook: false });
    const { vault, usdc, insurance } = contracts;
    const publicClient = await world.viem.getPublicClient();
    const testClient = await world.viem.getTestClient();
    const [admin] = await world.viem.getWalletClients();
    const kink = {
      baseRateWad: 5n * 10n ** 16n,
      slope1Wad: 30n * 10n ** 16n,
      slope2Wad: 3n * WAD,
      kinkWad: 8n * 10n ** 17n,
    };
    const model = await world.viem.deployContract("KinkRateModel", [kink]);
    await vault.write.setRateModel([model.address]);
    await vault.write.grantRole([keccak256(toBytes("pledge.role.module")), admin!.account.address]);
    await vault.write.grantRole([keccak256(toBytes("pledge.role.riskManager")), admin!.account.address]);
    await vault.write.setReserveShare([WAD / 10n]);
    await usdc.write.approve([vault.address, MAX]);
    const fund = asAccountId(await insurance.read.account());
    const settlement = asAccountId(await vault.read.settlementAccount());
    const accounts = [1n, 2n, 3n].map((sub) => accountId(admin!.account.address, sub));
    const everyone = [...accounts, fund, settlement];
    for (const a of accounts) {
      await usdc.write.mint([admin!.account.address, parseUnits("20000", 6)]);
      await vault.write.deposit([a, usdc.address, parseUnits("20000", 6)]);
    }
    const rng = random(0x5e771en);
    let written = 0n;
    let unabsorbed = 0n;
    for (let step = 0; step < 40; step++) {
      const state = await getCashMarket(publicClient, { addressBook });
      const balances = await Promise.all(
        everyone.map(async (account) => (await getBalances(publicClient, { addressBook, account })).cashShares),
      );
      const books = { ...state, shares: new Map(everyone.map((account, i) => [account, balances[i]!])), kink };
      // A move: between traders, through the settlement account, or the fund paying beyond what
      // it holds (late in the run, beyond every claim, so the second write-off and the loss held
      // apart happen too).
      const which = rng.int(4);
      const pick = () => accounts[rng.int(accounts.length)]!;
      let [from, to] = [pick(), pick()];
      let amount = parseUnits(String(1 + rng.int(30_000)), 6);
      if (which === 1) [from, to] = rng.float() < 0.5 ? [settlement, to] : [from, settlement];
      if (which === 2) {
        from = fund;
        amount = (state.totalCredit * BigInt(step < 20 ? 1 + rng.int(30) : 90 + rng.int(400))) / 100n + 1n;
      }
      if (from === to) to = accounts[(accounts.indexOf(from) + 1) % accounts.length]!;
      const at = state.timestamp + 1n + rng.range(0n, 20n * 86_400n);
      const predicted = cashMove(books, from, to, amount, at);
      await testClient.setNextBlockTimestamp({ timestamp: at });
      await vault.write.moveCash([from, to, amount]);
      const blockNumber = await publicClient.getBlockNumber();
      const after = await getCashMarket(publicClient, { addressBook, blockNumber });
      assert.deepEqual(normal(after.market), normal(predicted.books.market), `step ${step}: the market`);
      assert.equal(after.borrowRate, predicted.books.borrowRate, `step ${step}: the next rate`);
      assert.equal(after.lossSocialized, predicted.books.lossSocialized, `step ${step}: losses written off`);
      assert.equal(after.unabsorbedLoss, predicted.books.unabsorbedLoss, `step ${step}: loss held apart`);
      assert.equal(after.settlementCash, predicted.books.settlementCash, `step ${step}: settlement cash`);
      assert.equal(after.liquidity, withdrawableCash(predicted.books, at), `step ${step}: liquidity`);
      for (const account of everyone) {
        const shares = predicted.books.shares.get(account) ?? 0n;
        const expected =
          account === settlement
            ? predicted.books.settlementCash
            : cashAt(predicted.books, shares, at, account === fund);
        assert.equal(await vault.read.cashOf([account], { blockNumber }), expected, `step ${step}: cash of ${account}`);
      }
      written += predicted.written;
      unabsorbed += predicted.unabsorbed;
    }
    assert.ok(written > 0n, "losses were written off against the creditors");
    assert.ok(unabsorbed > 0n, "a loss beyond every claim was held apart");
    const final = await getCashMarket(publicClient, { addressBook });
    assert.equal(final.badDebt, final.lossSocialized + final.unabsorbedLoss);
    // A loss held apart closes cash deposits to new claims (review rv15b A): the SDK says so, and
    // the vault refuses a top-up that would create one.
    assert.equal(final.cashDepositsOpen, false);
    const newcomer = accountId(admin!.account.address, 99n);
    await usdc.write.mint([admin!.account.address, 1_000_000n]);
    await assert.rejects(vault.write.deposit([newcomer, usdc.address, 1_000_000n]), /VaultLossHeldApart/);
  });
});
