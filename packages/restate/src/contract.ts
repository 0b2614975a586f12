/**
 * The contract between ctrl (which calls) and hydra (which runs): the
 * Restate virtual object that serializes every operation on a project.
 *
 * - Object name `project`, keyed by the project id: Restate runs one
 *   exclusive handler per key at a time, so deploys, promotes and rollbacks
 *   of one project never overlap, whatever clients do.
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

export const PROJECT_HANDLERS = {
  deploy: "deploy",
  promote: "promote",
  rollback: "rollback",
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
  readonly deploy: (ctx: unknown, request: DeployRequest) => Promise<DeployOutcome>;
  readonly promote: (ctx: unknown, request: PromoteRequest) => Promise<TrafficOutcome>;
  readonly rollback: (ctx: unknown, request: RollbackRequest) => Promise<TrafficOutcome>;
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
