/**
 * What a reader learns about a job: its state file, checked against reality. A job whose state
 * says running but whose runner is gone has failed; a directory claimed by a starter that died
 * before recording a runner holds no build at all ("unknown": starting it again is safe).
 */
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type BuildFailure,
  JOB_ID,
  type JobStateFile,
  jobDir,
  readSpec,
  readStateFile,
  readStopRequest,
  writeState,
} from "./job-files.ts";
import { isAlive } from "./process.ts";

export type BuildJobState =
  /** No such job, or a start that was interrupted before a runner took the job. */
  | { readonly status: "unknown"; readonly jobId: string }
  | {
      readonly status: "running";
      readonly jobId: string;
      readonly tag: string;
      /** Null for the instant between the claim and the runner's start. */
      readonly pid: number | null;
      readonly startedAt: number | null;
    }
  | {
      readonly status: "succeeded";
      readonly jobId: string;
      readonly tag: string;
      readonly imageId: string | null;
      readonly startedAt: number;
      readonly finishedAt: number;
    }
  | {
      readonly status: "failed";
      readonly jobId: string;
      readonly tag: string;
      readonly failure: BuildFailure;
      readonly startedAt: number;
      readonly finishedAt: number;
    };

/** A claim without a spec (the starter died at once) is stale after this long. */
const BARE_CLAIM_STALE_MS = 30_000;
/** A claim whose starter lives but never recorded a runner: far longer than any start takes. */
const CLAIM_STALE_MS = 120_000;

export const RUNNER_EXITED = "build process exited unexpectedly";

export const toPublic = (file: JobStateFile): BuildJobState => {
  const base = { jobId: file.jobId, tag: file.tag, startedAt: file.startedAt };
  switch (file.status) {
    case "running":
      return { status: "running", ...base, pid: file.runner.pid };
    case "succeeded":
      return { status: "succeeded", ...base, imageId: file.imageId, finishedAt: file.finishedAt };
    case "failed":
      return { status: "failed", ...base, failure: file.failure, finishedAt: file.finishedAt };
  }
};

export const failedState = (file: JobStateFile, failure: BuildFailure): JobStateFile => ({
  version: 1,
  jobId: file.jobId,
  tag: file.tag,
  runner: file.runner,
  startedAt: file.startedAt,
  status: "failed",
  failure,
  finishedAt: Date.now(),
});

export interface Inspected {
  readonly state: BuildJobState;
  /** The directory holds a claim that no runner will ever take: it may be discarded. */
  readonly staleClaim: boolean;
}

const exists = async (path: string) => {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};

/** The job's state; a running job whose runner died is recorded as failed on the way. */
export const inspectJob = async (jobsRoot: string, jobId: string): Promise<Inspected> => {
  // An id that could not have been created (a path, "..") names no job.
  if (!JOB_ID.test(jobId)) return { state: { status: "unknown", jobId }, staleClaim: false };
  const dir = jobDir(jobsRoot, jobId);
  const info = await exists(dir);
  if (info === undefined) return { state: { status: "unknown", jobId }, staleClaim: false };
  const file = await readStateFile(dir);
  if (file === undefined) {
    const spec = await readSpec(dir).catch(() => undefined);
    const stale =
      spec === undefined
        ? Date.now() - info.mtimeMs > BARE_CLAIM_STALE_MS
        : !isAlive(spec.claimedBy) || Date.now() - spec.claimedAt > CLAIM_STALE_MS;
    return stale
      ? { state: { status: "unknown", jobId }, staleClaim: true }
      : {
          state: { status: "running", jobId, tag: spec?.tag ?? "", pid: null, startedAt: null },
          staleClaim: false,
        };
  }
  if (file.status !== "running" || isAlive(file.runner))
    return { state: toPublic(file), staleClaim: false };
  // The runner writes its end before it exits: read again before calling it dead.
  const again = await readStateFile(dir);
  if (again === undefined || again.status !== "running" || again.runner.pid !== file.runner.pid)
    return {
      state: again === undefined ? { status: "unknown", jobId } : toPublic(again),
      staleClaim: false,
    };
  // A runner killed by stopBuildJob died for the stop's reason, whoever notices first.
  const stop = await readStopRequest(dir).catch(() => undefined);
  const failed = failedState(
    again,
    stop === undefined
      ? { kind: "runner-exited", message: RUNNER_EXITED }
      : { kind: "stopped", message: stop.reason },
  );
  await writeState(dir, failed);
  return { state: toPublic(failed), staleClaim: false };
};

/**
 * Removes a job directory so that readers see all of it or nothing: it is first renamed (atomic)
 * to a hidden name that no job id can take, then deleted.
 */
export const discardJobDir = async (jobsRoot: string, jobId: string): Promise<void> => {
  const hidden = join(jobsRoot, `.removed-${jobId}-${process.pid}-${Date.now().toString(36)}`);
  try {
    await rename(jobDir(jobsRoot, jobId), hidden);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  await rm(hidden, { recursive: true, force: true });
};
