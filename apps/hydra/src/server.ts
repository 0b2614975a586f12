/**
 * hydra as a running thing: the database connection, the ManagedRuntime of
 * the adapters, the Restate endpoint served over HTTP/2 (h2c), its
 * registration with the Restate admin API, and the reconciliation loop.
 * main.ts runs it as a process; tests run it in-process.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Database, openDatabase } from "@ferry/db";
import * as restate from "@restatedev/restate-sdk";
import { ManagedRuntime } from "effect";
import type { HydraConfig } from "./config.ts";
import { errorFields, type Logger, makeLogger, restateLogTransport } from "./log.ts";
import { makeDeploysObject } from "./objects/deploys.ts";
import { InFlight } from "./objects/durable.ts";
import { makeProjectObject } from "./objects/project.ts";
import { type ReconcileReport, reconcileOnce } from "./reconcile.ts";
import { makeRetentionObject, type SweepReport } from "./retention/object.ts";
import { startSweepTimer, sweepNow } from "./retention/trigger.ts";
import { type HydraRuntime, servicesLayer } from "./services.ts";

export interface Hydra {
  /** The port the endpoint listens on. */
  readonly port: number;
  /** The URL registered with Restate. */
  readonly url: string;
  readonly runtime: HydraRuntime;
  /** Runs one reconciliation now. */
  readonly reconcile: () => Promise<ReconcileReport>;
  /** Runs one retention sweep now, through Restate's ingress (queued behind a running one). */
  readonly sweepRetention: () => Promise<SweepReport>;
  /** Stops reconciling, closes the endpoint (in-flight attempts get a short grace), the runtime and the database. */
  readonly close: () => Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** How long `close()` lets open HTTP/2 sessions finish before destroying them. Default 2 s. */
  readonly closeGraceMs?: number;
  /** How long registration keeps trying while Restate is not reachable. Default 60 s. */
  readonly registerTimeoutMs?: number;
}

/** Bound of one build's log file (the builder keeps its head and its tail). */
const BUILD_LOG_MAX_BYTES = 4 * 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `POST /deployments {uri, force: true}`: Restate discovers the endpoint's
 * services and routes invocations to it (force: re-registering the same URI
 * with changed handlers replaces it). Retried while Restate is unreachable.
 */
export async function registerWithRestate(
  adminUrl: string,
  endpointUrl: string,
  options: { readonly timeoutMs?: number; readonly logger?: Logger } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let delay = 200;
  let last = "";
  for (;;) {
    try {
      const response = await fetch(`${adminUrl}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ uri: endpointUrl, force: true }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = await response.text();
      if (response.ok) {
        options.logger?.info("registered with restate", { adminUrl, endpointUrl });
        return;
      }
      last = `${response.status} ${body.slice(0, 500)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() + delay > deadline)
      throw new Error(
        `could not register ${endpointUrl} with the Restate admin API at ${adminUrl}: ${last}`,
      );
    options.logger?.warn("restate admin API not ready, retrying registration", { last });
    await sleep(delay);
    delay = Math.min(delay * 2, 5_000);
  }
}

const urlHost = (host: string) =>
  host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

export async function startHydra(config: HydraConfig, options: StartOptions = {}): Promise<Hydra> {
  const logger = options.logger ?? makeLogger({ level: config.logLevel });
  // hydra migrates only an embedded database it owns; a URL database belongs to whoever serves it.
  const database: Database = await openDatabase(config.database, {
    poolSize: config.databasePoolSize,
    migrate: config.database.kind === "pglite",
  });
  let runtime: HydraRuntime | undefined;
  let server: http2.Http2Server | undefined;
  const sessions = new Set<http2.ServerHttp2Session>();
  const closeServer = async () => {
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
    for (const session of sessions) session.close();
    const grace = sleep(options.closeGraceMs ?? 2_000).then(() => {
      for (const session of sessions) session.destroy();
    });
    await Promise.race([closed, grace]);
    await closed;
  };
  try {
    runtime = ManagedRuntime.make(
      servicesLayer({
        prisma: database.prisma,
        containerEngineUrl: config.containerEngineUrl,
        containerStopTimeoutSeconds: config.containerStopTimeoutSeconds,
        secretKeys: config.secretKeys,
        apexDomain: config.apexDomain,
        regions: config.regions,
        buildStorage: config.buildStorage,
      }),
    );
    await runtime.runtime();
    const activeRuntime = runtime;

    // One InFlight for both objects: a cancelled deploy's compensation waits for a route
    // switch that `project.activate` may still be running for the same deployment.
    const deps = {
      runtime: activeRuntime,
      logger,
      instanceLabels: config.instanceLabels,
      build: {
        jobsRoot: config.buildJobsDir,
        contextsDir: path.join(config.workDir, "contexts"),
        maxArchiveBytes: config.uploadMaxBytes,
        timeoutMs: config.buildTimeoutMs,
        maxLogBytes: BUILD_LOG_MAX_BYTES,
        engineUrl: config.containerEngineUrl,
      },
    };
    const inFlight = new InFlight();
    const handler = restate.createEndpointHandler({
      services: [
        makeProjectObject(deps, inFlight),
        makeDeploysObject(deps, inFlight),
        makeRetentionObject({
          runtime: activeRuntime,
          logger,
          settings: config.retention,
          paths: { contextsDir: deps.build.contextsDir, jobsRoot: deps.build.jobsRoot },
        }),
      ],
      logger: restateLogTransport(logger),
      ...(config.identityKeys.length > 0 ? { identityKeys: [...config.identityKeys] } : {}),
    });
    const h2 = http2.createServer(handler);
    server = h2;
    h2.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
    });
    await new Promise<void>((resolve, reject) => {
      h2.once("error", reject);
      h2.listen(config.port, config.host, () => {
        h2.off("error", reject);
        resolve();
      });
    });
    const port = (h2.address() as AddressInfo).port;
    const url = config.advertisedUrl ?? `http://${urlHost(config.host)}:${port}`;
    logger.info("endpoint listening", { url, protocol: "h2c" });
    if (config.register)
      await registerWithRestate(config.restateAdminUrl, url, {
        logger,
        ...(options.registerTimeoutMs === undefined
          ? {}
          : { timeoutMs: options.registerTimeoutMs }),
      });

    let reconciling: Promise<ReconcileReport> | undefined;
    const reconcile = () => {
      reconciling ??= activeRuntime
        .runPromise(reconcileOnce(config.instanceLabels))
        .then((report) => {
          if (report.removed.length > 0 || report.failed.length > 0)
            logger.info("reconciled containers", {
              examined: report.examined,
              removed: report.removed,
              failed: report.failed,
            });
          return report;
        })
        .finally(() => {
          reconciling = undefined;
        });
      return reconciling;
    };
    const reconcileQuietly = () =>
      reconcile().catch((error) => logger.warn("reconciliation failed", errorFields(error)));
    await reconcileQuietly();
    const timer =
      config.reconcileIntervalSeconds > 0
        ? setInterval(reconcileQuietly, config.reconcileIntervalSeconds * 1000).unref()
        : undefined;

    // After registration (Restate knows the retention object by now); without registration, an
    // ask that comes before the operator registers hydra fails, is logged, and the next tick asks again.
    const stopSweeps = startSweepTimer({
      ingressUrl: config.restateIngressUrl,
      intervalSeconds: config.retention.intervalSeconds,
      logger,
    });

    let closing: Promise<void> | undefined;
    return {
      port,
      url,
      runtime: activeRuntime,
      reconcile,
      sweepRetention: () => sweepNow(config.restateIngressUrl),
      close: () => {
        closing ??= (async () => {
          if (timer !== undefined) clearInterval(timer);
          stopSweeps();
          await reconciling?.catch(() => {});
          await closeServer();
          await activeRuntime.dispose();
          await database.close();
          logger.info("stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    await closeServer().catch(() => {});
    await runtime?.dispose().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}
