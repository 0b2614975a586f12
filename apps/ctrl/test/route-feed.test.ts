// The gateways' route feed against a real database (PGlite, and PostgreSQL when DATABASE_URL is
// set), served over real HTTP by Connect: snapshot, pushed updates, removals, the token.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { RouteFeedService, type WatchRoutesResponse } from "@ferry/api/internal";
import type { PrismaClient } from "@ferry/db";
import { createTestDatabase, type TestDatabase, testDatabaseKinds } from "@ferry/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { memoryLog } from "../src/log.ts";
import { type RouteFeed, startRouteFeed } from "../src/route-feed/route-feed.ts";
import { routeFeedService } from "../src/route-feed/service.ts";

const TOKEN = "ferry_internal_test_token_0123456789";

const seed = async (prisma: PrismaClient) => {
  await prisma.workspace.create({ data: { id: "ws_1", name: "Acme", slug: "acme" } });
  await prisma.project.create({
    data: { id: "proj_1", workspaceId: "ws_1", name: "Web", slug: "web" },
  });
  await prisma.environment.create({
    data: {
      id: "env_1",
      workspaceId: "ws_1",
      projectId: "proj_1",
      slug: "production",
      kind: "PRODUCTION",
    },
  });
  for (const id of ["dep_1", "dep_2"])
    await prisma.deployment.create({
      data: {
        id,
        workspaceId: "ws_1",
        projectId: "proj_1",
        environmentId: "env_1",
        sourceKind: "DOCKER_IMAGE",
        dockerImage: "web:1",
        envSnapshot: {},
      },
    });
  await prisma.instance.create({
    data: {
      id: "inst_1",
      deploymentId: "dep_1",
      region: "local-1",
      containerId: "c1",
      host: "127.0.0.1",
      port: 4001,
      status: "RUNNING",
    },
  });
};

const route = (hostname: string, deploymentId: string) => ({
  id: `route_${hostname}`,
  workspaceId: "ws_1",
  projectId: "proj_1",
  environmentId: "env_1",
  deploymentId,
  hostname,
  kind: "LIVE" as const,
});

/** Reads a stream in the background, keeping every message. */
const collect = (stream: AsyncIterable<WatchRoutesResponse>) => {
  const messages: WatchRoutesResponse[] = [];
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

describe.each(testDatabaseKinds())("route feed on %s", (kind) => {
  let db: TestDatabase | undefined;
  let feed: RouteFeed | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await feed?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    await db?.close();
  });

  const start = async () => {
    db = await createTestDatabase({ kind });
    await seed(db.prisma);
    await db.prisma.frontlineRoute.create({ data: route("web.example", "dep_1") });
    const log = memoryLog();
    feed = startRouteFeed(db, log);
    await feed.ready;
    const started = feed;
    server = createServer(
      connectNodeAdapter({
        routes: (router) => router.service(RouteFeedService, routeFeedService(started, TOKEN, log)),
      }),
    );
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const client = (token: string) =>
      createClient(
        RouteFeedService,
        createConnectTransport({
          baseUrl: `http://127.0.0.1:${port}`,
          httpVersion: "1.1",
          interceptors: [
            (next) => async (request) => {
              request.header.set("authorization", `Bearer ${token}`);
              return await next(request);
            },
          ],
        }),
      );
    return { db, client };
  };

  it("sends the snapshot, then each committed change: moves, new instances, removals", async () => {
    const { db, client } = await start();
    const abort = new AbortController();
    const { messages } = collect(
      client(TOKEN).watchRoutes({ subscriber: "test" }, { signal: abort.signal }),
    );
    await until(() => messages.length >= 1, "the snapshot");
    expect(messages[0]?.kind).toMatchObject({
      case: "snapshot",
      value: {
        routes: [
          {
            hostname: "web.example",
            deploymentId: "dep_1",
            projectId: "proj_1",
            upstreams: [{ address: "127.0.0.1:4001", region: "local-1" }],
          },
        ],
      },
    });

    // A switch: the route moves to dep_2, which has no running instance yet.
    await db.prisma.frontlineRoute.update({
      where: { hostname: "web.example" },
      data: { deploymentId: "dep_2" },
    });
    await until(() => messages.length >= 2, "the switch");
    expect(messages[1]?.kind).toMatchObject({
      case: "update",
      value: {
        upserts: [{ hostname: "web.example", deploymentId: "dep_2", upstreams: [] }],
        removedHostnames: [],
      },
    });

    // dep_2's instance becomes RUNNING: the hostname's upstreams follow.
    await db.prisma.instance.create({
      data: {
        id: "inst_2",
        deploymentId: "dep_2",
        region: "local-2",
        containerId: "c2",
        host: "127.0.0.1",
        port: 4002,
        status: "STARTING",
      },
    });
    await db.prisma.instance.update({ where: { id: "inst_2" }, data: { status: "RUNNING" } });
    await until(
      () =>
        messages.some(
          (m) => m.kind.case === "update" && m.kind.value.upserts[0]?.upstreams.length === 1,
        ),
      "the instance",
    );
    const last = messages.at(-1);
    expect(last?.kind).toMatchObject({
      case: "update",
      value: {
        upserts: [
          {
            hostname: "web.example",
            upstreams: [{ address: "127.0.0.1:4002", region: "local-2" }],
          },
        ],
      },
    });

    // Removal.
    await db.prisma.frontlineRoute.delete({ where: { hostname: "web.example" } });
    await until(
      () =>
        messages.some(
          (m) => m.kind.case === "update" && m.kind.value.removedHostnames.includes("web.example"),
        ),
      "the removal",
    );
    abort.abort();
  });

  it("gives a second subscriber the current table, not the history", async () => {
    const { db, client } = await start();
    await db.prisma.frontlineRoute.create({ data: route("api.example", "dep_1") });
    await until(() => (feed?.current().length ?? 0) === 2, "the feed to see the new route");
    const abort = new AbortController();
    const { messages } = collect(
      client(TOKEN).watchRoutes({ subscriber: "second" }, { signal: abort.signal }),
    );
    await until(() => messages.length >= 1, "the snapshot");
    const snapshot = messages[0]?.kind;
    expect(snapshot?.case).toBe("snapshot");
    if (snapshot?.case === "snapshot")
      expect(snapshot.value.routes.map((r) => r.hostname).sort()).toEqual([
        "api.example",
        "web.example",
      ]);
    abort.abort();
  });

  it("refuses a gateway without the internal token", async () => {
    const { client } = await start();
    const { done } = collect(client("wrong-token").watchRoutes({ subscriber: "intruder" }));
    const error = await done.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.Unauthenticated);
    expect(error?.rawMessage).toContain("FERRY_INTERNAL_TOKEN");
    expect(error?.rawMessage).not.toContain(TOKEN);
  });
});
