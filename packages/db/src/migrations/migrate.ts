// Applies prisma/migrations to a database, the way `prisma migrate deploy`
// does, without Prisma's native schema engine:
// - history in `_prisma_migrations`, in Prisma's format (so Prisma's own
//   tools read it: same columns, checksum = SHA-256 of migration.sql);
// - pending migrations in name order, each in one transaction together with
//   its history row (a failure leaves no trace and no half-applied state);
// - mutual exclusion: PostgreSQL session advisory lock 72707369 (the key
//   Prisma Migrate uses), so concurrent starts apply each migration once; on
//   PGlite, where every connection shares one session and advisory locks
//   exclude nothing, an in-process mutex (PGlite has one process by design);
// - refuses to run when an applied migration's file changed (checksum) or a
//   migration failed half-way (only possible for histories written by other
//   tools), with a message that says what to do.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { DatabaseConfig } from "../config.ts";
import { MIGRATIONS_DIR } from "../paths.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../pglite.ts";
import { checksumMatches, type MigrationFile, readMigrations } from "./files.ts";

/** Prisma Migrate's advisory lock key. */
export const MIGRATION_ADVISORY_LOCK_KEY = 72707369;

export interface MigrateOptions {
  /** Defaults to the repository's prisma/migrations. */
  readonly migrationsDir?: string;
  /** Progress messages (default: none). */
  readonly log?: (message: string) => void;
  /** How long to wait for another process's migration to finish (default 5 minutes). */
  readonly lockTimeoutMs?: number;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  readonly applied: readonly string[];
  /** Migrations that were already applied. */
  readonly alreadyApplied: readonly string[];
  /**
   * Applied migrations that the migrations directory does not have (the
   * database was migrated by a newer version). Not an error: logged.
   */
  readonly unknownApplied: readonly string[];
}

export type MigrationErrorCode =
  | "CHECKSUM_MISMATCH"
  | "FAILED_MIGRATION_IN_HISTORY"
  | "MIGRATION_FAILED"
  | "LOCK_TIMEOUT";

export class MigrationError extends Error {
  override readonly name = "MigrationError";
  readonly code: MigrationErrorCode;
  readonly migrations: readonly string[];

  constructor(
    code: MigrationErrorCode,
    message: string,
    migrations: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.migrations = migrations;
  }
}

/** Something that migrate() can run on: a configuration, or an open database. */
export type MigrationTarget =
  | DatabaseConfig
  | { readonly url: string; readonly embedded: EmbeddedPostgres | undefined };

/**
 * Applies the pending migrations. With a configuration it connects (or opens
 * the PGlite data directory) for the time of the call; with an open database
 * (`openDatabase()`) it uses that database's server.
 */
export async function migrate(
  target: MigrationTarget,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const migrations = readMigrations(options.migrationsDir ?? MIGRATIONS_DIR);
  if ("embedded" in target) {
    // An open database.
    return target.embedded
      ? await migrateEmbedded(target.embedded, migrations, options)
      : await withClient(target.url, (client) =>
          applyWithAdvisoryLock(client, migrations, options),
        );
  }
  if (target.kind === "pglite") {
    const embedded = await startEmbeddedPostgres({ dataDir: target.dataDir });
    try {
      return await migrateEmbedded(embedded, migrations, options);
    } finally {
      await embedded.stop();
    }
  }
  return await withClient(target.url, (client) =>
    applyWithAdvisoryLock(client, migrations, options),
  );
}

function migrateEmbedded(
  embedded: EmbeddedPostgres,
  migrations: readonly MigrationFile[],
  options: MigrateOptions,
): Promise<MigrateResult> {
  return embedded.mutex.run(() =>
    withClient(embedded.url, (client) => apply(client, migrations, options)),
  );
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: "ferry-migrate" });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function applyWithAdvisoryLock(
  client: pg.Client,
  migrations: readonly MigrationFile[],
  options: MigrateOptions,
): Promise<MigrateResult> {
  const timeoutMs = options.lockTimeoutMs ?? 5 * 60_000;
  const deadline = Date.now() + timeoutMs;
  let waiting = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock($1) AS locked",
      [MIGRATION_ADVISORY_LOCK_KEY],
    );
    if (rows[0]?.locked) {
      break;
    }
    if (Date.now() >= deadline) {
      throw new MigrationError(
        "LOCK_TIMEOUT",
        `Another process has been migrating this database for more than ${Math.round(timeoutMs / 1000)} s ` +
          `(it holds advisory lock ${MIGRATION_ADVISORY_LOCK_KEY}). Find it with ` +
          `SELECT pid, application_name FROM pg_locks JOIN pg_stat_activity USING (pid) ` +
          `WHERE locktype = 'advisory' AND objid = ${MIGRATION_ADVISORY_LOCK_KEY};`,
        [],
      );
    }
    if (!waiting) {
      waiting = true;
      options.log?.("Waiting for another process that is migrating this database…");
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    return await apply(client, migrations, options);
  } finally {
    await client
      .query("SELECT pg_advisory_unlock($1)", [MIGRATION_ADVISORY_LOCK_KEY])
      .catch(() => {});
  }
}

interface HistoryRow {
  readonly migration_name: string;
  readonly checksum: string;
  readonly finished_at: Date | null;
  readonly rolled_back_at: Date | null;
  readonly logs: string | null;
}

async function apply(
  client: pg.Client,
  migrations: readonly MigrationFile[],
  options: MigrateOptions,
): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  // Prisma's definition of the history table, verbatim.
  await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`);
  const { rows } = await client.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  const live = rows.filter((row) => row.rolled_back_at === null);

  const failed = live.filter((row) => row.finished_at === null);
  if (failed.length > 0) {
    const names = failed.map((row) => row.migration_name);
    throw new MigrationError(
      "FAILED_MIGRATION_IN_HISTORY",
      `The database's migration history has failed migration(s): ${names.join(", ")}. ` +
        `A failed migration may have left part of its changes behind: repair the database by hand, ` +
        `then mark the row rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() ` +
        `WHERE migration_name = '...' AND finished_at IS NULL) so that it is applied again, ` +
        `or finished (SET finished_at = now()) if its changes are complete.`,
      names,
    );
  }

  const local = new Map(migrations.map((migration) => [migration.name, migration]));
  const applied = new Set(live.map((row) => row.migration_name));
  const edited = live.filter((row) => {
    const migration = local.get(row.migration_name);
    return migration !== undefined && !checksumMatches(migration.script, row.checksum);
  });
  if (edited.length > 0) {
    const names = edited.map((row) => row.migration_name);
    throw new MigrationError(
      "CHECKSUM_MISMATCH",
      `Refusing to migrate: migration(s) already applied to this database were changed since: ` +
        `${names.map((name) => `prisma/migrations/${name}/migration.sql`).join(", ")}. ` +
        `An applied migration must never be edited (the change would never reach databases that ` +
        `already ran it): restore the file (git checkout) and put the change in a new migration ` +
        `(pnpm db migration:new <name>).`,
      names,
    );
  }

  const unknownApplied = live.map((row) => row.migration_name).filter((name) => !local.has(name));
  if (unknownApplied.length > 0) {
    log(
      `Warning: the database has migration(s) that this version does not know (applied by a newer version?): ${unknownApplied.join(", ")}`,
    );
  }

  const alreadyApplied = migrations.filter((m) => applied.has(m.name)).map((m) => m.name);
  const pending = migrations.filter((m) => !applied.has(m.name));
  const done: string[] = [];
  for (const migration of pending) {
    log(`Applying migration ${migration.name}`);
    try {
      await client.query("BEGIN");
      const id = randomUUID();
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, clock_timestamp(), 0)`,
        [id, migration.checksum, migration.name],
      );
      // The simple query protocol runs a multi-statement script.
      await client.query(migration.script);
      await client.query(
        `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw new MigrationError(
        "MIGRATION_FAILED",
        `Migration ${migration.name} failed and was rolled back (nothing of it is applied): ` +
          `${describePgError(error, migration.script)}` +
          (done.length > 0 ? ` (applied before it: ${done.join(", ")})` : ""),
        [migration.name],
        { cause: error },
      );
    }
    done.push(migration.name);
  }
  if (pending.length === 0) {
    log("No pending migrations: the database is up to date");
  }
  return { applied: done, alreadyApplied, unknownApplied };
}

function describePgError(error: unknown, script: string): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const pgError = error as Error & { position?: string };
  const position = pgError.position ? Number.parseInt(pgError.position, 10) : Number.NaN;
  if (Number.isInteger(position) && position > 0) {
    const line = script.slice(0, position - 1).split("\n").length;
    return `${error.message} (migration.sql line ${line})`;
  }
  return error.message;
}
