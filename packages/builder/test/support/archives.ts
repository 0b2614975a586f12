/** Real tar.gz archives for tests in files: the archive writers are src/testing.ts. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestEntry, tarGzBytes } from "../../src/testing.ts";

export { type TestEntry, tarBytes, tarGzBytes } from "../../src/testing.ts";

/** A temporary directory for archive files; `cleanup` removes it. */
export const archiveDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-builder-test-"));
  let counter = 0;
  return {
    dir,
    /** Writes `bytes` to a new file in the directory and returns its path. */
    file: async (bytes: Uint8Array, name = `archive-${++counter}.tar.gz`) => {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    },
    tarGz: async (entries: ReadonlyArray<TestEntry>) =>
      join(dir, await writeArchive(dir, `archive-${++counter}.tar.gz`, entries)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
};

const writeArchive = async (dir: string, name: string, entries: ReadonlyArray<TestEntry>) => {
  await writeFile(join(dir, name), await tarGzBytes(entries));
  return name;
};
