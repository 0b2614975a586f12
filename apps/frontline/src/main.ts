/**
 * `node src/main.ts`: frontline as a process. Reads its configuration
 * (config.ts); with FERRY_FRONTLINE_WORKERS > 1 becomes a node:cluster
 * primary (cluster.ts) whose workers each run this file's worker part:
 * the proxy, its route table and the feed that fills it. Stops cleanly on
 * SIGTERM/SIGINT: no new connections, requests in flight finish (up to
 * FERRY_FRONTLINE_SHUTDOWN_GRACE_MS), upstream pools close.
 */
import cluster from "node:cluster";
import { answerMetricsFromWorker, runPrimary } from "./cluster.ts";
import { ConfigError, describeConfig, type FrontlineConfig, loadConfig } from "./config.ts";
import { type AttachFeed, runFrontline } from "./frontline.ts";
import { errorFields, type Logger, makeLogger } from "./log.ts";
import { startRouteFeed } from "./route-feed.ts";

/** The route table comes from ctrl's route feed (pushed changes; see route-feed.ts). Every worker has its own. */
const attachFeed =
  (config: FrontlineConfig, log: Logger): AttachFeed =>
  async (table) =>
    startRouteFeed({ ctrlUrl: config.ctrlUrl, internalToken: config.internalToken, table, log });

const boot = makeLogger({ level: "info" });

let config: FrontlineConfig;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    boot.error("invalid configuration", { problems: error.problems });
    process.exit(2);
  }
  throw error;
}

// Measured on the wrk benchmark against busybox httpd (which closes every connection): with
// stack traces on, about 20% of frontline's CPU went to capturing and formatting the stack of
// the error undici destroys each finished upstream socket with (Node reads `err.stack` when a
// stream is destroyed with an error). frontline never shows or logs stacks, so they are off,
// except at FERRY_LOG_LEVEL=debug, for debugging.
if (config.logLevel !== "debug") Error.stackTraceLimit = 0;

const logger = makeLogger(
  { level: config.logLevel },
  cluster.isWorker ? { worker: cluster.worker?.id } : {},
);

if (config.workers > 1 && cluster.isPrimary) {
  logger.info("starting", { config: describeConfig(config), pid: process.pid });
  await runPrimary(config, logger);
} else {
  if (cluster.isPrimary)
    logger.info("starting", { config: describeConfig(config), pid: process.pid });
  try {
    const frontline = await runFrontline(config, {
      attachFeed: attachFeed(config, logger),
      log: logger,
      // Under node:cluster the primary serves every worker's metrics, read over IPC.
      serveMetrics: cluster.isPrimary,
    });
    if (cluster.isWorker) answerMetricsFromWorker(frontline.metrics.registry);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info("stopping", { signal });
      frontline.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error("stop failed", errorFields(error));
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  } catch (error) {
    logger.error("could not start", errorFields(error));
    process.exit(1);
  }
}
