/**
 * Retention: when the artifacts Ferry made for a deployment (its uploaded build context, hydra's
 * downloaded copy, the build job directory, the image it built) may be removed
 * (docs/decisions/0017-retention.md).
 *
 * A deployment's artifacts are removed when ALL of these hold:
 * - it was built from a build context (a prebuilt image is never Ferry's to remove);
 * - its artifacts were not removed already;
 * - it is terminal: FAILED, CANCELLED, SUPERSEDED, or READY with a newer READY deployment in its
 *   environment (the latest READY of an environment is what a rollback or a redeploy falls back on);
 * - it reached that status longer ago than the retention period;
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
  /** When its artifacts were removed, if they were. */
  readonly artifactsRemovedAt: number | undefined;
  /** It is the project's live deployment. */
  readonly isLive: boolean;
  /** Branch, environment and live hostnames pointing at it (its deployment hostname excluded). */
  readonly trafficRoutes: number;
  /** Its instances in STARTING or RUNNING. */
  readonly activeInstances: number;
  /** A READY deployment of the same environment was created after it. */
  readonly newerReadyInEnvironment: boolean;
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
  | "live"
  | "routed"
  | "instances-active"
  | "within-period";

export type RetentionDecision =
  | { readonly _tag: "Remove" }
  | { readonly _tag: "Keep"; readonly reason: KeepReason };

const keep = (reason: KeepReason): RetentionDecision => ({ _tag: "Keep", reason });

export const decideRetention = (
  facts: RetentionFacts,
  policy: RetentionPolicy,
): RetentionDecision => {
  if (facts.artifactsRemovedAt !== undefined) return keep("already-removed");
  if (facts.source !== "BUILD_CONTEXT") return keep("prebuilt-image");
  if (!isTerminal(facts.status)) return keep("in-progress");
  if (facts.status === "READY" && !facts.newerReadyInEnvironment) return keep("latest-ready");
  if (facts.isLive) return keep("live");
  if (facts.trafficRoutes > 0) return keep("routed");
  if (facts.activeInstances > 0) return keep("instances-active");
  // Strictly longer ago than the period: at exactly the boundary it is kept.
  if (policy.now - facts.finishedAt <= policy.periodMs) return keep("within-period");
  return { _tag: "Remove" };
};
