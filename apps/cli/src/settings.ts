/**
 * Where the CLI finds its server and API key: flags, then the environment, then the config
 * file that `ferry login` writes. Nothing else in the CLI reads FERRY_API_URL or FERRY_API_KEY.
 *
 * The config file's key is only ever sent to the config file's URL: when a flag or the
 * environment points at another server, the stored key is not used (a stored credential never
 * leaks to a server it was not saved for).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { usageError } from "./errors.ts";

export interface Settings {
  /** The ctrl server's base URL, without a trailing slash. */
  readonly apiUrl: string;
  /** The bearer API key. Never printed. */
  readonly apiKey: string;
}

export interface SettingsFlags {
  readonly apiUrl?: string | undefined;
  readonly apiKey?: string | undefined;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** What `ferry login` stores. */
export interface ConfigFile {
  readonly apiUrl: string;
  readonly apiKey: string;
}

/** `$XDG_CONFIG_HOME/ferry/config.json`, else `~/.config/ferry/config.json`. */
export const configFilePath = (env: Environment): string => {
  const xdg = env.XDG_CONFIG_HOME;
  const base =
    xdg !== undefined && path.isAbsolute(xdg)
      ? xdg
      : path.join(env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir(), ".config");
  return path.join(base, "ferry", "config.json");
};

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim();

/** Checks an API URL and returns it without a trailing slash. */
export const normalizeApiUrl = (value: string, source: string): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(
      `${source}: "${value}" is not a URL (expected for example http://127.0.0.1:7070)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usageError(`${source}: "${value}" must start with http:// or https://`);
  if (url.username !== "" || url.password !== "")
    throw usageError(`${source}: put no credentials in the URL; use --api-key or FERRY_API_KEY`);
  return url.href.replace(/\/+$/, "");
};

/**
 * Reads the config file; undefined when there is none. A damaged file is a usage error. A file
 * that group or others may read is still used (like ssh's config), but `warn` says so: it holds
 * an API key.
 */
export const readConfigFile = (
  file: string,
  warn: (message: string) => void = () => undefined,
): ConfigFile | undefined => {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw usageError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    warn(
      `the config file ${file} holds an API key and is readable by others (mode ${mode.toString(8).padStart(4, "0")}); run \`chmod 600 ${file}\` or \`ferry login\` again`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usageError(`the config file ${file} is not valid JSON; run \`ferry login\` again`);
  }
  const record = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  if (typeof record.apiUrl !== "string" || typeof record.apiKey !== "string")
    throw usageError(`the config file ${file} lacks apiUrl or apiKey; run \`ferry login\` again`);
  return {
    apiUrl: normalizeApiUrl(record.apiUrl, `apiUrl in ${file}`),
    apiKey: record.apiKey,
  };
};

/**
 * Writes the config file with mode 0600 in its directory with mode 0700, replacing it
 * atomically. Both modes are set even when the directory or file already existed with others.
 */
export const writeConfigFile = (file: string, config: ConfigFile): void => {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(file), 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  chmodSync(file, 0o600);
};

/**
 * Resolves the server and the API key: each from its flag, else the environment, else the
 * config file (whose key is used only with its own URL).
 */
export const resolveSettings = (
  flags: SettingsFlags,
  env: Environment,
  configFile: string = configFilePath(env),
  warn: (message: string) => void = () => undefined,
): Settings => {
  const flagUrl = nonEmpty(flags.apiUrl);
  const envUrl = nonEmpty(env.FERRY_API_URL);
  const explicitUrl =
    flagUrl !== undefined
      ? normalizeApiUrl(flagUrl, "--api-url")
      : envUrl !== undefined
        ? normalizeApiUrl(envUrl, "FERRY_API_URL")
        : undefined;
  const explicitKey = nonEmpty(flags.apiKey) ?? nonEmpty(env.FERRY_API_KEY);
  const stored =
    explicitUrl !== undefined && explicitKey !== undefined
      ? undefined
      : readConfigFile(configFile, warn);

  const apiUrl = explicitUrl ?? stored?.apiUrl;
  if (apiUrl === undefined)
    throw usageError(
      "no Ferry server configured: run `ferry login --api-url URL`, or set FERRY_API_URL and FERRY_API_KEY, or pass --api-url and --api-key",
    );
  const apiKey = explicitKey ?? (stored?.apiUrl === apiUrl ? stored.apiKey : undefined);
  if (apiKey === undefined)
    throw usageError(
      stored === undefined
        ? `no API key for ${apiUrl}: run \`ferry login\`, or set FERRY_API_KEY, or pass --api-key`
        : `no API key for ${apiUrl}: the key saved by \`ferry login\` is for ${stored.apiUrl}; set FERRY_API_KEY or pass --api-key, or log in to ${apiUrl}`,
    );
  return { apiUrl, apiKey };
};

/** How long a value piped to standard input may take by default (FERRY_STDIN_TIMEOUT). */
export const DEFAULT_STDIN_TIMEOUT_SECONDS = 10;

/**
 * How long `env set KEY` and `login` wait on standard input that is not a terminal, in
 * milliseconds, from FERRY_STDIN_TIMEOUT (seconds; 0 waits without limit). Without it, a pipe
 * that is left open would make them wait forever.
 */
export const stdinTimeoutMs = (env: Environment): number | undefined => {
  const raw = nonEmpty(env.FERRY_STDIN_TIMEOUT);
  if (raw === undefined) return DEFAULT_STDIN_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(seconds))
    throw usageError(
      `FERRY_STDIN_TIMEOUT: "${raw}" is not a number of seconds (for example 30; 0 waits without limit)`,
    );
  return seconds === 0 ? undefined : seconds * 1000;
};
