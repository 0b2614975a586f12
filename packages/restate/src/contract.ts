/**
 * The contract between ctrl (which calls) and hydra (which runs): two Restate
 * virtual objects, both keyed by the project id.
 *
 * - `project` serializes everything that reads or changes a project's routing:
 *   promote, rollback, and `activate` (a deployment taking its routes, called
 *   by the deploy workflow). Restate runs one of them per project at a time,
 *   and each is short, so a rollback never waits behind a build.
 * - `deploys` runs a project's deploys one at a time, in arrival order (newest
 *   wins: a deploy supersedes itself when a newer one is queued). Its long
 *   steps (build, start, health checks) hold only this queue; the route switch
 *   is a call to `project.activate`, which re-reads the pin there.
 * - `deploy` is sent one-way (ctrl does not wait), with the deployment id as
 *   the Restate idempotency key: a repeated send starts nothing new.
 * - `promote` and `rollback` are called request/response through the
 *   ingress; they return a TrafficOutcome. Expected refusals (a precondition,
 *   an unknown id) are data in the outcome, not errors, so the caller can map
 *   each to its Connect code; a thrown error means the system failed.
 *
 * Payloads are plain JSON (Restate's default serde): ids as strings.
 */
import type { VirtualObjectDefinition } from "@restatedev/restate-sdk-clients";

export const PROJECT_OBJECT = "project" as const;

export const DEPLOYS_OBJECT = "deploys" as const;

export const PROJECT_HANDLERS = {
  promote: "promote",
  rollback: "rollback",
  activate: "activate",
} as const;

export interface DeployRequest {
  readonly workspaceId: string;
  readonly deploymentId: string;
}

export interface PromoteRequest {
  readonly workspaceId: string;
  readonly targetDeploymentId: string;
}

export interface RollbackRequest {
  readonly workspaceId: string;
  readonly sourceDeploymentId: string;
  readonly targetDeploymentId: string;
}

export interface TrafficResultJson {
  readonly liveDeploymentId: string | null;
  readonly rolledBack: boolean;
  readonly changed: boolean;
}

export type TrafficRefusal =
  | { readonly _tag: "PreconditionFailed"; readonly reason: string }
  | { readonly _tag: "NotFound"; readonly resource: string; readonly id: string };

export type TrafficOutcome =
  | { readonly ok: true; readonly result: TrafficResultJson }
  | { readonly ok: false; readonly refusal: TrafficRefusal };

/** A healthy deployment asks to take its routes (deploy workflow → project object). */
export interface ActivateRequest {
  readonly workspaceId: string;
  readonly deploymentId: string;
}

/** The routes the deployment took, decided on the pin as it was inside the project's queue. */
export type ActivateOutcome =
  | {
      readonly ok: true;
      readonly hostnames: ReadonlyArray<{ readonly hostname: string; readonly kind: string }>;
      readonly takesLiveTraffic: boolean;
      readonly pinned: boolean;
    }
  | { readonly ok: false; readonly reason: string };

/** What the deploy handler answers when it ends (for logs and tests; ctrl does not wait for it). */
export interface DeployOutcome {
  readonly deploymentId: string;
  readonly status: string;
  readonly errorMessage: string | null;
}

/**
 * The object's handlers as a typed client sees them: input and output of each (the context
 * parameter is whatever the SDK passes; a client never sees it).
 */
export interface ProjectObjectApi {
  readonly promote: (ctx: unknown, request: PromoteRequest) => Promise<TrafficOutcome>;
  readonly rollback: (ctx: unknown, request: RollbackRequest) => Promise<TrafficOutcome>;
  readonly activate: (ctx: unknown, request: ActivateRequest) => Promise<ActivateOutcome>;
}

/** The `deploys` object's handlers as a typed client sees them. */
export interface DeploysObjectApi {
  readonly deploy: (ctx: unknown, request: DeployRequest) => Promise<DeployOutcome>;
}

/**
 * The SDK-typed definition for `@restatedev/restate-sdk-clients`; pass its type explicitly:
 * `ingress.objectClient<ProjectObjectDefinition>(projectObjectDefinition, projectId)`.
 * (Declared with the SDK's own alias: the client recovers the handlers from its type arguments.)
 */
export const projectObjectDefinition: VirtualObjectDefinition<
  typeof PROJECT_OBJECT,
  ProjectObjectApi
> = { name: PROJECT_OBJECT };

export type ProjectObjectDefinition = typeof projectObjectDefinition;

export const deploysObjectDefinition: VirtualObjectDefinition<
  typeof DEPLOYS_OBJECT,
  DeploysObjectApi
> = { name: DEPLOYS_OBJECT };

export type DeploysObjectDefinition = typeof deploysObjectDefinition;
