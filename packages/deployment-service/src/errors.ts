/**
 * The library's failures. Operations reject with the domain's tagged errors (ValidationError,
 * NotFound, AlreadyExists, PreconditionFailed, WorkflowUnavailable), re-exported here so that
 * callers can `instanceof` them; these are the library's own.
 */
import { Schema } from "effect";

/**
 * The database lacks migrations this version needs, and the service was not asked to apply
 * them. Run the command in the message (or pass `migrate: true`).
 */
export class DatabaseSchemaBehind extends Schema.TaggedError<DatabaseSchemaBehind>()(
  "DatabaseSchemaBehind",
  { pending: Schema.Array(Schema.String) },
) {
  override get message(): string {
    return `the database schema is behind: ${this.pending.length} migration(s) not applied (${this.pending.join(", ")}); run \`pnpm db migrate\` with DATABASE_URL set to this database (or start ctrl, which migrates), or pass \`migrate: true\` to createDeploymentService`;
  }
}

/** The service was closed: calls made after `close()`, and watches still open at that moment. */
export class ServiceClosed extends Schema.TaggedError<ServiceClosed>()("ServiceClosed", {}) {
  override get message(): string {
    return "the deployment service is closed; a watch can resume with the cursor of its last event on a new service";
  }
}

/**
 * A failure that no use case names (a bug, or a dependency failing in an unexpected way). The
 * cause is kept for logs (`cause`), and is never a secret value.
 */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", {
  detail: Schema.String,
}) {
  override get message(): string {
    return `internal error: ${this.detail}`;
  }
}
