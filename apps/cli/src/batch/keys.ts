/**
 * Idempotency keys of batch entries. A key is a hash of what makes the entry the same
 * operation: the batch file's base name, its `run` label, the entry's name and its operation
 * with its fields as normalized by the parser (defaults filled in, regions sorted, an image
 * reference and a directory as written in the file, not where it is on this machine), and for
 * a directory deploy the digest of the packed context. So:
 *
 * - re-running the same file (from any checkout, any machine, the same workspace) sends the
 *   same keys: completed operations are not repeated;
 * - editing an entry (another image reference, another target) or renaming it gives it a new
 *   key: it runs again; so does a directory whose packed content changed;
 * - changing `run`, or renaming the file, gives every entry a new key: the whole file runs
 *   again; two files with the same entry names do not share keys.
 *
 * An image is keyed by its reference as written: a re-run does not deploy a mutable tag
 * (`:latest`) again after it moved; use a digest (`@sha256:...`) or change `run`.
 */
import { createHash } from "node:crypto";
import type { DeploymentRef, Operation } from "./model.ts";

/** Printable ASCII without spaces, well under the API's 255 characters. */
const KEY_PREFIX = "ferry-batch-v2:";

/** What every key of one batch file shares. */
export interface KeyScope {
  /** The batch file's base name (`release.yaml`), not its directory. */
  readonly file: string;
  /** The file's `run` label ("" when it has none). */
  readonly run: string;
}

const ref = (value: DeploymentRef | undefined) =>
  value === undefined ? null : value.kind === "id" ? value.id : `@${value.name}`;

/** The operation as a plain value with a fixed field order (so the JSON is canonical). */
const canonical = (operation: Operation): ReadonlyArray<unknown> => {
  switch (operation.op) {
    case "deploy": {
      const source =
        operation.source.kind === "image"
          ? ["image", operation.source.image]
          : ["dir", operation.source.dir, operation.source.dockerfile];
      return ["deploy", operation.project, operation.env, source, operation.regions];
    }
    case "promote":
      return ["promote", ref(operation.deployment)];
    case "rollback":
      return ["rollback", operation.project, ref(operation.target), ref(operation.from)];
    case "cancel":
      return ["cancel", operation.deployment];
  }
};

const keyOf = (parts: ReadonlyArray<unknown>): string =>
  KEY_PREFIX + createHash("sha256").update(JSON.stringify(parts)).digest("hex");

/**
 * The entry's key. For a directory deploy this is only the key of its description: the key
 * sent is `contentKey(thisKey, digest)`, known once the directory is packed.
 */
export const entryIdempotencyKey = (scope: KeyScope, name: string, operation: Operation): string =>
  keyOf([scope.file, scope.run, name, canonical(operation)]);

/** A directory deploy's key: its entry key and the digest of the packed context (pack.ts). */
export const contentKey = (entryKey: string, contextDigest: string): string =>
  keyOf([entryKey, contextDigest]);
