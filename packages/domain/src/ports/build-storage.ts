/** Where uploaded build contexts live: a local directory or S3-compatible storage. */
import { Context, type Effect, type Option, Schema } from "effect";

declare global {
  /**
   * The WHATWG stream type that `read` returns. Declared empty here only so that the domain
   * compiles without DOM or Node types (its tsconfig has neither); in every program that has
   * them (adapters, apps), this merges into the real declaration and adds nothing.
   */
  // biome-ignore lint/suspicious/noExplicitAny: must repeat the standard declaration's `R = any` exactly to merge with it.
  interface ReadableStream<R = any> {}
}

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

export interface UploadUrlOptions {
  readonly maxSizeBytes: number;
  readonly expiresInSeconds: number;
  /**
   * The exact size of the upload, when the client said it: the URL then accepts exactly that
   * many bytes (its `Content-Length` is signed and part of the returned headers).
   */
  readonly sizeBytes?: number;
}

/** One stored object, as a listing shows it. */
export interface StoredObject {
  readonly key: string;
  readonly sizeBytes: number;
  /** When it was last written (epoch ms): for an upload, when the upload finished. */
  readonly lastModifiedAt: number;
}

export interface StoredObjectPage {
  /** In key order (byte order; keys are ASCII). */
  readonly objects: ReadonlyArray<StoredObject>;
  /** Pass as `after` for the next page; undefined when this was the last one. */
  readonly nextAfter: string | undefined;
}

export interface ListOptions {
  /** Only keys strictly after this one (the previous page's nextAfter). */
  readonly after?: string | undefined;
  /** The most objects in one page (1 to 1000). */
  readonly limit: number;
}

export class BuildStorage extends Context.Tag("@ferry/domain/BuildStorage")<
  BuildStorage,
  {
    /** A URL that accepts one PUT of at most `maxSizeBytes` to `key` until `expiresAt`. */
    readonly createUploadUrl: (
      key: string,
      options: UploadUrlOptions,
    ) => Effect.Effect<UploadUrl, BuildStorageError>;
    /** The stored object's size, or None when nothing was uploaded under `key`. */
    readonly stat: (
      key: string,
    ) => Effect.Effect<Option.Option<{ readonly sizeBytes: number }>, BuildStorageError>;
    /**
     * The stored object's bytes, for the build step. Fails when nothing is stored under `key`.
     * A failure while the stream is read surfaces as the stream's error.
     */
    readonly read: (key: string) => Effect.Effect<ReadableStream<Uint8Array>, BuildStorageError>;
    /** Deletes the stored object; removing a key that holds nothing succeeds (retention repeats it). */
    readonly remove: (key: string) => Effect.Effect<void, BuildStorageError>;
    /**
     * One page of the objects whose key starts with `prefix` (a key followed by `/`, like
     * `projects/`), in key order: retention walks it to find uploads no deployment uses.
     */
    readonly list: (
      prefix: string,
      options: ListOptions,
    ) => Effect.Effect<StoredObjectPage, BuildStorageError>;
  }
>() {}

/**
 * The configured limits of build context uploads (ctrl: FERRY_UPLOAD_MAX_BYTES and
 * FERRY_UPLOAD_URL_TTL_SECONDS). CreateUploadUrl hands them out; CreateDeployment refuses a
 * stored archive above `maxSizeBytes`, since a presigned S3 URL cannot bound the size of an
 * upload whose size the client did not declare.
 */
export class BuildContextLimits extends Context.Tag("@ferry/domain/BuildContextLimits")<
  BuildContextLimits,
  { readonly maxSizeBytes: number; readonly uploadUrlTtlSeconds: number }
>() {}
