import { PrismaPg } from "@prisma/adapter-pg";
import type { DatabaseConfig } from "./config.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { type MigrateOptions, type MigrateResult, migrate } from "./migrations/migrate.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./pglite.ts";

export interface Database {
  readonly config: DatabaseConfig;
  readonly prisma: PrismaClient;
  /**
   * A `postgresql://` URL of the database: the server's, or for PGlite the
   * local socket server's (valid until `close()`).
   */
  readonly url: string;
  /** The embedded PGlite, when `config.kind` is "pglite". */
  readonly embedded: EmbeddedPostgres | undefined;
  /** The result of the migration run by `openDatabase({ migrate: true })`. */
  readonly migration: MigrateResult | undefined;
  /** Disconnects Prisma, then (PGlite) stops the socket server and closes PGlite. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations before returning (what the apps do at start). */
  readonly migrate?: boolean | MigrateOptions;
  /** Connections in the pool, PostgreSQL only (default 10). PGlite always uses 1. */
  readonly poolSize?: number;
}

/** Opens the database: a PrismaClient on @prisma/adapter-pg, for PostgreSQL or the embedded PGlite. */
export async function openDatabase(
  config: DatabaseConfig,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  if (config.kind === "postgres") {
    return await connect(config, config.url, undefined, options);
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  return await openEmbedded(config, embedded, options);
}

/** A Database on an already started PGlite (which `close()` then stops). */
export async function openEmbedded(
  config: DatabaseConfig,
  embedded: EmbeddedPostgres,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  try {
    return await connect(config, embedded.url, embedded, options);
  } catch (error) {
    await embedded.stop().catch(() => {});
    throw error;
  }
}

async function connect(
  config: DatabaseConfig,
  url: string,
  embedded: EmbeddedPostgres | undefined,
  options: OpenDatabaseOptions,
): Promise<Database> {
  let migration: MigrateResult | undefined;
  if (options.migrate) {
    migration = await migrate({ url, embedded }, options.migrate === true ? {} : options.migrate);
  }
  const adapter = new PrismaPg(
    embedded
      ? // One session behind the socket: one connection (see pglite.ts). Kept
        // open while idle: reconnecting buys nothing in-process.
        { connectionString: url, max: 1, idleTimeoutMillis: 0 }
      : { connectionString: url, max: options.poolSize ?? 10 },
  );
  const prisma = new PrismaClient({ adapter });
  let closed: Promise<void> | undefined;
  return {
    config,
    prisma,
    url,
    embedded,
    migration,
    close() {
      closed ??= (async () => {
        try {
          await prisma.$disconnect();
        } finally {
          await embedded?.stop();
        }
      })();
      return closed;
    },
  };
}
