/** Exit codes of `pledge-vol-signer` (README). */
export const ExitCode = {
  UNEXPECTED: 1,
  USAGE: 2,
  /** A quote file or a payload file is malformed. */
  INPUT: 3,
  /** The quotes cannot be fitted to a smile the oracle accepts: nothing signed or posted. */
  REJECTED: 4,
  /** The signing key is missing or malformed. */
  KEY: 5,
  /** The chain, the oracle or the post refused (wrong chain, not listed, too few signatures, revert). */
  CHAIN: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every refusal of the signer: a message meant to be read on one line, and the exit code the CLI
 * ends with.
 *
 * @example
 * throw new VolSignerError(ExitCode.INPUT, "quotes.csv:3: strike is not a positive decimal");
 */
export class VolSignerError extends Error {
  override name = "VolSignerError";
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
