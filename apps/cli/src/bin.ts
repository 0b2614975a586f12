/**
 * The body of the `ferry` executable: runs the command line with this process's arguments,
 * streams and environment. `bin/ferry.ts` imports it from the repository (Node strips the
 * types); `scripts/bundle.ts` bundles it into `dist/ferry.mjs`, the bin of the packed package.
 */
import { processIo } from "./io.ts";
import { runCli } from "./main.ts";

// `pnpm ferry ...` from the repository runs in the repository's root: work in the directory
// the user ran it from (pnpm passes it as INIT_CWD).
if (process.env.npm_lifecycle_event === "ferry" && process.env.INIT_CWD !== undefined)
  process.chdir(process.env.INIT_CWD);

// `ferry ... | head`: once the reader has gone there is nobody to tell anything; end quietly
// instead of crashing with EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit();
  });

process.exitCode = await runCli(process.argv.slice(2), processIo());
