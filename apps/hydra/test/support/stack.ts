/**
 * The real parts hydra's tests run on, started once per test file:
 * - a private Podman service (startTestPodman) and tiny busybox images;
 * - a fresh migrated database: PGlite served over its socket (or PostgreSQL when DATABASE_URL
 *   is set), which hydra reaches by URL exactly as it does in the embedded stack;
 * - a restate-server on random ports in a temporary directory;
 * - hydra itself, in-process on a random port, registered with that server;
 * - the domain's use cases on the same database, with the Restate WorkflowEngine adapter, to
 *   seed projects and create deployments the way ctrl does.
 */
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { localBuildStorage } from "@ferry/build-storage";
import type { DockerEngine } from "@ferry/containers";
import {
  busyboxImage,
  DEFAULT_BUSYBOX,
  exitingImage,
  removeContainersByLabels,
  startTestPodman,
  TEST_RUN_LABEL,
  type TestPodman,
  webServerImage,
} from "@ferry/containers/testing";
import { Db, RepositoriesLive } from "@ferry/db";
import { createTestDatabase, type TestDatabase } from "@ferry/db/testing";
import {
  BuildContextLimits,
  CONTAINER_LABELS,
  createDeployment,
  createProject,
  type Deployment,
  type DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  EventLog,
  Ids,
  InstanceRepository,
  Platform,
  updateProjectSettings,
  type Workspace,
  type WorkspaceId,
  WorkspaceRepository,
} from "@ferry/domain";
import { layer as restateEngineLayer } from "@ferry/restate";
import { type RestateServer, startRestateServer } from "@ferry/restate/server";
import { generateKey, layer as secretBoxLayer } from "@ferry/secret-box";
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option } from "effect";
import type { HydraConfig } from "../../src/config.ts";
import { type Logger, makeLogger } from "../../src/log.ts";
import { type Hydra, startHydra } from "../../src/server.ts";

const execFileAsync = promisify(execFile);

export const REGIONS = ["local-1", "local-2"] as const;
export const APEX = "ferry.test";

/** The seeding side's view of the build storage directory (hydra reads the same directory). */
const seedBuildStorage = (dir: string) =>
  localBuildStorage({
    root: dir,
    publicBaseUrl: "http://ctrl.invalid",
    signingSecret: new Uint8Array(32),
  });

const seedLayer = (
  db: TestDatabase,
  keys: string,
  restate: RestateServer,
  buildStorageDir: string,
) =>
  Layer.mergeAll(
    RepositoriesLive.pipe(Layer.provide(Layer.succeed(Db, db.prisma)), Layer.provide(Ids.layer)),
    Ids.layer,
    secretBoxLayer(keys),
    Layer.succeed(Platform, { apexDomain: APEX, availableRegions: REGIONS }),
    restateEngineLayer({
      ingressUrl: restate.ingressUrl,
      adminUrl: restate.adminUrl,
      requestTimeoutMs: 120_000,
    }),
    seedBuildStorage(buildStorageDir),
    Layer.succeed(BuildContextLimits, {
      maxSizeBytes: 500 * 1024 * 1024,
      uploadUrlTtlSeconds: 900,
    }),
  );

export type SeedServices = Layer.Layer.Success<ReturnType<typeof seedLayer>>;

export interface StackOptions {
  /** Restate suspends at every await, so every step resumes by replaying the journal. */
  readonly alwaysReplay?: boolean;
  /** Start hydra in this process (default true). */
  readonly startHydra?: boolean;
  /** Settings of the in-process hydra that differ from the stack's (e.g. retention). */
  readonly hydra?: Partial<HydraConfig>;
}

export interface Stack {
  readonly podman: TestPodman;
  readonly engine: DockerEngine;
  readonly db: TestDatabase;
  readonly restate: RestateServer;
  /** Undefined when started with `startHydra: false`. */
  readonly hydra: Hydra | undefined;
  readonly secretKeys: string;
  /** The local build storage directory hydra reads build contexts from. */
  readonly buildStorageDir: string;
  /** Every log line hydra wrote (JSON text). */
  readonly logs: string[];
  /** Runs a seeding Effect (use cases, repositories, the Restate engine); failures reject. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, SeedServices>) => Promise<A>;
  /** hydra's configuration in this stack (for a hydra run as a child process). */
  readonly hydraConfig: (overrides?: Partial<HydraConfig>) => HydraConfig;
  readonly close: () => Promise<void>;
}

const describeCause = (cause: Cause.Cause<unknown>) => Cause.pretty(cause);

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const podman = await startTestPodman();
    cleanups.push(() => podman.stop());
    const db = await createTestDatabase();
    cleanups.push(() => db.close());
    const restateDir = await mkdtemp(join(tmpdir(), "ferry-hydra-restate-"));
    cleanups.push(() => rm(restateDir, { recursive: true, force: true }));
    const restate = await startRestateServer({
      baseDir: restateDir,
      partitions: 2,
      rocksdbMemory: "256 MiB",
      startTimeoutMs: 90_000,
      ...(options.alwaysReplay === true ? { alwaysReplay: true } : {}),
    });
    cleanups.push(() => restate.stop());
    const secretKeys = generateKey("test-1");
    const dataDir = await mkdtemp(join(tmpdir(), "ferry-hydra-data-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const buildStorageDir = join(dataDir, "build-contexts");

    const logs: string[] = [];
    const logger: Logger = makeLogger({
      level: "debug",
      write: (_level, line) => {
        logs.push(line);
        if (process.env.HYDRA_TEST_LOG === "1") process.stdout.write(`${line}\n`);
      },
    });
    const hydraConfig = (overrides: Partial<HydraConfig> = {}): HydraConfig => ({
      database: { kind: "postgres", url: db.url },
      databasePoolSize: 1,
      containerEngineUrl: podman.service.url,
      containerStopTimeoutSeconds: 1,
      instanceLabels: { [TEST_RUN_LABEL]: podman.runId },
      secretKeys,
      apexDomain: APEX,
      regions: REGIONS,
      host: "127.0.0.1",
      port: 0,
      advertisedUrl: undefined,
      restateAdminUrl: restate.adminUrl,
      register: true,
      identityKeys: [],
      reconcileIntervalSeconds: 0,
      logLevel: "debug",
      buildStorage: { kind: "local", dir: buildStorageDir },
      uploadMaxBytes: 500 * 1024 * 1024,
      buildJobsDir: join(dataDir, "builds"),
      buildTimeoutMs: 120_000,
      workDir: join(dataDir, "hydra"),
      // No sweep of its own: a test asks for one when it wants one.
      retention: {
        periodMs: 7 * 86_400_000,
        intervalSeconds: 0,
        batchSize: 50,
        uploadUrlTtlSeconds: 900,
      },
      restateIngressUrl: restate.ingressUrl,
      ...overrides,
    });
    let hydra: Hydra | undefined;
    if (options.startHydra !== false) {
      const started = await startHydra(hydraConfig(options.hydra), { logger, closeGraceMs: 500 });
      hydra = started;
      cleanups.push(() => started.close());
    }

    const runtime = ManagedRuntime.make(seedLayer(db, secretKeys, restate, buildStorageDir));
    cleanups.push(() => runtime.dispose());
    const run = async <A, E>(effect: Effect.Effect<A, E, SeedServices>): Promise<A> => {
      const exit = await runtime.runPromiseExit(effect);
      if (Exit.isSuccess(exit)) return exit.value;
      throw new Error(describeCause(exit.cause));
    };
    return {
      podman,
      engine: podman.engine,
      db,
      restate,
      hydra,
      secretKeys,
      buildStorageDir,
      logs,
      run,
      hydraConfig,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Images

/** A web server on 8080 whose `/` is `content` and whose `/cgi-bin/env` prints $GREETING and $TOKEN. */
export const envEchoImage = (engine: DockerEngine, content: string) =>
  busyboxImage(engine, {
    repository: "localhost/ferry-test-hydra-env",
    files: {
      "www/index.html": content,
      "www/cgi-bin/env":
        '#!/bin/busybox sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "greeting=$GREETING token=$TOKEN"\n',
    },
    cmd: [
      "/bin/busybox",
      "sh",
      "-c",
      "/bin/busybox chmod +x /www/cgi-bin/env && exec /bin/busybox httpd -f -p 8080 -h /www",
    ],
    expose: 8080,
  });

/** A web server on 8080 that starts answering only after `delaySeconds`. */
export const slowWebImage = (engine: DockerEngine, content: string, delaySeconds: number) =>
  busyboxImage(engine, {
    repository: "localhost/ferry-test-hydra-slow",
    files: { "www/index.html": content },
    cmd: [
      "/bin/busybox",
      "sh",
      "-c",
      `/bin/busybox sleep ${delaySeconds} && exec /bin/busybox httpd -f -p 8080 -h /www`,
    ],
    expose: 8080,
  });

export { exitingImage, webServerImage };

// ---------------------------------------------------------------------------
// Seeding and observing

export interface Tenant {
  readonly workspace: Workspace;
  readonly projectId: string;
  readonly projectSlug: string;
}

let counter = 0;

/** A workspace with one project (production and preview environments, default settings). */
export const createTenant = (stack: Stack, settings: Record<string, unknown> = {}) =>
  stack.run(
    Effect.gen(function* () {
      counter++;
      const ids = yield* Ids;
      const workspace: Workspace = {
        id: yield* ids.next("workspace"),
        name: `Workspace ${counter}`,
        slug: `ws${counter}-${process.pid}`,
        createdAt: Date.now(),
      };
      yield* (yield* WorkspaceRepository).create(workspace);
      const view = yield* createProject(workspace.id, { name: "Web", slug: `web${counter}` });
      if (Object.keys(settings).length > 0)
        yield* updateProjectSettings(workspace.id, { projectId: view.project.id, ...settings });
      return { workspace, projectId: view.project.id, projectSlug: view.project.slug } as Tenant;
    }),
  );

/** CreateDeployment exactly as ctrl runs it: stored PENDING, then sent to the project's object. */
export const deploy = (
  stack: Stack,
  tenant: Tenant,
  image: string,
  options: {
    readonly environment?: string;
    readonly branch?: string;
    readonly regions?: string[];
  } = {},
) =>
  stack.run(
    Effect.map(
      createDeployment(tenant.workspace.id, {
        projectId: tenant.projectId,
        environmentSlug: options.environment ?? "production",
        source: { _tag: "DockerImage", image },
        ...(options.branch === undefined ? {} : { gitCommit: { branch: options.branch } }),
        ...(options.regions === undefined ? {} : { regions: options.regions }),
      }),
      (result) => result.deploymentId,
    ),
  );

/**
 * Stores a tar.gz of `files` (plus a static busybox as `busybox`) in the build storage
 * directory under a fresh project key, as an upload would, and returns the key.
 */
export const uploadContext = async (
  stack: Stack,
  tenant: Tenant,
  files: Readonly<Record<string, string>>,
): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-hydra-context-"));
  try {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    await copyFile(DEFAULT_BUSYBOX, join(dir, "busybox"));
    await chmod(join(dir, "busybox"), 0o755);
    const key = `projects/${tenant.projectId}/contexts/ctx${++counter}-${process.pid}.tar.gz`;
    const target = join(stack.buildStorageDir, key);
    await mkdir(dirname(target), { recursive: true });
    await execFileAsync("tar", ["-czf", target, "-C", dir, ...Object.keys(files), "busybox"]);
    return key;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** The start of a Dockerfile that builds offline: busybox as /bin/busybox and /bin/sh. */
export const BUSYBOX_BASE = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\n";

/** The deployment's stored log lines, oldest first. */
export const logLinesOf = (stack: Stack, id: DeploymentId) =>
  stack
    .run(
      Effect.flatMap(EventLog, (log) =>
        log.list(id, { afterSeq: 0n, limit: 100_000, kinds: ["Log"] }),
      ),
    )
    .then((events) => events.flatMap((e) => (e.body._tag === "Log" ? [e.body.line] : [])));

/** CreateDeployment with a build context source. */
export const deployContext = (
  stack: Stack,
  tenant: Tenant,
  key: string,
  options: { readonly dockerfilePath?: string; readonly regions?: string[] } = {},
) =>
  stack.run(
    Effect.map(
      createDeployment(tenant.workspace.id, {
        projectId: tenant.projectId,
        environmentSlug: "production",
        source: {
          _tag: "BuildContext",
          buildContextPath: key,
          dockerfilePath: options.dockerfilePath ?? "Dockerfile",
        },
        ...(options.regions === undefined ? {} : { regions: options.regions }),
      }),
      (result) => result.deploymentId,
    ),
  );

export const findDeployment = (stack: Stack, workspaceId: WorkspaceId, id: DeploymentId) =>
  stack.run(
    Effect.flatMap(DeploymentRepository, (d) => d.findById(workspaceId, id)).pipe(
      Effect.map(Option.getOrThrow),
    ),
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<A>(
  what: string,
  check: () => Promise<A | undefined>,
  timeoutMs = 90_000,
  intervalMs = 200,
): Promise<A> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? "" : ` (last error: ${String(lastError)})`}`,
      );
    await sleep(intervalMs);
  }
}

const TERMINAL: ReadonlyArray<DeploymentStatus> = ["READY", "FAILED", "CANCELLED", "SUPERSEDED"];

/** Waits until the deployment reaches a terminal status and returns it. */
export const settled = (stack: Stack, tenant: Tenant, id: DeploymentId, timeoutMs = 120_000) =>
  eventually<Deployment>(
    `deployment ${id} to end`,
    async () => {
      const deployment = await findDeployment(stack, tenant.workspace.id, id);
      return TERMINAL.includes(deployment.status) ? deployment : undefined;
    },
    timeoutMs,
  );

export const instancesOf = (stack: Stack, id: DeploymentId) =>
  stack.run(Effect.flatMap(InstanceRepository, (i) => i.listByDeployment(id)));

/** The containers the engine has for the deployment (any state). */
export const containersOf = (stack: Stack, id: string) =>
  Effect.runPromise(stack.engine.listContainers({ [CONTAINER_LABELS.deployment]: id }));

/**
 * Build containers (Buildah's working containers, which the Docker API does not list) that the
 * engine still holds and that were created at or after `since` (Unix ms): Podman's libpod API,
 * `external=true`. Builds run under the heavy lock, so those of the window are the test's own.
 */
export const buildContainersSince = (stack: Stack, since: number) =>
  new Promise<ReadonlyArray<string>>((resolve, reject) => {
    const request = httpRequest(
      {
        socketPath: stack.podman.service.socketPath,
        path: "/v4.3.1/libpod/containers/json?all=true&external=true",
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          try {
            const all = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ReadonlyArray<{
              readonly Names: ReadonlyArray<string>;
              readonly Created: string;
              readonly State: string;
            }>;
            resolve(
              all
                .filter((c) => c.State === "storage" && Date.parse(c.Created) >= since)
                .map((c) => c.Names[0] ?? "?"),
            );
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on("error", reject);
    request.end();
  });

/** GET http://127.0.0.1:{port}{path} → body text. */
export const httpGet = async (port: number, path = "/") => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: await response.text() };
};

export { removeContainersByLabels, TEST_RUN_LABEL };
