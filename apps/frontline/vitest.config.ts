import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real sockets only (upstream servers, frontline, clients on ephemeral ports): seconds at most.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
