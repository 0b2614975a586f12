/**
 * Checks an uploaded source archive BEFORE anything is built: it exists, is within the size limit,
 * is a gzip'd tar whose every entry stays inside the build context, does not expand past the
 * zip-bomb bounds, and holds the Dockerfile (whose text is returned, for its ARG names).
 *
 * The archive is read as a stream (file → gunzip → tar reader) and never extracted: only the
 * Dockerfile's bytes are kept in memory.
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Effect } from "effect";
import { extract, type Header } from "tar-stream";
import {
  ArchiveEntryUnsafe,
  type ArchiveError,
  ArchiveExpandsTooLarge,
  ArchiveNotFound,
  ArchiveNotTarGz,
  ArchiveReadFailed,
  ArchiveTooLarge,
  DockerfileNotFound,
  DockerfileUnusable,
  type NotTarGzProblem,
} from "./archive-errors.ts";
import {
  checkEntry,
  entryComponents,
  looksLikeDockerfile,
  normalizeEntryName,
} from "./archive-paths.ts";

export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 ** 3;
export const DEFAULT_MAX_ENTRIES = 100_000;
/** Far above any real Dockerfile; keeps a hostile "Dockerfile" from filling memory. */
export const MAX_DOCKERFILE_BYTES = 1024 ** 2;
/** How many Dockerfile-like files a DockerfileNotFound names. */
const MAX_CANDIDATES = 5;

export interface InspectArchiveOptions {
  /** The uploaded archive on local disk. */
  readonly path: string;
  /** Limit of the archive's (compressed) size in bytes. */
  readonly maxBytes: number;
  /** Path of the Dockerfile inside the archive; default `Dockerfile`. */
  readonly dockerfile?: string;
  /** Zip-bomb guard: bytes the archive may expand to. Default 2 GiB. */
  readonly maxUncompressedBytes?: number;
  /** Zip-bomb guard: entries the archive may hold. Default 100 000. */
  readonly maxEntries?: number;
}

export interface ArchiveInspection {
  readonly sizeBytes: number;
  readonly uncompressedBytes: number;
  readonly entries: number;
  readonly dockerfile: {
    /** Normalized path inside the archive (what `POST /build` is given). */
    readonly path: string;
    readonly text: string;
  };
}

const errnoCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** What the first bytes say the file is, when it is not gzip. */
export const sniffFormat = (head: Buffer): NotTarGzProblem | "gzip" => {
  if (head.length === 0) return "empty-file";
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.subarray(0, 4).equals(Buffer.from("PK\x03\x04", "latin1"))) return "zip";
  if (head.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return "zstd";
  if (head.subarray(257, 262).toString("latin1") === "ustar") return "plain-tar";
  return "not-gzip";
};

const statArchive = (path: string, maxBytes: number) =>
  Effect.tryPromise({
    try: () => stat(path),
    catch: (error): ArchiveError =>
      errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR"
        ? new ArchiveNotFound({ path })
        : new ArchiveReadFailed({ path, reason: describe(error) }),
  }).pipe(
    Effect.filterOrFail(
      (info) => info.isFile(),
      () => new ArchiveNotFound({ path, detail: "is not a regular file" }),
    ),
    Effect.filterOrFail(
      (info) => info.size <= maxBytes,
      (info) => new ArchiveTooLarge({ sizeBytes: info.size, limitBytes: maxBytes }),
    ),
    Effect.map((info) => info.size),
  );

const readHead = (path: string) =>
  Effect.tryPromise({
    try: async () => {
      const file = await open(path, "r");
      try {
        const head = Buffer.alloc(512);
        const { bytesRead } = await file.read(head, 0, head.length, 0);
        return head.subarray(0, bytesRead);
      } finally {
        await file.close();
      }
    },
    catch: (error) => new ArchiveReadFailed({ path, reason: describe(error) }),
  });

/** Counts the bytes gunzip produces and stops the stream past the bound. */
const byteCounter = (limit: number, counted: { bytes: number }) =>
  new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      counted.bytes += chunk.length;
      if (counted.bytes > limit)
        callback(new ArchiveExpandsTooLarge({ limit: "bytes", limitValue: limit }));
      else callback(null, chunk);
    },
  });

/** The Dockerfile path given by the user, normalized; undefined when it leaves the context. */
const normalizeDockerfilePath = (path: string): string | undefined => {
  const parts = entryComponents(path);
  return typeof parts === "string" || parts.length === 0 ? undefined : parts.join("/");
};

interface Scan {
  entries: number;
  readonly symlinks: Set<string>;
  readonly candidates: Set<string>;
  readonly topLevel: Set<string>;
  /** The last entry named like the Dockerfile path (a later duplicate wins, as on extraction). */
  dockerfile:
    | { readonly kind: "file"; readonly text: string }
    | { readonly kind: "symlink" | "not-a-file" | "too-large" }
    | undefined;
}

const readEntry = async (stream: AsyncIterable<unknown>, limit: number) => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size <= limit) chunks.push(buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
};

const scanArchive = (
  path: string,
  dockerfilePath: string,
  maxUncompressedBytes: number,
  maxEntries: number,
) =>
  Effect.async<{ readonly scan: Scan; readonly uncompressedBytes: number }, ArchiveError>(
    (resume, signal) => {
      const scan: Scan = {
        entries: 0,
        symlinks: new Set(),
        candidates: new Set(),
        topLevel: new Set(),
        dockerfile: undefined,
      };
      const counted = { bytes: 0 };
      const tar = extract();
      let failedStage: "read" | "gunzip" | "tar" | undefined;

      tar.on("entry", (header: Header, stream, next) => {
        const handle = async () => {
          scan.entries += 1;
          if (scan.entries > maxEntries)
            throw new ArchiveExpandsTooLarge({ limit: "entries", limitValue: maxEntries });
          const unsafe = checkEntry(header, scan.symlinks);
          if (unsafe !== undefined)
            throw new ArchiveEntryUnsafe({
              entry: header.name,
              problem: unsafe.problem,
              ...(unsafe.target === undefined ? {} : { target: unsafe.target }),
            });
          const name = normalizeEntryName(header.name);
          const top = name.split("/")[0];
          if (top !== undefined && top.length > 0)
            scan.topLevel.add(header.type === "directory" || name.includes("/") ? `${top}/` : top);
          if (header.type === "symlink") scan.symlinks.add(name);
          if (name === dockerfilePath) {
            if (header.type === "file" || header.type === "contiguous-file") {
              const bytes = await readEntry(stream, MAX_DOCKERFILE_BYTES);
              scan.dockerfile =
                bytes === undefined
                  ? { kind: "too-large" }
                  : { kind: "file", text: bytes.toString("utf8").replace(/^\uFEFF/, "") };
              return;
            }
            scan.dockerfile = { kind: header.type === "symlink" ? "symlink" : "not-a-file" };
          } else if (header.type === "file" && looksLikeDockerfile(name)) scan.candidates.add(name);
          stream.resume();
          await new Promise<void>((resolve, reject) => {
            stream.once("end", resolve);
            stream.once("error", reject);
          });
        };
        handle().then(
          () => next(),
          (error: unknown) => next(error as Error),
        );
      });

      const file = createReadStream(path);
      const gunzip = createGunzip();
      file.once("error", () => {
        failedStage ??= "read";
      });
      gunzip.once("error", () => {
        failedStage ??= "gunzip";
      });
      tar.once("error", () => {
        failedStage ??= "tar";
      });
      pipeline(file, gunzip, byteCounter(maxUncompressedBytes, counted), tar, { signal }).then(
        () => resume(Effect.succeed({ scan, uncompressedBytes: counted.bytes })),
        (error: unknown) => {
          if (signal.aborted) return;
          if (
            error instanceof ArchiveEntryUnsafe ||
            error instanceof ArchiveExpandsTooLarge ||
            error instanceof ArchiveReadFailed
          )
            return resume(Effect.fail(error));
          if (failedStage === "read")
            return resume(Effect.fail(new ArchiveReadFailed({ path, reason: describe(error) })));
          if (failedStage === "gunzip" || errnoCode(error)?.startsWith("Z_"))
            return resume(
              Effect.fail(
                new ArchiveNotTarGz({ problem: "corrupt-gzip", reason: describe(error) }),
              ),
            );
          return resume(
            Effect.fail(new ArchiveNotTarGz({ problem: "not-tar", reason: describe(error) })),
          );
        },
      );
    },
  );

/** Dockerfile-like files nearest the root first, then by name. */
const sortCandidates = (candidates: Iterable<string>): ReadonlyArray<string> =>
  [...candidates]
    .sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b))
    .slice(0, MAX_CANDIDATES);

/** Inspects the archive at `options.path`; see the module comment for what is checked. */
export const inspectArchive = (
  options: InspectArchiveOptions,
): Effect.Effect<ArchiveInspection, ArchiveError> =>
  Effect.gen(function* () {
    const requested = options.dockerfile ?? "Dockerfile";
    const dockerfilePath = normalizeDockerfilePath(requested);
    if (dockerfilePath === undefined)
      return yield* new DockerfileUnusable({ path: requested, problem: "outside-context" });
    const sizeBytes = yield* statArchive(options.path, options.maxBytes);
    const format = sniffFormat(yield* readHead(options.path));
    if (format !== "gzip") return yield* new ArchiveNotTarGz({ problem: format });
    const { scan, uncompressedBytes } = yield* scanArchive(
      options.path,
      dockerfilePath,
      options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES,
      options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    );
    if (scan.entries === 0) return yield* new ArchiveNotTarGz({ problem: "no-entries" });
    const found = scan.dockerfile;
    if (found === undefined) {
      const [wrapper, ...others] = scan.topLevel;
      return yield* new DockerfileNotFound({
        path: dockerfilePath,
        candidates: sortCandidates(scan.candidates),
        ...(wrapper?.endsWith("/") && others.length === 0
          ? { wrapperDirectory: wrapper.slice(0, -1) }
          : {}),
      });
    }
    if (found.kind !== "file")
      return yield* new DockerfileUnusable({
        path: dockerfilePath,
        problem: found.kind,
        ...(found.kind === "too-large" ? { limitBytes: MAX_DOCKERFILE_BYTES } : {}),
      });
    return {
      sizeBytes,
      uncompressedBytes,
      entries: scan.entries,
      dockerfile: { path: dockerfilePath, text: found.text },
    };
  });
