/**
 * ProjectService's use cases: projects, their settings, environments and
 * environment variables. Secret values are sealed here, before they reach a
 * repository, and never come back out of these functions.
 */
import { Clock, Effect, Schema } from "effect";
import {
  type AlreadyExists,
  type NotFound,
  PreconditionFailed,
  ValidationError,
} from "../errors.ts";
import { Ids, ProjectId, type WorkspaceId } from "../ids.ts";
import {
  DEFAULT_ENVIRONMENTS,
  DEFAULT_PROJECT_SETTINGS,
  type Environment,
  EnvironmentKind,
  type Project,
} from "../model/project.ts";
import { EnvironmentRepository, ProjectRepository } from "../ports/projects.ts";
import { RouteRepository } from "../ports/routes.ts";
import { SecretBox } from "../ports/secret-box.ts";
import { EnvironmentVariableRepository } from "../ports/variables.ts";
import { decodeRequest } from "../validation/decode.ts";
import { Slug } from "../validation/dns-label.ts";
import { VariableInputs, VariableKey } from "../validation/environment-variables.ts";
import { ProjectSettingsPatch } from "../validation/project-settings.ts";
import { hasControlCharacter } from "../validation/text.ts";
import { utf8ByteLength } from "../validation/utf8.ts";
import {
  orNotFound,
  parseProjectId,
  requireEnvironmentBySlug,
  requireProject,
  requireProjectBySlug,
} from "./lookups.ts";
import { decodePageToken, encodePageToken } from "./page-token.ts";

export const PROJECT_NAME_MAX_BYTES = 256;
export const MAX_VARIABLES_PER_CALL = 1000;
export const DEFAULT_PROJECT_PAGE_SIZE = 50;
export const MAX_PROJECT_PAGE_SIZE = 200;

const ProjectName = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: (name) => name.trim(),
  encode: (name) => name,
}).pipe(
  Schema.filter((name) => {
    if (name === "") return "must not be empty";
    const bytes = utf8ByteLength(name);
    if (bytes > PROJECT_NAME_MAX_BYTES)
      return `must be at most ${PROJECT_NAME_MAX_BYTES} bytes (got ${bytes})`;
    if (hasControlCharacter(name)) return "must not contain control characters";
    return true;
  }),
);

/** One violation for an unknown kind (the bare literal union reports one per accepted literal). */
const EnvironmentKindInput = EnvironmentKind.annotations({
  message: (issue) => ({
    message: `"${String(issue.actual)}" is not an environment kind; must be one of ${EnvironmentKind.literals.join(", ")}`,
    override: true,
  }),
});

/** A project with its environments and where each environment's hostname points. */
export interface ProjectView {
  readonly project: Project;
  readonly environments: ReadonlyArray<
    Environment & { readonly currentDeploymentId: string | undefined }
  >;
}

const viewOf = (project: Project) =>
  Effect.gen(function* () {
    const environments = yield* (yield* EnvironmentRepository).list(project.id);
    const routes = yield* (yield* RouteRepository).listByProject(project.id);
    return {
      project,
      environments: environments.map((environment) => ({
        ...environment,
        currentDeploymentId: routes.find(
          (route) => route.kind === "ENVIRONMENT" && route.environmentId === environment.id,
        )?.deploymentId,
      })),
    };
  });

export const createProject = (
  workspaceId: WorkspaceId,
  request: { readonly name: string; readonly slug: string },
): Effect.Effect<
  ProjectView,
  ValidationError | AlreadyExists,
  Ids | ProjectRepository | EnvironmentRepository | RouteRepository
> =>
  Effect.gen(function* () {
    const input = yield* decodeRequest(Schema.Struct({ name: ProjectName, slug: Slug }))(request);
    const ids = yield* Ids;
    const now = yield* Clock.currentTimeMillis;
    const project: Project = {
      id: yield* ids.next("project"),
      workspaceId,
      name: input.name,
      slug: input.slug,
      settings: DEFAULT_PROJECT_SETTINGS,
      rolledBack: false,
      createdAt: now,
      updatedAt: now,
    };
    const environments = yield* Effect.forEach(DEFAULT_ENVIRONMENTS, (environment) =>
      Effect.map(
        ids.next("environment"),
        (id): Environment => ({
          id,
          workspaceId,
          projectId: project.id,
          slug: environment.slug,
          kind: environment.kind,
          createdAt: now,
        }),
      ),
    );
    yield* (yield* ProjectRepository).create(project, environments);
    return yield* viewOf(project);
  });

/** By id (`prj_…`) or by slug; another workspace's project is NotFound. */
export const getProject = (
  workspaceId: WorkspaceId,
  request: { readonly projectId?: string; readonly slug?: string },
): Effect.Effect<
  ProjectView,
  ValidationError | NotFound,
  ProjectRepository | EnvironmentRepository | RouteRepository
> =>
  Effect.gen(function* () {
    if (request.projectId) {
      const id = yield* parseProjectId("projectId")(request.projectId);
      return yield* viewOf(yield* requireProject(workspaceId, id));
    }
    if (request.slug) {
      return yield* viewOf(yield* requireProjectBySlug(workspaceId, request.slug));
    }
    return yield* Effect.fail(ValidationError.single("key", "set project_id or slug"));
  });

/**
 * Resolves a project named by id or slug: clients (the CLI) accept either, so
 * the rule lives here once.
 */
export const resolveProject = (workspaceId: WorkspaceId, idOrSlug: string) =>
  Schema.is(ProjectId)(idOrSlug)
    ? requireProject(workspaceId, idOrSlug)
    : requireProjectBySlug(workspaceId, idOrSlug);

/** A page of the workspace's projects, ordered by slug; the page token is the last slug. */
export const listProjects = (
  workspaceId: WorkspaceId,
  request: { readonly pageSize?: number; readonly pageToken?: string },
): Effect.Effect<
  { readonly projects: ReadonlyArray<ProjectView>; readonly nextPageToken: string },
  ValidationError,
  ProjectRepository | EnvironmentRepository | RouteRepository
> =>
  Effect.gen(function* () {
    const pageSize = request.pageSize ?? 0;
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PROJECT_PAGE_SIZE)
      return yield* Effect.fail(
        ValidationError.single(
          "page_size",
          `must be an integer from 1 to ${MAX_PROJECT_PAGE_SIZE} (0 means ${DEFAULT_PROJECT_PAGE_SIZE})`,
        ),
      );
    let afterSlug: string | undefined;
    if (request.pageToken) {
      // The slug of the previous page's last project; a token of the id-ordered format that
      // ListProjects returned before it ordered by slug is refused like any other.
      afterSlug = decodePageToken(request.pageToken, "slug");
      if (afterSlug === undefined || !Schema.is(Slug)(afterSlug))
        return yield* Effect.fail(
          ValidationError.single("page_token", "is not a token returned by ListProjects"),
        );
    }
    const limit = pageSize === 0 ? DEFAULT_PROJECT_PAGE_SIZE : pageSize;
    // One extra row tells whether another page exists without a count query.
    const rows = yield* (yield* ProjectRepository).list(workspaceId, {
      limit: limit + 1,
      ...(afterSlug === undefined ? {} : { afterSlug }),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      projects: yield* Effect.forEach(page, viewOf),
      nextPageToken:
        rows.length > limit && last !== undefined ? encodePageToken(last.slug, "slug") : "",
    };
  });

export const updateProjectSettings = (
  workspaceId: WorkspaceId,
  request: { readonly projectId: string } & Record<string, unknown>,
): Effect.Effect<
  ProjectView,
  ValidationError | NotFound,
  ProjectRepository | EnvironmentRepository | RouteRepository
> =>
  Effect.gen(function* () {
    const id = yield* parseProjectId("projectId")(request.projectId);
    const patch = yield* decodeRequest(ProjectSettingsPatch)(request);
    const now = yield* Clock.currentTimeMillis;
    const updated = yield* (yield* ProjectRepository)
      .updateSettings(workspaceId, id, patch, now)
      .pipe(orNotFound("project", id));
    return yield* viewOf(updated);
  });

export const createEnvironment = (
  workspaceId: WorkspaceId,
  request: { readonly projectId: string; readonly slug: string; readonly kind?: string },
): Effect.Effect<
  Environment,
  ValidationError | NotFound | AlreadyExists | PreconditionFailed,
  Ids | ProjectRepository | EnvironmentRepository
> =>
  Effect.gen(function* () {
    const projectId = yield* parseProjectId("projectId")(request.projectId);
    const input = yield* decodeRequest(
      Schema.Struct({
        slug: Slug,
        kind: Schema.optionalWith(EnvironmentKindInput, { default: () => "PREVIEW" as const }),
      }),
    )({ slug: request.slug, ...(request.kind ? { kind: request.kind } : {}) });
    if (input.kind === "PRODUCTION")
      return yield* Effect.fail(
        new PreconditionFailed({
          reason: "a project has exactly one production environment; create a preview environment",
        }),
      );
    const project = yield* requireProject(workspaceId, projectId);
    const environment: Environment = {
      id: yield* (yield* Ids).next("environment"),
      workspaceId,
      projectId: project.id,
      slug: input.slug,
      kind: input.kind,
      createdAt: yield* Clock.currentTimeMillis,
    };
    yield* (yield* EnvironmentRepository).create(environment);
    return environment;
  });

/** A variable as the API shows it: a secret's value is never returned. */
export interface VariableView {
  readonly key: string;
  readonly value: string;
  readonly secret: boolean;
}

const listVariableViews = (environmentId: Environment["id"]) =>
  EnvironmentVariableRepository.pipe(
    Effect.flatMap((variables) => variables.list(environmentId)),
    Effect.map((variables) =>
      variables.map(
        (variable): VariableView =>
          variable.value._tag === "Plain"
            ? { key: variable.key, value: variable.value.value, secret: false }
            : { key: variable.key, value: "", secret: true },
      ),
    ),
  );

export const setEnvironmentVariables = (
  workspaceId: WorkspaceId,
  request: {
    readonly projectId: string;
    readonly environmentSlug: string;
    readonly variables: ReadonlyArray<{ key: string; value: string; secret?: boolean }>;
    readonly deleteKeys?: ReadonlyArray<string>;
  },
): Effect.Effect<
  ReadonlyArray<VariableView>,
  ValidationError | NotFound,
  Ids | SecretBox | ProjectRepository | EnvironmentRepository | EnvironmentVariableRepository
> =>
  Effect.gen(function* () {
    const projectId = yield* parseProjectId("projectId")(request.projectId);
    const input = yield* decodeRequest(
      Schema.Struct({
        environmentSlug: Slug,
        variables: VariableInputs,
        deleteKeys: Schema.optionalWith(Schema.Array(VariableKey), { default: () => [] }),
      }),
    )(request);
    const total = input.variables.length + input.deleteKeys.length;
    if (total > MAX_VARIABLES_PER_CALL)
      return yield* Effect.fail(
        ValidationError.single(
          "variables",
          `at most ${MAX_VARIABLES_PER_CALL} variables and delete_keys per call (got ${total})`,
        ),
      );
    const both = input.deleteKeys.find((key) => input.variables.some((v) => v.key === key));
    if (both !== undefined)
      return yield* Effect.fail(
        ValidationError.single("delete_keys", `"${both}" is both set and deleted`),
      );
    const project = yield* requireProject(workspaceId, projectId);
    const environment = yield* requireEnvironmentBySlug(project.id, input.environmentSlug);
    const box = yield* SecretBox;
    const ids = yield* Ids;
    const writes = yield* Effect.forEach(input.variables, (variable) =>
      Effect.gen(function* () {
        return {
          id: yield* ids.next("variable"),
          key: variable.key,
          value: variable.secret
            ? ({ _tag: "Secret", sealed: yield* box.seal(variable.value) } as const)
            : ({ _tag: "Plain", value: variable.value } as const),
        };
      }),
    );
    const repository = yield* EnvironmentVariableRepository;
    yield* repository.set(environment.id, writes, yield* Clock.currentTimeMillis, input.deleteKeys);
    return yield* listVariableViews(environment.id);
  });

export const listEnvironmentVariables = (
  workspaceId: WorkspaceId,
  request: { readonly projectId: string; readonly environmentSlug: string },
): Effect.Effect<
  ReadonlyArray<VariableView>,
  ValidationError | NotFound,
  ProjectRepository | EnvironmentRepository | EnvironmentVariableRepository
> =>
  Effect.gen(function* () {
    const projectId = yield* parseProjectId("projectId")(request.projectId);
    const { environmentSlug } = yield* decodeRequest(Schema.Struct({ environmentSlug: Slug }))(
      request,
    );
    const project = yield* requireProject(workspaceId, projectId);
    const environment = yield* requireEnvironmentBySlug(project.id, environmentSlug);
    return yield* listVariableViews(environment.id);
  });
