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

/** The key ring of the embedded stack: read from the data directory, created on first use. */
export function embeddedSecretKeys(dataDir: string): {
  readonly keys: string;
  readonly created: boolean;
} {
  const file = path.join(dataDir, SECRET_KEYS_FILE);
  try {
    return { keys: readFileSync(file, "utf8").trim(), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const keys = generateKey("k1");
  // "wx": never overwrite a key ring another process wrote meanwhile.
  writeFileSync(file, `${keys}\n`, { mode: 0o600, flag: "wx" });
  return { keys, created: true };
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
  const file = path.join(dataDir, INTERNAL_TOKEN_FILE);
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const token = `ferry_internal_${randomBytes(32).toString("base64url")}`;
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    return token;
  } catch (error) {
    // Another process wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      return readFileSync(file, "utf8").trim();
    throw error;
  }
}
