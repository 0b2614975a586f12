/** The in-memory ports keep the promises of the ports' doc comments (the database adapters must too). */
import { describe, expect, it } from "@effect/vitest";
import { Effect, Option } from "effect";
import {
  ApiKeyRepository,
  type Deployment,
  DeploymentRepository,
  EnvironmentVariableRepository,
  EventLog,
  Ids,
  ProjectRepository,
  RouteRepository,
  WorkflowEngine,
  WorkspaceRepository,
} from "../../src/index.ts";
import { WorkflowEngineControl } from "../../src/testing/index.ts";
import {
  becomeReady,
  currentProject,
  deployImage,
  NOW,
  seed,
  type Tenant,
  TestLayer,
  tick,
} from "../use-cases/fixtures.ts";

const newDeployment = (tenant: Tenant, overrides: Partial<Deployment> = {}) =>
  Effect.gen(function* () {
    yield* tick;
    const deployment: Deployment = {
      id: yield* (yield* Ids).next("deployment"),
      workspaceId: tenant.workspace.id,
      projectId: tenant.project.id,
      environmentId: tenant.production.id,
      environmentSlug: "production",
      status: "PENDING",
      source: { _tag: "DockerImage", image: "localhost/web:1" },
      regions: ["local-1"],
      createdAt: NOW,
      updatedAt: NOW,
      ...overrides,
    };
    return yield* (yield* DeploymentRepository).create(deployment);
  });

describe("InMemoryDeploymentRepository", () => {
  it.effect("refuses an idempotency key already used in the workspace, not in another", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      yield* newDeployment(acme, { idempotencyKey: "k" });
      const error = yield* Effect.flip(newDeployment(acme, { idempotencyKey: "k" }));
      expect(error).toMatchObject({ _tag: "IdempotencyKeyTaken", idempotencyKey: "k" });
      yield* newDeployment(globex, { idempotencyKey: "k" });
      const deployments = yield* DeploymentRepository;
      expect(Option.isSome(yield* deployments.findByIdempotencyKey(globex.workspace.id, "k"))).toBe(
        true,
      );
      expect(yield* deployments.findByIdempotencyKey(acme.workspace.id, "other")).toStrictEqual(
        Option.none(),
      );
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("scopes findById to the workspace", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const d = yield* newDeployment(acme);
      const deployments = yield* DeploymentRepository;
      expect(yield* deployments.findById(acme.workspace.id, d.id)).toStrictEqual(Option.some(d));
      expect(yield* deployments.findById(globex.workspace.id, d.id)).toStrictEqual(Option.none());
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("updates status only from the expected statuses (compare-and-set)", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d = yield* newDeployment(acme);
      const deployments = yield* DeploymentRepository;
      expect(
        yield* deployments.updateStatus(d.id, { from: ["BUILDING"], to: "FAILED", at: NOW + 1 }),
      ).toStrictEqual(Option.none());
      const updated = yield* deployments.updateStatus(d.id, {
        from: ["PENDING", "BUILDING"],
        to: "DEPLOYING",
        at: NOW + 2,
        image: "localhost/web:built",
      });
      expect(updated).toStrictEqual(
        Option.some({
          ...d,
          status: "DEPLOYING",
          updatedAt: NOW + 2,
          image: "localhost/web:built",
        }),
      );
      const failed = yield* deployments.updateStatus(d.id, {
        from: ["DEPLOYING"],
        to: "FAILED",
        at: NOW + 3,
        errorMessage: "health check timed out",
      });
      expect(Option.map(failed, (x) => [x.status, x.errorMessage, x.image])).toStrictEqual(
        Option.some(["FAILED", "health check timed out", "localhost/web:built"]),
      );
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "supersedes only older PENDING deployments of the same project, environment and branch",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const main = { gitCommit: { branch: "main" } };
        const old1 = yield* newDeployment(acme, main);
        const old2 = yield* newDeployment(acme, main);
        const building = yield* newDeployment(acme, { ...main, status: "BUILDING" });
        const otherBranch = yield* newDeployment(acme, { gitCommit: { branch: "dev" } });
        const noBranch = yield* newDeployment(acme);
        const preview = yield* newDeployment(acme, {
          ...main,
          environmentId: acme.preview.id,
          environmentSlug: "preview",
        });
        const newest = yield* newDeployment(acme, main);
        const later = yield* newDeployment(acme, main);
        const deployments = yield* DeploymentRepository;
        const superseded = yield* deployments.supersedeOlderPending({
          projectId: acme.project.id,
          environmentId: acme.production.id,
          branch: "main",
          newerThan: newest.id,
          at: NOW + 99,
        });
        expect(superseded).toStrictEqual([old1.id, old2.id]);
        const statusOf = (d: Deployment) =>
          deployments
            .findById(acme.workspace.id, d.id)
            .pipe(Effect.map(Option.map((x) => x.status)));
        expect(
          yield* Effect.all(
            [old1, old2, building, otherBranch, noBranch, preview, newest, later].map(statusOf),
          ),
        ).toStrictEqual(
          [
            "SUPERSEDED",
            "SUPERSEDED",
            "BUILDING",
            "PENDING",
            "PENDING",
            "PENDING",
            "PENDING",
            "PENDING",
          ].map(Option.some),
        );
        expect(
          yield* deployments.supersedeOlderPending({
            projectId: acme.project.id,
            environmentId: acme.production.id,
            branch: undefined,
            newerThan: later.id,
            at: NOW + 100,
          }),
        ).toStrictEqual([noBranch.id]);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("records steps idempotently, in start order", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d = yield* newDeployment(acme);
      const deployments = yield* DeploymentRepository;
      const ids = yield* Ids;
      const first = yield* ids.next("step");
      yield* deployments.startStep({
        id: yield* ids.next("step"),
        deploymentId: d.id,
        name: "NETWORK",
        at: 20,
      });
      yield* deployments.startStep({ id: first, deploymentId: d.id, name: "BUILDING", at: 10 });
      yield* deployments.startStep({
        id: yield* ids.next("step"),
        deploymentId: d.id,
        name: "BUILDING",
        at: 30,
      });
      yield* deployments.finishStep({
        deploymentId: d.id,
        name: "BUILDING",
        status: "FAILED",
        at: 40,
        message: "exit 1",
      });
      yield* deployments.finishStep({
        deploymentId: d.id,
        name: "BUILDING",
        status: "SUCCEEDED",
        at: 50,
      });
      const steps = yield* deployments.listSteps(d.id);
      expect(steps.map((s) => [s.name, s.status, s.startedAt, s.endedAt, s.message])).toStrictEqual(
        [
          ["BUILDING", "FAILED", 10, 40, "exit 1"],
          ["NETWORK", "RUNNING", 20, undefined, undefined],
        ],
      );
      expect(steps[0]?.id).toBe(first);
    }).pipe(Effect.provide(TestLayer)),
  );
});

describe("InMemoryRouteRepository", () => {
  it.effect("points hostnames without touching the project unless liveTraffic is given", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const v1 = yield* deployImage(acme, "localhost/web:1");
      const routes = yield* RouteRepository;
      const pointed = yield* routes.point({
        workspaceId: acme.workspace.id,
        projectId: acme.project.id,
        environmentId: acme.production.id,
        deploymentId: v1,
        routes: [{ hostname: "a.ferry.test", kind: "DEPLOYMENT" }],
        at: NOW,
      });
      expect(pointed.map((r) => [r.hostname, r.deploymentId])).toStrictEqual([
        ["a.ferry.test", v1],
      ]);
      expect(yield* currentProject(acme)).toMatchObject({ rolledBack: false });
      expect("liveDeploymentId" in (yield* currentProject(acme))).toBe(false);

      yield* routes.setPin(acme.project.id, true, NOW + 5);
      expect(yield* currentProject(acme)).toMatchObject({ rolledBack: true, updatedAt: NOW + 5 });
      expect(yield* routes.listByProject(acme.project.id)).toStrictEqual(pointed);
      expect(yield* routes.findByHostname("b.ferry.test")).toStrictEqual(Option.none());
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("sets the live deployment and the pin together with the routes", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const v1 = yield* deployImage(acme, "localhost/web:1");
      expect(yield* becomeReady(acme, v1)).toBe(true);
      expect(yield* currentProject(acme)).toMatchObject({
        liveDeploymentId: v1,
        rolledBack: false,
      });
    }).pipe(Effect.provide(TestLayer)),
  );
});

describe("the other in-memory repositories", () => {
  it.effect(
    "workspaces, projects and environments refuse a taken slug where it must be unique",
    () =>
      Effect.gen(function* () {
        const { acme, globex } = yield* seed;
        expect(
          yield* Effect.flip(
            (yield* WorkspaceRepository).create({ ...acme.workspace, id: globex.workspace.id }),
          ),
        ).toMatchObject({ _tag: "AlreadyExists", resource: "workspace", id: "acme" });
        const projects = yield* ProjectRepository;
        const id = yield* (yield* Ids).next("project");
        expect(yield* Effect.flip(projects.create({ ...acme.project, id }, []))).toMatchObject({
          _tag: "AlreadyExists",
          resource: "project",
          id: "web",
        });
        // The same slug in another workspace is fine, and listing is newest first.
        yield* tick;
        const id2 = yield* (yield* Ids).next("project");
        yield* projects.create({ ...globex.project, id: id2, slug: "web" }, []);
        expect(
          (yield* projects.list(globex.workspace.id, { limit: 10 })).map((p) => p.id),
        ).toStrictEqual([id2, globex.project.id]);
        expect(
          (yield* projects.list(globex.workspace.id, { limit: 10, beforeId: id2 })).map(
            (p) => p.id,
          ),
        ).toStrictEqual([globex.project.id]);
        const updated = yield* projects.updateSettings(
          acme.workspace.id,
          acme.project.id,
          { replicasPerRegion: 3 },
          NOW + 7,
        );
        expect(Option.map(updated, (p) => [p.settings, p.updatedAt])).toStrictEqual(
          Option.some([{ ...acme.project.settings, replicasPerRegion: 3 }, NOW + 7]),
        );
        expect(
          yield* projects.updateSettings(
            globex.workspace.id,
            acme.project.id,
            { replicasPerRegion: 3 },
            NOW,
          ),
        ).toStrictEqual(Option.none());
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "variables: set keeps an existing key's id, unset counts what existed, list is by key",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const variables = yield* EnvironmentVariableRepository;
        const [apiToken, logLevel] = yield* variables.list(acme.production.id);
        expect([apiToken?.key, logLevel?.key]).toStrictEqual(["API_TOKEN", "LOG_LEVEL"]);
        const ids = yield* Ids;
        yield* variables.set(
          acme.production.id,
          [
            {
              id: yield* ids.next("variable"),
              key: "LOG_LEVEL",
              value: { _tag: "Plain", value: "debug" },
            },
            { id: yield* ids.next("variable"), key: "A", value: { _tag: "Plain", value: "1" } },
          ],
          NOW + 1,
        );
        const after = yield* variables.list(acme.production.id);
        expect(after.map((v) => v.key)).toStrictEqual(["A", "API_TOKEN", "LOG_LEVEL"]);
        expect(after[2]).toStrictEqual({
          ...logLevel,
          value: { _tag: "Plain", value: "debug" },
          updatedAt: NOW + 1,
        });
        expect(yield* variables.unset(acme.production.id, ["A", "MISSING", "A"])).toBe(1);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("API keys: revoked keys are not found by hash", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const keys = yield* ApiKeyRepository;
      const key = {
        id: yield* (yield* Ids).next("apiKey"),
        workspaceId: acme.workspace.id,
        name: "ci",
        hash: "ab".repeat(32),
        prefix: "fry_ab",
        createdAt: NOW,
      };
      yield* keys.create(key);
      yield* keys.markUsed(key.id, NOW + 1);
      expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(
        Option.some({ ...key, lastUsedAt: NOW + 1 }),
      );
      yield* keys.revoke(key.id, NOW + 2);
      expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(Option.none());
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("event log: strictly increasing seq, read after a cursor, oldest first", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d1 = yield* deployImage(acme, "localhost/web:1");
      const d2 = yield* deployImage(acme, "localhost/web:2");
      const log = yield* EventLog;
      const ids = yield* Ids;
      const append = (deploymentId: typeof d1, type: string) =>
        Effect.flatMap(ids.next("event"), (id) =>
          log.append({
            id,
            workspaceId: acme.workspace.id,
            projectId: acme.project.id,
            deploymentId,
            type,
            payload: {},
            createdAt: NOW,
          }),
        );
      const seqs = [
        (yield* append(d1, "deployment.accepted")).seq,
        (yield* append(d2, "deployment.accepted")).seq,
        (yield* append(d1, "step.started")).seq,
        (yield* append(d1, "deployment.status")).seq,
      ];
      expect(seqs).toStrictEqual([1n, 2n, 3n, 4n]);
      expect((yield* log.listForDeployment(d1, 1n, 10)).map((e) => e.type)).toStrictEqual([
        "step.started",
        "deployment.status",
      ]);
      expect((yield* log.listForDeployment(d1, 0n, 1)).map((e) => e.seq)).toStrictEqual([1n]);
    }).pipe(Effect.provide(TestLayer)),
  );
});

describe("InMemoryWorkflowEngine", () => {
  it.effect("gives a repeated startDeploy the first invocation id", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d = yield* deployImage(acme, "localhost/web:1");
      const engine = yield* WorkflowEngine;
      const again = yield* engine.startDeploy({
        workspaceId: acme.workspace.id,
        projectId: acme.project.id,
        deploymentId: d,
      });
      expect(again).toStrictEqual({ invocationId: "inv_1" });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers a repeated promote with the same idempotency key with the first result", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const v1 = yield* deployImage(acme, "localhost/web:1");
      yield* becomeReady(acme, v1);
      const v2 = yield* deployImage(acme, "localhost/web:2");
      yield* becomeReady(acme, v2);
      const engine = yield* WorkflowEngine;
      const operation = {
        workspaceId: acme.workspace.id,
        projectId: acme.project.id,
        targetDeploymentId: v1,
        idempotencyKey: "p-1",
      };
      const first = yield* engine.promote(operation);
      const second = yield* engine.promote(operation);
      expect(first).toStrictEqual({ liveDeploymentId: v1, rolledBack: false, changed: true });
      expect(second).toStrictEqual(first);
      const control = yield* WorkflowEngineControl;
      yield* control.setUnavailable("down", ["cancel"]);
      expect(yield* Effect.flip(engine.cancel("inv_1"))).toMatchObject({ reason: "down" });
      yield* control.setUnavailable(undefined);
      yield* engine.cancel("inv_1");
      expect((yield* control.calls).map((c) => c._tag)).toStrictEqual([
        "startDeploy",
        "startDeploy",
        "promote",
        "promote",
        "cancel",
        "cancel",
      ]);
    }).pipe(Effect.provide(TestLayer)),
  );
});
