/**
 * The job directory contract, `<jobsRoot>/<jobId>/`:
 *
 *   spec.json   what to build (written once, before the runner starts; no secret in it)
 *   state.json  where the build is (replaced atomically: temp file + rename)
 *   build.log   the build's output, redacted, one line per line, append-only (bounded: job-log.ts)
 *   runner.log  the runner process's own stdout and stderr (crashes), for operators
 *   stop.json   written by stopBuildJob before it kills the runner: the reason the job failed
 *
 * Writers: the starter writes spec.json, then state.json `running` with the runner's pid; from
 * then on only the runner writes state.json, except after the runner is gone (stopBuildJob, or
 * a reader that finds it dead).
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Schema } from "effect";

export const SPEC_FILE = "spec.json";
export const STATE_FILE = "state.json";
export const LOG_FILE = "build.log";
export const RUNNER_LOG_FILE = "runner.log";
export const STOP_FILE = "stop.json";

/** Job ids become directory names: no separators, no leading dot (reserved for Ferry's own). */
export const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const jobDir = (jobsRoot: string, jobId: string): string => join(jobsRoot, jobId);

/** A process, identified by its pid and its start time (so a reused pid is not mistaken for it). */
export const ProcessRef = Schema.Struct({
  pid: Schema.Number,
  /** /proc/<pid>/stat start time in clock ticks; null where /proc is not available. */
  startTime: Schema.NullOr(Schema.String),
});
export type ProcessRef = typeof ProcessRef.Type;

export const JobSpec = Schema.Struct({
  version: Schema.Literal(1),
  jobId: Schema.String,
  /** Absolute path of the gzip'd tar context. */
  archivePath: Schema.String,
  dockerfile: Schema.String,
  tag: Schema.String,
  buildArgs: Schema.Record({ key: Schema.String, value: Schema.String }),
  labels: Schema.Record({ key: Schema.String, value: Schema.String }),
  engineUrl: Schema.String,
  timeoutMs: Schema.Number,
  maxLogBytes: Schema.Number,
  /** The process that claimed the directory, and when: a claim whose starter died is stale. */
  claimedBy: ProcessRef,
  claimedAt: Schema.Number,
  /** Random; the starter checks it before each write, in case its claim was taken over. */
  claimToken: Schema.String,
});
export type JobSpec = typeof JobSpec.Type;

export const FailureKind = Schema.Literal(
  /** The Dockerfile does not parse, or an instruction is malformed. */
  "dockerfile",
  /** A RUN instruction exited non-zero. */
  "run-step",
  /** Anything else the engine reported, or an engine that could not be reached. */
  "engine",
  /** The runner's own deadline (`timeoutMs`) passed. */
  "timeout",
  /** stopBuildJob: cancelled, or timed out by the caller. */
  "stopped",
  /** The runner died without saying how the build ended. */
  "runner-exited",
);
export type FailureKind = typeof FailureKind.Type;

export const BuildFailure = Schema.Struct({
  kind: FailureKind,
  /** For the user: what failed and what to do. */
  message: Schema.String,
  /** The Dockerfile instruction that failed, when known: `RUN npm ci`. */
  step: Schema.optional(Schema.String),
  /** The last lines of output (redacted) before the failure. */
  outputTail: Schema.optional(Schema.Array(Schema.String)),
});
export type BuildFailure = typeof BuildFailure.Type;

const Common = {
  version: Schema.Literal(1),
  jobId: Schema.String,
  tag: Schema.String,
  runner: ProcessRef,
  startedAt: Schema.Number,
};

export const JobStateFile = Schema.Union(
  Schema.Struct({ ...Common, status: Schema.Literal("running") }),
  Schema.Struct({
    ...Common,
    status: Schema.Literal("succeeded"),
    imageId: Schema.NullOr(Schema.String),
    finishedAt: Schema.Number,
  }),
  Schema.Struct({
    ...Common,
    status: Schema.Literal("failed"),
    failure: BuildFailure,
    finishedAt: Schema.Number,
  }),
);
export type JobStateFile = typeof JobStateFile.Type;

export const StopRequest = Schema.Struct({ reason: Schema.String, at: Schema.Number });
export type StopRequest = typeof StopRequest.Type;

const encodeJson = <A, I>(schema: Schema.Schema<A, I>, value: A): string =>
  `${JSON.stringify(Schema.encodeSync(schema)(value), null, 2)}\n`;

/**
 * Replaces `path` atomically: readers see the old content or the new, never a torn file. The
 * temp file is in the same directory (rename is atomic only within a file system).
 */
export const writeFileAtomic = async (path: string, content: string): Promise<void> => {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
};

export const writeSpec = (dir: string, spec: JobSpec) =>
  writeFileAtomic(join(dir, SPEC_FILE), encodeJson(JobSpec, spec));

export const writeState = (dir: string, state: JobStateFile) =>
  writeFileAtomic(join(dir, STATE_FILE), encodeJson(JobStateFile, state));

const readJson = async <A, I>(
  schema: Schema.Schema<A, I>,
  path: string,
): Promise<A | undefined> => {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return Schema.decodeUnknownSync(schema)(JSON.parse(text));
};

export const writeStopRequest = (dir: string, request: StopRequest) =>
  writeFileAtomic(join(dir, STOP_FILE), encodeJson(StopRequest, request));

/** Why the job was stopped, when stopBuildJob was called. */
export const readStopRequest = (dir: string) => readJson(StopRequest, join(dir, STOP_FILE));

/** The spec, or undefined before it is written. */
export const readSpec = (dir: string) => readJson(JobSpec, join(dir, SPEC_FILE));

/** The state file, or undefined before the starter wrote it. */
export const readStateFile = (dir: string) => readJson(JobStateFile, join(dir, STATE_FILE));
