import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // s3rver runs in the test's process: on a loaded 2-core machine one presigned round trip can
    // take longer than vitest's 5 s default.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
