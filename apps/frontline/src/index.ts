/**
 * @ferry/frontline: Ferry's HTTP gateway. The route table (fed by the route
 * feed from ctrl), the proxy that routes by Host header, its metrics and
 * access log, the configuration, and `runFrontline`, which composes them.
 */
export {
  AccessLog,
  type AccessLogOptions,
  type AccessRecord,
  type AccessSink,
} from "./access-log.ts";
export {
  ConfigError,
  DEFAULTS,
  describeConfig,
  type Env,
  type FrontlineConfig,
  loadConfig,
} from "./config.ts";
export { ERROR_PAGES, type ErrorReason } from "./error-pages.ts";
export {
  type AttachFeed,
  type RunConfig,
  type RunningFrontline,
  type RunOptions,
  runFrontline,
} from "./frontline.ts";
export { isValidHostname, normalizeHost } from "./hostname.ts";
export { errorFields, type Logger, type LogLevel, makeLogger, memoryLogger } from "./log.ts";
export { LATENCY_BUCKETS, Metrics, type MetricsOptions } from "./metrics.ts";
export { type MetricsServer, startMetricsServer } from "./metrics-server.ts";
export { type Frontline, type FrontlineOptions, startFrontline } from "./proxy.ts";
export {
  InvalidRouteError,
  type ReplaceResult,
  type Route,
  type RouteEntry,
  RouteTable,
  type RouteTableListener,
  type RouteTableOptions,
  Upstream,
} from "./route-table.ts";
