/**
 * The domain's failures, as data. Each one maps to exactly one Connect code at
 * the API edge (apps map them in one function); anything not listed here is
 * a defect and surfaces as Internal.
 *
 * | error                | Connect code        |
 * | -------------------- | ------------------- |
 * | ValidationError      | InvalidArgument     |
 * | NotFound             | NotFound            |
 * | AlreadyExists        | AlreadyExists       |
 * | PreconditionFailed   | FailedPrecondition  |
 * | Unauthenticated      | Unauthenticated     |
 * | PermissionDenied     | PermissionDenied    |
 * | WorkflowUnavailable  | Unavailable         |
 */
import { Schema } from "effect";

export const Violation = Schema.Struct({
  /** The request field, in the API's snake_case path form, e.g. `git_commit.author_handle`. */
  field: Schema.String,
  /** What is wrong and what is accepted, e.g. "must be at most 256 bytes (got 300)". */
  message: Schema.String,
});
export type Violation = typeof Violation.Type;

/** The request is malformed; every problem found is listed, not only the first. */
export class ValidationError extends Schema.TaggedError<ValidationError>()("ValidationError", {
  violations: Schema.NonEmptyArray(Violation),
}) {
  static single(field: string, message: string): ValidationError {
    return new ValidationError({ violations: [{ field, message }] });
  }
  override get message(): string {
    return this.violations.map((v) => `${v.field}: ${v.message}`).join("; ");
  }
}

export const ResourceKind = Schema.Literal(
  "workspace",
  "project",
  "environment",
  "deployment",
  "variable",
  "api key",
  "build context",
);
export type ResourceKind = typeof ResourceKind.Type;

/** The resource does not exist, or belongs to another workspace (never tell them apart). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  resource: ResourceKind,
  id: Schema.String,
  /** What the user can do about it, when there is something more to say than "not found". */
  hint: Schema.optional(Schema.String),
}) {
  override get message(): string {
    const base = `${this.resource} "${this.id}" not found`;
    return this.hint === undefined ? base : `${base}: ${this.hint}`;
  }
}

/** A create collided with an existing resource of the same unique name. */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", {
  resource: ResourceKind,
  id: Schema.String,
}) {
  override get message(): string {
    return `${this.resource} "${this.id}" already exists`;
  }
}

/** The request is well formed but the current state forbids it. */
export class PreconditionFailed extends Schema.TaggedError<PreconditionFailed>()(
  "PreconditionFailed",
  { reason: Schema.String },
) {
  override get message(): string {
    return this.reason;
  }
}

export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason;
  }
}

export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", {
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason;
  }
}

/** The durable workflow engine could not be reached or refused the request. Retry later. */
export class WorkflowUnavailable extends Schema.TaggedError<WorkflowUnavailable>()(
  "WorkflowUnavailable",
  {
    reason: Schema.String,
    /**
     * The idempotency key the call carried, when a retry with it attaches to the operation
     * if the engine queued it (Promote, Rollback; a generated key when the client sent none).
     */
    idempotencyKey: Schema.optional(Schema.String),
  },
) {
  override get message(): string {
    return this.reason;
  }
}

/** Every failure a use case may return to a client. */
export type DomainError =
  | ValidationError
  | NotFound
  | AlreadyExists
  | PreconditionFailed
  | Unauthenticated
  | PermissionDenied
  | WorkflowUnavailable;
