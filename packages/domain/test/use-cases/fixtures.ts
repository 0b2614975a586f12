/** Shared setup for the use-case tests: a fresh in-memory world at a fixed time. */
import { Clock, Effect, Layer, Option, Random, Ref, TestClock } from "effect";
import {
  buildContextKey,
  createDeployment,
  DEFAULT_PROJECT_SETTINGS,
  type DeploymentId,
  DeploymentRepository,
  type Environment,
  EnvironmentRepository,
  EnvironmentVariableRepository,
  Ids,
  Platform,
  type Project,
  ProjectRepository,
  RouteRepository,
  routesForReadyDeployment,
  type Workspace,
  WorkspaceRepository,
} from "../../src/index.ts";
import { InMemoryLayer, InMemoryStore } from "../../src/testing/index.ts";

/** 2025-06-01T12:00:00Z: the server time every test starts at. */
export const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

/** A fresh store per test, with seeded randomness so that ids repeat from run to run. */
export const TestLayer = InMemoryLayer.pipe(
  Layer.provideMerge(Layer.setRandom(Random.make("ferry-use-case-tests"))),
);

export const SEALED_TOKEN = { keyId: "key-2025", ciphertext: "c2VhbGVk" } as const;

export interface Tenant {
  readonly workspace: Workspace;
  readonly project: Project;
  readonly production: Environment;
  readonly preview: Environment;
}

const makeTenant = (workspaceSlug: string, projectSlug: string) =>
  Effect.gen(function* () {
    const ids = yield* Ids;
    const now = yield* Clock.currentTimeMillis;
    const workspace: Workspace = {
      id: yield* ids.next("workspace"),
      name: workspaceSlug,
      slug: workspaceSlug,
      createdAt: now,
    };
    yield* (yield* WorkspaceRepository).create(workspace);
    const project: Project = {
      id: yield* ids.next("project"),
      workspaceId: workspace.id,
      name: projectSlug,
      slug: projectSlug,
      settings: DEFAULT_PROJECT_SETTINGS,
      rolledBack: false,
      createdAt: now,
      updatedAt: now,
    };
    const environment = (slug: string, kind: Environment["kind"]) =>
      Effect.map(
        ids.next("environment"),
        (id): Environment => ({
          id,
          workspaceId: workspace.id,
          projectId: project.id,
          slug,
          kind,
          createdAt: now,
        }),
      );
    const production = yield* environment("production", "PRODUCTION");
    const preview = yield* environment("preview", "PREVIEW");
    yield* (yield* ProjectRepository).create(project, [production, preview]);
    return { workspace, project, production, preview } satisfies Tenant;
  });

/**
 * Sets the clock to NOW and seeds two workspaces: `acme` (project `web`, with
 * production variables, one of them secret) and `globex` (project `api`).
 */
export const seed = Effect.gen(function* () {
  yield* TestClock.setTime(NOW);
  const acme = yield* makeTenant("acme", "web");
  const globex = yield* makeTenant("globex", "api");
  const ids = yield* Ids;
  yield* (yield* EnvironmentVariableRepository).set(
    acme.production.id,
    [
      {
        id: yield* ids.next("variable"),
        key: "LOG_LEVEL",
        value: { _tag: "Plain", value: "info" },
      },
      {
        id: yield* ids.next("variable"),
        key: "API_TOKEN",
        value: { _tag: "Secret", sealed: SEALED_TOKEN },
      },
    ],
    NOW,
  );
  return { acme, globex };
});

/** Moves the clock on one second, so that the next id sorts after every earlier one. */
export const tick = TestClock.adjust("1 second");

/** CreateDeployment of a prebuilt image, one second after the previous call. */
export const deployImage = (tenant: Tenant, image: string, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    yield* tick;
    const result = yield* createDeployment(tenant.workspace.id, {
      projectId: tenant.project.id,
      environmentSlug: tenant.production.slug,
      source: { _tag: "DockerImage", image },
      ...extra,
    });
    return result.deploymentId;
  });

export const contextKey = (tenant: Tenant, name = "context-1.tar.gz") =>
  buildContextKey(tenant.project.id, name);

/**
 * What the deploy workflow does once a deployment's instances are healthy:
 * walk it to READY, then point its routes (and take live traffic when the
 * rules say so) in one call.
 */
export const becomeReady = (tenant: Tenant, id: DeploymentId) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    for (const [from, to] of [
      ["PENDING", "DEPLOYING"],
      ["DEPLOYING", "NETWORK"],
      ["NETWORK", "READY"],
    ] as const) {
      const changed = yield* deployments.updateStatus(id, { from: [from], to, at });
      if (Option.isNone(changed)) return yield* Effect.dieMessage(`${id} was not ${from}`);
    }
    const deployment = yield* deployments
      .findById(tenant.workspace.id, id)
      .pipe(Effect.map(Option.getOrThrow));
    const environment = yield* (yield* EnvironmentRepository)
      .findById(tenant.workspace.id, deployment.environmentId)
      .pipe(Effect.map(Option.getOrThrow));
    const project = yield* (yield* ProjectRepository)
      .findById(tenant.workspace.id, tenant.project.id)
      .pipe(Effect.map(Option.getOrThrow));
    const platform = yield* Platform;
    const plan = routesForReadyDeployment(
      {
        apexDomain: platform.apexDomain,
        workspaceSlug: tenant.workspace.slug,
        projectSlug: tenant.project.slug,
      },
      {
        id,
        environmentSlug: environment.slug,
        environmentKind: environment.kind,
        branch: deployment.gitCommit?.branch,
      },
      project,
    );
    yield* (yield* RouteRepository).point({
      workspaceId: tenant.workspace.id,
      projectId: tenant.project.id,
      environmentId: environment.id,
      deploymentId: id,
      routes: plan.routes,
      ...(plan.takesLiveTraffic ? { liveTraffic: { rolledBack: false } } : {}),
      at,
    });
    return plan.takesLiveTraffic;
  });

/** The project as stored now. */
export const currentProject = (tenant: Tenant) =>
  Effect.flatMap(ProjectRepository, (projects) =>
    projects.findById(tenant.workspace.id, tenant.project.id),
  ).pipe(Effect.map(Option.getOrThrow));

/** Everything stored, straight from the in-memory store. */
export const stored = Effect.flatMap(InMemoryStore, Ref.get);
