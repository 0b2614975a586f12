/**
 * THE mapping from the domain's failures to Connect errors: every RPC's
 * failure goes through `toConnectError`, so a code is decided in one place.
 *
 * | domain error         | Connect code       |
 * | -------------------- | ------------------ |
 * | ValidationError      | InvalidArgument (every violation in the message, and as google.rpc.BadRequest details) |
 * | NotFound             | NotFound           |
 * | AlreadyExists        | AlreadyExists      |
 * | PreconditionFailed   | FailedPrecondition |
 * | Unauthenticated      | Unauthenticated    |
 * | PermissionDenied     | PermissionDenied   |
 * | WorkflowUnavailable  | Unavailable        |
 * | anything else        | Internal: "internal error (request id …)"; the cause is logged, never sent |
 *
 * Anything else is a defect (a bug, or a dependency failing in a way no use
 * case names): the client learns only that it happened and the request id to
 * quote; the log line with the same request id holds the cause.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { DomainError } from "@ferry/domain";
import { Cause, Option } from "effect";
import { BadRequestSchema } from "./descriptors.ts";
import type { Log } from "./log.ts";

export const REQUEST_ID_HEADER = "x-request-id";

const CODES: Readonly<Record<DomainError["_tag"], Code>> = {
  ValidationError: Code.InvalidArgument,
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  PreconditionFailed: Code.FailedPrecondition,
  Unauthenticated: Code.Unauthenticated,
  PermissionDenied: Code.PermissionDenied,
  WorkflowUnavailable: Code.Unavailable,
};

const isDomainError = (error: unknown): error is DomainError =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  typeof error._tag === "string" &&
  Object.hasOwn(CODES, error._tag);

/** A domain failure as the client sees it. */
export const domainErrorToConnectError = (error: DomainError): ConnectError =>
  error._tag === "ValidationError"
    ? new ConnectError(error.message, Code.InvalidArgument, undefined, [
        {
          desc: BadRequestSchema,
          value: {
            fieldViolations: error.violations.map((v) => ({
              field: v.field,
              description: v.message,
            })),
          },
        },
      ])
    : new ConnectError(error.message, CODES[error._tag]);

export interface ErrorContext {
  readonly requestId: string;
  readonly procedure: string;
  readonly log: Log;
}

/** What a client gets for a defect: nothing but the fact and the id to quote. */
export const internalError = (requestId: string): ConnectError =>
  new ConnectError(
    `internal error (request id ${requestId}); the server log has the details`,
    Code.Internal,
    { [REQUEST_ID_HEADER]: requestId },
  );

/**
 * The one function that turns a failed use case into what the client sees.
 * An expected failure becomes its code; a defect, an interruption or an
 * unknown failure is logged with its cause and becomes a generic Internal.
 */
export const toConnectError = (
  cause: Cause.Cause<unknown>,
  context: ErrorContext,
): ConnectError => {
  const failure = Cause.failureOption(cause);
  if (Option.isSome(failure) && isDomainError(failure.value))
    return domainErrorToConnectError(failure.value);
  if (Option.isSome(failure) && failure.value instanceof ConnectError) return failure.value;
  context.log.error("rpc failed with an internal error", {
    requestId: context.requestId,
    procedure: context.procedure,
    cause: Cause.pretty(cause, { renderErrorCause: true }),
  });
  return internalError(context.requestId);
};

/** The same, for a value thrown outside Effect (a promise that rejected). */
export const thrownToConnectError = (thrown: unknown, context: ErrorContext): ConnectError =>
  thrown instanceof ConnectError ? thrown : toConnectError(Cause.die(thrown), context);
