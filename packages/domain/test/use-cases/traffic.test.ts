import { describe, expect, it } from "@effect/vitest";
import { Effect } from "effect";
import {
  applyPromote,
  applyRollback,
  createDeployment,
  DEFAULT_PROJECT_SETTINGS,
  type DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  type EnvironmentRepository,
  Ids,
  idSuffix,
  type Platform,
  type Project,
  ProjectRepository,
  promote,
  RouteRepository,
  rollback,
  type WorkflowUnavailable,
} from "../../src/index.ts";
import { WorkflowEngineControl } from "../../src/testing/index.ts";
import {
  becomeReady,
  currentProject,
  deployImage,
  NOW,
  seed,
  stored,
  type Tenant,
  TestLayer,
  tick,
} from "./fixtures.ts";

const LIVE = "web--acme.ferry.test";
/** The key promote and rollback generate when the client sent none. */
const GENERATED_KEY = /^ferry-[0-9a-z]{26}$/;
const ENV = "web--production--acme.ferry.test";
const own = (id: string) => `web-${idSuffix(id)}.ferry.test`;

/** Every hostname and the deployment it points at. */
const routing = Effect.map(stored, (data) =>
  Object.fromEntries([...data.routes.values()].map((r) => [r.hostname, r.deploymentId])),
);
const workflowCalls = Effect.flatMap(WorkflowEngineControl, (control) => control.calls);
const callTags = Effect.map(workflowCalls, (calls) => calls.map((c) => c._tag));

/** v1 then v2, each READY and live in turn: v2 serves, v1 is an earlier READY deployment. */
const twoReleases = Effect.gen(function* () {
  const world = yield* seed;
  const v1 = yield* deployImage(world.acme, "localhost/web:1");
  yield* becomeReady(world.acme, v1);
  const v2 = yield* deployImage(world.acme, "localhost/web:2");
  yield* becomeReady(world.acme, v2);
  yield* tick;
  return { ...world, v1, v2 };
});

const deployPreview = (tenant: Tenant, tag: string) =>
  Effect.gen(function* () {
    yield* tick;
    const { deploymentId } = yield* createDeployment(tenant.workspace.id, {
      projectId: tenant.project.id,
      environmentSlug: "preview",
      source: { _tag: "DockerImage", image: `localhost/web:${tag}` },
    });
    yield* becomeReady(tenant, deploymentId);
    return deploymentId;
  });

const walk = (id: DeploymentId, ...path: ReadonlyArray<DeploymentStatus>) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    let from: DeploymentStatus = "PENDING";
    for (const to of path) {
      yield* deployments.updateStatus(id, { from: [from], to, at: NOW });
      from = to;
    }
  });

const preconditionFailure = (error: { readonly _tag: string; readonly message: string }) => ({
  _tag: error._tag,
  reason: error.message,
});
const refused = (reason: string) => ({ _tag: "PreconditionFailed", reason });

describe("promote and rollback: the product scenario", () => {
  it.effect(
    "rollback pins, a new READY deployment stays off live, promote unpins, promote again changes nothing",
    () =>
      Effect.gen(function* () {
        const { acme, v1, v2 } = yield* twoReleases;
        expect(yield* routing).toStrictEqual({
          [LIVE]: v2,
          [ENV]: v2,
          [own(v1)]: v1,
          [own(v2)]: v2,
        });
        expect(yield* currentProject(acme)).toMatchObject({
          liveDeploymentId: v2,
          rolledBack: false,
        });

        // Roll back v2 → v1: live and environment hostnames move, the project is pinned.
        const rolledBack = yield* rollback(acme.workspace.id, {
          sourceDeploymentId: v2,
          targetDeploymentId: v1,
        });
        expect(rolledBack).toStrictEqual({ liveDeploymentId: v1, rolledBack: true, changed: true });
        expect(yield* currentProject(acme)).toMatchObject({
          liveDeploymentId: v1,
          rolledBack: true,
          updatedAt: NOW + 3000,
        });
        expect(yield* routing).toStrictEqual({
          [LIVE]: v1,
          [ENV]: v1,
          [own(v1)]: v1,
          [own(v2)]: v2,
        });

        // v3 becomes READY while pinned: its own hostname only.
        const v3 = yield* deployImage(acme, "localhost/web:3");
        expect(yield* becomeReady(acme, v3)).toBe(false);
        expect(yield* currentProject(acme)).toMatchObject({
          liveDeploymentId: v1,
          rolledBack: true,
        });
        expect(yield* routing).toStrictEqual({
          [LIVE]: v1,
          [ENV]: v1,
          [own(v1)]: v1,
          [own(v2)]: v2,
          [own(v3)]: v3,
        });

        // Promote v3: it takes the live hostnames and the pin is cleared.
        yield* tick;
        const promoted = yield* promote(acme.workspace.id, { targetDeploymentId: v3 });
        expect(promoted).toStrictEqual({ liveDeploymentId: v3, rolledBack: false, changed: true });
        expect(yield* currentProject(acme)).toMatchObject({
          liveDeploymentId: v3,
          rolledBack: false,
          updatedAt: NOW + 5000,
        });
        const afterPromote = {
          [LIVE]: v3,
          [ENV]: v3,
          [own(v1)]: v1,
          [own(v2)]: v2,
          [own(v3)]: v3,
        };
        expect(yield* routing).toStrictEqual(afterPromote);

        // Promote v3 again: already live and unpinned, so nothing moves or is rewritten.
        const before = yield* stored;
        yield* tick;
        const again = yield* promote(acme.workspace.id, { targetDeploymentId: v3 });
        expect(again).toStrictEqual({ liveDeploymentId: v3, rolledBack: false, changed: false });
        expect(yield* stored).toStrictEqual(before);

        expect(yield* callTags).toStrictEqual([
          "startDeploy",
          "startDeploy",
          "rollback",
          "startDeploy",
          "promote",
          "promote",
        ]);
        expect((yield* workflowCalls)[2]).toStrictEqual({
          _tag: "rollback",
          operation: {
            workspaceId: acme.workspace.id,
            projectId: acme.project.id,
            sourceDeploymentId: v2,
            targetDeploymentId: v1,
            // Generated: the call had no key (see "attaches a retry ..." below).
            idempotencyKey: expect.stringMatching(GENERATED_KEY),
          },
        });
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("moves the existing live and environment routes instead of recreating them", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      const routes = yield* RouteRepository;
      const liveBefore = yield* routes.findByHostname(LIVE);
      yield* rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 });
      const liveAfter = yield* routes.findByHostname(LIVE);
      expect(liveAfter).toStrictEqual(
        liveBefore.pipe((o) =>
          o._tag === "Some"
            ? { ...o, value: { ...o.value, deploymentId: v1, updatedAt: NOW + 3000 } }
            : o,
        ),
      );
      expect((yield* routes.listByDeployment(v1)).map((r) => [r.hostname, r.kind])).toStrictEqual([
        [own(v1), "DEPLOYMENT"],
        [ENV, "ENVIRONMENT"],
        [LIVE, "LIVE"],
      ]);
      expect((yield* routes.listByDeployment(v2)).map((r) => r.hostname)).toStrictEqual([own(v2)]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("repeating a rollback that already happened succeeds and changes nothing", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      const request = { sourceDeploymentId: v2, targetDeploymentId: v1 };
      yield* rollback(acme.workspace.id, request);
      const before = yield* stored;
      yield* tick;
      expect(yield* rollback(acme.workspace.id, request)).toStrictEqual({
        liveDeploymentId: v1,
        rolledBack: true,
        changed: false,
      });
      expect(yield* stored).toStrictEqual(before);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("promoting the live deployment of a pinned project only clears the pin", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      yield* rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 });
      const routesBefore = (yield* stored).routes;
      yield* tick;
      expect(yield* promote(acme.workspace.id, { targetDeploymentId: v1 })).toStrictEqual({
        liveDeploymentId: v1,
        rolledBack: false,
        changed: true,
      });
      expect(yield* currentProject(acme)).toMatchObject({
        liveDeploymentId: v1,
        rolledBack: false,
        updatedAt: NOW + 4000,
      });
      expect((yield* stored).routes).toStrictEqual(routesBefore);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("promoting the live deployment of an unpinned project changes nothing", () =>
    Effect.gen(function* () {
      const { acme, v2 } = yield* twoReleases;
      const before = yield* stored;
      expect(yield* promote(acme.workspace.id, { targetDeploymentId: v2 })).toStrictEqual({
        liveDeploymentId: v2,
        rolledBack: false,
        changed: false,
      });
      expect(yield* stored).toStrictEqual(before);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("passes the idempotency key to the workflow engine", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      yield* rollback(acme.workspace.id, {
        sourceDeploymentId: v2,
        targetDeploymentId: v1,
        idempotencyKey: "rollback-7",
      });
      yield* promote(acme.workspace.id, { targetDeploymentId: v2, idempotencyKey: "promote-7" });
      const calls = yield* workflowCalls;
      expect(
        calls.slice(-2).map((c) => "operation" in c && c.operation.idempotencyKey),
      ).toStrictEqual(["rollback-7", "promote-7"]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("reports WorkflowUnavailable and moves nothing when the engine is down", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      yield* (yield* WorkflowEngineControl).setUnavailable("restate is restarting");
      const before = yield* stored;
      for (const call of [
        promote(acme.workspace.id, { targetDeploymentId: v1 }),
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 }),
      ]) {
        const error = yield* Effect.flip(call);
        expect(error).toMatchObject({
          _tag: "WorkflowUnavailable",
          idempotencyKey: expect.stringMatching(GENERATED_KEY),
        });
        expect(error.message).toBe(
          `restate is restarting; retry with idempotency_key=${(error as WorkflowUnavailable).idempotencyKey} to attach to the operation if it was queued, instead of queuing a second one`,
        );
      }
      expect(yield* stored).toStrictEqual(before);
      // A client's own key is in the error too, and its message is the engine's.
      const keyed = yield* Effect.flip(
        promote(acme.workspace.id, { targetDeploymentId: v1, idempotencyKey: "mine-1" }),
      );
      expect(keyed).toMatchObject({ reason: "restate is restarting", idempotencyKey: "mine-1" });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "attaches a retry with the key from the Unavailable answer to the operation that still ran",
    () =>
      Effect.gen(function* () {
        const { acme, v1, v2 } = yield* twoReleases;
        const control = yield* WorkflowEngineControl;
        // The rollback waits in the queue past the deadline; Restate still runs it.
        yield* control.setTimingOut("did not answer within 60000 ms");
        const error = yield* Effect.flip(
          rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 }),
        );
        expect(error._tag).toBe("WorkflowUnavailable");
        const key = (error as WorkflowUnavailable).idempotencyKey ?? "";
        expect(key).toMatch(GENERATED_KEY);
        expect(error.message).toContain(`retry with idempotency_key=${key}`);
        const afterFirst = yield* stored;
        expect(afterFirst.projects.get(acme.project.id)?.liveDeploymentId).toBe(v1);

        // The retry the message asks for answers the first operation's result, and runs
        // nothing again: a second run would answer changed = false.
        yield* control.setTimingOut(undefined);
        const retried = yield* rollback(acme.workspace.id, {
          sourceDeploymentId: v2,
          targetDeploymentId: v1,
          idempotencyKey: key,
        });
        expect(retried).toStrictEqual({ liveDeploymentId: v1, rolledBack: true, changed: true });
        expect(yield* stored).toStrictEqual(afterFirst);
        const keys = (yield* workflowCalls)
          .filter((c) => c._tag === "rollback")
          .map((c) => ("operation" in c ? c.operation.idempotencyKey : undefined));
        expect(keys).toStrictEqual([key, key]);

        // Two calls without a key are two operations: each gets its own key.
        yield* promote(acme.workspace.id, { targetDeploymentId: v2 });
        yield* promote(acme.workspace.id, { targetDeploymentId: v2 });
        const promoteKeys = (yield* workflowCalls)
          .filter((c) => c._tag === "promote")
          .map((c) => ("operation" in c ? c.operation.idempotencyKey : undefined));
        expect(new Set(promoteKeys).size).toBe(2);
      }).pipe(Effect.provide(TestLayer)),
  );
});

describe("promote and rollback: preconditions", () => {
  it.effect("refuses to promote a deployment that is not READY", () =>
    Effect.gen(function* () {
      const { acme } = yield* twoReleases;
      const pending = yield* deployImage(acme, "localhost/web:3");
      const failed = yield* deployImage(acme, "localhost/web:4");
      yield* walk(failed, "FAILED");
      const before = yield* routing;
      for (const [id, status] of [
        [pending, "PENDING"],
        [failed, "FAILED"],
      ] as const) {
        const error = yield* Effect.flip(promote(acme.workspace.id, { targetDeploymentId: id }));
        expect(preconditionFailure(error)).toStrictEqual(
          refused(`target deployment ${id} is ${status}; only a READY deployment can take traffic`),
        );
      }
      expect(yield* routing).toStrictEqual(before);
      // Decided inside the workflow (the status may change while the call waits), not at the edge.
      expect((yield* callTags).filter((t) => t === "promote")).toHaveLength(2);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses to promote a preview deployment, at the edge", () =>
    Effect.gen(function* () {
      const { acme } = yield* twoReleases;
      const preview = yield* deployPreview(acme, "pr-1");
      const error = yield* Effect.flip(promote(acme.workspace.id, { targetDeploymentId: preview }));
      expect(preconditionFailure(error)).toStrictEqual(
        refused(
          `target deployment ${preview} is not a production deployment; only production deployments can be promoted or rolled back to`,
        ),
      );
      expect(yield* callTags).not.toContain("promote");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback whose source is not live", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v1, targetDeploymentId: v2 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source deployment ${v1} is not live; the live deployment is ${v2}`),
      );
      expect(yield* currentProject(acme)).toMatchObject({
        liveDeploymentId: v2,
        rolledBack: false,
      });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback when the project has no live deployment", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const v1 = yield* deployImage(acme, "localhost/web:1");
      const v2 = yield* deployImage(acme, "localhost/web:2");
      yield* walk(v1, "DEPLOYING", "NETWORK", "READY");
      yield* walk(v2, "DEPLOYING", "NETWORK", "READY");
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source deployment ${v2} is not live; the project has no live deployment`),
      );
      expect(yield* routing).toStrictEqual({});
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback to the same deployment, at the edge", () =>
    Effect.gen(function* () {
      const { acme, v2 } = yield* twoReleases;
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v2 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source and target are the same deployment (${v2}); pick another target`),
      );
      expect(yield* callTags).not.toContain("rollback");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback across environments, at the edge", () =>
    Effect.gen(function* () {
      const { acme, v2 } = yield* twoReleases;
      const preview = yield* deployPreview(acme, "pr-1");
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: preview }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source ${v2} and target ${preview} belong to different environments`),
      );
      expect(yield* callTags).not.toContain("rollback");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback between preview deployments, at the edge", () =>
    Effect.gen(function* () {
      const { acme } = yield* twoReleases;
      const p1 = yield* deployPreview(acme, "pr-1");
      const p2 = yield* deployPreview(acme, "pr-2");
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: p2, targetDeploymentId: p1 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(
          `source deployment ${p2} is not a production deployment; only production deployments can be promoted or rolled back to`,
        ),
      );
      expect(yield* callTags).not.toContain("rollback");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback to a deployment that is not READY", () =>
    Effect.gen(function* () {
      const { acme, v2 } = yield* twoReleases;
      const v3 = yield* deployImage(acme, "localhost/web:3");
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v3 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`target deployment ${v3} is PENDING; only a READY deployment can take traffic`),
      );
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a rollback across projects of the workspace, at the edge", () =>
    Effect.gen(function* () {
      const { acme, v2 } = yield* twoReleases;
      const ids = yield* Ids;
      const docs: Project = {
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
      const docsTenant = { ...acme, project: docs, production: docsProduction };
      const d1 = yield* deployImage(docsTenant, "localhost/docs:1");
      yield* becomeReady(docsTenant, d1);
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: d1 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source ${v2} and target ${d1} belong to different projects`),
      );
      expect(yield* callTags).not.toContain("rollback");
    }).pipe(Effect.provide(TestLayer)),
  );
});

describe("promote and rollback: ids", () => {
  it.effect(
    "answers NotFound for unknown ids and for another workspace's, without calling the workflow",
    () =>
      Effect.gen(function* () {
        const { acme, globex, v1, v2 } = yield* twoReleases;
        const foreign = yield* deployImage(globex, "localhost/api:1");
        yield* becomeReady(globex, foreign);
        const unknown = yield* (yield* Ids).next("deployment");
        const callsBefore = (yield* workflowCalls).length;
        for (const [call, missing] of [
          [promote(acme.workspace.id, { targetDeploymentId: unknown }), unknown],
          [promote(acme.workspace.id, { targetDeploymentId: foreign }), foreign],
          [
            rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: foreign }),
            foreign,
          ],
          [
            rollback(acme.workspace.id, { sourceDeploymentId: foreign, targetDeploymentId: v1 }),
            foreign,
          ],
          [
            rollback(acme.workspace.id, { sourceDeploymentId: unknown, targetDeploymentId: v1 }),
            unknown,
          ],
        ] as const) {
          expect(yield* Effect.flip(call)).toMatchObject({
            _tag: "NotFound",
            resource: "deployment",
            id: missing,
          });
        }
        expect(yield* workflowCalls).toHaveLength(callsBefore);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers ValidationError for malformed ids, naming the field", () =>
    Effect.gen(function* () {
      const { acme, v1 } = yield* twoReleases;
      const violations = (error: { readonly _tag: string }) =>
        "violations" in error ? error.violations : error;
      expect(
        violations(yield* Effect.flip(promote(acme.workspace.id, { targetDeploymentId: "v1" }))),
      ).toStrictEqual([
        { field: "target_deployment_id", message: '"v1" is not a well-formed id for this field' },
      ]);
      expect(
        violations(
          yield* Effect.flip(
            rollback(acme.workspace.id, { sourceDeploymentId: "", targetDeploymentId: v1 }),
          ),
        ),
      ).toStrictEqual([{ field: "source_deployment_id", message: "is required" }]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("applyPromote and applyRollback answer NotFound outside the context's workspace", () =>
    Effect.gen(function* () {
      const { acme, globex, v1, v2 } = yield* twoReleases;
      const foreign = yield* deployImage(globex, "localhost/api:1");
      const context = { workspaceId: acme.workspace.id, projectId: acme.project.id };
      expect(yield* Effect.flip(applyPromote(context, foreign))).toMatchObject({
        _tag: "NotFound",
        resource: "deployment",
        id: foreign,
      });
      expect(yield* Effect.flip(applyRollback(context, v2, foreign))).toMatchObject({
        _tag: "NotFound",
        resource: "deployment",
        id: foreign,
      });
      expect(
        yield* Effect.flip(
          applyPromote({ workspaceId: globex.workspace.id, projectId: acme.project.id }, v1),
        ),
      ).toMatchObject({ _tag: "NotFound", resource: "project", id: acme.project.id });
    }).pipe(Effect.provide(TestLayer)),
  );
});

describe("promote and rollback: decided on the state inside the serialized section", () => {
  it.effect("refuses a queued rollback whose source stopped being live while it waited", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      const v3 = yield* deployImage(acme, "localhost/web:3");
      const services = yield* Effect.context<
        | DeploymentRepository
        | EnvironmentRepository
        | ProjectRepository
        | RouteRepository
        | Platform
      >();
      // While the rollback waits in the queue, v3 becomes READY and takes live traffic.
      yield* (yield* WorkflowEngineControl).beforeNextApply(
        becomeReady(acme, v3).pipe(Effect.asVoid, Effect.provide(services)),
      );
      const error = yield* Effect.flip(
        rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 }),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source deployment ${v2} is not live; the live deployment is ${v3}`),
      );
      expect(yield* currentProject(acme)).toMatchObject({
        liveDeploymentId: v3,
        rolledBack: false,
      });
      expect(yield* routing).toMatchObject({ [LIVE]: v3, [ENV]: v3 });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("promotes a deployment that became READY while the promote waited", () =>
    Effect.gen(function* () {
      const { acme } = yield* twoReleases;
      const v3 = yield* deployImage(acme, "localhost/web:3");
      yield* walk(v3, "DEPLOYING", "NETWORK");
      const deployments = yield* DeploymentRepository;
      yield* (yield* WorkflowEngineControl).beforeNextApply(
        deployments
          .updateStatus(v3, { from: ["NETWORK"], to: "READY", at: NOW })
          .pipe(Effect.asVoid),
      );
      expect(yield* promote(acme.workspace.id, { targetDeploymentId: v3 })).toStrictEqual({
        liveDeploymentId: v3,
        rolledBack: false,
        changed: true,
      });
      expect(yield* routing).toMatchObject({ [LIVE]: v3, [ENV]: v3 });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("a production deploy that finishes after a rollback does not undo the rollback", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      const v3 = yield* deployImage(acme, "localhost/web:3");
      yield* rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 });
      expect(yield* becomeReady(acme, v3)).toBe(false);
      expect(yield* currentProject(acme)).toMatchObject({ liveDeploymentId: v1, rolledBack: true });
      expect(yield* routing).toMatchObject({ [LIVE]: v1, [ENV]: v1, [own(v3)]: v3 });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("applyRollback re-checks liveness: a stale rollback after a promote is refused", () =>
    Effect.gen(function* () {
      const { acme, v1, v2 } = yield* twoReleases;
      const context = { workspaceId: acme.workspace.id, projectId: acme.project.id };
      yield* applyPromote(context, v1);
      const error = yield* Effect.flip(applyRollback(context, v2, v1));
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`source deployment ${v2} is not live; the live deployment is ${v1}`),
      );
      expect(yield* currentProject(acme)).toMatchObject({
        liveDeploymentId: v1,
        rolledBack: false,
      });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("applyPromote refuses a target of another project than the workflow's", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* twoReleases;
      const ids = yield* Ids;
      // A second project in acme's workspace: its workflow must not move acme/web's deployment.
      const other: Project = {
        id: yield* ids.next("project"),
        workspaceId: acme.workspace.id,
        name: "docs",
        slug: "docs",
        settings: DEFAULT_PROJECT_SETTINGS,
        rolledBack: false,
        createdAt: NOW,
        updatedAt: NOW,
      };
      yield* (yield* ProjectRepository).create(other, []);
      const v1 = (yield* currentProject(acme)).liveDeploymentId ?? ("" as DeploymentId);
      const error = yield* Effect.flip(
        applyPromote({ workspaceId: acme.workspace.id, projectId: other.id }, v1),
      );
      expect(preconditionFailure(error)).toStrictEqual(
        refused(`target deployment ${v1} belongs to another project`),
      );
      expect(globex.project.id).not.toBe(other.id);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "runs concurrent operations on a project one at a time, each on the state the previous left",
    () =>
      Effect.gen(function* () {
        const { acme, v1, v2 } = yield* twoReleases;
        const request = { sourceDeploymentId: v2, targetDeploymentId: v1 };
        const results = yield* Effect.all(
          Array.from({ length: 4 }, () => rollback(acme.workspace.id, request)),
          { concurrency: "unbounded" },
        );
        expect(results.filter((r) => r.changed)).toHaveLength(1);
        expect(new Set(results.map((r) => `${r.liveDeploymentId}/${r.rolledBack}`))).toStrictEqual(
          new Set([`${v1}/true`]),
        );

        // Mixed operations: whatever the order, routes and the live deployment agree.
        const outcomes = yield* Effect.all(
          [
            Effect.either(promote(acme.workspace.id, { targetDeploymentId: v2 })),
            Effect.either(
              rollback(acme.workspace.id, { sourceDeploymentId: v2, targetDeploymentId: v1 }),
            ),
            Effect.either(promote(acme.workspace.id, { targetDeploymentId: v1 })),
          ],
          { concurrency: "unbounded" },
        );
        expect(
          outcomes.every((o) => o._tag === "Right" || o.left._tag === "PreconditionFailed"),
        ).toBe(true);
        const project = yield* currentProject(acme);
        const table = yield* routing;
        expect([table[LIVE], table[ENV]]).toStrictEqual([
          project.liveDeploymentId,
          project.liveDeploymentId,
        ]);
      }).pipe(Effect.provide(TestLayer)),
  );
});
