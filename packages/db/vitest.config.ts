import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // PGlite starts in seconds (initdb in WebAssembly), and runs on CPU: two cores here.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    poolOptions: {
      // @prisma/schema-engine-wasm is an ES module that imports its .wasm: fine on
      // Node 24, which still calls that experimental on every run.
      forks: { execArgv: ["--disable-warning=ExperimentalWarning"] },
    },
  },
});
