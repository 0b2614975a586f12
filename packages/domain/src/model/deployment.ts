/** A deployment: one attempt to run a version of a project in an environment. */
import { Schema } from "effect";
import { DeploymentId, EnvironmentId, ProjectId, StepId, WorkspaceId } from "../ids.ts";
import { SealedSecret } from "./variable.ts";

/**
 * PENDING → (BUILDING →) DEPLOYING → NETWORK → READY; FAILED from any
 * non-terminal status; CANCELLED and SUPERSEDED end a deployment that will not
 * run. See rules/deployment-lifecycle.ts for the transitions.
 */
export const DeploymentStatus = Schema.Literal(
  "PENDING",
  "BUILDING",
  "DEPLOYING",
  "NETWORK",
  "READY",
  "FAILED",
  "CANCELLED",
  "SUPERSEDED",
);
export type DeploymentStatus = typeof DeploymentStatus.Type;

/** Where the image comes from: a prebuilt reference, or a build context archive to build. */
export const DockerImageSource = Schema.TaggedStruct("DockerImage", {
  /** A valid OCI image reference, e.g. `localhost/app:1` or `ghcr.io/acme/web@sha256:…`. */
  image: Schema.String,
});
export const BuildContextSource = Schema.TaggedStruct("BuildContext", {
  /** Storage key of a tar.gz archive under `projects/{project_id}/contexts/`. */
  buildContextPath: Schema.String,
  /** Normalized relative path inside the context, e.g. `Dockerfile` or `docker/web.Dockerfile`. */
  dockerfilePath: Schema.String,
});
export const DeploymentSource = Schema.Union(DockerImageSource, BuildContextSource);
export type DeploymentSource = typeof DeploymentSource.Type;

/** Git metadata as accepted (already validated and normalized). */
export const GitCommit = Schema.Struct({
  commitSha: Schema.optional(Schema.String),
  branch: Schema.optional(Schema.String),
  /** At most 10240 bytes: longer messages are truncated at a UTF-8 character boundary. */
  commitMessage: Schema.optional(Schema.String),
  authorHandle: Schema.optional(Schema.String),
  authorAvatarUrl: Schema.optional(Schema.String),
  /** Unix epoch milliseconds. */
  timestamp: Schema.optional(Schema.Number),
});
export type GitCommit = typeof GitCommit.Type;

/** One environment variable as captured at deployment creation; secrets stay sealed. */
export const SnapshotVariable = Schema.Union(
  Schema.TaggedStruct("Plain", { key: Schema.String, value: Schema.String }),
  Schema.TaggedStruct("Secret", { key: Schema.String, sealed: SealedSecret }),
);
export type SnapshotVariable = typeof SnapshotVariable.Type;

export const StepName = Schema.Literal("BUILDING", "DEPLOYING", "NETWORK", "READY");
export type StepName = typeof StepName.Type;

export const StepStatus = Schema.Literal("RUNNING", "SUCCEEDED", "FAILED", "CANCELLED");
export type StepStatus = typeof StepStatus.Type;

/** The lifecycle order of steps; breaks ties between steps started in the same millisecond. */
export const STEP_ORDER: ReadonlyArray<StepName> = ["BUILDING", "DEPLOYING", "NETWORK", "READY"];

/** Steps in the order they happened: start time, then lifecycle order. */
export const byStepOrder = (
  a: { readonly startedAt: number; readonly name: StepName },
  b: { readonly startedAt: number; readonly name: StepName },
): number => a.startedAt - b.startedAt || STEP_ORDER.indexOf(a.name) - STEP_ORDER.indexOf(b.name);

export const DeploymentStep = Schema.Struct({
  id: StepId,
  deploymentId: DeploymentId,
  name: StepName,
  status: StepStatus,
  startedAt: Schema.Number,
  endedAt: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String),
});
export type DeploymentStep = typeof DeploymentStep.Type;

export const Deployment = Schema.Struct({
  id: DeploymentId,
  workspaceId: WorkspaceId,
  projectId: ProjectId,
  environmentId: EnvironmentId,
  environmentSlug: Schema.String,
  status: DeploymentStatus,
  source: DeploymentSource,
  gitCommit: Schema.optional(GitCommit),
  regions: Schema.Array(Schema.String),
  /** The image that runs: the prebuilt reference, or the tag of the built image. */
  image: Schema.optional(Schema.String),
  idempotencyKey: Schema.optional(Schema.String),
  restateInvocationId: Schema.optional(Schema.String),
  errorMessage: Schema.optional(Schema.String),
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
});
export type Deployment = typeof Deployment.Type;
