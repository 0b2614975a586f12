/**
 * Idempotency keys of batch entries. A key is a hash of what makes the entry the same
 * operation: the file's `run` label, the entry's name and its operation with its fields as
 * normalized by the parser (defaults filled in, regions sorted, a directory as written in the
 * file, not where it is on this machine). So:
 *
 * - re-running the same file (from any checkout, any machine, the same workspace) sends the
 *   same keys: completed operations are not repeated;
 * - editing an entry (another image tag, another target) or renaming it gives it a new key:
 *   it runs again;
 * - changing `run` gives every entry a new key: the whole file runs again.
 *
 * A directory's contents are not part of the key: deploying `dir: ./web` again after changing
 * the code needs a new `run` label (or a new entry name).
 */
import { createHash } from "node:crypto";
import type { DeploymentRef, Operation } from "./model.ts";

/** Printable ASCII without spaces, well under the API's 255 characters. */
const KEY_PREFIX = "ferry-batch-v1:";

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

export const entryIdempotencyKey = (run: string, name: string, operation: Operation): string =>
  KEY_PREFIX +
  createHash("sha256")
    .update(JSON.stringify([run, name, canonical(operation)]))
    .digest("hex");
