/**
 * Where a tar entry lands in the build context, decided on names alone (nothing is extracted):
 * the rules that keep every entry, and every link target, inside the context.
 */
import { posix } from "node:path";
import type { UnsafeEntryProblem } from "./archive-errors.ts";

/**
 * The components of a relative entry name ("./a//b/" → ["a", "b"]); undefined for an absolute
 * name or one with a ".." component anywhere (even "a/../b", which stays inside: such names
 * only come from hand-made or hostile archives, and refusing them keeps the rule simple).
 */
export const entryComponents = (name: string): ReadonlyArray<string> | "absolute" | "parent" => {
  if (name.startsWith("/")) return "absolute";
  const parts = name.split("/").filter((part) => part.length > 0 && part !== ".");
  return parts.includes("..") ? "parent" : parts;
};

/** The entry name as a context path: "./app/Dockerfile" → "app/Dockerfile"; "" for the root. */
export const normalizeEntryName = (name: string): string => {
  const parts = entryComponents(name);
  return typeof parts === "string" ? name : parts.join("/");
};

/** True when a path, resolved lexically, stays inside the context (the root itself included). */
const staysInside = (resolved: string): boolean =>
  resolved !== ".." && !resolved.startsWith("../") && !resolved.startsWith("/");

export interface EntryHeader {
  readonly name: string;
  readonly type: string | null | undefined;
  readonly linkname?: string | null | undefined;
}

export interface UnsafeEntry {
  readonly problem: UnsafeEntryProblem;
  readonly target?: string;
}

/**
 * Checks one entry. `symlinks` holds the normalized names of the symlinks seen so far: an entry
 * below one of them ("link/file") would be written wherever the link points when extracted.
 */
export const checkEntry = (
  header: EntryHeader,
  symlinks: ReadonlySet<string>,
): UnsafeEntry | undefined => {
  const parts = entryComponents(header.name);
  if (parts === "absolute") return { problem: "absolute-path" };
  if (parts === "parent") return { problem: "parent-path" };
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join("/");
    if (symlinks.has(parent)) return { problem: "inside-symlink", target: parent };
  }
  const linkname = header.linkname ?? "";
  switch (header.type) {
    case "symlink": {
      // Relative to the link's own directory; an absolute target is outside by definition.
      if (linkname.startsWith("/")) return { problem: "symlink-escape", target: linkname };
      const resolved = posix.normalize(posix.join(posix.dirname(parts.join("/")), linkname));
      return staysInside(resolved) ? undefined : { problem: "symlink-escape", target: linkname };
    }
    case "link": {
      // A hard link names another entry of the archive, relative to the archive's root.
      if (linkname.startsWith("/")) return { problem: "hardlink-escape", target: linkname };
      return staysInside(posix.normalize(linkname))
        ? undefined
        : { problem: "hardlink-escape", target: linkname };
    }
    case "character-device":
    case "block-device":
    case "fifo":
      return { problem: "device" };
    default:
      return undefined;
  }
};

/** File names that people use for Dockerfiles: Dockerfile, Containerfile, Dockerfile.prod, api.Dockerfile. */
const DOCKERFILE_NAME = /^(?:dockerfile|containerfile)(?:\..+)?$|\.(?:dockerfile|containerfile)$/i;

export const looksLikeDockerfile = (path: string): boolean =>
  DOCKERFILE_NAME.test(posix.basename(path));
