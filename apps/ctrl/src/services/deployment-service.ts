/**
 * DeploymentService: each RPC converts its request, runs the domain's use
 * case for the caller's workspace (src/services/rpc.ts) and converts the
 * result. No rule lives here; the domain decides, errors are mapped once
 * (src/errors.ts). What GetDeployment, ListDeployments, Promote and Rollback add
 * to their use case is shared with the embedded library (@ferry/deployment-service).
 */
import type { ServiceImpl } from "@connectrpc/connect";
import * as pb from "@ferry/api";
import {
  getDeploymentDetails,
  listDeploymentDetails,
  promoteDeployment,
  rollbackDeployment,
} from "@ferry/deployment-service";
import {
  cancelDeployment,
  createDeployment,
  createUploadUrl,
  MAX_PAGE_SIZE,
  Platform,
} from "@ferry/domain";
import { Effect } from "effect";
import { getBuildLogsRpc } from "./build-logs.ts";
import {
  clampPageSize,
  createDeploymentInput,
  int64,
  renameCreateDeploymentFields,
  statusFilter,
  toPbDeployment,
} from "./convert.ts";
import type { Rpc } from "./rpc.ts";
import { watchDeploymentRpc } from "./watch-deployment.ts";

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
      getDeploymentDetails(workspaceId, request.deploymentId),
    );
    return { deployment: toPbDeployment(details) };
  },

  async listDeployments(request, context) {
    const page = await rpc.run(context, (workspaceId) =>
      listDeploymentDetails(workspaceId, {
        projectId: request.projectId,
        environmentSlug: request.environmentSlug,
        statuses: request.statuses.map(statusFilter),
        branch: request.branch,
        pageSize: clampPageSize(request.pageSize, MAX_PAGE_SIZE),
        pageToken: request.pageToken,
      }),
    );
    return {
      deployments: page.deployments.map(toPbDeployment),
      nextPageToken: page.nextPageToken,
    };
  },

  async promote(request, context) {
    return await rpc.run(context, (workspaceId) =>
      promoteDeployment(workspaceId, {
        targetDeploymentId: request.targetDeploymentId,
        idempotencyKey: request.idempotencyKey,
      }),
    );
  },

  async rollback(request, context) {
    return await rpc.run(context, (workspaceId) =>
      rollbackDeployment(workspaceId, {
        sourceDeploymentId: request.sourceDeploymentId,
        targetDeploymentId: request.targetDeploymentId,
        idempotencyKey: request.idempotencyKey,
      }),
    );
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
