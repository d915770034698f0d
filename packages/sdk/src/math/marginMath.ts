/**
 * Line-for-line port of `contracts/libraries/MarginMath.sol`: valuation and standard margin.
 * Same names and rounding: collateral and long values round down, short liabilities and
 * requirements round up. Solidity's checked arithmetic becomes `MathOverflowError` (Panic 0x11),
 * Solady's reverts their own errors.
 */
import { MAX_INT256, MIN_INT256, signed } from "./evm.js";
import { MathOverflowError, assertType } from "./errors.js";
import { divWadUp, fullMulDiv, mulWad, mulWadUp } from "./fixedPoint.js";

const WAD = 10n ** 18n;
const MAX_UINT256 = (1n << 256n) - 1n;

/** `10 ** e` as checked `uint256` arithmetic (a literal base with a variable exponent is uint256). */
function pow10(e: bigint): bigint {
  const r = 10n ** e;
  if (r > MAX_UINT256) throw new MathOverflowError();
  return r;
}

/** Checked `int256` result. */
function checkedInt(x: bigint): bigint {
  if (x < MIN_INT256 || x > MAX_INT256) throw new MathOverflowError();
  return x;
}

/**
 * The USD value (WAD) of `amount` native units of a token with `decimals`, priced at `priceWad`,
 * rounded down.
 *
 * @example
 * tokenValueDown(1_500_000n, 6, 10n ** 18n) === 15n * 10n ** 17n; // 1.5 USDC at $1
 */
export function tokenValueDown(amount: bigint, decimals: number, priceWad: bigint): bigint {
  assertType(BigInt(decimals), "uint", 8, "decimals");
  return fullMulDiv(amount, priceWad, pow10(BigInt(decimals)));
}

/**
 * `valueWad × (1 − haircutWad)`, rounded down.
 *
 * @example
 * applyHaircutDown(3n, 5n * 10n ** 17n) === 1n;
 */
export function applyHaircutDown(valueWad: bigint, haircutWad: bigint): bigint {
  assertType(haircutWad, "uint", 256, "haircutWad");
  if (haircutWad > WAD) throw new MathOverflowError();
  return mulWad(valueWad, WAD - haircutWad);
}

/**
 * The value of a signed position at `markWad`: a long rounds down, a short's liability rounds
 * up (more negative).
 *
 * @example
 * positionValue(-1n, 1n) === -1n;
 */
export function positionValue(balance: bigint, markWad: bigint): bigint {
  assertType(balance, "int", 256, "balance");
  if (balance >= 0n) return signed(mulWad(balance, markWad));
  // `-int256(x)` is checked, but `x` < 2**255 here, since `x·1e18` fits in 256 bits.
  return checkedInt(-signed(mulWadUp(checkedInt(-balance), markWad)));
}

/**
 * Intrinsic value of one contract at `priceWad`.
 *
 * @example
 * intrinsic(true, 2100n * 10n ** 18n, 2000n * 10n ** 18n) === 100n * 10n ** 18n;
 */
export function intrinsic(isCall: boolean, priceWad: bigint, strikeWad: bigint): bigint {
  assertType(priceWad, "uint", 256, "priceWad");
  assertType(strikeWad, "uint", 256, "strikeWad");
  if (isCall) return priceWad > strikeWad ? priceWad - strikeWad : 0n;
  return strikeWad > priceWad ? strikeWad - priceWad : 0n;
}

/**
 * Standard requirement of one short contract, rounded up: call `max(a·S − OTM, b·S)`, put
 * `max(a·S − OTM, b·K)`, with OTM the amount by which the option is out of the money.
 *
 * @example
 * shortRequirementUp(true, 2000n * 10n ** 18n, 2400n * 10n ** 18n, 15n * 10n ** 16n, 10n ** 17n) === 200n * 10n ** 18n;
 */
export function shortRequirementUp(
  isCall: boolean,
  spotWad: bigint,
  strikeWad: bigint,
  aWad: bigint,
  bWad: bigint,
): bigint {
  assertType(spotWad, "uint", 256, "spotWad");
  assertType(strikeWad, "uint", 256, "strikeWad");
  const otm = isCall
    ? strikeWad > spotWad
      ? strikeWad - spotWad
      : 0n
    : spotWad > strikeWad
      ? spotWad - strikeWad
      : 0n;
  const scaled = mulWadUp(aWad, spotWad);
  const first = scaled > otm ? scaled - otm : 0n;
  const floor = mulWadUp(bWad, isCall ? spotWad : strikeWad);
  return first > floor ? first : floor;
}

/**
 * The requirement of a signed position: `|short| × perContract`, rounded up; longs need none.
 *
 * @example
 * positionRequirementUp(-1n, 1n) === 1n;
 */
export function positionRequirementUp(balance: bigint, perContractWad: bigint): bigint {
  assertType(balance, "int", 256, "balance");
  if (balance >= 0n) return 0n;
  return mulWadUp(checkedInt(-balance), perContractWad);
}

/**
 * The concentration add-on of `shortsWad` gross short contracts on one underlying at spot
 * `spotWad`, rounded up, as `MarginMath.concentrationAddOnUp` (`docs/risk-model.md`,
 * "Concentration"): `κ·S·Q·min(Q / L, maxRatio)`, quadratic in Q up to `maxRatio × L` contracts,
 * then linear. `kappaWad === 0n` turns it off (`liquidityWad` is then never read).
 *
 * @example
 * // κ = 5 %, L = 1,000 contracts, cap 2: 500 short ETH contracts at 3,000 USD.
 * concentrationAddOnUp(500n * WAD, 3_000n * WAD, 5n * 10n ** 16n, 1_000n * WAD, 2n * WAD) === 37_500n * WAD;
 */
export function concentrationAddOnUp(
  shortsWad: bigint,
  spotWad: bigint,
  kappaWad: bigint,
  liquidityWad: bigint,
  maxRatioWad: bigint,
): bigint {
  if (kappaWad === 0n || shortsWad === 0n) return 0n;
  let ratio = divWadUp(shortsWad, liquidityWad);
  if (ratio > maxRatioWad) ratio = maxRatioWad;
  const perContract = mulWadUp(kappaWad, spotWad);
  return mulWadUp(mulWadUp(perContract, shortsWad), ratio);
}
