// Test databases: a fresh, migrated database per call, on the embedded
// PGlite (in memory) or in a throwaway database created on the PostgreSQL
// server of DATABASE_URL and dropped afterwards.
//
//   await withTestDatabase(async ({ prisma }) => { ... });
//
// To run a suite on PGlite always, and also on PostgreSQL when DATABASE_URL
// is set (what CI does):
//
//   describe.each(testDatabaseKinds())("on %s", (kind) => {
//     it("...", () => withTestDatabase(async ({ prisma }) => { ... }, { kind }));
//   });
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DatabaseConfig } from "./config.ts";
import { type Database, openDatabase, openEmbedded } from "./database.ts";
import { checksumOf, readMigrations } from "./migrations/files.ts";
import { migrate } from "./migrations/migrate.ts";
import { MIGRATIONS_DIR } from "./paths.ts";
import { pgliteSnapshot, startEmbeddedPostgres } from "./pglite.ts";

export type TestDatabaseKind = "pglite" | "postgres";

export interface TestDatabaseOptions {
  /** Default: "postgres" when DATABASE_URL is set, else "pglite". */
  readonly kind?: TestDatabaseKind;
  /** The server for "postgres" (default: DATABASE_URL). */
  readonly serverUrl?: string;
  /** Default: the repository's prisma/migrations. */
  readonly migrationsDir?: string;
}

export interface TestDatabase extends Database {
  readonly kind: TestDatabaseKind;
}

/** "pglite", and "postgres" too when DATABASE_URL is set. */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/** The kind that tests use by default: "postgres" when DATABASE_URL is set. */
export function defaultTestDatabaseKind(): TestDatabaseKind {
  return process.env.DATABASE_URL ? "postgres" : "pglite";
}

/** Runs `fn` with a fresh migrated database, closed (and dropped) afterwards. */
export async function withTestDatabase<T>(
  fn: (db: TestDatabase) => Promise<T>,
  options: TestDatabaseOptions = {},
): Promise<T> {
  const db = await createTestDatabase(options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A fresh migrated database; `close()` disposes of it. For beforeEach/afterEach. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const kind = options.kind ?? defaultTestDatabaseKind();
  const migrationsDir = options.migrationsDir ?? MIGRATIONS_DIR;
  if (kind === "pglite") {
    const template = await pgliteTemplate(migrationsDir);
    const embedded = await startEmbeddedPostgres({ dataDir: "memory", loadDataDir: template });
    const db = await openEmbedded({ kind: "pglite", dataDir: "memory" }, embedded);
    return { ...db, kind };
  }
  const server = await createThrowawayPostgres(options.serverUrl);
  try {
    const config: DatabaseConfig = { kind: "postgres", url: server.url };
    await migrate(config, { migrationsDir });
    const db = await openDatabase(config, { poolSize: 4 });
    return {
      ...db,
      kind,
      async close() {
        try {
          await db.close();
        } finally {
          await server.drop();
        }
      },
    };
  } catch (error) {
    await server.drop();
    throw error;
  }
}

export interface ThrowawayPostgres {
  /** The new database's URL. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name on the server of `serverUrl` (default DATABASE_URL). */
export async function createThrowawayPostgres(
  serverUrl: string | undefined = process.env.DATABASE_URL,
): Promise<ThrowawayPostgres> {
  if (!serverUrl) {
    throw new Error(
      "A PostgreSQL test database needs DATABASE_URL (a server where it may CREATE DATABASE)",
    );
  }
  const name = `ferry_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdminClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop() {
      dropped ??= withAdminClient(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      return dropped;
    },
  };
}

async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A PGlite snapshot with the migrations of `migrationsDir` applied. */
function pgliteTemplate(migrationsDir: string): Promise<Blob> {
  const migrations = readMigrations(migrationsDir)
    .map((migration) => `${migration.name}:${migration.checksum}`)
    .join("\n");
  const key = `migrated-${checksumOf(migrations).slice(0, 24)}`;
  return pgliteSnapshot(key, async (embedded) => {
    await migrate({ url: embedded.url, embedded }, { migrationsDir });
  });
}
