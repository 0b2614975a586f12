/**
 * Build contexts in a local directory: enough for CreateDeployment to check
 * that an uploaded archive exists. Upload URLs (CreateUploadUrl) come with
 * build from source (issue #5), which brings the real adapters (local signed
 * URLs served by ctrl, and S3).
 */
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { BuildStorage, BuildStorageError } from "@ferry/domain";
import { Effect, Layer, Option } from "effect";

/** The file of `key` under `root`; refuses keys that would leave it. */
const fileOf = (root: string, key: string): Effect.Effect<string, BuildStorageError> => {
  const file = path.resolve(root, key);
  return file.startsWith(`${path.resolve(root)}${path.sep}`)
    ? Effect.succeed(file)
    : Effect.fail(
        new BuildStorageError({ reason: `storage key "${key}" leaves the storage root` }),
      );
};

const failure = (what: string, error: unknown) =>
  new BuildStorageError({
    reason: `${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
  });

export const localBuildStorage = (root: string): Layer.Layer<BuildStorage> =>
  Layer.succeed(BuildStorage, {
    createUploadUrl: () =>
      Effect.fail(
        new BuildStorageError({
          reason:
            "upload URLs are not available yet: they arrive with build from source (issue #5)",
        }),
      ),
    stat: (key) =>
      Effect.flatMap(fileOf(root, key), (file) =>
        Effect.tryPromise({
          try: () => stat(file),
          catch: (error) => error,
        }).pipe(
          Effect.map((info) =>
            info.isFile() ? Option.some({ sizeBytes: info.size }) : Option.none(),
          ),
          Effect.catchAll((error) =>
            (error as NodeJS.ErrnoException).code === "ENOENT"
              ? Effect.succeedNone
              : Effect.fail(failure(`cannot read build context "${key}"`, error)),
          ),
        ),
      ),
    remove: (key) =>
      Effect.flatMap(fileOf(root, key), (file) =>
        Effect.tryPromise({
          try: () => rm(file, { force: true }),
          catch: (error) => failure(`cannot remove build context "${key}"`, error),
        }),
      ),
  });
