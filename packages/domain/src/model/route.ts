/** Frontline routes: a hostname pointing at a deployment. */
import { Schema } from "effect";
import { DeploymentId, EnvironmentId, ProjectId, RouteId, WorkspaceId } from "../ids.ts";

/**
 * Why a hostname points where it does, which decides when it moves:
 * - DEPLOYMENT: the deployment's own hostname; never moves.
 * - BRANCH: follows the latest READY deployment of a git branch.
 * - ENVIRONMENT: follows the environment's current deployment.
 * - LIVE: production only; follows promote and rollback.
 */
export const RouteKind = Schema.Literal("DEPLOYMENT", "BRANCH", "ENVIRONMENT", "LIVE");
export type RouteKind = typeof RouteKind.Type;

export const Route = Schema.Struct({
  id: RouteId,
  workspaceId: WorkspaceId,
  projectId: ProjectId,
  environmentId: EnvironmentId,
  deploymentId: DeploymentId,
  hostname: Schema.String,
  kind: RouteKind,
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
});
export type Route = typeof Route.Type;

/** A route as a rule wants it: the repository creates it or moves it. */
export interface RouteTarget {
  readonly hostname: string;
  readonly kind: RouteKind;
}
