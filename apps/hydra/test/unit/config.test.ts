/** Configuration: defaults, precedence, and every problem reported at once without secrets. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig } from "../../src/config.ts";

const KEY = `k1:${Buffer.alloc(32, 7).toString("base64")}`;

describe("loadConfig", () => {
  it("has defaults for everything: embedded PGlite, Podman's socket, port 9080", () => {
    const config = loadConfig({}, "/srv/ferry");
    expect(config).toStrictEqual({
      database: { kind: "pglite", dataDir: path.resolve("/srv/ferry/.ferry/data/pglite") },
      databasePoolSize: 4,
      containerEngineUrl: "unix:///run/podman/podman.sock",
      containerStopTimeoutSeconds: 10,
      instanceLabels: {},
      secretKeys: undefined,
      apexDomain: "ferry.localhost",
      regions: ["local-1", "local-2"],
      host: "127.0.0.1",
      port: 9080,
      advertisedUrl: undefined,
      restateAdminUrl: "http://127.0.0.1:9070",
      register: true,
      identityKeys: [],
      reconcileIntervalSeconds: 60,
      logLevel: "info",
      buildStorage: { kind: "local", dir: path.resolve("/srv/ferry/.ferry/data/build-contexts") },
      uploadMaxBytes: 500 * 1024 * 1024,
      buildJobsDir: path.resolve("/srv/ferry/.ferry/data/builds"),
      buildTimeoutMs: 30 * 60_000,
      workDir: path.resolve("/srv/ferry/.ferry/data/hydra"),
      retention: {
        periodMs: 7 * 86_400_000,
        intervalSeconds: 3_600,
        batchSize: 50,
        uploadUrlTtlSeconds: 900,
      },
      restateIngressUrl: "http://127.0.0.1:8080",
    });
  });

  it("retention: the period as a duration, the sweep interval (0: never), the batch; each problem named", () => {
    const config = loadConfig({
      FERRY_RETENTION_PERIOD: "36h",
      FERRY_RETENTION_INTERVAL_SECONDS: "0",
      FERRY_RETENTION_BATCH_SIZE: "10",
      FERRY_UPLOAD_URL_TTL_SECONDS: "3600",
      FERRY_RESTATE_INGRESS_URL: "http://restate:8080/",
    });
    expect(config.retention).toStrictEqual({
      periodMs: 36 * 3_600_000,
      intervalSeconds: 0,
      batchSize: 10,
      uploadUrlTtlSeconds: 3_600,
    });
    expect(config.restateIngressUrl).toBe("http://restate:8080");
    expect(loadConfig({ FERRY_RETENTION_PERIOD: "90s" }).retention.periodMs).toBe(90_000);
    expect(loadConfig({ FERRY_RETENTION_PERIOD: "30m" }).retention.periodMs).toBe(1_800_000);
    expect(describeConfig(config).retention).toStrictEqual(config.retention);

    for (const bad of ["7", "7 days", "-1d", "0s", "3651d", "1w"]) {
      expect(() => loadConfig({ FERRY_RETENTION_PERIOD: bad })).toThrow(
        `FERRY_RETENTION_PERIOD: must be a duration from 1s to 3650d: a whole number followed by s, m, h or d, like 7d, 12h, 30m or 90s (got "${bad}")`,
      );
    }
    let error: unknown;
    try {
      loadConfig({
        FERRY_RETENTION_INTERVAL_SECONDS: "hourly",
        FERRY_RETENTION_BATCH_SIZE: "0",
        FERRY_UPLOAD_URL_TTL_SECONDS: "0",
        FERRY_RESTATE_INGRESS_URL: "restate:8080",
      });
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems).toStrictEqual([
      'FERRY_RETENTION_INTERVAL_SECONDS: must be a whole number from 0 to 604800 (got "hourly")',
      'FERRY_RETENTION_BATCH_SIZE: must be a whole number from 1 to 1000 (got "0")',
      'FERRY_UPLOAD_URL_TTL_SECONDS: must be a whole number from 1 to 604800 (got "0")',
      'FERRY_RESTATE_INGRESS_URL: must be an http:// or https:// URL (got "restate:8080")',
    ]);
  });

  it("build settings: storage, jobs directory, timeout, archive limit; S3 as ctrl reads it", () => {
    const local = loadConfig(
      {
        FERRY_DATA_DIR: "/data",
        FERRY_BUILD_JOBS_DIR: "jobs",
        FERRY_BUILD_TIMEOUT_MS: "60000",
        FERRY_UPLOAD_MAX_BYTES: "1048576",
      },
      "/srv",
    );
    expect(local.buildStorage).toStrictEqual({ kind: "local", dir: "/data/build-contexts" });
    expect(local.buildJobsDir).toBe("/srv/jobs");
    expect(local.buildTimeoutMs).toBe(60_000);
    expect(local.uploadMaxBytes).toBe(1_048_576);
    expect(local.workDir).toBe("/data/hydra");
    const s3 = loadConfig({
      FERRY_BUILD_STORAGE: "s3",
      FERRY_S3_ENDPOINT: "http://minio:9000",
      FERRY_S3_BUCKET: "contexts",
      FERRY_S3_ACCESS_KEY_ID: "id",
      FERRY_S3_SECRET_ACCESS_KEY: "very-secret",
    });
    expect(s3.buildStorage).toStrictEqual({
      kind: "s3",
      endpoint: "http://minio:9000",
      region: "us-east-1",
      bucket: "contexts",
      accessKeyId: "id",
      secretAccessKey: "very-secret",
      forcePathStyle: true,
    });
    expect(JSON.stringify(describeConfig(s3))).not.toContain("very-secret");
    expect(() => loadConfig({ FERRY_BUILD_STORAGE: "s3" })).toThrow(
      /FERRY_S3_BUCKET: required with FERRY_BUILD_STORAGE=s3/,
    );
    expect(() => loadConfig({ FERRY_BUILD_TIMEOUT_MS: "soon" })).toThrow(/FERRY_BUILD_TIMEOUT_MS/);
  });

  it("reads every variable; FERRY_DATABASE_URL wins over DATABASE_URL", () => {
    const config = loadConfig({
      FERRY_DATABASE_URL: "postgresql://hydra:pw@127.0.0.1:5433/ferry",
      DATABASE_URL: "postgresql://other@db/other",
      FERRY_DATABASE_POOL_SIZE: "2",
      FERRY_CONTAINER_ENGINE_URL: "tcp://127.0.0.1:2375",
      FERRY_CONTAINER_STOP_TIMEOUT_SECONDS: "3",
      FERRY_INSTANCE_LABELS: "ferry.install=a, team=web",
      FERRY_SECRET_KEYS: KEY,
      FERRY_APEX_DOMAIN: "Apps.Example.COM",
      FERRY_REGIONS: "eu-1, us-1",
      FERRY_HYDRA_HOST: "0.0.0.0",
      FERRY_HYDRA_PORT: "0",
      FERRY_HYDRA_ADVERTISED_URL: "http://hydra.internal:9080/",
      FERRY_RESTATE_ADMIN_URL: "http://restate:9070",
      FERRY_HYDRA_REGISTER: "false",
      FERRY_RECONCILE_INTERVAL_SECONDS: "0",
      FERRY_LOG_LEVEL: "DEBUG",
    });
    expect(config).toMatchObject({
      database: { kind: "postgres", url: "postgresql://hydra:pw@127.0.0.1:5433/ferry" },
      databasePoolSize: 2,
      containerEngineUrl: "tcp://127.0.0.1:2375",
      containerStopTimeoutSeconds: 3,
      instanceLabels: { "ferry.install": "a", team: "web" },
      secretKeys: KEY,
      apexDomain: "apps.example.com",
      regions: ["eu-1", "us-1"],
      host: "0.0.0.0",
      port: 0,
      advertisedUrl: "http://hydra.internal:9080",
      restateAdminUrl: "http://restate:9070",
      register: false,
      reconcileIntervalSeconds: 0,
      logLevel: "debug",
    });
    // What is logged at start hides the password and the keys.
    const described = JSON.stringify(describeConfig(config));
    expect(described).not.toContain("pw@");
    expect(described).not.toContain(KEY.slice(3));
    expect(described).toContain('"secretKeys":"configured"');
  });

  it("DOCKER_HOST is the engine when FERRY_CONTAINER_ENGINE_URL is not set", () => {
    expect(loadConfig({ DOCKER_HOST: "unix:///var/run/docker.sock" }).containerEngineUrl).toBe(
      "unix:///var/run/docker.sock",
    );
  });

  it("reports every problem at once, never echoing a database URL", () => {
    let error: unknown;
    try {
      loadConfig({
        FERRY_DATABASE_URL: "mysql://root:hunter2@db/ferry",
        FERRY_HYDRA_PORT: "80a",
        FERRY_DATABASE_POOL_SIZE: "0",
        FERRY_CONTAINER_ENGINE_URL: "ssh://host",
        FERRY_INSTANCE_LABELS: "nolabel,ferry.deployment=x",
        FERRY_SECRET_KEYS: "k1:short",
        FERRY_APEX_DOMAIN: "-bad-.example",
        FERRY_REGIONS: "EU 1",
        FERRY_RESTATE_ADMIN_URL: "restate:9070",
        FERRY_HYDRA_REGISTER: "maybe",
        FERRY_LOG_LEVEL: "loud",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    const names = problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(names).toStrictEqual([
      "FERRY_DATABASE_URL",
      "FERRY_CONTAINER_ENGINE_URL",
      "FERRY_INSTANCE_LABELS",
      "FERRY_INSTANCE_LABELS",
      "FERRY_SECRET_KEYS",
      "FERRY_APEX_DOMAIN",
      "FERRY_REGIONS",
      "FERRY_LOG_LEVEL",
      "FERRY_HYDRA_REGISTER",
      "FERRY_DATABASE_POOL_SIZE",
      "FERRY_HYDRA_PORT",
      "FERRY_RESTATE_ADMIN_URL",
    ]);
    expect((error as Error).message).not.toContain("hunter2");
    expect(problems.find((p) => p.startsWith("FERRY_HYDRA_PORT"))).toBe(
      'FERRY_HYDRA_PORT: must be a whole number from 0 to 65535 (got "80a")',
    );
  });
});
