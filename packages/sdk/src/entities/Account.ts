import {
  Health,
  type MarginInputs,
  type MarginState,
  type UnderlyingInput,
  accountMargin,
  surfaceFallbackOf,
} from "../math/engine.js";
import { fromWadDown } from "../math/cashUnits.js";

/**
 * An immutable snapshot of one account and the prices it is valued at. Every `with…`
 * method returns a new `Account`, so a user can ask "what if" — margin after a trade, a
 * deposit or a price move — before sending anything. The numbers are exactly the
 * engine's, in the account's margin mode (`inputs.mode`, standard or portfolio), which every
 * what-if keeps.
 *
 * @example
 * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
 * const after = trader.withTrade(seriesId, -(10n ** 18n), 1_000_000_000n); // sell 1 more at 1,000 USDC
 * if (after.margin().health !== Health.HEALTHY) throw new Error("the trade would breach initial margin");
 */
export class Account {
  readonly inputs: MarginInputs;

  constructor(inputs: MarginInputs) {
    this.inputs = inputs;
  }

  /**
   * The margin state, as `MarginEngine.accountMargin` returns it.
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const { equityIM, requirementIM, health } = trader.margin();
   * healthName(health); // "HEALTHY"
   */
  margin(): MarginState {
    return accountMargin(this.inputs);
  }

  /**
   * The account after depositing `amount` units of collateral `index` (or cash when
   * `index` is "cash").
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const topped = trader.withDeposit("cash", 1_000_000_000n); // 1,000 USDC more
   * topped.margin().equityIM - trader.margin().equityIM === 1_000n * WAD;
   */
  withDeposit(index: number | "cash", amount: bigint): Account {
    if (index === "cash") return new Account({ ...this.inputs, cash: this.inputs.cash + amount });
    const collateral = this.inputs.collateral.map((c, i) => (i === index ? { ...c, amount: c.amount + amount } : c));
    return new Account({ ...this.inputs, collateral });
  }

  /**
   * The account after trading `size` contracts (signed, WAD) of `seriesId` for a signed
   * `cashDelta` (cash units received, negative when paying).
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const sold = trader.withTrade(seriesId, -2n * 10n ** 18n, 2_000_000_000n); // sell 2 at 1,000 USDC each
   * sold.margin().requirementIM > trader.margin().requirementIM; // true
   */
  withTrade(seriesId: bigint, size: bigint, cashDelta: bigint): Account {
    const positions = [...this.inputs.positions];
    const at = positions.findIndex((p) => p.seriesId === seriesId);
    if (at === -1) positions.push({ seriesId, balance: size });
    else positions[at] = { seriesId, balance: positions[at]!.balance + size };
    return new Account({
      ...this.inputs,
      cash: this.inputs.cash + cashDelta,
      positions: positions.filter((p) => p.balance !== 0n),
    });
  }

  /**
   * The account with underlying `index` at a new spot (and optionally volatility). Collateral
   * in that underlying itself (`CollateralInput.underlyingIndex === index`, WETH for ETH) moves
   * with it: on chain both are the oracle's one spot of the asset.
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const rally = trader.withPrice(2, 90_000n * WAD); // BTC at 90,000 USD
   * rally.margin().equityMM < trader.margin().equityMM; // true: the account is short calls
   */
  withPrice(index: number, spotWad: bigint, volWad?: bigint): Account {
    const current = this.inputs.underlyings.get(index);
    if (current === undefined) throw new Error(`no underlying ${index}`);
    const underlyings = new Map(this.inputs.underlyings);
    const next: UnderlyingInput = { ...current, spotWad, volWad: volWad ?? current.volWad };
    underlyings.set(index, next);
    const collateral = this.inputs.collateral.map((c) =>
      c.underlyingIndex === index ? { ...c, priceWad: spotWad } : c,
    );
    return new Account({ ...this.inputs, underlyings, collateral });
  }

  /**
   * The account at another time (for time decay and expiry).
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const tomorrow = trader.at(trader.inputs.timestamp + 86_400n);
   * tomorrow.margin().equityMM > trader.margin().equityMM; // true: its short calls lose time value
   */
  at(timestamp: bigint): Account {
    return new Account({ ...this.inputs, timestamp });
  }

  /**
   * The nearest spot of underlying `index`, searching from the current spot towards
   * `direction` ("up" or "down") up to `limitWad`, at which the account becomes
   * liquidatable (below MM); `undefined` if it stays above MM all the way. Bisection
   * to within `toleranceWad`.
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const price = trader.liquidationPrice(2, "up", 1_000_000n * WAD); // the BTC spot that puts it below maintenance
   * trader.withPrice(2, price).margin().health >= Health.LIQUIDATABLE; // true
   * trader.withPrice(2, price - 10n ** 16n).margin().health < Health.LIQUIDATABLE; // true
   */
  liquidationPrice(
    index: number,
    direction: "up" | "down",
    limitWad: bigint,
    toleranceWad: bigint = 10n ** 16n,
  ): bigint | undefined {
    const spot = this.inputs.underlyings.get(index)?.spotWad;
    if (spot === undefined) throw new Error(`no underlying ${index}`);
    const failsAt = (s: bigint) => this.withPrice(index, s).margin().health >= Health.LIQUIDATABLE;
    if (failsAt(spot)) return spot;
    if (!failsAt(limitWad)) return undefined;
    let safe = spot;
    let unsafe = limitWad;
    while ((direction === "up" ? unsafe - safe : safe - unsafe) > toleranceWad) {
      const mid = (safe + unsafe) / 2n;
      if (failsAt(mid)) unsafe = mid;
      else safe = mid;
    }
    return unsafe;
  }

  /**
   * The most cash (in cash units) that can be withdrawn while staying at or above IM:
   * the IM excess, capped at the positive cash balance; 0 while the account holds a series
   * whose vol surface is FALLBACK and its mode counts it (`surfaceFallbackOf`), since the
   * engine then refuses every withdrawal (`EngineVolSurfaceUnusable`).
   *
   * @example
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * const max = trader.maxWithdrawableCash();
   * await withdraw(walletClient, { publicClient, addressBook, account, asset: usdc, amount: max }); // passes the margin check
   */
  maxWithdrawableCash(): bigint {
    if (surfaceFallbackOf(this.inputs) !== undefined) return 0n;
    const { equityIM, requirementIM } = this.margin();
    const excess = equityIM - requirementIM;
    if (excess <= 0n || this.inputs.cash <= 0n) return 0n;
    const units = fromWadDown(excess, this.inputs.cashDecimals);
    return units < this.inputs.cash ? units : this.inputs.cash;
  }

  /**
   * The most of collateral `index` (native units) that can be withdrawn while staying at
   * or above IM. Found by bisection on the exact margin, so it matches the chain; 0 while a
   * FALLBACK vol surface refuses every withdrawal, as for `maxWithdrawableCash`.
   *
   * @example
   * await deposit(walletClient, { publicClient, addressBook, account, asset: weth, amount: 10n ** 18n });
   * const { collateral } = await getMarketParameters(publicClient, { addressBook });
   * const trader = new Account(await getMarginInputs(publicClient, { addressBook, account }));
   * trader.maxWithdrawableCollateral(collateral.findIndex((c) => c.asset === weth)) === 10n ** 18n; // all of it: cash covers the margin
   */
  maxWithdrawableCollateral(index: number): bigint {
    const held = this.inputs.collateral[index]?.amount ?? 0n;
    if (surfaceFallbackOf(this.inputs) !== undefined) return 0n;
    const passes = (amount: bigint) => {
      const { equityIM, requirementIM } = this.withDeposit(index, -amount).margin();
      return equityIM >= requirementIM;
    };
    if (held === 0n || !passes(0n)) return 0n;
    if (passes(held)) return held;
    let ok = 0n;
    let bad = held;
    while (bad - ok > 1n) {
      const mid = (ok + bad) / 2n;
      if (passes(mid)) ok = mid;
      else bad = mid;
    }
    return ok;
  }
}
