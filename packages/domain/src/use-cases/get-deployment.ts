/**
 * GetDeployment: the deployment with its steps and hostnames. Hostnames come
 * from the routes table; if that lookup fails the call still succeeds, with
 * no hostnames (and a warning in the log), as the API contract promises, and
 * says so (`routesUnavailable`) so that clients can tell "no routes" from
 * "routes unknown".
 */
import { Effect } from "effect";
import type { NotFound, ValidationError } from "../errors.ts";
import type { WorkspaceId } from "../ids.ts";
import type { Deployment, DeploymentStep } from "../model/deployment.ts";
import type { Route } from "../model/route.ts";
import { DeploymentRepository } from "../ports/deployments.ts";
import { RouteRepository } from "../ports/routes.ts";
import { parseDeploymentId, requireDeployment } from "./lookups.ts";

export interface DeploymentView {
  readonly deployment: Deployment;
  readonly steps: ReadonlyArray<DeploymentStep>;
  readonly routes: ReadonlyArray<Route>;
  /** True when the routes could not be read: `routes` is then empty whatever exists. */
  readonly routesUnavailable: boolean;
}

export const getDeployment = (
  workspaceId: WorkspaceId,
  request: { readonly deploymentId: string },
): Effect.Effect<
  DeploymentView,
  ValidationError | NotFound,
  DeploymentRepository | RouteRepository
> =>
  Effect.gen(function* () {
    const id = yield* parseDeploymentId("deploymentId")(request.deploymentId);
    const deployment = yield* requireDeployment(workspaceId, id);
    const steps = yield* (yield* DeploymentRepository).listSteps(id);
    const routes = yield* (yield* RouteRepository).listByDeployment(id).pipe(
      Effect.map((routes) => ({ routes, routesUnavailable: false })),
      Effect.catchAllCause((cause) =>
        Effect.logWarning("route lookup failed; answering without hostnames", cause).pipe(
          Effect.as({ routes: [] as ReadonlyArray<Route>, routesUnavailable: true }),
        ),
      ),
    );
    return { deployment, steps, ...routes };
  });
