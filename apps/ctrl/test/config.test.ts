import path from "node:path";
import { generateKey } from "@ferry/secret-box";
import { describe, expect, it } from "vitest";
import { ConfigError, type Env, loadConfig } from "../src/config.ts";

const CWD = "/srv/ferry";
const KEYS = generateKey("k1");

const load = (env: Env, files: Record<string, string> = {}) =>
  loadConfig({
    env,
    cwd: CWD,
    readFile: (file) => {
      const content = files[file];
      if (content === undefined)
        throw Object.assign(new Error(`ENOENT: ${file}`), { code: "ENOENT" });
      return content;
    },
  });

const problemsOf = (env: Env, files: Record<string, string> = {}): ReadonlyArray<string> => {
  try {
    load(env, files);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
};

describe("loadConfig", () => {
  it("has defaults for the embedded stack", () => {
    expect(load({})).toEqual({
      api: { host: "127.0.0.1", port: 7070 },
      dataDir: path.join(CWD, ".ferry/data"),
      database: { kind: "pglite", dataDir: path.join(CWD, ".ferry/data/pglite") },
      restate: {
        ingressUrl: "http://127.0.0.1:8080",
        adminUrl: "http://127.0.0.1:9070",
        requestTimeoutMs: 60_000,
      },
      regions: ["local-1", "local-2"],
      apexDomain: "ferry.localhost",
      secretKeys: undefined,
      bootstrapToken: undefined,
      buildStorage: { kind: "local", dir: path.join(CWD, ".ferry/data/build-contexts") },
      buildContextLimits: { maxSizeBytes: 500 * 1024 * 1024, uploadUrlTtlSeconds: 900 },
      publicUrl: undefined,
    });
  });

  it("reads every setting from the environment", () => {
    const config = load({
      FERRY_API_HOST: "0.0.0.0",
      FERRY_API_PORT: "8443",
      DATABASE_URL: "postgresql://ferry:pw@db:5432/ferry",
      FERRY_DATA_DIR: "/var/lib/ferry",
      FERRY_RESTATE_INGRESS_URL: "http://restate:8080/",
      FERRY_RESTATE_ADMIN_URL: "https://restate:9070",
      FERRY_RESTATE_REQUEST_TIMEOUT_MS: "120000",
      FERRY_REGIONS: "eu-west, us-east",
      FERRY_APEX_DOMAIN: "apps.example.com",
      FERRY_SECRET_KEYS: KEYS,
      FERRY_BOOTSTRAP_TOKEN: "a-long-enough-bootstrap-token",
      FERRY_BUILD_STORAGE_DIR: "contexts",
      FERRY_UPLOAD_MAX_BYTES: "1048576",
      FERRY_UPLOAD_URL_TTL_SECONDS: "60",
      FERRY_PUBLIC_URL: "https://ferry.example.com/",
    });
    expect(config).toEqual({
      api: { host: "0.0.0.0", port: 8443 },
      dataDir: "/var/lib/ferry",
      database: { kind: "postgres", url: "postgresql://ferry:pw@db:5432/ferry" },
      restate: {
        ingressUrl: "http://restate:8080",
        adminUrl: "https://restate:9070",
        requestTimeoutMs: 120_000,
      },
      regions: ["eu-west", "us-east"],
      apexDomain: "apps.example.com",
      secretKeys: KEYS,
      bootstrapToken: "a-long-enough-bootstrap-token",
      buildStorage: { kind: "local", dir: path.join(CWD, "contexts") },
      buildContextLimits: { maxSizeBytes: 1_048_576, uploadUrlTtlSeconds: 60 },
      publicUrl: "https://ferry.example.com",
    });
  });

  it("reads the S3 build storage settings", () => {
    const s3 = {
      FERRY_BUILD_STORAGE: "s3",
      FERRY_S3_BUCKET: "ferry-contexts",
      FERRY_S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
      FERRY_S3_SECRET_ACCESS_KEY: "s3-secret/value+1",
    };
    expect(load(s3).buildStorage).toEqual({
      kind: "s3",
      endpoint: undefined,
      region: "us-east-1",
      bucket: "ferry-contexts",
      accessKeyId: "AKIAEXAMPLE",
      secretAccessKey: "s3-secret/value+1",
      forcePathStyle: false,
    });
    // A self-hosted endpoint defaults to path-style URLs; an explicit setting wins.
    expect(
      load({ ...s3, FERRY_S3_ENDPOINT: "http://minio:9000/", FERRY_S3_REGION: "eu-1" })
        .buildStorage,
    ).toMatchObject({ endpoint: "http://minio:9000", region: "eu-1", forcePathStyle: true });
    expect(
      load({
        ...s3,
        FERRY_S3_ENDPOINT: "https://s3.example.com",
        FERRY_S3_FORCE_PATH_STYLE: "false",
      }).buildStorage,
    ).toMatchObject({ forcePathStyle: false });
  });

  it("reports build storage settings that are missing or belong to the other kind", () => {
    expect(
      problemsOf({ FERRY_BUILD_STORAGE: "s3", FERRY_BUILD_STORAGE_DIR: "/srv/contexts" }),
    ).toEqual([
      "FERRY_S3_BUCKET: required with FERRY_BUILD_STORAGE=s3",
      "FERRY_S3_ACCESS_KEY_ID: required with FERRY_BUILD_STORAGE=s3",
      "FERRY_S3_SECRET_ACCESS_KEY: required with FERRY_BUILD_STORAGE=s3",
      "FERRY_BUILD_STORAGE_DIR: set, but FERRY_BUILD_STORAGE is s3 (it applies to local)",
    ]);
    expect(problemsOf({ FERRY_S3_BUCKET: "b" })).toEqual([
      "FERRY_S3_BUCKET: set, but FERRY_BUILD_STORAGE is local (set FERRY_BUILD_STORAGE=s3 to store build contexts in S3)",
    ]);
    expect(
      problemsOf({
        FERRY_BUILD_STORAGE: "gcs",
        FERRY_UPLOAD_MAX_BYTES: "0",
        FERRY_UPLOAD_URL_TTL_SECONDS: "604801",
        FERRY_PUBLIC_URL: "ferry.example.com",
      }),
    ).toEqual([
      'FERRY_BUILD_STORAGE: must be "local" or "s3" (got "gcs")',
      'FERRY_UPLOAD_MAX_BYTES: must be an integer from 1 to 5368709120 (got "0")',
      'FERRY_UPLOAD_URL_TTL_SECONDS: must be an integer from 1 to 604800 (got "604801")',
      'FERRY_PUBLIC_URL: must be an http:// or https:// URL (got "ferry.example.com")',
    ]);
  });

  it("never echoes the S3 secret", () => {
    const problems = problemsOf({
      FERRY_BUILD_STORAGE: "s3",
      FERRY_S3_BUCKET: "b",
      FERRY_S3_ACCESS_KEY_ID: "id",
      FERRY_S3_SECRET_ACCESS_KEY: "hunter2 with spaces",
    }).join("\n");
    expect(problems).toBe("FERRY_S3_SECRET_ACCESS_KEY: must be a non-empty value without spaces");
  });

  it("reads a JSON config file named by FERRY_CONFIG; the environment wins", () => {
    const file = path.join(CWD, "ferry.json");
    const config = load(
      { FERRY_CONFIG: "ferry.json", FERRY_API_PORT: "9000", INIT_CWD: "/elsewhere" },
      { [file]: JSON.stringify({ apiPort: 8000, regions: ["a", "b"], apexDomain: "x.test" }) },
    );
    expect(config.api.port).toBe(9000);
    expect(config.regions).toEqual(["a", "b"]);
    expect(config.apexDomain).toBe("x.test");
  });

  it("treats an empty variable as unset", () => {
    expect(load({ FERRY_API_PORT: "", FERRY_REGIONS: "  " }).api.port).toBe(7070);
  });

  it("reports every malformed value on its own line, naming the variable", () => {
    expect(
      problemsOf({
        FERRY_API_PORT: "http",
        FERRY_API_HOST: "local host",
        DATABASE_URL: "mysql://root:secret@db/x",
        FERRY_RESTATE_INGRESS_URL: "restate:8080",
        FERRY_RESTATE_ADMIN_URL: "ftp://restate",
        FERRY_REGIONS: "eu-west,EU_EAST,eu-west",
        FERRY_APEX_DOMAIN: "Ferry..Local",
        FERRY_SECRET_KEYS: "k1:dG9vc2hvcnQ=",
        FERRY_BOOTSTRAP_TOKEN: "short",
      }),
    ).toEqual([
      'FERRY_API_HOST: must be a host name or IP address such as 127.0.0.1 (got "local host")',
      'FERRY_API_PORT: must be an integer from 0 to 65535 (got "http")',
      "DATABASE_URL: must be a postgres:// or postgresql:// connection URL",
      'FERRY_RESTATE_INGRESS_URL: must be an http:// or https:// URL (got "restate:8080")',
      'FERRY_RESTATE_ADMIN_URL: must be an http:// or https:// URL (got "ftp://restate")',
      "FERRY_REGIONS: region names must be lowercase letters, digits and '-', at most 63 characters (got \"EU_EAST\")",
      'FERRY_APEX_DOMAIN: must be a lowercase DNS name such as ferry.localhost or apps.example.com (got "Ferry..Local")',
      'FERRY_SECRET_KEYS: secret key "k1" must be 32 bytes of base64 (got 8 bytes)',
      "FERRY_BOOTSTRAP_TOKEN: must be 16 to 256 characters long (got 5 characters)",
    ]);
  });

  it("never echoes a secret in a message", () => {
    const problems = problemsOf({
      DATABASE_URL: "mysql://root:hunter2@db/x",
      FERRY_SECRET_KEYS: "k1:aHVudGVyMg==",
      FERRY_BOOTSTRAP_TOKEN: "hunter2 with spaces",
    }).join("\n");
    expect(problems).not.toContain("hunter2");
    expect(problems).not.toContain("aHVudGVyMg");
    expect(problems).toContain(
      "FERRY_BOOTSTRAP_TOKEN: must contain only printable ASCII characters without spaces",
    );
  });

  it("reports other region problems and ports out of range", () => {
    expect(problemsOf({ FERRY_REGIONS: "a,b,a", FERRY_API_PORT: "70000" })).toEqual([
      'FERRY_API_PORT: must be an integer from 0 to 65535 (got "70000")',
      'FERRY_REGIONS: region "a" is listed twice',
    ]);
    expect(problemsOf({ FERRY_REGIONS: ",," })).toEqual([
      "FERRY_REGIONS: must name at least one region",
    ]);
  });

  it("requires FERRY_SECRET_KEYS with an external database", () => {
    expect(problemsOf({ DATABASE_URL: "postgres://db/ferry" })).toEqual([
      "FERRY_SECRET_KEYS: required with DATABASE_URL (secret variables must stay readable across restarts and instances); generate one with `pnpm --filter @ferry/ctrl admin generate-secret-key`",
    ]);
  });

  it("reports a config file that cannot be read, is not JSON, or has unknown or malformed settings", () => {
    const file = path.join(CWD, "ferry.json");
    expect(problemsOf({ FERRY_CONFIG: "missing.json" })).toEqual([
      `FERRY_CONFIG: cannot read ${path.join(CWD, "missing.json")} (ENOENT)`,
    ]);
    expect(problemsOf({ FERRY_CONFIG: "ferry.json" }, { [file]: "{ nope" })[0]).toMatch(
      /^FERRY_CONFIG: \/srv\/ferry\/ferry.json is not valid JSON \(/,
    );
    expect(problemsOf({ FERRY_CONFIG: "ferry.json" }, { [file]: "[1]" })).toEqual([
      `FERRY_CONFIG: ${file} must contain a JSON object of settings`,
    ]);
    expect(
      problemsOf(
        { FERRY_CONFIG: "ferry.json" },
        { [file]: JSON.stringify({ apiPrt: 1, apiPort: "x", regions: [1] }) },
      ),
    ).toEqual([
      expect.stringMatching(
        /^FERRY_CONFIG: unknown setting "apiPrt" in \/srv\/ferry\/ferry.json \(known: apiHost, apiPort, /,
      ),
      `apiPort (in ${file}): must be an integer from 0 to 65535 (got "x")`,
      `regions (in ${file}): must be a comma-separated list of region names (got [1])`,
    ]);
  });

  it("formats all problems into one message", () => {
    expect(() => load({ FERRY_API_PORT: "-3", FERRY_REGIONS: "A" })).toThrow(
      'invalid configuration:\n  - FERRY_API_PORT: must be an integer from 0 to 65535 (got "-3")\n  - FERRY_REGIONS: region names must be lowercase letters, digits and \'-\', at most 63 characters (got "A")',
    );
  });
});
