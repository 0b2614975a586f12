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

/** What to check for the S3 error codes that name a configuration problem. */
const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  SignatureDoesNotMatch: "check buildStorage.secretAccessKey (and accessKeyId)",
  InvalidAccessKeyId: "check buildStorage.accessKeyId",
  RequestTimeTooSkewed: "this machine's clock is too far off; correct it (NTP)",
  AccessDenied: "the credentials may not write to the bucket; check their policy",
  NoSuchBucket: "check buildStorage.bucket",
  AuthorizationHeaderMalformed: "check buildStorage.region",
  PermanentRedirect: "check buildStorage.region and endpoint",
};

/**
 * Build storage (S3) refused the upload: a 3xx or 4xx answer other than a timeout or throttling,
 * i.e. the configuration is wrong (credentials, bucket, region, the clock) and the same request
 * will be refused again, so retrying cannot help. `code` is S3's error code ("" when the answer
 * had none); the presigned URL and its signature are never part of it.
 */
export class BuildStorageRefused extends Schema.TaggedError<BuildStorageRefused>()(
  "BuildStorageRefused",
  { status: Schema.Number, code: Schema.String },
) {
  override get message(): string {
    const hint =
      REFUSAL_HINTS[this.code] ??
      "check buildStorage (endpoint, bucket, region, accessKeyId, secretAccessKey)";
    return `build storage refused the upload (HTTP ${this.status}${this.code === "" ? "" : `, ${this.code}`}): ${hint}; retrying will not help`;
  }
}
