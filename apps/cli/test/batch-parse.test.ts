/**
 * Reading batch files: every problem is reported at once, each at the line and column of the
 * thing to fix; a valid file becomes entries with stable idempotency keys.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkDirectories } from "../src/batch/local-checks.ts";
import { formatProblem } from "../src/batch/model.ts";
import { parseBatchFile } from "../src/batch/parse.ts";

const parse = (text: string, baseDir = "/srv/batch") =>
  parseBatchFile(text, { path: "release.yaml", baseDir });

/** The problems as `LINE:COL: message`, for compact assertions. */
const problemsOf = (text: string) =>
  parse(text).problems.map((problem) => `${problem.line}:${problem.col}: ${problem.message}`);

const GOOD = `version: 1
run: release-42
operations:
  - name: web
    op: deploy
    project: web
    image: registry.example.com/web:1.4.2
    regions: [local-2, local-1, local-2]
  - name: api
    op: deploy
    project: api
    env: preview
    dir: ./services/../api
    dockerfile: docker/Dockerfile
  - name: web-live
    op: promote
    deployment: "@web"
  - name: undo
    op: rollback
    project: shop
    target: dep_01
  - name: stop
    op: cancel
    deployment: dep_02
`;

describe("parseBatchFile", () => {
  it("reads every operation with its defaults, positions and a key", () => {
    const { file, problems } = parse(GOOD);
    expect(problems).toEqual([]);
    expect(file?.run).toBe("release-42");
    expect(file?.entries.map((entry) => entry.operation)).toEqual([
      {
        op: "deploy",
        project: "web",
        env: "production",
        source: { kind: "image", image: "registry.example.com/web:1.4.2" },
        regions: ["local-1", "local-2"],
      },
      {
        op: "deploy",
        project: "api",
        env: "preview",
        source: {
          kind: "dir",
          dir: "api",
          absoluteDir: "/srv/batch/api",
          dockerfile: "docker/Dockerfile",
        },
        regions: [],
      },
      { op: "promote", deployment: { kind: "entry", name: "web" } },
      { op: "rollback", project: "shop", target: { kind: "id", id: "dep_01" } },
      { op: "cancel", deployment: "dep_02" },
    ]);
    expect(file?.entries.map((entry) => entry.at.line)).toEqual([4, 9, 15, 18, 22]);
    expect(file?.entries[1]?.fieldAt.dir).toEqual({ line: 13, col: 10 });
    const keys = file?.entries.map((entry) => entry.idempotencyKey) ?? [];
    expect(new Set(keys).size).toBe(5);
    for (const key of keys) expect(key).toMatch(/^ferry-batch-v2:[0-9a-f]{64}$/);
  });

  it("gives the same keys to the same entries, from anywhere, and new keys when they change", () => {
    const keys = (text: string, baseDir?: string) =>
      parse(text, baseDir).file?.entries.map((entry) => entry.idempotencyKey);
    const first = keys(GOOD);
    // Another checkout, different formatting and field order, the same requests.
    const reformatted = GOOD.replace(
      "regions: [local-2, local-1, local-2]",
      "regions:\n      - local-1\n      - local-2",
    ).replace("    op: cancel\n    deployment: dep_02", "    deployment: 'dep_02'\n    op: cancel");
    expect(keys(reformatted, "/home/someone/else")).toEqual(first);
    // A new image tag changes that entry's key only.
    const retagged = keys(GOOD.replace("web:1.4.2", "web:1.4.3"));
    expect(retagged?.[0]).not.toBe(first?.[0]);
    expect(retagged?.slice(1)).toEqual(first?.slice(1));
    // A new run label changes every key.
    const rerun = keys(GOOD.replace("release-42", "release-43"));
    expect(rerun?.some((key, index) => key === first?.[index])).toBe(false);
  });

  it("gives another batch file with the same entry names other keys (its base name counts)", () => {
    const keysOf = (file: string, baseDir: string) =>
      parseBatchFile(GOOD, { path: file, baseDir }).file?.entries.map((e) => e.idempotencyKey);
    const release = keysOf("release.yaml", "/srv/batch");
    expect(keysOf("deploy/release.yaml", "/elsewhere")).toEqual(release);
    const hotfix = keysOf("hotfix.yaml", "/srv/batch");
    expect(hotfix?.some((key, index) => key === release?.[index])).toBe(false);
  });

  it("reads JSON too, with JSON's lines and columns", () => {
    const text = `{
  "version": 1,
  "operations": [
    {"name": "web", "op": "deploy", "project": "web", "image": "busybox"},
    {"name": "live", "op": "promote", "deployment": 42}
  ]
}`;
    expect(problemsOf(text)).toEqual([
      '5:53: "live" (promote): "deployment" must be a string, not number 42; write it in quotes: "42"',
    ]);
  });

  it("reports malformed YAML at its line, and checks nothing else", () => {
    const text = `version: 1
operations:
  - name: web
    op: deploy
   project: web
  - name: [unclosed
`;
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((problem) => problem.includes("not valid YAML or JSON"))).toBe(true);
    expect(problems[0]).toMatch(/^5:\d+: /);
  });

  it("reports every problem of the file at once, each at its line and column", () => {
    const text = `version: 1
operations:
  - name: web
    op: deploy
    project: web
    imgae: busybox
  - name: web
    op: migrate
  - name: live
    op: promote
  - name: undo
    op: rollback
    project: 12
    target: "@live"
  - name: api
    op: deploy
    project: api
    image: busybox
    dir: ./api
    regions: local-1
  - op: cancel
    deployment: dep_1
`;
    expect(problemsOf(text)).toEqual([
      '3:5: "web" (deploy): "image" (a prebuilt image) or "dir" (a directory to build) is missing',
      '6:5: "web" (deploy): unknown field "imgae"; expected one of: name, op, project, env, image, dir, dockerfile, regions',
      '7:5: duplicate name "web": the operation at line 3 already has it; names must be unique',
      '8:9: "web": unknown operation "migrate"; expected one of: deploy, promote, rollback, cancel',
      '9:5: "live" (promote): "deployment" is missing',
      '13:14: "undo" (rollback): "project" must be a string, not number 12; write it in quotes: "12"',
      '19:5: "api" (deploy): give either "image" (a prebuilt image) or "dir" (a directory to build), not both',
      '20:14: "api" (deploy): "regions" must be a list of region names (for example [local-1]), not "local-1"',
      '21:5: operations[5]: "name" is missing: every operation has a unique name',
    ]);
  });

  it("checks @name references: earlier, a deploy, to production", () => {
    const text = `version: 1
operations:
  - {name: live-early, op: promote, deployment: "@web"}
  - {name: web, op: deploy, project: web, image: busybox}
  - {name: preview, op: deploy, project: web, env: preview, image: busybox}
  - {name: stop, op: cancel, deployment: "@web"}
  - {name: live-preview, op: promote, deployment: "@preview"}
  - {name: live-cancel, op: promote, deployment: "@nothing"}
  - {name: back, op: rollback, project: web, from: "@web", target: "@stop"}
`;
    expect(problemsOf(text)).toEqual([
      '3:49: "live-early" (promote): "@web" names no earlier operation of this file; write a deployment id or "@" and the name of an earlier deploy',
      '6:42: "stop" (cancel): "deployment" must be a deployment id; a deploy entry of this file is already finished when a later entry runs, so it cannot be cancelled by name',
      '7:51: "live-preview" (promote): "@preview" deploys to "preview"; only production deployments can be promoted or rolled back to',
      '8:50: "live-cancel" (promote): "@nothing" names no earlier operation of this file; write a deployment id or "@" and the name of an earlier deploy',
      '9:68: "back" (rollback): "@stop" is a cancel, not a deploy; it makes no deployment',
    ]);
  });

  it("explains a file that is empty, not a mapping, or of another version", () => {
    expect(problemsOf("")).toEqual([
      '1:1: the file is empty; a batch file starts with "version: 1" and lists its operations under "operations:"',
    ]);
    expect(problemsOf("- name: web\n")).toEqual([
      '1:1: a batch file is a mapping with "version" and "operations", not a list',
    ]);
    expect(problemsOf("version: 2\noperations: []\nextra: true\n")).toEqual([
      '1:10: "version" must be 1 (the only batch file format this ferry knows), not number 2',
      '2:13: "operations" is empty: list at least one operation',
      '3:1: batch file: unknown field "extra"; expected one of: version, run, operations',
    ]);
  });

  it("reports a key written twice in one entry", () => {
    const problems = problemsOf(
      "version: 1\noperations:\n  - name: web\n    op: cancel\n    deployment: dep_1\n    deployment: dep_2\n",
    );
    expect(problems).toEqual(["6:5: this key appears twice in the same mapping; keep one"]);
  });

  it("formats problems as FILE:LINE:COL: message", () => {
    expect(formatProblem("release.yaml", { line: 3, col: 7, message: "bad" })).toBe(
      "release.yaml:3:7: bad",
    );
  });
});

describe("checkDirectories", () => {
  const root = mkdtempSync(path.join(tmpdir(), "ferry-batch-dirs-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reports a missing directory and a missing Dockerfile at their fields", () => {
    mkdirSync(path.join(root, "good"));
    writeFileSync(path.join(root, "good", "Dockerfile"), "FROM scratch\n");
    mkdirSync(path.join(root, "bare"));
    const { file, problems } = parseBatchFile(
      `version: 1
operations:
  - {name: good, op: deploy, project: web, dir: ./good}
  - {name: gone, op: deploy, project: web, dir: ./gone}
  - name: bare
    op: deploy
    project: web
    dir: bare
    dockerfile: build/Dockerfile
`,
      { path: "b.yaml", baseDir: root },
    );
    expect(problems).toEqual([]);
    if (file === undefined) throw new Error("no file");
    expect(checkDirectories(file).map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      `4:49: "gone" (deploy): the directory gone does not exist (${path.join(root, "gone")})`,
      '9:17: "bare" (deploy): bare has no build/Dockerfile; add it, set "dockerfile" to its path inside the directory, or deploy a prebuilt "image"',
    ]);
  });
});
