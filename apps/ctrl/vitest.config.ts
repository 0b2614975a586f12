import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real servers, PGlite databases and child processes: seconds on two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // No test mutates module state, so files share a worker's module cache: Effect, Prisma and
    // Connect load once per worker instead of once per file.
    isolate: false,
  },
});
