/**
 * Build context uploads end to end on the real server (random port, migrated PGlite, or
 * PostgreSQL with DATABASE_URL; in-memory workflow engine) with local build storage wired as
 * main.ts wires it: CreateUploadUrl over Connect, the PUT to ctrl's own upload endpoint with
 * fetch (no API key: the URL is the credential), then CreateDeployment with the key.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  type CreateUploadUrlResponse,
  DeploymentService,
  DeploymentStatus,
  ProjectService,
} from "@ferry/api";
import { createTestDatabase, type TestDatabase } from "@ferry/db/testing";
import { BuildStorage, NOT_UPLOADED_HINT } from "@ferry/domain";
import { InMemoryWorkflowEngine, type WorkflowEngineControl } from "@ferry/domain/testing";
import { generateKey } from "@ferry/secret-box";
import { Effect, Layer, type ManagedRuntime, TestClock, TestContext } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCtrl } from "../src/app.ts";
import { ensureBootstrap } from "../src/auth.ts";
import { wireBuildStorage } from "../src/build-storage.ts";
import { memoryLog } from "../src/log.ts";
import { baseLayer, type CtrlServices, makeRuntime } from "../src/runtime.ts";
import { type CtrlServer, startServer } from "../src/server.ts";
import { uploadSigningSecret } from "../src/upload-signing.ts";
import { authorization, expectError } from "./support.ts";

const TOKEN = "uploads-test-bootstrap-token";
const MAX = 64 * 1024;
const TTL = 900;

let db: TestDatabase;
let storageDir: string;
let runtime: ManagedRuntime.ManagedRuntime<CtrlServices | WorkflowEngineControl, never>;
let server: CtrlServer | undefined;
const log = memoryLog();

let projects: ReturnType<typeof createClient<typeof ProjectService>>;
let deployments: ReturnType<typeof createClient<typeof DeploymentService>>;
let web: string;
let api: string;

beforeAll(async () => {
  db = await createTestDatabase();
  storageDir = mkdtempSync(path.join(tmpdir(), "ferry-ctrl-uploads-"));
  const secretKeys = generateKey("k1");
  const storage = wireBuildStorage(
    { kind: "local", dir: storageDir },
    {
      publicBaseUrl: () => server?.url ?? "",
      signingSecret: uploadSigningSecret(secretKeys),
      log,
    },
  );
  const base = baseLayer({
    prisma: db.prisma,
    platform: { apexDomain: "ferry.test", availableRegions: ["local-1"] },
    secretKeys,
    buildStorage: storage.layer,
    buildContextLimits: { maxSizeBytes: MAX, uploadUrlTtlSeconds: TTL },
  });
  runtime = makeRuntime(InMemoryWorkflowEngine.pipe(Layer.provideMerge(base)), log);
  await runtime.runPromise(ensureBootstrap(TOKEN));
  server = await startServer({
    host: "127.0.0.1",
    port: 0,
    ...makeCtrl({ runtime, log }),
    uploads: storage.uploadHandler,
    health: async () => {},
    log,
  });
  const transport = createConnectTransport({
    baseUrl: server.url,
    httpVersion: "1.1",
    interceptors: [authorization(`Bearer ${TOKEN}`)],
  });
  projects = createClient(ProjectService, transport);
  deployments = createClient(DeploymentService, transport);
  web = (await projects.createProject({ name: "Web", slug: "web" })).project?.id ?? "";
  api = (await projects.createProject({ name: "Api", slug: "api" })).project?.id ?? "";
});

afterAll(async () => {
  await server?.close();
  await runtime?.dispose();
  await db?.close();
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

const archive = (size: number) => new Uint8Array(size).fill(0x1f);

const upload = async (to: CreateUploadUrlResponse, body: Uint8Array) => {
  const response = await fetch(to.uploadUrl, {
    method: to.method,
    headers: to.requiredHeaders,
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const deployFrom = (projectId: string, buildContextPath: string) =>
  deployments.createDeployment({
    projectId,
    environmentSlug: "production",
    source: { case: "buildContext", value: { buildContextPath } },
  });

describe("build context uploads", () => {
  it("CreateUploadUrl, PUT, then CreateDeployment with the key", async () => {
    const before = Date.now();
    const url = await deployments.createUploadUrl({ projectId: web });
    expect(url.method).toBe("PUT");
    expect(url.buildContextPath).toMatch(
      new RegExp(`^projects/${web}/contexts/[0-9a-z]{26}\\.tar\\.gz$`),
    );
    expect(url.uploadUrl.startsWith(`${server?.url}/v1/uploads/${url.buildContextPath}?`)).toBe(
      true,
    );
    expect(url.requiredHeaders).toEqual({});
    expect(url.maxSizeBytes).toBe(BigInt(MAX));
    expect(Number(url.expiresAt)).toBeGreaterThan(before + (TTL - 1) * 1000);

    // Nothing is stored until the upload: CreateDeployment says so.
    await expectError(
      deployFrom(web, url.buildContextPath),
      Code.NotFound,
      `build context "${url.buildContextPath}" not found: ${NOT_UPLOADED_HINT}`,
    );

    expect(await upload(url, archive(1000))).toEqual({
      status: 200,
      body: { key: url.buildContextPath, sizeBytes: 1000 },
    });
    const created = await deployFrom(web, url.buildContextPath);
    expect(created.status).toBe(DeploymentStatus.PENDING);
    const { deployment } = await deployments.getDeployment({ deploymentId: created.deploymentId });
    expect(deployment?.source).toEqual({
      case: "buildContext",
      value: expect.objectContaining({ buildContextPath: url.buildContextPath }),
    });
    const stored = await runtime.runPromise(
      Effect.flatMap(BuildStorage, (storage) => storage.stat(url.buildContextPath)),
    );
    expect(stored).toMatchObject({ value: { sizeBytes: 1000 } });
    // One log line for the upload, without the signature.
    const line = log.lines().find((entry) => entry.msg === "upload");
    expect(line).toMatchObject({ method: "PUT", status: 200 });
    expect(JSON.stringify(line)).not.toContain("sig=");
  });

  it("takes a declared size as exact: required Content-Length, other sizes refused", async () => {
    const url = await deployments.createUploadUrl({ projectId: web, sizeBytes: 500n });
    expect(url.requiredHeaders).toEqual({ "content-length": "500" });
    // fetch will not send a body that contradicts the Content-Length it was given: a client
    // that ignores required_headers sends its own length, and is refused.
    const wrong = await fetch(url.uploadUrl, { method: "PUT", body: archive(400) });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({
      error: "the archive is 400 bytes; this upload URL accepts exactly 500",
    });
    expect((await upload(url, archive(500))).status).toBe(200);
    expect((await deployFrom(web, url.buildContextPath)).status).toBe(DeploymentStatus.PENDING);
  });

  it("refuses another project's key in CreateDeployment", async () => {
    const url = await deployments.createUploadUrl({ projectId: api });
    expect((await upload(url, archive(10))).status).toBe(200);
    await expectError(
      deployFrom(web, url.buildContextPath),
      Code.InvalidArgument,
      `build_context.build_context_path: must be a key under "projects/${web}/contexts/" (it belongs to another project or was not made by CreateUploadUrl)`,
    );
  });

  it("answers NotFound for a project of another workspace, and checks project_id", async () => {
    await expectError(
      deployments.createUploadUrl({ projectId: "prj_01jdz8x4m3q7r2v5w9y0abcdef" }),
      Code.NotFound,
      'project "prj_01jdz8x4m3q7r2v5w9y0abcdef" not found',
    );
    await expectError(
      deployments.createUploadUrl({ projectId: "" }),
      Code.InvalidArgument,
      "project_id: is required",
    );
  });

  it("refuses oversize: a declared size, an upload, and a stored object", async () => {
    for (const sizeBytes of [BigInt(MAX + 1), 0n, -5n])
      await expectError(
        deployments.createUploadUrl({ projectId: web, sizeBytes }),
        Code.InvalidArgument,
        `size_bytes: must be from 1 to ${MAX} bytes, the maximum build context size (got ${sizeBytes})`,
      );

    const url = await deployments.createUploadUrl({ projectId: web });
    expect(await upload(url, archive(MAX + 1))).toEqual({
      status: 413,
      body: { error: `the archive is ${MAX + 1} bytes; this upload URL accepts at most ${MAX}` },
    });

    // An object above the limit that got into storage some other way (an S3 upload without a
    // declared size, a limit lowered since): CreateDeployment refuses it.
    const file = path.join(storageDir, url.buildContextPath);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, archive(MAX + 1));
    await expectError(
      deployFrom(web, url.buildContextPath),
      Code.InvalidArgument,
      `build_context.build_context_path: the archive is ${MAX + 1} bytes, more than the maximum build context size of ${MAX} bytes`,
    );
  });

  it("refuses an expired URL and a tampered one", async () => {
    const key = `projects/${web}/contexts/expired.tar.gz`;
    // Made an hour ago, as CreateUploadUrl made it then.
    const expired = await runtime.runPromise(
      TestClock.setTime(Date.now() - 3600_000).pipe(
        Effect.zipRight(
          Effect.flatMap(BuildStorage, (storage) =>
            storage.createUploadUrl(key, { maxSizeBytes: MAX, expiresInSeconds: TTL }),
          ),
        ),
        Effect.provide(TestContext.TestContext),
      ),
    );
    const response = await fetch(expired.url, { method: "PUT", body: archive(10) });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^the upload URL expired at .+: get a new one from CreateUploadUrl$/,
    );

    const url = await deployments.createUploadUrl({ projectId: web });
    const tampered = url.uploadUrl.replace(`max=${MAX}`, `max=${MAX * 10}`);
    const refused = await fetch(tampered, { method: "PUT", body: archive(10) });
    expect(refused.status).toBe(403);
    await expectError(
      deployFrom(web, key),
      Code.NotFound,
      `build context "${key}" not found: ${NOT_UPLOADED_HINT}`,
    );
  });

  it("keeps the API behind its key while uploads need none", async () => {
    const anonymous = createClient(
      DeploymentService,
      createConnectTransport({ baseUrl: server?.url ?? "", httpVersion: "1.1" }),
    );
    await expectError(
      anonymous.createUploadUrl({ projectId: web }),
      Code.Unauthenticated,
      /^missing API key/,
    );
    // The upload path answers itself (here: no signature), never the API's 401.
    const response = await fetch(`${server?.url}/v1/uploads/projects/${web}/contexts/x.tar.gz`, {
      method: "PUT",
      body: archive(1),
    });
    expect(response.status).toBe(403);
  });
});
