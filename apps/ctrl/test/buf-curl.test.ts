/**
 * `buf curl` (a real Connect/gRPC/gRPC-Web client) against the real server,
 * with no local schema: it learns the API through gRPC server reflection.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { ProjectService } from "@ferry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCtrl } from "../src/app.ts";
import { type CtrlServer, startServer } from "../src/server.ts";
import { makeWorld, type World } from "./support.ts";

const BUF = fileURLToPath(new URL("../node_modules/.bin/buf", import.meta.url));
const run = promisify(execFile);

let world: World;
let server: CtrlServer;

beforeAll(async () => {
  world = await makeWorld();
  server = await startServer({
    host: "127.0.0.1",
    port: 0,
    ...makeCtrl({ runtime: world.runtime, log: world.log }),
    health: async () => {},
    log: world.log,
  });
  await createClient(ProjectService, world.transport({ token: world.acme.token })).createProject({
    name: "Web",
    slug: "web",
  });
});

afterAll(async () => {
  await server?.close();
  await world?.dispose();
});

const bufCurl = (args: ReadonlyArray<string>) =>
  run(BUF, ["curl", ...args], { timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } });

describe("buf curl", () => {
  for (const protocol of ["grpc", "connect", "grpcweb"]) {
    it(`calls ListProjects over ${protocol} (h2c), learning the schema by reflection`, async () => {
      const { stdout } = await bufCurl([
        "--protocol",
        protocol,
        "--http2-prior-knowledge",
        "-H",
        `Authorization: Bearer ${world.acme.token}`,
        `${server.url}/ctrl.v1.ProjectService/ListProjects`,
      ]);
      const body = JSON.parse(stdout) as { projects: Array<{ slug: string; settings: unknown }> };
      expect(body.projects.map((p) => p.slug)).toEqual(["web"]);
      expect(body.projects[0]?.settings).toEqual({
        containerPort: 8080,
        healthCheckPath: "/",
        healthCheckTimeoutSeconds: 300,
        replicasPerRegion: 1,
      });
    });
  }

  it("sends a request body and shows the error code of a refusal", async () => {
    const failure = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-H",
      `Authorization: Bearer ${world.acme.token}`,
      "-d",
      '{"name": "Web", "slug": "web"}',
      `${server.url}/ctrl.v1.ProjectService/CreateProject`,
    ]).then(
      () => undefined,
      (error: { stderr: string; code: number }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain("already_exists");
    expect(failure?.stderr).toContain('project \\"web\\" already exists');
  });

  it("is refused without a key (reflection itself is public)", async () => {
    const failure = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      `${server.url}/ctrl.v1.ProjectService/ListProjects`,
    ]).then(
      () => undefined,
      (error: { stderr: string }) => error,
    );
    expect(failure?.stderr).toContain("unauthenticated");
  });

  it("lists the services with reflection", async () => {
    const { stdout } = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-services",
      server.url,
    ]);
    expect(stdout.trim().split("\n")).toEqual([
      "ctrl.v1.DeploymentService",
      "ctrl.v1.ProjectService",
      "grpc.reflection.v1.ServerReflection",
    ]);
  });
});
