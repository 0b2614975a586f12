/**
 * GetDeployment: the deployment with its steps and hostnames. Hostnames come
 * from the routes table; if that lookup fails the call still succeeds, with
 * no hostnames (and a warning in the log), as the API contract promises.
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
    const routes = yield* (yield* RouteRepository)
      .listByDeployment(id)
      .pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("route lookup failed; answering without hostnames", cause).pipe(
            Effect.as([] as ReadonlyArray<Route>),
          ),
        ),
      );
    return { deployment, steps, routes };
  });
