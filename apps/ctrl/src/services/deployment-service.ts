/**
 * DeploymentService: each RPC converts its request, runs the domain's use
 * case for the caller's workspace (src/services/rpc.ts) and converts the
 * result. No rule lives here; the domain decides, errors are mapped once
 * (src/errors.ts).
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import * as pb from "@ferry/api";
import {
  cancelDeployment,
  createDeployment,
  createUploadUrl,
  DeploymentId,
  DeploymentRepository,
  type DeploymentView,
  EnvironmentRepository,
  getDeployment,
  listDeployments,
  MAX_PAGE_SIZE,
  Platform,
  ProjectRepository,
  promote,
  type Route,
  RouteRepository,
  rollback,
  type TrafficResult,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect, Option, Schema } from "effect";
import { getBuildLogsRpc } from "./build-logs.ts";
import {
  clampPageSize,
  createDeploymentInput,
  type DeploymentDetails,
  int64,
  renameCreateDeploymentFields,
  statusFilter,
  toPbDeployment,
} from "./convert.ts";
import type { Rpc } from "./rpc.ts";
import { watchDeploymentRpc } from "./watch-deployment.ts";

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

/** A page of deployments in the shape GetDeployment returns (steps and routes included). */
const pageDetails = (
  workspaceId: WorkspaceId,
  projectId: string,
  deployments: DeploymentView["deployment"][],
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

/**
 * The project's live deployment before a promote or rollback, read before the
 * call is queued; None when the deployment named cannot be read (the use case
 * then reports why).
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

/** Promote's and Rollback's answer: the live deployment after, and the one before when it moved. */
const trafficResponse = (result: TrafficResult, liveBefore: string | undefined) => {
  const live = result.liveDeploymentId ?? "";
  return {
    liveDeploymentId: live,
    rolledBack: result.rolledBack,
    changed: result.changed,
    previousLiveDeploymentId: result.changed ? (liveBefore ?? "") : live,
  };
};

export const deploymentService = (rpc: Rpc): ServiceImpl<typeof pb.DeploymentService> => ({
  async createDeployment(request, context) {
    const result = await rpc.run(context, (workspaceId) =>
      createDeployment(workspaceId, createDeploymentInput(request)).pipe(
        Effect.mapError(renameCreateDeploymentFields),
      ),
    );
    return { deploymentId: result.deploymentId, status: pb.DeploymentStatus[result.status] };
  },

  async getDeployment(request, context) {
    const details = await rpc.run(context, (workspaceId) =>
      getDeployment(workspaceId, { deploymentId: request.deploymentId }).pipe(
        Effect.flatMap((view) => withDetails(workspaceId, view)),
      ),
    );
    return { deployment: toPbDeployment(details) };
  },

  async listDeployments(request, context) {
    if (request.branch !== "")
      throw new ConnectError(
        "branch: filtering deployments by branch is not supported yet; leave branch empty and filter the page",
        Code.Unimplemented,
      );
    const page = await rpc.run(context, (workspaceId) =>
      listDeployments(workspaceId, {
        projectId: request.projectId,
        environmentSlug: request.environmentSlug,
        statuses: request.statuses.map(statusFilter),
        pageSize: clampPageSize(request.pageSize, MAX_PAGE_SIZE),
        pageToken: request.pageToken,
      }).pipe(
        Effect.flatMap((result) =>
          pageDetails(workspaceId, request.projectId, [...result.deployments]).pipe(
            Effect.map((deployments) => ({ deployments, nextPageToken: result.nextPageToken })),
          ),
        ),
      ),
    );
    return {
      deployments: page.deployments.map(toPbDeployment),
      nextPageToken: page.nextPageToken,
    };
  },

  async promote(request, context) {
    const outcome = await rpc.run(context, (workspaceId) =>
      Effect.gen(function* () {
        const before = yield* liveBefore(workspaceId, request.targetDeploymentId);
        const result = yield* promote(workspaceId, {
          targetDeploymentId: request.targetDeploymentId,
          idempotencyKey: request.idempotencyKey,
        });
        return { result, before };
      }),
    );
    return trafficResponse(outcome.result, outcome.before);
  },

  async rollback(request, context) {
    const outcome = await rpc.run(context, (workspaceId) =>
      Effect.gen(function* () {
        const before = yield* liveBefore(workspaceId, request.sourceDeploymentId);
        const result = yield* rollback(workspaceId, {
          sourceDeploymentId: request.sourceDeploymentId,
          targetDeploymentId: request.targetDeploymentId,
          idempotencyKey: request.idempotencyKey,
        });
        return { result, before };
      }),
    );
    return trafficResponse(outcome.result, outcome.before);
  },

  async cancelDeployment(request, context) {
    const result = await rpc.run(context, (workspaceId) =>
      cancelDeployment(workspaceId, { deploymentId: request.deploymentId }),
    );
    return { status: pb.DeploymentStatus[result.status], changed: result.changed };
  },

  async listRegions(_request, context) {
    const regions = await rpc.run(context, () =>
      Effect.map(Platform, (platform) => [...platform.availableRegions].sort()),
    );
    return { regions: regions.map((name) => ({ name })) };
  },

  watchDeployment: watchDeploymentRpc(rpc),

  async createUploadUrl(request, context) {
    const upload = await rpc.run(context, (workspaceId) =>
      createUploadUrl(workspaceId, {
        projectId: request.projectId,
        // int64 → number: a size beyond 2^53 is far above any limit and refused as such.
        sizeBytes: request.sizeBytes === undefined ? undefined : Number(request.sizeBytes),
      }),
    );
    return {
      uploadUrl: upload.url,
      method: "PUT",
      requiredHeaders: { ...upload.headers },
      buildContextPath: upload.buildContextPath,
      expiresAt: int64(upload.expiresAt),
      maxSizeBytes: int64(upload.maxSizeBytes),
    };
  },

  getBuildLogs: getBuildLogsRpc(rpc),
});
