/**
 * hydra's configuration: read from the environment and validated here, once.
 * Nothing else in hydra reads `process.env`.
 *
 * | variable                               | default                           | what                                                        |
 * | -------------------------------------- | --------------------------------- | ----------------------------------------------------------- |
 * | `FERRY_DATABASE_URL` / `DATABASE_URL`  | (embedded PGlite)                 | PostgreSQL URL; for the embedded stack, the URL of the PGlite socket served by the process that owns the data directory |
 * | `FERRY_DATA_DIR`                       | `.ferry/data`                     | without a URL: hydra opens the embedded PGlite in `$FERRY_DATA_DIR/pglite` itself (only if no other process has it) |
 * | `FERRY_DATABASE_POOL_SIZE`             | 4                                 | connections to PostgreSQL (use 1 on the embedded PGlite: one session)|
 * | `FERRY_CONTAINER_ENGINE_URL` / `DOCKER_HOST` | `unix:///run/podman/podman.sock` | Docker Engine API (Podman or Docker)                        |
 * | `FERRY_CONTAINER_STOP_TIMEOUT_SECONDS` | 10                                | SIGTERM grace period when a container is removed            |
 * | `FERRY_INSTANCE_LABELS`                | (none)                            | `k=v,k2=v2`: extra labels on every container; reconciliation only looks at containers that carry them |
 * | `FERRY_SECRET_KEYS`                    | (none)                            | key ring `id:base64,...` that opens secret variables        |
 * | `FERRY_APEX_DOMAIN`                    | `ferry.localhost`                 | hostnames live under it                                     |
 * | `FERRY_REGIONS`                        | `local-1,local-2`                 | regions this installation runs                              |
 * | `FERRY_HYDRA_HOST`                     | `127.0.0.1`                       | address the endpoint listens on                             |
 * | `FERRY_HYDRA_PORT`                     | 9080                              | port of the endpoint (0: any free port)                     |
 * | `FERRY_HYDRA_ADVERTISED_URL`           | `http://{host}:{port}`            | URL restate-server calls the endpoint at                    |
 * | `FERRY_RESTATE_ADMIN_URL`              | `http://127.0.0.1:9070`           | Restate admin API (hydra registers itself there)            |
 * | `FERRY_HYDRA_REGISTER`                 | `true`                            | register with the admin API at start                        |
 * | `FERRY_RESTATE_IDENTITY_KEYS`          | (none)                            | `publickeyv1_...` keys: only requests signed by that Restate cluster are accepted |
 * | `FERRY_RECONCILE_INTERVAL_SECONDS`     | 60                                | orphan container cleanup period (0: only at start)          |
 * | `FERRY_LOG_LEVEL`                      | `info`                            | `debug`, `info`, `warn`, `error`                            |
 * | `FERRY_BUILD_STORAGE`                  | `local`                           | where uploaded build contexts are read: `local` or `s3` (as ctrl) |
 * | `FERRY_BUILD_STORAGE_DIR`              | `$FERRY_DATA_DIR/build-contexts`  | local build storage directory (the one ctrl writes)         |
 * | `FERRY_S3_ENDPOINT`, `FERRY_S3_REGION` (`us-east-1`), `FERRY_S3_BUCKET`, `FERRY_S3_ACCESS_KEY_ID`, `FERRY_S3_SECRET_ACCESS_KEY`, `FERRY_S3_FORCE_PATH_STYLE` | | S3 build storage (as ctrl); the secret is never logged |
 * | `FERRY_UPLOAD_MAX_BYTES`               | 524288000 (500 MiB)               | the largest build context built (as ctrl)                   |
 * | `FERRY_BUILD_JOBS_DIR`                 | `$FERRY_DATA_DIR/builds`          | build jobs (one directory per deployment)                   |
 * | `FERRY_BUILD_TIMEOUT_MS`               | 1800000 (30 min)                  | a build running longer is stopped and the deployment fails  |
 * | `FERRY_RETENTION_PERIOD`               | `7d`                              | build artifacts (stored context, build job, built image) of a finished, failed or superseded deployment are removed this long after it finished (`90s`, `30m`, `12h`, `7d`); never those of a live, routed, running or latest READY deployment (docs/decisions/0017) |
 * | `FERRY_RETENTION_INTERVAL_SECONDS`     | 3600                              | how often hydra asks for a retention sweep (one runs at a time across replicas; 0: never) |
 * | `FERRY_RETENTION_BATCH_SIZE`           | 50                                | deployments (and stored uploads) per page of a sweep; a sweep reads up to 20 pages of each |
 * | `FERRY_UPLOAD_URL_TTL_SECONDS`         | 900                               | as ctrl: an upload no deployment uses is removed once older than this plus the retention period |
 * | `FERRY_RESTATE_INGRESS_URL`            | `http://127.0.0.1:8080`           | Restate ingress, where hydra asks for retention sweeps      |
 *
 * hydra's work directory (downloaded build contexts) is `$FERRY_DATA_DIR/hydra`.
 */
import path from "node:path";
import type { S3BuildStorageConfig } from "@ferry/build-storage";
import { parseEngineUrl } from "@ferry/containers";
import { type DatabaseConfig, redactUrl } from "@ferry/db";
import { CONTAINER_LABELS } from "@ferry/domain";
import { parseKeyRing } from "@ferry/secret-box";
import type { LogLevel } from "./log.ts";
import {
  DEFAULT_RETENTION_BATCH_SIZE,
  DEFAULT_RETENTION_INTERVAL_SECONDS,
  DEFAULT_RETENTION_PERIOD,
  DEFAULT_UPLOAD_URL_TTL_SECONDS,
  parseRetentionPeriod,
  type RetentionSettings,
} from "./retention/settings.ts";

export interface HydraConfig {
  readonly database: DatabaseConfig;
  readonly databasePoolSize: number;
  readonly containerEngineUrl: string;
  readonly containerStopTimeoutSeconds: number;
  /** Added to every container; reconciliation is limited to containers carrying all of them. */
  readonly instanceLabels: Readonly<Record<string, string>>;
  /** Key-ring text, or undefined when no secret can be opened. Never logged. */
  readonly secretKeys: string | undefined;
  readonly apexDomain: string;
  readonly regions: ReadonlyArray<string>;
  readonly host: string;
  readonly port: number;
  /** Undefined: `http://{host}:{bound port}`. */
  readonly advertisedUrl: string | undefined;
  readonly restateAdminUrl: string;
  readonly register: boolean;
  /** Restate request-identity public keys; empty: requests are not verified (bind to loopback). */
  readonly identityKeys: ReadonlyArray<string>;
  /** 0: reconcile only at start. */
  readonly reconcileIntervalSeconds: number;
  readonly logLevel: LogLevel;
  /** Where uploaded build contexts are read from (the storage ctrl writes). */
  readonly buildStorage: HydraBuildStorageConfig;
  /** The largest build context built, in bytes. */
  readonly uploadMaxBytes: number;
  /** Build jobs live here, one directory per deployment (absolute). */
  readonly buildJobsDir: string;
  /** A build running longer is stopped and its deployment fails. */
  readonly buildTimeoutMs: number;
  /** hydra's own files: downloaded build contexts under `contexts/` (absolute). */
  readonly workDir: string;
  /** When build artifacts are removed, and how often hydra asks for a sweep. */
  readonly retention: RetentionSettings;
  /** Restate's ingress: hydra sends the retention sweeps there. */
  readonly restateIngressUrl: string;
}

export type HydraBuildStorageConfig =
  | { readonly kind: "local"; readonly dir: string }
  | ({ readonly kind: "s3" } & S3BuildStorageConfig);

/** Same default as ctrl's FERRY_UPLOAD_MAX_BYTES. */
export const DEFAULT_UPLOAD_MAX_BYTES = 500 * 1024 * 1024;
const UPLOAD_MAX_BYTES_LIMIT = 5 * 1024 * 1024 * 1024;
export const DEFAULT_BUILD_TIMEOUT_MS = 30 * 60_000;

/** Every problem found in the environment, one line each. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: ReadonlyArray<string>;
  constructor(problems: ReadonlyArray<string>) {
    super(`invalid hydra configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_DATA_DIR = ".ferry/data";
const LOG_LEVELS: ReadonlyArray<LogLevel> = ["debug", "info", "warn", "error"];
const LABEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/;
const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const RESERVED_LABELS: ReadonlySet<string> = new Set(Object.values(CONTAINER_LABELS));
const REGION = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): HydraConfig {
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

  const httpUrl = (name: string, fallback: string | undefined): string | undefined => {
    const raw = get(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
      return raw.replace(/\/+$/, "");
    } catch {
      problems.push(`${name}: must be an http:// or https:// URL (got "${raw}")`);
      return fallback;
    }
  };

  const dataDirRaw = get("FERRY_DATA_DIR") ?? DEFAULT_DATA_DIR;
  const dataDir = path.resolve(cwd, dataDirRaw);

  // Database: a URL (PostgreSQL, or the PGlite socket of the process that owns the data), else
  // the embedded PGlite opened here.
  let database: DatabaseConfig;
  const urlName = get("FERRY_DATABASE_URL") !== undefined ? "FERRY_DATABASE_URL" : "DATABASE_URL";
  const databaseUrl = get(urlName);
  if (databaseUrl !== undefined) {
    let ok = false;
    try {
      const url = new URL(databaseUrl);
      ok = url.protocol === "postgres:" || url.protocol === "postgresql:";
    } catch {
      ok = false;
    }
    if (!ok)
      problems.push(
        `${urlName}: must be a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)`,
      );
    database = { kind: "postgres", url: databaseUrl };
  } else {
    database = { kind: "pglite", dataDir: path.resolve(cwd, dataDirRaw, "pglite") };
  }

  const containerEngineUrl =
    get("FERRY_CONTAINER_ENGINE_URL") ?? get("DOCKER_HOST") ?? "unix:///run/podman/podman.sock";
  try {
    parseEngineUrl(containerEngineUrl);
  } catch (error) {
    problems.push(
      `${get("FERRY_CONTAINER_ENGINE_URL") === undefined && get("DOCKER_HOST") !== undefined ? "DOCKER_HOST" : "FERRY_CONTAINER_ENGINE_URL"}: ${(error as Error).message}`,
    );
  }

  const instanceLabels: Record<string, string> = {};
  const labelsRaw = get("FERRY_INSTANCE_LABELS");
  if (labelsRaw !== undefined) {
    for (const entry of labelsRaw.split(",").map((e) => e.trim())) {
      if (entry === "") continue;
      const eq = entry.indexOf("=");
      const name = eq > 0 ? entry.slice(0, eq) : "";
      const value = eq > 0 ? entry.slice(eq + 1) : "";
      if (!LABEL_NAME.test(name) || value === "" || /[,\s]/.test(value))
        problems.push(
          `FERRY_INSTANCE_LABELS: "${entry}" must be name=value (name of letters, digits, ".", "_", "/", "-"; a value without spaces)`,
        );
      else if (RESERVED_LABELS.has(name))
        problems.push(`FERRY_INSTANCE_LABELS: "${name}" is set by hydra itself`);
      else instanceLabels[name] = value;
    }
  }

  const secretKeys = get("FERRY_SECRET_KEYS");
  if (secretKeys !== undefined) {
    try {
      parseKeyRing(secretKeys);
    } catch (error) {
      problems.push(`FERRY_SECRET_KEYS: ${(error as Error).message}`);
    }
  }

  const apexDomain = (get("FERRY_APEX_DOMAIN") ?? "ferry.localhost").toLowerCase();
  if (!DNS_NAME.test(apexDomain))
    problems.push(`FERRY_APEX_DOMAIN: "${apexDomain}" is not a valid DNS name`);

  const regions = (get("FERRY_REGIONS") ?? "local-1,local-2")
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
  if (regions.length === 0) problems.push("FERRY_REGIONS: must name at least one region");
  for (const region of regions)
    if (!REGION.test(region))
      problems.push(
        `FERRY_REGIONS: "${region}" must be a DNS label (lowercase letters, digits, "-")`,
      );

  const logLevel = (get("FERRY_LOG_LEVEL") ?? "info").toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`FERRY_LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")} (got "${logLevel}")`);

  const registerRaw = (get("FERRY_HYDRA_REGISTER") ?? "true").toLowerCase();
  if (!["true", "false", "1", "0"].includes(registerRaw))
    problems.push(`FERRY_HYDRA_REGISTER: must be true or false (got "${registerRaw}")`);

  const identityKeys = (get("FERRY_RESTATE_IDENTITY_KEYS") ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  for (const key of identityKeys)
    if (!/^publickeyv1_[1-9A-HJ-NP-Za-km-z]+$/.test(key))
      problems.push(
        `FERRY_RESTATE_IDENTITY_KEYS: "${key}" is not a Restate public key (publickeyv1_ followed by base58)`,
      );

  // Build contexts: read from the storage ctrl writes (same variables and defaults as ctrl).
  const storageKind = (get("FERRY_BUILD_STORAGE") ?? "local").toLowerCase();
  let buildStorage: HydraBuildStorageConfig;
  if (storageKind === "s3") {
    const bucket = get("FERRY_S3_BUCKET");
    const accessKeyId = get("FERRY_S3_ACCESS_KEY_ID");
    const secretAccessKey = get("FERRY_S3_SECRET_ACCESS_KEY");
    for (const [name, value] of [
      ["FERRY_S3_BUCKET", bucket],
      ["FERRY_S3_ACCESS_KEY_ID", accessKeyId],
      ["FERRY_S3_SECRET_ACCESS_KEY", secretAccessKey],
    ] as const)
      if (value === undefined) problems.push(`${name}: required with FERRY_BUILD_STORAGE=s3`);
    const endpoint = httpUrl("FERRY_S3_ENDPOINT", undefined);
    const forceRaw = get("FERRY_S3_FORCE_PATH_STYLE")?.toLowerCase();
    if (forceRaw !== undefined && !["true", "false", "1", "0"].includes(forceRaw))
      problems.push(`FERRY_S3_FORCE_PATH_STYLE: must be true or false (got "${forceRaw}")`);
    buildStorage = {
      kind: "s3",
      endpoint,
      region: get("FERRY_S3_REGION") ?? "us-east-1",
      bucket: bucket ?? "",
      accessKeyId: accessKeyId ?? "",
      secretAccessKey: secretAccessKey ?? "",
      forcePathStyle:
        forceRaw === undefined ? endpoint !== undefined : forceRaw === "true" || forceRaw === "1",
    };
  } else {
    if (storageKind !== "local")
      problems.push(`FERRY_BUILD_STORAGE: must be "local" or "s3" (got "${storageKind}")`);
    buildStorage = {
      kind: "local",
      dir: path.resolve(
        cwd,
        get("FERRY_BUILD_STORAGE_DIR") ?? path.join(dataDir, "build-contexts"),
      ),
    };
  }

  const periodRaw = get("FERRY_RETENTION_PERIOD") ?? DEFAULT_RETENTION_PERIOD;
  const period = parseRetentionPeriod(periodRaw);
  if (!period.ok) problems.push(`FERRY_RETENTION_PERIOD: ${period.problem}`);

  const config: HydraConfig = {
    database,
    databasePoolSize: integer("FERRY_DATABASE_POOL_SIZE", 4, 1, 100),
    containerEngineUrl,
    containerStopTimeoutSeconds: integer("FERRY_CONTAINER_STOP_TIMEOUT_SECONDS", 10, 0, 30),
    instanceLabels,
    secretKeys,
    apexDomain,
    regions,
    host: get("FERRY_HYDRA_HOST") ?? "127.0.0.1",
    port: integer("FERRY_HYDRA_PORT", 9080, 0, 65535),
    advertisedUrl: httpUrl("FERRY_HYDRA_ADVERTISED_URL", undefined),
    restateAdminUrl: httpUrl("FERRY_RESTATE_ADMIN_URL", "http://127.0.0.1:9070") ?? "",
    register: registerRaw === "true" || registerRaw === "1",
    identityKeys,
    reconcileIntervalSeconds: integer("FERRY_RECONCILE_INTERVAL_SECONDS", 60, 0, 86_400),
    logLevel,
    buildStorage,
    uploadMaxBytes: integer(
      "FERRY_UPLOAD_MAX_BYTES",
      DEFAULT_UPLOAD_MAX_BYTES,
      1,
      UPLOAD_MAX_BYTES_LIMIT,
    ),
    buildJobsDir: path.resolve(cwd, get("FERRY_BUILD_JOBS_DIR") ?? path.join(dataDir, "builds")),
    buildTimeoutMs: integer("FERRY_BUILD_TIMEOUT_MS", DEFAULT_BUILD_TIMEOUT_MS, 1_000, 86_400_000),
    workDir: path.join(dataDir, "hydra"),
    retention: {
      periodMs: period.ok ? period.ms : 0,
      intervalSeconds: integer(
        "FERRY_RETENTION_INTERVAL_SECONDS",
        DEFAULT_RETENTION_INTERVAL_SECONDS,
        0,
        7 * 86_400,
      ),
      batchSize: integer("FERRY_RETENTION_BATCH_SIZE", DEFAULT_RETENTION_BATCH_SIZE, 1, 1_000),
      uploadUrlTtlSeconds: integer(
        "FERRY_UPLOAD_URL_TTL_SECONDS",
        DEFAULT_UPLOAD_URL_TTL_SECONDS,
        1,
        7 * 86_400,
      ),
    },
    restateIngressUrl:
      httpUrl("FERRY_RESTATE_INGRESS_URL", "http://127.0.0.1:8080") ?? "http://127.0.0.1:8080",
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The configuration without secrets, for the start log line. */
export function describeConfig(config: HydraConfig): Record<string, unknown> {
  return {
    database:
      config.database.kind === "postgres"
        ? { kind: "postgres", url: redactUrl(config.database.url) }
        : { kind: "pglite", dataDir: config.database.dataDir },
    containerEngineUrl: config.containerEngineUrl,
    instanceLabels: config.instanceLabels,
    secretKeys: config.secretKeys === undefined ? "none" : "configured",
    apexDomain: config.apexDomain,
    regions: config.regions,
    listen: `${config.host}:${config.port}`,
    restateAdminUrl: config.restateAdminUrl,
    register: config.register,
    verifiesRequests: config.identityKeys.length > 0,
    reconcileIntervalSeconds: config.reconcileIntervalSeconds,
    buildStorage:
      config.buildStorage.kind === "local"
        ? { kind: "local", dir: config.buildStorage.dir }
        : {
            kind: "s3",
            endpoint: config.buildStorage.endpoint ?? "AWS",
            region: config.buildStorage.region,
            bucket: config.buildStorage.bucket,
          },
    uploadMaxBytes: config.uploadMaxBytes,
    buildJobsDir: config.buildJobsDir,
    buildTimeoutMs: config.buildTimeoutMs,
    workDir: config.workDir,
    retention: config.retention,
    restateIngressUrl: config.restateIngressUrl,
  };
}
