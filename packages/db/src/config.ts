import path from "node:path";

/** Where Ferry's database lives. */
export type DatabaseConfig =
  /** A PostgreSQL server (production). */
  | { readonly kind: "postgres"; readonly url: string }
  /**
   * The embedded PGlite (PostgreSQL in WebAssembly, in this process), kept in
   * `dataDir`, or in memory (gone at close).
   */
  | { readonly kind: "pglite"; readonly dataDir: string | "memory" };

/** The default data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".ferry/data";

/**
 * The configuration from the environment:
 * - `DATABASE_URL` set: that PostgreSQL server;
 * - otherwise the embedded PGlite in `$FERRY_DATA_DIR/pglite`
 *   (`FERRY_DATA_DIR` defaults to `.ferry/data`, relative to `cwd`).
 */
export function databaseConfigFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    return { kind: "postgres", url };
  }
  const dataDir = env.FERRY_DATA_DIR?.trim() || DEFAULT_DATA_DIR;
  return { kind: "pglite", dataDir: path.resolve(cwd, dataDir, "pglite") };
}

/** A description of the configuration that is safe to log (no password). */
export function describeDatabaseConfig(config: DatabaseConfig): string {
  if (config.kind === "pglite") {
    return config.dataDir === "memory" ? "PGlite (in memory)" : `PGlite (${config.dataDir})`;
  }
  return `PostgreSQL (${redactUrl(config.url)})`;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = "***";
    }
    return parsed.toString();
  } catch {
    return "<unparseable URL>";
  }
}
