import { describe, expect, it } from "@effect/vitest";
import { Effect } from "effect";
import {
  DeploymentRepository,
  getDeployment,
  Ids,
  idSuffix,
  RouteRepository,
} from "../../src/index.ts";
import { becomeReady, deployImage, NOW, seed, TestLayer, tick } from "./fixtures.ts";

describe("getDeployment", () => {
  it.effect("returns the deployment with its steps and its routes", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");
      const deployments = yield* DeploymentRepository;
      const ids = yield* Ids;
      const deployingStep = yield* ids.next("step");
      yield* deployments.startStep({
        id: deployingStep,
        deploymentId: id,
        name: "DEPLOYING",
        at: NOW + 2000,
      });
      yield* deployments.finishStep({
        deploymentId: id,
        name: "DEPLOYING",
        status: "SUCCEEDED",
        at: NOW + 3000,
      });
      const networkStep = yield* ids.next("step");
      yield* deployments.startStep({
        id: networkStep,
        deploymentId: id,
        name: "NETWORK",
        at: NOW + 3000,
      });
      yield* tick;
      yield* becomeReady(acme, id);

      const view = yield* getDeployment(acme.workspace.id, { deploymentId: id });
      expect(view.deployment).toMatchObject({
        id,
        status: "READY",
        source: { _tag: "DockerImage", image: "localhost/web:1" },
        createdAt: NOW + 1000,
        updatedAt: NOW + 2000,
      });
      expect(view.steps).toStrictEqual([
        {
          id: deployingStep,
          deploymentId: id,
          name: "DEPLOYING",
          status: "SUCCEEDED",
          startedAt: NOW + 2000,
          endedAt: NOW + 3000,
        },
        {
          id: networkStep,
          deploymentId: id,
          name: "NETWORK",
          status: "RUNNING",
          startedAt: NOW + 3000,
        },
      ]);
      const route = (hostname: string, kind: string) => ({
        id: expect.stringMatching(/^rt_[0-9a-z]{26}$/),
        workspaceId: acme.workspace.id,
        projectId: acme.project.id,
        environmentId: acme.production.id,
        deploymentId: id,
        hostname,
        kind,
        createdAt: NOW + 2000,
        updatedAt: NOW + 2000,
      });
      expect(view.routes).toStrictEqual([
        route(`web-${idSuffix(id)}.ferry.test`, "DEPLOYMENT"),
        route("web--production--acme.ferry.test", "ENVIRONMENT"),
        route("web--acme.ferry.test", "LIVE"),
      ]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers NotFound for another workspace's deployment and for an unknown one", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const foreign = yield* deployImage(globex, "localhost/api:1");
      expect(
        yield* Effect.flip(getDeployment(acme.workspace.id, { deploymentId: foreign })),
      ).toMatchObject({
        _tag: "NotFound",
        resource: "deployment",
        id: foreign,
      });
      const unknown = yield* (yield* Ids).next("deployment");
      expect(
        yield* Effect.flip(getDeployment(acme.workspace.id, { deploymentId: unknown })),
      ).toMatchObject({
        _tag: "NotFound",
        resource: "deployment",
        id: unknown,
      });
      // The owner sees it.
      const own = yield* getDeployment(globex.workspace.id, { deploymentId: foreign });
      expect(own.deployment.id).toBe(foreign);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers ValidationError for a malformed or missing id", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      for (const [deploymentId, message] of [
        [
          "prj_01jx0000000000000000000000",
          '"prj_01jx0000000000000000000000" is not a well-formed id for this field',
        ],
        ["dep_nope", '"dep_nope" is not a well-formed id for this field'],
        ["", "is required"],
      ] as const) {
        const error = yield* Effect.flip(getDeployment(acme.workspace.id, { deploymentId }));
        expect(error._tag).toBe("ValidationError");
        expect(error._tag === "ValidationError" && error.violations).toStrictEqual([
          { field: "deployment_id", message },
        ]);
      }
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("still succeeds, with no routes, when the route lookup dies", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");
      yield* becomeReady(acme, id);
      const routes = yield* RouteRepository;
      const view = yield* getDeployment(acme.workspace.id, { deploymentId: id }).pipe(
        Effect.provideService(RouteRepository, {
          ...routes,
          listByDeployment: () => Effect.dieMessage("connection to the routes table lost"),
        }),
      );
      expect(view.deployment.id).toBe(id);
      expect(view.routes).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );
});
