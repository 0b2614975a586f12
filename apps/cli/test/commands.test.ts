/**
 * Commands run in-process against a stand-in ctrl over real HTTP (test/support/fake-ctrl.ts):
 * `env set` keeps a secret secret and never prints its value; `deploy` checks the environment
 * and regions before it uploads anything, fits git metadata to the server's limits, and does
 * not advise reusing an idempotency key for a directory; `rollback` without a live deployment
 * is a refused precondition (exit 3).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EnvironmentVariableSchema } from "@ferry/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExitCode } from "../src/exit-codes.ts";
import { runCli } from "../src/main.ts";
import { type FakeCtrl, startFakeCtrl } from "./support/fake-ctrl.ts";

let ctrl: FakeCtrl;
const dirs: Array<string> = [];
beforeEach(async () => {
  ctrl = await startFakeCtrl();
});
afterEach(async () => {
  await ctrl.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const temporary = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ferry-commands-"));
  dirs.push(dir);
  return dir;
};

const ferry = async (...argv: Array<string>) => {
  let stdout = "";
  let stderr = "";
  const stdin = new PassThrough();
  stdin.end();
  const code = await runCli([...argv, "--api-url", ctrl.apiUrl, "--api-key", "k"], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin,
    env: { HOME: temporary() },
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
};

describe("env set", () => {
  beforeEach(() => {
    ctrl.variables.set("prj_web/production", [
      create(EnvironmentVariableSchema, { key: "TOKEN", value: "old-s3cret", secret: true }),
    ]);
  });

  it("keeps a secret variable secret without --secret, and says so", async () => {
    const result = await ferry("env", "set", "TOKEN=new-s3cret", "-p", "web");
    expect(result.code).toBe(ExitCode.Ok);
    expect(ctrl.variables.get("prj_web/production")).toMatchObject([
      { key: "TOKEN", value: "new-s3cret", secret: true },
    ]);
    expect(result.stdout + result.stderr).not.toContain("new-s3cret");
    expect(result.stderr).toContain("TOKEN is secret and stays secret (--plain stores it");
  });

  it("makes it plain only with --plain, and still never prints its value", async () => {
    const text = await ferry("env", "set", "TOKEN=now-plain", "-p", "web", "--plain");
    expect(text.code).toBe(ExitCode.Ok);
    expect(ctrl.variables.get("prj_web/production")).toMatchObject([
      { key: "TOKEN", value: "now-plain", secret: false },
    ]);
    expect(text.stdout).toContain("(hidden: was secret)");
    expect(text.stdout + text.stderr).not.toContain("now-plain");
    ctrl.variables.set("prj_web/production", [
      create(EnvironmentVariableSchema, { key: "TOKEN", value: "x", secret: true }),
    ]);
    const json = await ferry("env", "set", "TOKEN=plain-2", "-p", "web", "--plain", "--json");
    expect(JSON.parse(json.stdout).variables).toEqual([
      { key: "TOKEN", secret: false, value: null },
    ]);
  });

  it("prints a plain variable that was never secret, and refuses --secret with --plain", async () => {
    const result = await ferry("env", "set", "GREETING=hello", "-p", "web");
    expect(result.stdout).toContain("hello");
    expect(ctrl.last.get("setEnvironmentVariables")).toMatchObject({
      variables: [{ key: "GREETING", secret: false }],
    });
    const both = await ferry("env", "set", "A=1", "-p", "web", "--plain", "--secret");
    expect(both.code).toBe(ExitCode.Usage);
    expect(both.stderr).toContain("--secret and --plain contradict each other");
  });
});

const site = () => {
  const dir = temporary();
  writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\n");
  return dir;
};

describe("deploy DIR", () => {
  it("checks the environment and the regions before uploading anything", async () => {
    const dir = site();
    const env = await ferry("deploy", dir, "-p", "web", "-e", "staging", "--json");
    expect(env.code).toBe(ExitCode.ApiRefused);
    expect(JSON.parse(env.stderr).error).toMatchObject({ code: "not_found" });
    expect(env.stderr).toContain(
      'project web has no environment \\"staging\\" (it has production, preview)',
    );
    const region = await ferry("deploy", dir, "-p", "web", "--region", "mars-1");
    expect(region.code).toBe(ExitCode.ApiRefused);
    expect(region.stderr).toContain('no region "mars-1"; available: local-1');
    expect(ctrl.calls).toEqual([]);
  });

  it("leaves out a commit time from the future (with a warning) and truncates a long author", async () => {
    const dir = site();
    const author = "é".repeat(200); // 400 bytes: over the server's 256
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_EMAIL: "a@example.com",
      GIT_COMMITTER_NAME: "c",
      GIT_COMMITTER_EMAIL: "c@example.com",
      GIT_COMMITTER_DATE: new Date(Date.now() + 3 * 3600_000).toISOString(),
    };
    execFileSync("git", ["-C", dir, "init", "-q"], { env });
    execFileSync("git", ["-C", dir, "add", "."], { env });
    execFileSync("git", ["-C", dir, "commit", "-q", "-m", "future"], { env });
    const result = await ferry("deploy", dir, "-p", "web");
    expect(result.code).toBe(ExitCode.Ok);
    expect(ctrl.calls).toEqual(["createUploadUrl", "upload", "create "]);
    const request = ctrl.last.get("createDeployment") as {
      gitCommit: { timestamp: bigint; authorHandle: string };
    };
    expect(request.gitCommit.timestamp).toBe(0n);
    expect(request.gitCommit.authorHandle).toBe("é".repeat(128));
    expect(result.stderr).toMatch(
      /warning: the commit time of [0-9a-f]{7} .* is more than an hour in the future/,
    );
  });

  it("does not advise retrying a directory deploy with the same idempotency key", async () => {
    ctrl.createFails = new ConnectError("restate is down", Code.Unavailable);
    const dir = await ferry("deploy", site(), "-p", "web", "--idempotency-key", "k1");
    expect(dir.code).toBe(ExitCode.Unreachable);
    expect(dir.stderr).toContain("it uploads the directory again, so it is a new request");
    expect(dir.stderr).not.toContain("same --idempotency-key");
    const image = await ferry("deploy", "-p", "web", "--image", "web:1", "--idempotency-key", "k1");
    expect(image.code).toBe(ExitCode.Unreachable);
    expect(image.stderr).toContain("with the same --idempotency-key");
  });
});

describe("rollback", () => {
  it("of a project with no live deployment is a refused precondition (exit 3)", async () => {
    await ferry("deploy", "-p", "api", "--image", "api:1");
    const project = ctrl.projects.get("web");
    if (project === undefined) throw new Error("no web");
    const result = await ferry("rollback", "dep_1", "-p", "web", "--json");
    expect(result.code).toBe(ExitCode.ApiRefused);
    expect(JSON.parse(result.stderr).error).toMatchObject({
      code: "failed_precondition",
      message: "project web has no live deployment, so there is nothing to roll back from",
    });
    expect(ctrl.calls.filter((call) => call.startsWith("rollback"))).toEqual([]);
  });
});

describe("batch and its report", () => {
  const RELEASE = `version: 1
operations:
  - {name: web, op: deploy, project: web, image: web:1}
  - {name: web-live, op: promote, deployment: "@web"}
`;

  it("warns when there is no report, and refuses one it cannot read before sending anything", async () => {
    const dir = temporary();
    const file = path.join(dir, "release.yaml");
    writeFileSync(file, RELEASE);
    const first = await ferry("batch", file);
    expect(first.code).toBe(ExitCode.Ok);
    expect(first.stderr).toContain(
      `ferry: no report at ${path.join(dir, "release.report.json")}: promote and rollback entries run as on a first run`,
    );
    const again = await ferry("batch", file);
    expect(again.code).toBe(ExitCode.Ok);
    expect(again.stderr).not.toContain("no report at");
    expect(again.stdout).toContain("0 succeeded, 2 skipped");

    writeFileSync(path.join(dir, "release.report.json"), "not a report");
    const calls = ctrl.calls.length;
    const damaged = await ferry("batch", file);
    expect(damaged.code).toBe(ExitCode.Usage);
    expect(damaged.stderr).toContain("is not a ferry batch report (version 1)");
    expect(ctrl.calls.length).toBe(calls);
  });
});
