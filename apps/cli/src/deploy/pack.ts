/**
 * Packs a build context the way `docker build DIR` sends it: every file of DIR except those
 * `.dockerignore` excludes (Docker's own rules, through @balena/dockerignore, a port of
 * moby's matcher), with the Dockerfile and `.dockerignore` always included (Docker sends them
 * even when they are excluded, because the build needs them). Symlinks are kept as links,
 * never followed. The result is a gzipped tar in a temporary file, removed by `remove()`, and
 * a digest of what it holds (paths, kinds, executable bits, contents, link targets), which is
 * the same for two packs of the same tree: the archive itself is not, since tar and gzip
 * record modification times.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import dockerignore from "@balena/dockerignore";
import { create } from "tar";
import { CliError, usageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

export interface PackOptions {
  /** The Dockerfile's path relative to dir, `/`-separated; default `Dockerfile`. */
  readonly dockerfile?: string | undefined;
}

export interface PackedContext {
  /** The .tar.gz file. */
  readonly path: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Every packed path (relative, `/`-separated; directories end with `/`), sorted. */
  readonly entries: ReadonlyArray<string>;
  /** The Dockerfile's path inside the context, normalized. */
  readonly dockerfile: string;
  /**
   * `sha256:` + hex of the packed tree's content (see contextDigest): equal for equal trees,
   * whatever the files' modification times.
   */
  readonly digest: string;
  /** Deletes the temporary file (and its directory). */
  readonly remove: () => void;
}

/** Normalizes a context-relative Dockerfile path; refuses one that leaves the context. */
export const contextRelativeDockerfile = (dockerfile: string | undefined): string => {
  const raw = dockerfile === undefined || dockerfile === "" ? "Dockerfile" : dockerfile;
  const normalized = path.posix.normalize(raw.replaceAll("\\", "/"));
  if (path.posix.isAbsolute(normalized) || normalized === ".." || normalized.startsWith("../"))
    throw usageError(`the Dockerfile ${raw} is outside the build context`);
  return normalized;
};

const readPatterns = (dir: string): Array<string> => {
  const file = path.join(dir, ".dockerignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
};

/** The paths of dir to pack, relative and `/`-separated (directories end with `/`), sorted. */
export const contextEntries = (dir: string, dockerfile: string): Array<string> => {
  const patterns = readPatterns(dir);
  // The package is CommonJS; it sets `factory.default = factory` so this works under NodeNext.
  const matcher = dockerignore.default().add(patterns);
  const hasExceptions = patterns.some((pattern) => pattern.startsWith("!"));
  const alwaysSent = new Set([dockerfile, ".dockerignore"]);
  const entries: Array<string> = [];
  const walk = (relativeDir: string) => {
    const names = readdirSync(path.join(dir, relativeDir)).sort();
    for (const name of names) {
      const relative = relativeDir === "" ? name : `${relativeDir}/${name}`;
      const stats = lstatSync(path.join(dir, relative));
      const ignored = matcher.ignores(relative);
      if (stats.isDirectory()) {
        // Like Docker: an excluded directory is skipped whole unless an exception (`!`) may
        // re-include something below it, or the Dockerfile is inside it.
        const holdsDockerfile = dockerfile.startsWith(`${relative}/`);
        if (ignored && !hasExceptions && !holdsDockerfile) continue;
        if (!ignored) entries.push(`${relative}/`);
        walk(relative);
      } else if (stats.isFile() || stats.isSymbolicLink()) {
        if (!ignored || alwaysSent.has(relative)) entries.push(relative);
      }
      // Sockets, FIFOs and devices are not part of a build context (Docker skips them too).
    }
  };
  walk("");
  return entries;
};

/**
 * A digest of the context as the build sees it, stable across runs and machines: for each
 * entry in sorted order its path, its kind, for a file whether it is executable (the one mode
 * bit git keeps too; umasks differ between checkouts) and the SHA-256 of its bytes, for a
 * symlink its target. Modification times and owners are left out on purpose.
 */
export const contextDigest = (root: string, entries: ReadonlyArray<string>): string => {
  const hash = createHash("sha256");
  for (const entry of entries) {
    const absolute = path.join(root, entry);
    if (entry.endsWith("/")) hash.update(`d\0${entry}\n`);
    else {
      const stats = lstatSync(absolute);
      if (stats.isSymbolicLink()) hash.update(`l\0${entry}\0${readlinkSync(absolute)}\n`);
      else {
        const content = createHash("sha256").update(readFileSync(absolute)).digest("hex");
        const executable = (stats.mode & 0o111) !== 0 ? "x" : "-";
        hash.update(`f\0${entry}\0${executable}\0${content}\n`);
      }
    }
  }
  return `sha256:${hash.digest("hex")}`;
};

export const packDirectory = async (
  dir: string,
  options: PackOptions = {},
): Promise<PackedContext> => {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw usageError(`${dir} is not a directory to deploy`);
  const dockerfile = contextRelativeDockerfile(options.dockerfile);
  const dockerfileStats = existsSync(path.join(root, dockerfile))
    ? statSync(path.join(root, dockerfile))
    : undefined;
  if (dockerfileStats === undefined || !dockerfileStats.isFile())
    throw usageError(
      `no Dockerfile at ${path.join(dir, dockerfile)}: add one, pass --dockerfile PATH, or deploy a prebuilt image with --image REF`,
    );
  const entries = contextEntries(root, dockerfile);
  const temporaryDir = mkdtempSync(path.join(tmpdir(), "ferry-context-"));
  const file = path.join(temporaryDir, "context.tar.gz");
  const remove = () => rmSync(temporaryDir, { recursive: true, force: true });
  let digest: string;
  try {
    await create(
      { gzip: true, file, cwd: root, portable: true, noDirRecurse: true, follow: false },
      entries.map((entry) => (entry.endsWith("/") ? entry.slice(0, -1) : entry)),
    );
    digest = contextDigest(root, entries);
  } catch (error) {
    remove();
    throw new CliError(
      `could not pack ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.Usage,
      "pack_failed",
    );
  }
  return { path: file, size: statSync(file).size, entries, dockerfile, digest, remove };
};
