#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// The `ferry` executable in the repository: Node 24 runs the TypeScript sources directly (type
// stripping). Installed from `pnpm pack`, the bin is the bundle dist/ferry.mjs instead.
import "../src/bin.ts";
