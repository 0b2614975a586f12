/** Frontline routes, and the project traffic state that moves with them. */
import { Context, type Effect, type Option } from "effect";
import type { DeploymentId, EnvironmentId, ProjectId, WorkspaceId } from "../ids.ts";
import type { Route, RouteTarget } from "../model/route.ts";

export interface PointRoutes {
  readonly workspaceId: WorkspaceId;
  readonly projectId: ProjectId;
  readonly environmentId: EnvironmentId;
  readonly deploymentId: DeploymentId;
  /**
   * Each hostname is created, or moved to the deployment (and its
   * environment, and the given kind) if it exists. A hostname that belongs to
   * another project is never taken over: that is a defect.
   */
  readonly routes: ReadonlyArray<RouteTarget>;
  /** When set, the project's live deployment becomes `deploymentId` and its pin this value. */
  readonly liveTraffic?: { readonly rolledBack: boolean };
  readonly at: number;
}

export class RouteRepository extends Context.Tag("@ferry/domain/RouteRepository")<
  RouteRepository,
  {
    /**
     * Points the hostnames at the deployment and, with `liveTraffic`, updates
     * the project's live deployment and pin: all in ONE transaction, so traffic
     * is never split between two deployments.
     */
    readonly point: (input: PointRoutes) => Effect.Effect<ReadonlyArray<Route>>;
    /** Sets only the project's pin (the routes already point at the live deployment). */
    readonly setPin: (projectId: ProjectId, rolledBack: boolean, at: number) => Effect.Effect<void>;
    /** Ordered by kind (DEPLOYMENT, BRANCH, ENVIRONMENT, LIVE), then hostname. */
    readonly listByDeployment: (deploymentId: DeploymentId) => Effect.Effect<ReadonlyArray<Route>>;
    /** Ordered by kind, then hostname. */
    readonly listByProject: (projectId: ProjectId) => Effect.Effect<ReadonlyArray<Route>>;
    readonly findByHostname: (hostname: string) => Effect.Effect<Option.Option<Route>>;
  }
>() {}
