/**
 * Whether the database has every migration this version of Ferry ships, read without changing
 * anything (`_prisma_migrations`, Prisma's history table, as @ferry/db migrate() keeps it).
 */
import { MIGRATIONS_DIR, type PrismaClient, readMigrations } from "@ferry/db";

/** The names of the migrations not applied yet, oldest first (empty: the schema is current). */
export const pendingMigrations = async (prisma: PrismaClient): Promise<ReadonlyArray<string>> => {
  const local = readMigrations(MIGRATIONS_DIR).map((migration) => migration.name);
  const [table] = await prisma.$queryRawUnsafe<Array<{ present: boolean }>>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
  );
  if (table?.present !== true) return local;
  const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
    `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const applied = new Set(rows.map((row) => row.migration_name));
  return local.filter((name) => !applied.has(name));
};
