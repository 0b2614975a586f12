/**
 * The `--json` shapes: stable, documented field names (apps/cli/README.md), camelCase like the
 * API's JSON mapping, enums as short upper-case names (`READY`, `PRODUCTION`), times as ISO
 * 8601 strings (null when unset), absent things as null. Secret values are never included.
 */
import {
  type Deployment,
  type DeploymentStep,
  DeploymentStepStatus,
  EnvironmentKind,
  type EnvironmentVariable,
  type LogLine,
  LogStream,
  type Project,
  RouteKind,
} from "@ferry/api";
import { statusName } from "../status.ts";

export const isoTime = (ms: bigint): string | null =>
  ms === 0n ? null : new Date(Number(ms)).toISOString();

const orNull = (value: string): string | null => (value === "" ? null : value);

const enumName = (names: Record<number, string | undefined>, value: number): string =>
  names[value] ?? `UNKNOWN(${value})`;

export const environmentKindName = (kind: EnvironmentKind) =>
  enumName(EnvironmentKind as unknown as Record<number, string>, kind);

export const stepStatusName = (status: DeploymentStepStatus) =>
  enumName(DeploymentStepStatus as unknown as Record<number, string>, status);

export const projectJson = (project: Project) => ({
  id: project.id,
  workspaceId: project.workspaceId,
  name: project.name,
  slug: project.slug,
  liveDeploymentId: orNull(project.liveDeploymentId),
  rolledBack: project.rolledBack,
  settings: {
    containerPort: project.settings?.containerPort ?? null,
    healthCheckPath: project.settings?.healthCheckPath ?? null,
    healthCheckTimeoutSeconds: project.settings?.healthCheckTimeoutSeconds ?? null,
    replicasPerRegion: project.settings?.replicasPerRegion ?? null,
  },
  environments: project.environments.map((environment) => ({
    id: environment.id,
    slug: environment.slug,
    kind: environmentKindName(environment.kind),
    currentDeploymentId: orNull(environment.currentDeploymentId),
    createdAt: isoTime(environment.createdAt),
  })),
  createdAt: isoTime(project.createdAt),
  updatedAt: isoTime(project.updatedAt),
});

export const stepJson = (step: DeploymentStep) => ({
  name: step.name,
  status: stepStatusName(step.status),
  startedAt: isoTime(step.startedAt),
  endedAt: isoTime(step.endedAt),
  message: orNull(step.message),
});

export const deploymentJson = (deployment: Deployment) => ({
  id: deployment.id,
  projectId: deployment.projectId,
  workspaceId: deployment.workspaceId,
  environment: deployment.environmentSlug,
  environmentKind: environmentKindName(deployment.environmentKind),
  status: statusName(deployment.status),
  errorMessage: orNull(deployment.errorMessage),
  source:
    deployment.source.case === "dockerImage"
      ? { type: "image", image: deployment.source.value }
      : deployment.source.case === "buildContext"
        ? {
            type: "build",
            buildContextPath: deployment.source.value.buildContextPath,
            dockerfilePath: deployment.source.value.dockerfilePath ?? "Dockerfile",
          }
        : null,
  image: orNull(deployment.image),
  git:
    deployment.gitCommit === undefined
      ? null
      : {
          branch: orNull(deployment.gitCommit.branch),
          commitSha: orNull(deployment.gitCommit.commitSha),
          message: orNull(deployment.gitCommit.commitMessage),
          author: orNull(deployment.gitCommit.authorHandle),
          committedAt: isoTime(deployment.gitCommit.timestamp),
        },
  regions: deployment.regions,
  isLive: deployment.isLive,
  hostnames: deployment.hostnames,
  routes: deployment.routes.map((route) => ({
    hostname: route.hostname,
    kind: enumName(RouteKind as unknown as Record<number, string>, route.kind),
  })),
  routesUnavailable: deployment.routesUnavailable,
  steps: deployment.steps.map(stepJson),
  idempotencyKey: orNull(deployment.idempotencyKey),
  createdAt: isoTime(deployment.createdAt),
  updatedAt: isoTime(deployment.updatedAt),
});

/** A variable; a secret's value is never part of the output (the API does not return it either). */
export const variableJson = (variable: EnvironmentVariable) =>
  variable.secret
    ? { key: variable.key, secret: true }
    : { key: variable.key, secret: false, value: variable.value };

export const logLineJson = (line: LogLine) => ({
  time: isoTime(line.time),
  step: line.step,
  region: orNull(line.region),
  stream: enumName(LogStream as unknown as Record<number, string>, line.stream),
  text: line.text,
});
