import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // PGlite databases and an S3 server in the test's process: seconds on two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
