import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each Podman file starts its own service and builds images; builds run in child processes.
    hookTimeout: 120_000,
    testTimeout: 90_000,
  },
});
