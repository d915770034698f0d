/**
 * The Backstop's views and the waterfall's numbers as pure functions, same names, arguments and
 * rounding as `contracts/liquidation/Backstop.sol` and `contracts/libraries/BackstopMath.sol`:
 * what the keeper computes from the states it already confirmed, and what the chain computes,
 * agree to the wei (`docs/backstop.md`).
 */
import type { AccountId } from "../accounts.js";
import { amountOf as cashAmountOf, credit as creditCash, debit as debitCash } from "./cashIndex.js";
import { mulWadToCashDown, mulWadToCashUp } from "./cashUnits.js";
import { type MarginInputs, type MarginState, accountMargin } from "./engine.js";
import { divWad, fullMulDiv, mulWad, mulWadUp } from "./fixedPoint.js";

/** One account with maintenance equity below zero, as `IBackstop.Shortfall`. */
export interface Shortfall {
  account: AccountId;
  /** `−equityMM`, WAD (USD). */
  shortfallWad: bigint;
}

/** The latent insolvency among a list of accounts, as `IBackstop.LatentInsolvency`. */
export interface LatentInsolvency {
  /** How many have maintenance equity below zero (`accounts.length`). */
  count: bigint;
  /** The sum of their shortfalls, WAD. */
  totalShortfallWad: bigint;
  /** Those accounts, in the order given, each with its shortfall. */
  accounts: Shortfall[];
  /**
   * The accounts whose margin could not be valued (a price one of their positions needs is stale,
   * out of bounds or unreadable), in the order given: neither counted nor hidden.
   */
  unpriced: AccountId[];
}

/**
 * `Backstop.latentInsolvency` over states already read (`accountsMargin`, `getAccountMargin`):
 * the accounts whose maintenance equity is below zero, each with `−equityMM`, their count and
 * their total, in the order given. The protocol's own accounts (insurance, settlement, fee),
 * which the view leaves out, are passed as `protectedAccounts` (the keeper reads them each
 * tick); without them they are counted. `states` are accounts already valued, so `unpriced`
 * is empty: an account the caller could not value is the caller's to report.
 *
 * @example
 * const states = await getAccountMargin(publicClient, { addressBook, accounts: [maker, taker] });
 * const insurance = await publicClient.readContract({ address: addressBook.contracts.Liquidator, abi: liquidatorAbi, functionName: "insuranceAccount" });
 * // The market's settlementAccount and feeAccount likewise; then what `getLatentInsolvency` reads:
 * const latent = latentInsolvencyOf(states, { protectedAccounts: [insurance] });
 * if (latent.count > 0n) console.warn(`${latent.count} accounts short by ${latent.totalShortfallWad} WAD (USD)`);
 */
export function latentInsolvencyOf(
  states: readonly (MarginState & { account: AccountId })[],
  options: { protectedAccounts?: Iterable<bigint> | undefined } = {},
): LatentInsolvency {
  const excluded = new Set<bigint>(options.protectedAccounts ?? []);
  const accounts: Shortfall[] = [];
  let totalShortfallWad = 0n;
  for (const state of states) {
    if (state.equityMM >= 0n || excluded.has(state.account)) continue;
    accounts.push({ account: state.account, shortfallWad: -state.equityMM });
    totalShortfallWad -= state.equityMM;
  }
  return { count: BigInt(accounts.length), totalShortfallWad, accounts, unpriced: [] };
}

// ---------------------------------------------------------------- the waterfall (`docs/backstop.md`)

/** `type(uint256).max`: the key of a holder whose maintenance equity is not positive. */
const MAX_UINT256 = 2n ** 256n - 1n;

/** `IBackstop.TakeoverBudget`, WAD (USD). */
export interface TakeoverBudget {
  maxLossPerTakeoverWad: bigint;
  maxLossPerWindowWad: bigint;
}

/** What a takeover of an account would do (`IBackstop.TakeoverPreview`), plus the budget it leaves. */
export interface TakeoverPreview {
  /** The account's mark value V: what the fund's value changes by. */
  valueWad: bigint;
  /** `−V` when V < 0, else 0. */
  lossToFundWad: bigint;
  /** What the budget allows one takeover to cost now (`budgetLeft()`). */
  budgetLeftWad: bigint;
  /** Whether the loss fits the budget (the fund's IM is checked on chain only). */
  withinBudget: boolean;
  /** What the budget allows the next takeover after this one (`AccountTakenOver.budgetLeftWad`). */
  budgetLeftAfterWad: bigint;
}

/**
 * `BackstopMath.lossToFund`: what taking over an account worth `markValue` costs the fund.
 *
 * @example
 * assert.equal(lossToFund(-5n), 5n); // V < 0: the fund absorbs |V|
 * assert.equal(lossToFund(7n), 0n); // V ≥ 0: the fund gains V
 */
export function lossToFund(markValue: bigint): bigint {
  return markValue < 0n ? -markValue : 0n;
}

/**
 * `BackstopMath.budgetLeft`: the per-takeover cap, or what the window has left if less.
 *
 * @example
 * const budget = { maxLossPerTakeoverWad: 10n, maxLossPerWindowWad: 50n };
 * assert.equal(budgetLeftOf(budget, 0n), 10n); // the per-takeover cap
 * assert.equal(budgetLeftOf(budget, 45n), 5n); // what the window has left
 */
export function budgetLeftOf(budget: TakeoverBudget, windowLossWad: bigint): bigint {
  const windowLeft = windowLossWad >= budget.maxLossPerWindowWad ? 0n : budget.maxLossPerWindowWad - windowLossWad;
  return windowLeft < budget.maxLossPerTakeoverWad ? windowLeft : budget.maxLossPerTakeoverWad;
}

/**
 * `Backstop.previewTakeover` over a margin state already read, plus whether the loss fits and what
 * the budget leaves after (the `AccountTakenOver` event's `budgetLeftWad`).
 *
 * @example
 * const budget = { maxLossPerTakeoverWad: 10n, maxLossPerWindowWad: 50n };
 * const preview = takeoverPreviewFromState({ markValue: -3n }, budget, 0n);
 * assert.equal(preview.lossToFundWad, 3n);
 * assert.equal(preview.withinBudget, true);
 */
export function takeoverPreviewFromState(
  state: Pick<MarginState, "markValue">,
  budget: TakeoverBudget,
  windowLossWad: bigint,
): TakeoverPreview {
  const lossToFundWad = lossToFund(state.markValue);
  const budgetLeftWad = budgetLeftOf(budget, windowLossWad);
  const withinBudget = lossToFundWad <= budgetLeftWad;
  return {
    valueWad: state.markValue,
    lossToFundWad,
    budgetLeftWad,
    withinBudget,
    budgetLeftAfterWad: withinBudget ? budgetLeftOf(budget, windowLossWad + lossToFundWad) : budgetLeftWad,
  };
}

/**
 * `BackstopMath.grossTermUp`: one position's term of G = Σ |p|·m, rounded up.
 *
 * @example
 * assert.equal(grossTermUp(-3n * 10n ** 18n, 100n * 10n ** 18n), 300n * 10n ** 18n);
 */
export function grossTermUp(balance: bigint, markWad: bigint): bigint {
  return mulWadUp(balance < 0n ? -balance : balance, markWad);
}

/**
 * G over every position of an account: `Σ grossTermUp(balance, mark)`.
 *
 * @example
 * const positions = [
 *   { balance: -3n * 10n ** 18n, markWad: 100n * 10n ** 18n },
 *   { balance: 2n * 10n ** 18n, markWad: 50n * 10n ** 18n },
 * ];
 * assert.equal(grossPositionValueUp(positions), 400n * 10n ** 18n);
 */
export function grossPositionValueUp(positions: readonly { balance: bigint; markWad: bigint }[]): bigint {
  return positions.reduce((sum, p) => sum + grossTermUp(p.balance, p.markWad), 0n);
}

/**
 * `BackstopMath.shadeDown`: `⌊m·L/G⌋`, the mark when L ≥ G.
 *
 * @example
 * assert.equal(bankruptcyShadeDown(100n, 50n, 1_000n), 5n); // m·L/G
 * assert.equal(bankruptcyShadeDown(100n, 2_000n, 1_000n), 100n); // L ≥ G: the whole mark
 */
export function bankruptcyShadeDown(markWad: bigint, lossWad: bigint, grossWad: bigint): bigint {
  if (lossWad >= grossWad) return markWad;
  return fullMulDiv(markWad, lossWad, grossWad);
}

/**
 * `BackstopMath.bankruptcyPrice`: the mark shaded in the bankrupt account's favour.
 *
 * @example
 * assert.equal(bankruptcyPriceOf(100n, 5n, false), 95n); // a bankrupt short buys back lower
 * assert.equal(bankruptcyPriceOf(100n, 5n, true), 105n); // a bankrupt long sells higher
 */
export function bankruptcyPriceOf(markWad: bigint, shadeWad: bigint, accountIsLong: boolean): bigint {
  return accountIsLong ? markWad + shadeWad : markWad - shadeWad;
}

/**
 * `BackstopMath.closeCash`: cash units the close of `contracts` moves (down to the account, up from it).
 *
 * @example
 * // 3 contracts bought back at 95 USD by a bankrupt short: 285 USDC, rounded up.
 * assert.equal(deleverageCashOf(3n * 10n ** 18n, 95n * 10n ** 18n, false, 6), 285_000_000n);
 */
export function deleverageCashOf(
  contracts: bigint,
  priceWad: bigint,
  accountIsLong: boolean,
  cashDecimals: number,
): bigint {
  return accountIsLong
    ? mulWadToCashDown(contracts, priceWad, cashDecimals)
    : mulWadToCashUp(contracts, priceWad, cashDecimals);
}

/**
 * `BackstopMath.deleverageKey`: mark value of the position over maintenance equity (max if equity ≤ 0).
 *
 * @example
 * // 2 contracts marked at 50 over 1,000 of maintenance equity: 0.1.
 * assert.equal(deleverageKeyOf(2n * 10n ** 18n, 50n * 10n ** 18n, 1_000n * 10n ** 18n), 10n ** 17n);
 */
export function deleverageKeyOf(balance: bigint, markWad: bigint, equityMM: bigint): bigint {
  if (equityMM <= 0n) return MAX_UINT256;
  return divWad(mulWad(balance < 0n ? -balance : balance, markWad), equityMM);
}

/** One opposite holder, keyed as `deleverage` orders it. */
export interface DeleverageHolder {
  account: AccountId;
  /** Its signed position in the series. */
  balance: bigint;
  key: bigint;
}

/**
 * The order `deleverage` requires: key descending, then account id ascending.
 *
 * @example
 * const sorted = sortDeleverageHolders([
 *   { account: 2n, balance: 1n, key: 5n },
 *   { account: 1n, balance: 1n, key: 5n },
 *   { account: 3n, balance: 1n, key: 9n },
 * ]);
 * assert.deepEqual(sorted.map((h) => h.account), [3n, 1n, 2n]); // pass these to `deleverage`
 */
export function sortDeleverageHolders(holders: readonly DeleverageHolder[]): DeleverageHolder[] {
  return [...holders].sort((a, b) =>
    a.key !== b.key ? (a.key > b.key ? -1 : 1) : a.account < b.account ? -1 : a.account > b.account ? 1 : 0,
  );
}

/** What `deleverage(account, seriesId, holders)` would do at a state already read. */
export interface DeleveragePlan {
  markWad: bigint;
  shadeWad: bigint;
  priceWad: bigint;
  accountIsLong: boolean;
  /** L = −V, the account's loss (WAD). */
  lossWad: bigint;
  /** G = Σ |p|·m over every position of the account, each term rounded up (WAD). L ≥ G shades the whole mark. */
  grossWad: bigint;
  /** Every opposite holder, sorted as `deleverage` requires. */
  holders: DeleverageHolder[];
  /** Σ |holder positions|; `deleverage` needs it to equal the open interest. */
  oppositeSum: bigint;
  /**
   * The closes from the top, in the order of the `Deleveraged` events. Empty: `deleverage` would
   * revert `BackstopNothingClosed`. `excessMMAfter` is the holder's `equityMM − requirementMM` after
   * its close, as `deleverageStep` values it (undefined when the holder's `inputs` were not given:
   * the close was not checked, see `checked`).
   */
  closes: { account: AccountId; contracts: bigint; cash: bigint; lossWad: bigint; excessMMAfter: bigint | undefined }[];
  /**
   * The holders the chain skips on the way, in the order of the `DeleverageSkipped` events: the
   * insurance fund (`insuranceFund`: reason `BackstopProtectedAccount`), and a holder its close
   * would take below maintenance (`belowMaintenance`: reason `BackstopHolderBelowMaintenance`),
   * with the excess it would have ended at. A holder after the account's position is closed is
   * neither closed nor skipped.
   */
  skips: { account: AccountId; reason: "insuranceFund" | "belowMaintenance"; excessMMAfter?: bigint | undefined }[];
  /** Whether every close was valued after the fact (each closed holder's `inputs` given): then the plan is the chain's. */
  checked: boolean;
  /** What the closes move into the account's cash in all, cash units: received (> 0) when it is long, paid (< 0) when short. */
  accountCashDelta: bigint;
}

/** One opposite holder as `deleveragePlanOf` takes it. */
export interface DeleverageHolderInput {
  account: AccountId;
  /** Its signed position in the series. */
  balance: bigint;
  /** Its maintenance equity (`accountMargin(holder).equityMM`): the key's denominator. */
  equityMM: bigint;
  /**
   * Its margin inputs at the same block (`getMarginInputs`). With them the plan values the holder
   * after its close, as `deleverageStep` does, and skips it when it would end below maintenance.
   */
  inputs?: MarginInputs | undefined;
  /**
   * Its stored cash shares (`cashSharesOf`). With the plan's `cashIndex`, the holder's cash after
   * the close is the vault's to the unit on any index; without, `inputs.cash` ± the cash moved
   * (exact at index 1, the zero-rate default).
   */
  cashShares?: bigint | undefined;
}

/**
 * A holder's margin after giving up `contracts` of `seriesId` and moving `cash` (paid when it is
 * short, received when long), as `deleverageStep` values it: the position moved toward zero (the
 * market drops it at zero, the last one taking its place), the cash through the index when the
 * shares and indices are known.
 */
function marginAfterClose(
  holder: DeleverageHolderInput & { inputs: MarginInputs },
  seriesId: bigint,
  contracts: bigint,
  cash: bigint,
  cashIndex: { supplyIndex: bigint; debtIndex: bigint } | undefined,
): MarginState {
  const { inputs } = holder;
  const positions = [...inputs.positions];
  const i = positions.findIndex((p) => p.seriesId === seriesId);
  if (i < 0) throw new RangeError(`holder ${holder.account} holds no position in series ${seriesId} in its inputs`);
  const p = positions[i]!;
  const balance = p.balance > 0n ? p.balance - contracts : p.balance + contracts;
  if (balance === 0n) {
    positions[i] = positions[positions.length - 1]!;
    positions.pop();
  } else {
    positions[i] = { seriesId, balance };
  }
  const holderPays = p.balance < 0n; // a short holder buys the bankrupt long's contracts
  let cashAfter = inputs.cash;
  if (cash !== 0n) {
    if (cashIndex !== undefined && holder.cashShares !== undefined) {
      const { supplyIndex, debtIndex } = cashIndex;
      const shares = holderPays
        ? debitCash(holder.cashShares, cash, supplyIndex, debtIndex)
        : creditCash(holder.cashShares, cash, supplyIndex, debtIndex);
      cashAfter = cashAmountOf(shares, supplyIndex, debtIndex);
    } else {
      cashAfter = holderPays ? inputs.cash - cash : inputs.cash + cash;
    }
  }
  return accountMargin({ ...inputs, positions, cash: cashAfter });
}

/**
 * The bankruptcy price, keys, order, closes and skips of `deleverage` from the account's mark
 * value, its positions with their marks, and the opposite holders with their positions and
 * maintenance equity, all read at one block (`getBackstopPreview` reads them). The insurance fund
 * (`insuranceAccount`) is listed but skipped, as on chain. A holder given with its margin `inputs`
 * is valued after its close and skipped if it would end below maintenance, as on chain; one
 * without is closed unchecked (`checked: false`).
 *
 * @example
 * const WAD = 10n ** 18n;
 * const plan = deleveragePlanOf({
 *   markValue: -100n * WAD, // the account is 100 USD underwater
 *   positions: [{ seriesId: 7n, balance: -10n * WAD, markWad: 50n * WAD }], // G = 500 USD
 *   seriesId: 7n,
 *   holders: [
 *     { account: 1n, balance: 4n * WAD, equityMM: 10_000n * WAD },
 *     { account: 2n, balance: 6n * WAD, equityMM: 1_000n * WAD },
 *   ],
 *   cashDecimals: 6,
 * });
 * assert.equal(plan.priceWad, 40n * WAD); // 50 − 50·100/500
 * assert.deepEqual(plan.holders.map((h) => h.account), [2n, 1n]); // the more levered first
 * assert.equal(plan.accountCashDelta, -400_000_000n); // the short pays 10 × 40 USDC
 */
export function deleveragePlanOf(input: {
  markValue: bigint;
  positions: readonly { seriesId: bigint; balance: bigint; markWad: bigint }[];
  seriesId: bigint;
  holders: readonly DeleverageHolderInput[];
  cashDecimals: number;
  /** The insurance fund's account: listed (the list must be complete) but never closed. */
  insuranceAccount?: AccountId | undefined;
  /** The cash indices at the block (`cashMarketAt(getCashMarket(…), timestamp).market`), for holders given with `cashShares`. */
  cashIndex?: { supplyIndex: bigint; debtIndex: bigint } | undefined;
}): DeleveragePlan {
  const position = input.positions.find((p) => p.seriesId === input.seriesId);
  if (position === undefined || position.balance === 0n)
    throw new RangeError("the account holds no position in the series");
  const markWad = position.markWad;
  const lossWad = lossToFund(input.markValue);
  const grossWad = grossPositionValueUp(input.positions);
  const shadeWad = bankruptcyShadeDown(markWad, lossWad, grossWad);
  const accountIsLong = position.balance > 0n;
  const priceWad = bankruptcyPriceOf(markWad, shadeWad, accountIsLong);
  const byAccount = new Map(input.holders.map((h) => [h.account, h]));
  const holders = sortDeleverageHolders(
    input.holders.map((h) => ({
      account: h.account,
      balance: h.balance,
      key: deleverageKeyOf(h.balance, markWad, h.equityMM),
    })),
  );
  const oppositeSum = holders.reduce((sum, h) => sum + (h.balance < 0n ? -h.balance : h.balance), 0n);
  const closes: DeleveragePlan["closes"] = [];
  const skips: DeleveragePlan["skips"] = [];
  let checked = true;
  let accountCashDelta = 0n;
  let left = position.balance < 0n ? -position.balance : position.balance;
  for (const h of holders) {
    if (left === 0n) break;
    if (h.account === input.insuranceAccount) {
      skips.push({ account: h.account, reason: "insuranceFund" });
      continue;
    }
    const held = h.balance < 0n ? -h.balance : h.balance;
    const contracts = held < left ? held : left;
    const cash = deleverageCashOf(contracts, priceWad, accountIsLong, input.cashDecimals);
    const holder = byAccount.get(h.account)!;
    let excessMMAfter: bigint | undefined;
    if (holder.inputs !== undefined) {
      const after = marginAfterClose(
        { ...holder, inputs: holder.inputs },
        input.seriesId,
        contracts,
        cash,
        input.cashIndex,
      );
      excessMMAfter = after.equityMM - after.requirementMM;
      if (excessMMAfter < 0n) {
        skips.push({ account: h.account, reason: "belowMaintenance", excessMMAfter });
        continue;
      }
    } else {
      checked = false;
    }
    closes.push({ account: h.account, contracts, cash, lossWad: mulWad(contracts, shadeWad), excessMMAfter });
    accountCashDelta += accountIsLong ? cash : -cash;
    left -= contracts;
  }
  return {
    markWad,
    shadeWad,
    priceWad,
    accountIsLong,
    lossWad,
    grossWad,
    holders,
    oppositeSum,
    closes,
    skips,
    checked,
    accountCashDelta,
  };
}
