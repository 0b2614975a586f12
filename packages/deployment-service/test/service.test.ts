/**
 * createDeploymentService on a real database (a migrated PGlite served over the PostgreSQL
 * protocol, as the stack serves it) and real build storage (a directory, and S3 on s3rver), with
 * no Restate: everything that does not start a workflow. The whole stack (deploys to READY,
 * promote, rollback, cancel, watch) is exercised by examples/embedded-service.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { startTestS3Server, type TestS3Server } from "@ferry/build-storage/testing";
import { openDatabase } from "@ferry/db";
import { createTestDatabase, type TestDatabase } from "@ferry/db/testing";
import { DeploymentRepository, Ids } from "@ferry/domain";
import { generateKey } from "@ferry/secret-box";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BuildStorageRefused,
  createDeploymentService,
  DatabaseSchemaBehind,
  type DeploymentService,
  type DeploymentServiceConfig,
  InternalError,
  NotFound,
  ServiceClosed,
  ValidationError,
  WorkflowUnavailable,
} from "../src/index.ts";

let db: TestDatabase;
let storageDir: string;
let service: DeploymentService;
const secretKeys = generateKey("k1");

const newWorkspace = async (slug: string) => {
  const id = await Effect.runPromise(
    Effect.flatMap(Ids, (ids) => ids.next("workspace")).pipe(Effect.provide(Ids.layer)),
  );
  await db.prisma.workspace.create({ data: { id, name: slug, slug } });
  return id;
};

const configFor = (overrides: Partial<DeploymentServiceConfig> = {}): DeploymentServiceConfig => ({
  database: db.url,
  // Nothing listens there: no test here starts a workflow.
  restate: {
    ingressUrl: "http://127.0.0.1:9",
    adminUrl: "http://127.0.0.1:9",
    requestTimeoutMs: 2_000,
  },
  regions: ["local-1", "local-2"],
  apexDomain: "ferry.test",
  buildStorage: { kind: "local", dir: storageDir },
  secretKeys,
  workspace: "acme",
  log: () => undefined,
  ...overrides,
});

beforeAll(async () => {
  db = await createTestDatabase({ kind: "pglite" });
  storageDir = await mkdtemp(path.join(tmpdir(), "ferry-library-storage-"));
  await newWorkspace("acme");
  service = await createDeploymentService(configFor());
});

afterAll(async () => {
  await service?.close();
  await db?.close();
  await rm(storageDir, { recursive: true, force: true });
});

/** The rejection of `promise` (fails the test when it resolves). */
const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );

describe("createDeploymentService", () => {
  it("reports every configuration problem at once, naming the field, never a secret", async () => {
    const error = await rejection(
      createDeploymentService({
        ...configFor(),
        database: "mysql://root:hunter2@db/x",
        regions: ["Local_1", "b", "b"],
        apexDomain: "",
        secretKeys: "not-a-key-ring",
        restate: { ingressUrl: "127.0.0.1:8080", adminUrl: "http://127.0.0.1:9070" },
        workspace: " ",
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    const fields = (error as ValidationError).violations.map((v) => v.field);
    expect(fields).toEqual([
      "database",
      "restate.ingressUrl",
      "regions[0]",
      "regions[2]",
      "apexDomain",
      "secretKeys",
      "workspace",
    ]);
    expect((error as ValidationError).message).not.toContain("hunter2");
  });

  it("an unreachable database is named (without its password) in the rejection", async () => {
    const error = await rejection(
      createDeploymentService(
        configFor({ database: "postgresql://ferry:hunter2@127.0.0.1:9/ferry" }),
      ),
    );
    expect((error as Error).message).toMatch(
      /^cannot read the database PostgreSQL \(postgresql:\/\/ferry:\*\*\*@127\.0\.0\.1:9\/ferry\): /,
    );
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("an unknown workspace is NotFound", async () => {
    const error = await rejection(createDeploymentService(configFor({ workspace: "nobody" })));
    expect(error).toBeInstanceOf(NotFound);
    expect((error as NotFound).message).toBe('workspace "nobody" not found');
  });

  it("acts for the workspace named by id as well as by slug", async () => {
    const id = await newWorkspace("by-id");
    const other = await createDeploymentService(configFor({ workspace: id }));
    try {
      expect(other.workspace).toMatchObject({ id, slug: "by-id" });
      await other.projects.create({ name: "Theirs", slug: "theirs" });
      // Workspaces do not see each other's projects.
      expect(await rejection(service.projects.get("theirs"))).toBeInstanceOf(NotFound);
    } finally {
      await other.close();
    }
  });

  it("refuses a database whose schema is behind, naming the command; migrate: true applies it", async () => {
    const empty = await openDatabase({ kind: "pglite", dataDir: "memory" });
    try {
      const error = await rejection(createDeploymentService(configFor({ database: empty.url })));
      expect(error).toBeInstanceOf(DatabaseSchemaBehind);
      expect((error as DatabaseSchemaBehind).pending.length).toBeGreaterThan(0);
      expect((error as Error).message).toContain("pnpm db migrate");
      expect((error as Error).message).toContain("migrate: true");
      // Migrated: the schema is current, and the workspace (missing in this database) is what fails.
      const migrated = await rejection(
        createDeploymentService(configFor({ database: empty.url, migrate: true })),
      );
      expect(migrated).toBeInstanceOf(NotFound);
    } finally {
      await empty.close();
    }
    // Two migrations of a fresh PGlite (initdb in Wasm): seconds alone, a minute on a busy machine.
  }, 240_000);

  it("projects: create, get by id and slug, list; a duplicate slug is AlreadyExists", async () => {
    const created = await service.projects.create({ name: "Web", slug: "web" });
    expect(created.project.slug).toBe("web");
    expect(created.environments.map((e) => e.slug).sort()).toEqual(["preview", "production"]);
    expect((await service.projects.get(created.project.id)).project.id).toBe(created.project.id);
    expect((await service.projects.get("web")).project.id).toBe(created.project.id);
    const page = await service.projects.list();
    expect(page.projects.map((p) => p.project.slug)).toContain("web");
    const duplicate = await rejection(service.projects.create({ name: "Web", slug: "web" }));
    expect((duplicate as { _tag: string })._tag).toBe("AlreadyExists");
  });

  it("variables: a secret's value is never returned; a bad key is a ValidationError naming it", async () => {
    const { project } = await service.projects.get("web");
    const set = await service.projects.setVariables(project.id, "production", [
      { key: "GREETING", value: "hello" },
      { key: "API_TOKEN", value: "s3cr3t-value", secret: true },
    ]);
    const listed = await service.projects.listVariables(project.id, "production");
    for (const variables of [set, listed]) {
      expect([...variables].sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { key: "API_TOKEN", value: "", secret: true },
        { key: "GREETING", value: "hello", secret: false },
      ]);
      expect(JSON.stringify(variables)).not.toContain("s3cr3t-value");
    }
    const bad = await rejection(
      service.projects.setVariables(project.id, "production", [{ key: "1 bad", value: "x" }]),
    );
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).violations[0]?.field).toBe("variables[0].key");
  });

  it("deployments: a malformed image is a ValidationError with the field; an unknown id is NotFound", async () => {
    const { project } = await service.projects.get("web");
    const invalid = await rejection(
      service.deployments.create({
        projectId: project.id,
        environmentSlug: "production",
        source: { image: "Not An Image!" },
      }),
    );
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).violations.map((v) => v.field)).toEqual(["source.image"]);
    const unknown = "dep_01jf0000000000000000000000";
    const missing = await rejection(service.deployments.get(unknown));
    expect(missing).toBeInstanceOf(NotFound);
    expect((missing as NotFound).message).toBe(`deployment "${unknown}" not found`);
    expect(await rejection(service.deployments.get("nope"))).toBeInstanceOf(ValidationError);
  });

  it("Restate unreachable: create rejects WorkflowUnavailable, the deployment is FAILED, its watch ends", async () => {
    const { project } = await service.projects.get("web");
    const error = await rejection(
      service.deployments.create({
        projectId: project.id,
        environmentSlug: "production",
        source: { image: "localhost/web:1" },
      }),
    );
    expect(error).toBeInstanceOf(WorkflowUnavailable);
    const [failed] = (await service.deployments.list(project.id)).deployments;
    expect(failed?.deployment.status).toBe("FAILED");
    expect(failed?.deployment.errorMessage).toContain("the deploy workflow could not be started");
    const statuses: Array<string> = [];
    for await (const event of service.deployments.watch(failed?.deployment.id ?? ""))
      if (event.body._tag === "Status") statuses.push(event.body.status);
    expect(statuses).toEqual(["PENDING", "FAILED"]);
  });

  it("uploadBuildContext (local): the archive lands under a fresh key of the project", async () => {
    const { project } = await service.projects.get("web");
    const bytes = Buffer.from("not really a tar.gz, but bytes are bytes");
    const fromBuffer = await service.deployments.uploadBuildContext(project.id, bytes);
    expect(fromBuffer.buildContextPath).toMatch(
      new RegExp(`^projects/${project.id}/contexts/[0-9a-z]{26}\\.tar\\.gz$`),
    );
    expect(fromBuffer.sizeBytes).toBe(bytes.length);
    expect(readFileSync(path.join(storageDir, fromBuffer.buildContextPath))).toEqual(bytes);
    const fromStream = await service.deployments.uploadBuildContext(
      project.id,
      Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]),
    );
    expect(fromStream.buildContextPath).not.toBe(fromBuffer.buildContextPath);
    expect(readFileSync(path.join(storageDir, fromStream.buildContextPath))).toEqual(bytes);
  });

  it("uploadBuildContext refuses an archive over the limit and leaves no file behind", async () => {
    const limited = await createDeploymentService(
      configFor({ buildContextLimits: { maxSizeBytes: 16 } }),
    );
    try {
      const { project } = await limited.projects.get("web");
      const before = await readdir(storageDir, { recursive: true });
      const error = await rejection(
        limited.deployments.uploadBuildContext(project.id, Buffer.alloc(17)),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain("maximum build context size of 16 bytes");
      expect(await readdir(storageDir, { recursive: true })).toEqual(before);
      const unknown = await rejection(
        limited.deployments.uploadBuildContext("prj_01jf0000000000000000000000", Buffer.alloc(1)),
      );
      expect(unknown).toBeInstanceOf(NotFound);
    } finally {
      await limited.close();
    }
  });

  describe("on S3 build storage", () => {
    let s3: TestS3Server;
    beforeAll(async () => {
      s3 = await startTestS3Server();
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it("uploadBuildContext PUTs the archive to the bucket under the project's key", async () => {
      const onS3 = await createDeploymentService(
        configFor({ buildStorage: { kind: "s3", ...s3.config } }),
      );
      try {
        const { project } = await onS3.projects.get("web");
        const bytes = Buffer.from("archive on s3");
        const uploaded = await onS3.deployments.uploadBuildContext(project.id, bytes);
        expect(uploaded.sizeBytes).toBe(bytes.length);
        const answer = await fetch(
          `${s3.config.endpoint}/${s3.config.bucket}/${uploaded.buildContextPath}`,
        );
        expect(answer.status).toBe(200);
        expect(Buffer.from(await answer.arrayBuffer())).toEqual(bytes);
      } finally {
        await onS3.close();
      }
    });

    it("uploadBuildContext: S3 refusing the credentials is BuildStorageRefused (not retryable), naming status and code", async () => {
      const wrong = await createDeploymentService(
        configFor({
          buildStorage: {
            kind: "s3",
            ...s3.config,
            accessKeyId: "NOT-AN-ACCOUNT",
            secretAccessKey: "wrong-secret-value",
          },
        }),
      );
      try {
        const { project } = await wrong.projects.get("web");
        const error = await rejection(
          wrong.deployments.uploadBuildContext(project.id, Buffer.from("refused")),
        );
        expect(error).toBeInstanceOf(BuildStorageRefused);
        expect(error).not.toBeInstanceOf(WorkflowUnavailable);
        expect(error).toMatchObject({ status: 403, code: "InvalidAccessKeyId" });
        expect((error as Error).message).toBe(
          "build storage refused the upload (HTTP 403, InvalidAccessKeyId): check buildStorage.accessKeyId; retrying will not help",
        );
      } finally {
        await wrong.close();
      }
    });
  });

  describe("uploadBuildContext on S3 that answers an error", () => {
    // s3rver does not verify SigV4 signatures, so S3's own answers are played by a real HTTP
    // server: real S3 puts the canonical request (the presigned URL's path and query) into a
    // SignatureDoesNotMatch answer, and none of it may reach the caller.
    const SECRET = "the-secret-access-key";
    let answer = { status: 403, code: "SignatureDoesNotMatch" };
    const seen: Array<string> = [];
    const server = createServer((request, response) => {
      seen.push(request.url ?? "");
      request.resume();
      request.on("end", () => {
        response.writeHead(answer.status, { "content-type": "application/xml" });
        response.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>refused</Message><CanonicalRequest>PUT ${request.url}</CanonicalRequest></Error>`,
        );
      });
    });
    let onS3: DeploymentService;
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      onS3 = await createDeploymentService(
        configFor({
          buildStorage: {
            kind: "s3",
            endpoint: `http://127.0.0.1:${port}`,
            region: "us-east-1",
            bucket: "ferry-test",
            accessKeyId: "AKIDEXAMPLE",
            secretAccessKey: SECRET,
            forcePathStyle: true,
          },
        }),
      );
    });
    afterAll(async () => {
      await onS3?.close();
      await new Promise((resolve) => server.close(resolve));
    });

    const upload = async () => {
      const { project } = await onS3.projects.get("web");
      return rejection(onS3.deployments.uploadBuildContext(project.id, Buffer.from("archive")));
    };

    it("403 SignatureDoesNotMatch is BuildStorageRefused; neither the secret nor the signature leaks", async () => {
      answer = { status: 403, code: "SignatureDoesNotMatch" };
      const error = await upload();
      expect(error).toBeInstanceOf(BuildStorageRefused);
      expect(error).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
      expect((error as Error).message).toContain("check buildStorage.secretAccessKey");
      const signature = new URL(seen.at(-1) ?? "", "http://x").searchParams.get("X-Amz-Signature");
      expect(signature).toMatch(/^[0-9a-f]{64}$/);
      const shown = `${(error as Error).message} ${JSON.stringify(error)}`;
      for (const secret of [signature ?? "", SECRET, "X-Amz-"]) expect(shown).not.toContain(secret);
    });

    it("403 RequestTimeTooSkewed names the clock", async () => {
      answer = { status: 403, code: "RequestTimeTooSkewed" };
      const error = await upload();
      expect(error).toBeInstanceOf(BuildStorageRefused);
      expect((error as Error).message).toContain("clock");
    });

    it("5xx, and 4xx that mean 'not now' (RequestTimeout, 429), are WorkflowUnavailable: retry later", async () => {
      for (const [status, code] of [
        [503, "SlowDown"],
        [500, "InternalError"],
        [400, "RequestTimeout"],
        [429, "TooManyRequests"],
      ] as const) {
        answer = { status, code };
        const error = await upload();
        expect(error).toBeInstanceOf(WorkflowUnavailable);
        expect((error as Error).message).toBe(
          `build storage is unavailable: the upload failed (HTTP ${status}, ${code})`,
        );
      }
    });
  });

  it("uploadBuildContext: S3 that cannot be reached is WorkflowUnavailable", async () => {
    const unreachable = await createDeploymentService(
      configFor({
        buildStorage: {
          kind: "s3",
          endpoint: "http://127.0.0.1:9",
          region: "us-east-1",
          bucket: "ferry-test",
          accessKeyId: "AKIDEXAMPLE",
          secretAccessKey: "the-secret-access-key",
          forcePathStyle: true,
        },
      }),
    );
    try {
      const { project } = await unreachable.projects.get("web");
      const error = await rejection(
        unreachable.deployments.uploadBuildContext(project.id, Buffer.from("archive")),
      );
      expect(error).toBeInstanceOf(WorkflowUnavailable);
      expect((error as Error).message).toContain("ECONNREFUSED");
      expect((error as Error).message).not.toContain("X-Amz-");
    } finally {
      await unreachable.close();
    }
  });

  it("uploadBuildContext: a local file system failure is InternalError, naming the failure", async () => {
    // A directory cannot be made under a regular file (ENOTDIR), even as root.
    const file = path.join(storageDir, "not-a-directory");
    await writeFile(file, "");
    const broken = await createDeploymentService(
      configFor({ buildStorage: { kind: "local", dir: path.join(file, "contexts") } }),
    );
    try {
      const { project } = await broken.projects.get("web");
      const error = await rejection(
        broken.deployments.uploadBuildContext(project.id, Buffer.from("archive")),
      );
      expect(error).toBeInstanceOf(InternalError);
      expect((error as Error).message).toMatch(
        /^internal error: could not write the build context: ENOTDIR: /,
      );
    } finally {
      await broken.close();
      await rm(file, { force: true });
    }
  });

  it("uploadBuildContext: a caller's stream that fails is a ValidationError on body, and leaves no file", async () => {
    const { project } = await service.projects.get("web");
    const before = await readdir(storageDir, { recursive: true });
    const failing = new Readable({ read() {} });
    failing.push(Buffer.from("half an archive"));
    setTimeout(() => failing.destroy(new Error("ENOENT: the source file went away")), 20);
    const error = await rejection(service.deployments.uploadBuildContext(project.id, failing));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      {
        field: "body",
        message: "the archive stream failed before its end: ENOENT: the source file went away",
      },
    ]);
    expect(await readdir(storageDir, { recursive: true })).toEqual(before);
  });

  it("uploadBuildContext: a stream that fails before it is read (while the upload URL is made) is the same ValidationError, never an uncaught error", async () => {
    const { project } = await service.projects.get("web");
    const before = await readdir(storageDir, { recursive: true });
    const failing = new Readable({ read() {} });
    failing.destroy(new Error("ENOENT: the source file went away"));
    const error = await rejection(service.deployments.uploadBuildContext(project.id, failing));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      {
        field: "body",
        message: "the archive stream failed before its end: ENOENT: the source file went away",
      },
    ]);
    expect(await readdir(storageDir, { recursive: true })).toEqual(before);
  });

  it("close() ends a watch that is waiting with ServiceClosed (Effect users run use cases on `runtime`)", async () => {
    const closing = await createDeploymentService(configFor());
    const { project, environments } = await closing.projects.get("web");
    const production = environments.find((e) => e.slug === "production");
    if (production === undefined) throw new Error("the project has no production environment");
    // A PENDING deployment that no workflow will move, stored through the runtime's repository.
    const id = await closing.runtime.runPromise(
      Effect.gen(function* () {
        const deploymentId = yield* (yield* Ids).next("deployment");
        yield* (yield* DeploymentRepository).create({
          id: deploymentId,
          workspaceId: closing.workspace.id,
          projectId: project.id,
          environmentId: production.id,
          environmentSlug: "production",
          status: "PENDING",
          source: { _tag: "DockerImage", image: "localhost/web:1" },
          image: "localhost/web:1",
          regions: ["local-1"],
          createdAt: Date.now(),
          updatedAt: Date.now(),
        });
        return deploymentId;
      }),
    );
    const seen: Array<string> = [];
    const watching = (async () => {
      for await (const event of closing.deployments.watch(id))
        if (event.body._tag === "Status") seen.push(event.body.status);
    })();
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // Its outcome is awaited after close(): take it now, so the rejection is handled when it comes.
    const outcome = rejection(watching);
    await closing.close();
    expect(await outcome).toBeInstanceOf(ServiceClosed);
    expect(seen).toEqual(["PENDING"]);
  });

  it("close() releases everything; later calls reject with ServiceClosed", async () => {
    const closing = await createDeploymentService(configFor());
    await closing.close();
    await closing.close();
    expect(await rejection(closing.projects.list())).toBeInstanceOf(ServiceClosed);
  });
});
