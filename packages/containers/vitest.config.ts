import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file starts its own Podman service and builds images on first use.
    hookTimeout: 120_000,
    testTimeout: 60_000,
  },
});
