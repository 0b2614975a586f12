/**
 * `ferry batch` end to end: the CLI spawned as a user runs it, against the whole stack
 * (restate-server, ctrl on PGlite, hydra, Podman). A file with good entries across three
 * projects (image deploys, a directory built from source, rollback then promote in order) and
 * two failing ones: summary, report, exit 1, the good ones READY and applied. A re-run creates
 * and uploads nothing and reports the completed entries as skipped. --dry-run lists every
 * problem of a bad file with its line and changes nothing.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DeploymentStatus } from "@ferry/api";
import { DEFAULT_BUSYBOX, exitingImage, webServerImage } from "@ferry/containers/testing";
import {
  type Clients,
  clientsOf,
  engineOf,
  startTestStack,
  type TestStack,
} from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchReport } from "../src/batch/report.ts";
import { type FerryRun, runFerry } from "./support/run-ferry.ts";

/** A well-formed deployment id that names nothing. */
const MISSING_DEPLOYMENT = "dep_01jd0000000000000000000000";

let stack: TestStack;
let api: Clients;
let work: string;
const projectIds: Record<string, string> = {};

/** `ferry ARGS` as a child process, without a terminal, pointed at the test stack. */
const ferry = (args: ReadonlyArray<string>): Promise<FerryRun> =>
  runFerry(args, {
    cwd: work,
    env: { HOME: work, FERRY_API_URL: stack.apiUrl, FERRY_API_KEY: stack.apiKey },
    timeoutMs: 300_000,
  });

const deploymentsOf = async (project: string) => {
  const { deployments } = await api.deployments.listDeployments({
    projectId: projectIds[project] ?? "",
    pageSize: 200,
  });
  return deployments;
};

const counts = async () =>
  Object.fromEntries(
    await Promise.all(
      Object.keys(projectIds).map(async (slug) => [slug, (await deploymentsOf(slug)).length]),
    ),
  );

/** Files in the stack's local build storage: one per upload. */
const uploads = () => {
  const walk = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (total, entry) =>
        total + (entry.isDirectory() ? walk(path.join(dir, entry.name)) : entry.isFile() ? 1 : 0),
      0,
    );
  try {
    return walk(path.join(stack.dataDir, "build-contexts"));
  } catch {
    return 0;
  }
};

const byName = (report: BatchReport) =>
  Object.fromEntries(report.entries.map((entry) => [entry.name, entry]));

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "ferry-batch-e2e-"));
  stack = await startTestStack({ name: "ferry-batch-e2e" });
  api = clientsOf(stack);
  for (const slug of ["web", "api", "site"]) {
    const { project } = await api.projects.createProject({ slug, name: slug });
    projectIds[slug] = project?.id ?? "";
  }
  const engine = engineOf(stack);
  const v1 = await webServerImage(engine, { content: "batch v1" });
  const v2 = await webServerImage(engine, { content: "batch v2" });
  const broken = await exitingImage(engine, { exitCode: 3 });

  // A directory built from source: busybox serving one page.
  const site = path.join(work, "site");
  mkdirSync(path.join(site, "www"), { recursive: true });
  copyFileSync(DEFAULT_BUSYBOX, path.join(site, "busybox"));
  writeFileSync(path.join(site, "www", "index.html"), "built by batch\n");
  writeFileSync(
    path.join(site, "Dockerfile"),
    'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n',
  );

  writeFileSync(
    path.join(work, "release.yaml"),
    `version: 1
run: e2e
operations:
  - name: web-v1
    op: deploy
    project: web
    image: ${v1}
    regions: [local-1]
  - name: web-v2
    op: deploy
    project: web
    image: ${v2}
    regions: [local-1]
  - name: web-back
    op: rollback
    project: web
    target: "@web-v1"
  - name: web-forward
    op: promote
    deployment: "@web-v2"
  - name: api-broken
    op: deploy
    project: api
    image: ${broken}
    regions: [local-1]
  - name: site
    op: deploy
    project: site
    dir: ./site
    regions: [local-1]
  - name: promote-missing
    op: promote
    deployment: ${MISSING_DEPLOYMENT}
`,
  );
});

afterAll(async () => {
  await stack?.dispose();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("ferry batch, end to end", () => {
  it("--dry-run checks what the file names on the server, and creates nothing", async () => {
    const result = await ferry(["batch", "release.yaml", "--dry-run"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `release.yaml:33:17: "promote-missing" (promote): no deployment "${MISSING_DEPLOYMENT}" in this workspace\nferry: release.yaml: 1 problem; nothing was run\n`,
    );
    writeFileSync(
      path.join(work, "fine.yaml"),
      "version: 1\noperations:\n  - {name: a, op: deploy, project: site, dir: site, regions: [local-2]}\n",
    );
    const fine = await ferry(["batch", "fine.yaml", "--dry-run"]);
    expect(fine.stderr).toBe("");
    expect(fine.stdout).toBe(
      "fine.yaml: 1 operation, no problems found (dry run: nothing was changed)\n",
    );
    expect(fine.code).toBe(0);
    expect(await counts()).toEqual({ web: 0, api: 0, site: 0 });
    expect(uploads()).toBe(0);
  });

  it("--dry-run of a bad file lists every problem with its line and creates nothing", async () => {
    writeFileSync(
      path.join(work, "bad.yaml"),
      `version: 1
operations:
  - name: web
    op: deploy
    project: web
    imgae: busybox
  - name: web
    op: migrate
  - name: live
    op: promote
`,
    );
    const malformed = await ferry(["batch", "bad.yaml", "--dry-run"]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.split("\n").filter((line) => line.startsWith("bad.yaml:"))).toEqual([
      'bad.yaml:3:5: "web" (deploy): "image" (a prebuilt image) or "dir" (a directory to build) is missing',
      'bad.yaml:6:5: "web" (deploy): unknown field "imgae"; expected one of: name, op, project, env, image, dir, dockerfile, regions',
      'bad.yaml:7:5: duplicate name "web": the operation at line 3 already has it; names must be unique',
      'bad.yaml:8:9: "web": unknown operation "migrate"; expected one of: deploy, promote, rollback, cancel',
      'bad.yaml:9:5: "live" (promote): "deployment" is missing',
    ]);
    expect(malformed.stderr).toContain("ferry: bad.yaml: 5 problems; nothing was run");

    // Well-formed, but naming what does not exist: the server checks find each at its line.
    writeFileSync(
      path.join(work, "unknown.yaml"),
      `version: 1
operations:
  - {name: a, op: deploy, project: nope, image: busybox}
  - {name: b, op: deploy, project: web, env: staging, image: busybox, regions: [mars-1]}
  - {name: c, op: deploy, project: site, dir: ./nowhere}
  - {name: d, op: promote, deployment: ${MISSING_DEPLOYMENT}}
`,
    );
    const unknown = await ferry(["batch", "unknown.yaml", "--dry-run", "--json"]);
    expect(unknown.code).toBe(2);
    const answer = JSON.parse(unknown.stdout) as {
      ok: boolean;
      problems: Array<{ line: number; col: number; message: string }>;
    };
    expect(answer.ok).toBe(false);
    expect(answer.problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      '3:36: "a" (deploy): no project "nope" in this workspace (by slug or id)',
      '4:46: "b" (deploy): project web has no environment "staging" (it has production, preview)',
      '4:80: "b" (deploy): no region "mars-1"; available: local-1, local-2',
      `5:47: "c" (deploy): the directory nowhere does not exist (${path.join(work, "nowhere")})`,
      `6:40: "d" (promote): no deployment "${MISSING_DEPLOYMENT}" in this workspace`,
    ]);
    expect(await counts()).toEqual({ web: 0, api: 0, site: 0 });
  });

  it("runs the file: good entries READY and applied in order, failures reported, exit 1", async () => {
    const result = await ferry(["batch", "release.yaml", "--concurrency", "3"]);
    expect(result.code, result.stderr).toBe(1);

    // The summary table, plain text (no terminal): a header and one row per entry.
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^ENTRY\s+PROJECT\s+OPERATION\s+RESULT\s+DEPLOYMENT\s+DURATION\s+MESSAGE$/,
    );
    expect(result.stdout).not.toContain("\u001b[");
    const row = (name: string) => lines.find((line) => line.startsWith(`${name} `)) ?? "";
    expect(row("web-v1")).toMatch(/^web-v1\s+web\s+deploy\s+succeeded\s+dep_\w+\s+\d/);
    expect(row("api-broken")).toMatch(
      /^api-broken\s+api\s+deploy\s+failed\s+dep_\w+\s+.*container exited with code 3/,
    );
    expect(row("promote-missing")).toMatch(/promote\s+failed\s+-\s+.*/);
    expect(result.stdout).toContain("5 succeeded, 0 skipped (already done), 2 failed, 0 not run");
    expect(result.stdout).toContain(`report: ${path.join(work, "release.report.json")}`);

    const report = JSON.parse(
      readFileSync(path.join(work, "release.report.json"), "utf8"),
    ) as BatchReport;
    expect(report.ok).toBe(false);
    expect(report.counts).toEqual({ succeeded: 5, skipped: 0, failed: 2, "not-run": 0 });
    const entries = byName(report);
    expect(entries["web-v1"]?.status).toBe("READY");
    expect(entries["web-v2"]?.status).toBe("READY");
    expect(entries.site?.status).toBe("READY");
    expect(entries["web-back"]?.result).toBe("succeeded");
    expect(entries["web-forward"]?.result).toBe("succeeded");
    expect(entries["api-broken"]).toMatchObject({ result: "failed", status: "FAILED" });
    expect(entries["promote-missing"]?.result).toBe("failed");
    expect(entries["promote-missing"]?.message).toMatch(/not.*found|does not exist|no deployment/i);

    // Applied, and in file order per project: rolled back to v1, then promoted v2 (unpinned).
    const { project: web } = await api.projects.getProject({
      key: { case: "slug", value: "web" },
    });
    expect(web?.liveDeploymentId).toBe(entries["web-v2"]?.deploymentId);
    expect(web?.rolledBack).toBe(false);
    const site = (await deploymentsOf("site"))[0];
    expect(site?.status).toBe(DeploymentStatus.READY);
    expect(site?.source.case).toBe("buildContext");
    expect(await counts()).toEqual({ web: 2, api: 1, site: 1 });
  });

  it("a re-run repeats nothing: no new deployment, no upload, completed entries skipped", async () => {
    const before = await counts();
    const uploadsBefore = uploads();
    expect(uploadsBefore).toBeGreaterThan(0);
    const result = await ferry(["batch", "release.yaml", "--json"]);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as BatchReport;
    const entries = byName(report);
    for (const name of ["web-v1", "web-v2", "site", "web-back", "web-forward"])
      expect(entries[name]?.result, `${name}: ${entries[name]?.message}`).toBe("skipped");
    expect(entries["web-v1"]?.message).toContain("already done");
    // The failed deploy is the same deployment, still failed: its key is spent.
    expect(entries["api-broken"]?.result).toBe("failed");
    expect(entries["api-broken"]?.message).toContain("an earlier run created it");
    expect(await counts()).toEqual(before);
    expect(uploads()).toBe(uploadsBefore);

    // Without the previous report the server's state alone still skips the deploys.
    rmSync(path.join(work, "release.report.json"));
    const again = await ferry(["batch", "release.yaml", "--json", "--report", "elsewhere.json"]);
    const fresh = byName(JSON.parse(again.stdout) as BatchReport);
    for (const name of ["web-v1", "web-v2", "site", "web-forward"])
      expect(fresh[name]?.result, `${name}: ${fresh[name]?.message}`).toBe("skipped");
    expect(await counts()).toEqual(before);
    expect(uploads()).toBe(uploadsBefore);
    // The rollback's key answered the first call (Restate keeps promote and rollback keys for a
    // day): production did not move back.
    const { project: web } = await api.projects.getProject({
      key: { case: "slug", value: "web" },
    });
    expect(web?.liveDeploymentId).toBe(entries["web-v2"]?.deploymentId);
    expect(web?.rolledBack).toBe(false);
  });
});
