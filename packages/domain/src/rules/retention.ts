/**
 * Retention: when the artifacts Ferry made for a deployment (its uploaded build context, hydra's
 * downloaded copy, the build job directory, the image it built) may be removed
 * (docs/decisions/0017-retention.md).
 *
 * A deployment's artifacts are removed when ALL of these hold:
 * - it was built from a build context (a prebuilt image is never Ferry's to remove);
 * - its artifacts were not removed already;
 * - it is terminal: FAILED, CANCELLED, SUPERSEDED, or READY with at least KEEP_READY_PER_ENVIRONMENT
 *   newer READY deployments in its environment (the two newest READY of an environment are kept,
 *   however old: the latest is what a redeploy falls back on, the one before it is what
 *   `ferry rollback` picks by default);
 * - it stopped being needed longer ago than the retention period: a FAILED, CANCELLED or
 *   SUPERSEDED one when it reached that status, a READY one when the newer READY that pushed it
 *   out of the kept ones became READY (not its own READY time: a deployment that served for a
 *   month is not "old" the day it is replaced);
 * - it is not the project's live deployment (a pinned rollback target is live);
 * - no branch, environment or live hostname points at it (its own deployment hostname always
 *   does, and serves only while its instances run, which the next rule covers);
 * - none of its instances is STARTING or RUNNING (a rollback needs its containers).
 */
import type { DeploymentStatus } from "../model/deployment.ts";
import { isTerminal } from "./deployment-lifecycle.ts";

/** What the rule needs to know of a deployment, read in one query. */
export interface RetentionFacts {
  readonly id: string;
  readonly projectId: string;
  readonly environmentId: string;
  readonly status: DeploymentStatus;
  /** "BUILD_CONTEXT": Ferry built its image; "DOCKER_IMAGE": prebuilt, nothing of Ferry's. */
  readonly source: "BUILD_CONTEXT" | "DOCKER_IMAGE";
  /** The storage key of its build context, when it has one. */
  readonly buildContextPath: string | undefined;
  /** The image it ran or would run (the built tag), when known. */
  readonly image: string | undefined;
  /** When it reached its current status (epoch ms). */
  readonly finishedAt: number;
  /**
   * When the KEEP_READY_PER_ENVIRONMENT-th READY deployment of its environment created after it
   * became READY (epoch ms): from then on a READY deployment is no longer one of the kept ones.
   * Undefined while there are fewer.
   */
  readonly supersededAt: number | undefined;
  /** When its artifacts were removed, if they were. */
  readonly artifactsRemovedAt: number | undefined;
  /** It is the project's live deployment. */
  readonly isLive: boolean;
  /** Branch, environment and live hostnames pointing at it (its deployment hostname excluded). */
  readonly trafficRoutes: number;
  /** Its instances in STARTING or RUNNING. */
  readonly activeInstances: number;
  /** READY deployments of the same environment created after it. */
  readonly newerReadyInEnvironment: number;
}

export interface RetentionPolicy {
  /** Now (epoch ms). */
  readonly now: number;
  /** Artifacts are kept at least this long after the deployment finished. */
  readonly periodMs: number;
}

/** Why a deployment keeps its artifacts, most fundamental reason first. */
export type KeepReason =
  | "already-removed"
  | "prebuilt-image"
  | "in-progress"
  | "latest-ready"
  | "previous-ready"
  | "live"
  | "routed"
  | "instances-active"
  | "within-period";

export type RetentionDecision =
  | { readonly _tag: "Remove" }
  | { readonly _tag: "Keep"; readonly reason: KeepReason };

/**
 * How many READY deployments of each environment keep their artifacts, newest first: the latest
 * (a redeploy's base) and the one before it (the default target of `ferry rollback`, the READY
 * production deployment created before the live one).
 */
export const KEEP_READY_PER_ENVIRONMENT = 2;

/**
 * Since when a deployment is no longer needed, which the retention period counts from; undefined
 * while it is one of its environment's kept READY deployments.
 */
export const unneededSince = (facts: RetentionFacts): number | undefined =>
  facts.status === "READY" ? facts.supersededAt : facts.finishedAt;

const keep = (reason: KeepReason): RetentionDecision => ({ _tag: "Keep", reason });

export const decideRetention = (
  facts: RetentionFacts,
  policy: RetentionPolicy,
): RetentionDecision => {
  if (facts.artifactsRemovedAt !== undefined) return keep("already-removed");
  if (facts.source !== "BUILD_CONTEXT") return keep("prebuilt-image");
  if (!isTerminal(facts.status)) return keep("in-progress");
  if (facts.status === "READY" && facts.newerReadyInEnvironment < KEEP_READY_PER_ENVIRONMENT)
    return keep(facts.newerReadyInEnvironment === 0 ? "latest-ready" : "previous-ready");
  if (facts.isLive) return keep("live");
  if (facts.trafficRoutes > 0) return keep("routed");
  if (facts.activeInstances > 0) return keep("instances-active");
  const since = unneededSince(facts);
  // Strictly longer ago than the period: at exactly the boundary it is kept. (A READY one with
  // enough newer READY has a supersededAt; undefined would mean inconsistent facts: keep.)
  if (since === undefined || policy.now - since <= policy.periodMs) return keep("within-period");
  return { _tag: "Remove" };
};
