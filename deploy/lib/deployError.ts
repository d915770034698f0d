/**
 * A deployment refused before or after it ran, with one sentence per problem. The CLI prints each
 * problem on its own line and exits non-zero; it never prints a stack trace for these.
 */
export class DeployError extends Error {
  override name = "DeployError";

  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}
