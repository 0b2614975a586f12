/** Git commit metadata attached to a deployment: optional, validated when present. */
import { Schema } from "effect";
import { hasControlCharacter } from "./text.ts";
import { truncateUtf8, utf8ByteLength } from "./utf8.ts";

export const COMMIT_MESSAGE_MAX_BYTES = 10240;
export const AUTHOR_HANDLE_MAX_BYTES = 256;
export const AUTHOR_AVATAR_URL_MAX_BYTES = 512;
export const BRANCH_MAX_BYTES = 255;
/** Timestamps below this (2001-09-09 in ms) are almost certainly seconds, not milliseconds. */
export const MIN_COMMIT_TIMESTAMP_MS = 1_000_000_000_000;
export const MAX_COMMIT_CLOCK_SKEW_MS = 60 * 60 * 1000;

/** A string of at most `limit` UTF-8 bytes. */
const StringOfMaxBytes = (limit: number) =>
  Schema.String.pipe(
    Schema.filter((value) => {
      const bytes = utf8ByteLength(value);
      return bytes <= limit || `must be at most ${limit} bytes (got ${bytes})`;
    }),
  );

/** Messages over the limit are truncated at a character boundary, never rejected. */
export const CommitMessage = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: (message) => truncateUtf8(message, COMMIT_MESSAGE_MAX_BYTES),
  encode: (message) => message,
});

export const CommitSha = Schema.transform(
  Schema.String.pipe(
    Schema.filter(
      (sha) => /^[0-9a-fA-F]{7,64}$/.test(sha) || `must be 7 to 64 hexadecimal characters`,
    ),
  ),
  Schema.String,
  { strict: true, decode: (sha) => sha.toLowerCase(), encode: (sha) => sha },
);

/** A git branch name as git accepts it (a subset of `git check-ref-format --branch`). */
export const BranchName = StringOfMaxBytes(BRANCH_MAX_BYTES).pipe(
  Schema.filter((branch) => {
    if (branch.length === 0) return "must not be empty";
    if (hasControlCharacter(branch) || /[\s~^:?*[\\]/.test(branch))
      return "must not contain whitespace, control characters or any of ~ ^ : ? * [ \\";
    if (branch.startsWith("-") || branch.startsWith("/") || branch.endsWith("/"))
      return "must not start with '-' or '/', or end with '/'";
    if (branch.includes("..") || branch.includes("//") || branch.includes("@{"))
      return "must not contain '..', '//' or '@{'";
    if (branch.endsWith(".lock") || branch.endsWith(".")) return "must not end with '.lock' or '.'";
    return true;
  }),
);

export const AuthorHandle = StringOfMaxBytes(AUTHOR_HANDLE_MAX_BYTES);

export const AuthorAvatarUrl = StringOfMaxBytes(AUTHOR_AVATAR_URL_MAX_BYTES).pipe(
  Schema.filter((url) => /^https?:\/\/[^\s/]+\S*$/i.test(url) || "must be an http or https URL"),
);

/** ISO 8601 when the value is a representable date, else the number (toISOString throws past ±8.64e15 ms). */
const describeTime = (ms: number): string =>
  Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;

/** Unix epoch milliseconds, not before 2001-09-09 (seconds) and at most one hour after `now`. */
export const commitTimestamp = (now: number) =>
  Schema.Number.pipe(
    Schema.filter((ts) => {
      if (!Number.isSafeInteger(ts)) return `must be an integer number of milliseconds (got ${ts})`;
      if (ts < MIN_COMMIT_TIMESTAMP_MS)
        return `must be Unix epoch milliseconds; ${ts} looks like seconds (multiply by 1000)`;
      if (ts > now + MAX_COMMIT_CLOCK_SKEW_MS)
        return `must not be more than one hour in the future (got ${describeTime(ts)}, server time ${describeTime(now)})`;
      return true;
    }),
  );

/**
 * The git commit of a request. Empty strings and a zero timestamp mean
 * "not given" (proto3 defaults) and are dropped before validation.
 */
export const gitCommitInput = (now: number) =>
  Schema.Struct({
    commitSha: Schema.optional(CommitSha),
    branch: Schema.optional(BranchName),
    commitMessage: Schema.optional(CommitMessage),
    authorHandle: Schema.optional(AuthorHandle),
    authorAvatarUrl: Schema.optional(AuthorAvatarUrl),
    timestamp: Schema.optional(commitTimestamp(now)),
  });

/** Drops proto3 zero values ("" and 0) so that they read as absent. */
export const withoutZeroValues = (input: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(input).filter(
      ([, value]) => value !== undefined && value !== "" && value !== 0 && value !== BigInt(0),
    ),
  );
