/**
 * Shared setup of the repository tests: one migrated test database per file
 * and database kind, the Prisma repositories on it, ids that sort in the
 * order they are made, and a tenant (workspace, project, environments) per
 * test so that tests never see each other's rows.
 */
import {
  CROCKFORD_ALPHABET,
  DEFAULT_PROJECT_SETTINGS,
  type Deployment,
  DeploymentRepository,
  type Environment,
  EnvironmentVariableRepository,
  encodeUlidTime,
  ID_PREFIXES,
  type IdKind,
  type IdOf,
  Ids,
  type Project,
  ProjectRepository,
  type VariableValue,
  type Workspace,
  WorkspaceRepository,
} from "@ferry/domain";
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option } from "effect";
import { afterAll, beforeAll, expect } from "vitest";
import type { PrismaClient } from "../../src/generated/prisma/client.ts";
import { Db, RepositoriesLive } from "../../src/repositories/index.ts";
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from "../../src/testing.ts";

/** Every port that RepositoriesLive provides. */
export type Repositories = Layer.Layer.Success<typeof RepositoriesLive>;

/** 2025-11-24T16:00:00.000Z: the time the test data is "made" at. */
export const NOW = 1_764_000_000_000;

export interface RepositoryHarness {
  /** The test database's client, to look at rows directly. */
  readonly prisma: () => PrismaClient;
  /** Runs an Effect with the repositories; a failure or defect rejects. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, Repositories>) => Promise<A>;
  /** Runs an Effect with the repositories and returns its Exit. */
  readonly exit: <A, E>(effect: Effect.Effect<A, E, Repositories>) => Promise<Exit.Exit<A, E>>;
}

/**
 * Registers beforeAll/afterAll hooks in the calling `describe`: a fresh
 * migrated database of `kind`, and `RepositoriesLive` on it.
 */
export function useRepositories(kind: TestDatabaseKind): RepositoryHarness {
  let db: TestDatabase | undefined;
  let runtime: ManagedRuntime.ManagedRuntime<Repositories, never> | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ kind });
    runtime = ManagedRuntime.make(
      RepositoriesLive.pipe(Layer.provide(Layer.succeed(Db, db.prisma)), Layer.provide(Ids.layer)),
    );
  });
  afterAll(async () => {
    await runtime?.dispose();
    await db?.close();
  });
  const started = () => {
    if (runtime === undefined || db === undefined) throw new Error("the test database is not up");
    return { runtime, db };
  };
  return {
    prisma: () => started().db.prisma,
    run: (effect) => started().runtime.runPromise(effect),
    exit: (effect) => started().runtime.runPromiseExit(effect),
  };
}

// ---------------------------------------------------------------------------
// Ids and names

let sequence = 0;
const idBase = Date.now();

/**
 * A valid id that sorts after every id made before it in this process (the
 * time part counts up one millisecond per id), for tests of "newest first".
 */
export const newId = <K extends IdKind>(kind: K): IdOf<K> => {
  sequence += 1;
  let random = "";
  for (let i = 0; i < 16; i++) random += CROCKFORD_ALPHABET.charAt((i * 7 + sequence) % 32);
  return `${ID_PREFIXES[kind]}_${encodeUlidTime(idBase + sequence)}${random}` as IdOf<K>;
};

/** A slug no other test uses. */
export const uniqueSlug = (prefix: string): string => `${prefix}-${++sequence}`;

// ---------------------------------------------------------------------------
// Test data

export interface Tenant {
  readonly workspace: Workspace;
  readonly project: Project;
  readonly production: Environment;
  readonly preview: Environment;
}

export const makeWorkspace = (overrides: Partial<Workspace> = {}): Workspace => {
  const slug = uniqueSlug("ws");
  return { id: newId("workspace"), name: `Workspace ${slug}`, slug, createdAt: NOW, ...overrides };
};

export const makeProject = (workspace: Workspace, overrides: Partial<Project> = {}): Project => {
  const slug = uniqueSlug("web");
  return {
    id: newId("project"),
    workspaceId: workspace.id,
    name: `Project ${slug}`,
    slug,
    settings: DEFAULT_PROJECT_SETTINGS,
    rolledBack: false,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
};

export const makeEnvironment = (
  project: Project,
  slug: string,
  kind: Environment["kind"] = "PREVIEW",
): Environment => ({
  id: newId("environment"),
  workspaceId: project.workspaceId,
  projectId: project.id,
  slug,
  kind,
  createdAt: NOW,
});

/** A new workspace with a project that has a production and a preview environment. */
export const createTenant = (workspace: Workspace = makeWorkspace()) =>
  Effect.gen(function* () {
    const workspaces = yield* WorkspaceRepository;
    if (Option.isNone(yield* workspaces.findById(workspace.id)))
      yield* workspaces.create(workspace);
    const project = makeProject(workspace);
    const production = makeEnvironment(project, "production", "PRODUCTION");
    const preview = makeEnvironment(project, "preview", "PREVIEW");
    yield* (yield* ProjectRepository).create(project, [production, preview]);
    return { workspace, project, production, preview } satisfies Tenant;
  });

/** A PENDING deployment of a prebuilt image in the tenant's production environment. */
export const makeDeployment = (
  tenant: Tenant,
  overrides: Partial<Deployment> = {},
): Deployment => ({
  id: newId("deployment"),
  workspaceId: tenant.workspace.id,
  projectId: tenant.project.id,
  environmentId: tenant.production.id,
  environmentSlug: tenant.production.slug,
  status: "PENDING",
  source: { _tag: "DockerImage", image: "localhost/web:1" },
  regions: ["local-1"],
  createdAt: NOW,
  updatedAt: NOW,
  ...overrides,
});

/** Stores `makeDeployment(tenant, overrides)`. */
export const createDeployment = (tenant: Tenant, overrides: Partial<Deployment> = {}) =>
  Effect.flatMap(DeploymentRepository, (deployments) =>
    deployments.create(makeDeployment(tenant, overrides)),
  );

export const plain = (value: string): VariableValue => ({ _tag: "Plain", value });
export const secret = (keyId: string, ciphertext: string): VariableValue => ({
  _tag: "Secret",
  sealed: { keyId, ciphertext },
});

/** Sets variables (new ids) in an environment. */
export const setVariables = (
  environmentId: Environment["id"],
  variables: Record<string, VariableValue>,
  at = NOW,
) =>
  Effect.flatMap(EnvironmentVariableRepository, (repository) =>
    repository.set(
      environmentId,
      Object.entries(variables).map(([key, value]) => ({ id: newId("variable"), key, value })),
      at,
    ),
  );

/** Asserts that `exit` is a defect (a die), not a typed failure nor a success. */
export const expectDefect = <A, E>(exit: Exit.Exit<A, E>): void => {
  expect(Exit.isFailure(exit)).toBe(true);
  if (Exit.isFailure(exit)) {
    expect(Cause.isDie(exit.cause)).toBe(true);
    expect(Option.isNone(Cause.failureOption(exit.cause))).toBe(true);
  }
};

/** The typed failure of `exit` (the test fails if it succeeded or died). */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${String(exit.value)}`);
  const failure = Cause.failureOption(exit.cause);
  if (Option.isNone(failure))
    throw new Error(`expected a failure, got ${Cause.pretty(exit.cause)}`);
  return failure.value;
};

export type { IdOf } from "@ferry/domain";
