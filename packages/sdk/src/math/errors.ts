/**
 * Errors of the math ports. Each one stands for exactly one on-chain revert and carries its
 * Solidity signature and arguments, so a caller (or a parity test) can compare it with the
 * revert data the chain returns.
 */

/**
 * Base of every error a math port throws in place of a revert.
 *
 * @example
 * try { lnWad(0n); } catch (e) { if (e instanceof MathError) console.log(e.message); }
 */
export class MathError extends Error {
  override name = "MathError";
  /** The Solidity error signature, e.g. `"MulWadFailed()"` or `"Panic(uint256)"`. */
  readonly signature: string;
  /** The error's arguments, in order. */
  readonly args: readonly bigint[];

  constructor(signature: string, args: readonly bigint[] = [], message: string = signature) {
    super(message);
    this.signature = signature;
    this.args = args;
  }
}

/**
 * Solady `MulWadFailed()`: `x·y` overflows 256 bits.
 *
 * @example
 * let error;
 * try { mulWad(2n ** 200n, 2n ** 200n); } catch (e) { error = e; }
 * error instanceof MulWadFailedError; // true
 * error.signature; // "MulWadFailed()"
 */
export class MulWadFailedError extends MathError {
  override name = "MulWadFailedError";
  constructor() {
    super("MulWadFailed()");
  }
}

/**
 * Solady `DivWadFailed()`: zero divisor or `x·1e18` overflows 256 bits.
 *
 * @example
 * let error;
 * try { divWad(10n ** 18n, 0n); } catch (e) { error = e; }
 * error instanceof DivWadFailedError; // true
 * error.signature; // "DivWadFailed()"
 */
export class DivWadFailedError extends MathError {
  override name = "DivWadFailedError";
  constructor() {
    super("DivWadFailed()");
  }
}

/**
 * Solady `DivFailed()`: zero divisor.
 *
 * @example
 * let error;
 * try { divUp(1n, 0n); } catch (e) { error = e; }
 * error instanceof DivFailedError; // true
 * error.signature; // "DivFailed()"
 */
export class DivFailedError extends MathError {
  override name = "DivFailedError";
  constructor() {
    super("DivFailed()");
  }
}

/**
 * Solady `MulDivFailed()`: zero divisor or `x·y` overflows 256 bits.
 *
 * @example
 * let error;
 * try { mulDivUp(1n, 1n, 0n); } catch (e) { error = e; }
 * error instanceof MulDivFailedError; // true
 * error.signature; // "MulDivFailed()"
 */
export class MulDivFailedError extends MathError {
  override name = "MulDivFailedError";
  constructor() {
    super("MulDivFailed()");
  }
}

/**
 * Solady `FullMulDivFailed()`: zero divisor or a quotient of more than 256 bits.
 *
 * @example
 * let error;
 * try { fullMulDiv(2n ** 255n, 4n, 1n); } catch (e) { error = e; }
 * error instanceof FullMulDivFailedError; // true
 * error.signature; // "FullMulDivFailed()"
 */
export class FullMulDivFailedError extends MathError {
  override name = "FullMulDivFailedError";
  constructor() {
    super("FullMulDivFailed()");
  }
}

/**
 * Solady `LnWadUndefined()`: `lnWad` of a value ≤ 0.
 *
 * @example
 * let error;
 * try { lnWad(0n); } catch (e) { error = e; }
 * error instanceof LnWadUndefinedError; // true
 * error.signature; // "LnWadUndefined()"
 */
export class LnWadUndefinedError extends MathError {
  override name = "LnWadUndefinedError";
  constructor() {
    super("LnWadUndefined()");
  }
}

/**
 * Solady `ExpOverflow()`: `expWad` of a value whose exponential does not fit in `int256`.
 *
 * @example
 * let error;
 * try { expWad(136n * 10n ** 18n); } catch (e) { error = e; }
 * error instanceof ExpOverflowError; // true
 * error.signature; // "ExpOverflow()"
 */
export class ExpOverflowError extends MathError {
  override name = "ExpOverflowError";
  constructor() {
    super("ExpOverflow()");
  }
}

/**
 * Solidity `Panic(0x11)`: checked arithmetic overflowed or underflowed.
 *
 * @example
 * let error;
 * try { toWadDown(2n ** 254n, 6); } catch (e) { error = e; }
 * error instanceof MathOverflowError; // true
 * error.signature; // "Panic(uint256)"
 */
export class MathOverflowError extends MathError {
  override name = "MathOverflowError";
  constructor() {
    super("Panic(uint256)", [0x11n], "Panic(0x11): arithmetic overflow or underflow");
  }
}

/**
 * An argument outside its Solidity type (e.g. a negative `uint256`). The chain cannot receive
 * such a value, so this is not a revert: it is a caller bug.
 *
 * @example
 * let error;
 * try { mulWad(-1n, 10n ** 18n); } catch (e) { error = e; }
 * error instanceof MathInputError; // true
 * error.message; // "x -1 is not a uint256"
 */
export class MathInputError extends RangeError {
  override name = "MathInputError";
}

/**
 * Checks that `x` fits the Solidity type (`uint<bits>` or `int<bits>`), as ABI decoding would.
 *
 * @example
 * assertType(5n, "uint", 8); // ok
 * assertType(-1n, "uint", 256); // throws MathInputError
 */
export function assertType(x: bigint, kind: "uint" | "int", bits: number, label = "value"): void {
  const b = BigInt(bits);
  const ok = kind === "uint" ? x >= 0n && x < 1n << b : x >= -(1n << (b - 1n)) && x < 1n << (b - 1n);
  if (!ok) throw new MathInputError(`${label} ${x} is not a ${kind}${bits}`);
}
