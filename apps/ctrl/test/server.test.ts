/**
 * The real server on a random port, on a real migrated database (PGlite, or
 * PostgreSQL when DATABASE_URL is set) with the in-memory workflow engine:
 * clients generated from the proto over Connect (HTTP/1.1 and h2c), gRPC
 * (h2c) and gRPC-Web (HTTP/1.1); the health endpoint; reflection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Client, Code, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { DeploymentService, DeploymentStatus, ProjectService } from "@ferry/api";
import { localBuildStorage } from "@ferry/build-storage";
import { createTestDatabase, type TestDatabase } from "@ferry/db/testing";
import { ApiKeyRepository } from "@ferry/domain";
import { InMemoryWorkflowEngine, WorkflowEngineControl } from "@ferry/domain/testing";
import { generateKey } from "@ferry/secret-box";
import { Effect, Layer, type ManagedRuntime, Option } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCtrl } from "../src/app.ts";
import { ensureBootstrap, hashToken } from "../src/auth.ts";
import { ServerReflection } from "../src/descriptors.ts";
import { memoryLog } from "../src/log.ts";
import { baseLayer, type CtrlServices, makeRuntime } from "../src/runtime.ts";
import { type CtrlServer, startServer } from "../src/server.ts";
import { authorization, expectError } from "./support.ts";

const TOKEN = "server-test-bootstrap-token";

let db: TestDatabase;
let storage: string;
let runtime: ManagedRuntime.ManagedRuntime<CtrlServices | WorkflowEngineControl, never>;
let server: CtrlServer;
const log = memoryLog();

beforeAll(async () => {
  db = await createTestDatabase();
  storage = mkdtempSync(path.join(tmpdir(), "ferry-ctrl-storage-"));
  const base = baseLayer({
    prisma: db.prisma,
    platform: { apexDomain: "ferry.test", availableRegions: ["local-1", "local-2"] },
    secretKeys: generateKey("k1"),
    buildStorage: localBuildStorage({
      root: storage,
      publicBaseUrl: "http://127.0.0.1:1",
      signingSecret: new Uint8Array(32),
    }),
    buildContextLimits: { maxSizeBytes: 1024 * 1024, uploadUrlTtlSeconds: 900 },
  });
  runtime = makeRuntime(InMemoryWorkflowEngine.pipe(Layer.provideMerge(base)), log);
  await runtime.runPromise(ensureBootstrap(TOKEN));
  server = await startServer({
    host: "127.0.0.1",
    port: 0,
    ...makeCtrl({ runtime, log }),
    health: async () => {
      await db.prisma.$queryRaw`SELECT 1`;
    },
    log,
  });
});

afterAll(async () => {
  await server?.close();
  await runtime?.dispose();
  await db?.close();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

const interceptors = () => [authorization(`Bearer ${TOKEN}`)];
const transports = (): Record<string, Transport> => ({
  "Connect over h2c": createConnectTransport({
    baseUrl: server.url,
    httpVersion: "2",
    interceptors: interceptors(),
  }),
  "Connect over HTTP/1.1": createConnectTransport({
    baseUrl: server.url,
    httpVersion: "1.1",
    interceptors: interceptors(),
  }),
  "gRPC over h2c": createGrpcTransport({ baseUrl: server.url, interceptors: interceptors() }),
  "gRPC-Web over HTTP/1.1": createGrpcWebTransport({
    baseUrl: server.url,
    httpVersion: "1.1",
    interceptors: interceptors(),
  }),
  "gRPC-Web over h2c": createGrpcWebTransport({
    baseUrl: server.url,
    httpVersion: "2",
    interceptors: interceptors(),
  }),
});

describe("the server on a real database", () => {
  it("serves a whole flow, each step over another protocol", async () => {
    const t = transports();
    const over = (name: string) => {
      const transport = t[name];
      if (transport === undefined) throw new Error(name);
      return {
        projects: createClient(ProjectService, transport),
        deployments: createClient(DeploymentService, transport),
      };
    };

    const { project } = await over("Connect over h2c").projects.createProject({
      name: "Web",
      slug: "web",
    });
    const projectId = project?.id ?? "";
    expect(project?.environments.map((e) => e.slug)).toEqual(["production", "preview"]);

    const set = await over("Connect over HTTP/1.1").projects.setEnvironmentVariables({
      projectId,
      environmentSlug: "production",
      variables: [
        { key: "LOG_LEVEL", value: "debug" },
        { key: "DB_PASSWORD", value: "correct-horse-battery", secret: true },
      ],
    });
    expect(set.variables.map((v) => [v.key, v.value, v.secret])).toEqual([
      ["DB_PASSWORD", "", true],
      ["LOG_LEVEL", "debug", false],
    ]);
    const listed = await over("gRPC over h2c").projects.listEnvironmentVariables({
      projectId,
      environmentSlug: "production",
    });
    expect(listed.variables).toEqual(set.variables);
    // Stored sealed: the plaintext is nowhere in the database.
    const rows = await db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(
      "SELECT * FROM environment_variables",
    );
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain("correct-horse-battery");

    const created: Array<string> = [];
    for (const [i, name] of [
      "gRPC over h2c",
      "gRPC-Web over HTTP/1.1",
      "gRPC-Web over h2c",
    ].entries()) {
      const response = await over(name).deployments.createDeployment({
        projectId,
        environmentSlug: "production",
        source: { case: "dockerImage", value: `localhost/web:${i}` },
        gitCommit: { branch: "main", timestamp: BigInt(Date.now() - 1000) },
      });
      expect(response.status).toBe(DeploymentStatus.PENDING);
      created.push(response.deploymentId);
    }

    const { deployment } = await over("gRPC-Web over HTTP/1.1").deployments.getDeployment({
      deploymentId: created[0] ?? "",
    });
    expect(deployment).toMatchObject({
      id: created[0],
      status: DeploymentStatus.PENDING,
      source: { case: "dockerImage", value: "localhost/web:0" },
      gitCommit: expect.objectContaining({ branch: "main" }),
      steps: [],
      hostnames: [],
    });

    const first = await over("Connect over HTTP/1.1").deployments.listDeployments({
      projectId,
      pageSize: 2,
    });
    const second = await over("Connect over h2c").deployments.listDeployments({
      projectId,
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([...first.deployments, ...second.deployments].map((d) => d.id)).toEqual(
      [...created].sort().reverse(),
    );
    expect(second.nextPageToken).toBe("");

    const calls = await runtime.runPromise(
      Effect.flatMap(WorkflowEngineControl, (control) => control.calls),
    );
    expect(calls.filter((call) => call._tag === "startDeploy")).toHaveLength(3);
  });

  it("returns one deployment for concurrent duplicates of an idempotency key (unique index)", async () => {
    const transport = createGrpcTransport({ baseUrl: server.url, interceptors: interceptors() });
    const projects = createClient(ProjectService, transport);
    const deployments = createClient(DeploymentService, transport);
    const { project } = await projects.createProject({ name: "Api", slug: "api" });
    const before = await runtime.runPromise(
      Effect.flatMap(WorkflowEngineControl, (control) => control.calls),
    );
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        deployments.createDeployment({
          projectId: project?.id ?? "",
          environmentSlug: "production",
          source: { case: "dockerImage", value: "localhost/api:1" },
          idempotencyKey: "release-2026-11-27",
        }),
      ),
    );
    expect(new Set(responses.map((r) => r.deploymentId)).size).toBe(1);
    const after = await runtime.runPromise(
      Effect.flatMap(WorkflowEngineControl, (control) => control.calls),
    );
    expect(after.length - before.length).toBe(1);
    const listed = await deployments.listDeployments({ projectId: project?.id ?? "" });
    expect(listed.deployments).toHaveLength(1);
  });

  it("answers errors with their codes on every protocol", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const deployments = createClient(DeploymentService, transport);
      const error = await expectError(
        deployments.getDeployment({ deploymentId: "" }),
        Code.InvalidArgument,
        "deployment_id: is required",
      );
      expect(error.metadata.get("x-request-id"), name).toMatch(/^[0-9a-f-]{36}$/);
    }
    const anonymous = createClient(ProjectService, createGrpcTransport({ baseUrl: server.url }));
    await expectError(anonymous.listProjects({}), Code.Unauthenticated, /^missing API key/);
  });

  it("serves /healthz and 404 elsewhere", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
  });

  it("answers gRPC reflection over HTTP/2", async () => {
    const reflection: Client<typeof ServerReflection> = createClient(
      ServerReflection,
      createGrpcTransport({ baseUrl: server.url }),
    );
    const requests = async function* () {
      yield { messageRequest: { case: "listServices", value: "" } } as const;
      yield {
        messageRequest: { case: "fileContainingSymbol", value: "ctrl.v1.ProjectService" },
      } as const;
      yield { messageRequest: { case: "fileByFilename", value: "ctrl/v1/common.proto" } } as const;
      yield { messageRequest: { case: "fileContainingSymbol", value: "ctrl.v1.Nope" } } as const;
    };
    const answers = [];
    for await (const answer of reflection.serverReflectionInfo(requests())) answers.push(answer);
    expect(answers.map((a) => a.messageResponse.case)).toEqual([
      "listServicesResponse",
      "fileDescriptorResponse",
      "fileDescriptorResponse",
      "errorResponse",
    ]);
    const [list, file, common, missing] = answers.map((a) => a.messageResponse);
    expect(list?.case === "listServicesResponse" && list.value.service.map((s) => s.name)).toEqual([
      "ctrl.v1.DeploymentService",
      "ctrl.v1.ProjectService",
      "grpc.reflection.v1.ServerReflection",
    ]);
    // project.proto and its dependency common.proto; common.proto again when asked by name.
    expect(file?.case === "fileDescriptorResponse" && file.value.fileDescriptorProto).toHaveLength(
      2,
    );
    expect(
      common?.case === "fileDescriptorResponse" && common.value.fileDescriptorProto,
    ).toHaveLength(1);
    expect(missing?.value).toMatchObject({
      errorCode: 5,
      errorMessage: "symbol not found: ctrl.v1.Nope",
    });
  });

  it("refuses, at start, a bootstrap token that was revoked (the database keeps hashes unique)", async () => {
    await runtime.runPromise(ensureBootstrap("revoked-bootstrap-token"));
    await runtime.runPromise(
      Effect.gen(function* () {
        const keys = yield* ApiKeyRepository;
        const key = yield* keys.findActiveByHash(hashToken("revoked-bootstrap-token"));
        yield* keys.revoke(Option.getOrThrow(key).id, Date.now());
      }),
    );
    const error = await runtime.runPromise(Effect.flip(ensureBootstrap("revoked-bootstrap-token")));
    expect(error.message).toBe(
      "FERRY_BOOTSTRAP_TOKEN could not be registered: it is a revoked key; choose another token",
    );
  });
});
