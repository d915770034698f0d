/**
 * EVM word arithmetic on `bigint`, so that the ports of Solidity inline assembly in this folder
 * read opcode for opcode like the original. A word is a `bigint` in `[0, 2**256)`; signed opcodes
 * read it as two's complement. Every function returns a word.
 *
 * Written by hand: viem offers ABI encoding, not opcode semantics, and the ports must wrap,
 * truncate and shift exactly as the EVM does.
 */

/** 2**256. */
const MODULUS = 1n << 256n;
/** 2**256 − 1, `type(uint256).max`, the EVM's `not(0)`. */
export const MAX_UINT256 = MODULUS - 1n;
/** 2**255 − 1, `type(int256).max`. */
export const MAX_INT256 = (1n << 255n) - 1n;
/** −2**255, `type(int256).min`. */
export const MIN_INT256 = -(1n << 255n);

/**
 * Reduces any integer to a word (two's complement for negatives), as a Solidity cast to `uint256`.
 *
 * @example
 * word(-1n) === MAX_UINT256;
 */
export function word(x: bigint): bigint {
  return BigInt.asUintN(256, x);
}

/**
 * Reads a word as `int256` (two's complement), as a Solidity cast to `int256`.
 *
 * @example
 * signed(MAX_UINT256) === -1n;
 */
export function signed(x: bigint): bigint {
  return BigInt.asIntN(256, x);
}

/**
 * `add(a, b)`, wrapping mod 2**256.
 *
 * @example
 * add(MAX_UINT256, 2n) === 1n;
 */
export function add(a: bigint, b: bigint): bigint {
  return word(a + b);
}

/**
 * `sub(a, b)`, wrapping mod 2**256.
 *
 * @example
 * sub(0n, 1n) === MAX_UINT256;
 */
export function sub(a: bigint, b: bigint): bigint {
  return word(a - b);
}

/**
 * `mul(a, b)`, wrapping mod 2**256.
 *
 * @example
 * mul(1n << 255n, 2n) === 0n;
 */
export function mul(a: bigint, b: bigint): bigint {
  return word(a * b);
}

/**
 * `div(a, b)`: unsigned, rounded down; 0 when `b` is 0.
 *
 * @example
 * div(7n, 0n) === 0n;
 */
export function div(a: bigint, b: bigint): bigint {
  return b === 0n ? 0n : word(a) / word(b);
}

/**
 * `sdiv(a, b)`: signed, truncated toward zero; 0 when `b` is 0; `sdiv(−2**255, −1)` is −2**255.
 *
 * @example
 * signed(sdiv(word(-7n), 2n)) === -3n;
 */
export function sdiv(a: bigint, b: bigint): bigint {
  const d = signed(b);
  return d === 0n ? 0n : word(signed(a) / d);
}

/**
 * `mod(a, b)`: unsigned remainder; 0 when `b` is 0.
 *
 * @example
 * mod(7n, 4n) === 3n;
 */
export function mod(a: bigint, b: bigint): bigint {
  return b === 0n ? 0n : word(a) % word(b);
}

/**
 * `mulmod(a, b, n)`: `a·b mod n` without the intermediate wrapping; 0 when `n` is 0.
 *
 * @example
 * mulmod(MAX_UINT256, MAX_UINT256, MAX_UINT256) === 0n;
 */
export function mulmod(a: bigint, b: bigint, n: bigint): bigint {
  return n === 0n ? 0n : (word(a) * word(b)) % word(n);
}

/**
 * `lt(a, b)`: unsigned `a < b` as 1 or 0.
 *
 * @example
 * lt(1n, MAX_UINT256) === 1n;
 */
export function lt(a: bigint, b: bigint): bigint {
  return word(a) < word(b) ? 1n : 0n;
}

/**
 * `gt(a, b)`: unsigned `a > b` as 1 or 0.
 *
 * @example
 * gt(MAX_UINT256, 1n) === 1n;
 */
export function gt(a: bigint, b: bigint): bigint {
  return word(a) > word(b) ? 1n : 0n;
}

/**
 * `slt(a, b)`: signed `a < b` as 1 or 0.
 *
 * @example
 * slt(MAX_UINT256, 1n) === 1n; // −1 < 1
 */
export function slt(a: bigint, b: bigint): bigint {
  return signed(a) < signed(b) ? 1n : 0n;
}

/**
 * `sgt(a, b)`: signed `a > b` as 1 or 0.
 *
 * @example
 * sgt(1n, MAX_UINT256) === 1n; // 1 > −1
 */
export function sgt(a: bigint, b: bigint): bigint {
  return signed(a) > signed(b) ? 1n : 0n;
}

/**
 * `eq(a, b)` as 1 or 0.
 *
 * @example
 * eq(word(-1n), MAX_UINT256) === 1n;
 */
export function eq(a: bigint, b: bigint): bigint {
  return word(a) === word(b) ? 1n : 0n;
}

/**
 * `iszero(a)` as 1 or 0.
 *
 * @example
 * iszero(0n) === 1n;
 */
export function iszero(a: bigint): bigint {
  return word(a) === 0n ? 1n : 0n;
}

/**
 * `and(a, b)`, bitwise.
 *
 * @example
 * and(6n, 3n) === 2n;
 */
export function and(a: bigint, b: bigint): bigint {
  return word(a) & word(b);
}

/**
 * `or(a, b)`, bitwise.
 *
 * @example
 * or(4n, 1n) === 5n;
 */
export function or(a: bigint, b: bigint): bigint {
  return word(a) | word(b);
}

/**
 * `xor(a, b)`, bitwise.
 *
 * @example
 * xor(6n, 3n) === 5n;
 */
export function xor(a: bigint, b: bigint): bigint {
  return word(a) ^ word(b);
}

/**
 * `not(a)`, bitwise.
 *
 * @example
 * not(0n) === MAX_UINT256;
 */
export function not(a: bigint): bigint {
  return MAX_UINT256 ^ word(a);
}

/**
 * `shl(shift, value)`: 0 once `shift` ≥ 256.
 *
 * @example
 * shl(255n, 3n) === 1n << 255n;
 */
export function shl(shift: bigint, value: bigint): bigint {
  return word(shift) >= 256n ? 0n : word(word(value) << word(shift));
}

/**
 * `shr(shift, value)`: logical; 0 once `shift` ≥ 256.
 *
 * @example
 * shr(1n, MAX_UINT256) === MAX_INT256;
 */
export function shr(shift: bigint, value: bigint): bigint {
  return word(shift) >= 256n ? 0n : word(value) >> word(shift);
}

/**
 * `sar(shift, value)`: arithmetic (rounds toward −∞); 0 or −1 once `shift` ≥ 256.
 *
 * @example
 * sar(1n, word(-3n)) === word(-2n);
 */
export function sar(shift: bigint, value: bigint): bigint {
  const s = word(shift);
  return word(signed(value) >> (s >= 256n ? 256n : s));
}

/**
 * `byte(n, x)`: the `n`-th byte of `x` counting from the most significant; 0 once `n` ≥ 32.
 *
 * @example
 * byte(31n, 0x1234n) === 0x34n;
 */
export function byte(n: bigint, x: bigint): bigint {
  return word(n) >= 32n ? 0n : (word(x) >> (8n * (31n - word(n)))) & 0xffn;
}
