// Prisma 7 configuration for the CLI (`prisma generate`, through scripts/prisma.ts). Ferry does not use
// the CLI's migrate commands (their native schema engine cannot be installed
// offline): see src/migrations/ and `pnpm db --help`.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "../../prisma/schema.prisma",
  migrations: { path: "../../prisma/migrations" },
});
