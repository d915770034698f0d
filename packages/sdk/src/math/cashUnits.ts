/**
 * Line-for-line port of `contracts/libraries/CashUnits.sol`: the one convention for moving
 * between WAD and the cash token's native units. Same names and rounding; decimals above
 * `MAX_DECIMALS` (the vault's listing limit) throw `CashUnitsUnsupportedDecimalsError` as the
 * contract reverts, and checked arithmetic becomes `MathOverflowError` (Panic 0x11).
 */
import { MAX_INT256, MAX_UINT256, MIN_INT256 } from "./evm.js";
import { MathError, MathOverflowError, assertType } from "./errors.js";
import { divUp } from "./fixedPoint.js";

/** Highest cash-token decimals supported, as `CashUnits.MAX_DECIMALS` (`CollateralVault.MAX_DECIMALS`). */
export const MAX_CASH_DECIMALS = 36;
const WAD = 10n ** 18n;

/**
 * `CashUnitsUnsupportedDecimals(uint8)`: the cash token has more decimals than `MAX_CASH_DECIMALS`.
 *
 * @example
 * let error;
 * try { checkDecimals(37); } catch (e) { error = e; }
 * error instanceof CashUnitsUnsupportedDecimalsError; // true
 * error.message; // "cash decimals 37 above 36"
 */
export class CashUnitsUnsupportedDecimalsError extends MathError {
  override name = "CashUnitsUnsupportedDecimalsError";
  constructor(decimals: number) {
    super(
      "CashUnitsUnsupportedDecimals(uint8)",
      [BigInt(decimals)],
      `cash decimals ${decimals} above ${MAX_CASH_DECIMALS}`,
    );
  }
}

function checkedUint(x: bigint): bigint {
  if (x > MAX_UINT256) throw new MathOverflowError();
  return x;
}

function checkedInt(x: bigint): bigint {
  if (x < MIN_INT256 || x > MAX_INT256) throw new MathOverflowError();
  return x;
}

/**
 * `decimals`, once checked against `MAX_CASH_DECIMALS`, as `CashUnits.checkDecimals`.
 *
 * @example
 * checkDecimals(6); // 6
 * let error;
 * try { checkDecimals(37); } catch (e) { error = e; }
 * error instanceof CashUnitsUnsupportedDecimalsError; // true
 */
export function checkDecimals(decimals: number): number {
  assertType(BigInt(decimals), "uint", 8, "decimals");
  if (decimals > MAX_CASH_DECIMALS) throw new CashUnitsUnsupportedDecimalsError(decimals);
  return decimals;
}

/** WAD → cash is `÷ divisor × multiplier`; one of the two is 1. */
function scales(decimals: number): { divisor: bigint; multiplier: bigint } {
  const d = BigInt(checkDecimals(decimals));
  return d <= 18n ? { divisor: 10n ** (18n - d), multiplier: 1n } : { divisor: 1n, multiplier: 10n ** (d - 18n) };
}

/**
 * A signed cash amount as WAD, rounded down (toward −∞): a debt never shrinks.
 *
 * @example
 * toWadDown(-1n, 6) === -(10n ** 12n);
 * toWadDown(-1n, 24) === -1n;
 */
export function toWadDown(cash: bigint, decimals: number): bigint {
  assertType(cash, "int", 256, "cash");
  const { divisor, multiplier } = scales(decimals);
  if (multiplier === 1n) return checkedInt(cash * divisor);
  if (cash >= 0n) return cash / multiplier;
  // `-cash` is checked: −2**255 has no positive counterpart.
  return -divUp(checkedInt(-cash), multiplier);
}

/**
 * A WAD amount in cash units, rounded down.
 *
 * @example
 * fromWadDown(10n ** 12n + 1n, 6) === 1n;
 */
export function fromWadDown(amountWad: bigint, decimals: number): bigint {
  assertType(amountWad, "uint", 256, "amountWad");
  const { divisor, multiplier } = scales(decimals);
  return checkedUint((amountWad / divisor) * multiplier);
}

/**
 * A WAD amount in cash units, rounded up.
 *
 * @example
 * fromWadUp(10n ** 12n + 1n, 6) === 2n;
 */
export function fromWadUp(amountWad: bigint, decimals: number): bigint {
  assertType(amountWad, "uint", 256, "amountWad");
  const { divisor, multiplier } = scales(decimals);
  return checkedUint(divUp(amountWad, divisor) * multiplier);
}

/** OpenZeppelin `Math.mulDiv` with a rounding: Panic 0x11 when the result does not fit. */
function mulDiv(x: bigint, y: bigint, d: bigint, up: boolean): bigint {
  const floor = checkedUint((x * y) / d);
  return up && (x * y) % d !== 0n ? checkedUint(floor + 1n) : floor;
}

/**
 * `amount × priceWad / 1e18` in cash units with one rounding, down (a premium the maker pays,
 * a long's settlement payoff).
 *
 * @example
 * mulWadToCashDown(15n * 10n ** 17n, 1_333_000_000_000n, 6) === 1n;
 */
export function mulWadToCashDown(amount: bigint, priceWad: bigint, decimals: number): bigint {
  assertType(amount, "uint", 256, "amount");
  assertType(priceWad, "uint", 256, "priceWad");
  const { divisor, multiplier } = scales(decimals);
  return checkedUint(mulDiv(amount, priceWad, WAD * divisor, false) * multiplier);
}

/**
 * `amount × priceWad / 1e18` in cash units with one rounding, up (a premium the maker receives,
 * a short's settlement payment).
 *
 * @example
 * mulWadToCashUp(15n * 10n ** 17n, 1_333_000_000_000n, 6) === 2n;
 */
export function mulWadToCashUp(amount: bigint, priceWad: bigint, decimals: number): bigint {
  assertType(amount, "uint", 256, "amount");
  assertType(priceWad, "uint", 256, "priceWad");
  const { divisor, multiplier } = scales(decimals);
  return checkedUint(mulDiv(amount, priceWad, WAD * divisor, true) * multiplier);
}

/**
 * One cash unit in WAD, rounded up (1 wei when a unit is worth less than a WAD wei): the most a
 * single rounding to cash units can move a WAD amount.
 *
 * @example
 * unitWadUp(6) === 10n ** 12n;
 */
export function unitWadUp(decimals: number): bigint {
  return scales(decimals).divisor;
}
