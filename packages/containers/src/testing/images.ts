/**
 * Tiny local images for tests, built with the engine's `POST /build` (nothing can be pulled on
 * Ferry's machines): `FROM scratch` plus a static busybox (Debian's busybox-static).
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Effect, Either } from "effect";
import { create as createTar } from "tar";
import type { DockerEngine } from "../engine.ts";
import { INSTALL_HINT } from "../podman-service.ts";

export const DEFAULT_BUSYBOX = "/bin/busybox";

const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const result = await Effect.runPromise(Effect.either(effect));
  if (Either.isLeft(result)) throw result.left;
  return result.right;
};

/** True when the ELF file has no program interpreter, so it runs in an empty image. */
export const isStaticElf = (bytes: Buffer): boolean => {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const u16 = (o: number) => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
  const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const phoff = is64
    ? Number(le ? bytes.readBigUInt64LE(0x20) : bytes.readBigUInt64BE(0x20))
    : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return false;
    if (u32(at) === PT_INTERP) return false;
  }
  return true;
};

const readBusybox = async (path: string): Promise<Buffer> => {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new Error(`${path} is missing; test images need a static busybox: ${INSTALL_HINT}`);
  }
  if (!isStaticElf(bytes))
    throw new Error(
      `${path} is not a statically linked binary, so it cannot run in a FROM scratch image; install Debian's busybox-static: ${INSTALL_HINT}`,
    );
  return bytes;
};

/** A tar archive of `files` (path → content; binary content is executable), as `POST /build` takes it. */
export const tarContext = async (
  files: Readonly<Record<string, string | Uint8Array>>,
): Promise<Buffer> => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-build-context-"));
  try {
    for (const [path, content] of Object.entries(files)) {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content, { mode: typeof content === "string" ? 0o644 : 0o755 });
    }
    const chunks: Buffer[] = [];
    const pack = createTar(
      { cwd: dir, portable: true, mtime: new Date(0) },
      Object.keys(files).sort(),
    );
    for await (const chunk of pack) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

export interface BusyboxImageOptions {
  /** Repository part of the tag; the tag itself is a hash of everything in the image. */
  readonly repository: string;
  /** Extra files of the image (path inside the image → content). */
  readonly files?: Readonly<Record<string, string>>;
  /** The image's CMD. */
  readonly cmd: ReadonlyArray<string>;
  readonly expose?: number;
  readonly busyboxPath?: string;
}

/**
 * Builds (or reuses, when the tag exists) a `FROM scratch` image with /bin/busybox, `files`
 * and `cmd`; resolves with its tag, `<repository>:<content hash>`.
 */
export const busyboxImage = async (
  engine: DockerEngine,
  options: BusyboxImageOptions,
): Promise<string> => {
  const busybox = await readBusybox(options.busyboxPath ?? DEFAULT_BUSYBOX);
  const files = Object.entries(options.files ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const dockerfile = [
    "FROM scratch",
    "COPY busybox /bin/busybox",
    ...files.map(([path]) => `COPY rootfs/${path} /${path}`),
    ...(options.expose === undefined ? [] : [`EXPOSE ${options.expose}`]),
    `CMD ${JSON.stringify(options.cmd)}`,
    "",
  ].join("\n");
  const hash = createHash("sha256").update(dockerfile).update(busybox);
  for (const [path, content] of files) hash.update(`\0${path}\0${content}`);
  const tag = `${options.repository}:${hash.digest("hex").slice(0, 16)}`;
  if (await run(engine.imageExists(tag))) return tag;
  const context = await tarContext({
    Dockerfile: dockerfile,
    busybox,
    ...Object.fromEntries(files.map(([path, content]) => [`rootfs/${path}`, content])),
  });
  await run(engine.buildImage({ tag, context }));
  return tag;
};

/** A web server on `port` (default 8080) that serves `content` at `/` (busybox httpd). */
export const webServerImage = (
  engine: DockerEngine,
  options: { readonly content: string; readonly port?: number; readonly busyboxPath?: string },
): Promise<string> => {
  const port = options.port ?? 8080;
  return busyboxImage(engine, {
    repository: "localhost/ferry-test-web",
    files: { "www/index.html": options.content },
    cmd: ["/bin/busybox", "httpd", "-f", "-p", String(port), "-h", "/www"],
    expose: port,
    ...(options.busyboxPath === undefined ? {} : { busyboxPath: options.busyboxPath }),
  });
};

/** An image whose command prints one line to stderr and exits with `exitCode` (default 1). */
export const exitingImage = (
  engine: DockerEngine,
  options: { readonly exitCode?: number; readonly busyboxPath?: string } = {},
): Promise<string> => {
  const code = options.exitCode ?? 1;
  return busyboxImage(engine, {
    repository: "localhost/ferry-test-exit",
    cmd: [
      "/bin/busybox",
      "sh",
      "-c",
      `echo "ferry test image exiting with ${code}" >&2; exit ${code}`,
    ],
    ...(options.busyboxPath === undefined ? {} : { busyboxPath: options.busyboxPath }),
  });
};

/** Removes (force) every container carrying all of `labels`; resolves with how many. */
export const removeContainersByLabels = async (
  engine: DockerEngine,
  labels: Readonly<Record<string, string>>,
): Promise<number> => {
  if (Object.keys(labels).length === 0)
    throw new Error("refusing to remove containers without a label filter");
  const list = await run(engine.listContainers(labels));
  await Promise.all(list.map((c) => run(engine.removeContainer(c.Id))));
  return list.length;
};
