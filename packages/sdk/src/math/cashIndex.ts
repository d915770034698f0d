/**
 * Line-for-line port of `contracts/libraries/CashIndex.sol` (cash on an index: shares ↔ amounts
 * in both rounding directions, accrual, losses written off), of `KinkRateModel`'s rate, and of
 * the vault's view accrual, so a client predicts every cash balance, to the wei, at any future
 * timestamp. Same names and rounding as the Solidity; reverts become `MathError`s (Solady's
 * `MulWadFailed()` and friends, `Panic(0x11)` for checked arithmetic, `Panic(0x12)` for a
 * division by zero). `docs/cash.md` explains the model.
 */
import { type Address, zeroAddress } from "viem";

import type { AccountId } from "../accounts.js";

import { MAX_INT256, MAX_UINT256, MIN_INT256, signed } from "./evm.js";
import { FullMulDivFailedError, MathError, MathOverflowError, assertType } from "./errors.js";
import { divWad, divWadUp, fullMulDiv, mulDivUp, mulWad, mulWadUp } from "./fixedPoint.js";

const WAD = 10n ** 18n;
/** Seconds in the 365-day year every yearly rate uses. */
export const SECONDS_PER_YEAR = 31_536_000n;
/** The largest index and share total, as `CashIndex.MAX_INDEX` (the vault packs each in 104 bits). */
export const MAX_INDEX = (1n << 104n) - 1n;
/** The lowest supply index a loss may leave, as `CashIndex.MIN_SUPPLY_INDEX`. */
export const MIN_SUPPLY_INDEX = 10n ** 12n;
/**
 * The floor of the second write-off (`CashIndex.LAST_SUPPLY_INDEX`): a loss larger than every claim
 * before the fund's payment is written off again, the payee's claim included, down to this index.
 */
export const LAST_SUPPLY_INDEX = 10n ** 6n;
/** The highest rate per second the vault charges (500 % a year), as `CollateralVault.MAX_RATE_PER_SECOND`. */
export const MAX_RATE_PER_SECOND = (5n * WAD) / SECONDS_PER_YEAR;

/** The cash index state, as `ICollateralVault.CashMarket` (the vault's `cashMarket()`). */
export interface CashMarket {
  /** Cash units per 1e18 supply shares. */
  supplyIndex: bigint;
  /** Cash units per 1e18 debt shares. */
  debtIndex: bigint;
  /** Σ positive shares. */
  totalSupplyShares: bigint;
  /** Σ negative shares, as a positive number. */
  totalDebtShares: bigint;
  /** The rate model; the zero address is the built-in zero rate. */
  rateModel: Address;
  /** When interest last accrued, unix seconds. */
  lastAccrual: bigint;
  /** The rate that accrual used, per second, WAD. */
  lastRate: bigint;
}

/** `KinkRateModel.Params`: yearly rates and the kink's utilisation, all WAD. */
export interface KinkParams {
  baseRateWad: bigint;
  slope1Wad: bigint;
  slope2Wad: bigint;
  kinkWad: bigint;
}

/** What the vault's view accrual needs besides the stored market, as `getCashMarket` reads it. */
export interface CashState {
  market: CashMarket;
  /** The rate the next accrual charges, per second (the vault's `borrowRate()`). */
  borrowRate: bigint;
  /** The reserve share in force: the vault's, or 0 while the insurance account owes. */
  reserveShareWad: bigint;
}

const checkedUint = (x: bigint): bigint => {
  if (x < 0n || x > MAX_UINT256) throw new MathOverflowError();
  return x;
};
const checkedInt = (x: bigint): bigint => {
  if (x < MIN_INT256 || x > MAX_INT256) throw new MathOverflowError();
  return x;
};
const divChecked = (x: bigint, d: bigint): bigint => {
  if (d === 0n) throw new MathError("Panic(uint256)", [0x12n], "Panic(0x12): division by zero");
  return x / d;
};
/** OpenZeppelin `Math.mulDiv` rounded down: exact, `Panic` when the result does not fit or `d` is 0. */
const mulDivDown = (x: bigint, y: bigint, d: bigint): bigint => checkedUint(divChecked(x * y, d));
/** Solady `fullMulDivUp`. */
function fullMulDivUp(x: bigint, y: bigint, d: bigint): bigint {
  let z = fullMulDiv(x, y, d);
  if ((x * y) % d !== 0n) {
    z = (z + 1n) & MAX_UINT256;
    if (z === 0n) throw new FullMulDivFailedError();
  }
  return z;
}

// ---------------------------------------------------------------- conversions

/**
 * The cash units `shares` are worth at `index`, rounded down (what a creditor holds).
 *
 * @example
 * toAmountDown(3n, 1_500_000_000_000_000_000n) === 4n;
 */
export function toAmountDown(shares: bigint, index: bigint): bigint {
  return mulWad(shares, index);
}

/**
 * The cash units `shares` are worth at `index`, rounded up (what a debtor owes).
 *
 * @example
 * toAmountUp(3n, 1_500_000_000_000_000_000n) === 5n;
 */
export function toAmountUp(shares: bigint, index: bigint): bigint {
  return mulWadUp(shares, index);
}

/**
 * The shares `amount` cash units buy at `index`, rounded down.
 *
 * @example
 * toSharesDown(4n, 1_500_000_000_000_000_000n) === 2n;
 */
export function toSharesDown(amount: bigint, index: bigint): bigint {
  return divWad(amount, index);
}

/**
 * The shares `amount` cash units cost at `index`, rounded up.
 *
 * @example
 * toSharesUp(4n, 1_500_000_000_000_000_000n) === 3n;
 */
export function toSharesUp(amount: bigint, index: bigint): bigint {
  return divWadUp(amount, index);
}

/**
 * The signed cash amount of signed `shares`: supply rounds down, debt up.
 *
 * @example
 * cashAmountOf(-3n, WAD, 1_500_000_000_000_000_000n) === -5n;
 */
export function amountOf(shares: bigint, supplyIndex: bigint, debtIndex: bigint): bigint {
  assertType(shares, "int", 256, "shares");
  if (shares >= 0n) return signed(toAmountDown(shares, supplyIndex));
  return checkedInt(-signed(toAmountUp(checkedInt(-shares), debtIndex)));
}

/**
 * The shares after `amount` cash units are paid into an account holding `shares`: a debt is
 * repaid first, what is left buys supply shares (each rounded down).
 *
 * @example
 * creditCash(-7n, 10n, 1_100_000_000_000_000_000n, 1_300_000_000_000_000_000n) === 0n; // exactly the debt
 */
export function credit(shares: bigint, amount: bigint, supplyIndex: bigint, debtIndex: bigint): bigint {
  assertType(shares, "int", 256, "shares");
  assertType(amount, "uint", 256, "amount");
  if (shares >= 0n) return checkedInt(shares + signed(toSharesDown(amount, supplyIndex)));
  const debtShares = checkedInt(-shares);
  const debt = toAmountUp(debtShares, debtIndex);
  if (amount < debt) return checkedInt(-signed(checkedUint(debtShares - toSharesDown(amount, debtIndex))));
  return signed(toSharesDown(amount - debt, supplyIndex));
}

/**
 * The shares after `amount` cash units are paid out of an account holding `shares`: supply
 * shares are burnt first, what they do not cover becomes debt shares (each rounded up).
 *
 * @example
 * debitCash(5n, 7n, WAD, WAD) === -2n;
 */
export function debit(shares: bigint, amount: bigint, supplyIndex: bigint, debtIndex: bigint): bigint {
  assertType(shares, "int", 256, "shares");
  assertType(amount, "uint", 256, "amount");
  if (shares <= 0n) return checkedInt(shares - signed(toSharesUp(amount, debtIndex)));
  const held = toAmountDown(shares, supplyIndex);
  if (amount <= held) return signed(checkedUint(shares - toSharesUp(amount, supplyIndex)));
  return checkedInt(-signed(toSharesUp(amount - held, debtIndex)));
}

/**
 * Σ positive cash, cash units, rounded down.
 *
 * @example
 * totalCashCredit({ supplyIndex: WAD, debtIndex: WAD, totalSupplyShares: 1_000n, totalDebtShares: 0n, rateModel: "0x0000000000000000000000000000000000000000", lastAccrual: 0n, lastRate: 0n }) === 1_000n;
 */
export function totalSupply(m: CashMarket): bigint {
  return toAmountDown(m.totalSupplyShares, m.supplyIndex);
}

/**
 * Σ negative cash as a positive number, cash units, rounded up.
 *
 * @example
 * totalCashDebt({ supplyIndex: WAD, debtIndex: 2n * WAD, totalSupplyShares: 0n, totalDebtShares: 3n, rateModel: "0x0000000000000000000000000000000000000000", lastAccrual: 0n, lastRate: 0n }) === 6n;
 */
export function totalDebt(m: CashMarket): bigint {
  return toAmountUp(m.totalDebtShares, m.debtIndex);
}

/**
 * The cash creditors may withdraw now, Σ supply − Σ debt, never below zero.
 *
 * @example
 * cashLiquidity({ supplyIndex: WAD, debtIndex: WAD, totalSupplyShares: 1_000n, totalDebtShares: 600n, rateModel: "0x0000000000000000000000000000000000000000", lastAccrual: 0n, lastRate: 0n }) === 400n;
 */
export function liquidity(m: CashMarket): bigint {
  const supply = totalSupply(m);
  const debt = totalDebt(m);
  return supply > debt ? supply - debt : 0n;
}

// ---------------------------------------------------------------- interest

/**
 * `e^(rate × elapsed) − 1` by its first three Taylor terms, WAD, each term rounded down.
 *
 * @example
 * taylorCompounded(WAD, 1n) === WAD + WAD / 2n + 166_666_666_666_666_666n;
 */
export function taylorCompounded(ratePerSecondWad: bigint, elapsed: bigint): bigint {
  assertType(ratePerSecondWad, "uint", 256, "ratePerSecondWad");
  assertType(elapsed, "uint", 256, "elapsed");
  const first = checkedUint(ratePerSecondWad * elapsed);
  const second = checkedUint(first * first) / (2n * WAD);
  const third = checkedUint(second * first) / (3n * WAD);
  return checkedUint(first + second + third);
}

/**
 * `m` accrued to `timestamp` at `ratePerSecondWad`, as `CashIndex.accrue`: the debt index grows
 * by the compounded rate (rounded up), the supply index by what the debt earned less
 * `reserveShareWad` of it (rounded down), the reserve buys supply shares for the insurance fund.
 *
 * @example
 * const m = { supplyIndex: WAD, debtIndex: WAD, totalSupplyShares: 1_000_000_000n, totalDebtShares: 500_000_000n, rateModel: "0x0000000000000000000000000000000000000000", lastAccrual: 0n, lastRate: 0n };
 * const { market, interest } = accrueCash(m, 3_170_979_198n, 31_536_000n, 0n); // a year at 10 %
 * interest; // 52_583_333n: 500 USDC owed a year at 10 %, compounded
 * market.debtIndex > m.debtIndex; // true
 */
export function accrue(
  m: CashMarket,
  ratePerSecondWad: bigint,
  timestamp: bigint,
  reserveShareWad: bigint,
): { market: CashMarket; interest: bigint; reserveShares: bigint } {
  assertType(ratePerSecondWad, "uint", 256, "ratePerSecondWad");
  assertType(timestamp, "uint", 256, "timestamp");
  assertType(reserveShareWad, "uint", 256, "reserveShareWad");
  const elapsed = checkedUint(timestamp - m.lastAccrual);
  let market: CashMarket = {
    ...m,
    lastAccrual: BigInt.asUintN(40, timestamp),
    lastRate: BigInt.asUintN(56, ratePerSecondWad),
  };
  const none = { market, interest: 0n, reserveShares: 0n };
  const supplyShares = m.totalSupplyShares;
  const debtShares = m.totalDebtShares;
  if (ratePerSecondWad === 0n || elapsed === 0n || supplyShares === 0n || debtShares === 0n) return none;

  const debtIndex = m.debtIndex;
  const newDebtIndex = checkedUint(
    debtIndex + fullMulDivUp(debtIndex, taylorCompounded(ratePerSecondWad, elapsed), WAD),
  );
  if (newDebtIndex > MAX_INDEX) return none;
  const interestWad = checkedUint(debtShares * (newDebtIndex - debtIndex));
  const supplierWad = fullMulDiv(interestWad, checkedUint(WAD - reserveShareWad), WAD);
  const supplyGain = supplierWad / supplyShares;
  if (supplyGain > checkedUint(MAX_INDEX - m.supplyIndex)) return none;
  const newSupplyIndex = m.supplyIndex + supplyGain;
  const reserveShares = divChecked(interestWad - supplierWad, newSupplyIndex);
  if (supplyShares + reserveShares > MAX_INDEX) return none;
  market = {
    ...market,
    debtIndex: newDebtIndex,
    supplyIndex: newSupplyIndex,
    totalSupplyShares: supplyShares + reserveShares,
  };
  return { market, interest: interestWad / WAD, reserveShares };
}

/**
 * `m` after `loss` cash units are written off against every creditor, as `CashIndex.socialize`
 * (or `CashIndex.socializeTo` with a `floor`): the supply index falls by
 * `ceil(loss × 1e18 / totalSupplyShares)`, never below `floor` (`MIN_SUPPLY_INDEX` by default);
 * `written` is what was written off (`loss`, or less at the floor).
 *
 * @example
 * const m = { supplyIndex: WAD, debtIndex: WAD, totalSupplyShares: 1_000_000_000n, totalDebtShares: 0n, rateModel: "0x0000000000000000000000000000000000000000", lastAccrual: 0n, lastRate: 0n };
 * const { market, written } = socializeLoss(m, 100_000_000n); // 100 of 1,000 USDC lost
 * written === 100_000_000n && market.supplyIndex === 900_000_000_000_000_000n; // every claim −10 %
 */
export function socialize(
  m: CashMarket,
  loss: bigint,
  floor: bigint = MIN_SUPPLY_INDEX,
): { market: CashMarket; written: bigint } {
  assertType(loss, "uint", 256, "loss");
  assertType(floor, "uint", 256, "floor");
  const supplyShares = m.totalSupplyShares;
  const index = m.supplyIndex;
  if (loss === 0n || supplyShares === 0n || index <= floor) return { market: m, written: 0n };
  const room = index - floor;
  const most = mulWad(room, supplyShares);
  if (most === 0n) return { market: m, written: 0n };
  let cut = room;
  let written = most;
  if (loss <= most) {
    cut = mulDivUp(loss, WAD, supplyShares);
    written = loss;
  }
  return { market: { ...m, supplyIndex: BigInt.asUintN(128, checkedUint(index - cut)) }, written };
}

// ---------------------------------------------------------------- the vault's view accrual

/**
 * The market the vault's views see at `timestamp` (a future one for a what-if): `state.market`
 * accrued at `state.borrowRate`, as `CollateralVault._accrued`, with the reserve shares the
 * insurance account would receive. Exact as long as nothing touches cash in between.
 *
 * @example
 * const state = await getCashMarket(publicClient, { addressBook });
 * const { market } = cashMarketAt(state, state.timestamp + 86_400n); // tomorrow
 * market.debtIndex >= state.market.debtIndex; // true
 */
export function cashMarketAt(state: CashState, timestamp: bigint): { market: CashMarket; reserveShares: bigint } {
  const m = state.market;
  if (m.rateModel.toLowerCase() === zeroAddress || m.lastAccrual === timestamp) return { market: m, reserveShares: 0n };
  const { market, reserveShares } = accrue(m, state.borrowRate, timestamp, state.reserveShareWad);
  return { market, reserveShares };
}

/**
 * The cash balance (`cashOf`) of an account holding `shares` (`cashSharesOf`) at `timestamp`, a
 * future one for a what-if: exactly what the vault will report then if nothing touches cash
 * before. `insurance` adds the reserve shares the insurance account would receive.
 *
 * @example
 * const state = await getCashMarket(publicClient, { addressBook });
 * const { cashShares } = await getBalances(publicClient, { addressBook, account });
 * const inAWeek = cashAt(state, cashShares, state.timestamp + 7n * 86_400n);
 * // What-if: the margin engine's inputs with that balance.
 * const inputs = await getMarginInputs(publicClient, { addressBook, account });
 * new Account({ ...inputs, cash: inAWeek }).margin().health; // Health.HEALTHY
 */
export function cashAt(state: CashState, shares: bigint, timestamp: bigint, insurance = false): bigint {
  const { market, reserveShares } = cashMarketAt(state, timestamp);
  const held = insurance && reserveShares !== 0n ? shares + reserveShares : shares;
  return amountOf(held, market.supplyIndex, market.debtIndex);
}

// ---------------------------------------------------------------- the vault's books

/** The most one cash move carries, as `CollateralVault.MAX_AMOUNT` (`type(int128).max`). */
export const MAX_CASH_AMOUNT = (1n << 127n) - 1n;

/**
 * The vault's cash books beyond the index, as far as a move between accounts touches them: what
 * `cashMove` needs to predict a `moveCash` (a settlement, a bid, a fee, the insurance fund paying
 * a bidder) to the wei, including a loss written off against every creditor.
 */
export interface CashBooks extends CashState {
  /** Stored shares (`cashSharesOf`) of the accounts the move touches; a missing account holds 0. */
  shares: ReadonlyMap<AccountId, bigint>;
  /** The insurance fund's account: a payment beyond its balance is written off at once. */
  insuranceAccount: AccountId;
  /** The settlement account: raw cash outside the index (no interest, no loss). */
  settlementAccount: AccountId;
  /** The settlement account's raw signed cash (`cashOf(settlementAccount)`). */
  settlementCash: bigint;
  /** The loss no claim could absorb (`unabsorbedLoss()`), held apart from the index. */
  unabsorbedLoss: bigint;
  /** Losses written off against the creditors so far (`lossSocialized()`). */
  lossSocialized: bigint;
  /** A kink model's parameters, to re-price the next accrual after the move; without them the rate stays `borrowRate`. */
  kink?: KinkParams | undefined;
}

/** What a `cashMove` did besides moving `amount`. */
export interface CashMoveResult {
  /** The books after the move (a new object; the input is left alone). */
  books: CashBooks;
  /** The cash units written off against every creditor (`LossSocialized` events, summed). */
  written: bigint;
  /** The cash units held apart as unabsorbed loss (`LossUnabsorbed`), 0 unless every claim was exhausted. */
  unabsorbed: bigint;
  /** Interest the accrual before the move charged the debtors, cash units (`InterestAccrued`). */
  interest: bigint;
}

/** OpenZeppelin `SafeCast.toUint<bits>`: `x`, or its `SafeCastOverflowedUintDowncast` revert. */
const toUint = (bits: bigint, x: bigint): bigint => {
  if (x >= 1n << bits) {
    throw new MathError(
      "SafeCastOverflowedUintDowncast(uint8,uint256)",
      [bits, x],
      `SafeCast: ${x} does not fit ${bits} bits`,
    );
  }
  return x;
};

/** `CollateralVault._setShares`: the totals in step with one account's new shares. */
function setShares(m: CashMarket, oldShares: bigint, newShares: bigint): CashMarket {
  let supply = m.totalSupplyShares;
  let debt = m.totalDebtShares;
  if (oldShares > 0n) supply = checkedUint(supply - oldShares);
  else if (oldShares < 0n) debt = checkedUint(debt + oldShares);
  if (newShares > 0n) supply += newShares;
  else if (newShares < 0n) debt -= newShares;
  return { ...m, totalSupplyShares: toUint(104n, supply), totalDebtShares: toUint(104n, debt) };
}

/**
 * `books` after the vault's `moveCash(from, to, amount)` in a block at `timestamp`, exactly as the
 * vault does it: interest accrued first (the reserve's shares to the insurance account), the
 * settlement account moved raw, and a payment the insurance fund cannot cover written off against
 * every creditor before the payee is credited; a loss larger than every claim is written off
 * again, the payee's claim included, down to `LAST_SUPPLY_INDEX`, and what is left after that is
 * held apart as unabsorbed loss (`docs/cash.md`, "Losses"). The same refusals as the vault
 * (`VaultZeroAmount`, `VaultSelfTransfer`, `VaultAmountTooLarge`) are thrown as `MathError`s.
 *
 * @example
 * const cash = await getCashMarket(publicClient, { addressBook });
 * const { cashShares } = await getBalances(publicClient, { addressBook, account: bidderAccount });
 * const shares = new Map([[cash.insuranceAccount, cash.insuranceShares], [bidderAccount, cashShares]]);
 * // The fund pays a bidder 5,000 USDC more than it holds: how much does every creditor lose?
 * const paid = cashAt(cash, cash.insuranceShares, cash.timestamp + 12n, true) + 5_000_000_000n;
 * const { written } = cashMove({ ...cash, shares }, cash.insuranceAccount, bidderAccount, paid, cash.timestamp + 12n);
 * written; // what the creditors' claims lose in all, pro rata (5,000 USDC while claims last)
 */
export function cashMove(
  books: CashBooks,
  from: AccountId,
  to: AccountId,
  amount: bigint,
  timestamp: bigint,
): CashMoveResult {
  assertType(amount, "uint", 256, "amount");
  if (amount === 0n) throw new MathError("VaultZeroAmount()", [], "A cash move of zero is refused (VaultZeroAmount).");
  if (from === to) {
    throw new MathError(
      "VaultSelfTransfer(bytes32)",
      [from],
      "A cash move to the same account is refused (VaultSelfTransfer).",
    );
  }
  if (amount > MAX_CASH_AMOUNT) {
    throw new MathError(
      "VaultAmountTooLarge(uint256)",
      [amount],
      `A cash move of ${amount} is above the vault's MAX_AMOUNT.`,
    );
  }
  const shares = new Map(books.shares);
  const held = (account: AccountId): bigint => shares.get(account) ?? 0n;
  const insurance = books.insuranceAccount;
  const settlement = books.settlementAccount;
  const int128 = (x: bigint): bigint => {
    if (x > MAX_CASH_AMOUNT || x < -MAX_CASH_AMOUNT - 1n) throw new MathOverflowError();
    return x;
  };

  // `_accrue`: at most once per block, only with a rate model; the reserve buys the fund shares.
  let m = books.market;
  let interest = 0n;
  if (m.rateModel.toLowerCase() !== zeroAddress && m.lastAccrual !== timestamp) {
    const accrued = accrue(m, books.borrowRate, timestamp, books.reserveShareWad);
    m = accrued.market;
    interest = accrued.interest;
    if (accrued.reserveShares !== 0n) shares.set(insurance, held(insurance) + accrued.reserveShares);
  }

  let settlementCash = books.settlementCash;
  let lossSocialized = books.lossSocialized;
  let unabsorbedLoss = books.unabsorbedLoss;
  let written = 0n;
  let rest = 0n;
  if (from === settlement) {
    settlementCash = int128(settlementCash - amount);
  } else {
    const fromShares = held(from);
    const newFrom = debit(fromShares, amount, m.supplyIndex, m.debtIndex);
    m = setShares(m, fromShares, newFrom);
    shares.set(from, newFrom);
    if (newFrom < 0n && from === insurance) {
      // `_socialize`: the fund's debt written off before the payee is credited, its shares cleared.
      const loss = toAmountUp(-newFrom, m.debtIndex);
      const first = socialize(m, loss);
      m = setShares(first.market, newFrom, 0n);
      shares.set(from, 0n);
      written += first.written;
      lossSocialized += first.written;
      rest = loss - first.written;
    }
  }
  if (to === settlement) {
    settlementCash = int128(settlementCash + amount);
  } else {
    const toShares = held(to);
    const newTo = credit(toShares, amount, m.supplyIndex, m.debtIndex);
    m = setShares(m, toShares, newTo);
    shares.set(to, newTo);
  }
  let unabsorbed = 0n;
  if (rest !== 0n) {
    // `_socializeRest`: every claim, the payee's included, down to LAST_SUPPLY_INDEX; the rest apart.
    const second = socialize(m, rest, LAST_SUPPLY_INDEX);
    m = second.market;
    written += second.written;
    lossSocialized += second.written;
    unabsorbed = rest - second.written;
    unabsorbedLoss = toUint(128n, unabsorbedLoss + unabsorbed);
  }
  const borrowRate =
    m.rateModel.toLowerCase() === zeroAddress
      ? 0n
      : books.kink === undefined
        ? books.borrowRate
        : kinkBorrowRate(books.kink, totalSupply(m), totalDebt(m));
  return {
    books: {
      ...books,
      market: m,
      borrowRate,
      shares,
      settlementCash,
      unabsorbedLoss,
      lossSocialized,
    },
    written,
    unabsorbed,
    interest,
  };
}

/**
 * What the cash creditors may withdraw in all at `timestamp`, as the vault's `cashLiquidity()`:
 * Σ supply − Σ debt accrued to then, plus the settlement account's raw balance, minus the
 * unabsorbed loss, never below zero. The vault holds at least this many tokens.
 *
 * @example
 * const cash = await getCashMarket(publicClient, { addressBook });
 * withdrawableCash(cash, cash.timestamp + 86_400n); // what creditors could withdraw in all tomorrow
 */
export function withdrawableCash(
  books: CashState & Pick<CashBooks, "settlementCash" | "unabsorbedLoss">,
  timestamp: bigint,
): bigint {
  const { market } = cashMarketAt(books, timestamp);
  const liquid = totalSupply(market) - totalDebt(market) + books.settlementCash - books.unabsorbedLoss;
  return liquid > 0n ? liquid : 0n;
}

// ---------------------------------------------------------------- rates

/**
 * Utilisation, WAD, as `KinkRateModel.utilization`: debt ÷ supply rounded down, at most 1, and 1
 * when debt is owed with nothing supplied.
 *
 * @example
 * utilization(1_000n, 250n) === 250_000_000_000_000_000n;
 */
export function utilization(supply: bigint, debt: bigint): bigint {
  if (debt === 0n) return 0n;
  if (debt >= supply) return WAD;
  return mulDivDown(debt, WAD, supply);
}

/**
 * The yearly rate (WAD) of a kink model at `debt` of `supply`, as `KinkRateModel.borrowRatePerYear`.
 *
 * @example
 * const params = { baseRateWad: 2n * 10n ** 16n, slope1Wad: 10n ** 17n, slope2Wad: WAD, kinkWad: 8n * 10n ** 17n };
 * kinkBorrowRatePerYear(params, 1_000n, 800n) === 12n * 10n ** 16n; // 12 % at the kink
 */
export function kinkBorrowRatePerYear(params: KinkParams, supply: bigint, debt: bigint): bigint {
  const u = utilization(supply, debt);
  if (u <= params.kinkWad) return params.baseRateWad + mulDivDown(params.slope1Wad, u, params.kinkWad);
  const base = params.baseRateWad + params.slope1Wad;
  // `base + slope1` is uint64 arithmetic in Solidity.
  if (base > (1n << 64n) - 1n) throw new MathOverflowError();
  return base + mulDivDown(params.slope2Wad, u - params.kinkWad, WAD - params.kinkWad);
}

/**
 * The rate per second (WAD) a kink model answers the vault, as `KinkRateModel.borrowRate`.
 *
 * @example
 * const params = { baseRateWad: 2n * 10n ** 16n, slope1Wad: 10n ** 17n, slope2Wad: WAD, kinkWad: 8n * 10n ** 17n };
 * kinkBorrowRate(params, 1_000n, 800n) === 12n * 10n ** 16n / 31_536_000n;
 */
export function kinkBorrowRate(params: KinkParams, supply: bigint, debt: bigint): bigint {
  return kinkBorrowRatePerYear(params, supply, debt) / SECONDS_PER_YEAR;
}

/**
 * A rate per second as a yearly rate (WAD, simple, 365 days): what debtors pay a year.
 *
 * @example
 * borrowApr(3_170_979_198n); // 99_999_999_988_128_000n: about 10 %
 */
export function borrowApr(ratePerSecondWad: bigint): bigint {
  return ratePerSecondWad * SECONDS_PER_YEAR;
}

/**
 * What creditors earn a year (WAD, simple, 365 days) at `ratePerSecondWad`: the borrow rate times
 * the share of supply lent out, less the reserve. A display figure, rounded down.
 *
 * @example
 * supplyApr(3_170_979_198n, 1_000n, 500n, 0n); // 49_999_999_994_064_000n: about 5 %, half the supply lent at 10 %
 */
export function supplyApr(ratePerSecondWad: bigint, supply: bigint, debt: bigint, reserveShareWad: bigint): bigint {
  return (((borrowApr(ratePerSecondWad) * utilization(supply, debt)) / WAD) * (WAD - reserveShareWad)) / WAD;
}
