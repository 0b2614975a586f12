import { describe, expect, it } from "@effect/vitest";
import { Effect, Option } from "effect";
import {
  BuildStorage,
  BuildStorageError,
  createDeployment,
  DEFAULT_PROJECT_SETTINGS,
  DeploymentRepository,
  EnvironmentVariableRepository,
  Ids,
  ProjectRepository,
  WorkflowEngine,
} from "../../src/index.ts";
import {
  TEST_BUILD_CONTEXT_LIMITS,
  uploadBuildContext,
  WorkflowEngineControl,
} from "../../src/testing/index.ts";
import { contextKey, NOW, SEALED_TOKEN, seed, stored, TestLayer, tick } from "./fixtures.ts";

const image = (tag: string) => ({ _tag: "DockerImage", image: `localhost/web:${tag}` }) as const;

const deploymentsStored = Effect.map(stored, (data) => [...data.deployments.values()]);
const workflowCalls = Effect.flatMap(WorkflowEngineControl, (control) => control.calls);

describe("createDeployment", () => {
  it.effect(
    "stores a PENDING deployment with a snapshot of the variables and starts its deploy once",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        yield* tick;
        const result = yield* createDeployment(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "production",
          source: image("1"),
          gitCommit: { commitSha: "ABCDEF1", branch: "main", timestamp: NOW - 60_000 },
        });
        expect(result).toStrictEqual({
          deploymentId: expect.stringMatching(/^dep_[0-9a-z]{26}$/),
          status: "PENDING",
          created: true,
        });
        const id = result.deploymentId;

        expect(yield* deploymentsStored).toStrictEqual([
          {
            id,
            workspaceId: acme.workspace.id,
            projectId: acme.project.id,
            environmentId: acme.production.id,
            environmentSlug: "production",
            status: "PENDING",
            source: { _tag: "DockerImage", image: "localhost/web:1" },
            gitCommit: { commitSha: "abcdef1", branch: "main", timestamp: NOW - 60_000 },
            regions: ["local-1", "local-2"],
            image: "localhost/web:1",
            restateInvocationId: "inv_1",
            createdAt: NOW + 1000,
            updatedAt: NOW + 1000,
          },
        ]);
        const deployments = yield* DeploymentRepository;
        const expectedSnapshot = [
          { _tag: "Secret", key: "API_TOKEN", sealed: SEALED_TOKEN },
          { _tag: "Plain", key: "LOG_LEVEL", value: "info" },
        ];
        expect(yield* deployments.snapshot(id)).toStrictEqual(expectedSnapshot);
        expect(yield* workflowCalls).toStrictEqual([
          {
            _tag: "startDeploy",
            operation: {
              workspaceId: acme.workspace.id,
              projectId: acme.project.id,
              deploymentId: id,
            },
          },
        ]);

        // The snapshot is the variables at creation: later changes do not reach it.
        yield* (yield* EnvironmentVariableRepository).set(
          acme.production.id,
          [
            {
              id: yield* (yield* Ids).next("variable"),
              key: "LOG_LEVEL",
              value: { _tag: "Plain", value: "debug" },
            },
          ],
          NOW + 2000,
        );
        expect(yield* deployments.snapshot(id)).toStrictEqual(expectedSnapshot);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "keeps requested regions, and snapshots an environment without variables as empty",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const result = yield* createDeployment(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "preview",
          source: image("2"),
          regions: ["local-2"],
        });
        const [deployment] = yield* deploymentsStored;
        expect(deployment?.regions).toStrictEqual(["local-2"]);
        expect(deployment?.environmentId).toBe(acme.preview.id);
        expect(yield* (yield* DeploymentRepository).snapshot(result.deploymentId)).toStrictEqual(
          [],
        );
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("stores nothing and starts nothing when the request is invalid", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(
        createDeployment(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "Production",
          source: { _tag: "DockerImage", image: "Web:latest" },
        }),
      );
      expect(error._tag).toBe("ValidationError");
      expect(
        error._tag === "ValidationError" && error.violations.map((v) => v.field),
      ).toStrictEqual(["environment_slug", "source.image"]);
      expect(yield* deploymentsStored).toStrictEqual([]);
      expect(yield* workflowCalls).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "answers NotFound for an unknown project and for another workspace's project alike",
    () =>
      Effect.gen(function* () {
        const { acme, globex } = yield* seed;
        const unknown = yield* (yield* Ids).next("project");
        const request = (projectId: string) => ({
          projectId,
          environmentSlug: "production",
          source: image("1"),
        });
        const missing = yield* Effect.flip(createDeployment(acme.workspace.id, request(unknown)));
        expect(missing).toMatchObject({ _tag: "NotFound", resource: "project", id: unknown });
        const foreign = yield* Effect.flip(
          createDeployment(acme.workspace.id, request(globex.project.id)),
        );
        expect(foreign).toMatchObject({
          _tag: "NotFound",
          resource: "project",
          id: globex.project.id,
        });
        expect(foreign.message).toBe(`project "${globex.project.id}" not found`);
        expect(yield* deploymentsStored).toStrictEqual([]);
        expect(yield* workflowCalls).toStrictEqual([]);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers NotFound for an unknown environment slug", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(
        createDeployment(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "staging",
          source: image("1"),
        }),
      );
      expect(error).toMatchObject({ _tag: "NotFound", resource: "environment", id: "staging" });
      expect(yield* deploymentsStored).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "answers NotFound for a build context that was never uploaded, and builds one that was",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const key = contextKey(acme);
        const request = {
          projectId: acme.project.id,
          environmentSlug: "production",
          source: { _tag: "BuildContext", buildContextPath: key },
        };
        const error = yield* Effect.flip(createDeployment(acme.workspace.id, request));
        expect(error).toMatchObject({ _tag: "NotFound", resource: "build context", id: key });
        expect(yield* deploymentsStored).toStrictEqual([]);
        expect(yield* workflowCalls).toStrictEqual([]);

        yield* uploadBuildContext(key);
        const result = yield* createDeployment(acme.workspace.id, request);
        const [deployment] = yield* deploymentsStored;
        expect(deployment?.id).toBe(result.deploymentId);
        expect(deployment?.source).toStrictEqual({
          _tag: "BuildContext",
          buildContextPath: key,
          dockerfilePath: "Dockerfile",
        });
        expect(deployment && "image" in deployment).toBe(false);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a build context larger than the maximum, and accepts one at the maximum", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const request = (key: string) => ({
        projectId: acme.project.id,
        environmentSlug: "production",
        source: { _tag: "BuildContext", buildContextPath: key },
      });
      const tooLarge = contextKey(acme, "too-large.tar.gz");
      yield* uploadBuildContext(tooLarge, TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes + 1);
      const error = yield* Effect.flip(createDeployment(acme.workspace.id, request(tooLarge)));
      expect(error._tag === "ValidationError" && error.violations).toStrictEqual([
        {
          field: "source.build_context_path",
          message: `the archive is ${TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes + 1} bytes, more than the maximum build context size of ${TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes} bytes`,
        },
      ]);
      expect(yield* deploymentsStored).toStrictEqual([]);

      const atLimit = contextKey(acme, "at-limit.tar.gz");
      yield* uploadBuildContext(atLimit, TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes);
      yield* createDeployment(acme.workspace.id, request(atLimit));
      expect((yield* deploymentsStored).length).toBe(1);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "answers WorkflowUnavailable, storing nothing, when build storage cannot be reached",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const storage = yield* BuildStorage;
        const error = yield* Effect.flip(
          createDeployment(acme.workspace.id, {
            projectId: acme.project.id,
            environmentSlug: "production",
            source: { _tag: "BuildContext", buildContextPath: contextKey(acme) },
          }).pipe(
            Effect.provideService(BuildStorage, {
              ...storage,
              stat: () => Effect.fail(new BuildStorageError({ reason: "bucket unreachable" })),
            }),
          ),
        );
        expect(error).toMatchObject({
          _tag: "WorkflowUnavailable",
          reason: "build storage is unavailable: bucket unreachable",
        });
        expect(yield* deploymentsStored).toStrictEqual([]);
        expect(yield* workflowCalls).toStrictEqual([]);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses another project's build context even when it exists", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const foreignKey = contextKey(globex);
      yield* uploadBuildContext(foreignKey);
      const error = yield* Effect.flip(
        createDeployment(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "production",
          source: { _tag: "BuildContext", buildContextPath: foreignKey },
        }),
      );
      expect(error._tag).toBe("ValidationError");
      expect(error._tag === "ValidationError" && error.violations).toStrictEqual([
        {
          field: "source.build_context_path",
          message: `must be a key under "projects/${acme.project.id}/contexts/" (it belongs to another project or was not made by CreateUploadUrl)`,
        },
      ]);
      expect(yield* deploymentsStored).toStrictEqual([]);
      expect(yield* workflowCalls).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "fails the deployment, never leaving it PENDING, when the workflow engine is down",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        yield* (yield* WorkflowEngineControl).setUnavailable("connection refused", ["startDeploy"]);
        yield* tick;
        const error = yield* Effect.flip(
          createDeployment(acme.workspace.id, {
            projectId: acme.project.id,
            environmentSlug: "production",
            source: image("1"),
          }),
        );
        expect(error).toMatchObject({ _tag: "WorkflowUnavailable", reason: "connection refused" });
        const [deployment, ...others] = yield* deploymentsStored;
        expect(others).toStrictEqual([]);
        expect(deployment).toMatchObject({
          status: "FAILED",
          errorMessage: "the deploy workflow could not be started: connection refused",
          updatedAt: NOW + 1000,
        });
        expect(deployment && "restateInvocationId" in deployment).toBe(false);
        expect(yield* workflowCalls).toHaveLength(1);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("frees the idempotency key of a deployment whose workflow could not start", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const control = yield* WorkflowEngineControl;
      const request = {
        projectId: acme.project.id,
        environmentSlug: "production",
        source: image("1"),
        idempotencyKey: "retry-me",
      };
      yield* control.setUnavailable("connection refused", ["startDeploy"]);
      yield* Effect.flip(createDeployment(acme.workspace.id, request));
      yield* control.setUnavailable(undefined, ["startDeploy"]);
      yield* tick;
      // The client was told Unavailable, "retry with the same key": the retry must deploy.
      const retry = yield* createDeployment(acme.workspace.id, request);
      expect(retry).toMatchObject({ status: "PENDING", created: true });
      const [failed, fresh] = yield* deploymentsStored;
      expect(failed).toMatchObject({ status: "FAILED" });
      expect(failed && "idempotencyKey" in failed).toBe(false);
      expect(fresh).toMatchObject({ id: retry.deploymentId, idempotencyKey: "retry-me" });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("fails the deployment and frees its key when the send dies unexpectedly", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const engine = yield* WorkflowEngine;
      const dying = WorkflowEngine.of({
        ...engine,
        startDeploy: () => Effect.die(new Error("ingress answered 403 Forbidden")),
      });
      const exit = yield* Effect.exit(
        createDeployment(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "production",
          source: image("1"),
          idempotencyKey: "dies-once",
        }).pipe(Effect.provideService(WorkflowEngine, dying)),
      );
      expect(exit._tag).toBe("Failure");
      const [deployment, ...others] = yield* deploymentsStored;
      expect(others).toStrictEqual([]);
      expect(deployment).toMatchObject({
        status: "FAILED",
        errorMessage: "the deploy workflow could not be started: unexpected error",
      });
      expect(deployment && "idempotencyKey" in deployment).toBe(false);
    }).pipe(Effect.provide(TestLayer)),
  );

  describe("idempotency key", () => {
    const request = (projectId: string, overrides: Record<string, unknown> = {}) => ({
      projectId,
      environmentSlug: "production",
      source: image("1"),
      idempotencyKey: "release-42",
      ...overrides,
    });

    it.effect("returns the first deployment on a repeat, storing and starting nothing", () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const first = yield* createDeployment(acme.workspace.id, request(acme.project.id));
        yield* tick;
        const second = yield* createDeployment(acme.workspace.id, request(acme.project.id));
        expect(first.created).toBe(true);
        expect(second).toStrictEqual({
          deploymentId: first.deploymentId,
          status: "PENDING",
          created: false,
        });
        expect((yield* deploymentsStored).map((d) => d.id)).toStrictEqual([first.deploymentId]);
        expect(yield* workflowCalls).toHaveLength(1);
      }).pipe(Effect.provide(TestLayer)),
    );

    it.effect("refuses the same key for a different source, environment or project", () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const ids = yield* Ids;
        const docs = {
          id: yield* ids.next("project"),
          workspaceId: acme.workspace.id,
          name: "docs",
          slug: "docs",
          settings: DEFAULT_PROJECT_SETTINGS,
          rolledBack: false,
          createdAt: NOW,
          updatedAt: NOW,
        };
        const docsProduction = {
          id: yield* ids.next("environment"),
          workspaceId: acme.workspace.id,
          projectId: docs.id,
          slug: "production",
          kind: "PRODUCTION" as const,
          createdAt: NOW,
        };
        yield* (yield* ProjectRepository).create(docs, [docsProduction]);
        const first = yield* createDeployment(acme.workspace.id, request(acme.project.id));

        for (const different of [
          request(acme.project.id, { source: image("2") }),
          request(acme.project.id, { environmentSlug: "preview" }),
          request(docs.id),
        ]) {
          const error = yield* Effect.flip(createDeployment(acme.workspace.id, different));
          expect(error._tag).toBe("ValidationError");
          expect(error._tag === "ValidationError" && error.violations).toStrictEqual([
            {
              field: "idempotency_key",
              message: `was already used for deployment ${first.deploymentId} with a different project, environment or source; use a new key`,
            },
          ]);
        }
        expect(yield* deploymentsStored).toHaveLength(1);
        expect(yield* workflowCalls).toHaveLength(1);
      }).pipe(Effect.provide(TestLayer)),
    );

    it.effect("is scoped to the workspace", () =>
      Effect.gen(function* () {
        const { acme, globex } = yield* seed;
        const a = yield* createDeployment(acme.workspace.id, request(acme.project.id));
        const b = yield* createDeployment(globex.workspace.id, request(globex.project.id));
        expect(a.created && b.created).toBe(true);
        expect(a.deploymentId).not.toBe(b.deploymentId);
        expect(yield* deploymentsStored).toHaveLength(2);
      }).pipe(Effect.provide(TestLayer)),
    );

    it.effect(
      "lets exactly one of several concurrent duplicates create and start a deployment",
      () =>
        Effect.gen(function* () {
          const { acme } = yield* seed;
          const results = yield* Effect.all(
            Array.from({ length: 5 }, () =>
              createDeployment(acme.workspace.id, request(acme.project.id)),
            ),
            { concurrency: "unbounded" },
          );
          const stored = yield* deploymentsStored;
          expect(stored).toHaveLength(1);
          const id = stored[0]?.id;
          expect(results.map((r) => r.deploymentId)).toStrictEqual(Array(5).fill(id));
          expect(results.filter((r) => r.created)).toHaveLength(1);
          const calls = yield* workflowCalls;
          expect(calls).toHaveLength(1);
          expect(calls[0]).toMatchObject({ _tag: "startDeploy", operation: { deploymentId: id } });
          const deployment = yield* (yield* DeploymentRepository).findById(
            acme.workspace.id,
            id ?? ("" as never),
          );
          expect(Option.map(deployment, (d) => d.restateInvocationId)).toStrictEqual(
            Option.some("inv_1"),
          );
        }).pipe(Effect.provide(TestLayer)),
    );
  });
});
