/** Things the deploy workflow does (it is not part of ctrl): used to put deployments in a state. */
import {
  type DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  EnvironmentRepository,
  Ids,
  Platform,
  ProjectRepository,
  RouteRepository,
  routesForReadyDeployment,
  type WorkspaceId,
} from "@ferry/domain";
import { Clock, Effect, Option } from "effect";
import type { Tenant } from "./support.ts";

/** Walks a deployment through statuses, recording a step for each, as hydra would. */
export const walk = (
  id: DeploymentId,
  path: ReadonlyArray<DeploymentStatus>,
  errorMessage?: string,
) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const ids = yield* Ids;
    let from: DeploymentStatus = "PENDING";
    for (const to of path) {
      const at = yield* Clock.currentTimeMillis;
      if (from !== "PENDING" && from !== "FAILED")
        yield* deployments.finishStep({
          deploymentId: id,
          name: from as "DEPLOYING" | "NETWORK",
          status: to === "FAILED" ? "FAILED" : "SUCCEEDED",
          at,
          ...(to === "FAILED" && errorMessage !== undefined ? { message: errorMessage } : {}),
        });
      if (to === "DEPLOYING" || to === "NETWORK" || to === "BUILDING")
        yield* deployments.startStep({
          id: yield* ids.next("step"),
          deploymentId: id,
          name: to,
          at,
        });
      const changed = yield* deployments.updateStatus(id, {
        from: [from],
        to,
        at,
        ...(to === "FAILED" && errorMessage !== undefined ? { errorMessage } : {}),
      });
      if (Option.isNone(changed)) return yield* Effect.dieMessage(`${id} was not ${from}`);
      from = to;
    }
  });

/** READY with its routes pointed (and live traffic taken when the rules say so). */
export const becomeReady = (tenant: Tenant, id: DeploymentId) =>
  Effect.gen(function* () {
    yield* walk(id, ["DEPLOYING", "NETWORK", "READY"]);
    const workspaceId: WorkspaceId = tenant.workspace.id;
    const deployment = Option.getOrThrow(
      yield* (yield* DeploymentRepository).findById(workspaceId, id),
    );
    const environment = Option.getOrThrow(
      yield* (yield* EnvironmentRepository).findById(workspaceId, deployment.environmentId),
    );
    const project = Option.getOrThrow(
      yield* (yield* ProjectRepository).findById(workspaceId, deployment.projectId),
    );
    const platform = yield* Platform;
    const plan = routesForReadyDeployment(
      {
        apexDomain: platform.apexDomain,
        workspaceSlug: tenant.workspace.slug,
        projectSlug: project.slug,
      },
      {
        id,
        environmentSlug: environment.slug,
        environmentKind: environment.kind,
        branch: deployment.gitCommit?.branch,
      },
      project,
    );
    yield* (yield* RouteRepository).point({
      workspaceId,
      projectId: project.id,
      environmentId: environment.id,
      deploymentId: id,
      routes: plan.routes,
      ...(plan.takesLiveTraffic ? { liveTraffic: { rolledBack: false } } : {}),
      at: yield* Clock.currentTimeMillis,
    });
  });
