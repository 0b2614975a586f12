/**
 * Proto ↔ domain. Requests become the plain objects the use cases validate
 * (camelCase fields, proto3 zero values left for the domain to read as "not
 * given"); domain values become response messages: int64 timestamps in Unix
 * milliseconds (bigint on the wire side), enums by name, absent strings "".
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import * as pb from "@ferry/api";
import type { DeploymentDetails } from "@ferry/deployment-service";
import {
  type Deployment,
  type DeploymentStep,
  type Environment,
  type EnvironmentKind,
  type Project,
  type ProjectView,
  type Route,
  ValidationError,
  type VariableView,
} from "@ferry/domain";

/** Unix ms → int64. */
export const int64 = (millis: number | undefined): bigint =>
  millis === undefined ? 0n : BigInt(Math.trunc(millis));

// ---------------------------------------------------------------------------
// Requests

/**
 * CreateDeployment as the domain validates it. The oneof `source` becomes the
 * domain's tagged source (absent when neither case is set, which the domain
 * reports as "source: is required").
 */
export const createDeploymentInput = (request: pb.CreateDeploymentRequest): unknown => {
  const { source, gitCommit } = request;
  return {
    projectId: request.projectId,
    environmentSlug: request.environmentSlug,
    ...(source.case === "dockerImage"
      ? { source: { _tag: "DockerImage", image: source.value } }
      : source.case === "buildContext"
        ? {
            source: {
              _tag: "BuildContext",
              buildContextPath: source.value.buildContextPath,
              ...(source.value.dockerfilePath
                ? { dockerfilePath: source.value.dockerfilePath }
                : {}),
            },
          }
        : {}),
    ...(gitCommit === undefined
      ? {}
      : {
          gitCommit: {
            commitSha: gitCommit.commitSha,
            branch: gitCommit.branch,
            commitMessage: gitCommit.commitMessage,
            authorHandle: gitCommit.authorHandle,
            authorAvatarUrl: gitCommit.authorAvatarUrl,
            timestamp: gitCommit.timestamp,
          },
        }),
    regions: request.regions,
    idempotencyKey: request.idempotencyKey,
  };
};

/**
 * The domain names fields by its own model (`source.image`); the API's
 * fields are the proto's (`docker_image`). Renames the violations of
 * CreateDeployment so that every message names a field the client sent.
 */
const CREATE_DEPLOYMENT_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["source.image", "docker_image"],
  ["source.build_context_path", "build_context.build_context_path"],
  ["source.dockerfile_path", "build_context.dockerfile_path"],
];

export const renameCreateDeploymentFields = <E>(error: E): E => {
  if (!(error instanceof ValidationError)) return error;
  const rename = (field: string) => {
    for (const [from, to] of CREATE_DEPLOYMENT_FIELDS)
      if (field === from || field.startsWith(`${from}.`) || field.startsWith(`${from}[`))
        return to + field.slice(from.length);
    return field;
  };
  const [first, ...rest] = error.violations.map((v) => ({ ...v, field: rename(v.field) }));
  return (first === undefined ? error : new ValidationError({ violations: [first, ...rest] })) as E;
};

/** A status filter: the enum's name, or a name the domain rejects with the accepted list. */
export const statusFilter = (status: pb.DeploymentStatus): string =>
  status === pb.DeploymentStatus.UNSPECIFIED
    ? "DEPLOYMENT_STATUS_UNSPECIFIED"
    : (pb.DeploymentStatus[status] ?? `DEPLOYMENT_STATUS_${status}`);

/** page_size above the maximum is the maximum (proto: "treated as the maximum"). */
export const clampPageSize = (pageSize: number, max: number): number => Math.min(pageSize, max);

// ---------------------------------------------------------------------------
// Responses

export const environmentKind = (kind: EnvironmentKind | undefined): pb.EnvironmentKind =>
  kind === undefined ? pb.EnvironmentKind.UNSPECIFIED : pb.EnvironmentKind[kind];

export const toPbStep = (
  step: DeploymentStep,
): MessageInitShape<typeof pb.DeploymentStepSchema> => ({
  name: step.name,
  status: pb.DeploymentStepStatus[step.status],
  startedAt: int64(step.startedAt),
  endedAt: int64(step.endedAt),
  message: step.message ?? "",
});

export const toPbRoute = (route: Route): MessageInitShape<typeof pb.RouteSchema> => ({
  hostname: route.hostname,
  kind: pb.RouteKind[route.kind],
});

export const toPbSource = (
  source: Deployment["source"],
): NonNullable<MessageInitShape<typeof pb.DeploymentSchema>["source"]> =>
  source._tag === "DockerImage"
    ? { case: "dockerImage", value: source.image }
    : {
        case: "buildContext",
        value: { buildContextPath: source.buildContextPath, dockerfilePath: source.dockerfilePath },
      };

export const toPbDeployment = (
  details: DeploymentDetails,
): MessageInitShape<typeof pb.DeploymentSchema> => {
  const { deployment, steps, routes } = details;
  const git = deployment.gitCommit;
  return {
    id: deployment.id,
    workspaceId: deployment.workspaceId,
    projectId: deployment.projectId,
    environmentId: deployment.environmentId,
    environmentSlug: deployment.environmentSlug,
    environmentKind: environmentKind(details.environmentKind),
    status: pb.DeploymentStatus[deployment.status],
    source: toPbSource(deployment.source),
    ...(git === undefined
      ? {}
      : {
          gitCommit: {
            commitSha: git.commitSha ?? "",
            branch: git.branch ?? "",
            commitMessage: git.commitMessage ?? "",
            authorHandle: git.authorHandle ?? "",
            authorAvatarUrl: git.authorAvatarUrl ?? "",
            timestamp: int64(git.timestamp),
          },
        }),
    regions: [...deployment.regions],
    hostnames: routes.map((route) => route.hostname),
    routes: routes.map(toPbRoute),
    routesUnavailable: details.routesUnavailable,
    steps: steps.map(toPbStep),
    errorMessage: deployment.errorMessage ?? "",
    createdAt: int64(deployment.createdAt),
    updatedAt: int64(deployment.updatedAt),
    idempotencyKey: deployment.idempotencyKey ?? "",
    image: deployment.image ?? "",
    isLive: details.isLive,
  };
};

const KIND_ORDER: Readonly<Record<EnvironmentKind, number>> = { PRODUCTION: 0, PREVIEW: 1 };

/** Oldest first; production before preview when created together (as a new project's are). */
const byAge = (a: Environment, b: Environment): number =>
  a.createdAt - b.createdAt || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.id < b.id ? -1 : 1);

export const toPbEnvironment = (
  environment: Environment & { readonly currentDeploymentId?: string | undefined },
): MessageInitShape<typeof pb.EnvironmentSchema> => ({
  id: environment.id,
  projectId: environment.projectId,
  slug: environment.slug,
  kind: environmentKind(environment.kind),
  currentDeploymentId: environment.currentDeploymentId ?? "",
  createdAt: int64(environment.createdAt),
});

export const toPbProject = (view: ProjectView): MessageInitShape<typeof pb.ProjectSchema> => {
  const project: Project = view.project;
  return {
    id: project.id,
    workspaceId: project.workspaceId,
    name: project.name,
    slug: project.slug,
    settings: {
      containerPort: project.settings.containerPort,
      healthCheckPath: project.settings.healthCheckPath,
      healthCheckTimeoutSeconds: project.settings.healthCheckTimeoutSeconds,
      replicasPerRegion: project.settings.replicasPerRegion,
    },
    liveDeploymentId: project.liveDeploymentId ?? "",
    rolledBack: project.rolledBack,
    environments: [...view.environments].sort(byAge).map(toPbEnvironment),
    createdAt: int64(project.createdAt),
    updatedAt: int64(project.updatedAt),
  };
};

/** A secret's value is never returned: the domain already blanked it; this keeps it blank. */
export const toPbVariable = (
  variable: VariableView,
): MessageInitShape<typeof pb.EnvironmentVariableSchema> => ({
  key: variable.key,
  value: variable.secret ? "" : variable.value,
  secret: variable.secret,
});
