/**
 * `pnpm --filter @ferry/cli run bundle` (and `prepack`, so `pnpm pack` / `npm pack` always ship a
 * fresh one): the `ferry` bin as one ESM file, dist/ferry.mjs, with the workspace packages and
 * every third-party dependency inlined. Node does not strip types under node_modules, and an
 * installed package cannot resolve `workspace:` or `catalog:`: the packed package therefore has
 * no dependencies at all, and `npm install -g ferry.tgz` needs no registry.
 */
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { thirdPartyNotices } from "./licenses.ts";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outfile = path.join(root, "dist", "ferry.mjs");

const { metafile } = await build({
  entryPoints: [path.join(root, "src", "bin.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  // The package's engines floor (package.json).
  target: "node22",
  banner: {
    js: [
      "#!/usr/bin/env node",
      // Inlined CommonJS dependencies (commander, @balena/dockerignore) call require() for
      // Node's built-in modules, which an ES module does not have.
      'import { createRequire as __ferryCreateRequire } from "node:module";',
      "const require = __ferryCreateRequire(import.meta.url);",
    ].join("\n"),
  },
  // License headers of the inlined packages are kept, at the end of the file.
  legalComments: "eof",
  logLevel: "warning",
  metafile: true,
});
chmodSync(outfile, 0o755);
writeFileSync(
  path.join(root, "dist", "THIRD-PARTY-LICENSES.txt"),
  `${thirdPartyNotices(metafile, process.cwd())}\n`,
);
// On stderr: `npm pack --json` prints its result on stdout.
process.stderr.write(`${path.relative(process.cwd(), outfile)}\n`);
