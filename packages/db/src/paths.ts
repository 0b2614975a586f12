import { fileURLToPath } from "node:url";

/** The repository's prisma/ directory (schema.prisma and migrations/). */
export const PRISMA_DIR = fileURLToPath(new URL("../../../prisma/", import.meta.url));
export const SCHEMA_PATH = fileURLToPath(new URL("../../../prisma/schema.prisma", import.meta.url));
export const MIGRATIONS_DIR = fileURLToPath(
  new URL("../../../prisma/migrations/", import.meta.url),
);
