/**
 * Files ctrl keeps in its data directory when it runs the embedded stack:
 *
 * - `secret-keys`: the key ring sealing secret variables, generated once
 *   (mode 0600) when FERRY_SECRET_KEYS is not set and the database is the
 *   embedded PGlite. Losing it makes stored secrets unreadable: back it up
 *   with the database.
 * - `pglite.url`: while ctrl runs, the `postgresql://` URL of the PGlite it
 *   serves over its socket, so that hydra and `admin` (which cannot open the
 *   locked data directory themselves) connect to the same database. Removed
 *   when ctrl stops.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateKey } from "@ferry/secret-box";

export const SECRET_KEYS_FILE = "secret-keys";
export const DATABASE_URL_FILE = "pglite.url";

/**
 * A secret kept in a file of the data directory: read, or generated once (mode 0600). "wx" never
 * overwrites a file another process wrote meanwhile: theirs is read instead.
 */
function secretFile(
  dataDir: string,
  name: string,
  generate: () => string,
): { readonly value: string; readonly created: boolean } {
  const file = path.join(dataDir, name);
  try {
    return { value: readFileSync(file, "utf8").trim(), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const value = generate();
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
    return { value, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      return { value: readFileSync(file, "utf8").trim(), created: false };
    throw error;
  }
}

/** The key ring of the embedded stack: read from the data directory, created on first use. */
export function embeddedSecretKeys(dataDir: string): {
  readonly keys: string;
  readonly created: boolean;
} {
  const { value, created } = secretFile(dataDir, SECRET_KEYS_FILE, () => generateKey("k1"));
  return { keys: value, created };
}

export function writeDatabaseUrl(dataDir: string, url: string): string {
  const file = path.join(dataDir, DATABASE_URL_FILE);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${url}\n`, { mode: 0o600 });
  return file;
}

export function readDatabaseUrl(dataDir: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, DATABASE_URL_FILE), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function removeDatabaseUrl(dataDir: string): void {
  rmSync(path.join(dataDir, DATABASE_URL_FILE), { force: true });
}

export const INTERNAL_TOKEN_FILE = "internal-token";

/**
 * The installation's internal token (frontline ↔ ctrl), when FERRY_INTERNAL_TOKEN is not set:
 * read from the data directory, generated there (mode 0600) on first use. `pnpm start` hands
 * it to the frontline it starts.
 */
export function generatedInternalToken(dataDir: string): string {
  return secretFile(
    dataDir,
    INTERNAL_TOKEN_FILE,
    () => `ferry_internal_${randomBytes(32).toString("base64url")}`,
  ).value;
}
