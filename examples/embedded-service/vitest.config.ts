import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The whole stack (restate-server, ctrl, hydra, frontline, Podman) starts once per file.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
