/**
 * The API's deployment operations as Effect programs over the domain's use cases, in the shape
 * both edges answer with: ctrl converts their results to protobuf, the library returns them
 * as they are. No rule lives here (the domain decides); this adds what GetDeployment,
 * ListDeployments, Promote and Rollback show beyond the use case's own result.
 */
import {
  type Deployment,
  DeploymentId,
  DeploymentRepository,
  type DeploymentStep,
  type DeploymentView,
  type EnvironmentKind,
  EnvironmentRepository,
  getDeployment,
  type ListDeploymentsRequest,
  listDeployments,
  ProjectRepository,
  promote,
  type Route,
  RouteRepository,
  rollback,
  type TrafficResult,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect, Option, Schema } from "effect";

/** Everything GetDeployment shows about one deployment. */
export interface DeploymentDetails {
  readonly deployment: Deployment;
  readonly steps: ReadonlyArray<DeploymentStep>;
  readonly routes: ReadonlyArray<Route>;
  /** True when the routes could not be read: `routes` is then empty whatever exists. */
  readonly routesUnavailable: boolean;
  /** The kind of the deployment's environment (undefined if it is gone). */
  readonly environmentKind: EnvironmentKind | undefined;
  /** Whether it is the project's live deployment. */
  readonly isLive: boolean;
}

/** The environment's kind and whether it is live: what GetDeployment adds to the stored deployment. */
const withDetails = (workspaceId: WorkspaceId, view: DeploymentView) =>
  Effect.gen(function* () {
    const environment = yield* (yield* EnvironmentRepository).findById(
      workspaceId,
      view.deployment.environmentId,
    );
    const project = yield* (yield* ProjectRepository).findById(
      workspaceId,
      view.deployment.projectId,
    );
    return {
      ...view,
      environmentKind: Option.getOrUndefined(environment)?.kind,
      isLive: Option.exists(project, (p) => p.liveDeploymentId === view.deployment.id),
    } satisfies DeploymentDetails;
  });

/** GetDeployment: the deployment with its steps, routes, environment kind and liveness. */
export const getDeploymentDetails = (workspaceId: WorkspaceId, deploymentId: string) =>
  getDeployment(workspaceId, { deploymentId }).pipe(
    Effect.flatMap((view) => withDetails(workspaceId, view)),
  );

/** A page of deployments in the shape GetDeployment returns (steps and routes included). */
const pageDetails = (
  workspaceId: WorkspaceId,
  projectId: string,
  deployments: ReadonlyArray<Deployment>,
) =>
  Effect.gen(function* () {
    const first = deployments[0];
    if (first === undefined) return [];
    const environments = yield* (yield* EnvironmentRepository).list(first.projectId);
    const project = yield* (yield* ProjectRepository).findById(workspaceId, first.projectId);
    const steps = yield* DeploymentRepository;
    const routes = yield* RouteRepository;
    const liveId = Option.getOrUndefined(project)?.liveDeploymentId;
    return yield* Effect.forEach(
      deployments,
      (deployment) =>
        Effect.gen(function* () {
          const lookup = yield* routes.listByDeployment(deployment.id).pipe(
            Effect.map((list) => ({ routes: list, routesUnavailable: false })),
            Effect.catchAllCause((cause) =>
              Effect.logWarning("route lookup failed; answering without hostnames", cause).pipe(
                Effect.as({ routes: [] as ReadonlyArray<Route>, routesUnavailable: true }),
              ),
            ),
          );
          return {
            deployment,
            steps: yield* steps.listSteps(deployment.id),
            ...lookup,
            environmentKind: environments.find((e) => e.id === deployment.environmentId)?.kind,
            isLive: deployment.id === liveId,
          } satisfies DeploymentDetails;
        }),
      { concurrency: 4 },
    ).pipe(Effect.annotateLogs({ projectId }));
  });

export interface DeploymentDetailsPage {
  readonly deployments: ReadonlyArray<DeploymentDetails>;
  /** Empty when there is no further page. */
  readonly nextPageToken: string;
}

/** ListDeployments: a page of the project's deployments, newest first, each with its details. */
export const listDeploymentDetails = (workspaceId: WorkspaceId, request: ListDeploymentsRequest) =>
  listDeployments(workspaceId, request).pipe(
    Effect.flatMap((result) =>
      pageDetails(workspaceId, request.projectId, result.deployments).pipe(
        Effect.map(
          (deployments): DeploymentDetailsPage => ({
            deployments,
            nextPageToken: result.nextPageToken,
          }),
        ),
      ),
    ),
  );

/**
 * The project's live deployment before a promote or rollback, read before the call is queued;
 * undefined when the deployment named cannot be read (the use case then reports why).
 */
const liveBefore = (workspaceId: WorkspaceId, deploymentId: string) =>
  Effect.gen(function* () {
    if (!Schema.is(DeploymentId)(deploymentId)) return undefined;
    const deployment = yield* (yield* DeploymentRepository).findById(workspaceId, deploymentId);
    if (Option.isNone(deployment)) return undefined;
    const project = yield* (yield* ProjectRepository).findById(
      workspaceId,
      deployment.value.projectId,
    );
    return Option.getOrUndefined(project)?.liveDeploymentId;
  });

/** What Promote and Rollback answer. */
export interface TrafficChange {
  /** The project's live deployment after the call ("" when it has none). */
  readonly liveDeploymentId: string;
  /** Whether production is pinned (rolled back) after the call. */
  readonly rolledBack: boolean;
  /** False when nothing moved (promoting what was already live is a success). */
  readonly changed: boolean;
  /** The live deployment before the call when it moved; else the live one. */
  readonly previousLiveDeploymentId: string;
}

const trafficChange = (result: TrafficResult, before: string | undefined): TrafficChange => {
  const live = result.liveDeploymentId ?? "";
  return {
    liveDeploymentId: live,
    rolledBack: result.rolledBack,
    changed: result.changed,
    previousLiveDeploymentId: result.changed ? (before ?? "") : live,
  };
};

/** Promote: the target takes every live and environment hostname; clears the rollback pin. */
export const promoteDeployment = (
  workspaceId: WorkspaceId,
  request: { readonly targetDeploymentId: string; readonly idempotencyKey?: string },
) =>
  Effect.gen(function* () {
    const before = yield* liveBefore(workspaceId, request.targetDeploymentId);
    const result = yield* promote(workspaceId, {
      targetDeploymentId: request.targetDeploymentId,
      idempotencyKey: request.idempotencyKey ?? "",
    });
    return trafficChange(result, before);
  });

/** Rollback: traffic from the source (live) deployment back to the target; pins production. */
export const rollbackDeployment = (
  workspaceId: WorkspaceId,
  request: {
    readonly sourceDeploymentId: string;
    readonly targetDeploymentId: string;
    readonly idempotencyKey?: string;
  },
) =>
  Effect.gen(function* () {
    const before = yield* liveBefore(workspaceId, request.sourceDeploymentId);
    const result = yield* rollback(workspaceId, {
      sourceDeploymentId: request.sourceDeploymentId,
      targetDeploymentId: request.targetDeploymentId,
      idempotencyKey: request.idempotencyKey ?? "",
    });
    return trafficChange(result, before);
  });
