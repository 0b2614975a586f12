/**
 * frontline in one process: the route table, the proxy, its metrics and
 * access log, the metrics listener, and whatever feeds the table (passed in
 * by the caller: the route feed from ctrl in main.ts, fixed routes in tests).
 *
 * The proxy listens before the first snapshot arrives and answers 503
 * "frontline is starting" until then: a load balancer sees a live process
 * that is not ready, rather than a refused connection.
 */
import { AccessLog, type AccessSink } from "./access-log.ts";
import type { FrontlineConfig } from "./config.ts";
import { errorFields, type Logger, makeLogger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { type MetricsServer, startMetricsServer } from "./metrics-server.ts";
import { type Frontline, startFrontline } from "./proxy.ts";
import { RouteTable } from "./route-table.ts";

/** Starts feeding `table` (its first `replaceAll` makes frontline ready); `close` stops it. */
export type AttachFeed = (table: RouteTable) => Promise<{ close(): Promise<void> }>;

export interface RunOptions {
  readonly attachFeed: AttachFeed;
  /** Default: JSON lines at the configured level. */
  readonly log?: Logger;
  /** Serve `config.metrics` from this process. Default true; false in node:cluster workers, whose primary serves every worker's metrics together. */
  readonly serveMetrics?: boolean;
  /** Where access log lines go (when `config.accessLog`). Default: stdout. */
  readonly accessLogSink?: AccessSink;
}

export interface RunningFrontline {
  readonly table: RouteTable;
  readonly proxy: Frontline;
  readonly metrics: Metrics;
  /** `http://host:port/metrics`, when this process serves them. */
  readonly metricsUrl: string | undefined;
  /** Graceful: requests in flight finish (up to the shutdown grace), then the feed, listeners and log close. */
  close(): Promise<void>;
}

export type RunConfig = Pick<
  FrontlineConfig,
  | "host"
  | "port"
  | "preferredRegion"
  | "upstreamTimeoutMs"
  | "unhealthyMs"
  | "metrics"
  | "accessLog"
  | "shutdownGraceMs"
  | "logLevel"
>;

export async function runFrontline(
  config: RunConfig,
  options: RunOptions,
): Promise<RunningFrontline> {
  const log = options.log ?? makeLogger({ level: config.logLevel });
  const table = new RouteTable({
    preferredRegion: config.preferredRegion,
    unhealthyMs: config.unhealthyMs,
  });
  const metrics = new Metrics(table);
  const accessLog = config.accessLog
    ? new AccessLog(options.accessLogSink === undefined ? {} : { sink: options.accessLogSink })
    : undefined;

  const proxy = await startFrontline({
    host: config.host,
    port: config.port,
    table,
    log,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    shutdownGraceMs: config.shutdownGraceMs,
    accessLog,
    metrics,
  });

  let metricsServer: MetricsServer | undefined;
  let feed: { close(): Promise<void> } | undefined;
  try {
    if (config.metrics !== undefined && (options.serveMetrics ?? true))
      metricsServer = await startMetricsServer({
        host: config.metrics.host,
        port: config.metrics.port,
        render: () => metrics.text(),
        contentType: metrics.contentType,
      });
    feed = await options.attachFeed(table);
  } catch (error) {
    await metricsServer?.close();
    await proxy.close();
    await accessLog?.close();
    metrics.close();
    throw error;
  }
  log.info(`frontline listening on ${proxy.url}`, {
    url: proxy.url,
    metrics: metricsServer?.url ?? null,
    pid: process.pid,
  });

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      // The feed keeps running while requests drain: a retry may need a route that just changed.
      await proxy.close();
      await feed
        ?.close()
        .catch((error: unknown) => log.warn("route feed close failed", errorFields(error)));
      await metricsServer?.close();
      await accessLog?.close();
      metrics.close();
    })();
    return closed;
  };

  return { table, proxy, metrics, metricsUrl: metricsServer?.url, close };
}
