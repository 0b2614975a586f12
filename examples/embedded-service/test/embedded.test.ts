/**
 * The embedded library from another package, against a running stack (restate-server, ctrl on
 * its PGlite, hydra, frontline, Podman): the library shares ctrl's database, Restate and build
 * storage, and what one of them does the other sees. Run under the heavy lock:
 *
 *   flock /tmp/ferry-heavy.lock pnpm --filter @ferry/example-embedded-service exec vitest run
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { DeploymentStatus } from "@ferry/api";
import { DEFAULT_BUSYBOX, tarContext, webServerImage } from "@ferry/containers/testing";
import {
  createDeploymentService,
  type DeploymentService,
  NotFound,
  PreconditionFailed,
  ValidationError,
  type WatchedEvent,
} from "@ferry/deployment-service";
import {
  clientsOf,
  engineOf,
  serves as servesVia,
  startTestStack,
  type TestStack,
} from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeHandler } from "../src/app.ts";
import { startExample } from "./example-process.ts";

let stack: TestStack;
let service: DeploymentService;
let server: Server;
let exampleUrl: string;

const engine = () => engineOf(stack);

/** ctrl's public API, as any client calls it. */
const ctrl = () => clientsOf(stack);

beforeAll(async () => {
  stack = await startTestStack({ name: "ferry-embedded" });
  expect(stack.engineUrl, stack.engineProblem).toBeDefined();
  service = await createDeploymentService({
    database: stack.databaseUrl,
    // The stack's database is PGlite behind its socket: one session, so one connection.
    poolSize: 1,
    restate: { ingressUrl: stack.restate.ingressUrl, adminUrl: stack.restate.adminUrl },
    regions: ["local-1", "local-2"],
    apexDomain: "ferry.localhost",
    buildStorage: { kind: "local", dir: path.join(stack.dataDir, "build-contexts") },
    secretKeys: stack.secretKeys ?? "",
    // The workspace of the stack's bootstrap API key.
    workspace: "default",
  });
  const handler = makeHandler(service);
  server = createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  exampleUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  await service?.close();
  await stack?.dispose();
});

/** Every event of a watch, until it ends by itself. */
const collect = async (iterable: AsyncIterable<WatchedEvent>) => {
  const events: Array<WatchedEvent> = [];
  for await (const event of iterable) events.push(event);
  return events;
};

const statusesOf = (events: ReadonlyArray<WatchedEvent>) =>
  events.flatMap((event) => (event.body._tag === "Status" ? [event.body.status] : []));

/** Until frontline serves `content` for `host` (route changes are pushed within milliseconds). */
const serves = (host: string, content: string) =>
  servesVia(stack.frontlineUrl, host, content, { withinMs: 3_000 });

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );

/** Deploys `image` to production through the library and watches it to its end. */
const deploy = async (projectId: string, image: string) => {
  const created = await service.deployments.create({
    projectId,
    environmentSlug: "production",
    source: { image },
    regions: ["local-1"],
  });
  const events = await collect(service.deployments.watch(created.deploymentId));
  return { id: created.deploymentId, events };
};

describe("the embedded library on a running stack", () => {
  it("projects and variables: the secret's value never comes back, here or through ctrl", async () => {
    const { project } = await service.projects.create({ name: "Library Web", slug: "lib-web" });
    const variables = await service.projects.setVariables(project.id, "production", [
      { key: "GREETING", value: "hi" },
      { key: "DB_PASSWORD", value: "library-s3cret", secret: true },
    ]);
    expect(variables.find((v) => v.key === "DB_PASSWORD")).toEqual({
      key: "DB_PASSWORD",
      value: "",
      secret: true,
    });
    // ctrl sees the library's project and variables, with the secret blank there too.
    const viaCtrl = await ctrl().projects.getProject({ key: { case: "slug", value: "lib-web" } });
    expect(viaCtrl.project?.id).toBe(project.id);
    const listed = await ctrl().projects.listEnvironmentVariables({
      projectId: project.id,
      environmentSlug: "production",
    });
    expect(JSON.stringify(listed)).not.toContain("library-s3cret");
    expect(listed.variables.find((v) => v.key === "DB_PASSWORD")?.secret).toBe(true);
  });

  it("deploys a prebuilt image, watches it to READY in-process, and frontline serves it", async () => {
    const image = await webServerImage(engine(), { content: "embedded v1" });
    const { project } = await service.projects.get("lib-web");
    const { id, events } = await deploy(project.id, image);
    const statuses = statusesOf(events);
    expect(statuses[0]).toBe("PENDING");
    expect(statuses.at(-1)).toBe("READY");
    expect(statuses).toEqual(["PENDING", "DEPLOYING", "NETWORK", "READY"]);
    // Steps start and end in lifecycle order.
    const steps = events.flatMap((e) => (e.body._tag === "Step" ? [e.body.step.name] : []));
    expect([...new Set(steps)]).toEqual(["DEPLOYING", "NETWORK", "READY"]);
    const details = await service.deployments.get(id);
    expect(details.deployment.status).toBe("READY");
    expect(details.isLive).toBe(true);
    expect(details.routes.map((r) => r.hostname)).toContain("lib-web--default.ferry.localhost");
    await serves("lib-web--default.ferry.localhost", "embedded v1");
    // ctrl's API shows the deployment the library created.
    const viaCtrl = await ctrl().deployments.getDeployment({ deploymentId: id });
    expect(viaCtrl.deployment?.status).toBe(DeploymentStatus.READY);
    expect(viaCtrl.deployment?.isLive).toBe(true);
  });

  it("a watch resumed from a cursor continues with no gap and no duplicate", async () => {
    const { project } = await service.projects.get("lib-web");
    const [latest] = (await service.deployments.list(project.id, { pageSize: 1 })).deployments;
    const id = latest?.deployment.id ?? "";
    const whole = await collect(service.deployments.watch(id));
    const head: Array<WatchedEvent> = [];
    for await (const event of service.deployments.watch(id)) {
      head.push(event);
      if (head.length === 2) break;
    }
    const tail = await collect(service.deployments.watch(id, { cursor: head[1]?.cursor ?? "" }));
    expect([...head, ...tail].map((e) => e.seq)).toEqual(whole.map((e) => e.seq));
    expect(statusesOf(whole).at(-1)).toBe("READY");
    // A cursor of another deployment is refused, naming the option.
    const other = await service.deployments.create({
      projectId: project.id,
      environmentSlug: "preview",
      source: { image: "localhost/never:1" },
      regions: ["local-1"],
    });
    const refused = await rejection(
      collect(service.deployments.watch(other.deploymentId, { cursor: head[1]?.cursor ?? "" })),
    );
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).violations[0]?.field).toBe("cursor");
    await collect(service.deployments.watch(other.deploymentId));
  });

  it("rollback and promote move the live hostname; promoting the live deployment changes nothing", async () => {
    const { project } = await service.projects.get("lib-web");
    const [v1] = (
      await service.deployments.list(project.id, {
        environmentSlug: "production",
        statuses: ["READY"],
      })
    ).deployments;
    const image = await webServerImage(engine(), { content: "embedded v2" });
    const v2 = await deploy(project.id, image);
    expect(statusesOf(v2.events).at(-1)).toBe("READY");
    await serves("lib-web--default.ferry.localhost", "embedded v2");

    const rolledBack = await service.deployments.rollback(v2.id, v1?.deployment.id ?? "");
    expect(rolledBack).toMatchObject({
      liveDeploymentId: v1?.deployment.id,
      rolledBack: true,
      changed: true,
      previousLiveDeploymentId: v2.id,
    });
    await serves("lib-web--default.ferry.localhost", "embedded v1");

    const promoted = await service.deployments.promote(v2.id);
    expect(promoted).toMatchObject({ liveDeploymentId: v2.id, rolledBack: false, changed: true });
    await serves("lib-web--default.ferry.localhost", "embedded v2");
    const again = await service.deployments.promote(v2.id);
    expect(again).toMatchObject({ liveDeploymentId: v2.id, changed: false });
    // ctrl agrees.
    const viaCtrl = await ctrl().projects.getProject({
      key: { case: "projectId", value: project.id },
    });
    expect(viaCtrl.project?.liveDeploymentId).toBe(v2.id);
  });

  it("cancels a deployment in flight (its watch ends CANCELLED); a READY one is PreconditionFailed", async () => {
    const { project } = await service.projects.get("lib-web");
    const image = await webServerImage(engine(), { content: "embedded cancelled" });
    const created = await service.deployments.create({
      projectId: project.id,
      environmentSlug: "preview",
      source: { image },
      regions: ["local-1"],
    });
    const cancelled = await service.deployments.cancel(created.deploymentId);
    expect(cancelled).toMatchObject({ deploymentId: created.deploymentId, status: "CANCELLED" });
    const events = await collect(service.deployments.watch(created.deploymentId));
    expect(statusesOf(events).at(-1)).toBe("CANCELLED");
    expect((await service.deployments.get(created.deploymentId)).deployment.status).toBe(
      "CANCELLED",
    );

    const live = (await service.projects.get(project.id)).project.liveDeploymentId ?? "";
    const refused = await rejection(service.deployments.cancel(live));
    expect(refused).toBeInstanceOf(PreconditionFailed);
    expect((refused as Error).message).toContain("is READY and cannot be cancelled");
  });

  it("rejects with the domain's typed errors: a bad image names its field, an unknown id is NotFound", async () => {
    const { project } = await service.projects.get("lib-web");
    const invalid = await rejection(
      service.deployments.create({
        projectId: project.id,
        environmentSlug: "production",
        source: { image: "UPPER CASE:not a tag" },
      }),
    );
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).violations.map((v) => v.field)).toEqual(["source.image"]);
    const unknown = "dep_01jf0000000000000000000000";
    const missing = await rejection(service.deployments.get(unknown));
    expect(missing).toBeInstanceOf(NotFound);
    expect(await rejection(service.deployments.promote(unknown))).toBeInstanceOf(NotFound);
    expect(await rejection(collect(service.deployments.watch(unknown)))).toBeInstanceOf(NotFound);
  });

  it("a deployment created through ctrl's API is seen and watched by the library", async () => {
    const image = await webServerImage(engine(), { content: "from ctrl" });
    const { project } = await ctrl().projects.createProject({ name: "Ctrl Web", slug: "ctrl-web" });
    const created = await ctrl().deployments.createDeployment({
      projectId: project?.id ?? "",
      environmentSlug: "production",
      source: { case: "dockerImage", value: image },
      regions: ["local-1"],
    });
    const events = await collect(service.deployments.watch(created.deploymentId));
    expect(statusesOf(events).at(-1)).toBe("READY");
    const details = await service.deployments.get(created.deploymentId);
    expect(details.deployment.projectId).toBe(project?.id);
    expect(details.deployment.source).toEqual({ _tag: "DockerImage", image });
    const page = await service.deployments.list(project?.id ?? "");
    expect(page.deployments.map((d) => d.deployment.id)).toEqual([created.deploymentId]);
  });

  it("uploadBuildContext: an archive handed over in-process is built, deployed and served", async () => {
    const { project } = await service.projects.create({ name: "Built", slug: "lib-built" });
    const archive = gzipSync(
      await tarContext({
        "app/Dockerfile":
          'FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\nCOPY www /www\nRUN echo "building the embedded example"\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n',
        busybox: readFileSync(DEFAULT_BUSYBOX),
        "www/index.html": "built in-process",
      }),
    );
    const uploaded = await service.deployments.uploadBuildContext(project.id, archive);
    expect(uploaded.sizeBytes).toBe(archive.length);
    const created = await service.deployments.create({
      projectId: project.id,
      environmentSlug: "production",
      source: { buildContextPath: uploaded.buildContextPath, dockerfilePath: "app/Dockerfile" },
      regions: ["local-1"],
    });
    const events = await collect(service.deployments.watch(created.deploymentId));
    const failure = events.find((e) => e.body._tag === "Status" && e.body.status === "FAILED");
    expect(failure, JSON.stringify(failure?.body)).toBeUndefined();
    expect(statusesOf(events)).toEqual(["PENDING", "BUILDING", "DEPLOYING", "NETWORK", "READY"]);
    const logs = events.flatMap((e) => (e.body._tag === "Log" ? [e.body.line.text] : []));
    expect(logs.some((line) => line.includes("building the embedded example"))).toBe(true);
    await serves("lib-built--default.ferry.localhost", "built in-process");
  });

  it("the example runs as its own process: configured from the environment, stopped by SIGTERM", async () => {
    const { child, output, exited } = startExample({
      DATABASE_URL: stack.databaseUrl,
      FERRY_SECRET_KEYS: stack.secretKeys ?? "",
      FERRY_RESTATE_INGRESS_URL: stack.restate.ingressUrl,
      FERRY_RESTATE_ADMIN_URL: stack.restate.adminUrl,
      FERRY_DATA_DIR: stack.dataDir,
      PORT: "0",
    });
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (url === undefined) {
        url = /listening on (http:\/\/\S+)/.exec(output())?.[1];
        if (url === undefined && (Date.now() > deadline || child.exitCode !== null))
          throw new Error(`the example did not start:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(output()).toContain("(workspace default)");
      const { project } = await service.projects.get("lib-web");
      const live = (await service.projects.get(project.id)).project.liveDeploymentId ?? "";
      const answer = await fetch(`${url}/deployments/${live}`);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ id: live, status: "READY", isLive: true });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });

  describe("the example's HTTP API", () => {
    const call = async (method: string, route: string, body?: unknown) => {
      const answer = await fetch(`${exampleUrl}${route}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      });
      return { status: answer.status, text: await answer.text() };
    };

    it("deploys an image, streams its events to READY and reports its status", async () => {
      const image = await webServerImage(engine(), { content: "via the example" });
      const deployed = await call("POST", "/deploy", { project: "example-web", image });
      expect(deployed.status).toBe(202);
      const { deploymentId } = JSON.parse(deployed.text) as { deploymentId: string };
      const events = await call("GET", `/deployments/${deploymentId}/events`);
      expect(events.status).toBe(200);
      const lines = events.text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { type: string; status?: string });
      expect(lines.filter((l) => l.type === "status").map((l) => l.status)).toEqual([
        "PENDING",
        "DEPLOYING",
        "NETWORK",
        "READY",
      ]);
      const status = await call("GET", `/deployments/${deploymentId}`);
      expect(JSON.parse(status.text)).toMatchObject({
        id: deploymentId,
        status: "READY",
        isLive: true,
        hostnames: expect.arrayContaining(["example-web--default.ferry.localhost"]),
      });
      await serves("example-web--default.ferry.localhost", "via the example");
    });

    it("answers 400 with the violations for a bad image, 404 for an unknown deployment", async () => {
      const bad = await call("POST", "/deploy", { project: "example-web", image: "Not An Image" });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text)).toMatchObject({
        error: "ValidationError",
        violations: [{ field: "source.image" }],
      });
      const unknown = await call("GET", "/deployments/dep_01jf0000000000000000000000");
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.text)).toMatchObject({ error: "NotFound" });
      const unknownEvents = await call("GET", "/deployments/dep_01jf0000000000000000000000/events");
      expect(unknownEvents.status).toBe(404);
    });
  });
});
