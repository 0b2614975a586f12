/** readGitMetadata on real repositories made with the git command. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readGitMetadata } from "../src/deploy/git.ts";

const dirs: Array<string> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const temporary = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ferry-git-"));
  dirs.push(dir);
  return dir;
};

const git = (dir: string, ...args: Array<string>) =>
  execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Ada Lovelace",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_COMMITTER_NAME: "Ada Lovelace",
      GIT_COMMITTER_EMAIL: "ada@example.com",
      GIT_AUTHOR_DATE: "2026-11-20T10:00:00Z",
      GIT_COMMITTER_DATE: "2026-11-20T10:00:05Z",
    },
  }).trim();

const repository = () => {
  const dir = temporary();
  git(dir, "init", "--quiet", "--initial-branch", "feature/login");
  writeFileSync(path.join(dir, "index.html"), "hi");
  mkdirSync(path.join(dir, "site"));
  git(dir, "add", ".");
  git(dir, "commit", "--quiet", "-m", "Add the login page\n\nWith a form.");
  return dir;
};

describe("readGitMetadata", () => {
  it("reads branch, hash, message, author and commit time, also from a subdirectory", async () => {
    const dir = repository();
    const sha = git(dir, "rev-parse", "HEAD");
    const expected = {
      branch: "feature/login",
      commitSha: sha,
      message: "Add the login page\n\nWith a form.",
      author: "Ada Lovelace",
      committedAt: Date.parse("2026-11-20T10:00:05Z"),
    };
    expect(await readGitMetadata(dir)).toEqual(expected);
    writeFileSync(path.join(dir, "site", "page.html"), "");
    expect(await readGitMetadata(path.join(dir, "site"))).toEqual(expected);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("has no branch on a detached HEAD", async () => {
    const dir = repository();
    const sha = git(dir, "rev-parse", "HEAD");
    git(dir, "checkout", "--quiet", "--detach");
    expect(await readGitMetadata(dir)).toMatchObject({ branch: undefined, commitSha: sha });
  });

  it("is undefined outside a repository and in one without commits", async () => {
    expect(await readGitMetadata(temporary())).toBeUndefined();
    const empty = temporary();
    git(empty, "init", "--quiet");
    expect(await readGitMetadata(empty)).toBeUndefined();
  });
});
