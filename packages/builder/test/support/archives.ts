/** Real tar.gz archives for tests, written with tar-stream and zlib. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Header, pack } from "tar-stream";

export interface TestEntry {
  readonly name: string;
  readonly type?: Header["type"];
  readonly linkname?: string;
  readonly content?: string | Uint8Array;
  readonly mode?: number;
}

/** The bytes of a tar archive holding `entries`, in order. */
export const tarBytes = async (entries: ReadonlyArray<TestEntry>): Promise<Buffer> => {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const entry of entries) {
    const type = entry.type ?? "file";
    const content = entry.content ?? "";
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: entry.name,
        type,
        mode: entry.mode ?? (type === "directory" ? 0o755 : 0o644),
        mtime: new Date(0),
        ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      };
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (type === "file") tar.entry(header, Buffer.from(content), done);
      else tar.entry(header, done);
    });
  }
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
};

export const tarGzBytes = async (entries: ReadonlyArray<TestEntry>): Promise<Buffer> =>
  gzipSync(await tarBytes(entries));

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
