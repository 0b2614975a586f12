import { describe, expect, it } from "@effect/vitest";
import { Effect, Option } from "effect";
import {
  cancelDeployment,
  type DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  Ids,
  WorkflowEngine,
} from "../../src/index.ts";
import { WorkflowEngineControl } from "../../src/testing/index.ts";
import { deployImage, NOW, seed, type Tenant, TestLayer, tick } from "./fixtures.ts";

const statusOf = (tenant: Tenant, id: DeploymentId) =>
  Effect.flatMap(DeploymentRepository, (deployments) =>
    deployments.findById(tenant.workspace.id, id),
  ).pipe(Effect.map((found) => Option.getOrThrow(found).status));

const cancelCalls = Effect.flatMap(WorkflowEngineControl, (control) => control.calls).pipe(
  Effect.map((calls) => calls.filter((call) => call._tag === "cancel")),
);

/** Walks a deployment through the given statuses, as the workflow would. */
const walk = (id: DeploymentId, path: ReadonlyArray<DeploymentStatus>) =>
  walkFrom(id, "PENDING", path);

const walkFrom = (
  id: DeploymentId,
  start: DeploymentStatus,
  path: ReadonlyArray<DeploymentStatus>,
) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    let from: DeploymentStatus = start;
    for (const to of path) {
      const changed = yield* deployments.updateStatus(id, { from: [from], to, at: NOW + 5000 });
      if (Option.isNone(changed)) return yield* Effect.dieMessage(`${id} was not ${from}`);
      from = to;
    }
  });

describe("cancelDeployment", () => {
  it.effect("cancels a queued deployment: the invocation is cancelled and it is CANCELLED", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");
      yield* tick;

      const result = yield* cancelDeployment(acme.workspace.id, { deploymentId: id });

      expect(result).toStrictEqual({ deploymentId: id, status: "CANCELLED", changed: true });
      expect(yield* statusOf(acme, id)).toBe("CANCELLED");
      expect(yield* cancelCalls).toStrictEqual([{ _tag: "cancel", invocationId: "inv_1" }]);
      const stored = yield* (yield* DeploymentRepository).findById(acme.workspace.id, id);
      expect(Option.getOrThrow(stored).updatedAt).toBe(NOW + 2000);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("marks a PENDING deployment without an invocation CANCELLED without the engine", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const control = yield* WorkflowEngineControl;
      // A deployment stored PENDING whose invocation id was never recorded (a crash between
      // the store and the start): a copy of a real one, without its invocation.
      const id = yield* deployImage(acme, "localhost/web:1");
      const deployments = yield* DeploymentRepository;
      const stored = Option.getOrThrow(yield* deployments.findById(acme.workspace.id, id));
      const { restateInvocationId: _, ...withoutInvocation } = stored;
      const orphan = yield* (yield* Ids).next("deployment");
      yield* deployments.create({ ...withoutInvocation, id: orphan });
      yield* control.setUnavailable("engine down", ["cancel"]);

      const result = yield* cancelDeployment(acme.workspace.id, { deploymentId: orphan });

      expect(result).toStrictEqual({ deploymentId: orphan, status: "CANCELLED", changed: true });
      expect(yield* statusOf(acme, orphan)).toBe("CANCELLED");
      expect(yield* cancelCalls).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("cancels the invocation of a running deployment and leaves the status to it", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");
      yield* walk(id, ["DEPLOYING"]);

      const result = yield* cancelDeployment(acme.workspace.id, { deploymentId: id });

      expect(result).toStrictEqual({ deploymentId: id, status: "CANCELLED", changed: true });
      expect(yield* cancelCalls).toStrictEqual([{ _tag: "cancel", invocationId: "inv_1" }]);
      // The workflow's compensation records CANCELLED; nothing here raced it.
      expect(yield* statusOf(acme, id)).toBe("DEPLOYING");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "records CANCELLED and ends the running step when the engine no longer has the invocation",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const id = yield* deployImage(acme, "localhost/web:1");
        const deployments = yield* DeploymentRepository;
        yield* walk(id, ["BUILDING", "DEPLOYING"]);
        const stepId = yield* (yield* Ids).next("step");
        yield* deployments.startStep({ id: stepId, deploymentId: id, name: "DEPLOYING", at: NOW });
        // The workflow ended without recording an end (killed, purged): Restate answers 404/409.
        yield* (yield* WorkflowEngineControl).endInvocation("inv_1");
        yield* tick;

        const result = yield* cancelDeployment(acme.workspace.id, { deploymentId: id });

        expect(result).toStrictEqual({ deploymentId: id, status: "CANCELLED", changed: true });
        expect(yield* cancelCalls).toStrictEqual([{ _tag: "cancel", invocationId: "inv_1" }]);
        const stored = Option.getOrThrow(yield* deployments.findById(acme.workspace.id, id));
        expect(stored).toMatchObject({
          status: "CANCELLED",
          errorMessage: "the deployment was cancelled",
        });
        const steps = yield* deployments.listSteps(id);
        expect(steps.map((s) => [s.name, s.status, s.message])).toStrictEqual([
          ["DEPLOYING", "CANCELLED", "the deployment was cancelled"],
        ]);
        // A repeat is the documented no-op, and calls the engine no more.
        expect(yield* cancelDeployment(acme.workspace.id, { deploymentId: id })).toStrictEqual({
          deploymentId: id,
          status: "CANCELLED",
          changed: false,
        });
        expect(yield* cancelCalls).toHaveLength(1);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "answers with the terminal state the deployment reached when its invocation is gone",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const id = yield* deployImage(acme, "localhost/web:1");
        yield* walk(id, ["DEPLOYING"]);
        const engine = yield* WorkflowEngine;
        // The workflow finished (READY) right before the cancel reached Restate: 409, gone.
        const repositories = yield* Effect.context<DeploymentRepository>();
        const finish = walkFrom(id, "DEPLOYING", ["NETWORK", "READY"]).pipe(
          Effect.provide(repositories),
        );
        const racing = WorkflowEngine.of({
          ...engine,
          cancel: () => finish.pipe(Effect.as("gone" as const)),
        });

        const error = yield* Effect.flip(
          cancelDeployment(acme.workspace.id, { deploymentId: id }).pipe(
            Effect.provideService(WorkflowEngine, racing),
          ),
        );

        expect(error).toMatchObject({
          _tag: "PreconditionFailed",
          reason: `deployment ${id} is READY and cannot be cancelled; take it out of service by promoting or rolling back to another deployment`,
        });
        expect(yield* statusOf(acme, id)).toBe("READY");

        // And one whose compensation recorded CANCELLED meanwhile: CANCELLED, as is.
        const other = yield* deployImage(acme, "localhost/web:2");
        yield* walk(other, ["DEPLOYING"]);
        const compensated = walkFrom(other, "DEPLOYING", ["CANCELLED"]).pipe(
          Effect.provide(repositories),
        );
        const result = yield* cancelDeployment(acme.workspace.id, { deploymentId: other }).pipe(
          Effect.provideService(
            WorkflowEngine,
            WorkflowEngine.of({
              ...engine,
              cancel: () => compensated.pipe(Effect.as("gone" as const)),
            }),
          ),
        );
        expect(result).toStrictEqual({ deploymentId: other, status: "CANCELLED", changed: true });
        const stored = yield* (yield* DeploymentRepository).findById(acme.workspace.id, other);
        // The workflow's own record stands: no second write over it.
        expect(Option.getOrThrow(stored).errorMessage).toBeUndefined();
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("is a successful no-op on a CANCELLED deployment", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");
      yield* cancelDeployment(acme.workspace.id, { deploymentId: id });

      const again = yield* cancelDeployment(acme.workspace.id, { deploymentId: id });

      expect(again).toStrictEqual({ deploymentId: id, status: "CANCELLED", changed: false });
      expect(yield* cancelCalls).toHaveLength(1);
    }).pipe(Effect.provide(TestLayer)),
  );

  for (const [status, path, message] of [
    [
      "READY",
      ["DEPLOYING", "NETWORK", "READY"],
      "is READY and cannot be cancelled; take it out of service by promoting or rolling back to another deployment",
    ],
    ["FAILED", ["FAILED"], "is already FAILED and cannot be cancelled"],
    ["SUPERSEDED", ["SUPERSEDED"], "is already SUPERSEDED and cannot be cancelled"],
  ] as const) {
    it.effect(`refuses a ${status} deployment with PreconditionFailed`, () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const id = yield* deployImage(acme, "localhost/web:1");
        yield* walk(id, path);

        const error = yield* Effect.flip(cancelDeployment(acme.workspace.id, { deploymentId: id }));

        expect(error._tag).toBe("PreconditionFailed");
        expect(error.message).toBe(`deployment ${id} ${message}`);
        expect(yield* statusOf(acme, id)).toBe(status);
        expect(yield* cancelCalls).toStrictEqual([]);
      }).pipe(Effect.provide(TestLayer)),
    );
  }

  it.effect("answers NotFound for another workspace's deployment and changes nothing", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");

      const error = yield* Effect.flip(cancelDeployment(globex.workspace.id, { deploymentId: id }));

      expect(error._tag).toBe("NotFound");
      expect(error.message).toBe(`deployment "${id}" not found`);
      expect(yield* statusOf(acme, id)).toBe("PENDING");
      expect(yield* cancelCalls).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("rejects an empty or malformed id with the field named", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const empty = yield* Effect.flip(cancelDeployment(acme.workspace.id, { deploymentId: "" }));
      expect(empty.message).toBe("deployment_id: is required");
      const malformed = yield* Effect.flip(
        cancelDeployment(acme.workspace.id, { deploymentId: "prj_x" }),
      );
      expect(malformed._tag).toBe("ValidationError");
      expect(malformed.message).toBe(
        'deployment_id: "prj_x" is not a well-formed id for this field',
      );
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "fails with WorkflowUnavailable, leaving the deployment PENDING, when the engine is down",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const id = yield* deployImage(acme, "localhost/web:1");
        yield* (yield* WorkflowEngineControl).setUnavailable("restate is down", ["cancel"]);

        const error = yield* Effect.flip(cancelDeployment(acme.workspace.id, { deploymentId: id }));

        expect(error._tag).toBe("WorkflowUnavailable");
        expect(error.message).toBe("restate is down");
        expect(yield* statusOf(acme, id)).toBe("PENDING");
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "decides again when the workflow starts the deployment while it is being cancelled",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const id = yield* deployImage(acme, "localhost/web:1");
        const engine = yield* WorkflowEngine;
        // The workflow picks the deployment up right as its invocation is cancelled.
        const repositories = yield* Effect.context<DeploymentRepository>();
        const moveOn = walk(id, ["DEPLOYING"]).pipe(Effect.provide(repositories));
        const racing = WorkflowEngine.of({
          ...engine,
          cancel: (invocationId) => engine.cancel(invocationId).pipe(Effect.zipLeft(moveOn)),
        });

        const result = yield* cancelDeployment(acme.workspace.id, { deploymentId: id }).pipe(
          Effect.provideService(WorkflowEngine, racing),
        );

        expect(result).toStrictEqual({ deploymentId: id, status: "CANCELLED", changed: true });
        expect(yield* cancelCalls).toHaveLength(1);
        expect(yield* statusOf(acme, id)).toBe("DEPLOYING");
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses when a newer deployment superseded it while it was being cancelled", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const id = yield* deployImage(acme, "localhost/web:1");
      const engine = yield* WorkflowEngine;
      // A newer deployment supersedes it right as its invocation is cancelled.
      const repositories = yield* Effect.context<DeploymentRepository>();
      const moveOn = walk(id, ["SUPERSEDED"]).pipe(Effect.provide(repositories));
      const racing = WorkflowEngine.of({
        ...engine,
        cancel: (invocationId) => engine.cancel(invocationId).pipe(Effect.zipLeft(moveOn)),
      });

      const error = yield* Effect.flip(
        cancelDeployment(acme.workspace.id, { deploymentId: id }).pipe(
          Effect.provideService(WorkflowEngine, racing),
        ),
      );

      expect(error._tag).toBe("PreconditionFailed");
      expect(yield* statusOf(acme, id)).toBe("SUPERSEDED");
    }).pipe(Effect.provide(TestLayer)),
  );
});
