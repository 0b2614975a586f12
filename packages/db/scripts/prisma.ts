// The Prisma CLI, offline: `node scripts/prisma.ts generate | format | validate`.
//
// The Prisma CLI tries to download its native schema engine at start, which
// cannot work here; generate, format and validate do not use that engine, so
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file (this script)
// skips the download. (migrate and db commands need the real engine: use
// `pnpm db` instead.)
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
const packageDir = fileURLToPath(new URL("..", import.meta.url));

const result = spawnSync(
  process.execPath,
  [cli, ...process.argv.slice(2), "--config", "prisma.config.ts"],
  {
    cwd: packageDir,
    stdio: "inherit",
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY:
        process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url),
      CHECKPOINT_DISABLE: "1",
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
    },
  },
);
process.exit(result.status ?? 1);
