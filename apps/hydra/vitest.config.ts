import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file starts Podman, PGlite, restate-server and hydra, and builds images on first use;
    // on a loaded 2-core machine that takes a while. Files run one at a time for the same reason.
    hookTimeout: 240_000,
    testTimeout: 180_000,
    fileParallelism: false,
    poolOptions: {
      forks: { execArgv: ["--disable-warning=ExperimentalWarning"] },
    },
  },
});
