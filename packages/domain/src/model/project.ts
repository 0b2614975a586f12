/** Workspaces own projects; a project has environments and runtime settings. */
import { Schema } from "effect";
import { DeploymentId, EnvironmentId, ProjectId, WorkspaceId } from "../ids.ts";

export const Workspace = Schema.Struct({
  id: WorkspaceId,
  name: Schema.String,
  slug: Schema.String,
  createdAt: Schema.Number,
});
export type Workspace = typeof Workspace.Type;

/** How the project's instances run; every deployment of the project uses the settings current at deploy time. */
export const ProjectSettings = Schema.Struct({
  containerPort: Schema.Number,
  healthCheckPath: Schema.String,
  healthCheckTimeoutSeconds: Schema.Number,
  replicasPerRegion: Schema.Number,
});
export type ProjectSettings = typeof ProjectSettings.Type;

export const DEFAULT_PROJECT_SETTINGS: ProjectSettings = {
  containerPort: 8080,
  healthCheckPath: "/",
  healthCheckTimeoutSeconds: 300,
  replicasPerRegion: 1,
};

export const Project = Schema.Struct({
  id: ProjectId,
  workspaceId: WorkspaceId,
  name: Schema.String,
  slug: Schema.String,
  settings: ProjectSettings,
  /** The deployment the live hostname points at; absent until a production deployment is READY. */
  liveDeploymentId: Schema.optional(DeploymentId),
  /** Pinned by a rollback: new production deployments do not take the live hostnames until a promote. */
  rolledBack: Schema.Boolean,
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
});
export type Project = typeof Project.Type;

export const EnvironmentKind = Schema.Literal("PRODUCTION", "PREVIEW");
export type EnvironmentKind = typeof EnvironmentKind.Type;

export const Environment = Schema.Struct({
  id: EnvironmentId,
  workspaceId: WorkspaceId,
  projectId: ProjectId,
  slug: Schema.String,
  kind: EnvironmentKind,
  createdAt: Schema.Number,
});
export type Environment = typeof Environment.Type;

/** The environments every new project starts with. */
export const DEFAULT_ENVIRONMENTS: ReadonlyArray<{ slug: string; kind: EnvironmentKind }> = [
  { slug: "production", kind: "PRODUCTION" },
  { slug: "preview", kind: "PREVIEW" },
];
