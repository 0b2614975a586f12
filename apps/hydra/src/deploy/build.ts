/**
 * The BUILDING step's side effects, each run inside one named `ctx.run` of the
 * deploy handler (objects/deploys.ts). Every one is safe to run again:
 *
 * - fetching the context overwrites `<contexts>/<deploymentId>.tar.gz` (written to a temporary
 *   name, then renamed) and inspects it again;
 * - starting the build is idempotent by job id (the deployment id): a repeat returns the job;
 * - a poll reads the job's state, then its log from a journaled offset, and appends the lines
 *   to the deployment's log (a poll repeated after a crash may store its lines twice);
 * - stopping a job that already ended keeps its state.
 *
 * Secrets: the snapshot's secret values are opened only inside `startBuild`, handed to the job
 * for redaction only, and never returned (results are journaled) nor logged.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import {
  type BuildJobState,
  ferryImageTag,
  inspectArchive,
  isRetryableArchiveError,
  readBuildJob,
  readBuildLog,
  selectBuildArgs,
  startBuildJob,
  stopBuildJob,
} from "@ferry/builder";
import { BuildStorage, DeploymentRepository, EventLog, SecretBox } from "@ferry/domain";
import { Clock, Effect } from "effect";
import { Permanent } from "../objects/durable.ts";
import type { BuildSettings } from "../objects/requests.ts";
import { type Began, type DeployPlan, moveStatus } from "./steps.ts";

/** Where the deployment's context is downloaded. */
export const contextPath = (settings: BuildSettings, deploymentId: string) =>
  path.join(settings.contextsDir, `${deploymentId}.tar.gz`);

export interface FetchedContext {
  /** The Dockerfile's path inside the archive, as inspectArchive found it. */
  readonly dockerfilePath: string;
  /** Its text (at most 1 MiB): journaled, it names the build's ARGs. */
  readonly dockerfileText: string;
  readonly sizeBytes: number;
}

/**
 * Downloads the archive from build storage (overwriting an earlier download) and checks it.
 * An archive a user must change fails permanently with the builder's message; an I/O error
 * reading it, or the storage being unavailable, is retried.
 */
export const fetchContext = (plan: DeployPlan, settings: BuildSettings) =>
  Effect.gen(function* () {
    const source = plan.buildContext;
    if (source === null)
      return yield* new Permanent({ message: "this deployment has no build context" });
    const target = contextPath(settings, plan.deploymentId);
    const partial = `${target}.partial`;
    const stream = yield* (yield* BuildStorage).read(source.key);
    yield* Effect.tryPromise({
      try: async () => {
        await mkdir(settings.contextsDir, { recursive: true });
        try {
          await pipeline(
            Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>),
            createWriteStream(partial),
          );
          await rename(partial, target);
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        }
      },
      catch: (error) =>
        new Error(
          `could not download the build context "${source.key}": ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
    const inspected = yield* inspectArchive({
      path: target,
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
        Effect.succeed({ lines: [] as ReadonlyArray<string>, nextOffset: offset }),
      ),
    );
    if (chunk.lines.length > 0) {
      const at = yield* Clock.currentTimeMillis;
      yield* (yield* EventLog).appendLogs(
        plan.deploymentId,
        chunk.lines.map((text) => ({ step: "BUILDING", stream: "STDOUT" as const, text, at })),
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
          ? ({ ...base, state: "failed", message: state.failure.message } as PolledBuild)
          : ({ ...base, state: "running" } as PolledBuild);
      case "unknown":
        return { ...base, state: "unknown" } as PolledBuild;
      default:
        return { ...base, state: "running" } as PolledBuild;
    }
  }).pipe(Effect.mapError((error) => new Error(error.message)));

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

/** Removes the downloaded context (best effort). */
export const removeContext = (settings: BuildSettings, deploymentId: string) =>
  Effect.promise(() => rm(contextPath(settings, deploymentId), { force: true }));
