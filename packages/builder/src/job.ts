/**
 * Build jobs: a build runs in a detached process of its own (job-runner.ts), so that it may take
 * longer than a workflow step may run, and survives a crash of the process that started it.
 * A workflow drives it with idempotent calls: start (any number of times: one build), poll the
 * state and the log, stop, remove. The directory contract is described in job-files.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEngineUrl } from "@ferry/containers";
import { Effect } from "effect";
import { entryComponents } from "./archive-paths.ts";
import { imageTagProblem } from "./image-tag.ts";
import {
  BuildJobInvalid,
  BuildJobIoError,
  BuildJobNotFound,
  BuildJobRunning,
} from "./job-errors.ts";
import {
  JOB_ID,
  type JobSpec,
  type JobStateFile,
  jobDir,
  LOG_FILE,
  RUNNER_LOG_FILE,
  readSpec,
  readStateFile,
  writeSpec,
  writeState,
  writeStopRequest,
} from "./job-files.ts";
import { type LogChunk, MIN_LOG_BYTES, readLogLines } from "./job-log.ts";
import {
  type BuildJobState,
  discardJobDir,
  failedState,
  inspectJob,
  toPublic,
} from "./job-state.ts";
import { processRef, terminateGroup } from "./process.ts";
import { containsSecret } from "./redact.ts";

export interface StartBuildJobInput {
  /** Directory of all jobs (created if missing); each job gets `<jobsRoot>/<jobId>/`. */
  readonly jobsRoot: string;
  /** Letters, digits, "_", "." and "-"; the same id always names the same build. */
  readonly jobId: string;
  /** The gzip'd tar context, already checked with inspectArchive. It must not change. */
  readonly archivePath: string;
  /** Path of the Dockerfile inside the archive; default `Dockerfile`. */
  readonly dockerfile?: string;
  /** The image reference to build, with a tag: ferryImageTag(project, deployment). */
  readonly tag: string;
  /** Plain values of the Dockerfile's ARGs (selectBuildArgs). Never a secret. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Labels set on the image. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The deployment's secret variables (name → value), used ONLY to redact the build's output:
   * they go to the runner through a pipe, are never written to disk and never reach the engine.
   */
  readonly redact: Readonly<Record<string, string>>;
  /** The Docker Engine API: `unix:///path` or `tcp://host:port`. */
  readonly engineUrl: string;
  /** The runner stops the build and fails the job after this long. */
  readonly timeoutMs: number;
  /** Bound of build.log (at least 16 KiB); see job-log.ts for what is kept. */
  readonly maxLogBytes: number;
}

export interface StartedBuildJob {
  /** False when the job already existed: nothing was started by this call. */
  readonly created: boolean;
  readonly state: BuildJobState;
}

const RUNNER_PATH = fileURLToPath(new URL("./job-runner.ts", import.meta.url));

/**
 * The runner's environment: only what a process needs to run. The starter's own environment
 * (a workflow service's database URL and key ring) has no business in a build process.
 */
const RUNNER_ENV_KEYS = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ"] as const;

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const ioFailure = (jobId: string, what: string) => (error: unknown) =>
  error instanceof BuildJobInvalid ||
  error instanceof BuildJobIoError ||
  error instanceof BuildJobNotFound ||
  error instanceof BuildJobRunning
    ? error
    : new BuildJobIoError({ jobId, reason: `${what}: ${describe(error)}` });

/** Every reason the input cannot make a build, or undefined. */
const invalidInput = (input: StartBuildJobInput): string | undefined => {
  if (!JOB_ID.test(input.jobId))
    return `the job id must be 1 to 128 letters, digits, "_", "." or "-", starting with a letter or digit`;
  const tagProblem = imageTagProblem(input.tag);
  if (tagProblem !== undefined)
    return `the image tag ${JSON.stringify(input.tag)} is invalid: ${tagProblem}`;
  const dockerfile = entryComponents(input.dockerfile ?? "Dockerfile");
  if (typeof dockerfile === "string" || dockerfile.length === 0)
    return `the Dockerfile path ${JSON.stringify(input.dockerfile)} must be a relative path inside the archive`;
  if (!Number.isFinite(input.timeoutMs) || input.timeoutMs <= 0)
    return `timeoutMs must be a positive number of milliseconds`;
  if (!Number.isInteger(input.maxLogBytes) || input.maxLogBytes < MIN_LOG_BYTES)
    return `maxLogBytes must be an integer of at least ${MIN_LOG_BYTES}`;
  try {
    parseEngineUrl(input.engineUrl);
  } catch (error) {
    return describe(error);
  }
  for (const [name, value] of Object.entries(input.buildArgs)) {
    if (!ARG_NAME.test(name))
      return `build argument name ${JSON.stringify(name)} is not an ARG name`;
    // The assertion behind "secrets never reach a build": by name and by value.
    if (Object.hasOwn(input.redact, name))
      return `build argument ${name} is a secret variable; secrets are never passed to builds`;
    const secret = containsSecret(value, input.redact);
    if (secret !== undefined)
      return `build argument ${name} holds the value of secret variable ${secret}; secrets are never passed to builds`;
  }
  return undefined;
};

const waitForSpawn = (child: ChildProcess) =>
  new Promise<number>((resolvePid, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      if (child.pid === undefined) reject(new Error("the runner process has no pid"));
      else resolvePid(child.pid);
    });
  });

/** Sends the secret values down the runner's stdin, then closes it: the runner's go signal. */
const handOver = (child: ChildProcess, redact: Readonly<Record<string, string>>) =>
  new Promise<void>((done, reject) => {
    const stdin = child.stdin;
    if (stdin === null) return reject(new Error("the runner process has no stdin"));
    stdin.once("error", reject);
    stdin.end(JSON.stringify({ redact }), () => done());
  });

/** Writes the spec, spawns the runner, records it, hands the job over. */
const launch = async (
  root: string,
  input: StartBuildJobInput,
  archivePath: string,
): Promise<BuildJobState> => {
  const dir = jobDir(root, input.jobId);
  const claimToken = randomBytes(16).toString("hex");
  const spec: JobSpec = {
    version: 1,
    jobId: input.jobId,
    archivePath,
    dockerfile: input.dockerfile ?? "Dockerfile",
    tag: input.tag,
    buildArgs: { ...input.buildArgs },
    labels: { ...input.labels },
    engineUrl: input.engineUrl,
    timeoutMs: input.timeoutMs,
    maxLogBytes: input.maxLogBytes,
    claimedBy: processRef(process.pid),
    claimedAt: Date.now(),
    claimToken,
  };
  let child: ChildProcess | undefined;
  try {
    await writeSpec(dir, spec);
    const out = await open(join(dir, RUNNER_LOG_FILE), "a", 0o600);
    let spawned: Promise<number>;
    try {
      const env: Record<string, string> = {};
      for (const key of RUNNER_ENV_KEYS) {
        const value = process.env[key];
        if (value !== undefined) env[key] = value;
      }
      child = spawn(process.execPath, [RUNNER_PATH, dir], {
        cwd: dir,
        env,
        // Its own process group (so a stop kills it whole) and no tie to this process's life.
        detached: true,
        stdio: ["pipe", out.fd, out.fd],
      });
      // Listened to at once: the "spawn" event may fire while the log file is being closed.
      spawned = waitForSpawn(child);
      child.stdin?.on("error", () => undefined);
    } finally {
      await out.close();
    }
    const pid = await spawned;
    // A start that stalled for minutes may have had its claim taken over: then it is not ours.
    const current = await readSpec(dir).catch(() => undefined);
    if (current?.claimToken !== claimToken) {
      child.kill("SIGKILL");
      child.unref();
      return (await inspectJob(root, input.jobId)).state;
    }
    const state: JobStateFile = {
      version: 1,
      jobId: input.jobId,
      tag: input.tag,
      runner: processRef(pid),
      startedAt: Date.now(),
      status: "running",
    };
    await writeState(dir, state);
    await handOver(child, input.redact);
    child.unref();
    return toPublic(state);
  } catch (error) {
    // The runner never got the job, so nothing was built: give the claim back for a retry.
    child?.kill("SIGKILL");
    child?.unref();
    await discardJobDir(root, input.jobId).catch(() => undefined);
    throw error;
  }
};

const start = async (input: StartBuildJobInput): Promise<StartedBuildJob> => {
  const problem = invalidInput(input);
  if (problem !== undefined) throw new BuildJobInvalid({ jobId: input.jobId, reason: problem });
  const root = resolve(input.jobsRoot);
  const archivePath = isAbsolute(input.archivePath)
    ? input.archivePath
    : resolve(input.archivePath);
  await mkdir(root, { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    try {
      // The atomic claim: of any number of concurrent starts, exactly one creates the directory.
      await mkdir(jobDir(root, input.jobId), { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const existing = await inspectJob(root, input.jobId);
      if (!existing.staleClaim || attempt > 0) return { created: false, state: existing.state };
      await discardJobDir(root, input.jobId);
      continue;
    }
    try {
      const info = await stat(archivePath);
      if (!info.isFile()) throw new Error("not a file");
    } catch {
      await discardJobDir(root, input.jobId);
      throw new BuildJobInvalid({
        jobId: input.jobId,
        reason: `the source archive ${archivePath} does not exist`,
      });
    }
    return { created: true, state: await launch(root, input, archivePath) };
  }
};

/**
 * Starts the build unless the job exists. IDEMPOTENT: a second call (a retried workflow step)
 * returns the existing job and never starts a second build; a job whose start was interrupted
 * before its runner took it ("unknown") is started again.
 */
export const startBuildJob = (
  input: StartBuildJobInput,
): Effect.Effect<StartedBuildJob, BuildJobInvalid | BuildJobIoError> =>
  Effect.tryPromise({
    try: () => start(input),
    catch: ioFailure(input.jobId, "could not start the build"),
  }) as Effect.Effect<StartedBuildJob, BuildJobInvalid | BuildJobIoError>;

/**
 * The job's state: `unknown` (no build; starting is safe), `running`, `succeeded` or `failed`.
 * A runner found dead while its job says running is recorded as failed
 * ("build process exited unexpectedly").
 */
export const readBuildJob = (
  jobsRoot: string,
  jobId: string,
): Effect.Effect<BuildJobState, BuildJobIoError> =>
  Effect.tryPromise({
    try: async () => (await inspectJob(resolve(jobsRoot), jobId)).state,
    catch: ioFailure(jobId, "could not read the build's state"),
  }) as Effect.Effect<BuildJobState, BuildJobIoError>;

export interface ReadBuildLogOptions {
  /** Most bytes read by one call (at least 64 KiB); default 1 MiB. */
  readonly maxBytes?: number;
}

/**
 * The complete lines of build.log from byte `fromOffset` on, and the offset to ask for next:
 * poll with the returned `nextOffset` to follow a build live.
 */
export const readBuildLog = (
  jobsRoot: string,
  jobId: string,
  fromOffset: number,
  options: ReadBuildLogOptions = {},
): Effect.Effect<LogChunk, BuildJobNotFound | BuildJobIoError> =>
  Effect.tryPromise({
    try: async () => {
      const dir = jobDir(resolve(jobsRoot), jobId);
      if (!JOB_ID.test(jobId)) throw new BuildJobNotFound({ jobId });
      try {
        await stat(dir);
      } catch {
        throw new BuildJobNotFound({ jobId });
      }
      return readLogLines(
        join(dir, LOG_FILE),
        fromOffset,
        Math.max(64 * 1024, options.maxBytes ?? 1024 * 1024),
      );
    },
    catch: ioFailure(jobId, "could not read the build log"),
  }) as Effect.Effect<LogChunk, BuildJobNotFound | BuildJobIoError>;

export interface StopBuildJobOptions {
  /** How long the runner has after SIGTERM before SIGKILL; default 5 s. */
  readonly graceMs?: number;
}

/** How long a stop waits for a start that is under way to record its runner. */
const STARTING_WAIT_MS = 5_000;

/**
 * Stops a running build: SIGTERM to the runner's process group (the runner drops its engine
 * request), SIGKILL after the grace period, then the job is failed with `reason`. A job that
 * already ended keeps its state, which is returned. Dropping the request cancels the build on
 * Docker; Podman 4.3 lets the RUN command under way run to its end, then drops the build
 * without committing or tagging anything.
 */
export const stopBuildJob = (
  jobsRoot: string,
  jobId: string,
  reason: string,
  options: StopBuildJobOptions = {},
): Effect.Effect<BuildJobState, BuildJobIoError> =>
  Effect.tryPromise({
    try: async () => {
      const root = resolve(jobsRoot);
      const dir = jobDir(root, jobId);
      const deadline = Date.now() + STARTING_WAIT_MS;
      let inspected = await inspectJob(root, jobId);
      while (
        inspected.state.status === "running" &&
        inspected.state.pid === null &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 50));
        inspected = await inspectJob(root, jobId);
      }
      const file = await readStateFile(dir).catch(() => undefined);
      if (file === undefined || file.status !== "running") return inspected.state;
      // Recorded first, so that a reader that sees the runner dead fails the job with the reason.
      await writeStopRequest(dir, { reason, at: Date.now() });
      await terminateGroup(file.runner, options.graceMs ?? 5_000);
      const after = await readStateFile(dir);
      if (after !== undefined && after.status !== "running") return toPublic(after);
      const failed = failedState(file, { kind: "stopped", message: reason });
      await writeState(dir, failed);
      return toPublic(failed);
    },
    catch: ioFailure(jobId, "could not stop the build"),
  }) as Effect.Effect<BuildJobState, BuildJobIoError>;

/** Deletes a job that is not running (its directory, log included); a missing job is fine. */
export const removeBuildJob = (
  jobsRoot: string,
  jobId: string,
): Effect.Effect<void, BuildJobRunning | BuildJobIoError> =>
  Effect.tryPromise({
    try: async () => {
      if (!JOB_ID.test(jobId)) return;
      const root = resolve(jobsRoot);
      const { state } = await inspectJob(root, jobId);
      if (state.status === "running") throw new BuildJobRunning({ jobId });
      await discardJobDir(root, jobId);
    },
    catch: ioFailure(jobId, "could not remove the build job"),
  }) as Effect.Effect<void, BuildJobRunning | BuildJobIoError>;
