/**
 * Why an uploaded source archive cannot be built, one error per case, each with a message that
 * tells the user what to change. All are final (retrying cannot help) except ArchiveReadFailed.
 */
import { Schema } from "effect";
import { formatBytes } from "./sizes.ts";

export class ArchiveNotFound extends Schema.TaggedError<ArchiveNotFound>()("ArchiveNotFound", {
  path: Schema.String,
  /** Set when something is there but it is not a file (a directory, a socket). */
  detail: Schema.optional(Schema.String),
}) {
  override get message(): string {
    return this.detail === undefined
      ? `the source archive ${this.path} does not exist; upload it again`
      : `the source archive ${this.path} ${this.detail}; upload it again`;
  }
}

export class ArchiveTooLarge extends Schema.TaggedError<ArchiveTooLarge>()("ArchiveTooLarge", {
  sizeBytes: Schema.Number,
  limitBytes: Schema.Number,
}) {
  override get message(): string {
    return `the source archive is ${formatBytes(this.sizeBytes)}, over the limit of ${formatBytes(this.limitBytes)}; leave build outputs and dependencies (node_modules, target/, .git) out of it`;
  }
}

/** What the bytes turned out to be, when they are not a gzip'd tar. */
export const NotTarGzProblem = Schema.Literal(
  "empty-file",
  "zip",
  "plain-tar",
  "bzip2",
  "xz",
  "zstd",
  "not-gzip",
  "corrupt-gzip",
  "not-tar",
  "no-entries",
);
export type NotTarGzProblem = typeof NotTarGzProblem.Type;

const TAR_GZ_HINT = "create it with `tar -czf source.tar.gz -C <directory> .`";

const notTarGzDetail: Record<NotTarGzProblem, string> = {
  "empty-file": "is an empty file",
  zip: "is a zip file, not a gzip'd tar",
  "plain-tar": "is a tar that is not gzip'd",
  bzip2: "is compressed with bzip2, not gzip",
  xz: "is compressed with xz, not gzip",
  zstd: "is compressed with zstd, not gzip",
  "not-gzip": "is not gzip'd (it does not start with the gzip signature)",
  "corrupt-gzip": "is a damaged or truncated gzip file",
  "not-tar": "is gzip'd, but what is inside is not a tar archive",
  "no-entries": "is an empty tar archive (it holds no files)",
};

export class ArchiveNotTarGz extends Schema.TaggedError<ArchiveNotTarGz>()("ArchiveNotTarGz", {
  problem: NotTarGzProblem,
  /** What zlib or the tar reader said, for operators. */
  reason: Schema.optional(Schema.String),
}) {
  override get message(): string {
    const cause =
      this.reason === undefined || this.problem !== "corrupt-gzip" ? "" : ` (${this.reason})`;
    return `the source archive ${notTarGzDetail[this.problem]}${cause}; ${TAR_GZ_HINT}`;
  }
}

/** An entry that would put something outside the build context, or that has no place in one. */
export const UnsafeEntryProblem = Schema.Literal(
  "absolute-path",
  "parent-path",
  "symlink-escape",
  "hardlink-escape",
  "inside-symlink",
  "device",
);
export type UnsafeEntryProblem = typeof UnsafeEntryProblem.Type;

export class ArchiveEntryUnsafe extends Schema.TaggedError<ArchiveEntryUnsafe>()(
  "ArchiveEntryUnsafe",
  {
    entry: Schema.String,
    problem: UnsafeEntryProblem,
    /** The link target, or the symlink the entry is written through. */
    target: Schema.optional(Schema.String),
  },
) {
  override get message(): string {
    const entry = JSON.stringify(this.entry);
    const target = JSON.stringify(this.target ?? "");
    const what = {
      "absolute-path": `has an absolute path`,
      "parent-path": `has a ".." component, so it points outside the archive`,
      "symlink-escape": `is a symbolic link to ${target}, outside the archive`,
      "hardlink-escape": `is a hard link to ${target}, outside the archive`,
      "inside-symlink": `is written through the symbolic link ${target}`,
      device: "is a device file or a named pipe",
    }[this.problem];
    return `the source archive's entry ${entry} ${what}; build contexts may only hold files, directories and links that stay inside them: remove it, or create the archive from inside the directory (tar -czf source.tar.gz -C <directory> .)`;
  }
}

/** How a user names the Dockerfile: the API field, and the CLI flag that sets it. */
const DOCKERFILE_SETTING =
  "the Dockerfile path (build_context.dockerfile_path; ferry deploy --dockerfile)";

/** The zip-bomb guard: the archive expands past the configured bounds. */
export class ArchiveExpandsTooLarge extends Schema.TaggedError<ArchiveExpandsTooLarge>()(
  "ArchiveExpandsTooLarge",
  {
    limit: Schema.Literal("bytes", "entries"),
    limitValue: Schema.Number,
  },
) {
  override get message(): string {
    return this.limit === "bytes"
      ? `the source archive expands to more than ${formatBytes(this.limitValue)}; leave build outputs and dependencies out of it`
      : `the source archive holds more than ${this.limitValue} entries; leave build outputs and dependencies (node_modules, .git) out of it`;
  }
}

export class DockerfileNotFound extends Schema.TaggedError<DockerfileNotFound>()(
  "DockerfileNotFound",
  {
    path: Schema.String,
    /** Dockerfile-like files found elsewhere in the archive (a few, nearest the root first). */
    candidates: Schema.Array(Schema.String),
    /** The single top-level directory every entry is under, when there is one. */
    wrapperDirectory: Schema.optional(Schema.String),
  },
) {
  override get message(): string {
    const at = `no Dockerfile at ${JSON.stringify(this.path)} in the source archive`;
    const wrapper =
      this.wrapperDirectory === undefined
        ? ""
        : `. Everything in the archive is under ${this.wrapperDirectory}/: create it from inside that directory (tar -czf source.tar.gz -C ${this.wrapperDirectory} .) so that paths in the Dockerfile match`;
    const [first, ...rest] = this.candidates;
    if (first === undefined)
      return `${at}, and none elsewhere in it; add a Dockerfile at the root of the archive, or set ${DOCKERFILE_SETTING} to its path`;
    if (rest.length === 0)
      return `${at}; there is one at ${JSON.stringify(first)}: set ${DOCKERFILE_SETTING} to ${first}${wrapper}`;
    return `${at}; found ${this.candidates.map((c) => JSON.stringify(c)).join(", ")}: set ${DOCKERFILE_SETTING} to the one to build${wrapper}`;
  }
}

/** The Dockerfile path is there but cannot be used as one. */
export class DockerfileUnusable extends Schema.TaggedError<DockerfileUnusable>()(
  "DockerfileUnusable",
  {
    path: Schema.String,
    problem: Schema.Literal("outside-context", "not-a-file", "symlink", "too-large"),
    limitBytes: Schema.optional(Schema.Number),
  },
) {
  override get message(): string {
    const path = JSON.stringify(this.path);
    switch (this.problem) {
      case "outside-context":
        return `the Dockerfile path ${path} must be a relative path inside the source archive (no leading "/" and no "..")`;
      case "not-a-file":
        return `${path} in the source archive is a directory, not a Dockerfile; set ${DOCKERFILE_SETTING} to the file's path`;
      case "symlink":
        return `${path} in the source archive is a symbolic link; set ${DOCKERFILE_SETTING} to the path of the file it points to`;
      case "too-large":
        return `the Dockerfile ${path} is larger than ${formatBytes(this.limitBytes ?? 0)}; is it really a Dockerfile?`;
      default:
        return `${path} in the source archive cannot be used as a Dockerfile`;
    }
  }
}

/** The file could not be read (permissions, I/O): an operator's problem, worth retrying. */
export class ArchiveReadFailed extends Schema.TaggedError<ArchiveReadFailed>()(
  "ArchiveReadFailed",
  { path: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    return `could not read the source archive ${this.path}: ${this.reason}`;
  }
}

export type ArchiveError =
  | ArchiveNotFound
  | ArchiveTooLarge
  | ArchiveNotTarGz
  | ArchiveEntryUnsafe
  | ArchiveExpandsTooLarge
  | DockerfileNotFound
  | DockerfileUnusable
  | ArchiveReadFailed;

/** True for the one archive error that retrying can fix. */
export const isRetryableArchiveError = (error: ArchiveError): boolean =>
  error._tag === "ArchiveReadFailed";
