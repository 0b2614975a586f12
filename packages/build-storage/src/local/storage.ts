/**
 * BuildStorage in a local directory: the embedded default. Upload URLs point at ctrl's own
 * upload endpoint (upload-handler.ts), signed with a secret only ctrl holds.
 */
import { open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { BuildStorage, BuildStorageError } from "@ferry/domain";
import { Clock, Effect, Layer, Option } from "effect";
import { checkKey, checkListing, checkUploadRequest, keyProblem } from "../keys.ts";
import { fileOf } from "./files.ts";
import { uploadUrl } from "./upload-url.ts";

export interface LocalBuildStorageOptions {
  /** The storage directory; created on the first upload. */
  readonly root: string;
  /**
   * Where clients reach ctrl, e.g. `https://ferry.example.com`: upload URLs start with it. A
   * function when it is known only later (the listen URL of a server on port 0).
   */
  readonly publicBaseUrl: string | (() => string);
  /** Signs upload URLs; the upload handler must hold the same. Never logged. */
  readonly signingSecret: Uint8Array;
}

const failure = (what: string, error: unknown) =>
  new BuildStorageError({
    reason: `${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
  });

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

export const makeLocalBuildStorage = (options: LocalBuildStorageOptions): BuildStorage["Type"] => {
  const { publicBaseUrl } = options;
  const baseUrl = typeof publicBaseUrl === "string" ? () => publicBaseUrl : publicBaseUrl;
  const locate = (key: string) =>
    Effect.flatMap(checkKey(key), (checked) => {
      const file = fileOf(options.root, checked);
      return file === undefined
        ? Effect.fail(new BuildStorageError({ reason: `storage key "${key}" leaves the root` }))
        : Effect.succeed(file);
    });

  return BuildStorage.of({
    createUploadUrl: (key, { maxSizeBytes, expiresInSeconds, sizeBytes }) =>
      Effect.gen(function* () {
        yield* checkUploadRequest(key, {
          maxSizeBytes,
          ...(sizeBytes === undefined ? {} : { sizeBytes }),
        });
        const now = yield* Clock.currentTimeMillis;
        const expires = Math.floor(now / 1000) + expiresInSeconds;
        const grant = { key, expires, max: maxSizeBytes, size: sizeBytes };
        return {
          url: uploadUrl(baseUrl(), options.signingSecret, grant),
          expiresAt: expires * 1000,
          headers: sizeBytes === undefined ? {} : { "content-length": String(sizeBytes) },
          maxSizeBytes,
        };
      }),

    stat: (key) =>
      Effect.flatMap(locate(key), (file) =>
        Effect.tryPromise({ try: () => stat(file), catch: (error) => error }).pipe(
          Effect.map((info) =>
            info.isFile() ? Option.some({ sizeBytes: info.size }) : Option.none(),
          ),
          Effect.catchAll((error) =>
            errorCode(error) === "ENOENT"
              ? Effect.succeedNone
              : Effect.fail(failure(`cannot read build context "${key}"`, error)),
          ),
        ),
      ),

    read: (key) =>
      Effect.flatMap(locate(key), (file) =>
        Effect.tryPromise({
          // Opened now, so that a missing file fails here rather than mid-stream.
          try: async () => {
            const handle = await open(file, "r");
            if (!(await handle.stat()).isFile()) {
              await handle.close();
              return undefined;
            }
            // Closes the handle when the stream ends or is cancelled.
            return Readable.toWeb(handle.createReadStream()) as ReadableStream<Uint8Array>;
          },
          catch: (error) => error,
        }).pipe(
          Effect.catchAll((error) =>
            errorCode(error) === "ENOENT"
              ? Effect.succeed(undefined)
              : Effect.fail(failure(`cannot read build context "${key}"`, error)),
          ),
          Effect.flatMap((stream) =>
            stream === undefined
              ? Effect.fail(
                  new BuildStorageError({ reason: `no build context stored at "${key}"` }),
                )
              : Effect.succeed(stream),
          ),
        ),
      ),

    remove: (key) =>
      Effect.flatMap(locate(key), (file) =>
        Effect.tryPromise({
          try: () => rm(file, { force: true }),
          catch: (error) => failure(`cannot remove build context "${key}"`, error),
        }),
      ),

    list: (prefix, { after, limit }) =>
      Effect.gen(function* () {
        yield* checkListing(prefix, limit);
        const directory = fileOf(options.root, prefix.slice(0, -1));
        if (directory === undefined)
          return yield* new BuildStorageError({ reason: `prefix "${prefix}" leaves the root` });
        return yield* Effect.tryPromise({
          try: async () => {
            const keys = await keysUnder(directory, prefix);
            const objects = [];
            let index = after === undefined ? 0 : keys.findIndex((key) => key > after);
            if (index < 0) index = keys.length;
            for (; index < keys.length && objects.length < limit; index++) {
              const key = keys[index] as string;
              // A file removed since the directory was read is simply not listed.
              const info = await stat(path.join(directory, key.slice(prefix.length))).catch(
                (error: NodeJS.ErrnoException) => {
                  if (error.code === "ENOENT") return undefined;
                  throw error;
                },
              );
              if (info !== undefined)
                objects.push({ key, sizeBytes: info.size, lastModifiedAt: info.mtimeMs });
            }
            const last = keys[index - 1];
            return { objects, nextAfter: index < keys.length ? last : undefined };
          },
          catch: (error) => failure(`cannot list build contexts under "${prefix}"`, error),
        });
      }),
  });
};

/**
 * Every key stored under `directory` (whose key prefix is `prefix`), sorted. Files that no key
 * can name (an upload's temporary `.name.*.part`, anything else a key would not pass) are not
 * objects and are left out.
 */
const keysUnder = async (directory: string, prefix: string): Promise<string[]> => {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
      throw error;
    },
  );
  const keys: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = path.relative(directory, path.join(entry.parentPath, entry.name));
    const key = `${prefix}${relative.split(path.sep).join("/")}`;
    if (keyProblem(key) === undefined) keys.push(key);
  }
  // Byte order, like S3's listing (keys are ASCII).
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
};

export const localBuildStorage = (options: LocalBuildStorageOptions): Layer.Layer<BuildStorage> =>
  Layer.sync(BuildStorage, () => makeLocalBuildStorage(options));
