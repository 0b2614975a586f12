/**
 * The `retention` virtual object: one key ("retention") for the whole installation, so Restate
 * runs one sweep at a time whichever hydra replica asked for it (docs/decisions/0017).
 *
 * sweep: pages of candidates (one `ctx.run` each, the query selecting what the domain's rule
 * removes, the rule deciding again), each removable deployment's artifacts removed in its own
 * short `ctx.run` (artifacts.ts), bounded retries, failures logged and left for the next sweep;
 * then pages of build storage, for uploads no deployment references (orphans.ts). At most
 * MAX_PAGES_PER_SWEEP pages of each per sweep. The object's state keeps both cursors (a sweep
 * continues where the last one stopped, so nothing behind a long list starves) and when the
 * last sweep ran (so timers of several replicas make one sweep per interval).
 */
import * as restate from "@restatedev/restate-sdk";
import type { Logger } from "../log.ts";
import { InFlight, makeDurable, POLICIES, type StepPolicy } from "../objects/durable.ts";
import type { HydraRuntime } from "../services.ts";
import { type ArtifactPaths, type RemovalResult, removeArtifacts } from "./artifacts.ts";
import { type CandidatePage, findCandidates } from "./candidates.ts";
import { findOrphans, type OrphanPage, type OrphanRemoval, removeOrphan } from "./orphans.ts";
import { MAX_PAGES_PER_SWEEP, type RetentionSettings } from "./settings.ts";

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
  /** Deployments looked at (removed + kept + failed). */
  readonly examined: number;
  readonly removed: ReadonlyArray<string>;
  /** Listed, then kept by the rule's last check (facts changed since the listing). */
  readonly kept: ReadonlyArray<{ readonly deploymentId: string; readonly reason: string }>;
  /** A deployment's artifacts, or an abandoned upload (`key`), that could not be removed. */
  readonly failed: ReadonlyArray<
    | { readonly deploymentId: string; readonly error: string }
    | { readonly key: string; readonly error: string }
  >;
  /** Stored objects looked at under `projects/`. */
  readonly uploadsExamined: number;
  /** Keys of abandoned uploads removed (no deployment referenced them). */
  readonly orphansRemoved: ReadonlyArray<string>;
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
  const empty = {
    startedAt,
    examined: 0,
    removed: [],
    kept: [],
    failed: [],
    uploadsExamined: 0,
    orphansRemoved: [],
  };
  const last = await ctx.get<number>("lastSweepAt");
  const minGapMs = request?.minGapMs;
  if (typeof minGapMs === "number" && last !== null && startedAt - last < minGapMs)
    return { ...empty, skipped: `the last sweep started ${startedAt - last} ms ago` };
  ctx.set("lastSweepAt", startedAt);

  const log = deps.logger.with({ handler: "retention/sweep", invocationId: ctx.request().id });
  // Nothing to wait for on cancel here: closures are not tracked.
  const durable = makeDurable(ctx, deps.runtime, new InFlight(), undefined);
  const policy = { now: startedAt, periodMs: deps.settings.periodMs };

  const removed: string[] = [];
  const kept: Array<SweepReport["kept"][number]> = [];
  const failed: Array<SweepReport["failed"][number]> = [];
  const skipped: string[] = [];

  // Deployments: pages until the end of the list or the budget; the cursor is saved after each
  // page, so the next sweep continues after the last page this one read.
  let cursor = (await ctx.get<string>("cursor")) ?? "";
  for (let pageNumber = 1; pageNumber <= MAX_PAGES_PER_SWEEP; pageNumber++) {
    let page: CandidatePage;
    try {
      page = await durable.run(
        `find candidates (page ${pageNumber})`,
        findCandidates({ ...policy, cursor, limit: deps.settings.batchSize }),
        POLICIES.db,
      );
    } catch (error) {
      if (!gaveUp(error)) throw error;
      log.warn("retention sweep could not list candidates", { error: error.message });
      skipped.push(`could not list candidates: ${error.message}`);
      break;
    }
    cursor = page.nextCursor;
    ctx.set("cursor", cursor);
    kept.push(...page.kept);
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
    // The end of the list: the next sweep starts over (a failed removal waits for it).
    if (cursor === "") break;
  }

  // Abandoned uploads: build storage walked the same way, with a cursor of its own.
  const orphansRemoved: string[] = [];
  let uploadsExamined = 0;
  let after = (await ctx.get<string>("uploadsCursor")) ?? "";
  for (let pageNumber = 1; pageNumber <= MAX_PAGES_PER_SWEEP; pageNumber++) {
    let page: OrphanPage;
    try {
      page = await durable.run(
        `find abandoned uploads (page ${pageNumber})`,
        findOrphans({
          now: startedAt,
          minAgeMs: deps.settings.uploadUrlTtlSeconds * 1_000 + deps.settings.periodMs,
          after,
          limit: deps.settings.batchSize,
        }),
        POLICIES.db,
      );
    } catch (error) {
      if (!gaveUp(error)) throw error;
      log.warn("retention sweep could not list build storage", { error: error.message });
      skipped.push(`could not list build storage: ${error.message}`);
      break;
    }
    after = page.nextAfter;
    ctx.set("uploadsCursor", after);
    uploadsExamined += page.listed;
    for (const key of page.orphans) {
      let result: OrphanRemoval;
      try {
        result = await durable.run(`remove abandoned upload ${key}`, removeOrphan(key), REMOVAL);
      } catch (error) {
        if (!gaveUp(error)) throw error;
        result = { outcome: "failed", error: error.message };
      }
      if (result.outcome === "removed") orphansRemoved.push(key);
      else if (result.outcome === "failed") failed.push({ key, error: result.error });
    }
    if (after === "") break;
  }

  const report: SweepReport = {
    skipped: skipped.length === 0 ? null : skipped.join("; "),
    startedAt,
    examined: removed.length + kept.length + failed.filter((f) => "deploymentId" in f).length,
    removed,
    kept,
    failed,
    uploadsExamined,
    orphansRemoved,
  };
  if (removed.length > 0 || orphansRemoved.length > 0 || failed.length > 0)
    log.info("retention sweep", {
      examined: report.examined,
      removed,
      orphansRemoved,
      failed: failed.length,
    });
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
