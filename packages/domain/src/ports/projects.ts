/** Projects and their environments. */
import { Context, type Effect, type Option } from "effect";
import type { AlreadyExists } from "../errors.ts";
import type { EnvironmentId, ProjectId, WorkspaceId } from "../ids.ts";
import type { Environment, Project } from "../model/project.ts";
import type { ProjectSettingsPatch } from "../validation/project-settings.ts";

/** A page of a workspace's projects, in slug order. */
export interface ProjectPage {
  readonly limit: number;
  /**
   * Only projects whose slug sorts strictly after this one. Slugs compare by their bytes
   * (slugs are ASCII), whatever the database's collation: the order clients see is the same
   * on every database.
   */
  readonly afterSlug?: string;
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
    /** Ordered by slug (byte order), ascending. */
    readonly list: (
      workspaceId: WorkspaceId,
      page: ProjectPage,
    ) => Effect.Effect<ReadonlyArray<Project>>;
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
