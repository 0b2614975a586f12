// The migrations in prisma/migrations are the schema: applied to an empty
// database they must give exactly what prisma/schema.prisma describes. This
// fails when someone edits schema.prisma without adding a migration (or
// edits a migration without the schema).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MIGRATIONS_DIR,
  MigrationError,
  migrate,
  readMigrations,
  SCHEMA_PATH,
} from "../src/index.ts";
import { startThrowawayPostgres } from "../src/pglite.ts";
import { openSchemaEngine, type SchemaEngine } from "../src/schema-engine/engine.ts";
import {
  createTestDatabase,
  createThrowawayPostgres,
  type TestDatabase,
  testDatabaseKinds,
} from "../src/testing.ts";

const kinds = testDatabaseKinds();
const schema = { path: "prisma/schema.prisma", content: readFileSync(SCHEMA_PATH, "utf8") };

describe.each(kinds)("prisma/migrations on %s", (kind) => {
  let db: TestDatabase;
  let engine: SchemaEngine;

  beforeAll(async () => {
    db = await createTestDatabase({ kind });
    engine = await openSchemaEngine({ schema, databaseUrl: db.url });
  });
  afterAll(async () => {
    await engine?.close();
    await db?.close();
  });

  it("give a database that matches prisma/schema.prisma", async () => {
    const missing = await engine.diffDatabaseToSchema();
    expect(
      missing,
      "prisma/schema.prisma and prisma/migrations disagree: run `pnpm db migration:new <name>`. SQL to reach the schema",
    ).toBeNull();
  });

  it("the check notices a schema change that no migration holds", async () => {
    const changed = await openSchemaEngine({
      schema: {
        ...schema,
        content: schema.content.replace(
          /model Workspace \{\n/,
          "model Workspace {\n  description String?\n",
        ),
      },
      databaseUrl: db.url,
    });
    try {
      expect(await changed.diffDatabaseToSchema()).toContain(
        'ALTER TABLE "workspaces" ADD COLUMN     "description" TEXT',
      );
    } finally {
      await changed.close();
    }
  });

  it("record their history as Prisma does", async () => {
    const rows = await db.prisma.$queryRawUnsafe<
      { migration_name: string; checksum: string; applied_steps_count: number; finished: boolean }[]
    >(
      `SELECT migration_name, checksum, applied_steps_count, finished_at IS NOT NULL AS finished
         FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows).toEqual(
      readMigrations(MIGRATIONS_DIR).map((migration) => ({
        migration_name: migration.name,
        checksum: migration.checksum,
        applied_steps_count: 1,
        finished: true,
      })),
    );
  });

  it("migrating again changes nothing", async () => {
    const result = await migrate(db);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => m.name));
  });
});

it("replaying prisma/migrations gives prisma/schema.prisma (what `pnpm db migration:new` computes)", async () => {
  const engine = await openSchemaEngine({ schema });
  try {
    expect(await engine.diffMigrationsToSchema(readMigrations(MIGRATIONS_DIR))).toBeNull();
  } finally {
    await engine.close();
  }
  // The schema engine (Wasm) diffs two shadow databases: about 20 s alone, minutes on a busy machine.
}, 240_000);

/** A copy of prisma/migrations to play with. */
function copyOfMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "ferry-migrations-"));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name));
  writeFileSync(path.join(dir, name, "migration.sql"), sql);
}

describe.each(kinds)("migrate() on %s", (kind) => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase({ kind });
    dir = copyOfMigrations();
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies a new migration once, then nothing", async () => {
    addMigration(
      dir,
      "29990101000000_add_note",
      `ALTER TABLE "workspaces" ADD COLUMN "note" TEXT;\n`,
    );
    expect((await migrate(db, { migrationsDir: dir })).applied).toEqual([
      "29990101000000_add_note",
    ]);
    expect((await migrate(db, { migrationsDir: dir })).applied).toEqual([]);
    await db.prisma.$executeRawUnsafe(`UPDATE "workspaces" SET "note" = 'ok'`);
  });

  it("rolls a failing migration back entirely and says which one failed", async () => {
    addMigration(
      dir,
      "29990102000000_broken",
      `CREATE TABLE "half" ("id" TEXT);\nSELECT * FROM "no_such_table";\n`,
    );
    const error = await migrate(db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).code).toBe("MIGRATION_FAILED");
    expect((error as MigrationError).message).toMatch(
      /29990102000000_broken failed and was rolled back.*no_such_table.*line 2/,
    );
    const tables = await db.prisma.$queryRawUnsafe<unknown[]>(
      `SELECT 1 FROM information_schema.tables WHERE table_name = 'half'`,
    );
    expect(tables).toEqual([]);
    const history = await db.prisma.$queryRawUnsafe<unknown[]>(
      `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29990102000000_broken'`,
    );
    expect(history).toEqual([]);
    rmSync(path.join(dir, "29990102000000_broken"), { recursive: true });
  });

  it("refuses to run when an applied migration was edited", async () => {
    const [first] = readMigrations(dir);
    const file = path.join(dir, first?.name ?? "", "migration.sql");
    const original = readFileSync(file, "utf8");
    writeFileSync(file, `${original}\n-- an innocent-looking edit\n`);
    try {
      const error = await migrate(db, { migrationsDir: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).code).toBe("CHECKSUM_MISMATCH");
      expect((error as MigrationError).migrations).toEqual([first?.name]);
      expect((error as MigrationError).message).toContain(
        `prisma/migrations/${first?.name}/migration.sql`,
      );
    } finally {
      writeFileSync(file, original);
    }
    // Line endings alone are not an edit.
    writeFileSync(file, original.replaceAll("\n", "\r\n"));
    expect((await migrate(db, { migrationsDir: dir })).applied).toEqual([]);
    writeFileSync(file, original);
  });

  it("refuses to run over a failed migration left by another tool", async () => {
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, applied_steps_count)
       VALUES ('failed-1', 'x', '29990103000000_failed_elsewhere', 0)`,
    );
    const error = await migrate(db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect((error as MigrationError).code).toBe("FAILED_MIGRATION_IN_HISTORY");
    await db.prisma.$executeRawUnsafe(`DELETE FROM "_prisma_migrations" WHERE id = 'failed-1'`);
  });
});

describe("concurrent migrate() calls apply each migration once", () => {
  const expected = readMigrations(MIGRATIONS_DIR).map((m) => m.name);

  it("on PGlite (one process; mutual exclusion in-process)", async () => {
    const embedded = await startThrowawayPostgres();
    try {
      const target = { url: embedded.url, embedded };
      const results = await Promise.all([migrate(target), migrate(target), migrate(target)]);
      expect(results.flatMap((r) => r.applied)).toEqual(expected);
      const client = new pg.Client(embedded.url);
      await client.connect();
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`);
      await client.end();
      expect(rows[0].n).toBe(expected.length);
    } finally {
      await embedded.stop();
    }
  });

  it.runIf(process.env.DATABASE_URL)(
    "on PostgreSQL (separate connections; advisory lock)",
    async () => {
      const server = await createThrowawayPostgres();
      try {
        const config = { kind: "postgres", url: server.url } as const;
        const results = await Promise.all([migrate(config), migrate(config), migrate(config)]);
        expect(results.flatMap((r) => r.applied)).toEqual(expected);
        const client = new pg.Client(server.url);
        await client.connect();
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`);
        await client.end();
        expect(rows[0].n).toBe(expected.length);
      } finally {
        await server.drop();
      }
    },
  );
});
