/**
 * The job directory contract without an engine: input checks, claims, stale claims, removal, and
 * a runner that cannot reach its engine (a bogus socket path).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Either } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readBuildJob,
  readBuildLog,
  removeBuildJob,
  type StartBuildJobInput,
  startBuildJob,
} from "../src/index.ts";
import { archiveDir } from "./support/archives.ts";
import { ended, run, waitForState } from "./support/jobs.ts";

let files: Awaited<ReturnType<typeof archiveDir>>;
let jobsRoot: string;
let archivePath: string;

beforeAll(async () => {
  files = await archiveDir();
  jobsRoot = await mkdtemp(join(tmpdir(), "ferry-jobs-"));
  archivePath = await files.tarGz([{ name: "Dockerfile", content: "FROM scratch\n" }]);
});

afterAll(async () => {
  await files?.cleanup();
  if (jobsRoot !== undefined) await rm(jobsRoot, { recursive: true, force: true });
});

let counter = 0;
const input = (overrides: Partial<StartBuildJobInput> = {}): StartBuildJobInput => ({
  jobsRoot,
  jobId: `contract-${process.pid}-${++counter}`,
  archivePath,
  tag: "ferry/prj_test:dep_test",
  buildArgs: {},
  redact: {},
  // Nothing listens there: the runner fails with an engine error at once.
  engineUrl: `unix://${tmpdir()}/ferry-no-engine-${process.pid}.sock`,
  timeoutMs: 30_000,
  maxLogBytes: 64 * 1024,
  ...overrides,
});

const refusal = async (overrides: Partial<StartBuildJobInput>) => {
  const result = await Effect.runPromise(Effect.either(startBuildJob(input(overrides))));
  if (Either.isRight(result)) throw new Error("expected the start to be refused");
  return result.left;
};

describe("startBuildJob refuses", () => {
  it("inputs that cannot build, creating nothing", async () => {
    const before = await readdir(jobsRoot);
    expect((await refusal({ tag: "ferry/App:1" })).message).toContain(
      'the image tag "ferry/App:1" is invalid: its name "ferry/App" must be lowercase',
    );
    expect((await refusal({ jobId: "../escape" })).message).toContain("the job id must be");
    expect((await refusal({ dockerfile: "/etc/Dockerfile" })).message).toContain(
      "must be a relative path inside the archive",
    );
    expect((await refusal({ maxLogBytes: 10 })).message).toContain("maxLogBytes must be");
    expect((await refusal({ engineUrl: "https://engine:2376" })).message).toContain(
      "not supported",
    );
    const missing = await refusal({ archivePath: join(files.dir, "missing.tar.gz") });
    expect(missing._tag).toBe("BuildJobInvalid");
    expect(missing.message).toContain("does not exist");
    expect(await readdir(jobsRoot)).toEqual(before);
  });

  it("a secret passed as a build argument, by name or by value", async () => {
    const byName = await refusal({
      buildArgs: { API_TOKEN: "x" },
      redact: { API_TOKEN: "secret-value-1" },
    });
    expect(byName.message).toContain(
      "build argument API_TOKEN is a secret variable; secrets are never passed to builds",
    );
    const byValue = await refusal({
      buildArgs: { URL: "https://user:secret-value-1@host" },
      redact: { API_TOKEN: "secret-value-1" },
    });
    expect(byValue.message).toContain(
      "build argument URL holds the value of secret variable API_TOKEN",
    );
    expect(byValue.message).not.toContain("secret-value-1");
  });
});

describe("the job lifecycle without an engine", () => {
  it("fails a job whose engine cannot be reached, and removes it when asked", async () => {
    const job = input();
    const started = await run(startBuildJob(job));
    expect(started.created).toBe(true);
    const state = await waitForState(jobsRoot, job.jobId, ended, 20_000);
    expect(state.status === "failed" && state.failure.kind).toBe("engine");
    if (state.status === "failed")
      expect(state.failure.message).toMatch(
        /^the container engine could not build the image: cannot reach the container engine at unix:.*socket does not exist/,
      );
    expect(await run(readBuildLog(jobsRoot, job.jobId, 0))).toEqual({
      lines: [],
      offsets: [],
      nextOffset: 0,
    });

    await run(removeBuildJob(jobsRoot, job.jobId));
    expect(await run(readBuildJob(jobsRoot, job.jobId))).toEqual({
      status: "unknown",
      jobId: job.jobId,
    });
    const log = await Effect.runPromise(Effect.either(readBuildLog(jobsRoot, job.jobId, 0)));
    expect(Either.isLeft(log) && log.left._tag).toBe("BuildJobNotFound");
    // Removing twice is fine.
    await run(removeBuildJob(jobsRoot, job.jobId));
  });

  it("takes over a claim whose starter died before recording a runner", async () => {
    const job = input();
    const dir = join(jobsRoot, job.jobId);
    await mkdir(dir);
    await writeFile(
      join(dir, "spec.json"),
      JSON.stringify({
        version: 1,
        jobId: job.jobId,
        archivePath,
        dockerfile: "Dockerfile",
        tag: job.tag,
        buildArgs: {},
        labels: {},
        engineUrl: job.engineUrl,
        timeoutMs: 1000,
        maxLogBytes: 65536,
        // No process has pid 2^22 on Linux (pid_max's ceiling): the starter is dead.
        claimedBy: { pid: 4_194_304, startTime: null },
        claimedAt: Date.now(),
        claimToken: "dead-starter",
      }),
    );
    expect(await run(readBuildJob(jobsRoot, job.jobId))).toEqual({
      status: "unknown",
      jobId: job.jobId,
    });
    const started = await run(startBuildJob(job));
    expect(started.created).toBe(true);
    expect(started.state.status).toBe("running");
    await waitForState(jobsRoot, job.jobId, ended, 20_000);
  });

  it("reports a claim in progress as running, and will not remove it", async () => {
    const job = input();
    const dir = join(jobsRoot, job.jobId);
    await mkdir(dir);
    await writeFile(
      join(dir, "spec.json"),
      JSON.stringify({
        version: 1,
        jobId: job.jobId,
        archivePath,
        dockerfile: "Dockerfile",
        tag: job.tag,
        buildArgs: {},
        labels: {},
        engineUrl: job.engineUrl,
        timeoutMs: 1000,
        maxLogBytes: 65536,
        claimedBy: { pid: process.pid, startTime: null },
        claimedAt: Date.now(),
        claimToken: "live-starter",
      }),
    );
    const running = {
      status: "running",
      jobId: job.jobId,
      tag: job.tag,
      pid: null,
      startedAt: null,
    };
    expect(await run(readBuildJob(jobsRoot, job.jobId))).toEqual(running);
    expect(await run(startBuildJob(job))).toEqual({ created: false, state: running });
    const removed = await Effect.runPromise(Effect.either(removeBuildJob(jobsRoot, job.jobId)));
    expect(Either.isLeft(removed) && removed.left._tag).toBe("BuildJobRunning");
  });

  it("has a runner that never builds without its hand-over", async () => {
    const job = input();
    const dir = join(jobsRoot, job.jobId);
    await mkdir(dir);
    // A runner whose starter died before handing the job over: its stdin ends empty.
    const runner = spawn(
      process.execPath,
      [join(import.meta.dirname, "../src/job-runner.ts"), dir],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    const code = await new Promise((resolve) => runner.once("exit", resolve));
    expect(code).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it("names no job with an id that could not have been created", async () => {
    expect(await run(readBuildJob(jobsRoot, "../.."))).toEqual({
      status: "unknown",
      jobId: "../..",
    });
  });
});
