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

/** The CreateDeployment git_commit for this metadata (no branch on a detached HEAD). */
export const gitCommitInfo = (git: GitMetadata): MessageInitShape<typeof GitCommitInfoSchema> => ({
  commitSha: git.commitSha,
  branch: git.branch ?? "",
  commitMessage: git.message,
  authorHandle: git.author,
  timestamp: BigInt(git.committedAt),
});
