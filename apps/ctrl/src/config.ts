/**
 * ctrl's configuration: the ONLY module that reads `process.env` (and the
 * optional JSON file named by FERRY_CONFIG). Every setting is decoded with
 * Effect Schema at start; every missing or malformed value is reported, each
 * on its own line naming where it came from, before anything else happens.
 *
 * Precedence: environment variable, then the config file, then the default.
 * An empty environment variable counts as unset. Values that are secrets
 * (FERRY_SECRET_KEYS, FERRY_BOOTSTRAP_TOKEN, FERRY_INTERNAL_TOKEN, DATABASE_URL,
 * FERRY_S3_SECRET_ACCESS_KEY) are never echoed in a message.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { MAX_PRESIGN_SECONDS } from "@ferry/build-storage";
import { type DatabaseConfig, DEFAULT_DATA_DIR } from "@ferry/db";
import type { BuildStorageConfig } from "@ferry/deployment-service";
import { isDnsLabel } from "@ferry/domain";
import { parseKeyRing } from "@ferry/secret-box";
import { Either, ParseResult, Schema } from "effect";

export interface CtrlConfig {
  /** Where the API listens. */
  readonly api: { readonly host: string; readonly port: number };
  /** Absolute: the embedded database, generated keys and (by default) build contexts live here. */
  readonly dataDir: string;
  /** PostgreSQL when DATABASE_URL is set, else the embedded PGlite in `<dataDir>/pglite`. */
  readonly database: DatabaseConfig;
  readonly restate: {
    readonly ingressUrl: string;
    readonly adminUrl: string;
    /**
     * Deadline of one call to Restate, retries included. Promote and Rollback wait this long
     * at most for their turn in the project's queue (behind a running deploy) and their answer.
     */
    readonly requestTimeoutMs: number;
  };
  /** Regions deployments may run in, in the configured order. */
  readonly regions: ReadonlyArray<string>;
  /** Generated hostnames live under this domain. */
  readonly apexDomain: string;
  /**
   * The secret key ring (`id:base64,...`, current first). Absent only with
   * the embedded database: a key is then generated once into the data directory.
   */
  readonly secretKeys: string | undefined;
  /** When set, becomes an API key of the `default` workspace at start. */
  readonly bootstrapToken: string | undefined;
  /**
   * Authenticates frontline gateways on the route feed. Absent: generated once into the data
   * directory (`internal-token`), where `pnpm start` finds it for its frontline.
   */
  readonly internalToken: string | undefined;
  /** Where uploaded build contexts are stored: a local directory (absolute) or S3. */
  readonly buildStorage: BuildStorageConfig;
  readonly buildContextLimits: {
    /** The largest build context accepted, in bytes. */
    readonly maxSizeBytes: number;
    /** How long an upload URL accepts its upload. */
    readonly uploadUrlTtlSeconds: number;
  };
  /**
   * Where clients reach ctrl (`https://ferry.example.com`), for the URLs ctrl hands out that
   * point at itself (local uploads). Absent: ctrl's own listen URL.
   */
  readonly publicUrl: string | undefined;
}

/** Where uploaded build contexts are stored: the shared composition's type. */
export type { BuildStorageConfig } from "@ferry/deployment-service";

export const DEFAULTS = {
  apiHost: "127.0.0.1",
  apiPort: 7070,
  restateIngressUrl: "http://127.0.0.1:8080",
  restateAdminUrl: "http://127.0.0.1:9070",
  restateRequestTimeoutMs: 60_000,
  regions: ["local-1", "local-2"],
  apexDomain: "ferry.localhost",
  uploadMaxBytes: 500 * 1024 * 1024,
  uploadUrlTtlSeconds: 900,
  s3Region: "us-east-1",
} as const;

/** One PUT to S3 takes at most 5 GiB: an upload URL cannot promise more. */
export const UPLOAD_MAX_BYTES_LIMIT = 5 * 1024 * 1024 * 1024;

/** Every problem found, one per line. */
export class ConfigError extends Error {
  readonly problems: ReadonlyArray<string>;
  constructor(problems: ReadonlyArray<string>) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------
// One schema per kind of value. Input is `unknown`: a string from the
// environment, or any JSON value from the config file.

const fail = (ast: Schema.Schema.Any["ast"], actual: unknown, message: string) =>
  ParseResult.fail(new ParseResult.Type(ast, actual, message));

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** A value checked and converted by `parse`, which returns a message when it is wrong. */
const checked = <A>(parse: (raw: unknown) => Either.Either<A, string>) =>
  Schema.transformOrFail(Schema.Unknown, Schema.Unknown, {
    strict: true,
    decode: (raw, _options, ast) =>
      Either.match(parse(raw), {
        onLeft: (message) => fail(ast, raw, message),
        onRight: (value) => ParseResult.succeed(value as unknown),
      }),
    encode: ParseResult.succeed,
  }) as unknown as Schema.Schema<A, unknown>;

const text = (raw: unknown): string | undefined =>
  typeof raw === "string" ? raw.trim() : undefined;

const integer = (min: number, max: number) =>
  checked((raw) => {
    const value =
      typeof raw === "number" ? raw : /^-?\d+$/.test(text(raw) ?? "") ? Number(text(raw)) : NaN;
    return Number.isInteger(value) && value >= min && value <= max
      ? Either.right(value)
      : Either.left(`must be an integer from ${min} to ${max} (got ${show(raw)})`);
  });

const Host = checked((raw) => {
  const value = text(raw);
  return value !== undefined && /^[^\s/]+$/.test(value)
    ? Either.right(value)
    : Either.left(`must be a host name or IP address such as 127.0.0.1 (got ${show(raw)})`);
});

const HttpUrl = checked((raw) => {
  const value = text(raw) ?? "";
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  return url !== undefined && (url.protocol === "http:" || url.protocol === "https:")
    ? Either.right(value.replace(/\/+$/, ""))
    : Either.left(`must be an http:// or https:// URL (got ${show(raw)})`);
});

/** Never echoed: a connection string may carry a password. */
const PostgresUrl = checked((raw) => {
  const value = text(raw) ?? "";
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  return protocol === "postgres:" || protocol === "postgresql:"
    ? Either.right(value)
    : Either.left("must be a postgres:// or postgresql:// connection URL");
});

const Path = checked((raw) => {
  const value = text(raw);
  return value !== undefined && value !== "" && !value.includes("\0")
    ? Either.right(value)
    : Either.left(`must be a directory path (got ${show(raw)})`);
});

const Regions = checked((raw) => {
  const list =
    typeof raw === "string"
      ? raw.split(",").map((region) => region.trim())
      : Array.isArray(raw) && raw.every((region) => typeof region === "string")
        ? raw.map((region: string) => region.trim())
        : undefined;
  if (list === undefined)
    return Either.left(`must be a comma-separated list of region names (got ${show(raw)})`);
  const names = list.filter((region) => region !== "");
  if (names.length === 0) return Either.left("must name at least one region");
  const bad = names.filter((region) => !isDnsLabel(region));
  if (bad.length > 0)
    return Either.left(
      `region names must be lowercase letters, digits and '-', at most 63 characters (got ${bad.map(show).join(", ")})`,
    );
  const twice = names.find((region, index) => names.indexOf(region) !== index);
  if (twice !== undefined) return Either.left(`region "${twice}" is listed twice`);
  return Either.right(names);
});

const ApexDomain = checked((raw) => {
  const value = text(raw) ?? "";
  const labels = value.split(".");
  return value.length <= 253 && labels.length >= 1 && labels.every(isDnsLabel)
    ? Either.right(value)
    : Either.left(
        `must be a lowercase DNS name such as ferry.localhost or apps.example.com (got ${show(raw)})`,
      );
});

/** Never echoed; KeyRingError messages never contain key material. */
const SecretKeys = checked((raw) => {
  const value = text(raw);
  if (value === undefined) return Either.left("must be a key ring text: id:base64,...");
  try {
    parseKeyRing(value);
    return Either.right(value);
  } catch (error) {
    return Either.left(error instanceof Error ? error.message : "is not a valid key ring");
  }
});

export const BOOTSTRAP_TOKEN_MIN_LENGTH = 16;

/** Never echoed. Printable ASCII without spaces, so that it travels in an Authorization header. */
const BootstrapToken = checked((raw) => {
  const value = text(raw);
  if (value === undefined || value.length < BOOTSTRAP_TOKEN_MIN_LENGTH || value.length > 256)
    return Either.left(
      `must be ${BOOTSTRAP_TOKEN_MIN_LENGTH} to 256 characters long (got ${value?.length ?? "no"} characters)`,
    );
  return /^[\x21-\x7e]+$/.test(value)
    ? Either.right(value)
    : Either.left("must contain only printable ASCII characters without spaces");
});

const StorageKind = checked((raw) => {
  const value = text(raw);
  return value === "local" || value === "s3"
    ? Either.right(value)
    : Either.left(`must be "local" or "s3" (got ${show(raw)})`);
});

const Flag = checked((raw) => {
  const value = typeof raw === "boolean" ? String(raw) : text(raw)?.toLowerCase();
  return value === "true" || value === "1"
    ? Either.right(true)
    : value === "false" || value === "0"
      ? Either.right(false)
      : Either.left(`must be true or false (got ${show(raw)})`);
});

/** A non-empty single-line value, such as a bucket name or an access key id. */
const Word = checked((raw) => {
  const value = text(raw);
  return value !== undefined && /^[\x21-\x7e]+$/.test(value)
    ? Either.right(value)
    : Either.left(`must be a non-empty value without spaces (got ${show(raw)})`);
});

/** Never echoed. */
const SecretWord = checked((raw) => {
  const value = text(raw);
  return value !== undefined && /^[\x21-\x7e]+$/.test(value)
    ? Either.right(value)
    : Either.left("must be a non-empty value without spaces");
});

// ---------------------------------------------------------------------------
// The settings: where each comes from and how it is decoded.

interface Setting<A> {
  readonly env: string;
  /** The key in the FERRY_CONFIG file. */
  readonly key: string;
  readonly schema: Schema.Schema<A, unknown>;
}

const setting = <A>(env: string, key: string, schema: Schema.Schema<A, unknown>): Setting<A> => ({
  env,
  key,
  schema,
});

export const SETTINGS = {
  apiHost: setting("FERRY_API_HOST", "apiHost", Host),
  // 0: any free port (printed at start).
  apiPort: setting("FERRY_API_PORT", "apiPort", integer(0, 65535)),
  databaseUrl: setting("DATABASE_URL", "databaseUrl", PostgresUrl),
  dataDir: setting("FERRY_DATA_DIR", "dataDir", Path),
  restateIngressUrl: setting("FERRY_RESTATE_INGRESS_URL", "restateIngressUrl", HttpUrl),
  restateAdminUrl: setting("FERRY_RESTATE_ADMIN_URL", "restateAdminUrl", HttpUrl),
  restateRequestTimeoutMs: setting(
    "FERRY_RESTATE_REQUEST_TIMEOUT_MS",
    "restateRequestTimeoutMs",
    integer(1, 3_600_000),
  ),
  regions: setting("FERRY_REGIONS", "regions", Regions),
  apexDomain: setting("FERRY_APEX_DOMAIN", "apexDomain", ApexDomain),
  secretKeys: setting("FERRY_SECRET_KEYS", "secretKeys", SecretKeys),
  bootstrapToken: setting("FERRY_BOOTSTRAP_TOKEN", "bootstrapToken", BootstrapToken),
  // Same shape as the bootstrap token: long, printable, header-safe; never echoed.
  internalToken: setting("FERRY_INTERNAL_TOKEN", "internalToken", BootstrapToken),
  buildStorage: setting("FERRY_BUILD_STORAGE", "buildStorage", StorageKind),
  buildStorageDir: setting("FERRY_BUILD_STORAGE_DIR", "buildStorageDir", Path),
  s3Endpoint: setting("FERRY_S3_ENDPOINT", "s3Endpoint", HttpUrl),
  s3Region: setting("FERRY_S3_REGION", "s3Region", Word),
  s3Bucket: setting("FERRY_S3_BUCKET", "s3Bucket", Word),
  s3AccessKeyId: setting("FERRY_S3_ACCESS_KEY_ID", "s3AccessKeyId", Word),
  s3SecretAccessKey: setting("FERRY_S3_SECRET_ACCESS_KEY", "s3SecretAccessKey", SecretWord),
  s3ForcePathStyle: setting("FERRY_S3_FORCE_PATH_STYLE", "s3ForcePathStyle", Flag),
  uploadMaxBytes: setting(
    "FERRY_UPLOAD_MAX_BYTES",
    "uploadMaxBytes",
    integer(1, UPLOAD_MAX_BYTES_LIMIT),
  ),
  uploadUrlTtlSeconds: setting(
    "FERRY_UPLOAD_URL_TTL_SECONDS",
    "uploadUrlTtlSeconds",
    integer(1, MAX_PRESIGN_SECONDS),
  ),
  publicUrl: setting("FERRY_PUBLIC_URL", "publicUrl", HttpUrl),
} as const;

type Settings = typeof SETTINGS;
type Values = { -readonly [K in keyof Settings]?: Schema.Schema.Type<Settings[K]["schema"]> };

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  readonly env?: Env;
  /** Relative paths (data dir, config file) resolve against it. */
  readonly cwd?: string;
  readonly readFile?: (file: string) => string;
}

const readConfigFile = (
  file: string,
  readFile: (file: string) => string,
): Either.Either<Record<string, unknown>, string> => {
  let content: string;
  try {
    content = readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return Either.left(`FERRY_CONFIG: cannot read ${file}${code ? ` (${code})` : ""}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    return Either.left(
      `FERRY_CONFIG: ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? Either.right(parsed as Record<string, unknown>)
    : Either.left(`FERRY_CONFIG: ${file} must contain a JSON object of settings`);
};

const firstMessage = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? error.message;

/**
 * Reads and validates the configuration. Throws a ConfigError listing every
 * problem; returns a complete configuration otherwise.
 */
export function loadConfig(options: LoadConfigOptions = {}): CtrlConfig {
  const env = options.env ?? process.env;
  // pnpm runs scripts in the package's directory; INIT_CWD is where the user ran them.
  const cwd = options.cwd ?? env.INIT_CWD ?? process.cwd();
  const readFile = options.readFile ?? ((file: string) => readFileSync(file, "utf8"));
  const problems: Array<string> = [];

  let file: { readonly path: string; readonly values: Record<string, unknown> } | undefined;
  const configPath = env.FERRY_CONFIG?.trim();
  if (configPath) {
    const absolute = path.resolve(cwd, configPath);
    const read = readConfigFile(absolute, readFile);
    if (Either.isLeft(read)) problems.push(read.left);
    else {
      file = { path: absolute, values: read.right };
      const known = new Set(Object.values(SETTINGS).map((s) => s.key));
      for (const key of Object.keys(read.right))
        if (!known.has(key))
          problems.push(
            `FERRY_CONFIG: unknown setting "${key}" in ${absolute} (known: ${[...known].join(", ")})`,
          );
    }
  }

  const values: Values = {};
  /** Set, well formed or not. */
  const given = new Set<keyof Settings>();
  for (const [name, { env: variable, key, schema }] of Object.entries(SETTINGS) as Array<
    [keyof Settings, Setting<unknown>]
  >) {
    const fromEnv = env[variable];
    const source =
      fromEnv !== undefined && fromEnv.trim() !== ""
        ? { raw: fromEnv as unknown, label: variable }
        : file !== undefined && file.values[key] !== undefined && file.values[key] !== null
          ? { raw: file.values[key], label: `${key} (in ${file.path})` }
          : undefined;
    if (source === undefined) continue;
    given.add(name);
    const decoded = Schema.decodeUnknownEither(schema)(source.raw);
    if (Either.isLeft(decoded)) problems.push(`${source.label}: ${firstMessage(decoded.left)}`);
    else (values as Record<string, unknown>)[name] = decoded.right;
  }

  if (values.databaseUrl !== undefined && values.secretKeys === undefined)
    problems.push(
      "FERRY_SECRET_KEYS: required with DATABASE_URL (secret variables must stay readable across restarts and instances); generate one with `pnpm --filter @ferry/ctrl admin generate-secret-key`",
    );

  problems.push(...buildStorageProblems(values, given));

  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(cwd, values.dataDir ?? DEFAULT_DATA_DIR);
  return {
    api: { host: values.apiHost ?? DEFAULTS.apiHost, port: values.apiPort ?? DEFAULTS.apiPort },
    dataDir,
    database:
      values.databaseUrl !== undefined
        ? { kind: "postgres", url: values.databaseUrl }
        : { kind: "pglite", dataDir: path.join(dataDir, "pglite") },
    restate: {
      ingressUrl: values.restateIngressUrl ?? DEFAULTS.restateIngressUrl,
      adminUrl: values.restateAdminUrl ?? DEFAULTS.restateAdminUrl,
      requestTimeoutMs: values.restateRequestTimeoutMs ?? DEFAULTS.restateRequestTimeoutMs,
    },
    regions: values.regions ?? DEFAULTS.regions,
    apexDomain: values.apexDomain ?? DEFAULTS.apexDomain,
    secretKeys: values.secretKeys,
    bootstrapToken: values.bootstrapToken,
    internalToken: values.internalToken,
    buildStorage: buildStorageConfig(values, cwd, dataDir),
    buildContextLimits: {
      maxSizeBytes: values.uploadMaxBytes ?? DEFAULTS.uploadMaxBytes,
      uploadUrlTtlSeconds: values.uploadUrlTtlSeconds ?? DEFAULTS.uploadUrlTtlSeconds,
    },
    publicUrl: values.publicUrl,
  };
}

const S3_SETTINGS = [
  "s3Endpoint",
  "s3Region",
  "s3Bucket",
  "s3AccessKeyId",
  "s3SecretAccessKey",
  "s3ForcePathStyle",
] as const;

/** Settings that belong to the other kind of storage are a mistake worth reporting. */
const buildStorageProblems = (
  values: Values,
  given: ReadonlySet<keyof Settings>,
): Array<string> => {
  if (values.buildStorage === "s3")
    return [
      ...(["s3Bucket", "s3AccessKeyId", "s3SecretAccessKey"] as const)
        .filter((name) => !given.has(name))
        .map((name) => `${SETTINGS[name].env}: required with FERRY_BUILD_STORAGE=s3`),
      ...(given.has("buildStorageDir")
        ? ["FERRY_BUILD_STORAGE_DIR: set, but FERRY_BUILD_STORAGE is s3 (it applies to local)"]
        : []),
    ];
  // A malformed FERRY_BUILD_STORAGE is reported already; the S3 settings may be meant for it.
  if (given.has("buildStorage") && values.buildStorage === undefined) return [];
  return S3_SETTINGS.filter((name) => given.has(name)).map(
    (name) =>
      `${SETTINGS[name].env}: set, but FERRY_BUILD_STORAGE is local (set FERRY_BUILD_STORAGE=s3 to store build contexts in S3)`,
  );
};

/** Called once the problems are known to be none: the S3 fields are then all set. */
const buildStorageConfig = (values: Values, cwd: string, dataDir: string): BuildStorageConfig =>
  values.buildStorage === "s3"
    ? {
        kind: "s3",
        endpoint: values.s3Endpoint,
        region: values.s3Region ?? DEFAULTS.s3Region,
        bucket: values.s3Bucket ?? "",
        accessKeyId: values.s3AccessKeyId ?? "",
        secretAccessKey: values.s3SecretAccessKey ?? "",
        // Self-hosted stores (MinIO, Ceph) rarely have a wildcard DNS name per bucket; AWS does.
        forcePathStyle: values.s3ForcePathStyle ?? values.s3Endpoint !== undefined,
      }
    : {
        kind: "local",
        dir: path.resolve(cwd, values.buildStorageDir ?? path.join(dataDir, "build-contexts")),
      };
