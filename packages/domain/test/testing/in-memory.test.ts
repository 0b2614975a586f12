/** The in-memory ports keep the promises of the ports' doc comments (the database adapters must too). */
import { describe, expect, it } from "@effect/vitest";
import { Effect, Fiber, Layer, Option } from "effect";
import {
  ApiKeyRepository,
  type Deployment,
  type DeploymentEvent,
  DeploymentEventFeed,
  type DeploymentId,
  DeploymentRepository,
  EnvironmentVariableRepository,
  EventLog,
  type EventQuery,
  Ids,
  type LogLineInput,
  ProjectRepository,
  RouteRepository,
  WorkflowEngine,
  WorkspaceRepository,
} from "../../src/index.ts";
import { makeInMemoryEventLog, WorkflowEngineControl } from "../../src/testing/index.ts";
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

/** The test layer with a log budget of 4 lines. */
const SmallLogsLayer = Layer.merge(
  TestLayer,
  makeInMemoryEventLog({ maxLines: 4, maxBytes: 1024 * 1024 }).pipe(Layer.provide(TestLayer)),
);

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
        // The same slug in another workspace is fine, and listing is by slug in byte order.
        yield* tick;
        const id2 = yield* (yield* Ids).next("project");
        yield* projects.create({ ...globex.project, id: id2, slug: "web" }, []);
        const id3 = yield* (yield* Ids).next("project");
        yield* projects.create({ ...globex.project, id: id3, slug: "a-b" }, []);
        const slugs = (page: { limit: number; afterSlug?: string }) =>
          Effect.map(projects.list(globex.workspace.id, page), (list) => list.map((p) => p.slug));
        expect(yield* slugs({ limit: 10 })).toStrictEqual(["a-b", globex.project.slug, "web"]);
        expect(yield* slugs({ limit: 1, afterSlug: "a-b" })).toStrictEqual([globex.project.slug]);
        expect(yield* slugs({ limit: 10, afterSlug: "web" })).toStrictEqual([]);
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
});

/** The events of a deployment as [seq, what] pairs: easy to compare whole. */
const summary = (events: ReadonlyArray<DeploymentEvent>) =>
  events.map((e) => {
    const body = e.body;
    const what =
      body._tag === "Status"
        ? `status ${body.status}${body.isLive ? " live" : ""}${body.errorMessage === undefined ? "" : ` (${body.errorMessage})`}`
        : body._tag === "Step"
          ? `step ${body.step.name} ${body.step.status}${body.step.message === undefined ? "" : ` (${body.step.message})`}`
          : `log ${body.line.step} ${body.line.stream} ${body.line.text}`;
    return [Number(e.seq), what] as const;
  });

const eventsOf = (id: DeploymentId, query: Partial<EventQuery> = {}) =>
  Effect.flatMap(EventLog, (log) => log.list(id, { afterSeq: 0n, limit: 1000, ...query }));

const line = (text: string, extra: Partial<LogLineInput> = {}): LogLineInput => ({
  step: "BUILDING",
  stream: "STDOUT",
  text,
  at: NOW,
  ...extra,
});

describe("InMemoryEventLog", () => {
  it.effect("the deployment repository writes an event with each change, once", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d = yield* newDeployment(acme);
      const deployments = yield* DeploymentRepository;
      const ids = yield* Ids;
      const stepId = yield* ids.next("step");
      yield* deployments.updateStatus(d.id, { from: ["PENDING"], to: "BUILDING", at: NOW + 1 });
      yield* deployments.startStep({
        id: stepId,
        deploymentId: d.id,
        name: "BUILDING",
        at: NOW + 1,
      });
      // Replays (a workflow step that runs again) change nothing and write nothing.
      yield* deployments.updateStatus(d.id, {
        from: ["PENDING", "BUILDING"],
        to: "BUILDING",
        at: NOW + 2,
      });
      yield* deployments.startStep({
        id: yield* ids.next("step"),
        deploymentId: d.id,
        name: "BUILDING",
        at: NOW + 2,
      });
      yield* deployments.finishStep({
        deploymentId: d.id,
        name: "BUILDING",
        status: "FAILED",
        at: NOW + 3,
        message: "no Dockerfile",
      });
      yield* deployments.finishStep({
        deploymentId: d.id,
        name: "BUILDING",
        status: "FAILED",
        at: NOW + 4,
        message: "no Dockerfile",
      });
      // A compare-and-set that does not apply writes nothing either.
      yield* deployments.updateStatus(d.id, { from: ["NETWORK"], to: "READY", at: NOW + 4 });
      yield* deployments.updateStatus(d.id, {
        from: ["BUILDING"],
        to: "FAILED",
        at: NOW + 5,
        errorMessage: "the build failed: no Dockerfile",
      });
      const events = yield* eventsOf(d.id);
      expect(summary(events)).toStrictEqual([
        [1, "status PENDING"],
        [2, "status BUILDING"],
        [3, "step BUILDING RUNNING"],
        [4, "step BUILDING FAILED (no Dockerfile)"],
        [5, "status FAILED (the build failed: no Dockerfile)"],
      ]);
      expect(events.map((e) => e.at)).toStrictEqual([NOW, NOW + 1, NOW + 1, NOW + 3, NOW + 5]);
      expect(events[3]?.body).toStrictEqual({
        _tag: "Step",
        step: {
          id: stepId,
          deploymentId: d.id,
          name: "BUILDING",
          status: "FAILED",
          startedAt: NOW + 1,
          endedAt: NOW + 3,
          message: "no Dockerfile",
        },
      });
      expect(yield* (yield* EventLog).lastSeq(d.id)).toBe(5n);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("a READY deployment that took the live routes is live in its status event", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const first = yield* deployImage(acme, "localhost/web:1");
      // fixtures' becomeReady sets READY, then points the routes: READY is not live yet.
      yield* becomeReady(acme, first);
      const second = yield* deployImage(acme, "localhost/web:2");
      const deployments = yield* DeploymentRepository;
      for (const [from, to] of [
        ["PENDING", "DEPLOYING"],
        ["DEPLOYING", "NETWORK"],
      ] as const)
        yield* deployments.updateStatus(second, { from: [from], to, at: NOW });
      const project = yield* currentProject(acme);
      yield* (yield* RouteRepository).point({
        workspaceId: acme.workspace.id,
        projectId: project.id,
        environmentId: acme.production.id,
        deploymentId: second,
        routes: [],
        liveTraffic: { rolledBack: false },
        at: NOW,
      });
      yield* deployments.updateStatus(second, { from: ["NETWORK"], to: "READY", at: NOW });
      expect(summary(yield* eventsOf(first)).at(-1)).toStrictEqual([4, "status READY"]);
      expect(summary(yield* eventsOf(second)).at(-1)).toStrictEqual([4, "status READY live"]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("superseding writes a SUPERSEDED event for each deployment it ends", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const older = yield* newDeployment(acme);
      const newer = yield* newDeployment(acme);
      const superseded = yield* (yield* DeploymentRepository).supersedeOlderPending({
        projectId: acme.project.id,
        environmentId: acme.production.id,
        branch: undefined,
        newerThan: newer.id,
        at: NOW + 9,
      });
      expect(superseded).toStrictEqual([older.id]);
      expect(summary(yield* eventsOf(older.id))).toStrictEqual([
        [1, "status PENDING"],
        [2, "status SUPERSEDED"],
      ]);
      expect(summary(yield* eventsOf(newer.id))).toStrictEqual([[1, "status PENDING"]]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "appendLogs: lines interleave with the other events in one sequence per deployment",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const d1 = yield* newDeployment(acme);
        const d2 = yield* newDeployment(acme);
        const log = yield* EventLog;
        const appended = yield* log.appendLogs(d1.id, [
          line("Step 1/2 : FROM scratch"),
          line("oops", { stream: "STDERR", at: NOW + 1 }),
        ]);
        expect(appended).toStrictEqual({ appended: 2, dropped: 0, lastSeq: 3n });
        yield* (yield* DeploymentRepository).updateStatus(d1.id, {
          from: ["PENDING"],
          to: "CANCELLED",
          at: NOW + 2,
        });
        yield* log.appendLogs(d2.id, [line("other")]);
        yield* log.appendLogs(d1.id, [line("late", { step: "DEPLOYING", region: "local-1" })]);
        expect(yield* log.appendLogs(d1.id, [])).toStrictEqual({
          appended: 0,
          dropped: 0,
          lastSeq: 5n,
        });
        const events = yield* eventsOf(d1.id);
        expect(summary(events)).toStrictEqual([
          [1, "status PENDING"],
          [2, "log BUILDING STDOUT Step 1/2 : FROM scratch"],
          [3, "log BUILDING STDERR oops"],
          [4, "status CANCELLED"],
          [5, "log DEPLOYING STDOUT late"],
        ]);
        expect(events[4]?.body).toStrictEqual({
          _tag: "Log",
          line: { step: "DEPLOYING", stream: "STDOUT", region: "local-1", text: "late", at: NOW },
        });
        expect(summary(yield* eventsOf(d2.id))).toStrictEqual([
          [1, "status PENDING"],
          [2, "log BUILDING STDOUT other"],
        ]);
        // Filters: after a cursor, at most `limit`, some kinds, one step's logs.
        expect(summary(yield* eventsOf(d1.id, { afterSeq: 2n, limit: 2 }))).toStrictEqual([
          [3, "log BUILDING STDERR oops"],
          [4, "status CANCELLED"],
        ]);
        expect(summary(yield* eventsOf(d1.id, { kinds: ["Status", "Step"] }))).toStrictEqual([
          [1, "status PENDING"],
          [4, "status CANCELLED"],
        ]);
        expect(
          summary(yield* eventsOf(d1.id, { kinds: ["Log"], logStep: "BUILDING", afterSeq: 2n })),
        ).toStrictEqual([[3, "log BUILDING STDERR oops"]]);
        // A deployment that does not exist gets nothing.
        const missing = yield* (yield* Ids).next("deployment");
        expect(yield* log.appendLogs(missing, [line("x")])).toStrictEqual({
          appended: 0,
          dropped: 0,
          lastSeq: 0n,
        });
        expect(yield* log.lastSeq(missing)).toBe(0n);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("appendLogs keeps the tail within the budget; status and step events stay", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d = yield* newDeployment(acme);
      const log = yield* EventLog;
      const batch = (from: number, count: number) =>
        Array.from({ length: count }, (_, i) => line(`line ${from + i}`));
      yield* log.appendLogs(d.id, batch(1, 3));
      yield* (yield* DeploymentRepository).updateStatus(d.id, {
        from: ["PENDING"],
        to: "BUILDING",
        at: NOW,
      });
      yield* log.appendLogs(d.id, batch(4, 2));
      expect(yield* log.appendLogs(d.id, batch(6, 2))).toStrictEqual({
        appended: 2,
        dropped: 2,
        lastSeq: 9n,
      });
      expect(summary(yield* eventsOf(d.id))).toStrictEqual([
        [1, "status PENDING"],
        [5, "status BUILDING"],
        [6, "log BUILDING STDOUT line 4"],
        [7, "log BUILDING STDOUT line 5"],
        [8, "log BUILDING STDOUT line 6"],
        [9, "log BUILDING STDOUT line 7"],
      ]);
      // A batch larger than the budget keeps its own tail.
      expect(yield* log.appendLogs(d.id, batch(8, 6))).toStrictEqual({
        appended: 4,
        dropped: 6,
        lastSeq: 13n,
      });
      expect(summary(yield* eventsOf(d.id, { kinds: ["Log"] })).map(([seq]) => seq)).toStrictEqual([
        10, 11, 12, 13,
      ]);
    }).pipe(Effect.provide(SmallLogsLayer)),
  );

  it.effect(
    "appendLogs with source offsets: a repeated batch stores nothing, an overlapping one only its new lines",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        const d = yield* newDeployment(acme);
        const log = yield* EventLog;
        const at = (offset: number, text: string) => line(text, { offset });
        const first = [at(0, "Step 1/2"), at(9, "BUILD-RAN")];
        expect(yield* log.appendLogs(d.id, first)).toMatchObject({ appended: 2, lastSeq: 3n });
        expect(yield* log.appendLogs(d.id, first)).toStrictEqual({
          appended: 0,
          dropped: 0,
          lastSeq: 3n,
        });
        expect(
          yield* log.appendLogs(d.id, [...first, at(19, "Step 2/2"), line("no offset")]),
        ).toMatchObject({ appended: 2, lastSeq: 5n });
        expect(summary(yield* eventsOf(d.id, { kinds: ["Log"] }))).toStrictEqual([
          [2, "log BUILDING STDOUT Step 1/2"],
          [3, "log BUILDING STDOUT BUILD-RAN"],
          [4, "log BUILDING STDOUT Step 2/2"],
          [5, "log BUILDING STDOUT no offset"],
        ]);
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("the feed wakes a waiter when the deployment gets an event, and only then", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const d1 = yield* newDeployment(acme);
      const d2 = yield* newDeployment(acme);
      const feed = yield* DeploymentEventFeed;
      const log = yield* EventLog;
      // Behind already: completes at once.
      yield* feed.waitForEvents(d1.id, 0n);
      const waiting = yield* Effect.fork(feed.waitForEvents(d1.id, 1n));
      yield* log.appendLogs(d2.id, [line("not for d1")]);
      yield* Effect.yieldNow();
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true);
      yield* log.appendLogs(d1.id, [line("for d1")]);
      yield* Fiber.join(waiting);
      // Interrupting a waiter leaves nothing behind.
      const abandoned = yield* Effect.fork(feed.waitForEvents(d1.id, 2n));
      yield* Fiber.interrupt(abandoned);
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
