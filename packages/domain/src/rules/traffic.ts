/**
 * Which deployment serves a project's environment and live hostnames, and
 * how promote, rollback and new READY deployments change that.
 *
 * The pin: a rollback marks the project "rolled back". While pinned, new
 * production deployments still get their own and branch hostnames, but not
 * the environment or live hostnames; only a promote clears the pin. These
 * functions are pure: the workflow calls them inside the project's
 * serialized handler, on state read there, so a decision is never made on
 * state that another operation changed meanwhile.
 */
import { Either } from "effect";
import { PreconditionFailed } from "../errors.ts";
import type { DeploymentStatus } from "../model/deployment.ts";
import type { EnvironmentKind } from "../model/project.ts";
import type { RouteTarget } from "../model/route.ts";
import {
  branchHostname,
  deploymentHostname,
  environmentHostname,
  type HostnameContext,
  liveHostname,
} from "./hostnames.ts";

/** The project's traffic state as read inside its serialized handler. */
export interface ProjectTraffic {
  readonly projectId: string;
  readonly liveDeploymentId: string | undefined;
  readonly rolledBack: boolean;
}

/** What the rules need to know of a deployment. */
export interface DeploymentFacts {
  readonly id: string;
  readonly projectId: string;
  readonly environmentId: string;
  readonly environmentKind: EnvironmentKind;
  readonly status: DeploymentStatus;
}

export type TrafficDecision =
  /** Nothing to do: the request is already satisfied (idempotent repeat). */
  | { readonly _tag: "Unchanged"; readonly liveDeploymentId: string; readonly rolledBack: boolean }
  /** Move the environment and live hostnames to `deploymentId` and set the pin to `rolledBack`. */
  | { readonly _tag: "Switch"; readonly deploymentId: string; readonly rolledBack: boolean }
  /** Routes already point at the live deployment; only the pin is cleared. */
  | { readonly _tag: "ClearPin"; readonly liveDeploymentId: string };

type Decision = Either.Either<TrafficDecision, PreconditionFailed>;

/** Ids sort by creation time (ids.ts), so comparing them orders deployments. */
export const isNewer = (id: string, than: string): boolean => id > than;
const decide = (decision: TrafficDecision): Decision => Either.right(decision);
const refuse = (reason: string): Either.Either<never, PreconditionFailed> =>
  Either.left(new PreconditionFailed({ reason }));

const mustBeReadyProduction = (
  role: "target" | "source",
  deployment: DeploymentFacts,
  project: ProjectTraffic,
): Either.Either<void, PreconditionFailed> => {
  if (deployment.projectId !== project.projectId)
    return refuse(`${role} deployment ${deployment.id} belongs to another project`);
  if (deployment.environmentKind !== "PRODUCTION")
    return refuse(
      `${role} deployment ${deployment.id} is not a production deployment; only production deployments can be promoted or rolled back to`,
    );
  if (role === "target" && deployment.status !== "READY")
    return refuse(
      `target deployment ${deployment.id} is ${deployment.status}; only a READY deployment can take traffic`,
    );
  return Either.void;
};

/**
 * Promote: the target takes the environment and live hostnames and the pin is
 * cleared. Promoting the live, unpinned deployment changes nothing;
 * promoting the live deployment of a pinned project only clears the pin.
 */
export const decidePromote = (project: ProjectTraffic, target: DeploymentFacts): Decision =>
  Either.flatMap(mustBeReadyProduction("target", target, project), (): Decision => {
    if (project.liveDeploymentId === target.id) {
      return decide(
        project.rolledBack
          ? { _tag: "ClearPin", liveDeploymentId: target.id }
          : { _tag: "Unchanged", liveDeploymentId: target.id, rolledBack: false },
      );
    }
    return decide({ _tag: "Switch", deploymentId: target.id, rolledBack: false });
  });

/**
 * Rollback: traffic moves from the source (which must be live) to an earlier
 * (older) READY deployment of the same project and production environment,
 * and the project is pinned. Repeating a rollback that already happened (the target
 * is live and the project pinned) succeeds and changes nothing.
 */
export const decideRollback = (
  project: ProjectTraffic,
  source: DeploymentFacts,
  target: DeploymentFacts,
): Decision => {
  if (source.id === target.id)
    return refuse(`source and target are the same deployment (${source.id}); pick another target`);
  return Either.flatMap(mustBeReadyProduction("source", source, project), () =>
    Either.flatMap(mustBeReadyProduction("target", target, project), (): Decision => {
      if (source.environmentId !== target.environmentId)
        return refuse(
          `source ${source.id} and target ${target.id} belong to different environments`,
        );
      if (project.liveDeploymentId === target.id && project.rolledBack)
        return decide({ _tag: "Unchanged", liveDeploymentId: target.id, rolledBack: true });
      if (project.liveDeploymentId !== source.id)
        return refuse(
          project.liveDeploymentId === undefined
            ? `source deployment ${source.id} is not live; the project has no live deployment`
            : `source deployment ${source.id} is not live; the live deployment is ${project.liveDeploymentId}`,
        );
      if (isNewer(target.id, source.id))
        return refuse(
          `target ${target.id} is newer than source ${source.id}; a rollback goes back to an earlier deployment (use Promote to put a newer one live)`,
        );
      return decide({ _tag: "Switch", deploymentId: target.id, rolledBack: true });
    }),
  );
};

/** The hostnames that follow promote and rollback: the production environment's and the live one. */
export const productionTrafficRoutes = (
  context: HostnameContext,
  productionEnvironmentSlug: string,
): ReadonlyArray<RouteTarget> => [
  { hostname: environmentHostname(context, productionEnvironmentSlug), kind: "ENVIRONMENT" },
  { hostname: liveHostname(context), kind: "LIVE" },
];

export interface ReadyDeployment {
  readonly id: string;
  readonly environmentSlug: string;
  readonly environmentKind: EnvironmentKind;
  readonly branch: string | undefined;
}

/**
 * The routes a deployment takes when it becomes READY: always its own, its
 * branch's when it has one; its environment's unless the environment is
 * production and the project is pinned; and the live hostname in
 * production, unpinned. `takesLiveTraffic` tells the caller to record the
 * deployment as the project's live deployment.
 */
export const routesForReadyDeployment = (
  context: HostnameContext,
  deployment: ReadyDeployment,
  project: Pick<ProjectTraffic, "rolledBack">,
): { readonly routes: ReadonlyArray<RouteTarget>; readonly takesLiveTraffic: boolean } => {
  const routes: Array<RouteTarget> = [
    { hostname: deploymentHostname(context, deployment.id), kind: "DEPLOYMENT" },
  ];
  if (deployment.branch !== undefined && deployment.branch !== "")
    routes.push({ hostname: branchHostname(context, deployment.branch), kind: "BRANCH" });
  const production = deployment.environmentKind === "PRODUCTION";
  if (production && project.rolledBack) return { routes, takesLiveTraffic: false };
  if (!production) {
    routes.push({
      hostname: environmentHostname(context, deployment.environmentSlug),
      kind: "ENVIRONMENT",
    });
    return { routes, takesLiveTraffic: false };
  }
  routes.push(...productionTrafficRoutes(context, deployment.environmentSlug));
  return { routes, takesLiveTraffic: true };
};
