/**
 * The BUILDING step's side effects, each run inside one named `ctx.run` of the deploy
 * handler (objects/deploys.ts). Every one is safe to run again:
 *
 * - downloading the context writes `<contexts>/<deploymentId>.tar.gz` (through a temporary
 *   name of its own, then a rename); an attempt that passes its deadline is aborted, so no
 *   download goes on behind a retry; checking it only reads it;
 * - starting the build is idempotent by job id (the deployment id): a repeat returns the job;
 * - a poll reads the job's state, then its log from a journaled offset, and appends the lines
 *   to the deployment's log with their byte offsets in the job's log, so a poll repeated after
 *   a crash stores no line twice (EventLog.appendLogs skips offsets already stored);
 * - stopping a job that already ended keeps its state.
 *
 * Secrets: the snapshot's secret values are opened only inside `startBuild`, handed to the job
 * for redaction only, and never returned (results are journaled) nor logged.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import {
  ArchiveTooLarge,
  type BuildJobState,
  ferryImageTag,
  formatBytes,
  formatDuration,
  inspectArchive,
  isRetryableArchiveError,
  readBuildJob,
  readBuildLog,
  selectBuildArgs,
  startBuildJob,
  stopBuildJob,
} from "@ferry/builder";
import { BuildStorage, DeploymentRepository, EventLog, SecretBox } from "@ferry/domain";
import { Clock, Effect, Option } from "effect";
import { Permanent } from "../objects/durable.ts";
import type { BuildSettings } from "../objects/requests.ts";
import { type Began, type DeployPlan, moveStatus } from "./steps.ts";

/** Where the deployment's context is downloaded. */
export const contextPath = (settings: BuildSettings, deploymentId: string) =>
  path.join(settings.contextsDir, `${deploymentId}.tar.gz`);

/**
 * How long one download attempt may take. It stays well below Restate's inactivity timeout
 * (1 min): a `ctx.run` that outlives inactivity + abort timeout is aborted and re-executed on
 * every attempt, never ending. An archive that cannot be downloaded in this time fails the
 * deployment (after the step's few attempts) with a message naming its size.
 */
export const DOWNLOAD_ATTEMPT_MS = 40_000;

/** The message of a download attempt that passed DOWNLOAD_ATTEMPT_MS. */
export const downloadTooSlowMessage = (
  key: string,
  sizeBytes: number,
  receivedBytes: number,
  attemptMs: number = DOWNLOAD_ATTEMPT_MS,
) =>
  `downloading the build context "${key}" (${formatBytes(sizeBytes)}) from build storage did not finish within ${formatDuration(attemptMs)} (${formatBytes(receivedBytes)} received); build storage is too slow for an archive this size: make the archive smaller (leave build outputs, dependencies and .git out of it) or check the storage's throughput`;

export interface DownloadedContext {
  readonly sizeBytes: number;
}

/**
 * Downloads the archive from build storage to contextPath. The stored size is checked first
 * (a missing or oversized archive fails at once, before any byte is moved); the download is
 * aborted when the attempt is interrupted or passes `attemptMs`, and its partial file removed.
 * A missing or oversized archive fails permanently; storage errors and a slow download are
 * retried by the step (its last message ends the deployment).
 */
export const downloadContext = (
  plan: DeployPlan,
  settings: BuildSettings,
  attemptMs: number = DOWNLOAD_ATTEMPT_MS,
) =>
  Effect.gen(function* () {
    const source = plan.buildContext;
    if (source === null)
      return yield* new Permanent({ message: "this deployment has no build context" });
    const storage = yield* BuildStorage;
    const stored = yield* storage.stat(source.key);
    if (Option.isNone(stored))
      return yield* new Permanent({
        message: `the build context "${source.key}" is not in build storage (any more); upload it again and create a new deployment`,
      });
    const sizeBytes = stored.value.sizeBytes;
    if (sizeBytes > settings.maxArchiveBytes)
      return yield* new Permanent({
        message: new ArchiveTooLarge({ sizeBytes, limitBytes: settings.maxArchiveBytes }).message,
      });
    const target = contextPath(settings, plan.deploymentId);
    // A name of its own per attempt: an attempt never writes into another one's file.
    const partial = `${target}.${randomBytes(6).toString("hex")}.partial`;
    const stream = yield* storage.read(source.key);
    let received = 0;
    const deadline = AbortSignal.timeout(attemptMs);
    yield* Effect.tryPromise({
      try: async (interrupted) => {
        try {
          await mkdir(settings.contextsDir, { recursive: true });
          await pipeline(
            Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>),
            async function* (chunks: AsyncIterable<Uint8Array>) {
              for await (const chunk of chunks) {
                received += chunk.byteLength;
                yield chunk;
              }
            },
            createWriteStream(partial),
            { signal: AbortSignal.any([interrupted, deadline]) },
          );
          await rename(partial, target);
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        }
      },
      catch: (error) =>
        new Error(
          deadline.aborted
            ? downloadTooSlowMessage(source.key, sizeBytes, received, attemptMs)
            : `could not download the build context "${source.key}": ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
    return { sizeBytes } satisfies DownloadedContext;
  });

export interface FetchedContext {
  /** The Dockerfile's path inside the archive, as inspectArchive found it. */
  readonly dockerfilePath: string;
  /** Its text (at most 1 MiB): journaled, it names the build's ARGs. */
  readonly dockerfileText: string;
  readonly sizeBytes: number;
}

/**
 * Checks the downloaded archive (inspectArchive): an archive a user must change fails
 * permanently with the builder's message; an I/O error reading it is retried.
 */
export const checkContext = (plan: DeployPlan, settings: BuildSettings) =>
  Effect.gen(function* () {
    const source = plan.buildContext;
    if (source === null)
      return yield* new Permanent({ message: "this deployment has no build context" });
    const inspected = yield* inspectArchive({
      path: contextPath(settings, plan.deploymentId),
      maxBytes: settings.maxArchiveBytes,
      dockerfile: source.dockerfilePath,
    }).pipe(
      Effect.mapError((error) =>
        isRetryableArchiveError(error)
          ? new Error(error.message)
          : new Permanent({ message: error.message }),
      ),
    );
    return {
      dockerfilePath: inspected.dockerfile.path,
      dockerfileText: inspected.dockerfile.text,
      sizeBytes: inspected.sizeBytes,
    } satisfies FetchedContext;
  });

export interface StartedBuild {
  readonly tag: string;
  readonly created: boolean;
  /** ARGs named like a secret variable: not passed (worth telling the user). */
  readonly secretArgs: ReadonlyArray<string>;
}

/**
 * Opens the variable snapshot (secret values only here), chooses the build arguments among the
 * plain variables and starts the build job (idempotent: the job id is the deployment id). The
 * result holds no value of any variable.
 */
export const startBuild = (plan: DeployPlan, settings: BuildSettings, context: FetchedContext) =>
  Effect.gen(function* () {
    const snapshot = yield* (yield* DeploymentRepository).snapshot(plan.deploymentId);
    const box = yield* SecretBox;
    const plain: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const variable of snapshot) {
      if (variable._tag === "Plain") plain[variable.key] = variable.value;
      else
        secrets[variable.key] = yield* box.open(variable.sealed).pipe(
          Effect.mapError(
            (error) =>
              new Permanent({
                message: `secret variable ${variable.key} could not be opened: ${error.reason}`,
              }),
          ),
        );
    }
    const selected = selectBuildArgs(context.dockerfileText, {
      plain,
      secretKeys: Object.keys(secrets),
    });
    const tag = ferryImageTag(plan.projectId, plan.deploymentId);
    const started = yield* startBuildJob({
      jobsRoot: settings.jobsRoot,
      jobId: plan.deploymentId,
      archivePath: contextPath(settings, plan.deploymentId),
      dockerfile: context.dockerfilePath,
      tag,
      buildArgs: selected.buildArgs,
      redact: secrets,
      engineUrl: settings.engineUrl,
      timeoutMs: settings.timeoutMs,
      maxLogBytes: settings.maxLogBytes,
    }).pipe(
      Effect.catchTag("BuildJobInvalid", (error) =>
        Effect.fail(new Permanent({ message: error.message })),
      ),
      Effect.mapError((error) => (error instanceof Permanent ? error : new Error(error.message))),
    );
    return {
      tag,
      created: started.created,
      secretArgs: selected.secretArgs,
    } satisfies StartedBuild;
  });

export type PolledBuild =
  | { readonly state: "running"; readonly nextOffset: number; readonly lines: number }
  | {
      readonly state: "succeeded";
      readonly nextOffset: number;
      readonly lines: number;
      readonly imageId: string | null;
    }
  | {
      readonly state: "failed";
      readonly nextOffset: number;
      readonly lines: number;
      readonly message: string;
      /** The job's own deadline stopped it (the build timeout). */
      readonly timedOut: boolean;
    }
  | { readonly state: "unknown"; readonly nextOffset: number; readonly lines: number };

/** Most log bytes one poll moves into the event log. */
const POLL_LOG_BYTES = 256 * 1024;

/**
 * One poll: the job's state first, then its log from `offset` (so that once the state says the
 * build ended, every line it wrote is read), the lines appended to the deployment's log.
 */
export const pollBuild = (plan: DeployPlan, settings: BuildSettings, offset: number) =>
  Effect.gen(function* () {
    const state: BuildJobState = yield* readBuildJob(settings.jobsRoot, plan.deploymentId);
    const chunk = yield* readBuildLog(settings.jobsRoot, plan.deploymentId, offset, {
      maxBytes: POLL_LOG_BYTES,
    }).pipe(
      Effect.catchTag("BuildJobNotFound", () =>
        Effect.succeed({
          lines: [] as ReadonlyArray<string>,
          offsets: [] as ReadonlyArray<number>,
          nextOffset: offset,
        }),
      ),
    );
    if (chunk.lines.length > 0) {
      const at = yield* Clock.currentTimeMillis;
      // With each line's offset in build.log: a repeated poll stores no line twice.
      yield* (yield* EventLog).appendLogs(
        plan.deploymentId,
        chunk.lines.map((text, index) => ({
          step: "BUILDING",
          stream: "STDOUT" as const,
          text,
          at,
          ...(chunk.offsets[index] === undefined ? {} : { offset: chunk.offsets[index] }),
        })),
      );
    }
    // Lines still unread: report the build as running until the log is drained.
    // A read returns up to POLL_LOG_BYTES of whole lines (each at most 16 KiB): less than half of
    // that means it reached the end of the file.
    const drained = chunk.nextOffset - offset < POLL_LOG_BYTES / 2;
    const base = { nextOffset: chunk.nextOffset, lines: chunk.lines.length };
    switch (state.status) {
      case "succeeded":
        return drained
          ? ({ ...base, state: "succeeded", imageId: state.imageId } as PolledBuild)
          : ({ ...base, state: "running" } as PolledBuild);
      case "failed":
        return drained
          ? ({
              ...base,
              state: "failed",
              message: state.failure.message,
              timedOut: state.failure.kind === "timeout",
            } as PolledBuild)
          : ({ ...base, state: "running" } as PolledBuild);
      case "unknown":
        return { ...base, state: "unknown" } as PolledBuild;
      default:
        return { ...base, state: "running" } as PolledBuild;
    }
  }).pipe(Effect.mapError((error) => new Error(error.message)));

/**
 * Why a build that ran past FERRY_BUILD_TIMEOUT_MS failed: the limit, and the setting that
 * raises it (whoever notices first, hydra's poll loop or the job's own deadline, says this).
 */
export const buildTimeoutMessage = (timeoutMs: number) =>
  `the build did not finish within ${formatDuration(timeoutMs)} and was stopped; hydra's build timeout FERRY_BUILD_TIMEOUT_MS (now ${timeoutMs}) allows longer builds`;

/** Stops the build (a job that already ended, or never started, keeps its state). */
export const stopBuild = (settings: BuildSettings, deploymentId: string, reason: string) =>
  stopBuildJob(settings.jobsRoot, deploymentId, reason).pipe(
    Effect.asVoid,
    Effect.mapError((error) => new Error(error.message)),
  );

/**
 * The build succeeded: the image recorded on the deployment (still BUILDING, compare-and-set)
 * and the BUILDING step SUCCEEDED. When the deployment moved elsewhere (cancelled), nothing is
 * written.
 */
export const recordBuilt = (plan: DeployPlan, image: string, message: string) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    const moved = yield* moveStatus(plan, { from: ["BUILDING"], to: "BUILDING", at, image });
    if (!moved.ok) return moved;
    yield* deployments.finishStep({
      deploymentId: plan.deploymentId,
      name: "BUILDING",
      status: "SUCCEEDED",
      at,
      message,
    });
    return { ok: true } as Began;
  });

/**
 * Removes `<contexts>/<id>.tar.gz` and whatever a download attempt left beside it
 * (`<id>.tar.gz.<attempt>.partial`); nothing there is fine. Used by the deploy (after the build,
 * and in compensation) and by retention.
 */
export const removeDownloads = async (contextsDir: string, deploymentId: string) => {
  const name = `${deploymentId}.tar.gz`;
  const entries = await readdir(contextsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  for (const entry of entries)
    if (entry === name || entry.startsWith(`${name}.`))
      await rm(path.join(contextsDir, entry), { force: true });
};

/** Removes the downloaded context and any partial download (retried by the step on an I/O error). */
export const removeContext = (settings: BuildSettings, deploymentId: string) =>
  Effect.tryPromise({
    try: () => removeDownloads(settings.contextsDir, deploymentId),
    catch: (error) =>
      new Error(
        `could not remove the downloaded build context: ${error instanceof Error ? error.message : String(error)}`,
      ),
  });
