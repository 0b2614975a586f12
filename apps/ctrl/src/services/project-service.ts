/**
 * ProjectService: projects, their settings, environments and environment
 * variables, through the domain's use cases (packages/domain/src/use-cases/projects.ts).
 * Secret values go in sealed by the domain and never come back out.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import * as pb from "@ferry/api";
import {
  createEnvironment,
  createProject,
  getProject,
  listEnvironmentVariables,
  listProjects,
  MAX_PROJECT_PAGE_SIZE,
  setEnvironmentVariables,
  updateProjectSettings,
  ValidationError,
} from "@ferry/domain";
import { Effect } from "effect";
import { clampPageSize, toPbEnvironment, toPbProject, toPbVariable } from "./convert.ts";
import type { Rpc } from "./rpc.ts";

/** CreateEnvironment's kind: PREVIEW or PRODUCTION (which the domain refuses); UNSPECIFIED is invalid. */
const environmentKindInput = (kind: pb.EnvironmentKind): Effect.Effect<string, ValidationError> =>
  kind === pb.EnvironmentKind.PRODUCTION
    ? Effect.succeed("PRODUCTION")
    : kind === pb.EnvironmentKind.PREVIEW
      ? Effect.succeed("PREVIEW")
      : Effect.fail(
          ValidationError.single(
            "kind",
            "is required: ENVIRONMENT_KIND_PREVIEW (a project's one production environment is created with it)",
          ),
        );

export const projectService = (rpc: Rpc): ServiceImpl<typeof pb.ProjectService> => ({
  async createProject(request, context) {
    const view = await rpc.run(context, (workspaceId) =>
      createProject(workspaceId, { name: request.name, slug: request.slug }),
    );
    return { project: toPbProject(view) };
  },

  async getProject(request, context) {
    const { key } = request;
    const view = await rpc.run(context, (workspaceId) =>
      getProject(
        workspaceId,
        key.case === "projectId"
          ? { projectId: key.value }
          : key.case === "slug"
            ? { slug: key.value }
            : {},
      ),
    );
    return { project: toPbProject(view) };
  },

  async listProjects(request, context) {
    const page = await rpc.run(context, (workspaceId) =>
      listProjects(workspaceId, {
        pageSize: clampPageSize(request.pageSize, MAX_PROJECT_PAGE_SIZE),
        pageToken: request.pageToken,
      }),
    );
    return { projects: page.projects.map(toPbProject), nextPageToken: page.nextPageToken };
  },

  async updateProjectSettings(request, context) {
    const view = await rpc.run(context, (workspaceId) =>
      updateProjectSettings(workspaceId, {
        projectId: request.projectId,
        ...(request.containerPort === undefined ? {} : { containerPort: request.containerPort }),
        ...(request.healthCheckPath === undefined
          ? {}
          : { healthCheckPath: request.healthCheckPath }),
        ...(request.healthCheckTimeoutSeconds === undefined
          ? {}
          : { healthCheckTimeoutSeconds: request.healthCheckTimeoutSeconds }),
        ...(request.replicasPerRegion === undefined
          ? {}
          : { replicasPerRegion: request.replicasPerRegion }),
      }),
    );
    return { project: toPbProject(view) };
  },

  async createEnvironment(request, context) {
    const environment = await rpc.run(context, (workspaceId) =>
      environmentKindInput(request.kind).pipe(
        Effect.flatMap((kind) =>
          createEnvironment(workspaceId, {
            projectId: request.projectId,
            slug: request.slug,
            kind,
          }),
        ),
      ),
    );
    return { environment: toPbEnvironment(environment) };
  },

  async setEnvironmentVariables(request, context) {
    const variables = await rpc.run(context, (workspaceId) =>
      setEnvironmentVariables(workspaceId, {
        projectId: request.projectId,
        environmentSlug: request.environmentSlug,
        variables: request.variables.map((v) => ({ key: v.key, value: v.value, secret: v.secret })),
        deleteKeys: request.deleteKeys,
      }),
    );
    return { variables: variables.map(toPbVariable) };
  },

  async listEnvironmentVariables(request, context) {
    const variables = await rpc.run(context, (workspaceId) =>
      listEnvironmentVariables(workspaceId, {
        projectId: request.projectId,
        environmentSlug: request.environmentSlug,
      }),
    );
    return { variables: variables.map(toPbVariable) };
  },
});
