/**
 * The commit a directory is deployed from, read with the `git` command (the user's own git,
 * so worktrees, submodules and SHA-256 repositories behave as they do for them).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { GitCommitInfoSchema } from "@ferry/api";

const run = promisify(execFile);

export interface GitMetadata {
  /** The checked-out branch; undefined on a detached HEAD. */
  readonly branch: string | undefined;
  /** The full commit hash of HEAD. */
  readonly commitSha: string;
  /** The full commit message, without trailing newlines. */
  readonly message: string;
  /** The author's name as git records it. */
  readonly author: string;
  /** The commit time (committer date) in Unix epoch milliseconds. */
  readonly committedAt: number;
}

const git = async (dir: string, args: ReadonlyArray<string>): Promise<string | undefined> => {
  try {
    const { stdout } = await run("git", ["-C", dir, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      // Never prompt, never page, never pick up the caller's locale for messages.
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" },
    });
    return stdout;
  } catch {
    return undefined;
  }
};

// Fields of `git log` separated by NUL, which no field can contain.
const FORMAT = "%H%x00%an%x00%ct%x00%B";

/**
 * HEAD's branch, hash, message, author and time, or undefined when dir is not inside a git
 * work tree, has no commit yet, or git is not installed.
 */
export const readGitMetadata = async (dir: string): Promise<GitMetadata | undefined> => {
  const inside = await git(dir, ["rev-parse", "--is-inside-work-tree"]);
  if (inside?.trim() !== "true") return undefined;
  const log = await git(dir, ["log", "-1", `--format=${FORMAT}`, "HEAD"]);
  if (log === undefined) return undefined;
  const [commitSha, author, seconds, ...message] = log.split("\0");
  if (commitSha === undefined || author === undefined || seconds === undefined) return undefined;
  const branch = (await git(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim();
  return {
    branch: branch === undefined || branch === "" ? undefined : branch,
    commitSha: commitSha.trim(),
    message: message.join("\0").replace(/\s+$/, ""),
    author,
    committedAt: Number(seconds) * 1000,
  };
};

// The server's limits (packages/domain/src/validation/git-commit.ts; the CLI does not depend on
// the domain package): a request over them is refused, after the context was uploaded.
const AUTHOR_HANDLE_MAX_BYTES = 256;
const MIN_COMMIT_TIMESTAMP_MS = 1_000_000_000_000;
const MAX_COMMIT_CLOCK_SKEW_MS = 60 * 60 * 1000;
/** Slack for this machine's clock running behind the server's, and for the upload's time. */
const CLOCK_MARGIN_MS = 10 * 60 * 1000;

/** At most `limit` UTF-8 bytes, cut at a character boundary. */
export const truncateUtf8 = (text: string, limit: number): string => {
  if (Buffer.byteLength(text, "utf8") <= limit) return text;
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    const size = Buffer.byteLength(character, "utf8");
    if (bytes + size > limit) break;
    bytes += size;
    end += character.length;
  }
  return text.slice(0, end);
};

/**
 * The CreateDeployment git_commit for this metadata (no branch on a detached HEAD), within the
 * server's limits: an author name over the limit is truncated; a commit time the server would
 * refuse (more than an hour ahead of `now`, or before 2001, as with SOURCE_DATE_EPOCH=0) is
 * left out, and `warn` says so.
 */
export const gitCommitInfo = (
  git: GitMetadata,
  now: number = Date.now(),
  warn: (message: string) => void = () => undefined,
): MessageInitShape<typeof GitCommitInfoSchema> => {
  const futureLimit = now + MAX_COMMIT_CLOCK_SKEW_MS - CLOCK_MARGIN_MS;
  const timeAccepted = git.committedAt >= MIN_COMMIT_TIMESTAMP_MS && git.committedAt <= futureLimit;
  if (!timeAccepted)
    warn(
      `the commit time of ${git.commitSha.slice(0, 7)} (${new Date(git.committedAt).toISOString()}) is ${git.committedAt > futureLimit ? "more than an hour in the future" : "before 2001"}; it is left out of the deployment's git metadata`,
    );
  return {
    commitSha: git.commitSha,
    branch: git.branch ?? "",
    commitMessage: git.message,
    authorHandle: truncateUtf8(git.author, AUTHOR_HANDLE_MAX_BYTES),
    // 0 is proto3's "not given".
    timestamp: timeAccepted ? BigInt(git.committedAt) : 0n,
  };
};
