/**
 * Graceful shutdown of the real server: once close() is called no connection
 * is accepted, the calls in flight (HTTP/1.1 and h2c) finish with their
 * answers, and close() resolves when the last connection is gone.
 */
import http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ProjectService } from "@ferry/api";
import { ProjectRepository } from "@ferry/domain";
import { Effect, Layer } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeCtrl } from "../src/app.ts";
import { type CtrlServer, startServer } from "../src/server.ts";
import { authorization, inMemoryWorld, makeWorld, type World } from "./support.ts";

let world: World;
let server: CtrlServer;
afterEach(async () => {
  await server?.close();
  await world?.dispose();
});

/** ListProjects waits for `open()` once `hold()` was called. */
const gate = () => {
  let release: () => void = () => {};
  let held: Promise<void> = Promise.resolve();
  let entered: () => void = () => {};
  let arrivals = 0;
  const arrived = new Promise<void>((resolve) => {
    entered = resolve;
  });
  return {
    hold: (expected: number) => {
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return expected;
    },
    wait: (expected: number) =>
      Effect.promise(() => {
        arrivals++;
        if (arrivals >= expected) entered();
        return held;
      }),
    arrived,
    open: () => release(),
  };
};

describe("graceful shutdown", () => {
  it("lets in-flight calls finish over HTTP/1.1 and h2c, and refuses new connections", async () => {
    const g = gate();
    const expected = g.hold(2);
    const slowList = Layer.effect(
      ProjectRepository,
      Effect.map(ProjectRepository, (projects) => ({
        ...projects,
        list: (workspaceId, page) =>
          g.wait(expected).pipe(Effect.zipRight(projects.list(workspaceId, page))),
      })),
    );
    const base = inMemoryWorld();
    world = await makeWorld(Layer.merge(base, slowList.pipe(Layer.provide(base))) as typeof base);
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      ...makeCtrl({ runtime: world.runtime, log: world.log }),
      health: async () => {},
      log: world.log,
      shutdownGraceMs: 5_000,
    });
    const auth = [authorization(`Bearer ${world.acme.token}`)];
    const overHttp1 = createClient(
      ProjectService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: auth }),
    );
    const overH2c = createClient(
      ProjectService,
      createGrpcTransport({ baseUrl: server.url, interceptors: auth }),
    );

    const inFlight = [overHttp1.listProjects({}), overH2c.listProjects({})];
    await g.arrived;
    const closing = server.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });

    // No new connection is accepted.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);

    g.open();
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.projects)).toEqual([[], []]);
    await closing;
    expect(closed).toBe(true);
  });

  it("closes idle keep-alive and HTTP/2 connections at once", async () => {
    world = await makeWorld();
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      ...makeCtrl({ runtime: world.runtime, log: world.log }),
      health: async () => {},
      log: world.log,
      shutdownGraceMs: 30_000,
    });
    const auth = [authorization(`Bearer ${world.acme.token}`)];
    await createClient(
      ProjectService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: auth }),
    ).listProjects({});
    const session = http2.connect(server.url);
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    const sessionClosed = new Promise<void>((resolve) => session.once("close", () => resolve()));

    const started = Date.now();
    await server.close();
    await sessionClosed;
    // Not the 30 s grace period: nothing was running.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("aborts the calls still running when the grace period is over", async () => {
    const g = gate();
    const expected = g.hold(1);
    const slowList = Layer.effect(
      ProjectRepository,
      Effect.map(ProjectRepository, (projects) => ({
        ...projects,
        list: (workspaceId, page) =>
          g.wait(expected).pipe(Effect.zipRight(projects.list(workspaceId, page))),
      })),
    );
    const base = inMemoryWorld();
    world = await makeWorld(Layer.merge(base, slowList.pipe(Layer.provide(base))) as typeof base);
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      ...makeCtrl({ runtime: world.runtime, log: world.log }),
      health: async () => {},
      log: world.log,
      shutdownGraceMs: 200,
    });
    const client = createClient(
      ProjectService,
      createGrpcTransport({
        baseUrl: server.url,
        interceptors: [authorization(`Bearer ${world.acme.token}`)],
      }),
    );
    const stuck = client.listProjects({}).then(
      () => "answered",
      () => "aborted",
    );
    await g.arrived;
    await server.close();
    expect(await stuck).toBe("aborted");
    expect(world.log.lines()).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "shutdown grace period over; aborting the calls still running",
      }),
    );
    g.open();
  });
});
