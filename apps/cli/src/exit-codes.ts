/**
 * The exit codes of `ferry`, a contract for scripts (documented in apps/cli/README.md).
 * Chosen so that a script can tell "retry later" (4) from "fix the request" (2, 3) and from
 * "the operation ran and did not succeed" (1).
 */
export const ExitCode = {
  /** Everything asked for succeeded (a deploy or watch ended READY). */
  Ok: 0,
  /** The operation ran and ended badly: a deployment FAILED, was CANCELLED or SUPERSEDED, or a batch entry failed. */
  OperationFailed: 1,
  /** Usage or configuration error, found before anything was sent: bad flags, no API key, a missing directory. */
  Usage: 2,
  /** The API refused the request (NotFound, InvalidArgument, FailedPrecondition, Unauthenticated, ...). */
  ApiRefused: 3,
  /** The server, or a service it depends on, could not be reached (network error, Unavailable, deadline); retrying may work. */
  Unreachable: 4,
  /** Interrupted (Ctrl-C) while following a deployment; the deployment itself goes on. */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
