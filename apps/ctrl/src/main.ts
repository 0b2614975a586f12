/**
 * ctrl's entry point: configuration → database (migrated) → bootstrap key →
 * listen. Prints (as JSON log lines) where it listens and where its embedded
 * database is served. SIGTERM / SIGINT stop it gracefully: no new calls, the
 * calls in flight finish, then the runtime and the database close.
 *
 *   pnpm --filter @ferry/ctrl start
 */
import { describeDatabaseConfig, openDatabase, startDeploymentEventFeed } from "@ferry/db";
import type { WorkflowEngine } from "@ferry/domain";
import { layer as restateWorkflowEngine } from "@ferry/restate";
import type { Layer } from "effect";
import { makeCtrl } from "./app.ts";
import { ensureBootstrap } from "./auth.ts";
import { describeBuildStorage, wireBuildStorage } from "./build-storage.ts";
import { ConfigError, type CtrlConfig, loadConfig } from "./config.ts";
import {
  embeddedSecretKeys,
  generatedInternalToken,
  removeDatabaseUrl,
  writeDatabaseUrl,
} from "./data-dir.ts";
import { type Log, makeLog } from "./log.ts";
import { startRouteFeed } from "./route-feed/route-feed.ts";
import {
  liveLayer,
  makeRuntime,
  type RestateEndpoints,
  type WorkflowEngineFactory,
} from "./runtime.ts";
import { type CtrlServer, startServer } from "./server.ts";
import { uploadSigningSecret } from "./upload-signing.ts";

/**
 * The WorkflowEngine adapter: Restate, through its ingress (deploy, promote,
 * rollback) and admin API (cancel). Tests use the in-memory engine instead;
 * nothing else in ctrl knows which one runs.
 */
const workflowEngine: WorkflowEngineFactory = (endpoints: RestateEndpoints) =>
  restateWorkflowEngine(endpoints);

async function run(config: CtrlConfig, log: Log, engine: Layer.Layer<WorkflowEngine>) {
  const secretKeys = config.secretKeys ?? embeddedSecretKeys(config.dataDir).keys;
  const db = await openDatabase(config.database, { migrate: true });
  const database = describeDatabaseConfig(config.database);
  log.info("database ready", {
    database,
    migrationsApplied: db.migration?.applied.length ?? 0,
  });
  if (db.embedded !== undefined) {
    const file = writeDatabaseUrl(config.dataDir, db.url);
    log.info(`embedded database served at ${db.url} (also written to ${file})`, {
      databaseUrl: db.url,
    });
  }

  // Without FERRY_PUBLIC_URL, upload URLs point at the listen URL, known once the server listens
  // (the first upload URL is asked for by a call, so after that).
  let server: CtrlServer | undefined;
  const storage = wireBuildStorage(config.buildStorage, {
    publicBaseUrl: () => config.publicUrl ?? server?.url ?? "",
    signingSecret: uploadSigningSecret(secretKeys),
    log,
  });

  // WatchDeployment streams wake on database notifications: one listener shared by every stream.
  const eventFeed = startDeploymentEventFeed(db, {
    onResync: () =>
      log.info("deployment event feed: notification connection restored; streams re-read"),
    onError: (error) =>
      log.warn("deployment event feed: notification connection lost", { error: error.message }),
  });

  const runtime = makeRuntime(
    liveLayer({
      prisma: db.prisma,
      platform: { apexDomain: config.apexDomain, availableRegions: config.regions },
      secretKeys,
      buildStorage: storage.layer,
      buildContextLimits: config.buildContextLimits,
      workflowEngine: engine,
      eventFeed: eventFeed.layer,
    }),
    log,
  );

  // The gateways' route table: loaded now, then kept current from database notifications.
  const routeFeed = startRouteFeed(db, log);
  const internalToken = config.internalToken ?? generatedInternalToken(config.dataDir);

  const stopDatabase = async () => {
    await eventFeed.close();
    await routeFeed.close();
    await runtime.dispose();
    await db.close();
    if (db.embedded !== undefined) removeDatabaseUrl(config.dataDir);
  };

  try {
    if (config.bootstrapToken !== undefined) {
      const bootstrap = await runtime.runPromise(ensureBootstrap(config.bootstrapToken));
      log.info("bootstrap key ready", {
        workspace: bootstrap.workspace.slug,
        workspaceId: bootstrap.workspace.id,
        createdWorkspace: bootstrap.createdWorkspace,
        createdKey: bootstrap.createdKey,
      });
    }
    await routeFeed.ready;
    log.info("route feed ready", { routes: routeFeed.current().length });
    await eventFeed.ready;
    server = await startServer({
      host: config.api.host,
      port: config.api.port,
      ...makeCtrl({ runtime, log, routeFeed: { feed: routeFeed, internalToken } }),
      uploads: storage.uploadHandler,
      health: async () => {
        await db.prisma.$queryRaw`SELECT 1`;
      },
      log,
    });
    log.info(`ctrl listening on ${server.url} (Connect, gRPC and gRPC-Web; HTTP/1.1 and h2c)`, {
      url: server.url,
      health: `${server.url}/healthz`,
      database,
      restate: config.restate,
      regions: config.regions,
      apexDomain: config.apexDomain,
      buildStorage: describeBuildStorage(config.buildStorage),
      buildContextLimits: config.buildContextLimits,
      publicUrl: config.publicUrl ?? server.url,
    });
    if (
      config.buildStorage.kind === "local" &&
      config.publicUrl === undefined &&
      /^(0\.0\.0\.0|::|\[::\])$/.test(config.api.host)
    )
      log.warn(
        `upload URLs point at ${server.url}, which clients cannot reach: set FERRY_PUBLIC_URL to the URL clients use for ctrl`,
      );
    return { server, routeFeed, eventFeed, stopDatabase };
  } catch (error) {
    await stopDatabase();
    throw error;
  }
}

async function main() {
  const log = makeLog();
  let config: CtrlConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ctrl: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { server, routeFeed, eventFeed, stopDatabase } = await run(
    config,
    log,
    workflowEngine(config.restate),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down (calls in flight finish first)`);
    try {
      // The route feed's streams never end by themselves: end them so the server can close.
      await routeFeed.close();
      // Nor do WatchDeployment streams of unfinished deployments: they end with Unavailable.
      await eventFeed.close();
      await server.close();
      await stopDatabase();
      log.info("stopped");
      process.exit(0);
    } catch (error) {
      log.error("shutdown failed", { error });
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ctrl: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
