/**
 * The example's configuration: the only module that reads `process.env`. The deployment
 * service's settings are the ones ctrl and hydra use (same names), so the example points at
 * the same database, Restate and build storage as the running Ferry installation.
 */
import path from "node:path";
import type { DeploymentServiceConfig } from "@ferry/deployment-service";
import { isLoopback } from "./auth.ts";

export interface ExampleConfig {
  readonly host: string;
  readonly port: number;
  /** Every request must carry `Authorization: Bearer <token>`; required beyond loopback. */
  readonly token: string | undefined;
  readonly service: DeploymentServiceConfig;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown with every missing or malformed setting, one per line. */
export class ExampleConfigError extends Error {
  constructor(problems: ReadonlyArray<string>) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ExampleConfigError";
  }
}

/** A guessable token would make the endpoint as open as none. */
const MIN_TOKEN_LENGTH = 16;

const value = (env: Env, name: string): string | undefined => {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
};

export const loadConfig = (env: Env = process.env, cwd = process.cwd()): ExampleConfig => {
  const problems: Array<string> = [];
  const databaseUrl = value(env, "DATABASE_URL");
  if (databaseUrl === undefined)
    problems.push(
      "DATABASE_URL: required: the PostgreSQL URL of Ferry's database (under `pnpm start`, the URL in <data dir>/pglite.url)",
    );
  const secretKeys = value(env, "FERRY_SECRET_KEYS");
  if (secretKeys === undefined)
    problems.push(
      "FERRY_SECRET_KEYS: required: the key ring ctrl uses (under `pnpm start`, <data dir>/secret-keys)",
    );
  const port = Number(value(env, "PORT") ?? "3000");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`PORT: must be an integer from 0 to 65535 (got ${JSON.stringify(env.PORT)})`);
  const host = value(env, "HOST") ?? "127.0.0.1";
  const token = value(env, "EXAMPLE_TOKEN");
  // The endpoint acts with the full rights of the workspace: open to the network only with a token.
  if (token === undefined && !isLoopback(host))
    problems.push(
      `HOST: ${host} is reachable from other machines, and the example deploys with its workspace's full rights: set EXAMPLE_TOKEN (callers send "Authorization: Bearer <token>"), or listen on 127.0.0.1`,
    );
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH)
    problems.push(
      `EXAMPLE_TOKEN: must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length}); e.g. \`openssl rand -hex 32\``,
    );
  if (token !== undefined && /\s/.test(token))
    problems.push("EXAMPLE_TOKEN: must not contain whitespace (it travels in a header)");
  if (problems.length > 0) throw new ExampleConfigError(problems);

  const dataDir = path.resolve(cwd, value(env, "FERRY_DATA_DIR") ?? ".ferry/data");
  return {
    host,
    port,
    token,
    service: {
      database: databaseUrl ?? "",
      poolSize: Number(value(env, "FERRY_DATABASE_POOL_SIZE") ?? "1"),
      restate: {
        ingressUrl: value(env, "FERRY_RESTATE_INGRESS_URL") ?? "http://127.0.0.1:8080",
        adminUrl: value(env, "FERRY_RESTATE_ADMIN_URL") ?? "http://127.0.0.1:9070",
      },
      regions: (value(env, "FERRY_REGIONS") ?? "local-1,local-2").split(",").map((r) => r.trim()),
      apexDomain: value(env, "FERRY_APEX_DOMAIN") ?? "ferry.localhost",
      buildStorage: {
        kind: "local",
        dir: path.resolve(
          cwd,
          value(env, "FERRY_BUILD_STORAGE_DIR") ?? path.join(dataDir, "build-contexts"),
        ),
      },
      secretKeys: secretKeys ?? "",
      workspace: value(env, "FERRY_WORKSPACE") ?? "default",
    },
  };
};
