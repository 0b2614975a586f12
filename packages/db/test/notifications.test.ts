// LISTEN/NOTIFY as the route feed relies on it: on PostgreSQL, and on the embedded PGlite where
// every socket client shares one session (src/notifications/*).
import { describe, expect, it } from "vitest";
import { listenToNotifications, type Notification } from "../src/index.ts";
import { ProtocolScanner } from "../src/notifications/protocol-scanner.ts";
import { testDatabaseKinds, withTestDatabase } from "../src/testing.ts";

const until = async (condition: () => boolean, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const seed = async (prisma: import("../src/index.ts").PrismaClient) => {
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
  await prisma.deployment.create({
    data: {
      id: "dep_1",
      workspaceId: "ws_1",
      projectId: "proj_1",
      environmentId: "env_1",
      sourceKind: "DOCKER_IMAGE",
      dockerImage: "nginx:1",
      envSnapshot: {},
    },
  });
};

describe("ProtocolScanner", () => {
  const message = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(5 + body.length);
    out[0] = type.charCodeAt(0);
    new DataView(out.buffer).setInt32(1, body.length + 4);
    out.set(body, 5);
    return out;
  };
  const notification = (channel: string, payload: string) => {
    const text = new TextEncoder().encode(`${channel}\0${payload}\0`);
    const body = new Uint8Array(4 + text.length);
    body.set(text, 4);
    return message("A", body);
  };

  it("finds notifications between other messages, whatever the chunking", () => {
    const stream = new Uint8Array([
      ...message("C", new TextEncoder().encode("COMMIT\0")),
      ...notification("ferry_routes", "host:a.example"),
      ...message("D", new Uint8Array(300)),
      ...notification("other", "é"),
      ...message("Z", new Uint8Array([0x49])),
    ]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const found: Notification[] = [];
      const scanner = new ProtocolScanner((n) => found.push(n));
      for (let offset = 0; offset < stream.length; offset += size)
        scanner.push(stream.subarray(offset, offset + size));
      expect(found, `chunks of ${size}`).toEqual([
        { channel: "ferry_routes", payload: "host:a.example" },
        { channel: "other", payload: "é" },
      ]);
    }
  });
});

describe.each(testDatabaseKinds())("notifications on %s", (kind) => {
  it("delivers the triggers' route and instance notifications after commit, not for a rollback", () =>
    withTestDatabase(
      async (db) => {
        await seed(db.prisma);
        const seen: string[] = [];
        const listener = listenToNotifications(db, ["ferry_routes"], {
          onNotification: (n) => seen.push(n.payload),
          onResync: () => {},
        });
        try {
          await listener.ready;
          await db.prisma
            .$transaction(async (tx) => {
              await tx.frontlineRoute.create({
                data: {
                  id: "route_x",
                  workspaceId: "ws_1",
                  projectId: "proj_1",
                  environmentId: "env_1",
                  deploymentId: "dep_1",
                  hostname: "rolled-back.example",
                  kind: "DEPLOYMENT",
                },
              });
              throw new Error("roll back");
            })
            .catch(() => {});
          await db.prisma.frontlineRoute.create({
            data: {
              id: "route_1",
              workspaceId: "ws_1",
              projectId: "proj_1",
              environmentId: "env_1",
              deploymentId: "dep_1",
              hostname: "web.example",
              kind: "LIVE",
            },
          });
          await db.prisma.instance.create({
            data: {
              id: "inst_1",
              deploymentId: "dep_1",
              region: "local",
              containerId: "c1",
              host: "127.0.0.1",
              port: 1234,
              status: "RUNNING",
            },
          });
          await until(() => seen.length >= 2, "two notifications");
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(seen).toEqual(["host:web.example", "deployment:dep_1"]);
        } finally {
          await listener.close();
        }
      },
      { kind },
    ));

  it("resyncs after its connection is cut, and keeps delivering", () =>
    withTestDatabase(
      async (db) => {
        await seed(db.prisma);
        const seen: string[] = [];
        let resyncs = 0;
        const listener = listenToNotifications(db, ["ferry_routes"], {
          onNotification: (n) => seen.push(n.payload),
          onResync: () => {
            resyncs += 1;
          },
        });
        try {
          await listener.ready;
          // Cut every other connection of this database (PostgreSQL); on PGlite, the socket's.
          if (db.kind === "postgres") {
            await db.prisma.$executeRawUnsafe(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
            );
            await until(() => resyncs === 1, "a resync");
          }
          await db.prisma.instance.create({
            data: {
              id: "inst_2",
              deploymentId: "dep_1",
              region: "local",
              containerId: "c2",
              host: "127.0.0.1",
              status: "STARTING",
            },
          });
          await until(() => seen.includes("deployment:dep_1"), "the notification after the resync");
        } finally {
          await listener.close();
        }
      },
      { kind },
    ));
});
