// `pnpm breaking`: checks the working tree's API (proto/, module of ./buf.yaml) against the
// API on a base git ref with `buf breaking` (rules: FILE, set in buf.yaml).
//
// Base ref: $FERRY_BREAKING_BASE, default `main` (CI on a pull request sets it to, for
// example, `origin/main`). While the base has no buf.yaml and no proto/*.proto (before the
// first commit of the API), there is nothing to compare: the script says so and exits 0.
import { spawnSync } from "node:child_process";

const base = process.env.FERRY_BREAKING_BASE || "main";

function git(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("git", args, { encoding: "utf8" });
  return { ok: r.status === 0, out: (r.stdout ?? "").trim() };
}

if (!git("rev-parse", "--verify", "--quiet", `${base}^{commit}`).ok) {
  console.log(`buf breaking: skipped, git ref "${base}" does not exist (no base to compare with).`);
  process.exit(0);
}
const hasConfig = git("cat-file", "-e", `${base}:buf.yaml`).ok;
const hasProto = git("ls-tree", "-r", "--name-only", base, "--", "proto")
  .out.split("\n")
  .some((f) => f.endsWith(".proto"));
if (!hasConfig || !hasProto) {
  console.log(
    `buf breaking: skipped, "${base}" has no buf.yaml and proto/*.proto yet (nothing to compare with).`,
  );
  process.exit(0);
}

const gitDir = git("rev-parse", "--path-format=absolute", "--git-common-dir").out;
const against = `${gitDir}#format=git,ref=${base}`;
console.log(`buf breaking --against ${against}`);
const r = spawnSync("buf", ["breaking", "--against", against], { stdio: "inherit" });
if (r.error) {
  console.error(`buf breaking: could not run buf: ${r.error.message}`);
  process.exit(2);
}
process.exit(r.status ?? 1);
