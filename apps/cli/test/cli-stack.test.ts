/**
 * The `ferry` bin, spawned as a user runs it, against the whole stack (restate-server, ctrl,
 * hydra, frontline, Podman) started once for this file. Real builds are few (one good, one
 * failing); prebuilt busybox images cover the rest.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_BUSYBOX, webServerImage } from "@ferry/containers/testing";
import {
  engineOf,
  viaFrontline as frontlineGet,
  serves as servesVia,
  startTestStack,
  type TestStack,
} from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FerryRun, parseJson, runFerry } from "./support/run-ferry.ts";

let stack: TestStack;
let home: string;
let env: Record<string, string>;
const SECRET = "s3cr3t-never-printed";

const ferry = (args: ReadonlyArray<string>, options: { cwd?: string; input?: string } = {}) =>
  runFerry(args, { env, ...options });

/** Fails with everything the run printed, so a failing step says why. */
const ok = (run: FerryRun): FerryRun => {
  if (run.code !== 0)
    throw new Error(`ferry exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
};

const git = (dir: string, ...args: Array<string>) =>
  execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      GIT_AUTHOR_NAME: "Grace Hopper",
      GIT_AUTHOR_EMAIL: "grace@example.com",
      GIT_COMMITTER_NAME: "Grace Hopper",
      GIT_COMMITTER_EMAIL: "grace@example.com",
    },
  }).trim();

/** A git repository with a busybox web server site; `www/secret.txt` is .dockerignored. */
const siteRepository = (content: string) => {
  const dir = mkdtempSync(path.join(home, "site-"));
  mkdirSync(path.join(dir, "www"));
  copyFileSync(DEFAULT_BUSYBOX, path.join(dir, "busybox"));
  writeFileSync(
    path.join(dir, "Dockerfile"),
    [
      "FROM scratch",
      "COPY busybox /bin/busybox",
      "COPY www /www",
      'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
      "",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, ".dockerignore"), ".git\nwww/secret.txt\n");
  writeFileSync(path.join(dir, "www", "index.html"), content);
  writeFileSync(path.join(dir, "www", "secret.txt"), "must not be in the image");
  git(dir, "init", "--quiet", "--initial-branch", "feature/cli");
  git(dir, "add", ".");
  git(dir, "commit", "--quiet", "-m", "Serve the site from the CLI");
  return dir;
};

const viaFrontline = (host: string, urlPath = "/") =>
  frontlineGet(stack.frontlineUrl, host, urlPath);

const serves = (host: string, content: string) =>
  servesVia(stack.frontlineUrl, host, content, { withinMs: 3_000 });

interface DeploymentJson {
  id: string;
  status: string;
  errorMessage: string | null;
  isLive: boolean;
  source: { type: string; image?: string; dockerfilePath?: string } | null;
  git: {
    branch: string | null;
    commitSha: string | null;
    message: string | null;
    author: string | null;
    committedAt: string | null;
  } | null;
  hostnames: Array<string>;
  routes: Array<{ hostname: string; kind: string }>;
}

beforeAll(async () => {
  stack = await startTestStack({ name: "ferry-cli" });
  home = mkdtempSync(path.join(tmpdir(), "ferry-cli-home-"));
  env = { HOME: home, XDG_CONFIG_HOME: path.join(home, "config") };
});

afterAll(async () => {
  await stack?.dispose();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

describe("ferry against a running stack", () => {
  it("without configuration: exit 2 and how to configure", async () => {
    const run = await ferry(["projects", "list"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no Ferry server configured: run `ferry login --api-url URL`");
    const json = await ferry(["projects", "list", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "usage", exitCode: 2 } });
  });

  it("login checks the key, saves it (0600, never printed); later commands need no flags", async () => {
    const refused = await ferry(["login", "--api-url", stack.apiUrl], { input: "ferry_wrong\n" });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("refused the API key");

    const login = ok(
      await ferry(["login", "--api-url", stack.apiUrl], { input: `${stack.apiKey}\n` }),
    );
    expect(login.stdout).toContain(`Logged in to ${stack.apiUrl}`);
    expect(login.stdout + login.stderr).not.toContain(stack.apiKey);
    const file = path.join(home, "config", "ferry", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const created = parseJson<{
      id: string;
      slug: string;
      environments: Array<{ slug: string; kind: string }>;
    }>(ok(await ferry(["projects", "create", "web", "--name", "Web", "--json"])));
    expect(created.slug).toBe("web");
    expect(created.id).toMatch(/^prj_/);
    expect(created.environments.map((e) => [e.slug, e.kind])).toEqual([
      ["production", "PRODUCTION"],
      ["preview", "PREVIEW"],
    ]);
  });

  it("projects list and get, by slug and by id", async () => {
    const { projects } = parseJson<{ projects: Array<{ id: string; slug: string }> }>(
      ok(await ferry(["projects", "list", "--json"])),
    );
    expect(projects.map((p) => p.slug)).toEqual(["web"]);
    const id = projects[0]?.id ?? "";
    const bySlug = parseJson<{ id: string }>(ok(await ferry(["projects", "get", "web", "--json"])));
    const byId = parseJson<{ slug: string }>(ok(await ferry(["projects", "get", id, "--json"])));
    expect(bySlug.id).toBe(id);
    expect(byId.slug).toBe("web");
    const text = ok(await ferry(["projects", "list"]));
    expect(text.stdout).toMatch(/^SLUG\s+ID\s+NAME\s+LIVE DEPLOYMENT\nweb\s+prj_\S+\s+Web\s+-$/m);
  });

  it("an unknown project: exit 3 and a message naming it", async () => {
    const run = await ferry(["projects", "get", "nope"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('no project "nope" in this workspace');
    const json = await ferry(["list", "--project", "nope", "--json"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "not_found", exitCode: 3 } });
  });

  it("env set, list and unset; a secret from stdin is never printed", async () => {
    ok(await ferry(["env", "set", "GREETING=hello", "MODE=cli", "--project", "web"]));
    const secret = ok(
      await ferry(["env", "set", "DB_PASSWORD", "--secret", "--project", "web", "--json"], {
        input: `${SECRET}\n`,
      }),
    );
    const listed = ok(await ferry(["env", "list", "--project", "web", "--json"]));
    const text = ok(await ferry(["env", "list", "--project", "web"]));
    for (const run of [secret, listed, text]) expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(parseJson(listed)).toEqual({
      projectId: expect.stringMatching(/^prj_/),
      project: "web",
      environment: "production",
      variables: [
        { key: "DB_PASSWORD", secret: true },
        { key: "GREETING", secret: false, value: "hello" },
        { key: "MODE", secret: false, value: "cli" },
      ],
    });
    expect(text.stdout).toMatch(/^DB_PASSWORD\s+\(secret\)$/m);

    const unset = parseJson<{ variables: Array<{ key: string }> }>(
      ok(await ferry(["env", "unset", "MODE", "--project", "web", "--json"])),
    );
    expect(unset.variables.map((v) => v.key)).toEqual(["DB_PASSWORD", "GREETING"]);
  });

  let built: DeploymentJson;
  let prebuilt: DeploymentJson;

  it("deploy DIR: a git repository is packed honoring .dockerignore, built, watched to READY", async () => {
    const dir = siteRepository("hello from the cli build");
    const sha = git(dir, "rev-parse", "HEAD");
    const run = ok(await ferry(["deploy", "--project", "web", "--json"], { cwd: dir }));
    built = parseJson<DeploymentJson>(run);
    expect(built).toMatchObject({
      status: "READY",
      errorMessage: null,
      isLive: true,
      source: { type: "build", dockerfilePath: "Dockerfile" },
      git: {
        branch: "feature/cli",
        commitSha: sha,
        message: "Serve the site from the CLI",
        author: "Grace Hopper",
      },
    });
    expect(Date.parse(built.git?.committedAt ?? "")).toBeGreaterThan(Date.now() - 600_000);

    const live = built.routes.find((route) => route.kind === "LIVE")?.hostname ?? "";
    expect(live).toBe("web--default.ferry.localhost");
    await serves(live, "hello from the cli build");
    // The .dockerignored file never reached the image: busybox httpd has nothing to serve.
    expect((await viaFrontline(live, "/secret.txt")).status).toBe(404);
    expect((await viaFrontline(live, "/index.html")).status).toBe(200);
  });

  it("watch replays a finished deployment as plain lines without a TTY; logs print the build", async () => {
    const watch = ok(await ferry(["watch", built.id]));
    expect(watch.stderr).toContain("status PENDING");
    expect(watch.stderr).toContain("step BUILDING SUCCEEDED");
    expect(watch.stderr).toContain("status READY");
    expect(watch.stderr + watch.stdout).not.toContain("\u001b[");
    expect(watch.stdout).toMatch(/^status:\s+READY \(live\)$/m);

    const logs = parseJson<{ complete: boolean; lines: Array<{ step: string; text: string }> }>(
      ok(await ferry(["logs", built.id, "--json"])),
    );
    expect(logs.complete).toBe(true);
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.lines.every((line) => line.step === "BUILDING")).toBe(true);

    const followed = parseJson<{ lines: Array<{ step: string; text: string }> }>(
      ok(await ferry(["logs", built.id, "--follow", "--json"])),
    );
    expect(followed.lines.some((line) => line.step === "BUILDING")).toBe(true);
  });

  it("deploy --image runs a prebuilt image", async () => {
    const image = await webServerImage(engineOf(stack), {
      content: "hello from a prebuilt image",
    });
    prebuilt = parseJson<DeploymentJson>(
      ok(await ferry(["deploy", "--project", "web", "--image", image, "--json"])),
    );
    expect(prebuilt).toMatchObject({
      status: "READY",
      isLive: true,
      source: { type: "image", image },
      git: null,
    });
    await serves("web--default.ferry.localhost", "hello from a prebuilt image");
    const detail = parseJson<DeploymentJson>(ok(await ferry(["get", prebuilt.id, "--json"])));
    expect(detail.id).toBe(prebuilt.id);
    const listed = parseJson<{ deployments: Array<{ id: string }>; nextPageToken: string | null }>(
      ok(await ferry(["list", "--project", "web", "--status", "ready", "--json"])),
    );
    expect(listed.deployments.map((d) => d.id)).toEqual([prebuilt.id, built.id]);
    expect(listed.nextPageToken).toBeNull();
    const first = parseJson<{ deployments: Array<{ id: string }>; nextPageToken: string }>(
      ok(await ferry(["list", "--project", "web", "--limit", "1", "--json"])),
    );
    const second = parseJson<{ deployments: Array<{ id: string }> }>(
      ok(
        await ferry([
          "list",
          "-p",
          "web",
          "--limit",
          "1",
          "--page-token",
          first.nextPageToken,
          "--json",
        ]),
      ),
    );
    expect([...first.deployments, ...second.deployments].map((d) => d.id)).toEqual([
      prebuilt.id,
      built.id,
    ]);
    const status = ok(await ferry(["status", prebuilt.id]));
    expect(status.stdout).toMatch(/^status:\s+READY \(live\)$/m);
    expect(status.stdout).toContain("web--default.ferry.localhost");
  });

  it("rollback to the default target, promote, rollback to an explicit target", async () => {
    const back = parseJson(ok(await ferry(["rollback", "--project", "web", "--json"])));
    expect(back).toEqual({
      liveDeploymentId: built.id,
      previousLiveDeploymentId: prebuilt.id,
      rolledBack: true,
      changed: true,
    });
    await serves("web--default.ferry.localhost", "hello from the cli build");

    const promoted = parseJson(ok(await ferry(["promote", prebuilt.id, "--json"])));
    expect(promoted).toEqual({
      liveDeploymentId: prebuilt.id,
      previousLiveDeploymentId: built.id,
      rolledBack: false,
      changed: true,
    });
    await serves("web--default.ferry.localhost", "hello from a prebuilt image");

    const explicit = parseJson(
      ok(await ferry(["rollback", built.id, "--from", prebuilt.id, "--json"])),
    );
    expect(explicit).toMatchObject({ liveDeploymentId: built.id, rolledBack: true, changed: true });
    await serves("web--default.ferry.localhost", "hello from the cli build");

    // Nothing older than the live one: the default target is refused with the reason.
    const none = await ferry(["rollback", "--project", "web"]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("no READY production deployment older than the live one");
  });

  it("a failing build: exit 1 with the server's message; the refused cancel of a READY one: exit 3", async () => {
    const dir = siteRepository("never served");
    writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY does-not-exist /x\n");
    const run = await ferry(["deploy", dir, "--project", "web", "--env", "preview", "--json"]);
    expect(run.code).toBe(1);
    const failed = parseJson<DeploymentJson>(run);
    expect(failed.status).toBe("FAILED");
    expect(failed.errorMessage).toBeTruthy();
    const error = JSON.parse(run.stderr) as {
      error: { code: string; message: string; exitCode: number };
    };
    expect(error.error).toMatchObject({ code: "deployment_failed", exitCode: 1 });
    expect(error.error.message).toContain(failed.errorMessage ?? "");

    const text = await ferry(["watch", failed.id]);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(
      `ferry: deployment ${failed.id} ended FAILED: ${failed.errorMessage}`,
    );

    const cancel = await ferry(["cancel", built.id]);
    expect(cancel.code).toBe(3);
    expect(cancel.stderr).toMatch(/^ferry: .+/);
  });
});
