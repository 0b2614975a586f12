/** Where a key lives under the storage root, and the temporary file an upload is written to. */
import { randomBytes } from "node:crypto";
import path from "node:path";

/**
 * The file of an already checked key (see keys.ts). The prefix test is a second guard: a key
 * that passed the check cannot leave the root, and if the rules ever change it still cannot.
 */
export const fileOf = (root: string, key: string): string | undefined => {
  const base = path.resolve(root);
  const file = path.resolve(base, key);
  return file.startsWith(`${base}${path.sep}`) ? file : undefined;
};

/**
 * A fresh temporary name beside `file`: the same directory, so that moving it into place is a
 * link within one file system; dot-prefixed, so that no key can name it.
 */
export const temporaryFileFor = (file: string): string =>
  path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.part`);
