import { ExitCode } from "./exit-codes.ts";

/**
 * A failure to report to the user: a message they can act on and the exit code it maps to.
 * `code` names the cause for `--json` output (a Connect code such as `not_found`, or a CLI
 * code such as `usage`).
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;

  constructor(message: string, exitCode: ExitCode, code: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** A usage or configuration problem found before any request (exit 2). */
export const usageError = (message: string): CliError =>
  new CliError(message, ExitCode.Usage, "usage");
