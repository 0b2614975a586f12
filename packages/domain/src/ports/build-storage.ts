/** Where uploaded build contexts live: a local directory or S3-compatible storage. */
import { Context, type Effect, type Option, Schema } from "effect";

export class BuildStorageError extends Schema.TaggedError<BuildStorageError>()(
  "BuildStorageError",
  { reason: Schema.String },
) {
  override get message(): string {
    return this.reason;
  }
}

export interface UploadUrl {
  readonly url: string;
  readonly expiresAt: number;
  /** Headers the client must send with the PUT. */
  readonly headers: Readonly<Record<string, string>>;
  readonly maxSizeBytes: number;
}

export class BuildStorage extends Context.Tag("@ferry/domain/BuildStorage")<
  BuildStorage,
  {
    /** A URL that accepts one PUT of at most `maxSizeBytes` to `key` until `expiresAt`. */
    readonly createUploadUrl: (
      key: string,
      options: { readonly maxSizeBytes: number; readonly expiresInSeconds: number },
    ) => Effect.Effect<UploadUrl, BuildStorageError>;
    /** The stored object's size, or None when nothing was uploaded under `key`. */
    readonly stat: (
      key: string,
    ) => Effect.Effect<Option.Option<{ readonly sizeBytes: number }>, BuildStorageError>;
    readonly remove: (key: string) => Effect.Effect<void, BuildStorageError>;
  }
>() {}
