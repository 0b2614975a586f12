/**
 * FERRY_FRONTLINE_WORKERS > 1: a node:cluster primary that forks the
 * workers (each runs the whole proxy with its own route table and feed, and
 * they share the listening port), replaces a worker that dies, serves the
 * metrics of all workers summed (prom-client's AggregatorRegistry asks each
 * worker over IPC), and stops them all on SIGTERM/SIGINT.
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { FrontlineConfig } from "./config.ts";
import { errorFields, type Logger } from "./log.ts";
import { type MetricsServer, startMetricsServer } from "./metrics-server.ts";

/** In a worker: answer the primary's metrics requests (over IPC) from `registry`. */
export function answerMetricsFromWorker(registry: Registry): void {
  // prom-client's worker-side IPC listener is installed by the AggregatorRegistry constructor
  // (lib/cluster.js), not by setRegistries: without this instance the primary's scrape times out.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** A worker that dies is replaced after this pause (no tight crash loop). */
const RESPAWN_DELAY_MS = 1_000;

export async function runPrimary(config: FrontlineConfig, log: Logger): Promise<void> {
  let stopping = false;
  const fork = () => {
    const worker = cluster.fork();
    worker.once("exit", (code, signal) => {
      if (stopping) return;
      log.error("worker exited; starting another", { worker: worker.id, code, signal });
      setTimeout(() => {
        if (!stopping) fork();
      }, RESPAWN_DELAY_MS);
    });
    return worker;
  };
  for (let i = 0; i < config.workers; i++) fork();

  let metricsServer: MetricsServer | undefined;
  if (config.metrics !== undefined) {
    const aggregator = new AggregatorRegistry();
    metricsServer = await startMetricsServer({
      host: config.metrics.host,
      port: config.metrics.port,
      render: () => aggregator.clusterMetrics(),
      contentType: aggregator.contentType,
    });
  }
  log.info("frontline primary started", {
    workers: config.workers,
    metrics: metricsServer?.url ?? null,
    pid: process.pid,
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping workers", { signal });
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined,
    );
    const exited = workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once("exit", () => resolve());
          worker.process.kill("SIGTERM");
        }),
    );
    // Workers finish their requests within the grace period; past it (and a margin) they are killed.
    const deadline = setTimeout(() => {
      log.warn("workers did not stop in time; killing them");
      for (const worker of workers) worker.process.kill("SIGKILL");
    }, config.shutdownGraceMs + 5_000);
    Promise.all(exited)
      .then(() => metricsServer?.close())
      .then(
        () => {
          clearTimeout(deadline);
          process.exit(0);
        },
        (error: unknown) => {
          log.error("stop failed", errorFields(error));
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
