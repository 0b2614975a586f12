/**
 * Authentication and workspace isolation, through the in-memory router
 * transport with clients generated from the proto.
 */
import { Code, createClient } from "@connectrpc/connect";
import { DeploymentService, ProjectService } from "@ferry/api";
import { ApiKeyRepository } from "@ferry/domain";
import { Effect, Option } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashToken } from "../src/auth.ts";
import { expectError, MISSING_PROJECT, makeWorld, type World } from "./support.ts";

let world: World;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.dispose());

describe("authentication", () => {
  it("refuses a call without an Authorization header", async () => {
    const projects = createClient(ProjectService, world.transport(null));
    await expectError(
      projects.listProjects({}),
      Code.Unauthenticated,
      "missing API key: send the header `Authorization: Bearer <api key>`",
    );
  });

  it("refuses a header that is not a bearer token", async () => {
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer two words", "token"]) {
      const projects = createClient(ProjectService, world.transport({ header }));
      await expectError(
        projects.listProjects({}),
        Code.Unauthenticated,
        'malformed Authorization header: expected "Bearer <api key>"; send the header `Authorization: Bearer <api key>`',
      );
    }
  });

  it("refuses an unknown key and a revoked key alike", async () => {
    const unknown = createClient(ProjectService, world.transport({ token: "ferry_not-a-key" }));
    await expectError(
      unknown.listProjects({}),
      Code.Unauthenticated,
      "invalid API key: it is unknown or was revoked; check the key you send",
    );

    await world.run(
      Effect.gen(function* () {
        const keys = yield* ApiKeyRepository;
        const key = yield* keys.findActiveByHash(hashToken(world.acme.token));
        yield* keys.revoke(Option.getOrThrow(key).id, Date.now());
      }),
    );
    const revoked = createClient(ProjectService, world.transport({ token: world.acme.token }));
    await expectError(
      revoked.listProjects({}),
      Code.Unauthenticated,
      "invalid API key: it is unknown or was revoked; check the key you send",
    );
  });

  it("accepts the scheme in any case", async () => {
    const projects = createClient(
      ProjectService,
      world.transport({ header: `bearer ${world.acme.token}` }),
    );
    expect((await projects.listProjects({})).projects).toEqual([]);
  });

  it("authenticates every RPC, implemented or not", async () => {
    const deployments = createClient(DeploymentService, world.transport(null));
    for (const call of [
      deployments.listRegions({}),
      deployments.createUploadUrl({}),
      deployments.getBuildLogs({}),
      deployments.cancelDeployment({}),
    ])
      await expectError(call, Code.Unauthenticated, /^missing API key/);
    const stream = deployments.watchDeployment({});
    await expectError(
      (async () => {
        for await (const _ of stream);
      })(),
      Code.Unauthenticated,
      /^missing API key/,
    );
  });

  it("records when a key was last used", async () => {
    const { projects } = world.clients(world.acme.token);
    await projects.listProjects({});
    const key = await world.run(
      Effect.flatMap(ApiKeyRepository, (keys) =>
        keys.findActiveByHash(hashToken(world.acme.token)),
      ),
    );
    expect(Option.getOrThrow(key).lastUsedAt).toEqual(expect.any(Number));
  });
});

describe("workspace isolation", () => {
  it("answers NotFound for another workspace's project and deployment, exactly as for missing ones", async () => {
    const acme = world.clients(world.acme.token);
    const globex = world.clients(world.globex.token);
    const { project } = await acme.projects.createProject({ name: "Web", slug: "web" });
    const projectId = project?.id ?? "";
    const { deploymentId } = await acme.deployments.createDeployment({
      projectId,
      environmentSlug: "production",
      source: { case: "dockerImage", value: "localhost/web:1" },
    });

    await expectError(
      globex.projects.getProject({ key: { case: "projectId", value: projectId } }),
      Code.NotFound,
      `project "${projectId}" not found`,
    );
    await expectError(
      globex.projects.getProject({ key: { case: "slug", value: "web" } }),
      Code.NotFound,
      'project "web" not found',
    );
    await expectError(
      globex.projects.getProject({ key: { case: "projectId", value: MISSING_PROJECT } }),
      Code.NotFound,
      `project "${MISSING_PROJECT}" not found`,
    );
    await expectError(
      globex.deployments.getDeployment({ deploymentId }),
      Code.NotFound,
      `deployment "${deploymentId}" not found`,
    );
    await expectError(
      globex.deployments.createDeployment({
        projectId,
        environmentSlug: "production",
        source: { case: "dockerImage", value: "localhost/web:1" },
      }),
      Code.NotFound,
      `project "${projectId}" not found`,
    );
    await expectError(
      globex.deployments.listDeployments({ projectId }),
      Code.NotFound,
      `project "${projectId}" not found`,
    );
    await expectError(
      globex.deployments.cancelDeployment({ deploymentId }),
      Code.NotFound,
      `deployment "${deploymentId}" not found`,
    );
    await expectError(
      globex.deployments.promote({ targetDeploymentId: deploymentId }),
      Code.NotFound,
      `deployment "${deploymentId}" not found`,
    );
    await expectError(
      globex.projects.setEnvironmentVariables({
        projectId,
        environmentSlug: "production",
        variables: [{ key: "A", value: "b" }],
      }),
      Code.NotFound,
      `project "${projectId}" not found`,
    );
    expect((await globex.projects.listProjects({})).projects).toEqual([]);
    // Nothing changed for acme.
    const stillThere = await acme.deployments.getDeployment({ deploymentId });
    expect(stillThere.deployment?.status).toBeGreaterThan(0);
  });
});

describe("request logs", () => {
  it("writes one JSON line per call with the request id, procedure, code and duration, and never the key", async () => {
    const { projects } = world.clients(world.acme.token);
    let header: string | null = null;
    await projects.listProjects({}, { onHeader: (h) => (header = h.get("x-request-id")) });
    await expectError(
      createClient(ProjectService, world.transport({ token: "ferry_wrong" })).listProjects({}),
      Code.Unauthenticated,
      /invalid API key/,
    );

    const lines = world.log.lines().filter((line) => line.msg === "rpc");
    expect(lines).toEqual([
      {
        time: expect.any(String),
        level: "info",
        msg: "rpc",
        requestId: header,
        procedure: "/ctrl.v1.ProjectService/ListProjects",
        protocol: "connect",
        code: "ok",
        durationMs: expect.any(Number),
        workspaceId: world.acme.workspace.id,
      },
      {
        time: expect.any(String),
        level: "info",
        msg: "rpc",
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        procedure: "/ctrl.v1.ProjectService/ListProjects",
        protocol: "connect",
        code: "unauthenticated",
        durationMs: expect.any(Number),
      },
    ]);
    const everything = JSON.stringify(world.log.lines());
    expect(everything).not.toContain(world.acme.token);
    expect(everything).not.toContain("ferry_wrong");
  });
});
