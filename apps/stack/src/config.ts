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
  /** Passed to ctrl and hydra unchanged (regions, apex domain, log level, ...). */
  readonly passThrough: Readonly<Record<string, string>>;
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
    passThrough: Object.fromEntries(
      PASS_THROUGH.flatMap((name) => (env[name] ? [[name, env[name]]] : [])),
    ) as Record<string, string>,
  };
};
