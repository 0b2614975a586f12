/**
 * The stack launcher's configuration: the only module here that reads
 * `process.env`. Everything has an embedded default; ctrl and hydra validate
 * their own settings (the launcher passes them through).
 *
 * | variable                      | default                | what                                              |
 * | ----------------------------- | ---------------------- | ------------------------------------------------- |
 * | `FERRY_DATA_DIR`              | `.ferry/data`          | database, keys, Restate and Podman state          |
 * | `FERRY_API_PORT`              | 7070                   | ctrl                                              |
 * | `FERRY_HYDRA_PORT`            | 9080                   | hydra's Restate endpoint                          |
 * | `FERRY_FRONTLINE_PORT`        | 8000                   | frontline, the gateway serving deployments        |
 * | `FERRY_RESTATE_INGRESS_PORT`  | 8080                   | Restate ingress                                   |
 * | `FERRY_RESTATE_ADMIN_PORT`    | 9070                   | Restate admin API                                 |
 * | `FERRY_RESTATE_NODE_PORT`     | 5122                   | Restate node-to-node port                         |
 * | `FERRY_BOOTSTRAP_TOKEN`       | generated once         | the API key printed at start (default workspace)  |
 * | `FERRY_CONTAINER_ENGINE_URL` / `DOCKER_HOST` | detected / a Podman service started here | Docker Engine API |
 *
 * Passed to ctrl and hydra unchanged (they validate them; the tables in apps/ctrl/README.md and
 * apps/hydra/README.md say more):
 *
 * | variable                        | default                          | what                                                  |
 * | ------------------------------- | -------------------------------- | ----------------------------------------------------- |
 * | `FERRY_REGIONS`                 | `local-1,local-2`                | regions deployments may run in                        |
 * | `FERRY_APEX_DOMAIN`             | `ferry.localhost`                | generated hostnames live under it                     |
 * | `FERRY_LOG_LEVEL`               | `info`                           | `debug`, `info`, `warn`, `error`                      |
 * | `FERRY_SECRET_KEYS`             | generated once                   | key ring for secret variables                         |
 * | `FERRY_BUILD_STORAGE`           | `local`                          | where uploaded build contexts live: `local` or `s3`   |
 * | `FERRY_BUILD_STORAGE_DIR`       | `<data dir>/build-contexts`      | the local build storage directory                     |
 * | `FERRY_S3_ENDPOINT`, `FERRY_S3_REGION`, `FERRY_S3_BUCKET`, `FERRY_S3_ACCESS_KEY_ID`, `FERRY_S3_SECRET_ACCESS_KEY`, `FERRY_S3_FORCE_PATH_STYLE` | AWS, `us-east-1` | S3-compatible build storage (with `FERRY_BUILD_STORAGE=s3`) |
 * | `FERRY_UPLOAD_MAX_BYTES`        | 524288000 (500 MiB)              | largest build context accepted and built              |
 * | `FERRY_UPLOAD_URL_TTL_SECONDS`  | 900                              | how long an upload URL accepts its upload             |
 * | `FERRY_BUILD_TIMEOUT_MS`        | 1800000 (30 min)                 | a longer build is stopped, its deployment fails       |
 * | `FERRY_PUBLIC_URL`              | ctrl's listen URL                | where clients reach ctrl: local upload URLs start with it |
 * | `FERRY_RETENTION_PERIOD`, `FERRY_RETENTION_INTERVAL_SECONDS`, `FERRY_RETENTION_BATCH_SIZE` | `7d`, 3600, 50 | hydra: when build artifacts of finished deployments are removed |
 *
 * and to frontline: `FERRY_LOG_LEVEL`, `FERRY_FRONTLINE_WORKERS`,
 * `FERRY_FRONTLINE_PREFERRED_REGION`, `FERRY_FRONTLINE_ACCESS_LOG`.
 */
import path from "node:path";

export interface StackConfig {
  readonly dataDir: string;
  readonly apiPort: number;
  readonly hydraPort: number;
  readonly frontlinePort: number;
  readonly restatePorts: {
    readonly ingress: number;
    readonly admin: number;
    readonly node: number;
  };
  readonly bootstrapToken: string | undefined;
  readonly engineUrl: string | undefined;
  /** Passed to ctrl, hydra and frontline unchanged (regions, apex domain, log level, ...). */
  readonly passThrough: Readonly<Record<string, string>>;
  /** Build settings, passed to ctrl and hydra only (they hold the S3 secret). */
  readonly buildSettings: Readonly<Record<string, string>>;
}

export class StackConfigError extends Error {
  override readonly name = "StackConfigError";
}

const port = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new StackConfigError(`${name} must be a port from 1 to 65535 (got "${raw}")`);
  return value;
};

const PASS_THROUGH = [
  "FERRY_REGIONS",
  "FERRY_APEX_DOMAIN",
  "FERRY_LOG_LEVEL",
  "FERRY_SECRET_KEYS",
  "FERRY_FRONTLINE_WORKERS",
  "FERRY_FRONTLINE_PREFERRED_REGION",
  "FERRY_FRONTLINE_ACCESS_LOG",
];

/** ctrl hands out upload URLs and checks sizes; hydra reads the same storage and builds. */
const BUILD_SETTINGS = [
  "FERRY_BUILD_STORAGE",
  "FERRY_BUILD_STORAGE_DIR",
  "FERRY_S3_ENDPOINT",
  "FERRY_S3_REGION",
  "FERRY_S3_BUCKET",
  "FERRY_S3_ACCESS_KEY_ID",
  "FERRY_S3_SECRET_ACCESS_KEY",
  "FERRY_S3_FORCE_PATH_STYLE",
  "FERRY_UPLOAD_MAX_BYTES",
  "FERRY_UPLOAD_URL_TTL_SECONDS",
  "FERRY_BUILD_TIMEOUT_MS",
  "FERRY_PUBLIC_URL",
  // hydra's retention of build artifacts (ctrl ignores them).
  "FERRY_RETENTION_PERIOD",
  "FERRY_RETENTION_INTERVAL_SECONDS",
  "FERRY_RETENTION_BATCH_SIZE",
];

const present = (env: NodeJS.ProcessEnv, names: ReadonlyArray<string>): Record<string, string> =>
  Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));

export const loadStackConfig = (env: NodeJS.ProcessEnv = process.env): StackConfig => {
  if (env.DATABASE_URL)
    throw new StackConfigError(
      "DATABASE_URL is set: `pnpm start` runs the embedded stack on PGlite; run ctrl and hydra yourself against PostgreSQL (see apps/ctrl/README.md and apps/hydra/README.md)",
    );
  // pnpm runs scripts in the package directory; INIT_CWD is where the user typed the command.
  const base = env.INIT_CWD ?? process.cwd();
  const engineUrl = (env.FERRY_CONTAINER_ENGINE_URL ?? env.DOCKER_HOST)?.trim();
  return {
    dataDir: path.resolve(base, env.FERRY_DATA_DIR?.trim() || ".ferry/data"),
    apiPort: port(env, "FERRY_API_PORT", 7070),
    hydraPort: port(env, "FERRY_HYDRA_PORT", 9080),
    frontlinePort: port(env, "FERRY_FRONTLINE_PORT", 8000),
    restatePorts: {
      ingress: port(env, "FERRY_RESTATE_INGRESS_PORT", 8080),
      admin: port(env, "FERRY_RESTATE_ADMIN_PORT", 9070),
      node: port(env, "FERRY_RESTATE_NODE_PORT", 5122),
    },
    bootstrapToken: env.FERRY_BOOTSTRAP_TOKEN?.trim() || undefined,
    engineUrl: engineUrl || undefined,
    passThrough: present(env, PASS_THROUGH),
    buildSettings: {
      ...present(env, BUILD_SETTINGS),
      // Absolute: ctrl and hydra run in their own package directories and must find one place.
      ...(env.FERRY_BUILD_STORAGE_DIR?.trim()
        ? { FERRY_BUILD_STORAGE_DIR: path.resolve(base, env.FERRY_BUILD_STORAGE_DIR.trim()) }
        : {}),
    },
  };
};
