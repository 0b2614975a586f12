/**
 * Real source archives for tests, written with tar-stream and zlib: any entry a user could put
 * in one (links, `..`, absolute paths), and busybox contexts that build without network access.
 * Used by this package's tests and by the whole-stack build tests.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { DEFAULT_BUSYBOX } from "@ferry/containers/testing";
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

/** `FROM scratch` with busybox at /bin/busybox and /bin/sh, so shell-form RUN works. */
export const BUSYBOX_BASE = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\n";

/**
 * The entries of a context: the Dockerfile (at `dockerfilePath`, default `Dockerfile`) and a
 * static busybox at the root, which BUSYBOX_BASE copies.
 */
export const busyboxContext = (
  dockerfile: string,
  options: { readonly dockerfilePath?: string; readonly busyboxPath?: string } = {},
): ReadonlyArray<TestEntry> => [
  { name: options.dockerfilePath ?? "Dockerfile", content: dockerfile },
  { name: "busybox", content: readFileSync(options.busyboxPath ?? DEFAULT_BUSYBOX), mode: 0o755 },
];
