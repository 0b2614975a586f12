/**
 * Storage keys, as both adapters accept them: `/`-separated segments of letters, digits, `.`,
 * `_` and `-`, each starting with a letter or digit (so never `.` or `..`). Keys come from
 * CreateUploadUrl, but a key is checked again at every adapter call: on disk it becomes a path,
 * and a key that could climb out of the storage directory must never reach the file system.
 * Since no segment starts with `.`, the local adapter's temporary files (`.name.*.part`) can
 * never be named by a key either.
 */
import { BuildStorageError } from "@ferry/domain";
import { Effect } from "effect";

export const MAX_KEY_LENGTH = 1024;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `key` is not a storage key, or undefined when it is one. */
export const keyProblem = (key: string): string | undefined => {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH)
    return `must be 1 to ${MAX_KEY_LENGTH} characters long`;
  const bad = key.split("/").find((segment) => !SEGMENT.test(segment));
  return bad === undefined
    ? undefined
    : "must be '/'-separated names of letters, digits, '.', '_' and '-', each starting with a letter or digit";
};

/** `key`, or a BuildStorageError saying why it is not a storage key. */
export const checkKey = (key: string): Effect.Effect<string, BuildStorageError> => {
  const problem = keyProblem(key);
  return problem === undefined
    ? Effect.succeed(key)
    : Effect.fail(
        new BuildStorageError({
          reason: `invalid storage key ${JSON.stringify(key.slice(0, 200))}: ${problem}`,
        }),
      );
};

/**
 * An upload request both adapters accept: a storage key, and a declared size (when there is one)
 * within the maximum the URL will take.
 */
export const checkUploadRequest = (
  key: string,
  { maxSizeBytes, sizeBytes }: { readonly maxSizeBytes: number; readonly sizeBytes?: number },
): Effect.Effect<string, BuildStorageError> =>
  Effect.flatMap(checkKey(key), (checked) =>
    sizeBytes !== undefined && sizeBytes > maxSizeBytes
      ? Effect.fail(
          new BuildStorageError({
            reason: `size ${sizeBytes} is above the maximum of ${maxSizeBytes} bytes`,
          }),
        )
      : Effect.succeed(checked),
  );

/** The most objects one `list` page returns (S3's own page limit). */
export const MAX_LIST_LIMIT = 1000;

/**
 * A listing's prefix and page size, checked: the prefix is a key followed by `/` (so it names a
 * directory on disk and never climbs out of the root), the limit 1 to MAX_LIST_LIMIT.
 */
export const checkListing = (
  prefix: string,
  limit: number,
): Effect.Effect<string, BuildStorageError> => {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    return Effect.fail(
      new BuildStorageError({
        reason: `a listing returns 1 to ${MAX_LIST_LIMIT} objects per page (asked: ${limit})`,
      }),
    );
  if (!prefix.endsWith("/"))
    return Effect.fail(
      new BuildStorageError({
        reason: `a listing prefix ends with "/" (got ${JSON.stringify(prefix.slice(0, 200))})`,
      }),
    );
  return Effect.as(checkKey(prefix.slice(0, -1)), prefix);
};
