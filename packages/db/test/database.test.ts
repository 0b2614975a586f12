import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Database,
  type DatabaseConfig,
  databaseConfigFromEnv,
  openDatabase,
  Prisma,
  type PrismaClient,
} from "../src/index.ts";
import { createThrowawayPostgres, testDatabaseKinds, withTestDatabase } from "../src/testing.ts";

async function seed(prisma: PrismaClient, suffix = "1") {
  const workspace = await prisma.workspace.create({
    data: { id: `ws_${suffix}`, name: "Acme", slug: `acme-${suffix}` },
  });
  const project = await prisma.project.create({
    data: { id: `prj_${suffix}`, workspaceId: workspace.id, name: "Web", slug: "web" },
  });
  const environment = await prisma.environment.create({
    data: {
      id: `env_${suffix}`,
      workspaceId: workspace.id,
      projectId: project.id,
      slug: "production",
      kind: "PRODUCTION",
    },
  });
  const deployment = await prisma.deployment.create({
    data: {
      id: `dep_${suffix}`,
      workspaceId: workspace.id,
      projectId: project.id,
      environmentId: environment.id,
      sourceKind: "DOCKER_IMAGE",
      dockerImage: "registry.local/web:1",
      regions: ["local"],
      envSnapshot: { PLAIN: { value: "1" } },
      gitCommitTimestamp: 1_764_000_000_000n,
    },
  });
  return { workspace, project, environment, deployment };
}

const kinds = testDatabaseKinds();

describe.each(kinds)("openDatabase() on %s", (kind) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup();
    }
  });

  async function config(): Promise<DatabaseConfig> {
    if (kind === "pglite") {
      const dir = mkdtempSync(path.join(tmpdir(), "ferry-pglite-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return { kind: "pglite", dataDir: path.join(dir, "pglite") };
    }
    const server = await createThrowawayPostgres();
    cleanups.push(() => server.drop());
    return { kind: "postgres", url: server.url };
  }

  it("migrates, writes, reads, runs interactive transactions, and keeps the data across a reopen", async () => {
    const cfg = await config();
    let db: Database | undefined = await openDatabase(cfg, { migrate: true });
    try {
      expect(db.migration?.applied.length).toBeGreaterThan(0);
      const { deployment } = await seed(db.prisma);
      const read = await db.prisma.deployment.findUniqueOrThrow({
        where: { id: deployment.id },
        include: { project: true },
      });
      expect(read).toMatchObject({
        status: "PENDING",
        regions: ["local"],
        envSnapshot: { PLAIN: { value: "1" } },
        gitCommitTimestamp: 1_764_000_000_000n,
        project: { containerPort: 8080, healthCheckPath: "/", rolledBack: false },
      });

      // Interactive transaction: committed.
      await db.prisma.$transaction(async (tx) => {
        const project = await tx.project.findUniqueOrThrow({ where: { id: "prj_1" } });
        await tx.project.update({
          where: { id: project.id },
          data: { liveDeploymentId: deployment.id, rolledBack: !project.rolledBack },
        });
      });
      // Interactive transaction: rolled back by an error.
      await expect(
        db.prisma.$transaction(async (tx) => {
          await tx.deployment.update({ where: { id: deployment.id }, data: { status: "READY" } });
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");
      expect(
        await db.prisma.deployment.findUniqueOrThrow({ where: { id: deployment.id } }),
      ).toMatchObject({ status: "PENDING" });

      // Unique constraints surface as Prisma's P2002.
      const duplicate = await db.prisma.workspace
        .create({ data: { id: "ws_2", name: "Again", slug: "acme-1" } })
        .catch((error: unknown) => error);
      expect(duplicate).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
      expect((duplicate as Prisma.PrismaClientKnownRequestError).code).toBe("P2002");

      if (cfg.kind === "pglite") {
        // One user at a time per data directory.
        await expect(openDatabase(cfg)).rejects.toThrow(/in use by this process/);
      }

      await db.close();
      db = undefined;
      if (cfg.kind === "pglite") {
        expect(existsSync(`${cfg.dataDir}.lock`)).toBe(false);
      }

      db = await openDatabase(cfg, { migrate: true });
      expect(db.migration?.applied).toEqual([]);
      expect(await db.prisma.project.findUniqueOrThrow({ where: { id: "prj_1" } })).toMatchObject({
        liveDeploymentId: deployment.id,
        rolledBack: true,
      });
    } finally {
      await db?.close();
    }
  });
});

describe.each(kinds)("the schema's rules on %s (withTestDatabase)", (kind) => {
  it("cascades from a workspace down, but never deletes a deployment that traffic goes to", async () => {
    await withTestDatabase(
      async ({ prisma }) => {
        const { workspace, project, environment, deployment } = await seed(prisma);
        await prisma.frontlineRoute.create({
          data: {
            id: "rt_1",
            workspaceId: workspace.id,
            projectId: project.id,
            environmentId: environment.id,
            deploymentId: deployment.id,
            hostname: "web-acme.ferry.test",
            kind: "LIVE",
          },
        });
        await prisma.deploymentStep.create({
          data: { id: "stp_1", deploymentId: deployment.id, name: "BUILDING", status: "SUCCEEDED" },
        });
        await prisma.event.create({
          data: {
            deploymentId: deployment.id,
            seq: 1n,
            type: "STATUS",
            payload: { status: "PENDING", isLive: false },
            createdAt: new Date(),
          },
        });

        // A routed deployment cannot be deleted (FK RESTRICT)…
        const restricted = await prisma.deployment
          .delete({ where: { id: deployment.id } })
          .catch((error: unknown) => error);
        expect(restricted).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
        // …nor the live one.
        await prisma.frontlineRoute.delete({ where: { id: "rt_1" } });
        await prisma.project.update({
          where: { id: project.id },
          data: { liveDeploymentId: deployment.id },
        });
        await expect(prisma.deployment.delete({ where: { id: deployment.id } })).rejects.toThrow();

        // Deleting the workspace takes everything with it, routes and live pointer included.
        await prisma.frontlineRoute.create({
          data: {
            id: "rt_2",
            workspaceId: workspace.id,
            projectId: project.id,
            environmentId: environment.id,
            deploymentId: deployment.id,
            hostname: "web-acme-2.ferry.test",
            kind: "DEPLOYMENT",
          },
        });
        await prisma.workspace.delete({ where: { id: workspace.id } });
        expect(
          await Promise.all([
            prisma.project.count(),
            prisma.deployment.count(),
            prisma.frontlineRoute.count(),
            prisma.deploymentStep.count(),
            prisma.event.count(),
          ]),
        ).toEqual([0, 0, 0, 0, 0]);
      },
      { kind },
    );
  });

  it("keeps a step per (deployment, name), an idempotency key per workspace, and checks sources and secrets", async () => {
    await withTestDatabase(
      async ({ prisma }) => {
        const { workspace, project, environment, deployment } = await seed(prisma);
        const step = { deploymentId: deployment.id, name: "BUILDING" };
        for (const status of ["RUNNING", "SUCCEEDED"] as const) {
          await prisma.deploymentStep.upsert({
            where: { deploymentId_name: step },
            create: { id: "stp_1", ...step, status },
            update: { status, endedAt: new Date() },
          });
        }
        expect(await prisma.deploymentStep.findMany()).toMatchObject([{ status: "SUCCEEDED" }]);

        const base = {
          workspaceId: workspace.id,
          projectId: project.id,
          environmentId: environment.id,
          envSnapshot: {},
        };
        await prisma.deployment.create({
          data: {
            ...base,
            id: "dep_a",
            sourceKind: "DOCKER_IMAGE",
            dockerImage: "x",
            idempotencyKey: "k",
          },
        });
        await expect(
          prisma.deployment.create({
            data: {
              ...base,
              id: "dep_b",
              sourceKind: "DOCKER_IMAGE",
              dockerImage: "x",
              idempotencyKey: "k",
            },
          }),
        ).rejects.toMatchObject({ code: "P2002" });
        // CHECK: the source matches its kind.
        await expect(
          prisma.deployment.create({
            data: { ...base, id: "dep_c", sourceKind: "BUILD_CONTEXT", dockerImage: "x" },
          }),
        ).rejects.toThrow();
        // CHECK: a secret has no plain value.
        await expect(
          prisma.environmentVariable.create({
            data: {
              id: "var_1",
              environmentId: environment.id,
              key: "K",
              secret: true,
              value: "plain",
            },
          }),
        ).rejects.toThrow();
        await prisma.environmentVariable.create({
          data: {
            id: "var_2",
            environmentId: environment.id,
            key: "K",
            secret: true,
            ciphertext: "sealed",
            keyId: "key-2026",
          },
        });
      },
      { kind },
    );
  });

  it("keys events by deployment and seq, the resume cursor", async () => {
    await withTestDatabase(
      async ({ prisma }) => {
        const { deployment } = await seed(prisma);
        const event = (seq: bigint) => ({
          deploymentId: deployment.id,
          seq,
          type: "LOG" as const,
          payload: { step: "BUILDING", stream: "STDOUT", text: `line ${seq}` },
          createdAt: new Date(),
        });
        for (const seq of [2n, 1n, 3n]) await prisma.event.create({ data: event(seq) });
        const after = await prisma.event.findMany({
          where: { deploymentId: deployment.id, seq: { gt: 1n } },
          orderBy: { seq: "asc" },
        });
        expect(after.map((e) => e.seq)).toEqual([2n, 3n]);
        // One event per (deployment, seq).
        await expect(prisma.event.create({ data: event(2n) })).rejects.toThrow();
      },
      { kind },
    );
  });
});

describe("databaseConfigFromEnv", () => {
  it("uses DATABASE_URL, else PGlite in $FERRY_DATA_DIR/pglite", () => {
    expect(databaseConfigFromEnv({ DATABASE_URL: "postgresql://x@h/db" }, "/srv")).toEqual({
      kind: "postgres",
      url: "postgresql://x@h/db",
    });
    expect(databaseConfigFromEnv({}, "/srv")).toEqual({
      kind: "pglite",
      dataDir: "/srv/.ferry/data/pglite",
    });
    expect(databaseConfigFromEnv({ FERRY_DATA_DIR: "/var/lib/ferry" }, "/srv")).toEqual({
      kind: "pglite",
      dataDir: "/var/lib/ferry/pglite",
    });
  });
});
