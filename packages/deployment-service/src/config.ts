/**
 * What createDeploymentService needs, and its check: every problem is reported at once, as one
 * ValidationError whose violations name the config field (`regions[1]`, `restate.ingressUrl`),
 * before anything is opened. Secrets (the key ring, a database password, the S3 secret) are
 * never echoed.
 */
import type { DatabaseConfig } from "@ferry/db";
import { isDnsLabel, ValidationError, type Violation } from "@ferry/domain";
import { parseKeyRing } from "@ferry/secret-box";
import type { BuildStorageConfig } from "./build-storage.ts";

export interface DeploymentServiceConfig {
  /**
   * A PostgreSQL URL (`postgresql://...`), or @ferry/db's DatabaseConfig (PostgreSQL, or an
   * embedded PGlite directory that no other process has open).
   */
  readonly database: string | DatabaseConfig;
  /**
   * Apply pending migrations at start (default false: the service fails with
   * DatabaseSchemaBehind, naming the command, when the schema is behind).
   */
  readonly migrate?: boolean;
  /** Connections in the pool (PostgreSQL; default 4). */
  readonly poolSize?: number;
  readonly restate: {
    /** Restate's ingress, e.g. `http://127.0.0.1:8080` (deploy, promote, rollback). */
    readonly ingressUrl: string;
    /** Restate's admin API, e.g. `http://127.0.0.1:9070` (cancel). */
    readonly adminUrl: string;
    /** Deadline of one call to Restate, retries included (default 60 000 ms). */
    readonly requestTimeoutMs?: number;
  };
  /** Regions deployments may run in, in order (the ones hydra runs). */
  readonly regions: ReadonlyArray<string>;
  /** Generated hostnames live under it, e.g. `ferry.localhost`. */
  readonly apexDomain: string;
  /** Where build contexts are stored: the same as ctrl's and hydra's. */
  readonly buildStorage: BuildStorageConfig;
  readonly buildContextLimits?: {
    /** The largest build context accepted, in bytes (default 500 MiB). */
    readonly maxSizeBytes?: number;
    /** How long an upload URL lives (default 900 s); used only for the URL's signature here. */
    readonly uploadUrlTtlSeconds?: number;
  };
  /** The SecretBox key ring, `id:base64(32 bytes),...` current first: ctrl's FERRY_SECRET_KEYS. */
  readonly secretKeys: string;
  /** The workspace every operation acts for: its slug (`default`) or id (`ws_...`). */
  readonly workspace: string;
  /**
   * Where Effect's logs of the use cases go (warnings such as "route lookup failed").
   * Default: warnings and errors to stderr.
   */
  readonly log?: (entry: {
    readonly level: "info" | "warn" | "error";
    readonly message: string;
    readonly fields: Readonly<Record<string, unknown>>;
  }) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_SIZE_BYTES = 500 * 1024 * 1024;
export const DEFAULT_UPLOAD_URL_TTL_SECONDS = 900;
export const DEFAULT_POOL_SIZE = 4;

export interface CheckedConfig {
  readonly database: DatabaseConfig;
  readonly restate: {
    readonly ingressUrl: string;
    readonly adminUrl: string;
    readonly requestTimeoutMs: number;
  };
  readonly buildContextLimits: {
    readonly maxSizeBytes: number;
    readonly uploadUrlTtlSeconds: number;
  };
}

const httpUrl = (value: unknown): boolean => {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
};

const postgresUrl = (value: string): boolean => {
  try {
    const { protocol } = new URL(value);
    return protocol === "postgres:" || protocol === "postgresql:";
  } catch {
    return false;
  }
};

const isInteger = (value: unknown, min: number, max: number): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

/** The configuration with its defaults; throws ValidationError listing every problem. */
export const checkConfig = (config: DeploymentServiceConfig): CheckedConfig => {
  const problems: Array<Violation> = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  const database: DatabaseConfig | undefined =
    typeof config.database === "string"
      ? postgresUrl(config.database)
        ? { kind: "postgres", url: config.database }
        : undefined
      : config.database;
  if (database === undefined || (database.kind === "postgres" && !postgresUrl(database.url)))
    problem(
      "database",
      "must be a postgres:// or postgresql:// connection URL, or a DatabaseConfig",
    );
  if (config.poolSize !== undefined && !isInteger(config.poolSize, 1, 100))
    problem("poolSize", `must be an integer from 1 to 100 (got ${String(config.poolSize)})`);

  const restate = config.restate ?? {};
  if (!httpUrl(restate.ingressUrl))
    problem("restate.ingressUrl", "must be an http:// or https:// URL, e.g. http://127.0.0.1:8080");
  if (!httpUrl(restate.adminUrl))
    problem("restate.adminUrl", "must be an http:// or https:// URL, e.g. http://127.0.0.1:9070");
  const requestTimeoutMs = restate.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!isInteger(requestTimeoutMs, 1, 3_600_000))
    problem(
      "restate.requestTimeoutMs",
      `must be an integer from 1 to 3600000 (got ${String(requestTimeoutMs)})`,
    );

  const regions = Array.isArray(config.regions) ? config.regions : [];
  if (regions.length === 0) problem("regions", "must name at least one region");
  regions.forEach((region, index) => {
    if (typeof region !== "string" || !isDnsLabel(region))
      problem(
        `regions[${index}]`,
        `must be lowercase letters, digits and '-', at most 63 characters (got ${JSON.stringify(region)})`,
      );
    else if (regions.indexOf(region) !== index)
      problem(`regions[${index}]`, `"${region}" is listed twice`);
  });

  const apex = typeof config.apexDomain === "string" ? config.apexDomain : "";
  if (apex.length > 253 || !apex.split(".").every(isDnsLabel))
    problem(
      "apexDomain",
      `must be a lowercase DNS name such as ferry.localhost (got ${JSON.stringify(config.apexDomain)})`,
    );

  const storage = config.buildStorage;
  if (storage?.kind === "local") {
    if (typeof storage.dir !== "string" || storage.dir === "")
      problem("buildStorage.dir", "must be the build-contexts directory that ctrl and hydra use");
  } else if (storage?.kind === "s3") {
    for (const field of ["bucket", "region", "accessKeyId", "secretAccessKey"] as const)
      if (typeof storage[field] !== "string" || storage[field] === "")
        problem(`buildStorage.${field}`, "is required with S3 build storage");
    if (storage.endpoint !== undefined && !httpUrl(storage.endpoint))
      problem("buildStorage.endpoint", "must be an http:// or https:// URL");
  } else problem("buildStorage.kind", 'must be "local" or "s3"');

  const maxSizeBytes = config.buildContextLimits?.maxSizeBytes ?? DEFAULT_MAX_SIZE_BYTES;
  if (!isInteger(maxSizeBytes, 1, 5 * 1024 * 1024 * 1024))
    problem(
      "buildContextLimits.maxSizeBytes",
      `must be an integer from 1 to 5 GiB (got ${String(maxSizeBytes)})`,
    );
  const uploadUrlTtlSeconds =
    config.buildContextLimits?.uploadUrlTtlSeconds ?? DEFAULT_UPLOAD_URL_TTL_SECONDS;
  if (!isInteger(uploadUrlTtlSeconds, 1, 7 * 24 * 3600))
    problem(
      "buildContextLimits.uploadUrlTtlSeconds",
      `must be an integer from 1 to 604800 (got ${String(uploadUrlTtlSeconds)})`,
    );

  try {
    parseKeyRing(typeof config.secretKeys === "string" ? config.secretKeys : "");
  } catch (error) {
    // KeyRingError messages never contain key material.
    problem("secretKeys", error instanceof Error ? error.message : "is not a valid key ring");
  }

  if (typeof config.workspace !== "string" || config.workspace.trim() === "")
    problem("workspace", "must be the slug (e.g. default) or id (ws_...) of a workspace");

  const [first, ...rest] = problems;
  if (first !== undefined) throw new ValidationError({ violations: [first, ...rest] });
  return {
    database: database as DatabaseConfig,
    restate: { ingressUrl: restate.ingressUrl, adminUrl: restate.adminUrl, requestTimeoutMs },
    buildContextLimits: { maxSizeBytes, uploadUrlTtlSeconds },
  };
};
