/**
 * The `retention` virtual object: one key ("retention") for the whole installation, so Restate
 * runs one sweep at a time whichever hydra replica asked for it (docs/decisions/0017).
 *
 * sweep: read a page of candidates (one `ctx.run`, decided by the domain's rule), then remove
 * each removable deployment's artifacts in its own short `ctx.run` (artifacts.ts), bounded
 * retries, failures logged and left for the next sweep. The object's state keeps the page
 * cursor (so deployments the rule keeps cannot starve the ones behind them) and when the last
 * sweep ran (so timers of several replicas make one sweep per interval).
 */
import * as restate from "@restatedev/restate-sdk";
import type { Logger } from "../log.ts";
import { InFlight, makeDurable, POLICIES, type StepPolicy } from "../objects/durable.ts";
import type { HydraRuntime } from "../services.ts";
import { type ArtifactPaths, type RemovalResult, removeArtifacts } from "./artifacts.ts";
import { type CandidatePage, findCandidates } from "./candidates.ts";
import type { RetentionSettings } from "./settings.ts";

export const RETENTION_OBJECT = "retention" as const;
/** The one key: a single queue for the installation. */
export const RETENTION_KEY = "retention" as const;

export interface SweepRequest {
  /** Skip when the last sweep started less than this long ago (timers ask; people do not). */
  readonly minGapMs?: number;
}

export interface SweepReport {
  /** Set when the sweep did nothing, and why. */
  readonly skipped: string | null;
  readonly startedAt: number;
  /** Candidates looked at (removed + kept + failed). */
  readonly examined: number;
  readonly removed: ReadonlyArray<string>;
  readonly kept: ReadonlyArray<{ readonly deploymentId: string; readonly reason: string }>;
  readonly failed: ReadonlyArray<{ readonly deploymentId: string; readonly error: string }>;
}

export interface RetentionDeps {
  readonly runtime: HydraRuntime;
  readonly logger: Logger;
  readonly settings: RetentionSettings;
  readonly paths: ArtifactPaths;
}

/** One deployment's removal: engine and storage calls, a few seconds; retried briefly. */
const REMOVAL: StepPolicy = {
  maxRetryAttempts: 3,
  initialRetryIntervalMs: 500,
  maxRetryIntervalMs: 2_000,
  attemptTimeoutMs: 40_000,
};

/** A step that gave up (its retries exhausted) ends this sweep's work on it, not the chain. */
const gaveUp = (error: unknown): error is restate.TerminalError =>
  error instanceof restate.TerminalError && !(error instanceof restate.CancelledError);

async function sweep(
  ctx: restate.ObjectContext,
  deps: RetentionDeps,
  request: SweepRequest | undefined,
): Promise<SweepReport> {
  const startedAt = await ctx.date.now();
  const empty = { startedAt, examined: 0, removed: [], kept: [], failed: [] };
  const last = await ctx.get<number>("lastSweepAt");
  const minGapMs = request?.minGapMs;
  if (typeof minGapMs === "number" && last !== null && startedAt - last < minGapMs)
    return { ...empty, skipped: `the last sweep started ${startedAt - last} ms ago` };
  ctx.set("lastSweepAt", startedAt);

  const log = deps.logger.with({ handler: "retention/sweep", invocationId: ctx.request().id });
  // Nothing to wait for on cancel here: closures are not tracked.
  const durable = makeDurable(ctx, deps.runtime, new InFlight(), undefined);
  const policy = { now: startedAt, periodMs: deps.settings.periodMs };

  let page: CandidatePage;
  try {
    page = await durable.run(
      "find candidates",
      findCandidates({
        ...policy,
        cursor: (await ctx.get<string>("cursor")) ?? "",
        limit: deps.settings.batchSize,
      }),
      POLICIES.db,
    );
  } catch (error) {
    if (!gaveUp(error)) throw error;
    log.warn("retention sweep could not list candidates", { error: error.message });
    return { ...empty, skipped: `could not list candidates: ${error.message}` };
  }
  ctx.set("cursor", page.nextCursor);

  const removed: string[] = [];
  const kept = [...page.kept];
  const failed: Array<SweepReport["failed"][number]> = [];
  for (const deploymentId of page.remove) {
    let result: RemovalResult;
    try {
      result = await durable.run(
        `remove artifacts of ${deploymentId}`,
        removeArtifacts(deploymentId, deps.paths, policy),
        REMOVAL,
      );
    } catch (error) {
      if (!gaveUp(error)) throw error;
      result = { outcome: "failed", errors: [error.message] };
    }
    if (result.outcome === "removed") removed.push(deploymentId);
    else if (result.outcome === "kept") kept.push({ deploymentId, reason: result.reason });
    else failed.push({ deploymentId, error: result.errors.join("; ") });
  }

  const report: SweepReport = {
    skipped: null,
    startedAt,
    examined: removed.length + kept.length + failed.length,
    removed,
    kept,
    failed,
  };
  if (removed.length > 0 || failed.length > 0)
    log.info("retention sweep", { examined: report.examined, removed, failed });
  for (const failure of failed)
    log.warn("build artifacts not removed; retried next sweep", { ...failure });
  return report;
}

/** The `retention` virtual object, bound to hydra's runtime and settings. */
export const makeRetentionObject = (deps: RetentionDeps) =>
  restate.object({
    name: RETENTION_OBJECT,
    description: "Removes old build artifacts, one sweep at a time for the whole installation.",
    handlers: {
      sweep: async (ctx: restate.ObjectContext, request: SweepRequest): Promise<SweepReport> =>
        sweep(ctx, deps, request),
    },
  });
