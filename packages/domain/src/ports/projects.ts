/** Projects and their environments. */
import { Context, type Effect, type Option } from "effect";
import type { AlreadyExists } from "../errors.ts";
import type { EnvironmentId, ProjectId, WorkspaceId } from "../ids.ts";
import type { Environment, Project } from "../model/project.ts";
import type { ProjectSettingsPatch } from "../validation/project-settings.ts";

export interface Page {
  readonly limit: number;
  /** Only items with an id strictly below this one (ids sort by creation time): newest first. */
  readonly beforeId?: string;
}

export class ProjectRepository extends Context.Tag("@ferry/domain/ProjectRepository")<
  ProjectRepository,
  {
    /** Stores the project and its environments in one transaction; AlreadyExists if the slug is taken in the workspace. */
    readonly create: (
      project: Project,
      environments: ReadonlyArray<Environment>,
    ) => Effect.Effect<void, AlreadyExists>;
    /** Scoped to the workspace: another workspace's project is None. */
    readonly findById: (
      workspaceId: WorkspaceId,
      id: ProjectId,
    ) => Effect.Effect<Option.Option<Project>>;
    readonly findBySlug: (
      workspaceId: WorkspaceId,
      slug: string,
    ) => Effect.Effect<Option.Option<Project>>;
    /** Newest first. */
    readonly list: (workspaceId: WorkspaceId, page: Page) => Effect.Effect<ReadonlyArray<Project>>;
    /** Applies the fields present in the patch; None when the project does not exist in the workspace. */
    readonly updateSettings: (
      workspaceId: WorkspaceId,
      id: ProjectId,
      patch: ProjectSettingsPatch,
      at: number,
    ) => Effect.Effect<Option.Option<Project>>;
  }
>() {}

export class EnvironmentRepository extends Context.Tag("@ferry/domain/EnvironmentRepository")<
  EnvironmentRepository,
  {
    /** AlreadyExists if the project already has an environment with this slug. */
    readonly create: (environment: Environment) => Effect.Effect<void, AlreadyExists>;
    readonly findById: (
      workspaceId: WorkspaceId,
      id: EnvironmentId,
    ) => Effect.Effect<Option.Option<Environment>>;
    readonly findBySlug: (
      projectId: ProjectId,
      slug: string,
    ) => Effect.Effect<Option.Option<Environment>>;
    /** Ordered by slug. */
    readonly list: (projectId: ProjectId) => Effect.Effect<ReadonlyArray<Environment>>;
  }
>() {}
