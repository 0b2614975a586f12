/**
 * frontline's configuration: read from the environment and validated here,
 * once. Nothing else in frontline reads `process.env`. Every bad value is
 * reported at once, each line naming its variable; secrets are never echoed.
 *
 * | variable                              | default                 | what                                                              |
 * | ------------------------------------- | ----------------------- | ----------------------------------------------------------------- |
 * | `FERRY_FRONTLINE_HOST`                | `127.0.0.1`             | address the proxy listens on                                      |
 * | `FERRY_FRONTLINE_PORT`                | 8000                    | port of the proxy (0: any free port)                              |
 * | `FERRY_FRONTLINE_PREFERRED_REGION`    | (none)                  | instances in this region take the traffic while any is healthy    |
 * | `FERRY_FRONTLINE_UPSTREAM_TIMEOUT_MS` | 30000                   | wait this long for an instance's response headers (then 504), and at most this long between two body chunks |
 * | `FERRY_FRONTLINE_UNHEALTHY_MS`        | 5000                    | an instance whose connection failed is skipped this long          |
 * | `FERRY_FRONTLINE_METRICS_HOST`        | `127.0.0.1`             | address of the metrics listener                                   |
 * | `FERRY_FRONTLINE_METRICS_PORT`        | (none: no listener)     | port of the Prometheus `/metrics` listener (0: any free port)     |
 * | `FERRY_FRONTLINE_ACCESS_LOG`          | `on`                    | one JSON line per request on stdout (`on`/`off`)                  |
 * | `FERRY_FRONTLINE_WORKERS`             | 1                       | processes sharing the port (node:cluster); `auto`: one per core   |
 * | `FERRY_FRONTLINE_SHUTDOWN_GRACE_MS`   | 10000                   | on SIGTERM, requests in flight get this long to finish            |
 * | `FERRY_CTRL_URL`                      | `http://127.0.0.1:7070` | ctrl, where the route feed comes from                             |
 * | `FERRY_INTERNAL_TOKEN`                | (required)              | shared secret of Ferry's internal calls (route feed)              |
 * | `FERRY_LOG_LEVEL`                     | `info`                  | `debug`, `info`, `warn`, `error` (`debug` also keeps error stack traces) |
 */
import { availableParallelism } from "node:os";
import type { LogLevel } from "./log.ts";

export interface FrontlineConfig {
  readonly host: string;
  readonly port: number;
  /** Undefined: every region is equal. */
  readonly preferredRegion: string | undefined;
  readonly upstreamTimeoutMs: number;
  readonly unhealthyMs: number;
  /** Undefined: no metrics listener. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly accessLog: boolean;
  readonly workers: number;
  readonly shutdownGraceMs: number;
  readonly ctrlUrl: string;
  /** Never logged (describeConfig leaves it out). */
  readonly internalToken: string;
  readonly logLevel: LogLevel;
}

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 8000,
  upstreamTimeoutMs: 30_000,
  unhealthyMs: 5_000,
  metricsHost: "127.0.0.1",
  workers: 1,
  shutdownGraceMs: 10_000,
  ctrlUrl: "http://127.0.0.1:7070",
} as const;

/** Every problem found in the environment, one line each. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: ReadonlyArray<string>;
  constructor(problems: ReadonlyArray<string>) {
    super(`invalid frontline configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: ReadonlyArray<LogLevel> = ["debug", "info", "warn", "error"];
const REGION = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ON = ["on", "true", "1", "yes"];
const OFF = ["off", "false", "0", "no"];
export const INTERNAL_TOKEN_MIN_LENGTH = 16;

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): FrontlineConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };

  const host = (name: string, fallback: string): string => {
    const raw = get(name) ?? fallback;
    if (!/^[^\s/]+$/.test(raw))
      problems.push(`${name}: must be a host name or IP address such as 127.0.0.1 (got "${raw}")`);
    return raw;
  };

  const preferredRegion = get("FERRY_FRONTLINE_PREFERRED_REGION");
  if (preferredRegion !== undefined && !REGION.test(preferredRegion))
    problems.push(
      `FERRY_FRONTLINE_PREFERRED_REGION: "${preferredRegion}" must be a region name (lowercase letters, digits, "-")`,
    );

  const metricsHost = host("FERRY_FRONTLINE_METRICS_HOST", DEFAULTS.metricsHost);
  const metricsPort =
    get("FERRY_FRONTLINE_METRICS_PORT") === undefined
      ? undefined
      : integer("FERRY_FRONTLINE_METRICS_PORT", 0, 0, 65535);

  const accessLogRaw = (get("FERRY_FRONTLINE_ACCESS_LOG") ?? "on").toLowerCase();
  if (!ON.includes(accessLogRaw) && !OFF.includes(accessLogRaw))
    problems.push(`FERRY_FRONTLINE_ACCESS_LOG: must be on or off (got "${accessLogRaw}")`);

  const workersRaw = get("FERRY_FRONTLINE_WORKERS");
  const workers =
    workersRaw?.toLowerCase() === "auto"
      ? availableParallelism()
      : integer("FERRY_FRONTLINE_WORKERS", DEFAULTS.workers, 1, 256);

  let ctrlUrl = get("FERRY_CTRL_URL") ?? DEFAULTS.ctrlUrl;
  try {
    const url = new URL(ctrlUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    ctrlUrl = ctrlUrl.replace(/\/+$/, "");
  } catch {
    problems.push(`FERRY_CTRL_URL: must be an http:// or https:// URL (got "${ctrlUrl}")`);
  }

  // Never echoed: it is a credential.
  const internalToken = get("FERRY_INTERNAL_TOKEN") ?? "";
  if (internalToken === "")
    problems.push(
      "FERRY_INTERNAL_TOKEN: required (the shared secret frontline presents to ctrl for the route feed)",
    );
  else if (internalToken.length < INTERNAL_TOKEN_MIN_LENGTH || internalToken.length > 256)
    problems.push(
      `FERRY_INTERNAL_TOKEN: must be ${INTERNAL_TOKEN_MIN_LENGTH} to 256 characters long (got ${internalToken.length})`,
    );
  else if (!/^[\x21-\x7e]+$/.test(internalToken))
    problems.push(
      "FERRY_INTERNAL_TOKEN: must contain only printable ASCII characters without spaces",
    );

  const logLevel = (get("FERRY_LOG_LEVEL") ?? "info").toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`FERRY_LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")} (got "${logLevel}")`);

  const config: FrontlineConfig = {
    host: host("FERRY_FRONTLINE_HOST", DEFAULTS.host),
    port: integer("FERRY_FRONTLINE_PORT", DEFAULTS.port, 0, 65535),
    preferredRegion,
    upstreamTimeoutMs: integer(
      "FERRY_FRONTLINE_UPSTREAM_TIMEOUT_MS",
      DEFAULTS.upstreamTimeoutMs,
      1,
      3_600_000,
    ),
    unhealthyMs: integer("FERRY_FRONTLINE_UNHEALTHY_MS", DEFAULTS.unhealthyMs, 0, 3_600_000),
    metrics: metricsPort === undefined ? undefined : { host: metricsHost, port: metricsPort },
    accessLog: !OFF.includes(accessLogRaw),
    workers,
    shutdownGraceMs: integer(
      "FERRY_FRONTLINE_SHUTDOWN_GRACE_MS",
      DEFAULTS.shutdownGraceMs,
      0,
      3_600_000,
    ),
    ctrlUrl,
    internalToken,
    logLevel,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The configuration without secrets, for the start log line. */
export function describeConfig(config: FrontlineConfig): Record<string, unknown> {
  return {
    listen: `${config.host}:${config.port}`,
    preferredRegion: config.preferredRegion ?? null,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    unhealthyMs: config.unhealthyMs,
    metrics: config.metrics === undefined ? null : `${config.metrics.host}:${config.metrics.port}`,
    accessLog: config.accessLog,
    workers: config.workers,
    shutdownGraceMs: config.shutdownGraceMs,
    ctrlUrl: config.ctrlUrl,
    internalToken: "configured",
  };
}
