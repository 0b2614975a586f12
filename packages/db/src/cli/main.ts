// `pnpm db <command>`: Ferry's database tool. Run `pnpm db help`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { databaseConfigFromEnv, describeDatabaseConfig } from "../config.ts";
import {
  LOCKFILE_CONTENT,
  LOCKFILE_NAME,
  migrationDirectoryName,
  readMigrations,
} from "../migrations/files.ts";
import { MigrationError, migrate } from "../migrations/migrate.ts";
import { MIGRATIONS_DIR, SCHEMA_PATH } from "../paths.ts";

const USAGE = `Usage: pnpm db <command>

Commands:
  migrate                      Apply pending migrations (prisma/migrations) to the configured
                               database: DATABASE_URL (PostgreSQL) if set, else the embedded
                               PGlite in $FERRY_DATA_DIR/pglite (FERRY_DATA_DIR: .ferry/data).
  migration:new <name>         Write prisma/migrations/<timestamp>_<name>/migration.sql: the SQL
                               that takes a database at the current migrations to
                               prisma/schema.prisma (computed by Prisma's schema engine on a
                               throwaway in-memory PGlite), or say that there are no changes.
  migration:new <name> --empty Write an empty migration, for SQL written by hand (data changes,
                               CHECK constraints, ...).
  migration:check              Exit 1 if prisma/schema.prisma has changes that no migration holds.
  help                         This text.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "migrate":
      return await migrateCommand();
    case "migration:new":
      return await newMigrationCommand(rest);
    case "migration:check":
      return await checkCommand();
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${USAGE}`);
      return 1;
  }
}

async function migrateCommand(): Promise<number> {
  // Relative paths are the invoking directory's (pnpm runs scripts in the package directory).
  const config = databaseConfigFromEnv(process.env, process.env.INIT_CWD ?? process.cwd());
  console.log(`Migrating ${describeDatabaseConfig(config)}`);
  const result = await migrate(config, { log: (message) => console.log(message) });
  console.log(
    `Done: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`,
  );
  return 0;
}

async function diffMigrationsToSchema(): Promise<string | null> {
  const { openSchemaEngine } = await import("../schema-engine/engine.ts");
  const engine = await openSchemaEngine({
    schema: { path: "prisma/schema.prisma", content: readFileSync(SCHEMA_PATH, "utf8") },
  });
  try {
    return await engine.diffMigrationsToSchema(readMigrations(MIGRATIONS_DIR));
  } finally {
    await engine.close();
  }
}

async function newMigrationCommand(args: readonly string[]): Promise<number> {
  const empty = args.includes("--empty");
  const names = args.filter((arg) => arg !== "--empty");
  if (names.length !== 1 || names[0]?.startsWith("-")) {
    process.stderr.write(`migration:new takes one name, e.g. pnpm db migration:new add_teams\n`);
    return 1;
  }
  const dirName = migrationDirectoryName(names[0] ?? "");
  const sql = empty ? "-- Written by hand.\n" : await diffMigrationsToSchema();
  if (sql === null) {
    console.log("No changes: prisma/migrations already matches prisma/schema.prisma.");
    return 0;
  }
  mkdirSync(MIGRATIONS_DIR, { recursive: true });
  const lockfile = path.join(MIGRATIONS_DIR, LOCKFILE_NAME);
  if (!existsSync(lockfile)) {
    writeFileSync(lockfile, LOCKFILE_CONTENT);
  }
  const dir = path.join(MIGRATIONS_DIR, dirName);
  if (existsSync(dir)) {
    process.stderr.write(`${dir} already exists\n`);
    return 1;
  }
  mkdirSync(dir);
  writeFileSync(path.join(dir, "migration.sql"), sql);
  console.log(`Wrote prisma/migrations/${dirName}/migration.sql`);
  if (!empty) {
    console.log(
      "Review it (it is applied as written, in one transaction), then run pnpm db migrate " +
        "and pnpm --filter @ferry/db generate.",
    );
  }
  return 0;
}

async function checkCommand(): Promise<number> {
  const sql = await diffMigrationsToSchema();
  if (sql === null) {
    console.log("OK: prisma/migrations matches prisma/schema.prisma.");
    return 0;
  }
  process.stderr.write(
    `prisma/schema.prisma has changes that no migration holds; add one with ` +
      `pnpm db migration:new <name>. Missing SQL:\n\n${sql}\n`,
  );
  return 1;
}

process.on("uncaughtException", async (error) => {
  const { lastEnginePanic } = await import("../schema-engine/engine.ts");
  const panic = lastEnginePanic();
  process.stderr.write(
    `${error.stack ?? error}\n${panic ? `Schema engine panic: ${panic}\n` : ""}`,
  );
  process.exit(70);
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof MigrationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  }
  process.exitCode = 1;
}
