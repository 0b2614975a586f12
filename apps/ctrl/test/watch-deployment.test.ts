// WatchDeployment and GetBuildLogs over real HTTP (Connect, node:http) on a real database (PGlite,
// and PostgreSQL when DATABASE_URL is set), woken by the database's notifications: what a client
// sees while hydra (simulated here through the repositories) walks a deployment to its end.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import {
  DeploymentService,
  DeploymentStatus,
  DeploymentStepStatus,
  LogStream,
  type WatchDeploymentResponse,
} from "@ferry/api";
import { type NotifiedDeploymentEventFeed, startDeploymentEventFeed } from "@ferry/db";
import { createTestDatabase, type TestDatabase, testDatabaseKinds } from "@ferry/db/testing";
import {
  createProject,
  type DeploymentId,
  DeploymentRepository,
  EventLog,
  Ids,
  type LogLineInput,
  RouteRepository,
  type DeploymentStatus as Status,
  type StepName,
  type WorkspaceId,
} from "@ferry/domain";
import {
  InMemoryBuildStorage,
  InMemoryLayer,
  InMemoryStore,
  InMemoryWorkflowEngine,
  TEST_BUILD_CONTEXT_LIMITS,
  type WorkflowEngineControl,
} from "@ferry/domain/testing";
import { generateKey } from "@ferry/secret-box";
import { Effect, Layer, type ManagedRuntime, Option } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeCtrl } from "../src/app.ts";
import { memoryLog } from "../src/log.ts";
import { baseLayer, type CtrlServices, makeRunner, makeRuntime } from "../src/runtime.ts";
import { deploymentService } from "../src/services/deployment-service.ts";
import { makeRpc } from "../src/services/rpc.ts";
import {
  encodeCursor,
  encodePosition,
  type WatchOptions,
  watchDeploymentRpc,
} from "../src/services/watch-deployment.ts";
import {
  authorization,
  expectError,
  inMemoryWorld,
  makeWorld,
  type Tenant,
  tenant,
  type World,
} from "./support.ts";
import { walk } from "./world.ts";

type Runtime = ManagedRuntime.ManagedRuntime<CtrlServices | WorkflowEngineControl, never>;

/** One message as a line: easy to compare whole. */
const show = (message: WatchDeploymentResponse): string => {
  const event = message.event;
  switch (event.case) {
    case "status":
      return `status ${DeploymentStatus[event.value.status]}${event.value.isLive ? " live" : ""}${event.value.errorMessage === "" ? "" : ` (${event.value.errorMessage})`}`;
    case "step": {
      const step = event.value.step;
      return `step ${step?.name} ${DeploymentStepStatus[step?.status ?? 0]}${step?.message ? ` (${step.message})` : ""}`;
    }
    case "log":
      return `log ${event.value.step} ${LogStream[event.value.stream]} ${event.value.text}`;
    case "heartbeat":
      return "heartbeat";
    default:
      return "?";
  }
};

/** Reads a stream in the background, keeping every message; `done` settles when it ends. */
const collect = (stream: AsyncIterable<WatchDeploymentResponse>) => {
  const messages: WatchDeploymentResponse[] = [];
  const done = (async () => {
    for await (const message of stream) messages.push(message);
  })();
  done.catch(() => {});
  return { messages, done };
};

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Everything a stream sends until it ends. */
const readAll = async (stream: AsyncIterable<WatchDeploymentResponse>) => {
  const messages: WatchDeploymentResponse[] = [];
  for await (const message of stream) messages.push(message);
  return messages;
};

/** The whole walk of a successful deploy with a build, as WatchDeployment shows it. */
const FULL_HISTORY = [
  "status PENDING",
  "status BUILDING",
  "step BUILDING RUNNING",
  "log BUILDING STDOUT Step 1/2 : FROM scratch",
  "log BUILDING STDERR warning: no cache",
  "log BUILDING STDOUT Step 2/2 : COPY . /",
  "step BUILDING SUCCEEDED (built localhost/web@sha256:abc)",
  "status DEPLOYING",
  "step DEPLOYING RUNNING",
  "log DEPLOYING STDOUT listening on :8080",
  "step DEPLOYING SUCCEEDED",
  "status NETWORK",
  "step NETWORK RUNNING",
  "step NETWORK SUCCEEDED",
  "step READY RUNNING",
  "step READY SUCCEEDED",
  "status READY live",
];

describe.each(testDatabaseKinds())("WatchDeployment and GetBuildLogs on %s", (kind) => {
  let db: TestDatabase | undefined;
  let events: NotifiedDeploymentEventFeed | undefined;
  let runtime: Runtime | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await events?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    await runtime?.dispose();
    await db?.close();
    server = undefined;
  });

  const start = async (options: WatchOptions = {}) => {
    db = await createTestDatabase({ kind });
    events = startDeploymentEventFeed(db);
    await events.ready;
    const log = memoryLog();
    const base = baseLayer({
      prisma: db.prisma,
      platform: { apexDomain: "ferry.test", availableRegions: ["local-1", "local-2"] },
      secretKeys: generateKey("k1"),
      buildStorage: InMemoryBuildStorage.pipe(Layer.provide(InMemoryStore.layer)),
      buildContextLimits: TEST_BUILD_CONTEXT_LIMITS,
      eventFeed: events.layer,
    });
    const rt: Runtime = makeRuntime(InMemoryWorkflowEngine.pipe(Layer.provideMerge(base)), log);
    runtime = rt;
    const ctrl = makeCtrl({ runtime: rt, log });
    const rpc = makeRpc(makeRunner(rt, log));
    server = createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.service(DeploymentService, {
            ...deploymentService(rpc),
            watchDeployment: watchDeploymentRpc(rpc, options),
          }),
        interceptors: ctrl.interceptors,
      }),
    );
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const clientOf = (who: Tenant): Client<typeof DeploymentService> =>
      createClient(
        DeploymentService,
        createConnectTransport({
          baseUrl: `http://127.0.0.1:${port}`,
          httpVersion: "1.1",
          interceptors: [authorization(`Bearer ${who.token}`)],
        }),
      );
    const acme = await rt.runPromise(tenant("acme"));
    const globex = await rt.runPromise(tenant("globex"));
    const project = await rt.runPromise(
      createProject(acme.workspace.id, { name: "Web", slug: "web" }),
    );
    const run = <A, E>(effect: Effect.Effect<A, E, CtrlServices>) => rt.runPromise(effect);
    const client = clientOf(acme);
    const production = project.environments.find((e) => e.slug === "production");
    if (production === undefined) throw new Error("no production environment");

    /** A deployment of a prebuilt image, through CreateDeployment. */
    const deploy = async () =>
      (
        await client.createDeployment({
          projectId: project.project.id,
          environmentSlug: "production",
          source: { case: "dockerImage", value: "localhost/web:1" },
        })
      ).deploymentId as DeploymentId;

    /** A deployment built from a context, stored as CreateDeployment would (PENDING). */
    const deployFromSource = () =>
      run(
        Effect.gen(function* () {
          const now = Date.now();
          const deployment = yield* (yield* DeploymentRepository).create({
            id: yield* (yield* Ids).next("deployment"),
            workspaceId: acme.workspace.id,
            projectId: project.project.id,
            environmentId: production.id,
            environmentSlug: "production",
            status: "PENDING",
            source: {
              _tag: "BuildContext",
              buildContextPath: `projects/${project.project.id}/contexts/c.tar.gz`,
              dockerfilePath: "Dockerfile",
            },
            regions: ["local-1"],
            createdAt: now,
            updatedAt: now,
          });
          return deployment.id;
        }),
      );

    /** What hydra's deploy workflow writes, one call at a time. */
    const hydra = (id: DeploymentId) => ({
      status: (from: Status, to: Status, errorMessage?: string) =>
        run(
          Effect.flatMap(DeploymentRepository, (deployments) =>
            deployments.updateStatus(id, {
              from: [from],
              to,
              at: Date.now(),
              ...(errorMessage === undefined ? {} : { errorMessage }),
            }),
          ),
        ).then((updated) => {
          if (Option.isNone(updated)) throw new Error(`${id} was not ${from}`);
        }),
      startStep: (name: StepName) =>
        run(
          Effect.gen(function* () {
            yield* (yield* DeploymentRepository).startStep({
              id: yield* (yield* Ids).next("step"),
              deploymentId: id,
              name,
              at: Date.now(),
            });
          }),
        ),
      finishStep: (
        name: StepName,
        message?: string,
        status: "SUCCEEDED" | "FAILED" = "SUCCEEDED",
      ) =>
        run(
          Effect.flatMap(DeploymentRepository, (deployments) =>
            deployments.finishStep({
              deploymentId: id,
              name,
              status,
              at: Date.now(),
              ...(message === undefined ? {} : { message }),
            }),
          ),
        ),
      logs: (step: StepName, ...lines: ReadonlyArray<string | [string, "STDERR"]>) =>
        run(
          Effect.flatMap(EventLog, (log) =>
            log.appendLogs(
              id,
              lines.map(
                (line): LogLineInput => ({
                  step,
                  stream: typeof line === "string" ? "STDOUT" : line[1],
                  text: typeof line === "string" ? line : line[0],
                  at: Date.now(),
                }),
              ),
            ),
          ),
        ),
      takeLiveRoutes: () =>
        run(
          Effect.flatMap(RouteRepository, (routes) =>
            routes.point({
              workspaceId: acme.workspace.id as WorkspaceId,
              projectId: project.project.id,
              environmentId: production.id,
              deploymentId: id,
              routes: [{ hostname: "web-acme.ferry.test", kind: "LIVE" }],
              liveTraffic: { rolledBack: false },
              at: Date.now(),
            }),
          ),
        ),
    });

    /** The walk of FULL_HISTORY, with a pause between writes so that a watcher follows live. */
    const walk = async (id: DeploymentId, pause = 5) => {
      const h = hydra(id);
      const steps: Array<() => Promise<unknown>> = [
        () => h.status("PENDING", "BUILDING"),
        () => h.startStep("BUILDING"),
        () => h.logs("BUILDING", "Step 1/2 : FROM scratch", ["warning: no cache", "STDERR"]),
        () => h.logs("BUILDING", "Step 2/2 : COPY . /"),
        () => h.finishStep("BUILDING", "built localhost/web@sha256:abc"),
        () => h.status("BUILDING", "DEPLOYING"),
        () => h.startStep("DEPLOYING"),
        () => h.logs("DEPLOYING", "listening on :8080"),
        () => h.finishStep("DEPLOYING"),
        () => h.status("DEPLOYING", "NETWORK"),
        () => h.startStep("NETWORK"),
        () => h.takeLiveRoutes(),
        () => h.finishStep("NETWORK"),
        () => h.startStep("READY"),
        () => h.finishStep("READY"),
        () => h.status("NETWORK", "READY"),
      ];
      for (const step of steps) {
        await step();
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    };

    return {
      client,
      globex: clientOf(globex),
      acme,
      project,
      run,
      deploy,
      deployFromSource,
      hydra,
      walk,
    };
  };

  it("streams the status and step events and the log lines live, in order, and ends at READY", async () => {
    const world = await start({ pageSize: 3 });
    const id = await world.deploy();
    const watched = collect(world.client.watchDeployment({ deploymentId: id }));
    await until(() => watched.messages.length >= 1, "the accepted event");
    await world.walk(id);
    // After the terminal status: in the log, not in this stream (it has ended).
    await world.hydra(id).logs("READY", "late line");
    await watched.done;
    const messages = watched.messages;
    expect(messages.map(show)).toStrictEqual(FULL_HISTORY);
    // Every event has its own cursor, and a time.
    expect(new Set(messages.map((m) => m.cursor)).size).toBe(messages.length);
    for (const message of messages) {
      expect(message.cursor).not.toBe("");
      expect(Number(message.time)).toBeGreaterThan(Date.now() - 60_000);
    }
    const building = messages[6]?.event;
    expect(building?.case === "step" && building.value.step).toMatchObject({
      name: "BUILDING",
      status: DeploymentStepStatus.SUCCEEDED,
      message: "built localhost/web@sha256:abc",
    });
    expect(building?.case === "step" && building.value.step?.endedAt).toBeGreaterThan(0n);
    const line = messages[4]?.event;
    expect(line?.case === "log" && line.value).toMatchObject({
      step: "BUILDING",
      stream: LogStream.STDERR,
      region: "",
      text: "warning: no cache",
    });

    // A new watcher of the finished deployment gets the whole history and the end.
    expect(
      (await readAll(world.client.watchDeployment({ deploymentId: id }))).map(show),
    ).toStrictEqual(FULL_HISTORY);
  });

  it("resumes after a cursor with no gap and no duplicate, whatever exclude_logs says", async () => {
    const world = await start({ pageSize: 2 });
    const id = await world.deploy();
    const abort = new AbortController();
    const first = collect(
      world.client.watchDeployment({ deploymentId: id }, { signal: abort.signal }),
    );
    const walking = world.walk(id, 10);
    await until(() => first.messages.length >= 5, "five events");
    abort.abort();
    await first.done.catch(() => {});
    // The client processed these five; it reconnects with the last one's cursor.
    const processed = first.messages.slice(0, 5);
    const resumed = collect(
      world.client.watchDeployment({ deploymentId: id, afterCursor: processed[4]?.cursor ?? "" }),
    );
    await walking;
    await resumed.done;
    const all = [...processed, ...resumed.messages];
    expect(all.map(show)).toStrictEqual(FULL_HISTORY);
    const full = await readAll(world.client.watchDeployment({ deploymentId: id }));
    expect(all.map((m) => m.cursor)).toStrictEqual(full.map((m) => m.cursor));

    // exclude_logs: the same events without the lines, with the same cursors.
    const withoutLogs = await readAll(
      world.client.watchDeployment({ deploymentId: id, excludeLogs: true }),
    );
    expect(withoutLogs.map(show)).toStrictEqual(FULL_HISTORY.filter((e) => !e.startsWith("log")));
    expect(withoutLogs.map((m) => m.cursor)).toStrictEqual(
      full.filter((m) => m.event.case !== "log").map((m) => m.cursor),
    );
    // A log event's cursor works without logs too, and the other way round.
    const afterLog = await readAll(
      world.client.watchDeployment({
        deploymentId: id,
        afterCursor: full[3]?.cursor ?? "",
        excludeLogs: true,
      }),
    );
    expect(afterLog.map(show)[0]).toBe("step BUILDING SUCCEEDED (built localhost/web@sha256:abc)");
    const afterStep = await readAll(
      world.client.watchDeployment({ deploymentId: id, afterCursor: withoutLogs[2]?.cursor ?? "" }),
    );
    expect(afterStep.map(show)).toStrictEqual(FULL_HISTORY.slice(3));
  });

  it("replays what follows the cursor of a finished deployment, then ends", async () => {
    const world = await start();
    const id = await world.deploy();
    await world.hydra(id).status("PENDING", "DEPLOYING");
    await world
      .hydra(id)
      .status("DEPLOYING", "FAILED", "health check: no answer on :8080 in 300 s");
    await world.hydra(id).logs("DEPLOYING", "a line written after the end");
    const history = await readAll(world.client.watchDeployment({ deploymentId: id }));
    expect(history.map(show)).toStrictEqual([
      "status PENDING",
      "status DEPLOYING",
      "status FAILED (health check: no answer on :8080 in 300 s)",
    ]);
    // After the terminal event: only what was written after it, then the end.
    const tail = await readAll(
      world.client.watchDeployment({ deploymentId: id, afterCursor: history[2]?.cursor ?? "" }),
    );
    expect(tail.map(show)).toStrictEqual(["log DEPLOYING STDOUT a line written after the end"]);
    expect(
      await readAll(
        world.client.watchDeployment({ deploymentId: id, afterCursor: tail[0]?.cursor ?? "" }),
      ),
    ).toStrictEqual([]);
  });

  it("sends a heartbeat after the configured silence, carrying the last cursor", async () => {
    const world = await start({ heartbeatMs: 150 });
    const id = await world.deploy();
    const watched = collect(world.client.watchDeployment({ deploymentId: id }));
    await until(
      () => watched.messages.filter((m) => m.event.case === "heartbeat").length >= 2,
      "two heartbeats",
    );
    const [accepted, beat] = watched.messages;
    expect(show(beat as WatchDeploymentResponse)).toBe("heartbeat");
    expect(beat?.cursor).toBe(accepted?.cursor);
    // The stream is alive: an event still arrives, then the end.
    await world.client.cancelDeployment({ deploymentId: id });
    await watched.done;
    expect(watched.messages.filter((m) => m.event.case !== "heartbeat").map(show)).toStrictEqual([
      "status PENDING",
      "status CANCELLED",
    ]);
    // A resumed stream that has sent nothing yet beats with the cursor it resumed from.
    const other = await world.deploy();
    const resumedFrom = (await firstMessage(world.client, other)).cursor;
    const resumed = collect(
      world.client.watchDeployment({ deploymentId: other, afterCursor: resumedFrom }),
    );
    await until(() => resumed.messages.length >= 1, "a heartbeat");
    expect(resumed.messages[0]).toMatchObject({
      cursor: resumedFrom,
      event: { case: "heartbeat" },
    });
    await world.client.cancelDeployment({ deploymentId: other });
    await resumed.done;
  });

  it("answers NotFound for another workspace's deployment, InvalidArgument for bad ids and cursors", async () => {
    const world = await start();
    const id = await world.deploy();
    const other = await world.deploy();
    const watchError = (
      request: Parameters<typeof world.client.watchDeployment>[0],
      who = world.client,
    ) => readAll(who.watchDeployment(request));
    await expectError(
      watchError({ deploymentId: id }, world.globex),
      Code.NotFound,
      `deployment "${id}" not found`,
    );
    await expectError(
      watchError({ deploymentId: "" }),
      Code.InvalidArgument,
      "deployment_id: is required",
    );
    await expectError(
      watchError({ deploymentId: "nope" }),
      Code.InvalidArgument,
      'deployment_id: "nope" is not a well-formed id for this field',
    );
    const notACursor = "after_cursor: is not a cursor of this deployment's events";
    for (const afterCursor of [
      "garbage!",
      "Zm9v",
      encodeCursor(other, 1n), // another deployment's
      encodeCursor(id, 2n), // not written yet
      encodePosition("l1", id, 1n), // a GetBuildLogs token
    ])
      await expectError(
        watchError({ deploymentId: id, afterCursor }),
        Code.InvalidArgument,
        notACursor,
      );
    // Another workspace learns nothing, even with a well-formed cursor.
    await expectError(
      watchError({ deploymentId: id, afterCursor: encodeCursor(id, 1n) }, world.globex),
      Code.NotFound,
      `deployment "${id}" not found`,
    );
  });

  it("ends a waiting stream with Unavailable when the server shuts its event feed", async () => {
    const world = await start();
    const id = await world.deploy();
    const watched = collect(world.client.watchDeployment({ deploymentId: id }));
    await until(() => watched.messages.length >= 1, "the accepted event");
    await events?.close();
    await expectError(
      watched.done,
      Code.Unavailable,
      "the server is shutting down: reconnect with the cursor of the last event",
    );
  });

  it("GetBuildLogs: pages of the build's lines, complete once the build step ended", async () => {
    const world = await start();
    const id = await world.deployFromSource();
    // Not started: nothing yet, not complete, a token to come back with.
    const before = await world.client.getBuildLogs({ deploymentId: id });
    expect(before).toMatchObject({ lines: [], complete: false });
    expect(before.nextPageToken).not.toBe("");

    const h = world.hydra(id);
    await h.status("PENDING", "BUILDING");
    await h.startStep("BUILDING");
    await h.logs("BUILDING", "1", "2", ["3", "STDERR"]);
    await h.logs("DEPLOYING", "not a build line");
    await h.logs("BUILDING", "4", "5");
    const texts = (page: { lines: ReadonlyArray<{ text: string }> }) =>
      page.lines.map((l) => l.text);

    // While the build runs, every page has a token (more may come).
    const p1 = await world.client.getBuildLogs({ deploymentId: id, pageSize: 2 });
    expect([texts(p1), p1.complete]).toStrictEqual([["1", "2"], false]);
    expect(p1.lines[0]).toMatchObject({ step: "BUILDING", stream: LogStream.STDOUT, region: "" });
    const p2 = await world.client.getBuildLogs({
      deploymentId: id,
      pageSize: 2,
      pageToken: p1.nextPageToken,
    });
    expect(texts(p2)).toStrictEqual(["3", "4"]);
    expect(p2.lines[0]?.stream).toBe(LogStream.STDERR);
    const p3 = await world.client.getBuildLogs({
      deploymentId: id,
      pageSize: 2,
      pageToken: p2.nextPageToken,
    });
    expect([texts(p3), p3.complete]).toStrictEqual([["5"], false]);
    expect(p3.nextPageToken).not.toBe("");
    const p4 = await world.client.getBuildLogs({ deploymentId: id, pageToken: p3.nextPageToken });
    expect([texts(p4), p4.complete, p4.nextPageToken]).toStrictEqual([[], false, p3.nextPageToken]);

    // A line more, then the build ends: the same token gets it, complete, no further token.
    await h.logs("BUILDING", "6");
    await h.finishStep("BUILDING", "built");
    const p5 = await world.client.getBuildLogs({ deploymentId: id, pageToken: p3.nextPageToken });
    expect([texts(p5), p5.complete, p5.nextPageToken]).toStrictEqual([["6"], true, ""]);

    // From the start, once complete: a full last page still has a token; the next is empty.
    const all = await world.client.getBuildLogs({ deploymentId: id, pageSize: 6 });
    expect([texts(all), all.complete]).toStrictEqual([["1", "2", "3", "4", "5", "6"], true]);
    expect(all.nextPageToken).not.toBe("");
    expect(
      await world.client.getBuildLogs({ deploymentId: id, pageToken: all.nextPageToken }),
    ).toMatchObject({ lines: [], complete: true, nextPageToken: "" });
    const whole = await world.client.getBuildLogs({ deploymentId: id });
    expect([whole.lines.length, whole.complete, whole.nextPageToken]).toStrictEqual([6, true, ""]);
  });

  it("GetBuildLogs: a prebuilt image has no build; bad requests and other workspaces are refused", async () => {
    const world = await start();
    const id = await world.deploy();
    expect(await world.client.getBuildLogs({ deploymentId: id })).toMatchObject({
      lines: [],
      complete: true,
      nextPageToken: "",
    });
    await expectError(
      world.globex.getBuildLogs({ deploymentId: id }),
      Code.NotFound,
      `deployment "${id}" not found`,
    );
    await expectError(
      world.client.getBuildLogs({ deploymentId: "" }),
      Code.InvalidArgument,
      "deployment_id: is required",
    );
    await expectError(
      world.client.getBuildLogs({ deploymentId: id, pageSize: -1 }),
      Code.InvalidArgument,
      "page_size: must not be negative (0 means 1000; at most 5000)",
    );
    const badToken = "page_token: is not a next_page_token of this deployment's build logs";
    for (const pageToken of ["nope", encodeCursor(id, 1n), encodePosition("l1", id, 99n)])
      await expectError(
        world.client.getBuildLogs({ deploymentId: id, pageToken }),
        Code.InvalidArgument,
        badToken,
      );
  });
});

/** The first message of a deployment's stream (then the stream is dropped). */
async function firstMessage(client: Client<typeof DeploymentService>, id: string) {
  const abort = new AbortController();
  for await (const message of client.watchDeployment(
    { deploymentId: id },
    { signal: abort.signal },
  )) {
    abort.abort();
    return message;
  }
  throw new Error("the stream ended without a message");
}

describe("WatchDeployment and GetBuildLogs in the in-memory world", () => {
  let world: World | undefined;
  afterEach(() => world?.dispose());

  /** A world whose DeploymentService has these watch options, and whose EventLog counts reads. */
  const setUp = async (options: WatchOptions = {}) => {
    const reads = { count: 0 };
    const countingEventLog = Layer.effect(
      EventLog,
      Effect.map(EventLog, (log) => ({
        ...log,
        list: (id: DeploymentId, query: Parameters<typeof log.list>[1]) => {
          reads.count += 1;
          return log.list(id, query);
        },
      })),
    ).pipe(Layer.provide(InMemoryLayer));
    const w = await makeWorld(Layer.merge(inMemoryWorld(), countingEventLog));
    world = w;
    const rpc = makeRpc(makeRunner(w.runtime, w.log));
    const transport = createRouterTransport(
      (router) =>
        router.service(DeploymentService, {
          ...deploymentService(rpc),
          watchDeployment: watchDeploymentRpc(rpc, options),
        }),
      {
        router: { interceptors: w.ctrl.interceptors },
        transport: { interceptors: [authorization(`Bearer ${w.acme.token}`)] },
      },
    );
    const client = createClient(DeploymentService, transport);
    const { project } = await w.clients(w.acme.token).projects.createProject({
      name: "Web",
      slug: "web",
    });
    const deploy = async () =>
      (
        await client.createDeployment({
          projectId: project?.id ?? "",
          environmentSlug: "production",
          source: { case: "dockerImage", value: "localhost/web:1" },
        })
      ).deploymentId as DeploymentId;
    return { w, client, deploy, reads };
  };

  const lines = (id: DeploymentId, count: number) =>
    Effect.flatMap(EventLog, (log) =>
      log.appendLogs(
        id,
        Array.from({ length: count }, (_, i) => ({
          step: "DEPLOYING",
          stream: "STDOUT" as const,
          text: `line ${i + 1}`,
          at: Date.now(),
        })),
      ),
    );

  it("follows a deployment live to its end, as on a database", async () => {
    const { w, client, deploy } = await setUp({ heartbeatMs: 50 });
    const id = await deploy();
    const watched = collect(client.watchDeployment({ deploymentId: id }));
    await until(() => watched.messages.some((m) => m.event.case === "heartbeat"), "a heartbeat");
    await w.run(walk(id, ["DEPLOYING"]));
    await w.run(lines(id, 2));
    await w.run(
      Effect.gen(function* () {
        const deployments = yield* DeploymentRepository;
        const message = "instances did not become healthy";
        const at = Date.now();
        yield* deployments.finishStep({
          deploymentId: id,
          name: "DEPLOYING",
          status: "FAILED",
          at,
          message,
        });
        yield* deployments.updateStatus(id, {
          from: ["DEPLOYING"],
          to: "FAILED",
          at,
          errorMessage: message,
        });
      }),
    );
    await watched.done;
    expect(watched.messages.filter((m) => m.event.case !== "heartbeat").map(show)).toStrictEqual([
      "status PENDING",
      "step DEPLOYING RUNNING",
      "status DEPLOYING",
      "log DEPLOYING STDOUT line 1",
      "log DEPLOYING STDOUT line 2",
      "step DEPLOYING FAILED (instances did not become healthy)",
      "status FAILED (instances did not become healthy)",
    ]);
    expect(
      (await w.clients(w.acme.token).deployments.getBuildLogs({ deploymentId: id })).complete,
    ).toBe(true);
  });

  it("reads the log a page at a time as the client consumes it, not all at once", async () => {
    const { w, client, deploy, reads } = await setUp({ pageSize: 5 });
    const id = await deploy();
    await w.run(lines(id, 200));
    await w.run(walk(id, ["CANCELLED"]));
    const before = reads.count;
    const abort = new AbortController();
    let received = 0;
    for await (const _ of client.watchDeployment({ deploymentId: id }, { signal: abort.signal })) {
      received += 1;
      if (received === 12) break;
    }
    // 12 messages: 3 pages of 5 at most (the transport may ask for one more), never 41.
    expect(reads.count - before).toBeLessThanOrEqual(4);
    const all = await readAll(client.watchDeployment({ deploymentId: id }));
    expect(all.length).toBe(202);
  });
});
