/**
 * Bit-exact ports of the Solady 0.1.26 `FixedPointMathLib` functions the contracts use
 * (`node_modules/solady/src/utils/FixedPointMathLib.sol`). The assembly is copied opcode for
 * opcode through `./evm.ts`, the unchecked Solidity statement for statement, so every result
 * equals the chain's to the wei and every revert becomes the matching `MathError`.
 *
 * `uint256` arguments and results are non-negative `bigint`s below 2**256; `int256` ones are
 * signed `bigint`s in [−2**255, 2**255).
 */
import {
  add,
  and,
  byte,
  div,
  eq,
  gt,
  iszero,
  lt,
  mod,
  mul,
  mulmod,
  not,
  or,
  sar,
  sdiv,
  shl,
  shr,
  signed,
  slt,
  sub,
  word,
  xor,
} from "./evm.js";
import {
  DivFailedError,
  DivWadFailedError,
  ExpOverflowError,
  FullMulDivFailedError,
  LnWadUndefinedError,
  MulDivFailedError,
  MulWadFailedError,
  assertType,
} from "./errors.js";

/** The scalar of ETH and most ERC20s, 1e18. */
export const WAD = 10n ** 18n;

/**
 * `(x * y) / WAD` rounded down; throws `MulWadFailedError` if `x·y` overflows.
 *
 * @example
 * mulWad(3n * WAD, WAD / 2n) === 1_500_000_000_000_000_000n;
 */
export function mulWad(x: bigint, y: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(y, "uint", 256, "y");
  // Equivalent to `require(y == 0 || x <= type(uint256).max / y)`.
  if (gt(x, div(not(0n), y))) {
    if (y) throw new MulWadFailedError();
  }
  return div(mul(x, y), WAD);
}

/**
 * `(x * y) / WAD` rounded up; throws `MulWadFailedError` if `x·y` overflows.
 *
 * @example
 * mulWadUp(1n, 1n) === 1n;
 */
export function mulWadUp(x: bigint, y: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(y, "uint", 256, "y");
  const z = mul(x, y);
  // Equivalent to `require(y == 0 || x <= type(uint256).max / y)`.
  if (iszero(eq(div(z, y), x))) {
    if (y) throw new MulWadFailedError();
  }
  return add(iszero(iszero(mod(z, WAD))), div(z, WAD));
}

/**
 * `(x * WAD) / y` rounded down; throws `DivWadFailedError` if `y` is 0 or `x·WAD` overflows.
 *
 * @example
 * divWad(WAD, 3n * WAD) === 333_333_333_333_333_333n;
 */
export function divWad(x: bigint, y: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(y, "uint", 256, "y");
  // Equivalent to `require(y != 0 && x <= type(uint256).max / WAD)`.
  if (iszero(mul(y, lt(x, add(1n, div(not(0n), WAD)))))) throw new DivWadFailedError();
  return div(mul(x, WAD), y);
}

/**
 * `(x * WAD) / y` rounded up; throws `DivWadFailedError` if `y` is 0 or `x·WAD` overflows.
 *
 * @example
 * divWadUp(WAD, 3n * WAD) === 333_333_333_333_333_334n;
 */
export function divWadUp(x: bigint, y: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(y, "uint", 256, "y");
  // Equivalent to `require(y != 0 && x <= type(uint256).max / WAD)`.
  if (iszero(mul(y, lt(x, add(1n, div(not(0n), WAD)))))) throw new DivWadFailedError();
  return add(iszero(iszero(mod(mul(x, WAD), y))), div(mul(x, WAD), y));
}

/**
 * `ceil(x / d)`; throws `DivFailedError` if `d` is 0.
 *
 * @example
 * divUp(7n, 2n) === 4n;
 */
export function divUp(x: bigint, d: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(d, "uint", 256, "d");
  if (iszero(d)) throw new DivFailedError();
  return add(iszero(iszero(mod(x, d))), div(x, d));
}

/**
 * `ceil(x * y / d)`; throws `MulDivFailedError` if `d` is 0 or `x·y` overflows 256 bits.
 *
 * @example
 * mulDivUp(10n, 3n, 4n) === 8n;
 */
export function mulDivUp(x: bigint, y: bigint, d: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(y, "uint", 256, "y");
  assertType(d, "uint", 256, "d");
  const z = mul(x, y);
  // Equivalent to `require(d != 0 && (y == 0 || x <= type(uint256).max / y))`.
  if (iszero(mul(or(iszero(x), eq(div(z, x), y)), d))) throw new MulDivFailedError();
  return add(iszero(iszero(mod(z, d))), div(z, d));
}

/**
 * `floor(x * y / d)` with a 512-bit intermediate; throws `FullMulDivFailedError` if `d` is 0 or
 * the quotient does not fit in 256 bits.
 *
 * @example
 * fullMulDiv(2n ** 255n, 4n, 8n) === 2n ** 254n;
 */
export function fullMulDiv(x: bigint, y: bigint, d: bigint): bigint {
  assertType(x, "uint", 256, "x");
  assertType(y, "uint", 256, "y");
  assertType(d, "uint", 256, "d");
  // 512-bit multiply `[p1 p0] = x * y`; `z` is `p0` until the end.
  let z = mul(x, y);
  // If overflows (or d == 0).
  if (iszero(mul(or(iszero(x), eq(div(z, x), y)), d))) {
    const mm = mulmod(x, y, not(0n));
    const p1 = sub(mm, add(z, lt(mm, z))); // Upper 256 bits of `x * y`.
    // Make division exact by subtracting the remainder from `[p1 p0]`.
    const r = mulmod(x, y, d);
    const t = and(d, sub(0n, d)); // The least significant bit of `d`.
    if (iszero(gt(d, p1))) throw new FullMulDivFailedError();
    d = div(d, t);
    // Invert `d mod 2**256` by Newton–Raphson from a seed correct to four bits.
    let inv = xor(2n, mul(3n, d));
    inv = mul(inv, sub(2n, mul(d, inv))); // inverse mod 2**8
    inv = mul(inv, sub(2n, mul(d, inv))); // inverse mod 2**16
    inv = mul(inv, sub(2n, mul(d, inv))); // inverse mod 2**32
    inv = mul(inv, sub(2n, mul(d, inv))); // inverse mod 2**64
    inv = mul(inv, sub(2n, mul(d, inv))); // inverse mod 2**128
    z = mul(
      or(mul(sub(p1, gt(r, z)), add(div(sub(0n, t), t), 1n)), div(sub(z, r), t)),
      mul(sub(2n, mul(d, inv)), inv), // inverse mod 2**256
    );
    return z;
  }
  return div(z, d);
}

/**
 * `exp(x)` in WAD for `x` in WAD (an approximation, ~1 wei); 0 for `x ≤ −41.45e18`; throws
 * `ExpOverflowError` for `x ≥ 135.3e18`.
 *
 * @example
 * expWad(0n) === WAD;
 */
export function expWad(x: bigint): bigint {
  assertType(x, "int", 256, "x");
  // When the result is less than 0.5 we return zero.
  if (x <= -41446531673892822313n) return 0n;
  if (iszero(slt(word(x), 135305999368893231589n))) throw new ExpOverflowError();
  // The rest is unchecked Solidity on int256: `<<` wraps, `/` is sdiv, `>>` is sar.
  let w = sdiv(shl(78n, word(x)), 5n ** 18n);
  // Reduce range to (−½ ln 2, ½ ln 2)·2**96: exp(x) = exp(x')·2**k.
  const k = sar(96n, add(sdiv(shl(96n, w), 54916777467707473351141471128n), 2n ** 95n));
  w = sub(w, mul(k, 54916777467707473351141471128n));
  // (6, 7)-term rational approximation; `p` monic.
  let y = add(w, 1346386616545796478920950773328n);
  y = add(sar(96n, mul(y, w)), 57155421227552351082224309758442n);
  let p = sub(add(y, w), 94201549194550492254356042504812n);
  p = add(sar(96n, mul(p, y)), 28719021644029726153956944680412240n);
  p = add(mul(p, w), 4385272521454847904659076985693276n << 96n);
  // `p` stays in 2**192 basis.
  let q = sub(w, 2855989394907223263936484059900n);
  q = add(sar(96n, mul(q, w)), 50020603652535783019961831881945n);
  q = sub(sar(96n, mul(q, w)), 533845033583426703283633433725380n);
  q = add(sar(96n, mul(q, w)), 3604857256930695427073651918091429n);
  q = sub(sar(96n, mul(q, w)), 14423608567350463180887372962807573n);
  q = add(sar(96n, mul(q, w)), 26449188498355588339934803723976023n);
  const r = sdiv(p, q);
  // Scale factor, 2**k and 1e18/2**96 at once, through a 2**213 basis.
  return signed(shr(sub(195n, k), mul(r, 3822833074963236453042738258902158003155416615667n)));
}

/**
 * `ln(x)` in WAD for `x` in WAD (an approximation, ~1 wei); throws `LnWadUndefinedError` for
 * `x ≤ 0`.
 *
 * @example
 * lnWad(WAD) === 0n;
 */
export function lnWad(x: bigint): bigint {
  assertType(x, "int", 256, "x");
  let v = word(x);
  // `r = 255 ^ log2(x)` (the log2 of the word, before the sign check, as in Solady).
  let r = shl(7n, lt(0xffffffffffffffffffffffffffffffffn, v));
  r = or(r, shl(6n, lt(0xffffffffffffffffn, shr(r, v))));
  r = or(r, shl(5n, lt(0xffffffffn, shr(r, v))));
  r = or(r, shl(4n, lt(0xffffn, shr(r, v))));
  r = or(r, shl(3n, lt(0xffn, shr(r, v))));
  if (x <= 0n) throw new LnWadUndefinedError();
  r = xor(
    r,
    byte(
      and(0x1fn, shr(shr(r, v), 0x8421084210842108cc6318c6db6d54ben)),
      0xf8f9f9faf9fdfafbf9fdfcfdfafbfcfef9fafdfafcfcfbfefafafcfbffffffffn,
    ),
  );
  // Reduce range of x to (1, 2)·2**96.
  v = shr(159n, shl(r, v));
  // (8, 8)-term rational approximation; `p` monic.
  let p = sub(
    sar(
      96n,
      mul(
        add(
          43456485725739037958740375743393n,
          sar(
            96n,
            mul(add(24828157081833163892658089445524n, sar(96n, mul(add(3273285459638523848632254066296n, v), v))), v),
          ),
        ),
        v,
      ),
    ),
    11111509109440967052023855526967n,
  );
  p = sub(sar(96n, mul(p, v)), 45023709667254063763336534515857n);
  p = sub(sar(96n, mul(p, v)), 14706773417378608786704636184526n);
  p = sub(mul(p, v), shl(96n, 795164235651350426258249787498n));
  // `p` stays in 2**192 basis; `q` is monic.
  let q = add(5573035233440673466300451813936n, v);
  q = add(71694874799317883764090561454958n, sar(96n, mul(v, q)));
  q = add(283447036172924575727196451306956n, sar(96n, mul(v, q)));
  q = add(401686690394027663651624208769553n, sar(96n, mul(v, q)));
  q = add(204048457590392012362485061816622n, sar(96n, mul(v, q)));
  q = add(31853899698501571402653359427138n, sar(96n, mul(v, q)));
  q = add(909429971244387300277376558375n, sar(96n, mul(v, q)));
  p = sdiv(p, q);
  // Scale factor `s·5**18·2**96`.
  p = mul(1677202110996718588342820967067443963516166n, p);
  // Add `ln(2)·k·5**18·2**192`.
  p = add(mul(16597577552685614221487285958193947469193820559219878177908093499208371n, sub(159n, r)), p);
  // Add `ln(2**96 / 10**18)·5**18·2**192`.
  p = add(600920179829731861736702779321621459595472258049074101567377883020018308n, p);
  // Base conversion: mul `2**18 / 2**192`.
  return signed(sar(174n, p));
}

/**
 * `floor(√x)`.
 *
 * @example
 * sqrt(10n ** 36n) === 10n ** 18n;
 */
export function sqrt(x: bigint): bigint {
  assertType(x, "uint", 256, "x");
  // `floor(sqrt(2**15)) = 181`; starting at 181 saves a multiplication later.
  let z = 181n;
  // Initial estimate: `y = x / 2**r` with `y` in [256, 256·2**16).
  let r = shl(7n, lt(0xffffffffffffffffffffffffffffffffffn, x));
  r = or(r, shl(6n, lt(0xffffffffffffffffffn, shr(r, x))));
  r = or(r, shl(5n, lt(0xffffffffffn, shr(r, x))));
  r = or(r, shl(4n, lt(0xffffffn, shr(r, x))));
  z = shl(shr(1n, r), z);
  z = shr(18n, mul(z, add(shr(r, x), 65536n)));
  // Seven Babylonian iterations.
  for (let i = 0; i < 7; i++) z = shr(1n, add(z, div(x, z)));
  // If `x+1` is a perfect square the iteration cycles; return the floor.
  return sub(z, lt(div(x, z), z));
}
