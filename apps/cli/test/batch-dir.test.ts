/**
 * Directory entries and re-runs against a stand-in ctrl over real HTTP (support/fake-ctrl.ts):
 * the key of a `dir` entry follows what would be deployed, so an unchanged directory is found
 * and not uploaded while a changed one is deployed; the environment and regions are checked
 * before anything is uploaded; the previous report is read strictly and kept up to date.
 */
import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApi } from "../src/api.ts";
import type { BatchFile } from "../src/batch/model.ts";
import type { EntryOutcome } from "../src/batch/outcome.ts";
import { parseBatchFile } from "../src/batch/parse.ts";
import { entriesSoFar, readPreviousReport } from "../src/batch/report.ts";
import { runBatch } from "../src/batch/run.ts";
import { CliError } from "../src/errors.ts";
import { ExitCode } from "../src/exit-codes.ts";
import { type FakeCtrl, startFakeCtrl } from "./support/fake-ctrl.ts";

let ctrl: FakeCtrl;
let dir: string;
beforeEach(async () => {
  ctrl = await startFakeCtrl();
  dir = mkdtempSync(path.join(tmpdir(), "ferry-batch-dir-"));
  writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY . /\n");
  writeFileSync(path.join(dir, "index.html"), "v1\n");
});
afterEach(async () => {
  await ctrl.close();
  rmSync(dir, { recursive: true, force: true });
});

const fileOf = (text: string): BatchFile => {
  const { file, problems } = parseBatchFile(text, { path: "release.yaml", baseDir: dir });
  if (file === undefined) throw new Error(JSON.stringify(problems));
  return file;
};

const run = (file: BatchFile, previous: ReadonlyMap<string, EntryOutcome> = new Map()) =>
  runBatch(createApi({ apiUrl: ctrl.apiUrl, apiKey: "k" }), file, {
    concurrency: 2,
    previous,
    signal: new AbortController().signal,
  });

const SITE = `version: 1
operations:
  - {name: site, op: deploy, project: web, dir: .}
`;

describe("a dir entry", () => {
  it("is skipped without an upload when the directory is unchanged, deployed when it changed", async () => {
    const first = await run(fileOf(SITE));
    expect(first.map((o) => o.result)).toEqual(["succeeded"]);
    expect(ctrl.calls.filter((call) => call === "upload")).toHaveLength(1);

    // Same content, new modification times (a fresh checkout): the same key, nothing sent.
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, "index.html"), later, later);
    const again = await run(fileOf(SITE));
    expect(again.map((o) => `${o.result} ${o.deploymentId}`)).toEqual(["skipped dep_1"]);
    expect(again[0]?.idempotencyKey).toBe(first[0]?.idempotencyKey);
    expect(ctrl.calls.filter((call) => call === "upload")).toHaveLength(1);

    // New content: a new key, a new upload and deployment.
    writeFileSync(path.join(dir, "index.html"), "v2\n");
    const changed = await run(fileOf(SITE));
    expect(changed.map((o) => `${o.result} ${o.deploymentId}`)).toEqual(["succeeded dep_2"]);
    expect(changed[0]?.idempotencyKey).not.toBe(first[0]?.idempotencyKey);
    expect(ctrl.calls.filter((call) => call === "upload")).toHaveLength(2);

    // A file made executable is a change too (the build sees it).
    chmodSync(path.join(dir, "index.html"), 0o755);
    expect((await run(fileOf(SITE)))[0]?.result).toBe("succeeded");
  });

  it("with another Dockerfile path is another deployment", async () => {
    writeFileSync(path.join(dir, "Other.Dockerfile"), "FROM scratch\nCOPY . /\n");
    const first = await run(fileOf(SITE));
    const other = await run(
      fileOf(SITE.replace("dir: .}", "dir: ., dockerfile: Other.Dockerfile}")),
    );
    expect(other[0]?.result).toBe("succeeded");
    expect(other[0]?.idempotencyKey).not.toBe(first[0]?.idempotencyKey);
  });

  it("fails on an unknown environment or region before packing or uploading anything", async () => {
    const outcomes = await run(
      fileOf(`version: 1
operations:
  - {name: site, op: deploy, project: web, env: staging, dir: .}
  - {name: api, op: deploy, project: api, dir: ., regions: [mars-1]}
`),
    );
    expect(outcomes.map((o) => `${o.result} ${o.message}`)).toEqual([
      'failed project web has no environment "staging" (it has production, preview)',
      'failed no region "mars-1"; available: local-1',
    ]);
    expect(ctrl.calls).toEqual([]);
  });
});

describe("the previous report", () => {
  it("is absent on a first run, and refused when it is there but unreadable", () => {
    expect(readPreviousReport(path.join(dir, "none.report.json")).exists).toBe(false);
    const damaged = path.join(dir, "release.report.json");
    writeFileSync(damaged, "{ not json");
    let error: unknown;
    try {
      readPreviousReport(damaged);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: ExitCode.Usage });
    expect((error as Error).message).toContain("is not a ferry batch report (version 1)");
  });

  it("written during a run keeps what earlier runs recorded for the entries not yet finished", () => {
    const outcome = (name: string, key: string, result: EntryOutcome["result"]) =>
      ({ name, idempotencyKey: key, result }) as EntryOutcome;
    const previous = new Map([
      ["k-web", outcome("web", "k-web", "succeeded")],
      ["k-live", outcome("live", "k-live", "succeeded")],
    ]);
    expect(
      entriesSoFar([outcome("web", "k-web", "skipped")], previous).map(
        (o) => `${o.name} ${o.result}`,
      ),
    ).toEqual(["web skipped", "live succeeded"]);
  });
});
