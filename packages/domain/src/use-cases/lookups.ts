/** Workspace-scoped lookups that fail with NotFound; shared by the use cases. */
import { Effect, Option, Schema } from "effect";
import { NotFound, type ResourceKind, ValidationError } from "../errors.ts";
import {
  DeploymentId,
  EnvironmentId,
  type ProjectId,
  ProjectId as ProjectIdSchema,
  type WorkspaceId,
} from "../ids.ts";
import { DeploymentRepository } from "../ports/deployments.ts";
import { EnvironmentRepository, ProjectRepository } from "../ports/projects.ts";
import { fieldPath } from "../validation/decode.ts";

/** Decodes an id from a request field; a malformed id is InvalidArgument naming the field. */
export const parseId =
  <A, I extends string>(schema: Schema.Schema<A, I, never>, field: string) =>
  (value: string): Effect.Effect<A, ValidationError> =>
    value === ""
      ? Effect.fail(ValidationError.single(fieldPath([field]), "is required"))
      : Schema.decodeUnknown(schema)(value).pipe(
          Effect.mapError(() =>
            ValidationError.single(
              fieldPath([field]),
              `"${value}" is not a well-formed id for this field`,
            ),
          ),
        );

/** Some(value) → value; None → NotFound naming the resource: every lookup's last step. */
export const orNotFound =
  (resource: ResourceKind, id: string) =>
  <A, E, R>(lookup: Effect.Effect<Option.Option<A>, E, R>): Effect.Effect<A, E | NotFound, R> =>
    Effect.flatMap(
      lookup,
      Option.match({
        onNone: () => Effect.fail(new NotFound({ resource, id })),
        onSome: Effect.succeed,
      }),
    );

export const parseDeploymentId = (field: string) => parseId(DeploymentId, field);
export const parseProjectId = (field: string) => parseId(ProjectIdSchema, field);
export const parseEnvironmentId = (field: string) => parseId(EnvironmentId, field);

export const requireProject = (workspaceId: WorkspaceId, id: ProjectId) =>
  ProjectRepository.pipe(
    Effect.flatMap((projects) => projects.findById(workspaceId, id)),
    orNotFound("project", id),
  );

export const requireProjectBySlug = (workspaceId: WorkspaceId, slug: string) =>
  ProjectRepository.pipe(
    Effect.flatMap((projects) => projects.findBySlug(workspaceId, slug)),
    orNotFound("project", slug),
  );

export const requireDeployment = (workspaceId: WorkspaceId, id: DeploymentId) =>
  DeploymentRepository.pipe(
    Effect.flatMap((deployments) => deployments.findById(workspaceId, id)),
    orNotFound("deployment", id),
  );

export const requireEnvironmentBySlug = (projectId: ProjectId, slug: string) =>
  EnvironmentRepository.pipe(
    Effect.flatMap((environments) => environments.findBySlug(projectId, slug)),
    orNotFound("environment", slug),
  );

export const requireEnvironment = (workspaceId: WorkspaceId, id: EnvironmentId) =>
  EnvironmentRepository.pipe(
    Effect.flatMap((environments) => environments.findById(workspaceId, id)),
    orNotFound("environment", id),
  );
